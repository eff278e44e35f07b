"""pochta-sendmail, the sendmail command line of local programs, against real
instances: recipients as arguments and from To/Cc/Bcc (-t, Bcc removed), -f,
-F, the "." line and -i, -bp, -bs, -q, ignored sendmail flags, "--", the exit
codes of sysexits.h and the fix-ups (Received, Date, Message-ID, From).

As root (as CI runs), each instance belongs to a test account (pochtactl init
--user) and pochta-sendmail runs as that account, so the uid it names is not
root's; as another user, everything runs as that user."""
import os
import pwd
import re
import shutil
import subprocess
import time
import unittest

from pochta import Instance, InstanceTest, prog, wait_until
from fakesmtp import FakeSMTP

SENDMAIL = prog('pochta-sendmail')
# sysexits.h
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE, EX_TEMPFAIL, EX_NOPERM = 0, 64, 65, 67, 69, 75, 77
ACCOUNT = 'ptsm%d' % (os.getpid() % 100000)


def setUpModule():
    if os.geteuid() == 0:
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin',
                        '--comment', 'Sendmail Tester,,,', ACCOUNT], check=True)


def tearDownModule():
    if os.geteuid() == 0:
        subprocess.run(['userdel', ACCOUNT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def caller():
    """(name, uid, preexec) of the account pochta-sendmail runs as"""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.getuid())
        return pw.pw_name, pw.pw_uid, None
    pw = pwd.getpwnam(ACCOUNT)

    def drop():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return ACCOUNT, pw.pw_uid, drop


def headers(msg):
    """the header section of a delivered message, as text"""
    return msg.split(b'\n\n', 1)[0].decode(errors='replace')


class SendmailTest(InstanceTest):
    def setUp(self):
        self.login, self.uid, self.preexec = caller()
        kw = {'user': ACCOUNT} if os.geteuid() == 0 else {}
        self.inst = self.instance(users={'alice': 'pw', 'bob': 'pw'}, **kw)

    def sendmail(self, *args, input=b'', as_root=False, env=None, root=True, timeout=30):
        e = dict(os.environ, POCHTA_LOG='stderr')
        e.pop('POCHTA_ROOT', None)
        e.update(env or {})
        argv = [SENDMAIL] + (['-r', self.inst.root] if root else []) + list(args)
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=e, timeout=timeout, preexec_fn=None if as_root else self.preexec)
        return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')

    def deliver_one(self, user, *args, input=b'Subject: t\n\nhello\n'):
        rc, out, err = self.sendmail(*args, input=input)
        self.assertEqual(rc, EX_OK, err)
        return self.inst.wait_mail(user, 1)[0]

    # ---- recipients and the envelope ----
    def test_recipients_as_arguments(self):
        rc, out, err = self.sendmail('alice', 'bob@example.test', input=b'Subject: two\n\nhello\n')
        self.assertEqual(rc, EX_OK, err)
        for u in ('alice', 'bob'):
            m = self.inst.wait_mail(u, 1)[0]
            self.assertIn(b'Subject: two\n', m)
            self.assertTrue(m.endswith(b'\nhello\n'), m)
            # the default envelope sender: login@ the first local domain
            self.assertIn('Return-Path: <%s@example.test>' % self.login, headers(m))
        # the one log line of an accepted message: queue ID, uid, size, nrcpt
        self.assertRegex(err, r'pochta-sendmail\[\d+\]: [0-9A-Z]+ uid=%d from=<%s@example.test> '
                              r'size=\d+ nrcpt=2' % (self.uid, self.login))

    def test_one_size_in_the_log(self):
        """sendmail's size= is the queue file's, as pochta-enqueue logs it (Received:, From:,
        Date: and Message-ID: added), not what was read"""
        rc, out, err = self.sendmail('alice', input=b'Subject: size\n\nhello\n')
        self.assertEqual(rc, EX_OK, err)
        m = re.search(r'pochta-sendmail\[\d+\]: ([0-9A-Z]+) uid=\d+ from=<[^>]*> size=(\d+) ', err)
        self.assertTrue(m, err)
        q = re.search(r'pochta-enqueue\[\d+\]: %s queued from=<[^>]*> nrcpt=1 size=(\d+)' % m.group(1), err)
        self.assertTrue(q, err)
        self.assertEqual(m.group(2), q.group(1), err)
        self.assertGreater(int(m.group(2)), len(b'Subject: size\n\nhello\n'))

    def test_comma_list_and_names_in_arguments(self):
        rc, out, err = self.sendmail('Alice <alice@example.test>, bob', input=b'Subject: x\n\nhi\n')
        self.assertEqual(rc, EX_OK, err)
        self.inst.wait_mail('alice', 1)
        self.inst.wait_mail('bob', 1)

    def test_extract_recipients_bcc_removed(self):
        msg = (b'From: Me <me@example.test>\n'
               b'To: Alice <alice@example.test>,\n'
               b'Subject: -t\n'
               b'Bcc: bob@example.test\n'
               b'\n'
               b'body\n')
        rc, out, err = self.sendmail('-t', input=msg)
        self.assertEqual(rc, EX_OK, err)
        a = self.inst.wait_mail('alice', 1)[0]
        b = self.inst.wait_mail('bob', 1)[0]  # the Bcc recipient gets it too
        for m in (a, b):
            self.assertNotIn('Bcc', headers(m))
            self.assertIn('To: Alice <alice@example.test>,\n', headers(m))
            self.assertTrue(m.endswith(b'\n\nbody\n'), m)

    def test_extract_groups_folded_and_several_fields(self):
        msg = (b'To: team: alice@example.test,\n'
               b'\t"Bob B." <bob@example.test>;\n'
               b'Cc: undisclosed-recipients:;\n'
               b'Subject: groups\n\nx\n')
        rc, out, err = self.sendmail('-t', input=msg)
        self.assertEqual(rc, EX_OK, err)
        self.inst.wait_mail('alice', 1)
        self.inst.wait_mail('bob', 1)

    def test_extract_adds_to_argument_recipients(self):
        rc, out, err = self.sendmail('-t', 'bob', input=b'To: alice@example.test\n\nx\n')
        self.assertEqual(rc, EX_OK, err)
        self.inst.wait_mail('alice', 1)
        self.inst.wait_mail('bob', 1)

    def test_sender_option(self):
        m = self.deliver_one('alice', '-f', 'list-bounces@example.test', 'alice')
        self.assertIn('Return-Path: <list-bounces@example.test>', headers(m))
        self.inst.wait_queue_empty()
        os.unlink(self.inst.mail_files('alice')[0])
        m = self.deliver_one('alice', '-fother@example.test', 'alice')
        self.assertIn('Return-Path: <other@example.test>', headers(m))
        self.inst.wait_queue_empty()
        os.unlink(self.inst.mail_files('alice')[0])
        # sendmail's old -r SENDER (an address: -r ROOT is a directory)
        m = self.deliver_one('alice', '-r', 'old@example.test', 'alice')
        self.assertIn('Return-Path: <old@example.test>', headers(m))

    def test_null_sender(self):
        m = self.deliver_one('alice', '-f', '<>', 'alice')
        self.assertIn('Return-Path: <>', headers(m))

    def test_full_name_option(self):
        m = self.deliver_one('alice', '-F', 'Jo "the" Tester', 'alice')
        self.assertIn('From: "Jo \\"the\\" Tester" <%s@example.test>\n' % self.login, headers(m))

    @unittest.skipUnless(os.geteuid() == 0, 'needs root: the test account has a GECOS name')
    def test_full_name_from_gecos(self):
        m = self.deliver_one('alice', 'alice')
        self.assertIn('From: "Sendmail Tester" <%s@example.test>\n' % self.login, headers(m))

    # ---- the fix-ups ----
    def test_fixups_added(self):
        m = self.deliver_one('alice', 'alice', input=b'Subject: bare\n\nhello\n')
        h = headers(m)
        lines = h.split('\n')
        # the Received line comes first after the delivery headers, naming the uid
        recv = [i for i, l in enumerate(lines) if l.startswith('Received:')]
        self.assertEqual(len(recv), 1, h)
        self.assertEqual(lines[recv[0]], 'Received: from userid %d' % self.uid)
        self.assertRegex(lines[recv[0] + 1], r'^\tby \S+ \(pochta\) id [0-9A-Z]+$')
        self.assertRegex(lines[recv[0] + 2], r'^\tfor <alice@example.test>; \w{3}, \d+ \w{3} \d{4} ')
        self.assertRegex(h, r'\nDate: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n')
        self.assertRegex(h, r'\nMessage-ID: <\d{14}\.[0-9A-Z]+@[^>\s]+>(\n|$)')
        self.assertRegex(h, r'\nFrom: (".*" <)?%s@example.test>?\n' % self.login)

    def test_fixups_keep_existing(self):
        msg = (b'From: Someone <someone@example.test>\n'
               b'Date: Mon, 1 Jan 2024 10:00:00 +0000\n'
               b'Message-ID: <keep.me@example.test>\n'
               b'Subject: kept\n\nhello\n')
        m = self.deliver_one('alice', 'alice', input=msg)
        h = headers(m)
        self.assertEqual(h.count('\nFrom:'), 1, h)
        self.assertEqual(h.count('\nDate:'), 1, h)
        self.assertEqual(h.count('\nMessage-ID:'), 1, h)
        self.assertIn('From: Someone <someone@example.test>\n', h)
        self.assertIn('Date: Mon, 1 Jan 2024 10:00:00 +0000\n', h)
        self.assertIn('Message-ID: <keep.me@example.test>\n', h)

    def test_body_without_headers_and_crlf(self):
        # "echo hi | sendmail bob": no header section at all; CRLF becomes LF
        m = self.deliver_one('alice', 'alice', input=b'hello there\r\nsecond line\r\n')
        self.assertTrue(m.endswith(b'\n\nhello there\nsecond line\n'), m)
        self.assertNotIn(b'\r', m)

    # ---- the "." line ----
    def test_dot_ends_input_by_default(self):
        m = self.deliver_one('alice', 'alice', input=b'Subject: d\n\nbefore\n.\nafter\n')
        self.assertTrue(m.endswith(b'\nbefore\n'), m)
        self.assertNotIn(b'after', m)

    def test_dot_kept_with_i_and_oi(self):
        for flag in ('-i', '-oi'):
            rc, out, err = self.sendmail(flag, 'alice', input=b'Subject: d\n\nbefore\n.\nafter\n')
            self.assertEqual(rc, EX_OK, err)
        for m in self.inst.wait_mail('alice', 2):
            self.assertTrue(m.endswith(b'\nbefore\n.\nafter\n'), m)

    # ---- flags accepted and ignored, "--" ----
    def test_ignored_flags(self):
        rc, out, err = self.sendmail('-oem', '-odb', '-om', '-o7', '-G', '-U', '-m', '-n', '-x',
                                     '-N', 'never', '-R', 'hdrs', '-L', 'label', '-C', '/etc/x.cf',
                                     '-h', '17', '-Am', '-V', 'envid', '-e', 'm', '-bm', '-v',
                                     'alice', input=b'Subject: i\n\nx\n')
        self.assertEqual(rc, EX_OK, err)
        self.assertRegex(err, r'queued as [0-9A-Z]+ for 1 recipient')  # -v
        self.inst.wait_mail('alice', 1)
        # -qNUMBER (a queue run interval) does nothing, successfully
        self.assertEqual(self.sendmail('-q30m')[0], EX_OK)

    def test_double_dash_ends_options(self):
        rc, out, err = self.sendmail('-i', '--', 'alice', input=b'Subject: dd\n\n.\nkept\n')
        self.assertEqual(rc, EX_OK, err)
        m = self.inst.wait_mail('alice', 1)[0]
        self.assertTrue(m.endswith(b'\n.\nkept\n'), m)
        # after "--", "-t" is a recipient name (an unknown user), not the flag
        rc, out, err = self.sendmail('--', '-t', input=b'To: alice@example.test\n\nx\n')
        self.assertEqual(rc, EX_NOUSER, err)
        self.assertIn('<-t@example.test>: user unknown', err)

    # ---- remote recipients: local submission needs no relay_networks ----
    def test_remote_recipient_from_local_user(self):
        srv = FakeSMTP().start()
        self.addCleanup(srv.stop)
        self.assertEqual(self.inst.ctl('config', 'get', 'relay_networks').stdout.strip(), b'')
        self.inst.ctl('config', 'set', 'relayhost', '127.0.0.1:%d' % srv.port)
        self.inst.ctl('reload')  # sendmail and the running instance read the checked copy
        rc, out, err = self.sendmail('carol@remote.test', input=b'Subject: out\n\nto the world\n')
        self.assertEqual(rc, EX_OK, err)
        wait_until(lambda: srv.sessions and srv.sessions[-1].messages, 20, 0.05, 'remote delivery')
        s = srv.sessions[-1]
        self.assertTrue(s.commands[1].startswith('MAIL FROM:<%s@example.test>' % self.login), s.commands)
        self.assertIn('RCPT TO:<carol@remote.test>', s.commands)
        self.assertIn(b'to the world', s.messages[0])

    # ---- exit codes ----
    def test_usage_errors(self):
        for args in (('-Z', 'alice'), ('-bi', 'alice'), ('-bd',), ('-bp', 'alice'), ('-f',), ('-B', 'BINARY', 'alice'),
                     ('-f', 'not an address', 'alice'), ('bad address@@x',)):
            rc, out, err = self.sendmail(*args)
            self.assertEqual(rc, EX_USAGE, (args, err))
            self.assertTrue(err.startswith('pochta-sendmail: '), err)
        self.assertEqual(self.inst.queue_files(), [])

    def test_unknown_local_user(self):
        rc, out, err = self.sendmail('alice', 'nosuchuser', input=b'Subject: x\n\nx\n')
        self.assertEqual(rc, EX_NOUSER, err)
        self.assertIn('pochta-sendmail: <nosuchuser@example.test>: user unknown', err)
        rc, out, err = self.sendmail('-t', input=b'To: alice@example.test, ghost@example.test\n\nx\n')
        self.assertEqual(rc, EX_NOUSER, err)
        self.assertIn('<ghost@example.test>: user unknown', err)
        time.sleep(0.3)
        self.assertEqual(self.inst.queue_files(), [])
        self.assertEqual(self.inst.mail_files('alice'), [])  # nothing queued, nothing sent

    def test_no_recipients(self):
        rc, out, err = self.sendmail(input=b'Subject: x\n\nx\n')
        self.assertEqual(rc, EX_NOUSER, err)
        self.assertIn('no recipients', err)
        rc, out, err = self.sendmail('-t', input=b'Subject: no To\n\nx\n')
        self.assertEqual(rc, EX_NOUSER, err)
        self.assertIn('no recipients found', err)

    def test_bad_data(self):
        cases = [(b'Subject: x\n\na\0b\n', 'NUL'), (b'Subject: x\n\n' + b'y' * 999 + b'\n', '998'),
                 (b'Subject: x\n\nbare\rcr\n', 'CR'), (b'To: John Smith\n\nx\n', 'not an address')]
        for data, what in cases:
            rc, out, err = self.sendmail('-t', 'alice', input=data)
            self.assertEqual(rc, EX_DATAERR, (what, err))
            self.assertIn(what, err)
        self.assertEqual(self.inst.queue_files(), [])
        # smtp_allow_long_lines lets the long line through, as in pochta-smtpd
        self.inst.ctl('config', 'set', 'smtp_allow_long_lines', '1')
        self.inst.ctl('reload')
        m = self.deliver_one('alice', 'alice', input=b'Subject: x\n\n' + b'y' * 999 + b'\n')
        self.assertIn(b'y' * 999 + b'\n', m)

    def test_too_big(self):
        self.inst.ctl('config', 'set', 'message_size_limit', '2000')
        self.inst.ctl('reload')
        rc, out, err = self.sendmail('alice', input=b'Subject: x\n\n' + b'z' * 3000 + b'\n')
        self.assertEqual(rc, EX_DATAERR, err)
        self.assertIn('message_size_limit', err)

    def test_tempfail_when_enqueue_missing(self):
        empty = self.inst.root + '-noexec'
        os.mkdir(empty)
        self.addCleanup(shutil.rmtree, empty, True)
        rc, out, err = self.sendmail('alice', input=b'Subject: x\n\nx\n', env={'POCHTA_LIBEXEC': empty})
        self.assertEqual(rc, EX_TEMPFAIL, err)
        self.assertIn('pochta-enqueue', err)

    def test_tempfail_when_queue_not_writable(self):
        tmp = os.path.join(self.inst.root, 'queue', 'tmp')
        mode = os.stat(tmp).st_mode
        os.chmod(tmp, 0o500)
        self.addCleanup(os.chmod, tmp, mode)
        rc, out, err = self.sendmail('alice', input=b'Subject: x\n\nx\n')
        self.assertEqual(rc, EX_TEMPFAIL, err)
        self.assertIn('nothing was sent', err)

    # ---- -bp, mailq ----
    def test_mailq_lists_a_held_message(self):
        self.inst.stop()  # nothing delivers it meanwhile
        rc, out, err = self.sendmail('-v', 'alice', input=b'Subject: held\n\nx\n')
        self.assertEqual(rc, EX_OK, err)
        qid = re.search(r'queued as ([0-9A-Z]+)', err).group(1)
        self.inst.ctl('queue', 'hold', qid)
        rc, out, err = self.sendmail('-bp')
        self.assertEqual(rc, EX_OK, err)
        self.assertIn(qid, out)
        self.assertIn('alice@example.test', out)
        # argv[0] mailq: the same
        link = os.path.join(self.inst.root + '-bin', 'mailq')
        os.mkdir(os.path.dirname(link))
        self.addCleanup(shutil.rmtree, os.path.dirname(link), True)
        os.symlink(SENDMAIL, link)
        p = subprocess.run([link, '-r', self.inst.root], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30, preexec_fn=self.preexec)
        self.assertEqual(p.returncode, EX_OK, p.stderr)
        self.assertIn(qid, p.stdout.decode())

    # ---- -q ----
    def test_flush(self):
        rc, out, err = self.sendmail('-q', '-v')
        self.assertEqual(rc, EX_OK, err)
        self.assertIn('retries deferred mail now', err)
        wait_until(lambda: 'flush' in self.inst.log(), 10, 0.05, 'the queue manager to log the flush')
        self.inst.stop()
        rc, out, err = self.sendmail('-q')
        self.assertEqual(rc, EX_UNAVAILABLE, err)
        self.assertIn('no queue manager is running', err)

    # ---- -bs ----
    def smtp_session(self, steps):
        """steps: (line, whether a reply follows it); the replies' last lines"""
        env = dict(os.environ)
        env.pop('POCHTA_ROOT', None)
        p = subprocess.Popen([SENDMAIL, '-r', self.inst.root, '-bs'], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             preexec_fn=self.preexec)

        def reply():
            while True:
                line = p.stdout.readline().decode()
                self.assertTrue(line.endswith('\r\n'), line)
                if line[3] == ' ':
                    return line
        try:
            replies = [reply()]
            for line, answered in steps:
                p.stdin.write(line.encode() + b'\r\n')
                p.stdin.flush()
                if answered:
                    replies.append(reply())
            p.stdin.close()
            rc = p.wait(20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(5)
            p.stdout.close()
            p.stderr.close()
        return rc, replies

    def test_smtp_on_a_pipe(self):
        rc, replies = self.smtp_session([
            ('EHLO client.local', True), ('MAIL FROM:<%s@example.test>' % self.login, True),
            ('RCPT TO:<alice@example.test>', True), ('RCPT TO:<dave@remote.test>', True),
            ('DATA', True), ('Subject: via -bs', False), ('', False),
            ('hello over a pipe', False), ('.', True), ('QUIT', True)])
        self.assertEqual(rc, 0)
        codes = [r[:3] for r in replies]
        # a remote recipient is accepted: local submission relays
        self.assertEqual(codes, ['220', '250', '250', '250', '250', '354', '250', '221'], replies)
        m = self.inst.wait_mail('alice', 1)[0]
        self.assertIn(b'hello over a pipe', m)
        self.assertIn('Received: from client.local (userid %d)' % self.uid, headers(m))

    @unittest.skipUnless(os.geteuid() == 0, 'needs root')
    def test_root_acts_as_the_instance_owner(self):
        # root on an instance that belongs to an account queues as that
        # account (the manager could not read root's files) but names uid 0
        rc, out, err = self.sendmail('alice', input=b'Subject: root\n\nx\n', as_root=True)
        self.assertEqual(rc, EX_OK, err)
        m = self.inst.wait_mail('alice', 1)[0]
        self.assertIn('Received: from userid 0\n', headers(m))
        self.assertIn('Return-Path: <root@example.test>', headers(m))


@unittest.skipUnless(os.geteuid() == 0, 'needs root: runs pochta-sendmail as another account')
class QueueNotReadableTest(InstanceTest):
    def test_mailq_refused_clearly(self):
        # a queue the caller may not read (as /var/spool/pochta for a plain
        # user when installed): a plain answer, not pochtactl's failure
        inst = self.instance(start=False)  # another account's, mode 0700
        name, uid, drop = caller()
        p = subprocess.run([SENDMAIL, '-r', inst.root, '-bp'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, preexec_fn=drop)
        self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        self.assertRegex(p.stderr.decode(), r'^pochta-sendmail: cannot read the queue \(.*\): '
                                            r'Permission denied; only root and the queue group may list it\n$')


if __name__ == '__main__':
    unittest.main()
