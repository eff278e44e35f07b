"""Message submission (RFC 6409): pochta-smtpd -s on submission_listen,
AUTH PLAIN and LOGIN (RFC 4954, RFC 4616) checked by pochta-checkpass, relaying
for authenticated clients, the envelope sender rule, the fix-ups, ESMTPA."""
import base64
import os
import shutil
import smtplib
import subprocess
import time
import unittest

from fakesmtp import FakeSMTP
from pochta import (BUILD, Instance, InstanceTest, copy_build, free_port, pids_of_root,
                    remove_service_accounts, service_accounts, wait_until)

PW = 'alice-pw-1'
MSG = b'Subject: hello\r\nFrom: alice@example.test\r\n\r\nbody line\r\n'


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class Submission(InstanceTest):
    def sub(self, **conf):
        self.sub_port = free_port()
        c = {'submission_listen': '127.0.0.1:%d' % self.sub_port,
             'smtp_auth_plaintext_loopback': '1', 'smtp_auth_failure_delay': '1'}
        c.update(conf)
        inst = self.instance(start=False, pop3=False, users={'alice': PW, 'bob': 'bob-pw-1'},
                             conf=c)
        inst.start()
        inst.wait_listening(self.sub_port)
        return inst

    def client(self, port=None):
        s = smtplib.SMTP('127.0.0.1', port or self.sub_port, timeout=20)
        self.addCleanup(s.close)
        s.ehlo('client.test')
        return s

    def authed(self, mech='PLAIN', initial=True, user='alice', pw=PW):
        s = self.client()
        s.user, s.password = user, pw
        fn = s.auth_plain if mech == 'PLAIN' else s.auth_login
        code, text = s.auth(mech, fn, initial_response_ok=initial)
        self.assertEqual(code, 235, text)
        return s

    def test_plain_and_login_deliver_with_esmtpa_and_fixups(self):
        inst = self.sub()
        n = 0
        for mech, initial in (('PLAIN', True), ('PLAIN', False), ('LOGIN', False), ('LOGIN', True)):
            s = self.authed(mech, initial)
            s.sendmail('alice@example.test', ['bob@example.test'], MSG)
            s.quit()
            n += 1
        s = self.client()
        self.assertTrue(s.has_extn('auth'))
        self.assertIn('PLAIN', s.esmtp_features['auth'].split())
        self.assertIn('LOGIN', s.esmtp_features['auth'].split())
        s.login('alice', PW)  # smtplib's own choice of mechanism
        s.quit()
        mails = inst.wait_mail('bob', n)
        for m in mails:
            head, _, body = m.partition(b'\n\n')
            self.assertRegex(head, rb'\nReceived: from client\.test \(\[127\.0\.0\.1\]\)\n\tby [^ ]+ '
                                   rb'\(pochta\) with ESMTPA id ')
            self.assertRegex(head, rb'\nDate: [A-Z][a-z]{2}, ')
            self.assertRegex(head, rb'\nMessage-ID: <\d{14}\.[^@>]+@[^>]+>')
            self.assertIn(b'\nSubject: hello', head)
            self.assertEqual(body, b'body line\n')
        log = inst.log()
        self.assertIn('auth ok user=alice', log)

    def test_fixups_keep_what_is_there_and_end_a_header_without_empty_line(self):
        inst = self.sub()
        s = self.authed()
        s.sendmail('alice@example.test', ['bob@example.test'],
                   b'Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\nb\r\n')
        s.sendmail('alice@example.test', ['bob@example.test'], b'Subject: only a header\r\n')
        s.quit()
        mails = sorted(inst.wait_mail('bob', 2), key=lambda m: b'only' in m)
        self.assertEqual(mails[0].count(b'Date:'), 1)
        self.assertEqual(mails[0].count(b'Message-ID:'), 1)
        self.assertIn(b'Date: Mon, 1 Jan 2024', mails[0])
        self.assertIn(b'\nSubject: only a header\nDate: ', mails[1])
        self.assertIn(b'\nMessage-ID: <', mails[1])

    def test_bad_password_delay_and_error_limit(self):
        self.sub(smtp_error_limit='3', smtp_auth_failure_delay='2')
        s = self.client()
        for i in range(2):
            t0 = time.monotonic()
            code, text = s.docmd('AUTH', 'PLAIN ' + b64('\0alice\0wrong'))
            took = time.monotonic() - t0
            self.assertEqual(code, 535, text)
            self.assertTrue(text.startswith(b'5.7.8'), text)
            self.assertGreaterEqual(took, 1.9)
        # the third error reaches smtp_error_limit: 535, then 421 and close
        s.putcmd('AUTH', 'LOGIN ' + b64('alice'))
        code, text = s.getreply()
        self.assertEqual(code, 334, text)
        s.putcmd(b64('wrong'))
        code, text = s.getreply()
        self.assertEqual(code, 535, text)
        code, text = s.getreply()
        self.assertEqual(code, 421, text)
        self.assertRaises(smtplib.SMTPServerDisconnected, s.noop)

    def test_auth_rules(self):
        self.sub()
        s = smtplib.SMTP('127.0.0.1', self.sub_port, timeout=20)
        self.addCleanup(s.close)
        self.assertEqual(s.docmd('AUTH', 'PLAIN')[0], 503)        # before EHLO
        s.ehlo('c.test')
        self.assertEqual(s.docmd('AUTH', 'CRAM-MD5')[0], 504)
        self.assertEqual(s.docmd('AUTH', 'PLAIN ##')[0], 501)     # not base64
        code, text = s.docmd('AUTH', 'PLAIN')
        self.assertEqual((code, text), (334, b''))
        code, text = s.docmd('*')                                 # cancelled
        self.assertEqual(code, 501, text)
        code, text = s.docmd('MAIL', 'FROM:<alice@example.test>')
        self.assertEqual(code, 530, text)
        self.assertTrue(text.startswith(b'5.7.0'), text)
        self.assertEqual(s.docmd('AUTH', 'PLAIN ' + b64('\0alice\0' + PW))[0], 235)
        self.assertEqual(s.docmd('AUTH', 'PLAIN ' + b64('\0alice\0' + PW))[0], 503)  # twice

    def test_sender_must_be_the_users(self):
        inst = self.sub()
        s = self.authed()
        code, text = s.docmd('MAIL', 'FROM:<bob@example.test>')
        self.assertEqual(code, 553, text)
        self.assertTrue(text.startswith(b'5.7.1'), text)
        code, text = s.docmd('MAIL', 'FROM:<someone@elsewhere.test>')
        self.assertEqual(code, 553, text)
        self.assertEqual(s.docmd('MAIL', 'FROM:<ALICE@example.test>')[0], 250)
        s.rset()
        self.assertEqual(s.docmd('MAIL', 'FROM:<>')[0], 250)
        s.quit()
        # relaxed by the key
        inst.ctl('config', 'set', 'submission_sender_check', '0')
        inst.ctl('reload')
        def relaxed():
            c = self.authed()
            r = c.docmd('MAIL', 'FROM:<bob@example.test>')[0]
            c.quit()
            return r == 250
        wait_until(relaxed, 10, 0.2, 'the relaxed sender check')

    def test_authenticated_relays_unauthenticated_does_not(self):
        srv = FakeSMTP(ehlo=['PIPELINING', '8BITMIME', 'SMTPUTF8']).start()
        self.addCleanup(srv.stop)
        inst = self.sub()
        inst.write('etc/routes', 'far.test [127.0.0.1]:%d\n' % srv.port)
        # port 25, no relay_networks, no AUTH there: relaying refused
        p = smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20)
        self.addCleanup(p.close)
        p.ehlo('c.test')
        self.assertFalse(p.has_extn('auth'))
        self.assertEqual(p.docmd('AUTH', 'PLAIN ' + b64('\0alice\0' + PW))[0], 502)
        self.assertEqual(p.docmd('MAIL', 'FROM:<alice@example.test>')[0], 250)
        code, text = p.docmd('RCPT', 'TO:<x@far.test>')
        self.assertEqual(code, 554, text)
        p.quit()
        s = self.authed()
        s.sendmail('alice@example.test', ['x@far.test'], MSG)
        s.quit()
        wait_until(lambda: srv.sessions and srv.sessions[0].messages, 30, 0.1, 'the relayed message')
        self.assertIn(b'with ESMTPA', srv.sessions[0].messages[0])
        # authenticated and SMTPUTF8: RFC 6531's name for the protocol
        s = self.authed()
        s.sendmail('alice@example.test', ['x@far.test'], MSG, mail_options=['SMTPUTF8'])
        s.quit()
        wait_until(lambda: sum(len(x.messages) for x in list(srv.sessions)) == 2, 30, 0.1,
                   'the second relayed message')
        self.assertIn(b'with UTF8SMTPA', [m for x in srv.sessions for m in x.messages][1])

    def test_auth_on_port_25_when_enabled(self):
        inst = self.sub(smtp_auth_enable='1')
        p = smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20)
        self.addCleanup(p.close)
        p.ehlo('c.test')
        self.assertTrue(p.has_extn('auth'))
        p.login('alice', PW)
        p.quit()

    def test_no_auth_on_plaintext_without_the_key(self):
        self.sub(smtp_auth_plaintext_loopback='0')
        s = self.client()
        self.assertFalse(s.has_extn('auth'))
        code, text = s.docmd('AUTH', 'PLAIN ' + b64('\0alice\0' + PW))
        self.assertEqual(code, 538, text)
        self.assertTrue(text.startswith(b'5.7.11'), text)

    def test_non_loopback_client_never_gets_auth_in_plaintext(self):
        """run as inetd would: the client address from TCPREMOTEIP"""
        inst = self.sub(smtp_forbid_unauth_pipelining='0')
        def session(ip):
            env = inst.env()
            env.update({'PROTO': 'TCP', 'TCPREMOTEIP': ip, 'TCPREMOTEPORT': '1234'})
            p = subprocess.run([os.path.join(BUILD, 'pochta-smtpd'), '-s'], env=env,
                               input=b'EHLO c.test\r\nAUTH PLAIN ' + b64('\0alice\0' + PW).encode() +
                               b'\r\nQUIT\r\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30, **inst.as_owner())
            return p.stdout.decode()
        out = session('192.0.2.7')
        self.assertNotIn('250-AUTH', out)
        self.assertIn('538 5.7.11', out)
        out = session('127.0.0.1')
        self.assertIn('250-AUTH PLAIN LOGIN', out)
        self.assertIn('235 2.7.0', out)

    def test_status_lists_submission(self):
        inst = self.sub()
        out = inst.ctl('status', check=False).stdout.decode()
        self.assertIn('listening submission 127.0.0.1:%d' % self.sub_port, out)


@unittest.skipUnless(os.geteuid() == 0, 'needs root: a root instance with one account per program')
class SubmissionSeparated(unittest.TestCase):
    """started as root, pochta-smtpd runs as smtpd_user and cannot read the
    hashes: the checker service (root) answers for it"""

    def test_auth_as_smtpd_user(self):
        keys = service_accounts('ptsb%d' % (os.getpid() % 10000))
        self.addCleanup(remove_service_accounts, keys)
        libexec = copy_build()
        self.addCleanup(shutil.rmtree, libexec, True)
        port = free_port()
        conf = dict(keys)
        conf.update({'submission_listen': '127.0.0.1:%d' % port, 'smtp_auth_plaintext_loopback': '1'})
        inst = Instance(conf=conf, no_account=True, libexec=libexec, pop3=False,
                        users={'alice': PW, 'bob': 'bob-pw-1'})
        self.addCleanup(inst.cleanup)
        os.chmod(inst.root, 0o755)
        inst.ctl('setup')
        # the hashes are root's alone
        os.chown(inst.path('etc/passwd'), 0, 0)
        os.chmod(inst.path('etc/passwd'), 0o600)
        inst.start()
        inst.wait_listening(port)
        s = smtplib.SMTP('127.0.0.1', port, timeout=20)
        self.addCleanup(s.close)
        s.ehlo('c.test')
        s.login('alice', PW)
        # the session that answered runs as smtpd_user
        import pwd
        uid = pwd.getpwnam(keys['smtpd_user']).pw_uid
        sessions, checkers = [], []
        for pid in pids_of_root(inst.root):
            try:
                with open('/proc/%d/cmdline' % pid, 'rb') as f:
                    cmd = f.read()
                with open('/proc/%d/status' % pid) as f:
                    st = f.read()
            except OSError:
                continue
            ruid = int([l for l in st.splitlines() if l.startswith('Uid:')][0].split()[1])
            parts = cmd.split(b'\0')
            if parts[0] == b'pochta-smtpd' and b'-s' in parts and b'-z' not in parts:
                sessions.append(ruid)
            if parts[:2] == [b'pochta-checkpass', b'-w']:
                checkers.append(ruid)
        self.assertIn(uid, sessions)
        # the service (and any check it is still running) as root
        self.assertTrue(checkers)
        self.assertEqual(set(checkers), {0})
        s.sendmail('alice@example.test', ['bob@example.test'], MSG)
        s.quit()
        self.assertIn(b'with ESMTPA', inst.wait_mail('bob', 1)[0])
        code = smtplib.SMTP('127.0.0.1', port, timeout=20)
        self.addCleanup(code.close)
        code.ehlo('c.test')
        self.assertEqual(code.docmd('AUTH', 'PLAIN ' + b64('\0alice\0bad'))[0], 535)


if __name__ == '__main__':
    unittest.main()
