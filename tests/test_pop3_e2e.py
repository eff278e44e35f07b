"""pochta-pop3d end to end: a message sent by SMTP is delivered to the Maildir
and retrieved by POP3 (poplib and, when installed, curl) with its body
byte-identical."""
import shutil
import subprocess
import unittest

from pochta import InstanceTest

BODY = (b'first line\r\n'
        b'.leading dot\r\n'
        b'..two dots\r\n'
        b'.\r\n'
        b'\r\n'
        b'caf\xc3\xa9 8-bit \xff\xfe\r\n'
        b'trailing spaces   \r\n'
        + b'x' * 900 + b'\r\n'
        b'last line\r\n')
MSG = (b'From: <sender@example.org>\r\n'
       b'To: <alice@example.test>\r\n'
       b'Subject: pop3 end to end\r\n'
       b'Message-ID: <e2e@example.org>\r\n'
       b'\r\n' + BODY)


class TestPop3EndToEnd(InstanceTest):
    def setUp(self):
        self.inst = self.instance(users={'alice': 'secret'})
        self.inst.wait_listening(self.inst.pop3_port)
        with self.inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test'], MSG)
        self.stored = self.inst.wait_mail('alice', 1)[0]

    def test_smtp_then_retr(self):
        c = self.inst.pop3()
        c.user('alice')
        c.pass_('secret')
        count, total = c.stat()
        self.assertEqual(count, 1)
        resp, lines, _ = c.retr(1)
        got = b''.join(l + b'\r\n' for l in lines)
        # the exact octet count announced, and the stored file with CRLF line ends
        self.assertEqual(total, len(got))
        self.assertEqual(int(resp.split()[1]), len(got))
        self.assertEqual(got.replace(b'\r\n', b'\n'), self.stored)
        # the sender's headers and body arrive unchanged after the added trace headers
        self.assertTrue(got.endswith(MSG), got[-300:])
        head, body = got.split(b'\r\n\r\n', 1)
        self.assertEqual(body, BODY)
        self.assertIn(b'Delivered-To:', head)
        uid = c.uidl(1).split()[2]
        c.quit()
        # a second session sees the same message with the same UIDL, now in cur/
        c = self.inst.pop3()
        c.user('alice')
        c.pass_('secret')
        self.assertEqual(c.uidl(1).split()[2], uid)
        self.assertTrue(c.dele(1).startswith(b'+OK'))
        c.quit()
        self.assertEqual(self.inst.mail_files('alice'), [])

    @unittest.skipUnless(shutil.which('curl'), 'curl is not installed')
    def test_curl_retrieval(self):
        url = 'pop3://alice:secret@127.0.0.1:%d/' % self.inst.pop3_port
        p = subprocess.run(['curl', '-sS', '--max-time', '20', url + '1'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.replace(b'\r\n', b'\n'), self.stored)
        self.assertTrue(p.stdout.endswith(MSG))
        # the listing (LIST) shows the same exact size
        p = subprocess.run(['curl', '-sS', '--max-time', '20', url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), [b'1', str(len(self.stored) + self.stored.count(b'\n')).encode()])


if __name__ == '__main__':
    unittest.main()
