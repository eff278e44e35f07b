"""The queue lifecycle end to end with two instances on loopback: a client
submits to A (relay_networks 127.0.0.0/8), A's pochta-qmgr runs pochta-remote,
which reaches B through etc/routes or relayhost. Bounces (RFC 3464) come back
to alice@a.test; deferred entries, expiry, delay notices, relay refusal and the
pochtactl queue commands with remote entries."""
import os
import re
import smtplib
import time
import unittest

from pochta import InstanceTest, free_port, wait_until
from lifecycle_lib import (Report, make_a, make_b, send, token_msg, with_token, queue_ids,
                           write_routes)


class Relay(InstanceTest):
    def test_route_to_b(self):
        b = make_b(self)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port})
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        m = with_token(b, 'bob', token)[0]
        self.assertTrue(m.startswith(b'Return-Path: <alice@a.test>\n'), m[:100])
        # A's Received: line (with its queue ID) travelled with the message
        self.assertIn(qid.encode(), m)
        a.wait_queue_empty()
        # the queue file goes before its "removed" line is written
        wait_until(lambda: re.search(r'pochta-qmgr\[\d+\]: %s removed' % qid, a.log()), 10, 0.05,
                   'the removed line')
        log = a.log()
        self.assertRegex(log, r'pochta-remote\[\d+\]: %s to=<bob@b.test> relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d '
                              r'status=sent' % (qid, b.smtp_port))
        self.assertRegex(log, r'pochta-qmgr\[\d+\]: %s to=<bob@b.test> status=sent' % qid)
        self.assertEqual(os.listdir(os.path.join(a.root, 'queue', 'state')), [])

    def test_relayhost(self):
        b = make_b(self, domains=('b.test', 'elsewhere.test'))
        a = make_a(self, relayhost='127.0.0.1:%d' % b.smtp_port)
        token, body = token_msg(to='carol@elsewhere.test')
        # two recipients of one domain travel in one SMTP transaction
        send(a, 'alice@a.test', ['carol@elsewhere.test', 'bob@elsewhere.test'], body)
        with_token(b, 'carol', token)
        with_token(b, 'bob', token)
        a.wait_queue_empty()
        self.assertRegex(a.log(), r'remote run pid=\d+ domain=elsewhere.test nrcpt=2')

    def test_rcpt_5xx_bounces_that_recipient_only(self):
        b = make_b(self)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port})
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['nobody@b.test', 'bob@b.test'], body)
        with_token(b, 'bob', token)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        self.assertTrue(raw.startswith(b'Return-Path: <>\n'), raw[:100])
        r = Report(raw)
        self.assertEqual(len(r.rcpts), 1)
        blk = r.rcpt('nobody@b.test')
        self.assertEqual(blk['Action'], 'failed')
        self.assertEqual(blk['Status'], '5.1.1')
        self.assertTrue(blk['Diagnostic-Code'].startswith('smtp; 550 5.1.1'), blk['Diagnostic-Code'])
        self.assertEqual(r.per_msg['Reporting-MTA'], 'dns; a.test')
        self.assertEqual(r.msg['To'], '<alice@a.test>')
        # the original comes back (it is small: the whole of it)
        self.assertIn('Subject: test %s' % token, r.orig_text())
        a.wait_queue_empty()
        self.assertRegex(a.log(), r'%s bounce queued as [0-9A-V]{24} to=<alice@a.test> nrcpt=1' % qid)
        # bob got it once, alice got one bounce
        self.assertEqual(len(with_token(b, 'bob', token)), 1)
        self.assertEqual(len(a.mails('alice')), 1)

    def test_route_back_to_myself_bounces_once(self):
        """a route (or MX) that leads back to this server: one 5.4.6 bounce, not a
        hundred copies through the queue until the Received: limit"""
        a = make_a(self, start=False)
        write_routes(a, {'loop.test': '[127.0.0.1]:%d' % a.smtp_port})
        a.start()
        token, body = token_msg(to='x@loop.test')
        qid = send(a, 'alice@a.test', ['x@loop.test'], body)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        blk = Report(raw).rcpt('x@loop.test')
        self.assertEqual(blk['Status'], '5.4.6')
        self.assertIn('loops back to myself', blk['Diagnostic-Code'])
        a.wait_queue_empty()
        # the loop was cut at the greeting: A's smtpd never took a copy
        self.assertEqual(len(re.findall(r'pochta-enqueue\[\d+\]: \S+ queued', a.log())), 2)  # message + bounce
        self.assertEqual(len(a.mails('alice')), 1)

    def test_relay_refused_outside_relay_networks(self):
        b = make_b(self)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port},
                   relay_networks='10.0.0.0/8, 2001:db8::/32')
        with a.smtp() as s:
            s.ehlo('client.test')
            self.assertEqual(s.mail('alice@a.test')[0], 250)
            code, msg = s.rcpt('bob@b.test')
            self.assertEqual(code // 100, 5, msg)
            # a local recipient is still fine, and only it gets the message
            self.assertEqual(s.rcpt('alice@a.test')[0], 250)
            self.assertEqual(s.data('Subject: x\r\n\r\nlocal only\r\n')[0], 250)
        a.wait_mail('alice', 1)
        a.wait_queue_empty()
        time.sleep(0.5)
        self.assertNotIn('pochta-remote', a.log())
        self.assertEqual(b.mails('bob'), [])

    def test_down_then_up_after_flush(self):
        b = make_b(self, start=False)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port}, retry_min='60',
                   retry_max='120')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        wait_until(lambda: 'Connection refused' in a.ctl('queue', 'list').stdout.decode(), 10,
                   what='deferral reason in queue list')
        out = a.ctl('queue', 'list').stdout.decode()
        self.assertIn(qid, out)
        self.assertRegex(out, r'bob@b.test \(deferred 4\.4\.1, 1 attempt, next [-\d: ]+: connect to '
                              r'127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)' % b.smtp_port)
        show = a.ctl('queue', 'show', qid).stdout.decode()
        self.assertIn('sender: <alice@a.test>', show)
        self.assertIn('recipient: bob@b.test (deferred 4.4.1', show)
        b.start()
        time.sleep(0.3)
        self.assertEqual(b.mails('bob'), [])        # nothing before the flush (retry in 60s)
        a.ctl('queue', 'flush')
        with_token(b, 'bob', token)
        a.wait_queue_empty()
        self.assertEqual(a.mails('alice'), [])      # no bounce

    def test_expiry_bounce(self):
        port = free_port()      # nothing listens there
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % port}, queue_lifetime='3',
                   retry_max='1')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        raw = with_token(a, 'alice', 'Undelivered Mail', timeout=20)[0]
        self.assertTrue(raw.startswith(b'Return-Path: <>\nDelivered-To: alice@a.test\n'), raw[:100])
        r = Report(raw)
        blk = r.rcpt('bob@b.test')
        self.assertEqual(blk['Action'], 'failed')
        self.assertEqual(blk['Status'], '4.4.7')
        self.assertEqual(' '.join(blk['Diagnostic-Code'].split()),
                         'X-Pochta; connect to 127.0.0.1[127.0.0.1]:%d: Connection refused' % port)
        self.assertIn(token, r.orig_text())
        self.assertEqual(r.per_msg['X-Pochta-Queue-ID'], qid)
        a.wait_queue_empty()
        log = a.log()
        self.assertRegex(log, r'%s to=<bob@b.test> expired after [3-9]s in the queue' % qid)
        self.assertRegex(log, r'%s to=<bob@b.test> status=failed delay=[\d.]+ reason="4\.4\.7 ' % qid)
        self.assertEqual(len(a.mails('alice')), 1)

    def test_delay_notice_once(self):
        port = free_port()
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % port}, delay_warning_time='1',
                   retry_max='1')
        token, body = token_msg()
        qid = send(a, 'alice@a.test', ['bob@b.test'], body)
        raw = with_token(a, 'alice', 'Delayed Mail', timeout=15)[0]
        r = Report(raw)
        blk = r.rcpt('bob@b.test')
        self.assertEqual(blk['Action'], 'delayed')
        self.assertEqual(blk['Status'], '4.4.1')
        self.assertIn('Connection refused', ' '.join(blk['Diagnostic-Code'].split()))
        self.assertIsNotNone(blk['Will-Retry-Until'])
        self.assertEqual(r.orig.get_content_type(), 'text/rfc822-headers')
        self.assertIn(token, r.orig_text())
        self.assertTrue(raw.startswith(b'Return-Path: <>\n'))
        # more attempts, no second notice; the journal says it was sent
        n = a.log().count('%s to=<bob@b.test> status=deferred' % qid)
        wait_until(lambda: a.log().count('%s to=<bob@b.test> status=deferred' % qid) >= n + 2, 15,
                   what='two more attempts')
        self.assertEqual(len(a.mails('alice')), 1)
        self.assertIn('delay notice: queued', a.ctl('queue', 'show', qid).stdout.decode())
        with open(os.path.join(a.root, 'queue', 'state', qid), 'rb') as f:
            self.assertEqual(len(re.findall(rb'(?m)^W\d+:', f.read())), 1)
        # a restart remembers it too
        a.stop()
        a.start()
        wait_until(lambda: a.log().count('%s to=<bob@b.test> status=deferred' % qid) >= n + 4, 15,
                   what='attempts after the restart')
        self.assertEqual(len(a.mails('alice')), 1)
        self.assertEqual(a.log().count('delay notice queued as'), 1)
        a.ctl('queue', 'delete', qid)
        a.wait_queue_empty()

    def test_hold_release_delete_flush(self):
        b = make_b(self, start=False)
        a = make_a(self, routes={'b.test': '[127.0.0.1]:%d' % b.smtp_port}, retry_min='60',
                   retry_max='120')
        t1, m1 = token_msg('one')
        t2, m2 = token_msg('two')
        t3, m3 = token_msg('three')
        q1 = send(a, 'alice@a.test', ['bob@b.test'], m1)
        q2 = send(a, 'alice@a.test', ['bob@b.test'], m2)
        q3 = send(a, 'alice@a.test', ['carol@b.test'], m3)
        for q in (q1, q2, q3):
            wait_until(lambda: re.search(q + r' to=<[a-z]+@b.test> status=deferred', a.log()), 10,
                       what='first attempt of %s' % q)
        self.assertEqual(a.ctl('queue', 'hold', q1).stdout.decode().strip(), '%s: held' % q1)
        self.assertEqual(a.ctl('queue', 'delete', q3).stdout.decode().strip(), '%s: deleted' % q3)
        out = a.ctl('queue', 'list').stdout.decode()
        self.assertIn(q1 + '!', out)
        self.assertNotIn(q3, out)
        # held and deferred: the journal went with it
        self.assertIn('recipient: bob@b.test (deferred 4.4.1', a.ctl('queue', 'show', q1).stdout.decode())
        b.start()
        a.ctl('queue', 'flush')
        with_token(b, 'bob', t2)
        wait_until(lambda: q2 not in queue_ids(a), 10, what='q2 removed')
        time.sleep(0.5)
        self.assertFalse([m for m in b.mails('bob') if t1.encode() in m], 'held message delivered')
        self.assertEqual(a.ctl('queue', 'release', q1).stdout.decode().strip(), '%s: released' % q1)
        a.ctl('queue', 'flush')
        with_token(b, 'bob', t1)
        a.wait_queue_empty()
        self.assertEqual(b.mails('carol'), [])       # deleted: never delivered
        self.assertEqual(a.mails('alice'), [])       # no bounce for any of it

    def test_double_bounce_dropped(self):
        """a null-sender message to the postmaster that cannot be delivered is
        dropped with a log line: nothing is queued about it"""
        a = make_a(self, queue_lifetime='2', retry_max='1')
        pm = os.path.join(a.root, 'mail', 'postmaster')
        os.rename(pm, pm + '.away')
        qid = send(a, '', ['postmaster@a.test'], 'Subject: to the postmaster\r\n\r\nhi\r\n')
        wait_until(lambda: '%s double-bounce dropped' % qid in a.log(), 15, what='double-bounce dropped')
        a.wait_queue_empty()
        log = a.log()
        self.assertNotIn('bounce queued as', log)
        self.assertEqual(len(re.findall(r'pochta-enqueue\[\d+\]: \S+ queued', log)), 1, log)


if __name__ == '__main__':
    unittest.main()
