"""DSN (RFC 3461): pochta-smtpd takes RET, ENVID, NOTIFY and ORCPT; pochta-qmgr's
notices follow them (RFC 3464 reports: NOTIFY=NEVER and NOTIFY without FAILURE
silence a bounce, RET=HDRS/FULL choose what is returned, ENVID and ORCPT are
echoed, NOTIFY=SUCCESS gets a success notice, NOTIFY=DELAY a delay notice);
pochta-remote passes them on to a peer that offers DSN and says "relayed"
otherwise. A is the sending instance, a fake SMTP server the peer."""
import re
import time
import unittest

from fakesmtp import fake_server
from lifecycle_lib import QID_RE, Report, make_a, token_msg, with_token
from pochta import InstanceTest, free_port, wait_until


def refuse_no(addr):
    return '550 5.1.1 <%s>: no such user' % addr if addr.startswith('no') else None


def dsn_send(inst, sender, rcpts, body, mail_opts=()):
    """rcpts: [(address, [RCPT parameters])]; returns the queue ID"""
    with inst.smtp() as s:
        s.ehlo('client.test')
        code, msg = s.mail(sender, list(mail_opts))
        assert code == 250, (code, msg)
        for r, opts in rcpts:
            code, msg = s.rcpt(r, list(opts))
            assert code == 250, (r, code, msg)
        code, msg = s.data(body)
        assert code == 250, (code, msg)
    return re.search(QID_RE, msg.decode()).group(0)


class DsnSmtpd(InstanceTest):
    def test_ehlo_and_parameters(self):
        a = make_a(self)
        with a.smtp() as s:
            code, text = s.ehlo('client.test')
            self.assertEqual(code, 250)
            self.assertIn(b'\nDSN', text)
            good = s.docmd('MAIL FROM:<alice@a.test> RET=HDRS ENVID=q+2Bx')
            self.assertEqual(good[0], 250, good)
            for line, want in (
                    ('RCPT TO:<alice@a.test> NOTIFY=NEVER,SUCCESS', b'5.5.4 Bad NOTIFY parameter'),
                    ('RCPT TO:<alice@a.test> NOTIFY=SOMETIMES', b'5.5.4 Bad NOTIFY parameter'),
                    ('RCPT TO:<alice@a.test> NOTIFY=DELAY NOTIFY=DELAY', b'5.5.4 Duplicate RCPT parameter'),
                    ('RCPT TO:<alice@a.test> ORCPT=x400;abc', b'5.5.4 Bad ORCPT parameter'),
                    ('RCPT TO:<alice@a.test> ORCPT=rfc822;a+0Db', b'5.5.4 Bad ORCPT parameter'),
                    ('RCPT TO:<alice@a.test> ORCPT=rfc822;' + 'o' * 494, b'5.5.4 Bad ORCPT parameter')):
                code, text = s.docmd(line)
                self.assertEqual((code, text), (501, want), line)
            self.assertEqual(s.docmd('RCPT TO:<alice@a.test> NOTIFY=SUCCESS,FAILURE '
                                     'ORCPT=rfc822;' + 'o' * 493)[0], 250)
            s.rset()
            for line, want in (
                    ('MAIL FROM:<alice@a.test> RET=NONE', b'5.5.4 Bad RET parameter'),
                    ('MAIL FROM:<alice@a.test> RET=FULL RET=HDRS', b'5.5.4 Duplicate MAIL parameter'),
                    ('MAIL FROM:<alice@a.test> ENVID=' + 'e' * 101, b'5.5.4 Bad ENVID parameter'),
                    ('MAIL FROM:<alice@a.test> ENVID=a+2', b'5.5.4 Bad ENVID parameter')):
                code, text = s.docmd(line)
                self.assertEqual((code, text), (501, want), line)
            self.assertEqual(s.docmd('MAIL FROM:<alice@a.test> ENVID=' + 'e' * 100)[0], 250)


