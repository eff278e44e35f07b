"""pochta-remote against fake SMTP servers: the SMTP client's behaviour
(per-recipient results, PIPELINING, SIZE, 8BITMIME, replies out of step,
timeouts, routing by etc/routes and relayhost)."""
import os
import socket
import tempfile
import time
import threading
import unittest

from pochta import InstanceTest, prog, free_port
from fakesmtp import FakeSMTP, run_remote
from dnsmasq import Dnsmasq, find as find_dnsmasq

REMOTE = prog('pochta-remote')
MSG = b'Subject: step\n\nthe content\n'
PIPE = ('PIPELINING', 'SIZE 10000000', '8BITMIME')
LOCKSTEP = ('SIZE 10000000', '8BITMIME')


class RemoteSMTP(InstanceTest):
    def sender_instance(self, **conf):
        c = {'myhostname': 'a.test', 'remote_timeout': '5', 'remote_connect_timeout': '2'}
        c.update(conf)
        return self.instance(start=False, domain='a.test', pop3=False, conf=c)

    def fake(self, **kw):
        srv = FakeSMTP(**kw).start()
        self.addCleanup(srv.stop)
        return srv

    def route(self, a, port, domain='b.test', host='[127.0.0.1]'):
        a.write('etc/routes', '# test route\n%s %s:%d\n' % (domain, host, port))

    def remote(self, a, rcpts, domain='b.test', **kw):
        return run_remote(REMOTE, a.root, domain, rcpts, run_as=a.as_owner(), **kw)

    # ---- results per recipient ----

    def test_delivered_and_rejected_recipient(self):
        srv = self.fake(rcpt=lambda a: '550 5.1.1 <%s>: user unknown' % a if a.startswith('nobody') else None)
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'nobody@b.test', 'carol@b.test'], qid='0QIDABC')
        self.assertEqual(r.rc, 0, r.log)
        self.assertEqual(r.results[0][:2], ('D', '2.0.0'))
        self.assertIn('250 2.0.0 queued as FAKE', r.text(0))
        self.assertEqual(r.results[1][:2], ('P', '5.1.1'))
        self.assertEqual(r.text(1), 'smtp; 550 5.1.1 <nobody@b.test>: user unknown')
        self.assertEqual(r.cls(2), 'D')
        s = srv.sessions[0]
        self.assertEqual(s.commands[0], 'EHLO a.test')
        self.assertTrue(s.commands[1].startswith('MAIL FROM:<alice@a.test> SIZE='), s.commands)
        self.assertEqual(s.commands[-1], 'QUIT')
        self.assertEqual(len(s.messages), 1)
        # the log line: QID to=<rcpt> relay=host[ip]:port status=... dsn=... reply="..."
        self.assertIn('0QIDABC to=<bob@b.test> relay=127.0.0.1[127.0.0.1]:%d status=sent dsn=2.0.0 reply="smtp; 250'
                      % srv.port, r.log)
        self.assertIn('to=<nobody@b.test> relay=127.0.0.1[127.0.0.1]:%d status=bounced dsn=5.1.1' % srv.port, r.log)

    def test_temporary_rcpt_failure(self):
        srv = self.fake(rcpt=lambda a: '450 4.2.0 mailbox busy' if a.startswith('busy') else None)
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['busy@b.test', 'bob@b.test'])
        self.assertEqual(r.results[0], ('T', '4.2.0', 'smtp; 450 4.2.0 mailbox busy'))
        self.assertEqual(r.cls(1), 'D')
        self.assertIn('status=deferred dsn=4.2.0', r.log)

    def test_message_crlf_and_dot_stuffing(self):
        srv = self.fake()
        a = self.sender_instance()
        self.route(a, srv.port)
        msg = b'Subject: dots\n\n.\n..two\n.leading\nmiddle.\nlast line without LF'
        r = self.remote(a, ['bob@b.test'], msg=msg)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertEqual(srv.sessions[0].messages[0],
                         b'Subject: dots\r\n\r\n..\r\n...two\r\n..leading\r\nmiddle.\r\nlast line without LF\r\n')
        # SIZE= is the size with CRLF line ends
        wire = len(msg) + msg.count(b'\n') + 2
        self.assertIn('SIZE=%d' % wire, srv.sessions[0].commands[1])

    def test_null_sender(self):
        srv = self.fake()
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'], sender='')
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertTrue(srv.sessions[0].commands[1].startswith('MAIL FROM:<> '), srv.sessions[0].commands)

    def test_message_from_file_offset(self):
        """stdin may be the queue file positioned at the message start"""
        srv = self.fake()
        a = self.sender_instance()
        self.route(a, srv.port)
        with tempfile.TemporaryFile() as f:
            f.write(b'ENVELOPE RECORDS\nSubject: file\n\nbody from file\n')
            f.seek(len(b'ENVELOPE RECORDS\n'))
            r = self.remote(a, ['bob@b.test'], stdin=f)
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertEqual(srv.sessions[0].messages[0], b'Subject: file\r\n\r\nbody from file\r\n')

    def test_multiline_reply_text(self):
        srv = self.fake(rcpt=lambda a: '550 5.7.1 first line\n550 5.7.1 second line')
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.results[0], ('P', '5.7.1', 'smtp; 550 5.7.1 first line second line'))

    def test_mail_from_rejected(self):
        srv = self.fake(mail=lambda c: '553 5.7.1 sender rejected')
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'])
        for i in (0, 1):
            self.assertEqual(r.results[i], ('P', '5.7.1', 'smtp; 553 5.7.1 sender rejected'))

    def test_mail_from_temporary(self):
        srv = self.fake(mail=lambda c: '451 4.3.0 try later', ehlo=('SIZE 1000000',))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.results[0], ('T', '4.3.0', 'smtp; 451 4.3.0 try later'))
        self.assertFalse(any(c.startswith('RCPT') for c in srv.sessions[0].commands))

    def test_data_final_reply(self):
        for final, cls, status in (('554 5.6.0 content rejected', 'P', '5.6.0'),
                                   ('451 4.3.0 queue full', 'T', '4.3.0'),
                                   ('250 ok', 'D', '2.0.0')):
            srv = self.fake(final=final, rcpt=lambda a: '550 no' if a.startswith('x') else None)
            a = self.sender_instance()
            self.route(a, srv.port)
            r = self.remote(a, ['bob@b.test', 'x@b.test'])
            self.assertEqual(r.results[0][:2], (cls, status), final)
            self.assertEqual(r.results[0][2], 'smtp; ' + final)
            self.assertEqual(r.results[1][:2], ('P', '5.0.0'))   # its own RCPT reply stands

    def test_421_at_rcpt(self):
        srv = self.fake(rcpt=lambda a: '421 4.3.2 shutting down' if a.startswith('carol') else None)
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'])
        for i in (0, 1):
            self.assertEqual(r.results[i], ('T', '4.3.2', 'smtp; 421 4.3.2 shutting down'))
        self.assertNotIn('QUIT', srv.sessions[0].commands)

    # ---- greeting, EHLO/HELO ----

    def test_greeting_4xx_and_5xx(self):
        for greet, status in (('421 4.3.2 busy', '4.3.2'), ('554 5.7.1 go away', '4.7.1')):
            srv = self.fake(greeting=greet)
            a = self.sender_instance()
            self.route(a, srv.port)
            r = self.remote(a, ['bob@b.test'])
            # one host only: it failed, so the recipient is deferred with its reply
            self.assertEqual(r.results[0], ('T', status, 'smtp; ' + greet))
            self.assertFalse(any(c.startswith('MAIL') for c in srv.sessions[0].commands))

    def test_helo_fallback(self):
        srv = self.fake(ehlo=None)
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'D', r.log)
        c = srv.sessions[0].commands
        self.assertEqual(c[:3], ['EHLO a.test', 'HELO a.test', 'MAIL FROM:<alice@a.test>'])

    def test_helo_rejected_too(self):
        srv = self.fake(ehlo=None, helo_reply='550 5.7.1 no HELO either')
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.results[0], ('T', '4.7.1', 'smtp; 550 5.7.1 no HELO either'))

    # ---- extensions ----

    def test_pipelining_used_when_offered(self):
        srv = self.fake(ehlo=('PIPELINING', '8BITMIME'))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'])
        self.assertEqual([r.cls(0), r.cls(1)], ['D', 'D'], r.log)
        s = srv.sessions[0]
        i = [c.split(' ')[0] for c in s.commands].index('MAIL')
        # MAIL, both RCPTs and DATA arrived together
        self.assertEqual(s.commands[i:i + 4], ['MAIL FROM:<alice@a.test>', 'RCPT TO:<bob@b.test>',
                                               'RCPT TO:<carol@b.test>', 'DATA'])
        self.assertEqual(s.buffered_after[i], 3, s.buffered_after)

    def test_no_pipelining_when_not_offered(self):
        srv = self.fake(ehlo=('8BITMIME',))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'])
        self.assertEqual([r.cls(0), r.cls(1)], ['D', 'D'], r.log)
        self.assertTrue(all(n == 0 for n in srv.sessions[0].buffered_after), srv.sessions[0].buffered_after)

    def test_pipelining_no_recipient_accepted(self):
        srv = self.fake(ehlo=('PIPELINING',), rcpt=lambda a: '550 5.1.1 unknown')
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['x@b.test', 'y@b.test'])
        self.assertEqual([r.cls(0), r.cls(1)], ['P', 'P'])
        self.assertEqual(srv.sessions[0].messages, [])

    def test_size_too_big_for_peer(self):
        srv = self.fake(ehlo=('PIPELINING', 'SIZE 100'))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'], msg=b'Subject: big\n\n' + b'x' * 200 + b'\n')
        for i in (0, 1):
            self.assertEqual(r.cls(i), 'P')
            self.assertEqual(r.status(i), '5.3.4')
            self.assertIn('exceeds size limit 100', r.text(i))
        self.assertFalse(any(c.startswith('MAIL') for c in srv.sessions[0].commands))

    def test_no_size_param_without_size(self):
        srv = self.fake(ehlo=('PIPELINING',))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'D')
        self.assertEqual(srv.sessions[0].commands[1], 'MAIL FROM:<alice@a.test>')

    def test_body_8bitmime(self):
        srv = self.fake(ehlo=('8BITMIME', 'SIZE'))
        a = self.sender_instance()
        self.route(a, srv.port)
        msg = 'Subject: caf\u00e9\n\n\u00e9t\u00e9\n'.encode()
        r = self.remote(a, ['bob@b.test'], msg=msg, body='8BITMIME')
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertTrue(srv.sessions[0].commands[1].endswith(' BODY=8BITMIME'), srv.sessions[0].commands)
        # 8-bit content without a declaration still gets BODY=8BITMIME
        r = self.remote(a, ['bob@b.test'], msg=msg)
        self.assertTrue(srv.sessions[1].commands[1].endswith(' BODY=8BITMIME'))
        # 7-bit content: no BODY parameter
        r = self.remote(a, ['bob@b.test'], body='7BIT')
        self.assertNotIn('BODY=', srv.sessions[2].commands[1])

    def test_no_body_param_when_not_offered(self):
        srv = self.fake(ehlo=('SIZE 100000',))
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'], msg='Subject: x\n\n\u00e9\n'.encode(), body='8BITMIME')
        self.assertEqual(r.cls(0), 'D')
        self.assertNotIn('BODY=', srv.sessions[0].commands[1])

    # ---- replies that do not fit what was sent (RFC 5321 4.3.2, RFC 2920 3.1) ----
    # Each fails the transaction as a temporary protocol error (4.5.0): nothing
    # counts as delivered, no content goes out, the log says why.

    def run_against(self, rcpts=('bob@b.test',), **kw):
        srv = self.fake(**kw)
        a = self.sender_instance()
        self.route(a, srv.port)
        return srv, self.remote(a, list(rcpts), msg=MSG)

    def assert_out_of_step(self, srv, r, why, n=1):
        """every recipient deferred with 4.5.0 naming why, nothing sent or delivered"""
        self.assertEqual(r.rc, 0, r.log)
        for i in range(n):
            self.assertEqual(r.cls(i), 'T', r.results)
            self.assertEqual(r.status(i), '4.5.0', r.results)
            self.assertIn('protocol error with 127.0.0.1[127.0.0.1]:%d' % srv.port, r.text(i))
            self.assertIn(why, r.text(i))
        self.assertNotIn('status=sent', r.log)
        self.assertIn('status=deferred dsn=4.5.0', r.log)
        # logged when it happens too, not only in the result
        self.assertIn('protocol error with', r.log)
        self.assertIn(why, r.log)
        for s in srv.sessions:
            self.assertEqual(s.messages, [])
            self.assertFalse(any(c.startswith('Subject:') or c == 'the content' for c in s.commands),
                             s.commands)

    # ---- the reply to each command ----

    def test_250_to_data_is_not_delivered(self):
        for ehlo in (PIPE, LOCKSTEP):
            srv, r = self.run_against(ehlo=ehlo, data='250 2.0.0 ok, I guess')
            self.assert_out_of_step(srv, r, '250 reply to DATA: 250 2.0.0 ok, I guess')

    def test_354_to_mail_fails(self):
        for ehlo in (PIPE, LOCKSTEP):
            srv, r = self.run_against(ehlo=ehlo, mail=lambda c: '354 go ahead')
            self.assert_out_of_step(srv, r, '354 reply to MAIL FROM')

    def test_354_to_rcpt_fails(self):
        srv, r = self.run_against(ehlo=LOCKSTEP, rcpt=lambda a: '354 go ahead')
        self.assert_out_of_step(srv, r, '354 reply to RCPT TO')

    def test_252_to_rcpt_fails(self):
        srv, r = self.run_against(ehlo=PIPE, rcpt=lambda a: '252 2.1.5 cannot verify')
        self.assert_out_of_step(srv, r, '252 reply to RCPT TO')

    def test_greeting_other_than_220_fails(self):
        srv, r = self.run_against(greeting='250 fake.test hello')
        self.assert_out_of_step(srv, r, '250 reply to the greeting')
        self.assertEqual(srv.sessions[0].commands, [])   # not even EHLO

    def test_ehlo_other_than_250_fails(self):
        srv, r = self.run_against(ehlo_reply='220 fake.test again')
        self.assert_out_of_step(srv, r, '220 reply to EHLO')

    def test_3xx_to_end_of_data_fails(self):
        srv, r = self.run_against(final='354 more please')
        self.assertEqual(r.results[0][:2], ('T', '4.5.0'), r.results)
        self.assertIn('354 reply to the end of data', r.text(0))
        self.assertNotIn('status=sent', r.log)

    # ---- replies out of step with the commands ----

    def test_extra_reply_line(self):
        """an unsolicited line after the reply to MAIL shifts every later reply"""
        for ehlo in (PIPE, LOCKSTEP):
            srv, r = self.run_against(ehlo=ehlo, extra={'MAIL': '250 2.1.0 extra'},
                                      rcpts=('bob@b.test', 'carol@b.test'))
            # pipelined, the shifted 250 answers DATA; in lockstep it is seen before RCPT
            why = '250 reply to DATA' if ehlo == PIPE else 'a reply came before RCPT TO was sent'
            self.assert_out_of_step(srv, r, why, n=2)

    def test_reply_before_any_command(self):
        srv, r = self.run_against(extra={'GREETING': '250 2.0.0 early'})
        self.assert_out_of_step(srv, r, 'a reply came before EHLO was sent')

    def test_extra_line_after_354(self):
        """more after the 354: the content must not go out"""
        for ehlo in (PIPE, LOCKSTEP):
            srv, r = self.run_against(ehlo=ehlo, extra={'DATA': '250 2.0.0 delivered?'})
            self.assert_out_of_step(srv, r, 'a reply came before the message was sent')

    def test_missing_reply(self):
        """a server that does not answer RCPT: its 354 to DATA comes as RCPT's"""
        srv, r = self.run_against(ehlo=PIPE, mute=('RCPT',))
        self.assert_out_of_step(srv, r, '354 reply to RCPT TO')

    def test_replies_in_reverse_order(self):
        srv, r = self.run_against(ehlo=PIPE, reverse_group=True)
        self.assert_out_of_step(srv, r, '354 reply to MAIL FROM')

    # ---- what still works ----

    def test_content_waits_for_354(self):
        """pipelined MAIL, RCPT, DATA go in one group, the content only after the 354"""
        srv, r = self.run_against(ehlo=PIPE, data_wait=0.5, rcpts=('bob@b.test', 'carol@b.test'))
        self.assertEqual([r.cls(0), r.cls(1)], ['D', 'D'], r.results)
        s = srv.sessions[0]
        self.assertEqual(s.buffered_after[1], 3)       # RCPT, RCPT, DATA came with MAIL
        self.assertEqual(s.before_354, b'')
        self.assertEqual(s.messages, [b'Subject: step\r\n\r\nthe content\r\n'])

    @unittest.skipUnless(find_dnsmasq(), 'dnsmasq not installed')
    def test_next_mx_after_250_to_data(self):
        """the host that answered DATA with 250 is passed over: the next MX gets the message"""
        # one port on two loopback addresses (remote_port is one key)
        for _ in range(20):
            bad = FakeSMTP(host='127.0.0.6', data='250 2.0.0 fine')
            try:
                good = FakeSMTP(host='127.0.0.7', port=bad.port)
                break
            except OSError:
                bad.sock.close()
        else:
            self.fail('no port free on both 127.0.0.6 and 127.0.0.7')
        port = bad.port
        bad.start()
        self.addCleanup(bad.stop)
        good.start()
        self.addCleanup(good.stop)
        dns = Dnsmasq(['--mx-host=step.test,mx1.step.test,10', '--mx-host=step.test,mx2.step.test,20',
                       '--host-record=mx1.step.test,127.0.0.6', '--host-record=mx2.step.test,127.0.0.7'])
        dns.start()
        self.addCleanup(dns.stop)
        a = self.sender_instance(remote_port=str(port), dns_servers='127.0.0.1:%d' % dns.port)
        r = self.remote(a, ['bob@step.test'], domain='step.test', msg=MSG)
        self.assertEqual(r.results[0][:2], ('D', '2.0.0'), r.log)
        self.assertIn('relay=mx2.step.test[127.0.0.7]:%d status=sent' % port, r.log)
        self.assertIn('protocol error with mx1.step.test[127.0.0.6]:%d: 250 reply to DATA' % port, r.log)
        self.assertEqual(len(bad.sessions), 1)
        self.assertEqual(bad.sessions[0].messages, [])
        self.assertEqual(good.sessions[0].messages, [b'Subject: step\r\n\r\nthe content\r\n'])

    # ---- timeouts and connection failures ----

    def test_timeout_silent_server(self):
        srv = self.fake(greeting=None)
        a = self.sender_instance(remote_timeout='1')
        self.route(a, srv.port)
        t0 = time.time()
        r = self.remote(a, ['bob@b.test'])
        self.assertLess(time.time() - t0, 8)
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.4.2')
        self.assertIn('timeout', r.text(0))
        self.assertIn('greeting', r.text(0))

    def test_timeout_after_data(self):
        srv = self.fake(silent_after='DATA')
        a = self.sender_instance(remote_timeout='1')
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.4.2')

    def test_end_of_data_waits_remote_data_timeout(self):
        """a server that scans the message before it answers the final dot gets
        remote_data_timeout, not the shorter remote_timeout"""
        srv = self.fake(final=lambda body: (time.sleep(2.5), None)[1])
        a = self.sender_instance(remote_timeout='1', remote_data_timeout='10')
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'D', r.text(0))
        a.ctl('config', 'set', 'remote_data_timeout', '1')
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'T')
        self.assertIn('timeout after 1s', r.text(0))
        self.assertIn('end of data', r.text(0))

    def test_trickling_greeting_times_out(self):
        """a server that sends one byte at a time and never ends its line must not
        hold the delivery beyond remote_timeout (a per-read timeout never fires)"""
        lsock = socket.socket()
        lsock.bind(('127.0.0.1', 0))
        lsock.listen(1)
        stop = threading.Event()
        self.addCleanup(stop.set)
        self.addCleanup(lsock.close)

        def trickle():
            lsock.settimeout(10)
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            with c:
                try:
                    c.sendall(b'220-')
                    while not stop.wait(0.05):
                        c.sendall(b'x')
                except OSError:
                    pass
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        a = self.sender_instance(remote_timeout='2')
        self.route(a, lsock.getsockname()[1])
        t0 = time.time()
        r = self.remote(a, ['bob@b.test'])
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(r.cls(0), 'T')
        self.assertIn('timeout', r.text(0))

    def test_connection_refused(self):
        port = free_port()
        a = self.sender_instance()
        self.route(a, port)
        r = self.remote(a, ['bob@b.test', 'carol@b.test'])
        for i in (0, 1):
            self.assertEqual(r.cls(i), 'T')
            self.assertEqual(r.status(i), '4.4.1')
            self.assertIn('connect to 127.0.0.1[127.0.0.1]:%d: Connection refused' % port, r.text(i))
        self.assertIn('status=deferred', r.log)

    # ---- routing ----

    def test_relayhost_beats_routes(self):
        srv = self.fake()
        other = self.fake()
        a = self.sender_instance(relayhost='127.0.0.1:%d' % srv.port)
        self.route(a, other.port)
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'D', r.log)
        self.assertEqual(len(srv.sessions), 1)
        self.assertEqual(len(other.sessions), 0)

    def test_subdomain_route(self):
        srv = self.fake()
        a = self.sender_instance()
        self.route(a, srv.port, domain='.b.test')
        r = self.remote(a, ['bob@x.b.test'], domain='x.b.test')
        self.assertEqual(r.cls(0), 'D', r.log)

    def test_address_literal(self):
        srv = self.fake()
        a = self.sender_instance(remote_port=str(srv.port))
        r = self.remote(a, ['bob@[127.0.0.1]'], domain='[127.0.0.1]')
        self.assertEqual(r.cls(0), 'D', r.log)

    def test_bad_routes_file(self):
        a = self.sender_instance()
        a.write('etc/routes', 'b.test host:notaport\n')
        r = self.remote(a, ['bob@b.test'])
        self.assertEqual(r.cls(0), 'T')
        self.assertEqual(r.status(0), '4.3.5')
        self.assertIn('routes:1:', r.text(0))

    def test_bad_recipient_syntax(self):
        srv = self.fake()
        a = self.sender_instance()
        self.route(a, srv.port)
        r = self.remote(a, ['bob@b.test', 'bad address@b.test'])
        self.assertEqual(r.cls(0), 'D')
        self.assertEqual(r.results[1][:2], ('P', '5.1.3'))
        self.assertNotIn('RCPT TO:<bad address@b.test>', srv.sessions[0].commands)

    def test_usage_errors(self):
        a = self.sender_instance()
        import subprocess
        for args in ([], ['-q', 'Q1', '-f', 'a@a.test', '--', 'b.test'],
                     ['-q', 'Q1', '--', 'b.test', 'bob@b.test'],
                     ['-q', 'Q 1', '-f', '', '--', 'b.test', 'bob@b.test'],
                     ['-q', 'Q1', '-f', '', '-b', 'BINARY', '--', 'b.test', 'bob@b.test'],
                     ['-q', 'Q1', '-f', '', '--', 'bad_domain', 'bob@b.test']):
            p = subprocess.run([REMOTE, '-r', a.root] + args, input=b'', capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 100, args)
            self.assertEqual(p.stdout, b'')


if __name__ == '__main__':
    unittest.main()
