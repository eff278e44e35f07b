"""Concurrency and backoff: a slow destination holds only its own
destination_concurrency share of the delivery slots, a destination that cannot
be reached is backed off as a whole (its other messages wait without an
attempt, `queue show` says why) until `queue flush`, and many recipients of one
message and domain go in one pochta-remote run."""
import re
import os
import time
import unittest

from pochta import InstanceTest, free_port, wait_until
from fakesmtp import FakeSMTP
from lifecycle_lib import make_a, make_b, send, token_msg, with_token, queue_ids


class Limits(InstanceTest):
    def fake(self, **kw):
        srv = FakeSMTP(**kw)
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def test_hold_during_delivery_keeps_its_result(self):
        """held while pochta-remote is mid-transaction: its result is journaled,
        so releasing the message does not deliver it a second time"""
        srv = self.fake(final=lambda body: (time.sleep(1.5), None)[1])
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % srv.port})
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        wait_until(lambda: sum(len(s.messages) for s in srv.sessions) >= 1, 10,
                   what='the data at the server')
        a.ctl('queue', 'hold', qid)
        wait_until(lambda: 'held during delivery: result D' in a.log(), 10,
                   what='the result journaled')
        a.ctl('queue', 'release', qid)
        a.wait_queue_empty(15)
        time.sleep(0.5)
        self.assertEqual(sum(len(s.messages) for s in srv.sessions), 1)

    def test_release_during_delivery_adopts_it(self):
        """held and released again while pochta-remote is mid-transaction: the
        running delivery counts for the reloaded message, no second one starts"""
        srv = self.fake(final=lambda body: (time.sleep(3), None)[1])
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % srv.port}, remote_timeout='10')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        wait_until(lambda: sum(len(s.messages) for s in srv.sessions) >= 1, 10,
                   what='the data at the server')
        a.ctl('queue', 'hold', qid)
        wait_until(lambda: '%s held by admin' % qid in a.log(), 5, what='held')
        a.ctl('queue', 'release', qid)
        a.wait_queue_empty(15)
        time.sleep(0.5)
        self.assertEqual(sum(len(s.messages) for s in srv.sessions), 1)
        self.assertRegex(a.log(), r'%s to=<bob@b.test> status=sent' % qid)

    def test_retry_backoff_doubles_to_retry_max(self):
        """each deferral of a recipient waits twice as long as the one before,
        from retry_min up to retry_max (read from the state journal)"""
        port = free_port()  # nobody listens: every attempt is a temporary failure
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % port}, retry_min='1',
                   retry_max='4')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        state = os.path.join(a.root, 'queue', 'state', qid)

        def deferrals():
            try:
                with open(state, 'rb') as f:
                    data = f.read()
            except FileNotFoundError:
                return None
            recs = [l.split(b':', 1)[1].split(b' ')[:4] for l in data.split(b'\n')
                    if l.startswith(b'Z')]
            return recs if len(recs) >= 5 else None
        recs = wait_until(deferrals, 30, 0.2, 'five deferrals in the journal')
        waits = [int(nxt) - int(when) for idx, when, attempts, nxt in recs[:5]]
        self.assertEqual([int(r[2]) for r in recs[:5]], [1, 2, 3, 4, 5])
        self.assertEqual(waits, [1, 2, 4, 4, 4])
        a.ctl('queue', 'delete', qid)

    def test_slow_domain_does_not_stall_others(self):
        slow = self.fake(greeting=None)          # accepts, never says a word
        b = make_b(self)
        a = make_a(self, routes={'slow.test': '[127.0.0.1]:%d' % slow.port,
                                 'b.test': '[127.0.0.1]:%d' % b.smtp_port},
                   delivery_concurrency='2', destination_concurrency='1', remote_timeout='5',
                   retry_min='60', retry_max='60')
        for i in range(3):
            send(a, 'alice@a.test', ['user%d@slow.test' % i], 'Subject: slow %d\r\n\r\nx\r\n' % i)
        wait_until(lambda: slow.sessions, 5, what='a connection to the slow server')
        t0 = time.time()
        token, body = token_msg()
        send(a, 'alice@a.test', ['bob@b.test'], body)
        with_token(b, 'bob', token, timeout=10)
        took = time.time() - t0
        # the slow server holds its one slot, B got the other at once: before
        # the slow attempt timed out
        self.assertNotIn('@slow.test status=deferred', a.log())
        self.assertLess(took, 5.0)
        self.assertEqual(len(slow.sessions), 1)
        # after the timeout the domain is backed off: the other two are not tried
        wait_until(lambda: 'domain=slow.test backoff=60s failures=1' in a.log(), 15,
                   what='slow.test backed off')
        wait_until(lambda: len(re.findall(r'to=<user\d@slow.test> status=deferred', a.log())) == 3, 10,
                   what='all three deferred')
        self.assertEqual(len(slow.sessions), 1)
        self.assertEqual(len(re.findall(r'remote run pid=\d+ domain=slow.test', a.log())), 1)

    def test_domain_backoff_and_flush(self):
        port = free_port()
        a = make_a(self, routes={'dead.test': '[127.0.0.1]:%d' % port}, retry_min='30',
                   retry_max='60')
        q1 = send(a, 'alice@a.test', ['x@dead.test'], 'Subject: one\r\n\r\nx\r\n')
        wait_until(lambda: 'domain=dead.test backoff=30s failures=1' in a.log(), 10,
                   what='dead.test backed off')
        self.assertRegex(a.log(), r'domain=dead.test backoff=30s failures=1 reason="4\.4\.1 connect to '
                                  r'127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused"' % port)
        q2 = send(a, 'alice@a.test', ['y@dead.test', 'z@dead.test'], 'Subject: two\r\n\r\nx\r\n')
        wait_until(lambda: re.search(q2 + r' to=<z@dead.test> status=deferred', a.log()), 10,
                   what='second message deferred')
        log = a.log()
        # never tried: no run for it, the reason names the backoff
        self.assertNotRegex(log, r'%s remote run' % q2)
        self.assertRegex(log, r'%s to=<y@dead.test> status=deferred delay=[\d.]+ reason="4\.4\.1 not tried: '
                              r'domain dead.test backed off for \d+s after 1 failure: connect to ' % q2)
        wait_until(lambda: 'backed off' in a.ctl('queue', 'show', q2).stdout.decode(), 5,
                   what='backoff in queue show')
        show = a.ctl('queue', 'show', q2).stdout.decode()
        self.assertRegex(show, r'recipient: y@dead.test \(deferred 4\.4\.1, 0 attempts, next [-\d: ]+: '
                               r'not tried: domain dead.test backed off')
        # the server comes up; a flush retries everything at once
        srv = self.fake(port=port)
        a.ctl('queue', 'flush')
        wait_until(lambda: sum(len(s.messages) for s in srv.sessions) >= 2, 10, what='both delivered')
        a.wait_queue_empty()
        rcpts = sorted(c for s in srv.sessions for c in s.commands if c.startswith('RCPT'))
        self.assertEqual(rcpts, ['RCPT TO:<x@dead.test>', 'RCPT TO:<y@dead.test>', 'RCPT TO:<z@dead.test>'])
        self.assertIn('domain=dead.test backoff=cleared', a.log())
        # y and z went in one run, one transaction
        self.assertRegex(a.log(), r'%s remote run pid=\d+ domain=dead.test nrcpt=2' % q2)
        self.assertEqual(queue_ids(a), [])
        self.assertEqual(a.mails('alice'), [])
        del q1

    def test_many_recipients_batched(self):
        srv = self.fake()
        a = make_a(self, routes={'many.test': '[127.0.0.1]:%d' % srv.port})
        rcpts = ['u%03d@many.test' % i for i in range(150)]
        with a.smtp() as s:
            s.sendmail('alice@a.test', rcpts, 'Subject: many\r\n\r\nx\r\n')
        a.wait_queue_empty(20)
        self.assertEqual(sum(len(s.messages) for s in srv.sessions), 2)
        got = sorted(c[9:-1] for s in srv.sessions for c in s.commands if c.startswith('RCPT'))
        self.assertEqual(got, rcpts)
        runs = re.findall(r'remote run pid=\d+ domain=many.test nrcpt=(\d+)', a.log())
        self.assertEqual(sorted(int(n) for n in runs), [50, 100])


if __name__ == '__main__':
    unittest.main()
