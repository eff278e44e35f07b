"""Crash safety of remote delivery: the whole sending instance is SIGKILLed
while pochta-remote runs are in the middle of SMTP transactions; after a
restart every message that got a 250 reaches the receiving server (at least
once), and the queue ends clean. A failure journaled before its bounce was
queued is bounced after a restart, and only once."""
import os
import re
import time
import unittest

from pochta import InstanceTest, free_port, wait_until
from fakesmtp import FakeSMTP
from lifecycle_lib import Report, make_a, make_b, queue_ids, send, token_msg, with_token

N = 12


class Crash(InstanceTest):
    def test_kill_during_remote_delivery(self):
        slow = [True]

        def final(body):
            # the peer sits on the end of data: the sender is mid-transaction
            if slow[0]:
                time.sleep(1.0)
            return None

        srv = FakeSMTP(final=final)
        srv.start()
        self.addCleanup(srv.stop)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % srv.port}, retry_min='1',
                   retry_max='1', destination_concurrency='3')
        tokens = []
        for i in range(N):
            token, body = token_msg('crash-%d' % i)
            send(a, 'alice@a.test', ['bob@b.test'], body)
            tokens.append(token)
        # some transactions are at their end of data, waiting for the reply
        wait_until(lambda: sum(len(s.messages) for s in srv.sessions) >= 2, 15,
                   what='data received by the server')
        a.kill_all()
        before = sum(len(s.messages) for s in srv.sessions)
        self.assertLess(before, N, 'everything was delivered before the crash')
        # nothing of A survives the crash, the queue still holds its entries
        self.assertTrue(os.listdir(os.path.join(a.root, 'queue', 'mess')))
        slow[0] = False
        a.start()

        def received():
            got = b''.join(m for s in srv.sessions for m in s.messages)
            return all(t.encode() in got for t in tokens)
        wait_until(received, 30, 0.1, 'every message at the server after the restart')
        a.wait_queue_empty(15)
        for sub in ('incoming', 'mess', 'state'):
            self.assertEqual(os.listdir(os.path.join(a.root, 'queue', sub)), [], sub)
        got = b''.join(m for s in srv.sessions for m in s.messages)
        dups = sum(got.count(b'body ' + t.encode()) - 1 for t in tokens)
        print('delivered before the crash: %d, duplicates: %d' % (before, dups))
        self.assertEqual(a.mails('alice'), [])            # no bounce
        self.assertFalse(re.search(r'status=failed', a.log()))

    def test_result_journaled_while_a_sibling_runs(self):
        """one recipient delivered while another domain of the same message is
        slow: its result is journaled within seconds, so a crash then does not
        deliver it twice"""
        hold = [True]

        def final(body):
            deadline = time.time() + 20
            while hold[0] and time.time() < deadline:
                time.sleep(0.1)
            return None
        slow = FakeSMTP(final=final)
        slow.start()
        self.addCleanup(slow.stop)
        self.addCleanup(lambda: hold.__setitem__(0, False))
        b = make_b(self)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port,
                                 'slow.test': '[127.0.0.1]:%d' % slow.port},
                   remote_timeout='30')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test', 'x@slow.test'], body)
        with_token(b, 'bob', token)
        state = os.path.join(a.root, 'queue', 'state', qid)
        wait_until(lambda: os.path.exists(state) and re.search(rb'(?m)^D\d+:0 ', open(state, 'rb').read()),
                   12, 0.1, "bob's result in the journal while the slow delivery runs")
        self.assertEqual(sum(len(s.messages) for s in slow.sessions), 1)  # still mid-transaction
        a.kill_all()
        hold[0] = False
        a.start()
        wait_until(lambda: sum(len(s.messages) for s in slow.sessions) >= 2, 20, 0.1,
                   'the slow recipient retried after the restart')
        a.wait_queue_empty(15)
        self.assertEqual(len(with_token(b, 'bob', token)), 1)

    def test_failed_but_untold_is_bounced_after_restart(self):
        """a crash after a failure was journaled (F) but before its bounce was
        queued: the restarted manager bounces it; once told (B) it never is again"""
        port = free_port()
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % port}, retry_min='60',
                   retry_max='60')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test', 'carol@b.test'], body)
        state = os.path.join(a.root, 'queue', 'state', qid)
        wait_until(lambda: os.path.exists(state) and open(state, 'rb').read().count(b'\n') >= 2, 10,
                   what='both recipients journaled as deferred')
        a.stop()
        data = b'0 %d 1 0 5.1.1 smtp; 550 5.1.1 <bob@b.test>: no such user' % int(time.time())
        a.write(state, b'F%d:%s\n' % (len(data), data), append=True)
        a.start()
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        r = Report(raw)
        self.assertEqual([x['Final-Recipient'] for x in r.rcpts], ['rfc822; bob@b.test'])
        self.assertEqual(r.rcpts[0]['Status'], '5.1.1')
        self.assertIn(token, r.orig_text())
        # told: recorded before anything else happens to the message
        wait_until(lambda: re.search(rb'(?m)^B\d+:0 ', open(state, 'rb').read()), 10, what='B record')
        # the bounce leaves the queue, carol (deferred) keeps the original there
        wait_until(lambda: queue_ids(a) == [qid], 10, what='only the original left in the queue')
        a.stop()
        a.start()
        time.sleep(1.0)
        self.assertEqual(len(a.mails('alice')), 1)
        self.assertEqual(a.log().count('bounce queued as'), 1)
        self.assertIn('recipient: bob@b.test (bounced 5.1.1: smtp; 550',
                      a.ctl('queue', 'show', qid).stdout.decode())


if __name__ == '__main__':
    unittest.main()
