"""pochta-smtpd DATA: dot-stuffing, SMTP smuggling (bare CR/LF never ends or
splits a message), NUL bytes and lines over 998 octets refused, pipelining and
protocol synchronization (no content before the 354), a client dropping
mid-DATA, mail loops, the trace headers, and an end-to-end byte-for-byte check."""
import os
import re
import time
import unittest

from pochta import Instance, InstanceTest, tmp_files, wait_until

HOST = 'mx.example.test'
QID = re.compile(r'queued as ([0-9A-V]{24})\b')
BARE = '550 5.6.0 Message contains bare CR or LF'
NUL = '550 5.6.0 Message contains NUL characters'
LONG = '550 5.6.0 Message contains a line longer than 998 octets'
SYNC = '554 5.5.0 Error: SMTP protocol synchronization error (input sent before the reply to %s)'


def split_message(m):
    """(the header lines delivery and pochta-smtpd prepended, the rest): at most one
    each of Return-Path:, Delivered-To: and our Received: (with its continuations)"""
    lines = m.split(b'\n')
    names = {b'Return-Path:', b'Delivered-To:', b'Received: from '}
    i = 0
    while i < len(lines):
        hit = [n for n in names if lines[i].startswith(n)]
        if not hit:
            break
        names.discard(hit[0])
        i += 1
        while i < len(lines) and lines[i].startswith(b'\t'):
            i += 1
    return lines[:i], b'\n'.join(lines[i:])


