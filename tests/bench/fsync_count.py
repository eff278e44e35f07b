#!/usr/bin/env python3
"""The fsyncs per message of a whole instance under an SMTP load of concurrent
sessions (one connection per message). With strace -f (the default) they are
sorted by what was synced: queue files, queue/incoming/, Maildir files, Maildir
new/, other; strace slows every system call, which changes how the sessions
overlap. With --perf they are only counted (perf stat, the syscalls
tracepoints, inherited by every child), at nearly full speed. A measurement:
it asserts nothing.

    POCHTA_BUILD=build python3 tests/bench/fsync_count.py [--sessions 10] [--messages 1000] [--perf]"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from pochta import CTL, Instance  # noqa: E402
import strace  # noqa: E402


def kind(path):
    if re.search(r'/queue/incoming/?$', path):
        return 'queue/incoming/'
    if '/queue/tmp/' in path:
        return 'queue file'
    if re.search(r'/mail/[^/]+/new/?$', path):
        return 'Maildir new/'
    if re.search(r'/mail/[^/]+/tmp/', path):
        return 'Maildir file'
    return 'other (%s)' % re.sub(r'[0-9A-V]{24}|\d+', 'N', path)


def count(trace):
    """{kind: n} of the successful fsync/fdatasync calls in an strace -f log"""
    fds, out = {}, {}
    with open(trace, errors='replace') as f:
        calls = strace.parse(f.read().splitlines())
    for pid, name, args, res in calls:
        if name == 'openat' and res >= 0:
            p = re.search(r'"([^"]*)"', args)
            fds[(pid, res)] = p.group(1) if p else '?'
        elif name in ('fsync', 'fdatasync') and res == 0:
            k = kind(fds.get((pid, int(args.split(',')[0] or -1)), '?'))
            out[k] = out.get(k, 0) + 1
    return out


def count_perf(out):
    """{event: n} from perf stat -x,"""
    c = {}
    with open(out) as f:
        for line in f:
            v = line.strip().split(',')
            if len(v) > 2 and v[0].isdigit():
                c[v[2].split(':')[-1]] = int(v[0])
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sessions', type=int, default=10)
    ap.add_argument('--messages', type=int, default=1000)
    ap.add_argument('--perf', action='store_true')
    a = ap.parse_args()
    tool = shutil.which('perf' if a.perf else 'strace')
    if not tool:
        sys.exit('%s is not installed' % ('perf' if a.perf else 'strace'))
    if a.perf:
        cmd = [tool, 'stat', '-x,', '-e', 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync']
    else:
        cmd = [tool, '-f', '-qq', '-e', 'trace=openat,fsync,fdatasync']
    inst = Instance(domain='bench.test', users={'u': 'pw'},
                    conf={'max_connections_per_ip': a.sessions + 10,
                          'max_connections': a.sessions + 10})
    fd, trace = tempfile.mkstemp(prefix='pochta-fsync-')
    os.close(fd)
    try:
        inst.logf = open(inst.logpath, 'ab')
        inst.proc = subprocess.Popen(cmd + ['-o', trace, CTL, '-r', inst.root, 'start'],
                                     stdin=subprocess.DEVNULL, stdout=inst.logf, stderr=inst.logf,
                                     env=inst.env())
        inst.wait_listening(inst.smtp_port, 60)
        per = a.messages // a.sessions
        errors, accepted = [], [0] * a.sessions

        def worker(n):
            for i in range(per):
                try:
                    with inst.smtp(timeout=120) as s:
                        s.sendmail('load@bench.test', ['u@bench.test'],
                                   'Subject: fsync %d-%d\r\n\r\n%s' % (n, i, ('x' * 75 + '\r\n') * 26))
                    accepted[n] += 1
                except Exception as e:  # report, do not hide
                    errors.append(repr(e))
        t0 = time.time()
        th = [threading.Thread(target=worker, args=(n,)) for n in range(a.sessions)]
        for t in th:
            t.start()
        for t in th:
            t.join(1200)
        total = sum(accepted)
        inst.wait_mail('u', total, timeout=600)
        t_all = time.time() - t0
        # the supervisor, not the tool, is told to stop (the tool then ends with it)
        with open('/proc/%d/task/%d/children' % (inst.proc.pid, inst.proc.pid)) as f:
            os.kill(int(f.read().split()[0]), 15)
        inst.proc.wait(60)
        c = count_perf(trace) if a.perf else count(trace)
        print('sessions=%d messages=%d errors=%d (%.1fs under %s)' % (
            a.sessions, total, len(errors), t_all, os.path.basename(tool)))
        for k in sorted(c):
            print('%-20s %6d fsyncs  %.3f per message' % (k, c[k], c[k] / max(total, 1)))
        print('%-20s %6d fsyncs  %.3f per message' % ('all', sum(c.values()),
                                                       sum(c.values()) / max(total, 1)))
        for e in errors[:5]:
            print('error:', e)
    finally:
        os.unlink(trace)
        inst.cleanup()


if __name__ == '__main__':
    main()
