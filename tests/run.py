#!/usr/bin/env python3
"""Run every test of one or more builds; the last line printed is "N passed, N failed".

    python3 tests/run.py [--unit-only] [--fuzz DIR] [-j N] [-k PATTERN] [--extra BUILD=PATTERN]... BUILD [BUILD...]

For each build directory: the C unit tests (BUILD/tests/test_*), then the
black-box tests (tests/test_*.py, each file in its own python3 process with
POCHTA_BUILD=BUILD); with --fuzz, each libFuzzer binary in DIR runs for
FUZZ_SECONDS from its seeds (tests/fuzz/seeds/NAME). Sanitizer reports of any program are written under a
per-file directory; a test file that leaves one counts as failed.

Run as root, the black-box tests give every instance the unprivileged account
pochtatest (see tests/lib/pochta.py): it is created here when missing, and
removed at the end when this run created it and no other run still uses it."""
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, 'lib'))
import pochta  # noqa: E402  (the test account)
FILE_TIMEOUT = 600
FUZZ_SECONDS = 5


def parse_counts(out):
    for line in reversed(out.splitlines()):
        parts = line.replace(',', ' ').split()
        if len(parts) >= 4 and parts[1] == 'passed' and parts[3] == 'failed':
            try:
                p, f = int(parts[0]), int(parts[2])
            except ValueError:
                continue
            s = 0
            if len(parts) >= 6 and parts[5] == 'skipped':
                s = int(parts[4])
            return p, f, s
    return None


def san_env(logdir):
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = 'log_path=%s/asan:abort_on_error=0:detect_leaks=1' % logdir
    env['UBSAN_OPTIONS'] = 'log_path=%s/ubsan:print_stacktrace=1:halt_on_error=1' % logdir
    env['LSAN_OPTIONS'] = 'log_path=%s/lsan' % logdir
    return env


def run_one(kind, build, path, logdir):
    """returns (label, passed, failed, skipped, output)"""
    env = san_env(logdir)
    env['POCHTA_BUILD'] = os.path.abspath(build)
    env['PYTHONPATH'] = os.path.join(HERE, 'lib')
    if kind == 'unit':
        cmd = [path]
    elif kind == 'fuzz':
        name = os.path.basename(path)
        corpus = os.path.join(logdir, 'corpus')
        os.mkdir(corpus)
        cmd = [path, '-max_total_time=%d' % FUZZ_SECONDS, '-max_len=4096', '-timeout=10',
               '-artifact_prefix=%s/' % logdir, corpus]
        seeds = os.path.join(HERE, 'fuzz', 'seeds', name)
        if os.path.isdir(seeds):
            cmd.append(seeds)
        # libFuzzer reports through its own exit status and stderr
        env.pop('ASAN_OPTIONS', None)
        env.pop('UBSAN_OPTIONS', None)
    else:
        cmd = [sys.executable, os.path.join(HERE, 'lib', 'runfile.py'), path]
    label = '%s %s' % (build, os.path.relpath(path, TOP))
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=FILE_TIMEOUT, cwd=TOP)
        out = p.stdout.decode('utf-8', 'replace')
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b'').decode('utf-8', 'replace') + '\n*** timed out\n'
        rc = -1
    counts = parse_counts(out)
    if kind == 'fuzz':
        counts = (1, 0, 0) if rc == 0 else (0, 1, 0)
        if rc == 0:
            out = out.strip().splitlines()[-1:] and out.strip().splitlines()[-1] or ''
        shutil.rmtree(os.path.join(logdir, 'corpus'), ignore_errors=True)
    if counts is None:
        counts = (0, 1, 0)
        out += '\n*** no result line (exit %s)\n' % rc
    passed, failed, skipped = counts
    if rc != 0 and failed == 0:
        failed = 1
        out += '\n*** exit status %s\n' % rc
    reports = sorted(glob.glob(os.path.join(logdir, '*')))
    if reports:
        failed += 1
        for r in reports[:5]:
            with open(r, errors='replace') as f:
                out += '\n*** sanitizer report %s:\n%s' % (r, f.read()[:6000])
    out += '\n(%.1fs)' % (time.time() - t0)
    return label, passed, failed, skipped, out


def test_accounts():
    """the host's accounts and groups named as tests name theirs (pt...)"""
    import grp
    import pwd
    return ({'user ' + p.pw_name for p in pwd.getpwall() if p.pw_name.startswith('pt')} |
            {'group ' + g.gr_name for g in grp.getgrall() if g.gr_name.startswith('pt')})


