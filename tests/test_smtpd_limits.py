"""pochta-smtpd limits: smtp_timeout (between commands and inside DATA),
smtp_error_limit, message_size_limit during DATA."""
import os
import time
import unittest

from pochta import InstanceTest, tmp_files, wait_until

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


if __name__ == '__main__':
    unittest.main()