class SmtpdData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(users={'alice': 'secret', 'bob': 'secret'},
                            conf={'myhostname': HOST})
        try:
            cls.inst.start()
        except Exception:
            cls.inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def session(self):
        r = self.inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        return r

    def start_data(self, rcpt='alice@example.test'):
        r = self.session()
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<%s>' % rcpt)[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        return r

    def mail_with(self, user, token, n=1, timeout=15):
        return wait_until(lambda: (lambda l: l if len(l) >= n else None)(
            [m for m in self.inst.mails(user) if token in m]), timeout, 0.05,
            'message %r for %s' % (token, user))

    def barrier(self, user='alice'):
        """send a marker message and wait for it: earlier mail has had its chance"""
        token = 'barrier-%f' % time.time()
        with self.inst.smtp() as s:
            s.sendmail('sender@remote.test', ['%s@example.test' % user],
                       ('Subject: %s\r\n\r\nmarker\r\n' % token).encode())
        self.mail_with(user, token.encode())
        time.sleep(0.3)

    def test_dot_stuffing(self):
        r = self.start_data()
        r.send('Subject: dots-1\r\n\r\n..one\r\n...two\r\n.three\r\nfour.\r\n..\r\n \r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        m = self.mail_with('alice', b'Subject: dots-1')[0]
        self.assertTrue(m.endswith(b'Subject: dots-1\n\n.one\n..two\nthree\nfour.\n.\n \n'), m)

    def assert_nothing_kept(self, tag):
        """no message holding tag was delivered or is in the queue"""
        self.barrier()
        for m in self.inst.mails('alice'):
            self.assertNotIn(tag.encode(), m)
        for q in self.inst.queue_files():
            for sub in ('incoming', 'mess'):
                p = os.path.join(self.inst.root, 'queue', sub, q)
                try:
                    with open(p, 'rb') as f:
                        self.assertNotIn(tag.encode(), f.read())
                except FileNotFoundError:
                    pass  # not there, or delivered and removed meanwhile

    def smuggle(self, form, tag, refusal=BARE):
        r = self.start_data()
        r.send(b'Subject: ' + tag.encode() + b'-first\r\n\r\nfirst part' + form +
               b'MAIL FROM:<evil@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n'
               b'Subject: ' + tag.encode() + b'-smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n')
        code, lines = r.reply()
        # the only reply to all of that: the message is refused as a whole
        self.assertEqual(code, 550, lines)
        self.assertTrue(lines[0].startswith(refusal), lines)
        self.assertEqual(r.reply()[0], 221)
        self.assertTrue(r.closed(5))
        self.assert_nothing_kept(tag)

    def test_smuggling_lf_dot_lf(self):
        self.smuggle(b'\n.\n', 'smug-a')

    def test_smuggling_cr_dot_crlf(self):
        self.smuggle(b'\r.\r\n', 'smug-b')

    def test_smuggling_lf_dot_crlf(self):
        self.smuggle(b'\n.\r\n', 'smug-c')

    def test_smuggling_crlf_dot_cr(self):
        self.smuggle(b'\r\n.\r', 'smug-d')

    def test_smuggling_crlf_nul_dot_crlf(self):
        self.smuggle(b'\r\n\x00.\r\n', 'smug-e', NUL)

    def test_smuggling_crlf_dot_nul_crlf(self):
        self.smuggle(b'\r\n.\x00\r\n', 'smug-f', NUL)

    def test_nul_in_body(self):
        r = self.start_data()
        r.send(b'Subject: nul-1\r\n\r\nbefore\x00after\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 550, lines)
        self.assertEqual(lines, [NUL + ' (see RFC 5322 section 2.1)'])
        # the session goes on: the data was read to its end, nothing taken for a command
        self.assertEqual(r.cmd('NOOP')[0], 250)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        self.assert_nothing_kept('nul-1')
        self.assertRegex(self.inst.log(), r'\]: [0-9A-V]{24} reject: END-OF-MESSAGE from 127\.0\.0\.1: '
                         r'550 5\.6\.0 Message contains NUL characters .*; reason=content ')

    def test_long_line_refused(self):
        r = self.start_data()
        # 999 octets of text: one too many, even when stuffed (the dot does not count)
        r.send('Subject: long-1\r\n\r\nshort\r\n..' + 'x' * 998 + '\r\nshort\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 550, lines)
        self.assertEqual(lines, [LONG + ' (see RFC 5321 section 4.5.3.1.6)'])
        self.assertRegex(self.inst.log(), r'reject: END-OF-MESSAGE from 127\.0\.0\.1: 550 5\.6\.0 '
                         r'Message contains a line longer than 998 octets .*; reason=content ')
        # in the header section too
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: long-2 ' + 'h' * 990 + '\r\n\r\nbody\r\n.\r\n')
        self.assertEqual(r.reply()[0], 550)
        # 998 octets, the most RFC 5321 allows, stuffed or not: accepted as they are
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: long-998\r\n\r\n' + 'y' * 998 + '\r\n..' + 'z' * 997 + '\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        m = self.mail_with('alice', b'Subject: long-998')[0]
        self.assertTrue(m.endswith(b'\n' + b'y' * 998 + b'\n.' + b'z' * 997 + b'\n'), m[-100:])
        self.assert_nothing_kept('long-1')
        self.assert_nothing_kept('long-2')

    def test_bare_lf_in_body(self):
        r = self.start_data()
        r.send('Subject: bare-lf\r\n\r\nline one\nline two\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 550, lines)
        self.assertIn('5.6.0', lines[0])
        self.assertEqual(r.cmd('NOOP')[0], 250)

    def test_pipelined_transactions(self):
        """RFC 2920: MAIL, RCPTs and DATA in one write; the content only after the
        354, and it may start the next group (RSET ... DATA, or NOOP)"""
        r = self.session()
        r.send('MAIL FROM:<sender@remote.test>\r\n'
               'RCPT TO:<alice@example.test>\r\n'
               'RCPT TO:<nobody@example.test>\r\n'
               'RCPT TO:<bob@example.test>\r\n'
               'DATA\r\n')
        got = [r.reply() for _ in range(5)]
        self.assertEqual([c for c, _ in got], [250, 250, 550, 250, 354], got)
        r.send('Subject: piped-1\r\n\r\nfirst\r\n.\r\n'
               'RSET\r\n'
               'MAIL FROM:<> SIZE=20\r\n'
               'RCPT TO:<bob@example.test>\r\n'
               'DATA\r\n')
        got = [r.reply() for _ in range(5)]
        self.assertEqual([c for c, _ in got], [250, 250, 250, 250, 354], got)
        self.assertRegex(got[0][1][0], QID)
        r.send('Subject: piped-2\r\n\r\nsecond\r\n.\r\nNOOP\r\n')
        got = [r.reply() for _ in range(2)]
        self.assertEqual([c for c, _ in got], [250, 250], got)
        self.assertRegex(got[0][1][0], QID)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        self.assertTrue(r.closed(5))
        self.mail_with('alice', b'Subject: piped-1')
        self.mail_with('bob', b'Subject: piped-1')
        self.mail_with('bob', b'Subject: piped-2')

    def test_content_before_354_refused(self):
        """a whole transaction in one write (smtpsmug's 'pipelining' check): the
        content came before the 354, so the session ends and nothing is queued"""
        r = self.session()
        r.send('MAIL FROM:<sender@remote.test>\r\n'
               'RCPT TO:<alice@example.test>\r\n'
               'DATA\r\n'
               'Subject: sync-1\r\n\r\nnot waited for\r\n.\r\n'
               'QUIT\r\n')
        got = [r.reply() for _ in range(3)]
        self.assertEqual([c for c, _ in got], [250, 250, 554], got)
        self.assertEqual(got[2][1], [SYNC % 'DATA'])
        self.assertTrue(r.closed(5))
        self.assertIn('improper pipelining after DATA from 127.0.0.1: Subject: sync-1??', self.inst.log())
        self.assertRegex(self.inst.log(), r'NOQUEUE: reject: DATA from 127\.0\.0\.1: 554 5\.5\.0 .*; reason=pipelining ')
        self.assertIn('reason=protocol synchronization error', self.inst.log())
        self.assert_nothing_kept('sync-1')

    def test_commands_after_ehlo_refused(self):
        for verb in ('EHLO', 'HELO', 'NOOP'):
            r = self.inst.raw()
            self.addCleanup(r.close)
            self.assertEqual(r.reply()[0], 220)
            if verb == 'NOOP':
                self.assertEqual(r.cmd('EHLO client.test')[0], 250)
            r.send(verb + ' client.test\r\nMAIL FROM:<sender@remote.test>\r\n')
            code, lines = r.reply()
            self.assertEqual(lines, [SYNC % verb])
            self.assertTrue(r.closed(5))

    def test_client_drops_mid_data(self):
        r = self.start_data()
        r.send('Subject: dropped-mid\r\n\r\n' + 'half a message\r\n' * 500)
        time.sleep(0.2)
        r.close()
        wait_until(lambda: not tmp_files(self.inst), 10, 0.05, 'queue tmp/ empty')
        self.barrier()
        self.assertFalse([m for m in self.inst.mails('alice') if b'dropped-mid' in m])

    def test_too_many_received(self):
        r = self.start_data()
        hdrs = ''.join('Received: from hop%d.test by x; Mon, 1 Jan 2024 00:00:00 +0000\r\n' % i
                       for i in range(101))
        r.send(hdrs + 'Subject: loop-101\r\n\r\nloop\r\n.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 554, lines)
        self.assertTrue(lines[0].startswith('554 5.4.6 Too many Received headers'), lines)
        # 100 is still fine, and Received: lines in the body do not count
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send(hdrs.split('\r\n', 1)[1] + 'Subject: loop-100\r\n\r\n' + hdrs + '.\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.mail_with('alice', b'Subject: loop-100')
        self.barrier()
        self.assertFalse([m for m in self.inst.mails('alice') if b'loop-101' in m])

    def test_queue_id_and_trace_headers(self):
        with self.inst.smtp() as s:
            s.ehlo('client.test')
            s.mail('sender@remote.test')
            self.assertEqual(s.rcpt('alice+tag@example.test')[0], 250)
            code, resp = s.data(b'Subject: trace-1\r\n\r\nhello\r\n')
        self.assertEqual(code, 250)
        resp = resp.decode()
        self.assertTrue(resp.startswith('2.0.0 Ok: queued as '), resp)
        qid = QID.search(resp).group(1)
        m = self.mail_with('alice', b'Subject: trace-1')[0]
        added, rest = split_message(m)
        text = b'\n'.join(added).decode()
        self.assertIn('Return-Path: <sender@remote.test>', text)
        self.assertIn('Delivered-To: ', text)
        self.assertRegex(text, r'Received: from client\.test \(\[127\.0\.0\.1\]\)\n'
                               r'\tby %s \(pochta\) with ESMTP id %s\n'
                               r'\tfor <alice\+tag@example\.test>; '
                               r'\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}'
                         % (re.escape(HOST), qid))
        self.assertEqual(rest, b'Subject: trace-1\n\nhello\n')

    def test_received_without_for_when_several_rcpts(self):
        with self.inst.smtp() as s:
            s.helo('old.test')
            s.sendmail('sender@remote.test', ['alice@example.test', 'bob@example.test'],
                       b'Subject: trace-2\r\n\r\nhello\r\n')
        m = self.mail_with('bob', b'Subject: trace-2')[0]
        added, rest = split_message(m)
        text = b'\n'.join(added).decode()
        self.assertRegex(text, r'Received: from old\.test \(\[127\.0\.0\.1\]\)\n'
                               r'\tby %s \(pochta\) with SMTP id [0-9A-V]{24}; ' % re.escape(HOST))
        self.assertNotIn('for <', text)

    def test_duplicate_recipients_delivered_once(self):
        token = b'dup-%f' % time.time()
        with self.inst.smtp() as s:
            s.sendmail('sender@remote.test',
                       ['bob@example.test', 'bob@EXAMPLE.test', 'Postmaster', 'postmaster@example.test'],
                       b'Subject: ' + token + b'\r\n\r\nonce\r\n')
        self.mail_with('bob', token)
        self.mail_with('postmaster', token)
        self.barrier('bob')
        self.barrier('postmaster')
        self.assertEqual(len([m for m in self.inst.mails('bob') if token in m]), 1)
        self.assertEqual(len([m for m in self.inst.mails('postmaster') if token in m]), 1)

    def test_end_to_end_bytes(self):
        body = (b'From: Alice <alice@example.test>\r\n'
                b'To: bob@example.test\r\n'
                b'Subject: e2e-bytes\r\n'
                b'Message-ID: <e2e-bytes@client.test>\r\n'
                b'Content-Type: text/plain; charset=utf-8\r\n'
                b'Content-Transfer-Encoding: 8bit\r\n'
                b'\r\n'
                b'Hello \xd0\xbf\xd0\xbe\xd1\x87\xd1\x82\xd0\xb0\r\n'
                b'.leading dot\r\n'
                b'..two dots\r\n'
                b'.\r\n'
                b'\r\n'
                b'trailing spaces   \r\n'
                b'\ttab\r\n'
                + b'L' * 998 + b'\r\n'
                + b''.join(b'line %d\r\n' % i for i in range(3000))
                + b'last line\r\n')
        with self.inst.smtp() as s:
            s.sendmail('alice@example.test', ['bob@example.test'], body,
                       mail_options=['BODY=8BITMIME'])
        m = self.mail_with('bob', b'Subject: e2e-bytes')[0]
        added, rest = split_message(m)
        self.assertEqual(rest, body.replace(b'\r\n', b'\n'))
        self.assertEqual([l.split(b':')[0] for l in added if not l.startswith(b'\t')],
                         [b'Return-Path', b'Delivered-To', b'Received'])


class SmtpdDataKeys(InstanceTest):
    """the keys that turn the DATA refusals off"""

    def test_long_lines_allowed(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_allow_long_lines': '1'})
        body = b'Subject: long-ok\r\n\r\n' + b'L' * 5000 + b'\r\n..' + b'M' * 999 + b'\r\n'
        with inst.smtp() as s:
            s.sendmail('sender@remote.test', ['alice@example.test'], body)
        m = inst.wait_mail('alice', 1)[0]
        self.assertTrue(m.endswith(b'\n\n' + b'L' * 5000 + b'\n..' + b'M' * 999 + b'\n'), m[-80:])

    def test_pipelining_check_off(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_forbid_unauth_pipelining': '0'})
        r = inst.raw()
        self.addCleanup(r.close)
        r.send('EHLO client.test\r\n'
               'MAIL FROM:<sender@remote.test>\r\n'
               'RCPT TO:<alice@example.test>\r\n'
               'DATA\r\n'
               'Subject: unsynced\r\n\r\nsent at once\r\n.\r\n'
               'QUIT\r\n')
        want = [220, 250, 250, 250, 354, 250, 221]
        got = [r.reply() for _ in want]
        self.assertEqual([c for c, _ in got], want, got)
        self.assertTrue(r.closed(5))
        self.assertIn(b'Subject: unsynced', inst.wait_mail('alice', 1)[0])


if __name__ == '__main__':
    unittest.main()
