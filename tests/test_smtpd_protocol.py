"""pochta-smtpd: greeting, EHLO, command replies, sequence and syntax errors,
recipient policy (local users, postmaster, relay denied), VRFY, limits at MAIL
and RCPT. One instance for the whole file; each test opens its own sessions."""
import os
import re
import time
import unittest

from pochta import Instance, prog, wait_until

# a TLS build (make TLS=openssl) offers STARTTLS: tests/test_tls.py covers it
TLS_BUILD = os.access(prog('pochta-tls'), os.X_OK)

HOST = 'mx.example.test'
ENH = re.compile(r'^[245]\d\d[ -][245]\.\d{1,3}\.\d{1,3}( |$)')


class SmtpdProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(users={'alice': 'secret'},
                            conf={'myhostname': HOST, 'max_recipients': '3',
                                  'message_size_limit': '50000'})
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def session(self, ehlo=True):
        r = self.inst.raw()
        self.addCleanup(r.close)
        code, lines = r.reply()
        self.assertEqual(code, 220)
        if ehlo:
            self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        return r

    def expect(self, r, line, code, enh=None, text=None):
        c, lines = r.cmd(line)
        self.assertEqual(c, code, '%r -> %r' % (line, lines))
        self.assertRegex(lines[-1], ENH, 'no enhanced status code: %r' % lines)
        if enh:
            self.assertEqual(lines[-1].split()[1], enh, lines)
        if text:
            self.assertIn(text, lines[-1])
        return lines

    def test_greeting(self):
        r = self.inst.raw()
        self.addCleanup(r.close)
        code, lines = r.reply()
        self.assertEqual(lines, ['220 %s ESMTP pochta' % HOST])

    def test_ehlo_keywords(self):
        r = self.session(ehlo=False)
        code, lines = r.cmd('EHLO client.test')
        self.assertEqual(code, 250)
        self.assertEqual(lines[0], '250-' + HOST)
        for l in lines[:-1]:
            self.assertTrue(l.startswith('250-'), l)
        self.assertTrue(lines[-1].startswith('250 '))
        kw = [l[4:] for l in lines[1:]]
        self.assertEqual(sorted(kw), sorted(['PIPELINING', 'SIZE 50000', '8BITMIME',
                                             'ENHANCEDSTATUSCODES', 'SMTPUTF8', 'CHUNKING',
                                             'BINARYMIME', 'DSN', 'HELP'] + ['STARTTLS'] * TLS_BUILD))

    def test_helo(self):
        r = self.session(ehlo=False)
        self.assertEqual(r.cmd('HELO client.test'), (250, ['250 ' + HOST]))
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250, '2.1.0')

    def test_helo_needs_argument(self):
        r = self.session(ehlo=False)
        self.expect(r, 'HELO', 501, '5.5.4')
        self.expect(r, 'EHLO', 501, '5.5.4')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 503, '5.5.1')

    def test_mail_before_helo(self):
        r = self.session(ehlo=False)
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 503, '5.5.1')

    def test_rcpt_before_mail(self):
        r = self.session()
        self.expect(r, 'RCPT TO:<alice@example.test>', 503, '5.5.1')

    def test_data_without_mail_or_rcpt(self):
        r = self.session()
        self.expect(r, 'DATA', 503, '5.5.1')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250, '2.1.0')
        self.expect(r, 'DATA', 503, '5.5.1')
        self.expect(r, 'RCPT TO:<nobody@example.test>', 550, '5.1.1')
        self.expect(r, 'DATA', 503, '5.5.1')

    def test_mail_twice(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250, '2.1.0')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 503, '5.5.1')

    def test_rset_and_helo_reset_transaction(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RSET', 250, '2.0.0')
        self.expect(r, 'RCPT TO:<alice@example.test>', 503, '5.5.1')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.assertEqual(r.cmd('EHLO again.test')[0], 250)
        self.expect(r, 'RCPT TO:<alice@example.test>', 503, '5.5.1')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.assertEqual(r.cmd('HELO again.test')[0], 250)
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)

    def test_unknown_command(self):
        r = self.session()
        self.expect(r, 'FOOBAR baz', 500, '5.5.1')
        self.expect(r, 'NOOP', 250, '2.0.0')

    def test_syntax_errors(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:bob@remote.test', 501)
        self.expect(r, 'MAIL FROM:<bob@remote.test> FOO=bar', 555, '5.5.4')
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:alice@example.test', 501)
        self.expect(r, 'RCPT TO:<alice@example.test> FOO=bar', 555, '5.5.4')
        self.expect(r, 'RCPT TO:<alice@@example.test>', 501)
        self.expect(r, 'DATA x', 501)

    def test_null_sender_and_body(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<> BODY=8BITMIME SIZE=100', 250, '2.1.0')
        self.expect(r, 'RCPT TO:<alice@example.test>', 250, '2.1.5')

    def test_vrfy_never_reveals(self):
        r = self.session()
        a = self.expect(r, 'VRFY alice', 252, '2.0.0')
        b = self.expect(r, 'VRFY nobody-here', 252, '2.0.0')
        self.assertEqual(a, b)

    def test_expn_help_noop_quit(self):
        r = self.session()
        self.expect(r, 'EXPN staff', 502, '5.5.1')
        self.expect(r, 'HELP', 214, '2.0.0')
        self.expect(r, 'NOOP', 250, '2.0.0')
        self.expect(r, 'QUIT', 221, '2.0.0')
        self.assertTrue(r.closed(5))

    def test_line_too_long(self):
        r = self.session()
        # 999 octets + CRLF = 1001: one too many
        self.expect(r, 'NOOP ' + 'x' * 994, 500, '5.5.6', 'Line too long')
        # 998 + CRLF = 1000 is fine
        self.expect(r, 'NOOP ' + 'x' * 993, 250, '2.0.0')
        # a very long line is discarded whole: the session goes on
        self.expect(r, 'MAIL FROM:<' + 'a' * 100000 + '@x.test>', 500, '5.5.6')
        self.expect(r, 'NOOP', 250)

    def test_size_at_mail(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test> SIZE=50001', 552, '5.3.4')
        self.expect(r, 'MAIL FROM:<bob@remote.test> SIZE=50000', 250, '2.1.0')

    def test_max_recipients(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:<alice@example.test>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<Alice+a@example.test>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<postmaster@example.test>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<alice+b@example.test>', 452, '4.5.3')
        self.expect(r, 'RSET', 250)
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:<alice@example.test>', 250, '2.1.5')

    def test_unknown_local_user(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:<carol@example.test>', 550, '5.1.1')
        self.expect(r, 'RCPT TO:<carol+alice@example.test>', 550, '5.1.1')
        self.expect(r, 'RCPT TO:<"alice x"@example.test>', 550, '5.1.1')
        self.expect(r, 'RCPT TO:<Alice@EXAMPLE.TEST>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<"alice"@example.test>', 250, '2.1.5')

    def test_postmaster_always_accepted(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<>', 250)
        self.expect(r, 'RCPT TO:<postmaster@example.test>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<Postmaster>', 250, '2.1.5')
        self.expect(r, 'RCPT TO:<POSTMASTER@Example.Test>', 250, '2.1.5')
        self.expect(r, 'RSET', 250)
        self.expect(r, 'MAIL FROM:<>', 250)
        self.expect(r, 'RCPT TO:<somebody>', 501)

    def test_postmaster_delivered(self):
        with self.inst.smtp() as s:
            s.sendmail('bob@remote.test', ['Postmaster'],
                       b'Subject: to-postmaster-bare\r\n\r\nhello\r\n')
        msgs = self.inst.wait_mail('postmaster', 1)
        self.assertTrue(any(b'Subject: to-postmaster-bare' in m for m in msgs))

    def test_relay_denied(self):
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:<denied-only@remote.test>', 554, '5.7.1', 'Relay access denied')
        self.expect(r, 'RCPT TO:<alice@[127.0.0.1]>', 554, '5.7.1')
        self.expect(r, 'RCPT TO:<alice@sub.example.test>', 554, '5.7.1')
        self.expect(r, 'DATA', 503, '5.5.1')
        self.expect(r, 'QUIT', 221)
        time.sleep(0.3)
        # other tests' messages may be in flight: look for this one by its recipient
        qdir = os.path.join(self.inst.root, 'queue')
        for sub in ('incoming', 'mess', 'hold'):
            for n in os.listdir(os.path.join(qdir, sub)) if os.path.isdir(os.path.join(qdir, sub)) else []:
                try:
                    with open(os.path.join(qdir, sub, n), 'rb') as f:
                        self.assertNotIn(b'denied-only@remote.test', f.read())
                except FileNotFoundError:
                    pass  # delivered and removed meanwhile

    def test_relay_denied_mixed(self):
        """the relay recipient is refused; the local one still gets the message"""
        r = self.session()
        self.expect(r, 'MAIL FROM:<bob@remote.test>', 250)
        self.expect(r, 'RCPT TO:<someone@remote.test>', 554, '5.7.1')
        self.expect(r, 'RCPT TO:<alice@example.test>', 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: mixed-relay\r\n\r\nx\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        msgs = wait_until(lambda: [m for m in self.inst.mails('alice') if b'mixed-relay' in m],
                          15, 0.05, 'mixed-relay delivery')
        self.assertNotIn(b'someone@remote.test', msgs[0])

    def test_unimplemented_extensions(self):
        r = self.session()
        if not TLS_BUILD:
            self.expect(r, 'STARTTLS', 502, '5.5.1')
        self.expect(r, 'AUTH PLAIN AGFsaWNlAHNlY3JldA==', 502, '5.5.1')
        self.expect(r, 'NOOP', 250)


if __name__ == '__main__':
    unittest.main()