class DsnNotices(InstanceTest):

    def sender(self, srv, **conf):
        return make_a(self, routes={'far.test': '[127.0.0.1]:%d' % srv.port}, **conf)

    def test_notify_never_and_without_failure_silence_the_bounce(self):
        srv = fake_server(self, rcpt=refuse_no)
        a = self.sender(srv)
        token, body = token_msg(to='no1@far.test')
        qid = dsn_send(a, 'alice@a.test', [('no1@far.test', ['NOTIFY=NEVER']),
                                           ('no2@far.test', ['NOTIFY=SUCCESS,DELAY']),
                                           ('no3@far.test', [])], body)
        raw = with_token(a, 'alice', 'Undelivered Mail')[0]
        r = Report(raw)
        self.assertEqual([b['Final-Recipient'] for b in r.rcpts], ['rfc822; no3@far.test'])
        a.wait_queue_empty()
        log = a.log()
        self.assertIn('%s to=<no1@far.test> no failure notice: NOTIFY=NEVER' % qid, log)
        self.assertIn('%s to=<no2@far.test> no failure notice: NOTIFY=without FAILURE' % qid, log)
        time.sleep(0.5)
        self.assertEqual(len(a.mails('alice')), 1)

    def test_notify_never_alone_no_bounce_at_all(self):
        srv = fake_server(self, rcpt=refuse_no)
        a = self.sender(srv)
        token, body = token_msg(to='no1@far.test')
        qid = dsn_send(a, 'alice@a.test', [('no1@far.test', ['NOTIFY=NEVER'])], body)
        wait_until(lambda: '%s removed' % qid in a.log(), 15, what='message removed')
        self.assertNotIn('bounce queued', a.log())
        self.assertEqual(a.mails('alice'), [])

    def test_ret_hdrs_and_full_envid_orcpt(self):
        srv = fake_server(self, rcpt=refuse_no)
        a = self.sender(srv)
        t1, body1 = token_msg(subject='hdrs', to='no1@far.test')
        dsn_send(a, 'alice@a.test', [('no1@far.test', ['ORCPT=rfc822;orig+2Bx@far.test'])], body1,
                 ['RET=HDRS', 'ENVID=env+2Bid+20one'])
        r = Report(with_token(a, 'alice', 'Subject: hdrs ' + t1)[0])
        self.assertEqual(r.orig.get_content_type(), 'text/rfc822-headers')
        self.assertIn('Subject: hdrs ' + t1, r.orig_text())
        self.assertNotIn('body ' + t1, r.orig_text())
        self.assertEqual(r.per_msg['Original-Envelope-Id'], 'env+id one')
        blk = r.rcpt('no1@far.test')
        self.assertEqual(blk['Original-Recipient'], 'rfc822; orig+x@far.test')
        self.assertEqual(blk['Action'], 'failed')
        t2, body2 = token_msg(subject='full', to='no2@far.test')
        dsn_send(a, 'alice@a.test', [('no2@far.test', [])], body2, ['RET=FULL'])
        r = Report(with_token(a, 'alice', 'Subject: full ' + t2)[0])
        self.assertEqual(r.orig.get_content_type(), 'message/rfc822')
        self.assertIn('body ' + t2, r.orig_text())
        self.assertIsNone(r.per_msg['Original-Envelope-Id'])
        self.assertIsNone(r.rcpt('no2@far.test')['Original-Recipient'])
        a.wait_queue_empty()

    def test_success_notice_on_local_delivery(self):
        a = make_a(self)
        token, body = token_msg(to='alice@a.test')
        qid = dsn_send(a, 'alice@a.test', [('alice@a.test', ['NOTIFY=SUCCESS', 'ORCPT=rfc822;Alice@a.test'])],
                       body, ['ENVID=e42'])
        mails = with_token(a, 'alice', token, n=2)
        notices = [m for m in mails if b'Successful Mail Delivery Report' in m]
        self.assertEqual(len(notices), 1)
        r = Report(notices[0])
        blk = r.rcpt('alice@a.test')
        self.assertEqual(blk['Action'], 'delivered')
        self.assertEqual(blk['Status'], '2.0.0')
        self.assertEqual(blk['Original-Recipient'], 'rfc822; Alice@a.test')
        self.assertEqual(r.per_msg['Original-Envelope-Id'], 'e42')
        self.assertEqual(r.orig.get_content_type(), 'text/rfc822-headers')
        a.wait_queue_empty()
        self.assertRegex(a.log(), r'%s success notice queued as %s to=<alice@a.test> nrcpt=1' % (qid, QID_RE))
        # without NOTIFY=SUCCESS: the message only
        t2, body2 = token_msg(to='alice@a.test')
        dsn_send(a, 'alice@a.test', [('alice@a.test', ['NOTIFY=FAILURE'])], body2)
        with_token(a, 'alice', t2)
        a.wait_queue_empty()
        time.sleep(0.5)
        self.assertEqual(len([m for m in a.mails('alice') if t2.encode() in m]), 1)

    def test_relay_to_a_peer_with_dsn_passes_the_parameters(self):
        srv = fake_server(self, ehlo=('PIPELINING', 'SIZE 10000000', '8BITMIME', 'DSN'))
        a = self.sender(srv)
        token, body = token_msg(to='bob@far.test')
        qid = dsn_send(a, 'alice@a.test',
                       [('bob@far.test', ['NOTIFY=SUCCESS,FAILURE', 'ORCPT=rfc822;bob+2B1@far.test']),
                        ('carol@far.test', [])], body, ['RET=HDRS', 'ENVID=id+2B7'])
        wait_until(lambda: sum(len(s.messages) for s in srv.sessions) == 1, 15, what='relayed')
        cmds = [c for s in srv.sessions for c in s.commands]
        self.assertIn('MAIL FROM:<alice@a.test> SIZE=0 RET=HDRS ENVID=id+2B7',
                      [re.sub(r'SIZE=\d+', 'SIZE=0', c) for c in cmds])
        self.assertIn('RCPT TO:<bob@far.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+2B1@far.test', cmds)
        self.assertIn('RCPT TO:<carol@far.test>', cmds)
        # the peer reports success now: no notice from us
        wait_until(lambda: '%s removed' % qid in a.log(), 15, what='message removed')
        self.assertNotIn('success notice', a.log())
        self.assertEqual(a.mails('alice'), [])

    def test_relay_to_a_peer_without_dsn_says_relayed(self):
        srv = fake_server(self)   # no DSN in its EHLO
        a = self.sender(srv)
        token, body = token_msg(to='bob@far.test')
        dsn_send(a, 'alice@a.test', [('bob@far.test', ['NOTIFY=SUCCESS'])], body,
                 ['RET=FULL', 'ENVID=x1'])
        raw = with_token(a, 'alice', 'Successful Mail Delivery Report')[0]
        cmds = [c for s in srv.sessions for c in s.commands]
        self.assertFalse([c for c in cmds if 'NOTIFY' in c or 'RET=' in c or 'ENVID' in c], cmds)
        r = Report(raw)
        self.assertEqual(r.rcpt('bob@far.test')['Action'], 'relayed')
        self.assertEqual(r.per_msg['Original-Envelope-Id'], 'x1')
        self.assertEqual(r.orig.get_content_type(), 'message/rfc822')  # RET=FULL
        self.assertIn('body ' + token, r.orig_text())
        a.wait_queue_empty()

    def test_delay_notice_only_for_those_who_asked(self):
        port = free_port()   # nothing listens: deferred
        a = make_a(self, routes={'far.test': '[127.0.0.1]:%d' % port}, delay_warning_time='1',
                   retry_max='1')
        token, body = token_msg(to='bob@far.test')
        qid = dsn_send(a, 'alice@a.test', [('bob@far.test', ['NOTIFY=FAILURE']),
                                           ('carol@far.test', ['NOTIFY=DELAY']),
                                           ('dave@far.test', [])], body)
        r = Report(with_token(a, 'alice', 'Delayed Mail')[0])
        self.assertEqual(sorted(b['Final-Recipient'] for b in r.rcpts),
                         ['rfc822; carol@far.test', 'rfc822; dave@far.test'])
        self.assertEqual(r.rcpt('carol@far.test')['Action'], 'delayed')
        a.ctl('queue', 'delete', qid)
        a.wait_queue_empty()


if __name__ == '__main__':
    unittest.main()
