"""The per-client connection limit of pochtactl start, as Postfix's
smtpd_client_connection_count_limit: max_connections_per_ip is 50 by default,
clients in connection_limit_exempt (by default the relay_networks) are not
limited, and a session counts only while its process runs, so a client that
opens one connection per message is never refused."""
import select
import smtplib
import socket
import threading
import time
import unittest

from pochta import InstanceTest, Raw, wait_until


def raw_from(src, port, timeout=10):
    """a Raw client connecting from the loopback address src"""
    r = Raw.__new__(Raw)
    r.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout,
                                      source_address=(src, 0))
    r.buf = b''
    return r


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

    def one_connection_per_message(self, sessions, per):
        """sessions clients sending per messages each, one connection per
        message, reconnecting as soon as they got their 221: none refused,
        all delivered"""
        inst = self.instance(users={'alice': 'pw'})
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
                    return
        inst.wait_sessions_ended()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        self.assertFalse(any(t.is_alive() for t in threads), 'clients did not finish')
        self.assertEqual(errors, [])
        self.assertNotIn('reason=max_connections', inst.log())
        inst.wait_mail('alice', sessions * per, timeout=180)
        self.assertEqual(len(inst.mail_files('alice')), sessions * per)

    def test_one_connection_per_message_never_refused(self):
        """10 clients, 200 messages each (as smtp-source sends by default)"""
        self.one_connection_per_message(10, 200)

    def test_fifty_clients_at_the_limit_never_refused(self):
        """50 clients (the default limit): a client's next connection may come
        before its ended session was reaped; it is held, not refused"""
        self.one_connection_per_message(50, 20)

    def test_held_connection_served_when_a_session_ends(self):
        """one over the limit waits briefly: the session that ends meanwhile
        makes room for it"""
        inst = self.instance(conf={'max_connections_per_ip': '1'})
        for attempt in range(10):
            inst.wait_sessions_ended()
            a = inst.raw()
            self.addCleanup(a.close)
            self.assertEqual(a.readline()[:4], b'220 ')
            b = inst.raw()
            self.addCleanup(b.close)
            self.assertEqual(a.cmd('QUIT')[0], 221)
            line = b.readline()
            if line.startswith(b'220 '):
                break
            # its hold was over before the session ended (a loaded machine)
            self.assertTrue(line.startswith(b'421 4.7.0 '), line)
        else:
            self.fail('the held connection was never served')
        self.assertEqual(b.cmd('QUIT')[0], 221)

    def test_over_the_limit_for_real_all_refused(self):
        """more clients over the limit than can be held: each gets its 421,
        the held ones when their hold is over"""
        inst = self.instance(conf={'max_connections_per_ip': '3'})
        inst.wait_sessions_ended()
        self.open_all(inst, 3)
        extra = [inst.raw() for _ in range(20)]
        self.addCleanup(lambda: [r.close() for r in extra])
        for r in extra:
            self.assertEqual(r.readline(), b'421 4.7.0 too many connections, try again later\r\n')
            self.assertTrue(r.closed())
        wait_until(lambda: inst.log().count('reason=max_connections_per_ip') == 20, 5,
                   what='20 refusals logged')
        # POP3 the same
        inst.wait_listening(inst.pop3_port)
        self.open_all(inst, 3, inst.pop3_port)
        extra = [inst.raw(inst.pop3_port) for _ in range(10)]
        self.addCleanup(lambda: [r.close() for r in extra])
        for r in extra:
            self.assertTrue(r.readline().startswith(b'-ERR [SYS/TEMP] '))

    def test_others_served_while_one_is_held(self):
        """while a connection over the limit is held the supervisor serves
        other clients: their greeting comes before the held one's 421"""
        inst = self.instance(conf={'max_connections_per_ip': '1'})
        inst.wait_sessions_ended()
        self.open_all(inst, 1)
        for attempt in range(10):
            held = inst.raw()
            self.addCleanup(held.close)
            other = raw_from('127.0.0.2', inst.smtp_port)
            self.addCleanup(other.close)
            self.assertEqual(other.readline()[:4], b'220 ')
            early = select.select([held.sock], [], [], 0)[0]
            self.assertEqual(held.readline(), b'421 4.7.0 too many connections, try again later\r\n')
            self.assertEqual(other.cmd('QUIT')[0], 221)
            if not early:
                break
            # the hold was over before the other got its greeting (a loaded machine)
            time.sleep(0.1)
        else:
            self.fail('the held connection was refused before another client was served, 10 times')

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
