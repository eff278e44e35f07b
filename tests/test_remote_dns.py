"""pochta-remote routed by DNS (a private dnsmasq set as dns_servers) to a real
pochta instance B on 127.0.0.1 and to fake servers on other loopback addresses:
MX preference and fallback, the implicit MX, null MX, NXDOMAIN, an AAAA
NXDOMAIN beside a good A answer (RFC 4074 4.2), MX records that are present
but unusable (never the implicit MX), per-recipient rejection, SIZE, timeouts."""
import os
import socket
import time
import unittest
import uuid

from pochta import Instance, InstanceTest, prog, wait_until
from fakesmtp import FakeSMTP, run_remote
from dnsmasq import Dnsmasq, find as find_dnsmasq

REMOTE = prog('pochta-remote')
B_DOMAINS = ['b.test', 'pref.test', 'implicit.test', 'dual.test', 'broken.test', 'c.test', 'd.test',
             'badmx.test', 'dotmx.test', 'dotmix.test', 'allnx.test', 'tempmx.test', 'ipmx.test']


def common_port(ips):
    """a TCP port free on every one of the loopback addresses ips"""
    for _ in range(100):
        s = socket.socket()
        s.bind((ips[0], 0))
        port = s.getsockname()[1]
        s.close()
        ok = True
        for ip in ips:
            t = socket.socket()
            try:
                t.bind((ip, port))
            except OSError:
                ok = False
            finally:
                t.close()
        if ok:
            return port
    raise AssertionError('no common free port')


