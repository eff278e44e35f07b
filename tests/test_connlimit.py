"""The per-client connection limit of pochtactl start, as Postfix's
smtpd_client_connection_count_limit: max_connections_per_ip is 50 by default,
clients in connection_limit_exempt (by default the relay_networks) are not
limited, and a session counts only while its process runs, so a client that
opens one connection per message is never refused."""
import smtplib
import threading
import unittest

from pochta import InstanceTest, wait_until


class ConnLimit(InstanceTest):
    def open_all(self, inst, n, port=None):
        """n sessions that each got their greeting at the first try (call
        inst.wait_sessions_ended() first: the probe of start() counts until it exits)"""
        got = []
        self.addCleanup(lambda: [r.close() for r in got])
        for i in range(n):
            r = inst.raw(port)
            got.append(r)
            line = r.readline()
            self.assertTrue(line.startswith(b'220 ') or line.startswith(b'+OK'),
                            'session %d of %d: %r' % (i + 1, n, line))
        return got

    def refused(self, inst, port=None):
        r = inst.raw(port)
        try:
            line = r.readline()
            self.assertTrue(r.closed())
            return line
        finally:
            r.close()

    def test_one_connection_per_message_never_refused(self):
        """10 clients, 200 messages each, one connection per message (as
        smtp-source sends by default): none refused, all delivered"""
        inst = self.instance(users={'alice': 'pw'})
        sessions, per = 10, 200
        errors = []

        def client(k):
            for i in range(per):
                try:
                    s = smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=30)
                    s.sendmail('c%d@client.test' % k, ['alice@example.test'],
                               'Subject: %d-%d\r\n\r\nx\r\n' % (k, i))
                    s.quit()
                except Exception as e:  # collected and asserted below
                    errors.append((k, i, repr(e)))
                    if len(errors) > 20:
                        return
        threads = [threading.Thread(target=client, args=(k,)) for k in range(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        self.assertFalse(any(t.is_alive() for t in threads), 'clients did not finish')
        self.assertEqual(errors, [])
        self.assertNotIn('reason=max_connections', inst.log())
        inst.wait_mail('alice', sessions * per, timeout=120)
        self.assertEqual(len(inst.mail_files('alice')), sessions * per)

    def test_fifty_from_one_address_then_421(self):
        inst = self.instance()
        self.assertEqual(inst.ctl('config', 'get', 'max_connections_per_ip').stdout, b'50\n')
        inst.wait_sessions_ended()
        self.open_all(inst, 50)
        line = self.refused(inst)
        self.assertEqual(line, b'421 4.7.0 too many connections, try again later\r\n')
        wait_until(lambda: 'refused smtp from=127.0.0.1 reason=max_connections_per_ip' in inst.log(),
                   5, what='the refusal logged')

    def test_relay_networks_exempt_by_default(self):
        inst = self.instance(conf={'relay_networks': '127.0.0.0/8', 'max_connections_per_ip': '2'})
        self.assertEqual(inst.ctl('config', 'get', 'connection_limit_exempt').stdout,
                         b'relay_networks\n')
        inst.wait_listening(inst.pop3_port)
        inst.wait_sessions_ended()
        self.open_all(inst, 6)
        # POP3 too
        self.open_all(inst, 4, inst.pop3_port)
        self.assertNotIn('reason=max_connections_per_ip', inst.log())

    def test_exemption_can_be_turned_off(self):
        inst = self.instance(conf={'relay_networks': '127.0.0.0/8', 'max_connections_per_ip': '2',
                                   'connection_limit_exempt': ''})
        inst.wait_sessions_ended()
        self.open_all(inst, 2)
        self.assertTrue(self.refused(inst).startswith(b'421 4.7.0 '))

    def test_exempt_blocks_of_its_own(self):
        """blocks exempt without relay_networks; max_connections still applies"""
        inst = self.instance(conf={'max_connections_per_ip': '1', 'max_connections': '4',
                                   'connection_limit_exempt': '192.0.2.0/24, 127.0.0.1/32'})
        inst.wait_sessions_ended()
        self.open_all(inst, 4)
        self.assertTrue(self.refused(inst).startswith(b'421 4.7.0 '))
        wait_until(lambda: 'reason=max_connections\n' in inst.log(), 5, what='the refusal logged')

    def test_config_values(self):
        inst = self.instance(start=False)
        for v in ('$relay_networks', 'relay_networks, 10.0.0.0/8 ::1', '', '192.0.2.1'):
            inst.ctl('config', 'set', 'connection_limit_exempt', v)
            self.assertEqual(inst.ctl('config', 'get', 'connection_limit_exempt').stdout,
                             v.encode() + b'\n')
        for v in ('mynetworks', '$mynetworks', '10.0.0.0/33', 'relay_networks 300.1.1.1'):
            p = inst.ctl('config', 'set', 'connection_limit_exempt', v, check=False)
            self.assertEqual(p.returncode, 1, v)
            self.assertIn(b'connection_limit_exempt', p.stderr)
            self.assertIn(b'not a CIDR block or relay_networks: ' + v.split()[-1].encode(), p.stderr)


if __name__ == '__main__':
    unittest.main()