def main(argv):
    unit_only = False
    fuzz_dir = None
    jobs = 2
    pattern = None
    builds = []
    extra = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == '--unit-only':
            unit_only = True
        elif a == '--fuzz':
            i += 1
            fuzz_dir = argv[i]
        elif a == '-j':
            i += 1
            jobs = int(argv[i])
        elif a == '-k':
            i += 1
            pattern = argv[i]
        elif a == '--extra':
            # BUILD=PATTERN: that build's tests whose path holds PATTERN, in
            # the same run (make check: the TLS build's own tests)
            i += 1
            b, _, pat = argv[i].partition('=')
            extra.append((b, pat))
        else:
            builds.append(a)
        i += 1
    if not builds:
        builds = ['build']
    tasks = []
    for b in builds:
        for t in sorted(glob.glob(os.path.join(TOP, b, 'tests', 'test_*'))):
            if os.access(t, os.X_OK) and not t.endswith('.d'):
                tasks.append(('unit', b, t))
        if not unit_only:
            for t in sorted(glob.glob(os.path.join(HERE, 'test_*.py'))):
                tasks.append(('py', b, t))
    if fuzz_dir and not unit_only:
        for t in sorted(glob.glob(os.path.join(TOP, fuzz_dir, 'fuzz_*'))):
            if os.access(t, os.X_OK) and os.path.isfile(t):
                tasks.append(('fuzz', fuzz_dir, t))
    if pattern:
        tasks = [t for t in tasks if pattern in t[2]]
    for b, pat in extra:
        for t in sorted(glob.glob(os.path.join(TOP, b, 'tests', 'test_*'))):
            if os.access(t, os.X_OK) and not t.endswith('.d') and pat in t:
                tasks.append(('unit', b, t))
        for t in sorted(glob.glob(os.path.join(HERE, 'test_*.py'))):
            if pat in t:
                tasks.append(('py', b, t))
    builds += [b for b, _ in extra]
    tmp = tempfile.mkdtemp(prefix='pochta-san-')
    root = os.geteuid() == 0
    accounts_before = test_accounts()
    created = False
    if root:
        # programs run as other accounts (pochtatest, smtpd_user...) write
        # their sanitizer reports here too
        os.chmod(tmp, 0o711)
        if any(k == 'py' for k, _, _ in tasks):
            created = pochta.ensure_account()[1]
    total_p = total_f = total_s = 0
    failed_labels = []
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = []
            for n, (kind, b, t) in enumerate(tasks):
                d = os.path.join(tmp, str(n))
                os.mkdir(d)
                if root:
                    os.chmod(d, 0o1777)
                futs.append(ex.submit(run_one, kind, b, t, d))
            for fut in futs:
                label, p, f, s, out = fut.result()
                total_p += p
                total_f += f
                total_s += s
                status = 'FAILED' if f else 'ok'
                print('%-60s %s: %d passed, %d failed, %d skipped' % (label, status, p, f, s), flush=True)
                if f:
                    failed_labels.append(label)
                    print('\n'.join('    ' + l for l in out.splitlines()[-80:]), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        why = created and pochta.remove_account()
        if why:
            print('left the account %s: %s' % (pochta.TEST_ACCOUNT, why))
    # throwaway accounts (pt...) a test made and did not remove
    left = sorted(test_accounts() - accounts_before)
    if left:
        print('accounts left behind by a test: %s' % ' '.join(left))
        failed_labels.append('accounts')
        total_f += 1
    # `pochtactl setup` makes pochta-enqueue setgid: a test that ran it on a
    # build instead of a copy (pochta.copy_build) changed the build under
    # every later test
    for b in builds:
        e = os.path.join(b, 'pochta-enqueue')
        if os.path.exists(e) and os.stat(e).st_mode & 0o2000:
            print('%s is setgid: a test ran pochtactl setup on the build, not on copy_build()' % e)
            failed_labels.append(e)
            total_f += 1
    if failed_labels:
        print('failed: ' + ', '.join(failed_labels))
    if total_s:
        print('%d passed, %d failed, %d skipped' % (total_p, total_f, total_s))
    else:
        print('%d passed, %d failed' % (total_p, total_f))
    return 1 if total_f else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
