"""The queue lifecycle with a real DNS server: a private dnsmasq serves MX, A,
AAAA and null-MX records; A (dns_servers = that dnsmasq, remote_port = B's
port) finds B on 127.0.0.1 by MX lookup. MX preference with fallback, the
implicit MX, null MX bounces, MX hosts whose AAAA query says NXDOMAIN beside a
good A answer (RFC 4074 4.2), unusable MX records that bounce instead of falling
back to the implicit MX, a bounce to a dead sender that ends at the
postmaster, and never a bounce to <>."""
import re
import unittest

from pochta import InstanceTest, wait_until
from dnsmasq import Dnsmasq, find as find_dnsmasq
from lifecycle_lib import Report, make_a, make_b, send, token_msg, with_token

B_DOMAINS = ('b.test', 'pref.test', 'implicit.test', 'dual.test', 'c.test', 'd.test', 'badmx.test')


@unittest.skipUnless(find_dnsmasq(), 'dnsmasq not installed')
class LifecycleDNS(InstanceTest):
    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq([
            '--mx-host=b.test,mx.b.test,10', '--host-record=mx.b.test,127.0.0.1',
            # the best MX is down (nothing listens on 127.0.0.2), the next is B
            '--mx-host=pref.test,mx1.pref.test,10', '--mx-host=pref.test,mx2.pref.test,20',
            '--host-record=mx1.pref.test,127.0.0.2', '--host-record=mx2.pref.test,127.0.0.1',
            # no MX: the domain's own address
            '--host-record=implicit.test,127.0.0.1',
            # AAAA (::1: nobody there) and A
            '--mx-host=dual.test,mx.dual.test,10', '--host-record=mx.dual.test,::1,127.0.0.1',
            # RFC 7505 null MX
            '--mx-host=nullmx.test,.,0', '--host-record=nullmx.test,127.0.0.1',
            # address=/name/ip: A 127.0.0.1, AAAA NXDOMAIN (RFC 4074 4.2)
            '--mx-host=c.test,mx1.c.test,10', '--mx-host=c.test,mx2.c.test,20',
            '--host-record=mx1.c.test,127.0.0.2', '--address=/mx2.c.test/127.0.0.1',
            '--mx-host=d.test,mx1.d.test,10', '--mx-host=d.test,mx2.d.test,20',
            '--address=/mx1.d.test/127.0.0.1', '--host-record=mx2.d.test,127.0.0.1',
            # an MX record that names no valid host, and an A record of the domain's own
            '--mx-host=badmx.test,bad_name.badmx.test,10', '--host-record=badmx.test,127.0.0.1',
        ])
        cls.dns.start()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def pair(self, **conf):
        b = make_b(self, domains=B_DOMAINS)
        a = make_a(self, dns_servers='127.0.0.1:%d' % self.dns.port, remote_port=str(b.smtp_port),
                   **conf)
        return a, b

    def test_mx_preference_fallback(self):
        a, b = self.pair()
        token, body = token_msg(to='bob@pref.test')
        qid = send(a, 'alice@a.test', ['bob@pref.test'], body)
        with_token(b, 'bob', token)
        a.wait_queue_empty()
        self.assertRegex(a.log(), r'%s to=<bob@pref.test> relay=mx2.pref.test\[127\.0\.0\.1\]:%d status=sent'
                         % (qid, b.smtp_port))

    def test_implicit_mx_and_ipv6_fallback(self):
        a, b = self.pair()
        token, body = token_msg(to='carol@implicit.test')
        q1 = send(a, 'alice@a.test', ['carol@implicit.test'], body)
        with_token(b, 'carol', token)
        token2, body2 = token_msg(to='bob@dual.test')
        q2 = send(a, 'alice@a.test', ['bob@dual.test'], body2)
        with_token(b, 'bob', token2)
        a.wait_queue_empty()
        log = a.log()
        self.assertRegex(log, r'%s to=<carol@implicit.test> relay=implicit.test\[127\.0\.0\.1\]' % q1)
        self.assertRegex(log, r'%s to=<bob@dual.test> relay=mx.dual.test\[127\.0\.0\.1\]' % q2)

    def test_aaaa_nxdomain(self):
        """c.test: the best MX is down, the next has A but AAAA NXDOMAIN: delivered
        at once, not deferred for ever; d.test: the broken one is the best MX and
        is used, not the pref-20 host"""
        a, b = self.pair()
        token, body = token_msg(to='bob@c.test')
        q1 = send(a, 'alice@a.test', ['bob@c.test'], body)
        token2, body2 = token_msg(to='carol@d.test')
        q2 = send(a, 'alice@a.test', ['carol@d.test'], body2)
        with_token(b, 'bob', token)
        with_token(b, 'carol', token2)
        a.wait_queue_empty()
        log = a.log()
        self.assertRegex(log, r'%s to=<bob@c.test> relay=mx2.c.test\[127\.0\.0\.1\]:%d status=sent'
                         % (q1, b.smtp_port))
        self.assertRegex(log, r'%s to=<carol@d.test> relay=mx1.d.test\[127\.0\.0\.1\]:%d status=sent'
                         % (q2, b.smtp_port))
        self.assertNotIn('NXDOMAIN', log)

    def test_unusable_mx_bounces(self):
        """MX records present, none usable: a bounce, never the domain's own A record"""
        a, b = self.pair()
        token, body = token_msg(to='bob@badmx.test')
        qid = send(a, 'alice@a.test', ['bob@badmx.test'], body)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        blk = Report(raw).rcpt('bob@badmx.test')
        self.assertEqual(blk['Status'], '5.4.4')
        self.assertEqual(blk['Action'], 'failed')
        self.assertIn('bad_name.badmx.test', blk['Diagnostic-Code'])
        a.wait_queue_empty()
        self.assertNotRegex(a.log(), r'%s to=<bob@badmx.test> relay=badmx.test' % qid)
        self.assertEqual([m for m in b.mails('bob') if token.encode() in m], [])

    def test_null_mx_bounce(self):
        a, b = self.pair()
        token, body = token_msg(to='bob@nullmx.test')
        qid = send(a, 'alice@a.test', ['bob@nullmx.test', 'bob@b.test'], body)
        with_token(b, 'bob', token)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        self.assertTrue(raw.startswith(b'Return-Path: <>\n'))
        r = Report(raw)
        self.assertEqual(len(r.rcpts), 1)
        blk = r.rcpt('bob@nullmx.test')
        self.assertEqual(blk['Status'], '5.1.10')
        self.assertEqual(blk['Action'], 'failed')
        self.assertIn('null MX', blk['Diagnostic-Code'])
        a.wait_queue_empty()
        # a permanent failure is not retried
        self.assertEqual(len(re.findall(r'pochta-remote\[\d+\]: %s to=<bob@nullmx.test>' % qid, a.log())), 1)

    def test_bounce_to_dead_sender_ends_at_postmaster(self):
        """the bounce to dead@nullmx.test fails too: one double bounce goes to
        A's postmaster, and that is the end of it"""
        a, b = self.pair()
        token, body = token_msg(frm='dead@nullmx.test')
        qid = send(a, 'dead@nullmx.test', ['nobody@b.test'], body)
        raw = with_token(a, 'postmaster', 'Undelivered Mail')[0]
        self.assertTrue(raw.startswith(b'Return-Path: <>\nDelivered-To: postmaster@a.test\n'), raw[:120])
        r = Report(raw)
        self.assertEqual(r.msg['To'], '<postmaster@a.test>')
        blk = r.rcpt('dead@nullmx.test')
        self.assertEqual(blk['Status'], '5.1.10')
        # the failed bounce comes back whole: the first failure report inside
        inner = r.orig_text()
        self.assertIn('nobody@b.test', inner)
        self.assertIn(token, inner)
        a.wait_queue_empty()
        log = a.log()
        m = re.search(r'%s bounce queued as ([0-9A-V]{24}) to=<dead@nullmx.test>' % qid, log)
        self.assertTrue(m, log)
        self.assertRegex(log, r'%s double-bounce queued as [0-9A-V]{24} to=<postmaster@a.test> nrcpt=1'
                         % m.group(1))
        # three messages in all: the original, the bounce, the double bounce
        self.assertEqual(len(re.findall(r'pochta-enqueue\[\d+\]: \S+ queued', log)), 3, log)
        self.assertEqual(a.mails('alice'), [])
        self.assertEqual(len(a.mails('postmaster')), 1)

    def test_never_a_bounce_to_null_sender(self):
        a, b = self.pair()
        token, body = token_msg()
        qid = send(a, '', ['nobody@b.test', 'bob@b.test'], body)
        with_token(b, 'bob', token)
        raw = with_token(a, 'postmaster', 'Undelivered Mail')[0]
        r = Report(raw)
        self.assertEqual([x['Final-Recipient'] for x in r.rcpts], ['rfc822; nobody@b.test'])
        self.assertEqual(r.rcpts[0]['Status'], '5.1.1')
        a.wait_queue_empty()
        log = a.log()
        self.assertRegex(log, r'%s double-bounce queued as [0-9A-V]{24} to=<postmaster@a.test>' % qid)
        self.assertNotRegex(log, r'bounce queued as \S+ to=<>')
        # the original and the double bounce, nothing else
        self.assertEqual(len(re.findall(r'pochta-enqueue\[\d+\]: \S+ queued', log)), 2, log)
        self.assertEqual(a.mails('alice'), [])


if __name__ == '__main__':
    unittest.main()
