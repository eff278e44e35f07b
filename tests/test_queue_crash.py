"""Crash safety: the whole instance is SIGKILLed in the middle of a load; after a
restart every message that got a 250 is delivered (at least once), and no
partial file is ever visible in a Maildir's new/."""
import os
import re
import smtplib
import threading
import time
import unittest

from pochta import InstanceTest, wait_until

USERS = {'alice': 'pw-a', 'bob': 'pw-b'}
TOTAL = 200
THREADS = 5


class Crash(InstanceTest):
    def load(self, inst, accepted, stop):
        lock = threading.Lock()
        counter = iter(range(TOTAL))

        def worker():
            s = None
            while not stop.is_set():
                with lock:
                    n = next(counter, None)
                if n is None:
                    break
                rcpts = ['alice@example.test'] if n % 3 else ['alice@example.test', 'bob@example.test']
                body = ('Subject: crash-%d\r\nMessage-ID: <crash-%d@example.org>\r\n\r\n'
                        % (n, n) + ('line %d of %d\r\n' % (n, n)) * (1 + n % 50) +
                        'end-of-%d\r\n' % n)
                try:
                    if s is None:
                        s = inst.smtp(timeout=10)
                    s.sendmail('load@example.org', rcpts, body)
                except (OSError, smtplib.SMTPException):
                    s = None
                    continue
                with lock:
                    accepted[n] = rcpts
            if s is not None:
                try:
                    s.quit()
                except (OSError, smtplib.SMTPException):
                    pass

        ts = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in ts:
            t.start()
        return ts

    @staticmethod
    def delivered(inst, user):
        """{n: count} of crash-N messages in user's Maildir; checks each file is whole"""
        out = {}
        for path in inst.mail_files(user):
            with open(path, 'rb') as f:
                data = f.read()
            m = re.search(rb'Subject: crash-(\d+)\n', data)
            assert m, 'no subject in %s: %r' % (path, data[:200])
            n = int(m.group(1))
            assert data.endswith(b'\nend-of-%d\n' % n), 'partial file %s' % path
            out[n] = out.get(n, 0) + 1
        return out

    def test_kill_midway(self):
        inst = self.instance(users=USERS)
        accepted, stop = {}, threading.Event()
        t0 = time.time()
        ts = self.load(inst, accepted, stop)
        wait_until(lambda: len(accepted) >= TOTAL // 3, 60, 0.005, 'a third of the load accepted')
        inst.kill_all()
        stop.set()
        for t in ts:
            t.join(30)
        n_acc = len(accepted)
        print('accepted before the crash: %d in %.2fs' % (n_acc, time.time() - t0))
        # right after the crash: whatever is in new/ is whole (checked by delivered())
        self.delivered(inst, 'alice')
        for user in ('alice', 'bob'):
            for f in os.listdir(os.path.join(inst.maildir(user), 'new')):
                self.assertFalse(f.startswith('.'), f)
        inst.start()
        want_a = {n for n, r in accepted.items() if 'alice@example.test' in r}
        want_b = {n for n, r in accepted.items() if 'bob@example.test' in r}
        wait_until(lambda: want_a <= set(self.delivered(inst, 'alice')) and
                   want_b <= set(self.delivered(inst, 'bob')), 60, 0.1,
                   'every accepted message delivered after the restart')
        inst.wait_queue_empty(30)
        got_a, got_b = self.delivered(inst, 'alice'), self.delivered(inst, 'bob')
        dups = sum(c - 1 for c in got_a.values()) + sum(c - 1 for c in got_b.values())
        print('delivered: alice %d bob %d, duplicates %d' % (len(got_a), len(got_b), dups))
        # nothing delivered that was never sent, nothing lost that got a 250
        self.assertTrue(set(got_a) <= set(range(TOTAL)))
        self.assertTrue(want_a <= set(got_a))
        self.assertTrue(want_b <= set(got_b))
        # the queue is clean again
        for sub in ('incoming', 'mess', 'state'):
            self.assertEqual(os.listdir(os.path.join(inst.root, 'queue', sub)), [], sub)


if __name__ == '__main__':
    unittest.main()
