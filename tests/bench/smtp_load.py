#!/usr/bin/env python3
"""End-to-end throughput: N SMTP sessions send M messages of S bytes to one local
user; measures messages/s from the first connect until the last message is in
the Maildir, and the CPU time of the whole instance per message (taken from the
supervisor's process tree after it stopped: every program reaps its children).

    python3 tests/bench/smtp_load.py [--sessions 10] [--messages 2000] [--size 2048]
Prints figures; asserts nothing about speed."""
import argparse
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from pochta import Instance  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--sessions', type=int, default=10)
    ap.add_argument('--messages', type=int, default=2000)
    ap.add_argument('--size', type=int, default=2048)
    a = ap.parse_args()
    inst = Instance(domain='bench.test', users={'u': 'pw'},
                    conf={'max_connections_per_ip': a.sessions + 10,
                          'max_connections': a.sessions + 10})
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        inst.start()
        body = ('x' * 75 + '\r\n') * max(1, a.size // 77)
        per = a.messages // a.sessions
        errors = []
        accepted = [0] * a.sessions

        def worker(n):
            try:
                with inst.smtp(timeout=60) as s:
                    for i in range(per):
                        msg = 'Subject: bench %d-%d\r\n\r\n%s' % (n, i, body)
                        s.sendmail('load@bench.test', ['u@bench.test'], msg)
                        accepted[n] += 1
            except Exception as e:  # report, do not hide
                errors.append(repr(e))

        t0 = time.time()
        th = [threading.Thread(target=worker, args=(n,)) for n in range(a.sessions)]
        for t in th:
            t.start()
        for t in th:
            t.join(600)
        t_sent = time.time() - t0
        total = sum(accepted)
        inst.wait_mail('u', total, timeout=600)
        t_all = time.time() - t0
        inst.stop()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print('sessions=%d messages=%d size=%d errors=%d' % (a.sessions, total, a.size, len(errors)))
        print('accepted in %.2fs: %.0f msg/s' % (t_sent, total / t_sent))
        print('delivered in %.2fs: %.0f msg/s end to end' % (t_all, total / t_all))
        print('cpu %.2fs: %.2f ms per message (all pochta processes)' % (cpu, 1000 * cpu / total))
        for e in errors[:5]:
            print('error:', e)
    finally:
        inst.cleanup()


if __name__ == '__main__':
    main()