@unittest.skipUnless(find_dnsmasq(), 'dnsmasq not installed')
class RemoteDNS(InstanceTest):
    @classmethod
    def setUpClass(cls):
        cls.b = Instance(domain='b.test', users={'bob': 'pw', 'carol': 'pw'}, pop3=False,
                         conf={'local_domains': ' '.join(B_DOMAINS), 'message_size_limit': '2048'})
        try:
            cls.b.start()
            # loopback addresses of the fake servers, one port for all (remote_port is one key)
            cls.fake_ips = ['127.0.0.3', '127.0.0.4', '127.0.0.5']
            cls.fake_port = common_port(cls.fake_ips)
            cls.dns = Dnsmasq([
                # MX preference: the first MX has nothing listening
                '--mx-host=pref.test,mx1.pref.test,10', '--mx-host=pref.test,mx2.pref.test,20',
                '--host-record=mx1.pref.test,127.0.0.2', '--host-record=mx2.pref.test,127.0.0.1',
                # no MX: the implicit MX is the domain's own address
                '--host-record=implicit.test,127.0.0.1',
                # null MX (RFC 7505)
                '--mx-host=nullmx.test,.,0', '--host-record=nullmx.test,127.0.0.1',
                # an MX with IPv6 and IPv4 addresses: ::1 refuses (B listens on 127.0.0.1)
                '--mx-host=dual.test,mx.dual.test,10', '--host-record=mx.dual.test,::1,127.0.0.1',
                # the best MX does not resolve
                '--mx-host=broken.test,missing.broken.test,5', '--mx-host=broken.test,mx.broken.test,10',
                '--host-record=mx.broken.test,127.0.0.1',
                '--mx-host=b.test,mx.b.test,10', '--host-record=mx.b.test,127.0.0.1',
                # address=/name/ip answers A and says NXDOMAIN to AAAA (RFC 4074 4.2):
                # the best MX is down, the next one has only that broken AAAA answer
                '--mx-host=c.test,mx1.c.test,10', '--mx-host=c.test,mx2.c.test,20',
                '--host-record=mx1.c.test,127.0.0.2', '--address=/mx2.c.test/127.0.0.1',
                # the best MX has the broken AAAA answer, the next one is fine
                '--mx-host=d.test,mx1.d.test,10', '--mx-host=d.test,mx2.d.test,20',
                '--address=/mx1.d.test/127.0.0.1', '--host-record=mx2.d.test,127.0.0.1',
                # MX records, none usable: each domain has an A record of its own,
                # which must not be used as the implicit MX
                '--mx-host=badmx.test,bad_name.badmx.test,10', '--host-record=badmx.test,127.0.0.1',
                '--mx-host=dotmx.test,.,10', '--host-record=dotmx.test,127.0.0.1',
                '--mx-host=ipmx.test,127.0.0.1,10', '--host-record=ipmx.test,127.0.0.1',
                '--mx-host=allnx.test,missing1.allnx.test,10',
                '--mx-host=allnx.test,missing2.allnx.test,20', '--host-record=allnx.test,127.0.0.1',
                # "MX 0 ." beside a real MX is no null MX: the real one is used
                '--mx-host=dotmix.test,.,0', '--mx-host=dotmix.test,mx.dotmix.test,10',
                '--host-record=mx.dotmix.test,127.0.0.1',
                # one MX host's lookup fails (REFUSED), the other does not exist
                '--server=/refused.test/#', '--mx-host=tempmx.test,mx.refused.test,10',
                '--mx-host=tempmx.test,missing.tempmx.test,20', '--host-record=tempmx.test,127.0.0.1',
                # fake servers
                '--mx-host=greet.test,mxa.greet.test,10', '--mx-host=greet.test,mxb.greet.test,20',
                '--host-record=mxa.greet.test,127.0.0.3', '--host-record=mxb.greet.test,127.0.0.4',
                '--mx-host=equal.test,mxa.equal.test,10', '--mx-host=equal.test,mxb.equal.test,10',
                '--host-record=mxa.equal.test,127.0.0.3', '--host-record=mxb.equal.test,127.0.0.4',
                '--mx-host=slow.test,mx.slow.test,10', '--host-record=mx.slow.test,127.0.0.5',
            ])
            cls.dns.start()
        except BaseException:
            cls.b.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dns.stop()
        finally:
            cls.b.cleanup()

    def sender_instance(self, port=None, **conf):
        c = {'myhostname': 'a.test', 'remote_timeout': '5', 'remote_connect_timeout': '2',
             'dns_servers': '127.0.0.1:%d' % self.dns.port,
             'remote_port': str(port or self.b.smtp_port)}
        c.update(conf)
        return self.instance(start=False, domain='a.test', pop3=False, conf=c)

    def fake(self, ip, **kw):
        srv = FakeSMTP(host=ip, port=self.fake_port, **kw)
        srv.start()
        self.addCleanup(srv.stop)
        return srv

    def msg(self):
        token = uuid.uuid4().hex
        return token, ('Subject: %s\n\nbody %s\n' % (token, token)).encode()

    def wait_token(self, user, token, timeout=15):
        return wait_until(lambda: [m for m in self.b.mails(user) if token.encode() in m], timeout, 0.05,
                          'mail %s for %s' % (token, user))

    def remote(self, a, domain, rcpts, **kw):
        return run_remote(REMOTE, a.root, domain, rcpts, run_as=a.as_owner(), **kw)

    def test_mx_preference_fallback(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'pref.test', ['bob@pref.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=mx2.pref.test[127.0.0.1]:%d status=sent' % self.b.smtp_port, r.log)
        self.wait_token('bob', token)

    def test_all_mx_down(self):
        a = self.sender_instance(port=self.fake_port)   # nothing listens there
        r = self.remote(a, 'pref.test', ['bob@pref.test'])
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.4.1')
        # the last host tried is the one named
        self.assertIn('connect to mx2.pref.test[127.0.0.1]:%d' % self.fake_port, r.text(0))

    def test_implicit_mx(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'implicit.test', ['carol@implicit.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=implicit.test[127.0.0.1]', r.log)
        self.wait_token('carol', token)

    def test_null_mx(self):
        a = self.sender_instance()
        r = self.remote(a, 'nullmx.test', ['bob@nullmx.test', 'carol@nullmx.test'])
        for i in (0, 1):
            self.assertEqual(r.results[i], ('P', '5.1.10', 'Domain does not accept mail (null MX)'))
        self.assertIn('relay=none status=bounced dsn=5.1.10', r.log)

    def test_nxdomain(self):
        a = self.sender_instance()
        r = self.remote(a, 'nothing.test', ['bob@nothing.test'])
        self.assertEqual(r.cls(0), 'P')
        self.assertEqual(r.status(0), '5.1.2')
        self.assertIn('nothing.test', r.text(0))

    def test_dns_server_down(self):
        a = self.sender_instance(dns_servers='127.0.0.1:%d' % self.fake_port, remote_connect_timeout='1')
        t0 = time.time()
        r = self.remote(a, 'pref.test', ['bob@pref.test'])
        self.assertLess(time.time() - t0, 15)
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.4.3')

    def test_ipv6_then_ipv4(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'dual.test', ['bob@dual.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=mx.dual.test[127.0.0.1]', r.log)
        self.wait_token('bob', token)

    def test_unresolvable_mx_skipped(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'broken.test', ['carol@broken.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.wait_token('carol', token)

    def test_aaaa_nxdomain_next_mx(self):
        """mx2.c.test: A 127.0.0.1, AAAA NXDOMAIN; it is used once mx1 fails"""
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'c.test', ['bob@c.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=mx2.c.test[127.0.0.1]:%d status=sent' % self.b.smtp_port, r.log)
        self.wait_token('bob', token)

    def test_aaaa_nxdomain_preferred_mx(self):
        """mx1.d.test has the broken AAAA answer: still the preferred host"""
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'd.test', ['bob@d.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=mx1.d.test[127.0.0.1]:%d status=sent' % self.b.smtp_port, r.log)
        self.assertNotIn('mx2.d.test', r.log)
        self.wait_token('bob', token)

    def assert_not_delivered(self, r, token):
        """no connection was made: nothing reached B (its own A record is there)"""
        self.assertNotIn('status=sent', r.log)
        self.assertNotIn('[127.0.0.1]', r.log)
        self.assertEqual([m for m in self.b.mails('bob') if token.encode() in m], [])

    def test_bad_mx_name_no_implicit_mx(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'badmx.test', ['bob@badmx.test'], msg=msg)
        self.assertEqual(r.results[0], ('P', '5.4.4', 'unusable MX record for badmx.test: '
                                        'bad host name bad_name.badmx.test'), r.log)
        self.assert_not_delivered(r, token)

    def test_ip_address_as_mx_host(self):
        """an MX record naming an IP address names no host (RFC 1035 3.3.9): unusable,
        whichever resolver is asked, and never the implicit MX"""
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'ipmx.test', ['bob@ipmx.test'], msg=msg)
        self.assertEqual(r.results[0], ('P', '5.4.4', 'unusable MX record for ipmx.test: '
                                        'bad host name 127.0.0.1'), r.log)
        self.assert_not_delivered(r, token)

    def test_dot_mx_not_null_mx(self):
        """"MX 10 ." is not a null MX (that is "MX 0 ." alone), and not usable either"""
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'dotmx.test', ['bob@dotmx.test'], msg=msg)
        self.assertEqual(r.cls(0), 'P', r.log)
        self.assertEqual(r.status(0), '5.4.4')
        self.assertIn('unusable MX record for dotmx.test: "." at preference 10', r.text(0))
        self.assert_not_delivered(r, token)

    def test_dot_mx_beside_real_mx(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'dotmix.test', ['bob@dotmix.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertIn('relay=mx.dotmix.test[127.0.0.1]', r.log)
        self.wait_token('bob', token)

    def test_every_mx_nxdomain(self):
        """every MX host does not exist: a permanent error, as Postfix's default
        (smtp_defer_if_no_mx_address_found = no), not the domain's own A record"""
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'allnx.test', ['bob@allnx.test'], msg=msg)
        self.assertEqual(r.cls(0), 'P', r.log)
        self.assertEqual(r.status(0), '5.4.4')
        # the preferred host's failure is the one reported
        self.assertIn('Host or domain name not found: missing1.allnx.test', r.text(0))
        self.assert_not_delivered(r, token)

    def test_mx_lookup_failure_is_temporary(self):
        """one MX host's lookup fails, the other does not exist: try again later,
        and say why"""
        a = self.sender_instance(remote_connect_timeout='1')
        token, msg = self.msg()
        r = self.remote(a, 'tempmx.test', ['bob@tempmx.test'], msg=msg)
        self.assertEqual(r.cls(0), 'T', r.log)
        self.assertEqual(r.status(0), '4.4.3')
        self.assertIn('mx.refused.test', r.text(0))
        self.assert_not_delivered(r, token)

    def test_one_recipient_rejected(self):
        a = self.sender_instance()
        token, msg = self.msg()
        r = self.remote(a, 'b.test', ['nobody@b.test', 'bob@b.test'], msg=msg)
        self.assertEqual(r.cls(0), 'P', r.log)
        self.assertEqual(r.status(0), '5.1.1')
        self.assertTrue(r.text(0).startswith('smtp; 550 5.1.1'), r.text(0))
        self.assertEqual(r.cls(1), 'D')
        self.wait_token('bob', token)

    def test_size_too_big_for_b(self):
        a = self.sender_instance()
        msg = b'Subject: big\n\n' + (b'x' * 70 + b'\n') * 40
        r = self.remote(a, 'b.test', ['bob@b.test'], msg=msg)
        self.assertEqual(r.cls(0), 'P', r.log)
        self.assertEqual(r.status(0), '5.3.4')
        self.assertIn('exceeds size limit 2048', r.text(0))

    def test_greeting_4xx_next_mx(self):
        first = self.fake('127.0.0.3', greeting='421 4.3.2 not now')
        second = self.fake('127.0.0.4')
        a = self.sender_instance(port=self.fake_port)
        r = self.remote(a, 'greet.test', ['bob@greet.test'])
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertEqual(len(first.sessions), 1)
        self.assertEqual(len(second.sessions[0].messages), 1)
        self.assertIn('relay=mxb.greet.test[127.0.0.4]', r.log)

    def test_greeting_5xx_next_mx(self):
        self.fake('127.0.0.3', greeting='554 5.7.1 no service')
        second = self.fake('127.0.0.4')
        a = self.sender_instance(port=self.fake_port)
        r = self.remote(a, 'greet.test', ['bob@greet.test'])
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertEqual(len(second.sessions[0].messages), 1)

    def test_rcpt_4xx_tried_at_next_mx(self):
        first = self.fake('127.0.0.3', rcpt=lambda a: '450 4.7.1 greylisted' if a.startswith('carol') else None)
        second = self.fake('127.0.0.4')
        a = self.sender_instance(port=self.fake_port)
        r = self.remote(a, 'greet.test', ['bob@greet.test', 'carol@greet.test'])
        self.assertEqual([r.cls(0), r.cls(1)], ['D', 'D'], r.log)
        self.assertEqual(len(first.sessions[0].messages), 1)     # bob
        self.assertIn('RCPT TO:<carol@greet.test>', second.sessions[0].commands)
        self.assertNotIn('RCPT TO:<bob@greet.test>', second.sessions[0].commands)

    def test_rcpt_5xx_is_final(self):
        first = self.fake('127.0.0.3', rcpt=lambda a: '550 5.1.1 unknown')
        second = self.fake('127.0.0.4')
        a = self.sender_instance(port=self.fake_port)
        r = self.remote(a, 'greet.test', ['bob@greet.test'])
        self.assertEqual(r.results[0], ('P', '5.1.1', 'smtp; 550 5.1.1 unknown'))
        self.assertEqual(len(second.sessions), 0)

    def test_equal_preference_random(self):
        a = self.fake('127.0.0.3')
        b = self.fake('127.0.0.4')
        inst = self.sender_instance(port=self.fake_port)
        for _ in range(12):
            r = self.remote(inst, 'equal.test', ['bob@equal.test'])
            self.assertEqual(r.cls(0), 'D', r.log)
            if a.sessions and b.sessions:
                break
        self.assertTrue(a.sessions and b.sessions, 'equal MX hosts always tried in one order')

    def test_timeout(self):
        self.fake('127.0.0.5', greeting=None)
        a = self.sender_instance(port=self.fake_port, remote_timeout='1')
        t0 = time.time()
        r = self.remote(a, 'slow.test', ['bob@slow.test'])
        self.assertLess(time.time() - t0, 8)
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.4.2')
        self.assertIn('mx.slow.test[127.0.0.5]', r.text(0))


if __name__ == '__main__':
    unittest.main()
