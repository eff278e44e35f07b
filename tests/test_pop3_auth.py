"""pochta-pop3d: authentication (USER/PASS, AUTH PLAIN, failures and their
delay, the log) and the idle timeout, against a real instance. Kept apart from
tests/test_pop3.py so that the one-second failure delays run in parallel with it."""
import base64
import poplib
import socket
import time
import unittest

import test_pop3
from pochta import wait_until

Pop3Base = test_pop3.Pop3Base


class TestPop3Auth(Pop3Base):
    def plain(self, authz, authc, pw):
        return base64.b64encode(authz.encode() + b'\0' + authc.encode() + b'\0' + pw.encode()).decode()

    def test_auth_plain_initial_response(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.raw()
        self.assertTrue(p.cmd('AUTH PLAIN ' + self.plain('', u, pw)).startswith('+OK maildrop has 1 message'))
        self.assertTrue(p.cmd('STAT').startswith('+OK 1 '))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))

    def test_auth_plain_continuation_and_authzid(self):
        u, pw = self.user()
        p = self.raw()
        self.assertEqual(p.cmd('auth plain'), '+ ')
        self.assertTrue(p.cmd(self.plain(u, u, pw)).startswith('+OK'))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))

    def test_auth_bare_lists_mechanisms(self):
        p = self.raw()
        self.assertTrue(p.cmd('AUTH').startswith('+OK'))
        self.assertEqual(p.multi(), [b'PLAIN\r\n'])
        self.assertTrue(p.cmd('AUTH CRAM-MD5').startswith('-ERR'))
        p.close()

    def test_auth_plain_cancel_then_login(self):
        u, pw = self.user()
        p = self.raw()
        t0 = time.time()
        self.assertEqual(p.cmd('AUTH PLAIN'), '+ ')
        self.assertTrue(p.cmd('*').startswith('-ERR'))
        self.assertLess(time.time() - t0, 0.9)  # a cancel is no failure: no delay
        for _ in range(3):  # and does not count toward the three failures
            self.assertEqual(p.cmd('AUTH PLAIN'), '+ ')
            self.assertTrue(p.cmd('*').startswith('-ERR'))
        self.assertTrue(p.cmd('AUTH PLAIN ' + self.plain('', u, pw)).startswith('+OK'))
        p.cmd('QUIT')

    def test_auth_plain_bad(self):
        u, pw = self.user()
        p = self.raw()
        t0 = time.time()
        self.assertEqual(p.cmd('AUTH PLAIN ' + self.plain('', u, 'wrong')),
                         '-ERR [AUTH] invalid user name or password')
        self.assertGreaterEqual(time.time() - t0, 0.9)
        # an authorization identity other than the user's own
        r = p.cmd('AUTH PLAIN ' + self.plain('postmaster', u, pw))
        self.assertTrue(r.startswith('-ERR [AUTH]'), r)
        p.close()
        p = self.raw()
        # not strict base64: padding in the middle, a bad character, bad length
        self.assertTrue(p.cmd('AUTH PLAIN =AAA').startswith('-ERR'))
        self.assertTrue(p.cmd('AUTH PLAIN AG=hbGljZQB4').startswith('-ERR'))
        self.assertEqual(p.cmd('AUTH PLAIN'), '+ ')
        self.assertTrue(p.cmd('!!!!').startswith('-ERR'))
        self.assertTrue(p.closed())  # that was the third failure
        p = self.raw()
        self.assertTrue(p.cmd('AUTH PLAIN =').startswith('-ERR'))
        p.close()

    def test_three_failures_close(self):
        u, pw = self.user()
        p = self.raw()
        t0 = time.time()
        for i, (name, secret) in enumerate([(u, 'bad1'), ('nosuchuser', 'x'), (u, pw + 'x')]):
            self.assertTrue(p.cmd('USER ' + name).startswith('+OK'))
            r = p.cmd('PASS ' + secret)
            # the same answer whether or not the user exists
            self.assertEqual(r, '-ERR [AUTH] invalid user name or password')
        self.assertGreaterEqual(time.time() - t0, 2.7)
        self.assertTrue(p.closed())
        log = wait_until(lambda: 'auth failed user=nosuchuser client=127.0.0.1' in self.inst.log()
                         and self.inst.log(), 5, 0.05, 'auth failed line')
        self.assertIn('auth failed user=%s client=127.0.0.1' % u, log)
        self.assertNotIn('bad1', log)
        # log lines cannot be forged with the user name
        p = self.raw()
        p.cmd('USER evil=x\x7fuser=root')
        p.cmd('PASS x')
        p.close()
        wait_until(lambda: 'user=evil?x?user?root' in self.inst.log(), 5, 0.05, 'sanitised name')

    def test_poplib_login_and_failure(self):
        u, pw = self.user()
        c = self.inst.pop3()
        c.user(u)
        with self.assertRaises(poplib.error_proto) as e:
            c.pass_('nope')
        self.assertIn(b'[AUTH]', e.exception.args[0])
        c.user(u)
        self.assertTrue(c.pass_(pw).startswith(b'+OK'))
        c.quit()

    def test_password_limit_is_what_pass_can_send(self):
        """pochtactl takes a password up to the longest PASS line POP3 allows
        (255 octets with "PASS " and CRLF: 248 bytes) and refuses a longer one"""
        name = 'longpw'
        longest = ''.join(chr(0x21 + i % 94) for i in range(248))
        self.inst.ctl('user', 'add', name, input=longest + '\r\n')
        p = self.login(name, longest)
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        for pw in (longest + 'x', 'y' * 300):
            r = self.inst.ctl('user', 'passwd', name, input=pw + '\n', check=False)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr, b'pochtactl: password longer than 248 bytes, the most a POP3 '
                                       b'client can send (PASS in a command line of 255 octets)\n')
        r = self.inst.ctl('user', 'add', 'longpw2', input='z' * 300 + '\n', check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b'password longer than 248 bytes', r.stderr)
        self.assertNotIn(b'longpw2', self.inst.ctl('user', 'list').stdout)
        # the refused change left the old password working
        p = self.login(name, longest)
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))


