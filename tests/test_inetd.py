"""pochta-smtpd and pochta-pop3d started the inetd / systemd Accept=yes way:
the TCP connection on fds 0 and 1 and no UCSPI variables in the environment.
The client address must then come from the socket itself (relay_networks
depends on it)."""
import os
import socket
import subprocess
import unittest

from pochta import InstanceTest, prog


class InetdStyle(InstanceTest):
    def serve_one(self, inst, program, logpath):
        """accept one loopback connection and hand it to program on fds 0/1"""
        lsock = socket.socket()
        lsock.bind(('127.0.0.1', 0))
        lsock.listen(1)
        client = socket.create_connection(lsock.getsockname(), timeout=10)
        conn, _ = lsock.accept()
        lsock.close()
        env = {k: v for k, v in inst.env().items() if not k.startswith('TCP')}
        env['POCHTA_LOG'] = 'stderr'
        log = open(logpath, 'wb')
        # smtpd as the instance's account would run it; pop3d as root
        # does, holding root only until the password is checked
        run_as = inst.as_owner() if program == 'pochta-smtpd' else {}
        p = subprocess.Popen([prog(program)], stdin=conn.fileno(), stdout=conn.fileno(),
                             stderr=log, env=env, close_fds=True, **run_as)
        conn.close()
        self.addCleanup(log.close)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(10)))
        self.addCleanup(client.close)
        return client, p

    def test_smtpd_relay_by_socket_address(self):
        inst = self.instance(start=False, users={'alice': 'pw'},
                             conf={'relay_networks': '127.0.0.0/8'})
        logpath = os.path.join(inst.root, 'log', 'smtpd-inetd.log')
        client, p = self.serve_one(inst, 'pochta-smtpd', logpath)
        f = client.makefile('rwb')

        def cmd(line):
            f.write(line.encode() + b'\r\n')
            f.flush()
            while True:
                r = f.readline().decode()
                if r[3:4] != '-':
                    return r

        self.assertTrue(f.readline().startswith(b'220 '))
        self.assertTrue(cmd('EHLO client.test').startswith('250 '))
        self.assertTrue(cmd('MAIL FROM:<alice@example.test>').startswith('250 '))
        # a non-local domain: only a relay client (127.0.0.1 from getpeername) gets 250
        self.assertTrue(cmd('RCPT TO:<someone@elsewhere.test>').startswith('250 '))
        self.assertTrue(cmd('QUIT').startswith('221 '))
        self.assertEqual(p.wait(10), 0)
        with open(logpath) as lf:
            self.assertIn('127.0.0.1', lf.read())

    def test_smtpd_pipe_is_not_a_relay_client(self):
        """no socket at all (a pipe): the client is unknown, never a relay client"""
        # every command in one write: not about pipelining, so that check is off
        inst = self.instance(start=False, conf={'relay_networks': '0.0.0.0/0 ::/0',
                                                'smtp_forbid_unauth_pipelining': '0'})
        env = {k: v for k, v in inst.env().items() if not k.startswith('TCP')}
        r = subprocess.run([prog('pochta-smtpd')], input=b'EHLO x\r\nMAIL FROM:<a@b.test>\r\n'
                           b'RCPT TO:<c@elsewhere.test>\r\nQUIT\r\n', stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, env=env, timeout=20, **inst.as_owner())
        self.assertIn(b'554 5.7.1', r.stdout)

    def test_pop3d_logs_socket_address(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        logpath = os.path.join(inst.root, 'log', 'pop3d-inetd.log')
        client, p = self.serve_one(inst, 'pochta-pop3d', logpath)
        f = client.makefile('rwb')
        self.assertTrue(f.readline().startswith(b'+OK'))
        for line in (b'USER alice', b'PASS pw', b'QUIT'):
            f.write(line + b'\r\n')
            f.flush()
            self.assertTrue(f.readline().startswith(b'+OK'), line)
        self.assertEqual(p.wait(10), 0)
        with open(logpath) as lf:
            self.assertIn('login user=alice client=127.0.0.1', lf.read())


if __name__ == '__main__':
    unittest.main()
