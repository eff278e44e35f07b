"""pochta-smtpd limits: smtp_timeout (between commands and inside DATA), the
deadlines a trickling client cannot stretch (a whole command line; DATA with
smtp_min_data_rate), smtp_error_limit, message_size_limit during DATA."""
import os
import socket
import time
import unittest

from pochta import InstanceTest, prog_pids, sanitized_build, tmp_files, wait_until

HOST = 'mx.example.test'


class SmtpdLimits(InstanceTest):
    def greet(self, inst):
        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        return r

    def test_timeout_between_commands(self):
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST, 'smtp_timeout': '1'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        t0 = time.time()
        r.sock.settimeout(10)
        code, lines = r.reply()
        self.assertEqual(lines, ['421 4.4.2 %s Error: timeout exceeded' % HOST])
        self.assertLess(time.time() - t0, 6)
        self.assertTrue(r.closed(5))

    def test_timeout_in_data(self):
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST, 'smtp_timeout': '1'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: never\r\n\r\npartial line')
        r.sock.settimeout(10)
        code, lines = r.reply()
        self.assertEqual(code, 421, lines)
        self.assertIn('4.4.2', lines[0])
        self.assertTrue(r.closed(5))
        wait_until(lambda: not tmp_files(inst), 10, 0.05, 'queue tmp/ empty')
        time.sleep(0.3)
        self.assertEqual(inst.queue_files(), [])
        self.assertEqual(inst.mail_files('alice'), [])

    def drip(self, r, data, limit, chunk=1, pace=1.0):
        """send data chunk bytes every pace seconds (one byte a second by
        default) until the server answers; returns (seconds from the first
        byte to the reply, the reply, bytes sent)"""
        r.sock.settimeout(pace)
        t0 = time.monotonic()
        sent = 0
        got = b''
        while time.monotonic() - t0 < limit and b'\n' not in got:
            if sent < len(data):
                try:
                    r.sock.sendall(data[sent:sent + chunk])
                    sent += chunk
                except OSError:
                    break  # closed: the reply is read below
            try:
                d = r.sock.recv(4096)
                if not d:
                    break
                got += d
            except socket.timeout:
                pass
        return time.monotonic() - t0, got.decode(errors='replace'), sent

    def test_trickled_command_line(self):
        """one byte a second never completes a line: 421 after smtp_timeout (3 s)
        from the start of the line, though no single wait is that long"""
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST, 'smtp_timeout': '3'})
        r = self.greet(inst)
        took, got, sent = self.drip(r, b'HELO ' + b'a' * 40 + b'\r\n', 15)
        self.assertEqual(got, '421 4.4.2 %s Error: timeout exceeded\r\n' % HOST, (took, sent))
        self.assertGreater(took, 2)
        self.assertLess(took, 3 + 3)
        r.sock.settimeout(5)
        self.assertTrue(r.closed(5))
        self.assertIn('reason=timeout', inst.log())

    def test_trickled_data(self):
        """one byte a second in DATA (the default 500 bytes/s required): 421 at
        smtp_timeout + bytes/smtp_min_data_rate (about 3 s); nothing queued"""
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST, 'smtp_timeout': '3'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        took, got, sent = self.drip(r, b'Subject: dripped\r\n\r\n' + b'x' * 60 + b'\r\n.\r\n', 20)
        self.assertEqual(got, '421 4.4.2 %s Error: timeout exceeded\r\n' % HOST, (took, sent))
        self.assertGreater(took, 2)
        self.assertLess(took, 3 + 3)
        r.sock.settimeout(5)
        self.assertTrue(r.closed(5))
        self.assertIn('reason=timeout after DATA', inst.log())
        wait_until(lambda: not tmp_files(inst), 10, 0.05, 'queue tmp/ empty')
        time.sleep(0.3)
        self.assertEqual(inst.queue_files(), [])
        self.assertEqual(inst.mail_files('alice'), [])

    def test_data_at_the_minimum_rate_gets_through(self):
        """a slow client that keeps up smtp_min_data_rate may take longer than
        smtp_timeout over its DATA; a fast large message passes too"""
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_timeout': '2', 'smtp_min_data_rate': '100'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        t0 = time.monotonic()
        r.send('Subject: slow-but-steady\r\n\r\n')
        for i in range(10):  # 400 bytes/s for 5 s: over smtp_timeout in all
            time.sleep(0.5)
            r.send('%-198s\r\n' % ('line %d' % i))
        r.send('.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertGreater(time.monotonic() - t0, 4)
        # 8 MB as fast as the client can: the rate buys time, silence never does
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.sock.settimeout(60)
        r.send('Subject: big-and-fast\r\n\r\n' + ('b' * 78 + '\r\n') * 100000 + '.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        inst.wait_mail('alice', 2, timeout=30)

    def test_too_many_errors(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_error_limit': '3'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('BOGUS')[0], 500)                 # unknown command
        self.assertEqual(r.cmd('NOOP')[0], 250)                  # fine commands do not count
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 503)  # bad sequence
        self.assertEqual(r.cmd('VRFY alice')[0], 252)
        r.send('MAIL FROM:<' + 'x' * 2000 + '>\r\n')            # too long: the third
        code, lines = r.reply()
        self.assertEqual(lines, ['500 5.5.6 Line too long'])
        code, lines = r.reply()
        self.assertEqual(lines, ['421 4.7.0 %s Error: too many errors' % HOST])
        self.assertTrue(r.closed(5))

    def test_error_limit_counts_syntax_errors(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_error_limit': '3'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:bad')[0], 501)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 503)
        # the third bad command gets its own reply, then 421
        code, lines = r.cmd('BOGUS')
        self.assertEqual(code, 500, lines)
        self.assertEqual(r.reply()[0], 421)
        self.assertTrue(r.closed(5))

    def test_refused_recipients_count_as_errors(self):
        """no unlimited probing for user names: 550s count toward smtp_error_limit"""
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_error_limit': '5'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        for i in range(4):
            self.assertEqual(r.cmd('RCPT TO:<nobody%d@example.test>' % i)[0], 550)
        # accepted recipients do not count
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        code, lines = r.cmd('RCPT TO:<someone@elsewhere.test>')  # relay denied: the 5th
        self.assertEqual(code, 554, lines)
        code, lines = r.reply()
        self.assertEqual(lines, ['421 4.7.0 %s Error: too many errors' % HOST])
        self.assertTrue(r.closed(5))
        self.assertEqual(inst.queue_files(), [])

    def test_oversize_data_stays_bounded(self):
        """data past message_size_limit buys no time: a client streaming well
        above smtp_min_data_rate is dropped about smtp_timeout +
        message_size_limit/smtp_min_data_rate (3 s) after the 354"""
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_timeout': '2', 'smtp_min_data_rate': '1024',
                                   'message_size_limit': '1024'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        # about 4 KB/s, well above the rate, for up to 20 s
        took, got, sent = self.drip(r, (b'y' * 398 + b'\r\n') * 200, 20, chunk=400, pace=0.1)
        self.assertEqual(got, '421 4.4.2 %s Error: timeout exceeded\r\n' % HOST, (took, sent))
        self.assertLess(took, 3 + 4)
        r.sock.settimeout(5)
        self.assertTrue(r.closed(5))
        self.assertIn('reason=timeout after DATA', inst.log())
        self.assertEqual(inst.mail_files('alice'), [])

    def test_oversize_data(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'message_size_limit': '1024'})
        r = self.greet(inst)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        body = ''.join('line %04d %s\r\n' % (i, 'y' * 60) for i in range(200))  # ~14 KB
        # a line that looks like a command must stay data: the server reads to the end
        r.send('Subject: too-big\r\n\r\n' + body + 'MAIL FROM:<evil@x.test>\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 552, lines)
        self.assertTrue(lines[0].startswith('552 5.3.4'), lines)
        # the session goes on, and a small message still passes
        self.assertEqual(r.cmd('NOOP')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<bob@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: small-one\r\n\r\n' + 'z' * 900 + '\r\n.\r\n')
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        msgs = inst.wait_mail('alice', 1)
        time.sleep(0.3)
        msgs = inst.mails('alice')
        self.assertEqual(len(msgs), 1)
        self.assertIn(b'small-one', msgs[0])
        self.assertEqual(tmp_files(inst), [])


def proc_limits(pid):
    """{'Max open files': (soft, hard), ...} from /proc/PID/limits"""
    out = {}
    with open('/proc/%d/limits' % pid) as f:
        for line in f.read().splitlines()[1:]:
            name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
            out[name] = (soft, hard)
    return out


def session_pids(inst, name):
    """the processes of program name that serve a session: not its zygote
    (-z), which forks them and sets no limits on itself"""
    out = []
    for pid in prog_pids(inst, name):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                if b'-z' not in f.read().split(b'\0'):
                    out.append(pid)
        except OSError:
            pass
    return out


class SessionLimits(InstanceTest):
    """session_memory_limit, session_files_limit, session_cpu_limit: set by
    pochta-smtpd and pochta-pop3d themselves, soft and hard alike"""

    def session_pid(self, inst, name):
        return wait_until(lambda: (session_pids(inst, name) or [None])[0], 10, 0.05, name)

    def check(self, inst, name, files, cpu, mem):
        lim = proc_limits(self.session_pid(inst, name))
        self.assertEqual(lim['Max open files'], (files, files))
        self.assertEqual(lim['Max cpu time'], (cpu, str(int(cpu) + 5)))
        if not sanitized_build(name):  # ASan needs its terabytes of shadow
            self.assertEqual(lim['Max address space'], (mem, mem))

    def test_defaults(self):
        inst = self.instance(users={'alice': 's'})
        with inst.smtp():
            self.check(inst, 'pochta-smtpd', '64', '600', '268435456')
        p = inst.pop3()
        try:
            self.check(inst, 'pochta-pop3d', '64', '600', '268435456')
        finally:
            p.quit()

    def test_configured(self):
        inst = self.instance(users={'alice': 's'}, conf={
            'session_files_limit': '100', 'session_cpu_limit': '30',
            'session_memory_limit': '104857600'})
        with inst.smtp() as s:
            self.check(inst, 'pochta-smtpd', '100', '30', '104857600')
            s.sendmail('a@example.org', ['alice@example.test'], 'Subject: x\r\n\r\nbody\r\n')
            lim = proc_limits(self.session_pid(inst, 'pochta-enqueue'))
            self.assertEqual(lim['Max open files'], ('100', '100'))
            self.assertEqual(lim['Max cpu time'], ('30', '35'))
        self.assertEqual(len(inst.wait_mail('alice', 1)), 1)

    def test_values_checked(self):
        inst = self.instance(start=False)
        for key, bad in (('session_files_limit', '8'), ('session_memory_limit', '1000000')):
            p = inst.ctl('config', 'set', key, bad, check=False)
            self.assertEqual(p.returncode, 1, key)
            self.assertIn(b'at least', p.stderr)
        self.assertEqual(inst.ctl('config', 'set', 'session_files_limit', '0',
                                  check=False).returncode, 0)


if __name__ == '__main__':
    unittest.main()
