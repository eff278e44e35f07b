"""strace -f of a command, parsed: the system calls in completion order, for
tests that check the order of commit points (what a 250 waits for)."""
import os
import re
import shutil
import subprocess
import tempfile

STRACE = shutil.which('strace')
CALLS = 'trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat,write'


def strace_run(args, env, input_bytes, trace=CALLS, timeout=60, user=None):
    """run args under strace -f (as user when given: strace -u, the account
    of an instance root made); returns (stdout, [(pid, call, argtext,
    result)]) in completion order"""
    env = dict(env)
    # LeakSanitizer cannot run under ptrace; the other sanitizers still do
    env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', '') + ':detect_leaks=0'
    fd, tpath = tempfile.mkstemp(prefix='pochta-strace-')
    os.close(fd)
    try:
        p = subprocess.run([STRACE, '-f', '-qq', '-s', '1000', '-e', trace, '-o', tpath]
                           + (['-u', user] if user else []) + args,
                           input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           env=env, timeout=timeout)
        with open(tpath, errors='replace') as f:
            lines = f.read().splitlines()
    finally:
        os.unlink(tpath)
    return p.stdout, parse(lines)


def parse(lines):
    """strace -f output lines: [(pid, call, argtext, result)] in completion
    order (an interrupted call is joined with its resumption)"""
    pending = {}
    calls = []
    for l in lines:
        m = re.match(r'^(\d+)\s+(.*)$', l)
        if not m:
            continue
        pid, rest = int(m.group(1)), m.group(2)
        m = re.match(r'^(\w+)\((.*) <unfinished \.\.\.>$', rest)
        if m:
            pending[pid] = (m.group(1), m.group(2))
            continue
        m = re.match(r'^<\.\.\. (\w+) resumed>(.*)\)\s+= (-?\d+)', rest)
        if m and pid in pending:
            name, args0 = pending.pop(pid)
            calls.append((pid, name, args0 + m.group(2), int(m.group(3))))
            continue
        m = re.match(r'^(\w+)\((.*)\)\s+= (-?\d+)', rest)
        if m:
            calls.append((pid, m.group(1), m.group(2), int(m.group(3))))
    return calls


def resolve_paths(calls):
    """calls with the paths of openat, linkat and renameat made whole: a
    name relative to a directory descriptor (one the same process opened)
    is written "DIR/NAME"; each call becomes (pid, call, argtext, result,
    [paths])"""
    dirs = {}
    out = []
    for pid, name, args, res in calls:
        fds = dirs.setdefault(pid, {})
        paths = []
        for m in re.finditer(r'(AT_FDCWD|\d+), "([^"]*)"', args):
            base = fds.get(int(m.group(1))) if m.group(1).isdigit() else None
            rel = m.group(2)
            paths.append(rel if base is None or rel.startswith('/') else base + '/' + rel)
        if name == 'openat' and res >= 0 and paths:
            fds[res] = paths[0].rstrip('/')
        out.append((pid, name, args, res, paths))
    return out


def index_of(calls, pred, start=0, what=''):
    for i in range(start, len(calls)):
        if pred(calls[i]):
            return i
    raise AssertionError('no system call: %s\n%s' % (what, '\n'.join(map(str, calls[-60:]))))
