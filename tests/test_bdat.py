"""CHUNKING and BINARYMIME (RFC 3030): BDAT chunks read by their exact size,
pipelined, never dot-unstuffed; a BODY=BINARYMIME message is kept as it came
and arrives byte-identical in the Maildir and at a peer that offers CHUNKING
and BINARYMIME (sent with BDAT); toward a peer without them it bounces with
5.6.3. The error cases of RFC 3030 §2 and §3."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))
from fakesmtp import FakeSMTP  # noqa: E402
from lifecycle_lib import make_a, with_token, Report  # noqa: E402
from pochta import InstanceTest, Raw, wait_until  # noqa: E402

HEAD = b'From: <alice@a.test>\r\nTo: <bob@example.test>\r\nSubject: binary %s\r\n' \
       b'MIME-Version: 1.0\r\nContent-Transfer-Encoding: binary\r\n\r\n'


def binary_msg(token):
    # every byte value, NULs, bare CR and LF, dot lines, a 5000-octet line;
    # it ends in a NUL and a bare CR, no LF: kept so in a Maildir (pochta-local(8))
    body = (bytes(range(256)) * 3 + b'\0\0\r\r\n\n.\r\n.\r\nQUIT\r\n' + b'x' * 5000 +
            b'\r\n.\n\r\r\n\0\r')
    return HEAD % token.encode() + body


def open_session(port, mail='MAIL FROM:<alice@a.test> BODY=BINARYMIME', rcpt='bob@example.test'):
    r = Raw(port)
    assert r.reply()[0] == 220
    code, lines = r.cmd('EHLO client.test')
    assert code == 250, lines
    assert r.cmd(mail)[0] == 250
    if rcpt:
        assert r.cmd('RCPT TO:<%s>' % rcpt)[0] == 250
    return r, lines


def chunks(msg, sizes):
    """the message cut into BDAT commands of these sizes (the rest in the last)"""
    out, pos = b'', 0
    for n in sizes:
        out += b'BDAT %d\r\n' % n + msg[pos:pos + n]
        pos += n
    return out + b'BDAT %d LAST\r\n' % (len(msg) - pos) + msg[pos:]


class Bdat(InstanceTest):
    def local(self, **kw):
        return self.instance(users={'bob': 'pw'}, **kw)

    def test_binary_byte_identical_in_maildir(self):
        inst = self.local()
        msg = binary_msg('tok1')
        r, ehlo = open_session(inst.smtp_port)
        self.addCleanup(r.close)
        self.assertIn('250-CHUNKING', ehlo)
        self.assertIn('250-BINARYMIME', ehlo)
        # every chunk pipelined at once: the sync check must let them through
        r.send(chunks(msg, [1, 200, 1000, 0]))
        for _ in range(4):
            code, lines = r.reply()
            self.assertEqual(code, 250, lines)
        code, lines = r.reply()
        self.assertEqual(code, 250, lines)
        self.assertIn('queued as', lines[0])
        m = inst.wait_mail('bob', 1)[0]
        # byte-identical to the end: no LF added after the last CR
        self.assertTrue(m.endswith(msg), m[-200:])
        # the lines added (Return-Path:, Delivered-To:, our Received:) keep
        # the message's CRLF
        self.assertTrue(m.startswith(b'Return-Path: <alice@a.test>\r\n'
                                     b'Delivered-To: bob@example.test\r\n'), m[:200])
        added = m[:m.index(b'From: <alice')]
        self.assertIn(b'Received:', added)
        self.assertNotIn(b'\n', added.replace(b'\r\n', b''))
        self.assertEqual(r.cmd('QUIT')[0], 221)

    def test_binary_through_alias(self):
        # an alias's Maildir target gets the message as BINARYMIME too
        inst = self.local()
        inst.write('etc/aliases', 'team: bob\n', mode=0o644)
        msg = binary_msg('tok5')
        r, _ = open_session(inst.smtp_port, rcpt='team@example.test')
        self.addCleanup(r.close)
        r.send(chunks(msg, [300]))
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 250)
        m = inst.wait_mail('bob', 1)[0]
        self.assertTrue(m.endswith(msg), m[-100:])
        self.assertTrue(m.startswith(b'Return-Path: <alice@a.test>\r\n'
                                     b'Delivered-To: bob@example.test\r\n'), m[:200])

    def test_text_bdat_not_unstuffed(self):
        inst = self.local()
        msg = b'Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n'
        r, _ = open_session(inst.smtp_port, mail='MAIL FROM:<alice@a.test>')
        self.addCleanup(r.close)
        r.send(chunks(msg, [20]))
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 250)
        m = inst.wait_mail('bob', 1)[0]
        # the queue's text form: LF line ends, every dot as sent
        self.assertTrue(m.endswith(msg.replace(b'\r\n', b'\n')), m)

    def test_errors(self):
        inst = self.local(conf={'message_size_limit': '10000'})
        r = Raw(inst.smtp_port)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        # no MAIL: 503, and the chunk (which looks like commands) is skipped
        r.send(b'BDAT 14\r\nQUIT\r\nRSET\r\n\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 503, lines)
        self.assertEqual(r.cmd('NOOP')[0], 250)
        # BODY=BINARYMIME then DATA: 503 5.5.1
        self.assertEqual(r.cmd('MAIL FROM:<alice@a.test> BODY=BINARYMIME')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<bob@example.test>')[0], 250)
        code, lines = r.cmd('DATA')
        self.assertEqual(code, 503, lines)
        self.assertIn('5.5.1', lines[0])
        # DATA after a BDAT of the same transaction: 503
        r.send(b'BDAT 3\r\nabc')
        self.assertEqual(r.reply()[0], 250)
        code, lines = r.cmd('DATA')
        self.assertEqual(code, 503, lines)
        self.assertEqual(r.cmd('RSET')[0], 250)
        # a text message with a bare LF: refused like DATA's
        self.assertEqual(r.cmd('MAIL FROM:<alice@a.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<bob@example.test>')[0], 250)
        r.send(b'BDAT 13 LAST\r\nSubject: x\n\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 550, lines)
        # over message_size_limit: 552 for the chunk, 503 for the rest
        self.assertEqual(r.cmd('MAIL FROM:<alice@a.test> BODY=BINARYMIME')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<bob@example.test>')[0], 250)
        r.send(b'BDAT 20000\r\n' + b'\0' * 20000 + b'BDAT 2 LAST\r\nok')
        code, lines = r.reply()
        self.assertEqual(code, 552, lines)
        code, lines = r.reply()
        self.assertEqual(code, 503, lines)
        self.assertEqual(r.cmd('NOOP')[0], 250)
        # a BDAT without a size: the rest cannot be read safely, so closed
        r.send(b'BDAT ten\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 501, lines)
        self.assertEqual(r.reply()[0], 421)
        self.assertTrue(r.closed())
        self.assertEqual(inst.mail_files('bob'), [])

    def relay(self, ehlo):
        srv = FakeSMTP(ehlo=ehlo).start()
        self.addCleanup(srv.stop)
        a = make_a(self, routes={'far.test': '[127.0.0.1]:%d' % srv.port})
        return srv, a

    def test_binary_relayed_with_bdat(self):
        srv, a = self.relay(('PIPELINING', '8BITMIME', 'CHUNKING', 'BINARYMIME'))
        msg = binary_msg('tok2')
        r, _ = open_session(a.smtp_port, rcpt='x@far.test')
        self.addCleanup(r.close)
        r.send(chunks(msg, [777]))
        self.assertEqual(r.reply()[0], 250)
        self.assertEqual(r.reply()[0], 250)
        wait_until(lambda: any(s.messages for s in srv.sessions), 15, 0.05, 'relayed message')
        s = [s for s in srv.sessions if s.messages][0]
        self.assertTrue(s.messages[0].endswith(msg), s.messages[0][-100:])
        mail = [c for c in s.commands if c.startswith('MAIL')][0]
        self.assertIn(' BODY=BINARYMIME', mail)
        self.assertFalse([c for c in s.commands if c == 'DATA'], s.commands)
        a.wait_queue_empty()

    def test_text_relayed_with_bdat(self):
        srv, a = self.relay(('PIPELINING', '8BITMIME', 'CHUNKING'))
        msg = b'Subject: tok3\r\n\r\n.dot\r\nline\r\n'
        r, _ = open_session(a.smtp_port, mail='MAIL FROM:<alice@a.test>', rcpt='x@far.test')
        self.addCleanup(r.close)
        r.send(chunks(msg, []))
        self.assertEqual(r.reply()[0], 250)
        wait_until(lambda: any(s.messages for s in srv.sessions), 15, 0.05, 'relayed message')
        s = [s for s in srv.sessions if s.messages][0]
        self.assertTrue(s.messages[0].endswith(msg), s.messages[0])
        self.assertTrue([c for c in s.commands if c.startswith('BDAT ') and c.endswith(' LAST')],
                        s.commands)

    def test_binary_bounced_without_binarymime(self):
        srv, a = self.relay(('PIPELINING', '8BITMIME'))
        r, _ = open_session(a.smtp_port, rcpt='x@far.test')
        self.addCleanup(r.close)
        r.send(chunks(binary_msg('tok4'), []))
        self.assertEqual(r.reply()[0], 250)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        blk = Report(raw).rcpt('x@far.test')
        self.assertEqual(blk['Status'], '5.6.3')
        for s in srv.sessions:
            self.assertEqual(s.messages, [])
        a.wait_queue_empty()