class TestPop3Timeout(Pop3Base):
    conf = {'pop3_timeout': 1}

    def test_idle_timeout_removes_nothing(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        t0 = time.time()
        r = p.line()
        self.assertEqual(r, '-ERR [SYS/TEMP] idle timeout, closing')
        self.assertTrue(p.closed())
        self.assertLess(time.time() - t0, 5)
        self.assertEqual(len(self.files(u)), 1)
        c = self.wait_unlocked(u, pw)
        self.assertEqual(c.stat()[0], 1)
        c.quit()

    def test_timeout_before_login(self):
        p = self.raw()
        self.assertTrue((p.line() or '').startswith('-ERR'))
        self.assertTrue(p.closed())


class TestPop3Trickle(Pop3Base):
    """a client sending one byte a second never completes a command: each
    read alone would wait pop3_timeout again, the deadline for the whole line
    ends the session"""
    conf = {'pop3_timeout': 3}
    BOUND = 8  # pop3_timeout plus margin, as pochta-pop3d(8) states

    def drip(self, p, limit=20):
        """one byte a second until the server answers or closes; the seconds taken"""
        t0 = time.time()
        p.sock.settimeout(1.0)
        while time.time() - t0 < limit:
            try:
                p.sock.sendall(b'X')
            except OSError:
                break
            try:
                d = p.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            p.buf += d
            break
        took = time.time() - t0
        p.sock.settimeout(5)
        return took

    def dropped(self, p):
        took = self.drip(p)
        self.assertEqual(p.line(), '-ERR [SYS/TEMP] command not completed within 3 seconds, closing')
        self.assertTrue(p.closed())
        self.assertLess(took, self.BOUND)
        self.assertGreater(took, 2)

    def test_trickle_before_login(self):
        p = self.raw()
        p.send('USER ')
        self.dropped(p)
        wait_until(lambda: 'timeout state=authorization user=- client=127.0.0.1 retr=0 '
                           'reason=incomplete-command' in self.inst.log(), 5, what='the log line')

    def test_trickle_in_sasl_response(self):
        p = self.raw()
        self.assertEqual(p.cmd('AUTH PLAIN'), '+ ')
        self.dropped(p)

    def test_trickle_after_login_removes_nothing(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        p.send('NOOP')
        self.dropped(p)
        self.assertEqual(len(self.files(u)), 1)
        wait_until(lambda: 'timeout state=transaction user=%s' % u in self.inst.log(), 5,
                   what='the log line')

    def test_quiet_client_still_gets_idle_timeout(self):
        p = self.raw()
        t0 = time.time()
        self.assertEqual(p.line(), '-ERR [SYS/TEMP] idle timeout, closing')
        self.assertTrue(p.closed())
        self.assertLess(time.time() - t0, self.BOUND)


if __name__ == '__main__':
    unittest.main()
