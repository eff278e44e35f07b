"""SMTPUTF8 (RFC 6531/6532) end to end: pochta-smtpd offers it, takes UTF-8
addresses only with MAIL ... SMTPUTF8, delivers to a mailbox whose name is
UTF-8, and pochta-remote relays such a message only to a peer that offers
SMTPUTF8 (MAIL ... SMTPUTF8); toward one that does not, the recipient
bounces with 5.6.7, nothing downgraded."""
import poplib
import smtplib
import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))
from fakesmtp import FakeSMTP  # noqa: E402
from lifecycle_lib import make_a, with_token, Report  # noqa: E402
from pochta import InstanceTest, Raw, wait_until  # noqa: E402

USER = 'jürgen'
MSG = ('From: Jürgen <jürgen@example.test>\r\nTo: <jürgen@example.test>\r\n'
       'Subject: grüße %s\r\n\r\nhallo\r\n')


def utf8_send(port, sender, rcpts, body):
    with smtplib.SMTP('127.0.0.1', port, timeout=10) as s:
        s.ehlo('client.test')
        assert s.has_extn('smtputf8'), s.esmtp_features
        return s.sendmail(sender, rcpts, body.encode(), mail_options=['SMTPUTF8'])


class SmtpUtf8(InstanceTest):
    def test_utf8_local_part_delivered(self):
        inst = self.instance(users={USER: 'pw', 'alice': 'pw'})
        utf8_send(inst.smtp_port, 'алиса@example.test', ['%s@example.test' % USER],
                  MSG % 'tok1')
        m = inst.wait_mail(USER, 1)[0]
        self.assertTrue(os.path.isdir(os.path.join(inst.root, 'mail', USER)))
        self.assertIn('Return-Path: <алиса@example.test>'.encode(), m)
        self.assertIn('Delivered-To: jürgen@example.test'.encode(), m)
        self.assertIn('Subject: grüße tok1'.encode(), m)   # RFC 6532 header kept
        self.assertIn(b'with UTF8SMTP', m)
        # the ASCII part of the name is matched without regard to case
        utf8_send(inst.smtp_port, 'alice@example.test', ['JÜRGEN@example.test'.replace('Ü', 'ü')],
                  MSG % 'tok2')
        inst.wait_mail(USER, 2)
        # and the user logs in over POP3 with that name
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=10)
        try:
            p.user(USER)
            p.pass_('pw')
            self.assertEqual(p.stat()[0], 2)
        finally:
            p.quit()

    def test_refused_without_smtputf8(self):
        inst = self.instance(users={USER: 'pw'})
        r = Raw(inst.smtp_port)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        code, lines = r.cmd('EHLO client.test')
        self.assertIn('250-SMTPUTF8', lines)
        r.send('MAIL FROM:<jürgen@example.test>\r\n'.encode())
        code, lines = r.reply()
        self.assertEqual(code, 553, lines)
        self.assertIn('5.6.7', lines[0])
        self.assertEqual(r.cmd('MAIL FROM:<alice@example.test>')[0], 250)
        r.send('RCPT TO:<jürgen@example.test>\r\n'.encode())
        code, lines = r.reply()
        self.assertEqual(code, 553, lines)
        self.assertIn('5.6.7', lines[0])
        self.assertEqual(r.cmd('RSET')[0], 250)
        # with SMTPUTF8: accepted; bytes that are not UTF-8 still refused
        r.send('MAIL FROM:<jürgen@example.test> SMTPUTF8\r\n'.encode())
        self.assertEqual(r.reply()[0], 250)
        r.send(b'RCPT TO:<j\xfcrgen@example.test>\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 553, lines)
        self.assertIn('not valid UTF-8', lines[0])
        r.send('RCPT TO:<jürgen@example.test>\r\n'.encode())
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(inst.queue_files(), [])

    def relay(self, ehlo):
        srv = FakeSMTP(ehlo=ehlo).start()
        self.addCleanup(srv.stop)
        a = make_a(self, routes={'far.test': '[127.0.0.1]:%d' % srv.port})
        return srv, a

    def test_relayed_to_smtputf8_peer(self):
        srv, a = self.relay(('PIPELINING', '8BITMIME', 'SMTPUTF8'))
        utf8_send(a.smtp_port, 'alice@a.test', ['δοκιμή@far.test'], MSG % 'tok3')
        wait_until(lambda: any(s.messages for s in srv.sessions), 15, 0.05, 'relayed message')
        s = [s for s in srv.sessions if s.messages][0]
        cmds = [c.encode('latin-1').decode('utf-8') for c in s.commands]
        mail = [c for c in cmds if c.startswith('MAIL')][0]
        self.assertTrue(mail.endswith(' SMTPUTF8'), mail)
        self.assertIn('RCPT TO:<δοκιμή@far.test>', cmds)
        self.assertIn('Subject: grüße tok3'.encode(), s.messages[0])
        a.wait_queue_empty()

    def test_bounced_by_peer_without_smtputf8(self):
        srv, a = self.relay(('PIPELINING', '8BITMIME'))
        utf8_send(a.smtp_port, 'alice@a.test', ['δοκιμή@far.test'], MSG % 'tok4')
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        r = Report(raw)
        self.assertEqual(len(r.rcpts), 1)
        blk = r.rcpts[0]   # its non-ASCII address is the DSN code's to write (RFC 6533)
        self.assertEqual(blk['Status'], '5.6.7')
        self.assertIn('SMTPUTF8', blk['Diagnostic-Code'])
        # never sent there in any form
        for s in srv.sessions:
            self.assertEqual(s.messages, [])
            self.assertFalse([c for c in s.commands if c.startswith(('MAIL', 'RCPT'))], s.commands)
        a.wait_queue_empty()
