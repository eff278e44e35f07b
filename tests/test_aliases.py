"""Aliases and forwarding (pochta-aliases(5)): ROOT/etc/aliases expanded by
pochta-local into Maildirs, commands, files, :include: lists and other
domains; loops bounced; the RFC 2142 names and root; `pochtactl aliases`,
newaliases and `pochta-sendmail -bi`; ~/.forward for system users.

As root, the instance belongs to a throwaway account (ptal1, made with
useradd and removed) and its delivery workers run as that account; the
.forward test (root only) makes a system user ptal2 and service accounts
ptald/ptalq/ptalr/ptalv/ptalg, as test_sysusers does."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from hostacct import claim_accounts, run
from pochta import Instance, alive, copy_build, proc_status, prog, wait_until

OWNER = 'ptal1'










class Aliases(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        user = None
        if os.geteuid() == 0:
            claim_accounts(cls.addClassCleanup, [OWNER])
            run('useradd', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', OWNER)
            user = OWNER
        cls.out = tempfile.mkdtemp(prefix='ptal-out-')
        cls.addClassCleanup(shutil.rmtree, cls.out, True)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(cls.out, pw.pw_uid, pw.pw_gid)
        os.chmod(cls.out, 0o755)
        cls.inst = Instance(users={'alice': 'a', 'bob': 'b', 'carol': 'c'}, user=user,
                            conf={'retry_min': '1', 'retry_max': '2'})
        cls.addClassCleanup(cls.inst.cleanup)
        os.chmod(cls.inst.root, 0o755)
        cls.include = os.path.join(cls.out, 'list')
        with open(cls.include, 'w') as f:
            f.write('# the list\nalice\n bob , carol\n')
        o = cls.out
        cls.write_aliases(
            '# test aliases\n'
            'team: alice,\n'
            '  bob\n'
            'chain: team\n'
            'loopa: loopb\n'
            'loopb: loopa\n'
            'inc: :include:%s\n' % cls.include +
            'pipe: "|cat > %s/pipe.txt; echo \\"$SENDER $RECIPIENT $LOCAL $EXTENSION $DOMAIN\\" > %s/env.txt"\n' % (o, o) +
            'flaky: "|test -e %s/flag || { echo not yet; exit 75; }; cat > %s/flaky.txt"\n' % (o, o) +
            'broken: "|echo no such list here; exit 1"\n'
            'archive: %s/archive.mbox\n' % o +
            'keep: keep, "|cat > %s/keep.txt"\n' % o +
            '"Sales Team": alice\n'
            'root: carol\n'
            'far: someone@elsewhere.test\n')
        cls.inst.ctl('aliases')
        cls.inst.start()

    @classmethod
    def write_aliases(cls, text):
        path = os.path.join(cls.inst.root, 'etc', 'aliases')
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o644)

    def send(self, rcpts, body=b'hello\r\n', sender='carol@example.test', headers=b''):
        with self.inst.smtp() as s:
            s.sendmail(sender, rcpts, b'Subject: alias test\r\n' + headers + b'\r\n' + body)

    def read(self, name):
        with open(os.path.join(self.out, name), 'rb') as f:
            return f.read()

    def wait_file(self, name, timeout=20):
        p = os.path.join(self.out, name)
        wait_until(lambda: os.path.exists(p) and os.path.getsize(p) > 0, timeout, 0.05, p)

    def bounces(self, user, needle):
        return [m for m in self.inst.mails(user) if needle in m and b'message/delivery-status' in m]

    def wait_bounce(self, user, needle, timeout=20):
        wait_until(lambda: self.bounces(user, needle), timeout, 0.05, 'a bounce with %r' % needle)
        return self.bounces(user, needle)[0]

    def test_chain(self):
        na, nb = len(self.inst.mails('alice')), len(self.inst.mails('bob'))
        self.send(['chain@example.test'], b'via the chain\r\n')
        a = self.inst.wait_mail('alice', na + 1)
        b = self.inst.wait_mail('bob', nb + 1)
        self.assertIn(b'via the chain', a[-1])
        self.assertIn(b'Delivered-To: alice@example.test\n', a[-1])
        self.assertIn(b'via the chain', b[-1])
        # a quoted name, matched without regard to case
        self.send(['"sales team"@example.test'], b'to sales\r\n')
        wait_until(lambda: any(b'to sales' in m for m in self.inst.mails('alice')), 20, 0.05,
                   'sales in alice')

    def test_loop_bounced(self):
        self.send(['loopa@example.test'], b'round and round\r\n')
        m = self.wait_bounce('carol', b'alias loop')
        self.assertIn(b'5.4.6', m)
        self.assertIn(b'loopa -> loopb -> loopa', m)
        # mail that went through this alias already (Delivered-To) is a loop too
        self.send(['team@example.test'], b'back again\r\n',
                  headers=b'Delivered-To: team@example.test\r\n')
        m = self.wait_bounce('carol', b'forwarding loop')
        self.assertIn(b'5.4.6', m)

    def test_include(self):
        n = {u: len(self.inst.mails(u)) for u in ('alice', 'bob', 'carol')}
        self.send(['inc@example.test'], b'for the list\r\n', sender='someone@remote.test')
        for u in ('alice', 'bob', 'carol'):
            got = self.inst.wait_mail(u, n[u] + 1)
            self.assertTrue(any(b'for the list' in m for m in got), u)

    def test_pipe(self):
        self.send(['pipe+ext@example.test'], b'into a program\r\n')
        self.wait_file('pipe.txt')
        self.wait_file('env.txt')
        got = self.read('pipe.txt')
        self.assertTrue(got.startswith(b'Return-Path: <carol@example.test>\nDelivered-To: '
                                       b'pipe+ext@example.test\n'), got[:200])
        self.assertIn(b'into a program', got)
        self.assertEqual(self.read('env.txt'),
                         b'carol@example.test pipe+ext@example.test pipe ext example.test\n')

    def test_pipe_tempfail_retried(self):
        self.send(['flaky@example.test'], b'eventually\r\n')
        wait_until(lambda: 'exit status 75' in self.inst.log(), 20, 0.05, 'a deferral')
        self.assertFalse(os.path.exists(os.path.join(self.out, 'flaky.txt')))
        self.assertTrue(self.inst.queue_files())
        open(os.path.join(self.out, 'flag'), 'w').close()
        self.inst.ctl('queue', 'flush')
        self.wait_file('flaky.txt', 30)
        self.assertIn(b'eventually', self.read('flaky.txt'))

    def test_pipe_permfail_bounced(self):
        self.send(['broken@example.test'], b'nobody home\r\n')
        m = self.wait_bounce('carol', b'no such list here')
        self.assertIn(b'5.3.0', m)
        self.assertIn(b'exit status 1', m)

    def test_file(self):
        self.send(['archive@example.test'], b'first\r\nFrom the start\r\n')
        self.send(['archive@example.test'], b'second\r\n')
        p = os.path.join(self.out, 'archive.mbox')
        wait_until(lambda: os.path.exists(p) and open(p, 'rb').read().count(b'second') == 1,
                   20, 0.05, 'two messages in the mbox')
        data = self.read('archive.mbox')
        self.assertEqual(len(re.findall(rb'^From carol@example\.test ', data, re.M)), 2)
        self.assertIn(b'\n>From the start\n', data)
        self.assertNotIn(b'\nFrom the start', data)
        self.assertIn(b'Delivered-To: archive@example.test\n', data)
        self.assertEqual(os.stat(p).st_mode & 0o777, 0o600)

    def test_self_reference(self):
        # Postfix's rule: a name in its own expansion is the user; none here
        self.send(['keep@example.test'], b'kept\r\n')
        m = self.wait_bounce('carol', b'keep@example.test')
        self.assertIn(b'5.1.1', m)
        self.wait_file('keep.txt')  # the rest is delivered

    def test_rfc2142_and_root(self):
        with self.inst.smtp() as s:
            s.ehlo('client.test')
            s.mail('someone@remote.test')
            for r in ('postmaster', 'abuse', 'MAILER-DAEMON', 'root', 'Root+x'):
                self.assertEqual(s.rcpt('%s@example.test' % r)[0], 250, r)
            self.assertEqual(s.rcpt('hostmaster@example.test')[0], 550)
        # root: carol in the aliases file; abuse leads to root (admin_alias)
        n = len(self.inst.mails('carol'))
        self.send(['abuse@example.test'], b'abuse report\r\n', sender='someone@remote.test')
        self.send(['root@example.test'], b'for root\r\n', sender='someone@remote.test')
        got = self.inst.wait_mail('carol', n + 2)
        self.assertTrue(any(b'abuse report' in m for m in got))
        self.assertTrue(any(b'for root' in m for m in got))

    def test_remote_forwarded(self):
        self.send(['far@example.test'], b'to elsewhere\r\n')
        # a new message for the other domain, Delivered-To added, the sender kept
        wait_until(lambda: re.search(r'queued from=<carol@example\.test> nrcpt=1', self.inst.log())
                   and 'forwarded to 1 address as' in self.inst.log(), 20, 0.05, 'forwarding')


class AliasesFile(unittest.TestCase):
    """`pochtactl aliases`, newaliases, -bi: errors with file:line; the
    compiled form is what is used once it exists"""

    def setUp(self):
        user = None
        if os.geteuid() == 0:
            claim_accounts(self.addCleanup, [OWNER])
            run('useradd', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', OWNER)
            user = OWNER
        self.inst = Instance(users={'alice': 'a'}, user=user)
        self.addCleanup(self.inst.cleanup)
        os.chmod(self.inst.root, 0o755)
        self.path = os.path.join(self.inst.root, 'etc', 'aliases')

    def write(self, text):
        with open(self.path, 'w') as f:
            f.write(text)

    def test_errors_name_file_and_line(self):
        for text, line, why in (
                ('ok: alice\n# c\nbad alice\n', 3, 'expected'),
                ('a: alice\n\nA: alice\n', 3, 'listed already (line 1)'),
                ('a: ":include:relative"\n', 1, 'bad target'),
                ('  alice\n', 1, 'continuation'),
                ('a: alice bob\n', 1, 'missing comma'),
                ('a: "|unterminated\n', 1, 'does not end'),
                ('a:\n', 1, 'no targets')):
            self.write(text)
            p = self.inst.ctl('aliases', check=False)
            self.assertEqual(p.returncode, 1, text)
            err = p.stderr.decode()
            self.assertIn('%s:%d: ' % (self.path, line), err, text)
            self.assertIn(why, err, text)
            self.assertFalse(os.path.exists(self.path + '.idx'), text)

    def sendmail(self, *args, argv0='pochta-sendmail'):
        return subprocess.run([argv0] + list(args), executable=prog('pochta-sendmail'),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                              env=self.inst.env())

    def test_newaliases_and_bi(self):
        self.write('team: alice\n')
        for how in (('-bi',), ('-I',)):
            p = self.sendmail('-r', self.inst.root, *how)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b'1 alias', p.stdout)
            os.unlink(self.path + '.idx')
        p = self.sendmail('-r', self.inst.root, argv0='newaliases')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(self.path + '.idx'))
        self.write('team: alice\nteam: alice\n')
        p = self.sendmail('-r', self.inst.root, '-bi')
        self.assertEqual(p.returncode, 65, p.stderr)  # EX_DATAERR
        self.assertIn(('%s:2:' % self.path).encode(), p.stderr)

    def test_compiled_form_is_used(self):
        self.write('team: alice\n')
        self.inst.ctl('aliases')
        self.inst.start()

        def rcpt(a):
            with self.inst.smtp() as s:
                s.ehlo('client.test')
                s.mail('someone@remote.test')
                return s.rcpt(a)[0]
        self.assertEqual(rcpt('team@example.test'), 250)
        # a changed text is not used until it is compiled (as Postfix's .db)
        time.sleep(0.05)
        self.write('team: alice\nnewer: alice\n')
        self.assertEqual(rcpt('newer@example.test'), 550)
        wait_until(lambda: 'is older than' in self.inst.log(), 10, 0.05, 'the warning')
        self.inst.ctl('aliases')
        self.assertEqual(rcpt('newer@example.test'), 250)
        # without a compiled form the text itself is read
        os.unlink(self.path + '.idx')
        self.write('team: alice\nlatest: alice\n')
        self.assertEqual(rcpt('latest@example.test'), 250)
        # a broken text then: 451, nothing refused for good
        self.write('latest alice\n')
        self.assertEqual(rcpt('latest@example.test'), 451)


SERVICE = {'smtpd_user': 'ptald', 'qmgr_user': 'ptalq', 'remote_user': 'ptalr',
           'virtual_user': 'ptalv', 'queue_group': 'ptalg'}


@unittest.skipUnless(os.geteuid() == 0, 'needs root: makes a host account and delivers as it')
class Forward(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        users = ['ptal2'] + [SERVICE[k] for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user')]
        claim_accounts(cls.addClassCleanup, users, [SERVICE['queue_group']])
        cls.homes = tempfile.mkdtemp(prefix='ptal-homes-')
        os.chmod(cls.homes, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.homes, True)
        cls.home = os.path.join(cls.homes, 'ptal2')
        run('useradd', '-m', '-d', cls.home, '-s', '/bin/sh', 'ptal2')
        cls.pw = pwd.getpwnam('ptal2')
        if cls.pw.pw_uid < 1000:
            raise unittest.SkipTest('useradd gave ptal2 a uid below 1000')
        conf = dict(SERVICE, local_system_users='1', local_uid_minimum=str(cls.pw.pw_uid))
        cls.libexec = copy_build()  # setup makes its pochta-enqueue setgid
        cls.addClassCleanup(shutil.rmtree, cls.libexec, True)
        cls.inst = Instance(users={'alice': 'a'}, conf=conf, no_account=True, libexec=cls.libexec)
        cls.addClassCleanup(cls.inst.cleanup)
        os.chmod(cls.inst.root, 0o755)
        cls.inst.ctl('setup')
        cls.inst.start()

    def forward(self, text, mode=0o644, owner=None):
        p = os.path.join(self.home, '.forward')
        with open(p, 'w') as f:
            f.write(text)
        os.chown(p, owner if owner is not None else self.pw.pw_uid, self.pw.pw_gid)
        os.chmod(p, mode)

    def maildir_new(self):
        d = os.path.join(self.home, 'Maildir', 'new')
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def send(self, body):
        with self.inst.smtp() as s:
            s.sendmail('someone@remote.test', ['ptal2@example.test'],
                       b'Subject: fw\r\n\r\n' + body + b'\r\n')

    def test_forward(self):
        out = os.path.join(self.home, 'piped.txt')
        # to alice, to a program run as ptal2, and (\ptal2) the own Maildir
        self.forward('alice, "|id -u > %s; cat >> %s"\n\\ptal2\n' % (out, out))
        n = len(self.inst.mails('alice'))
        self.send(b'forwarded once')
        self.inst.wait_mail('alice', n + 1)
        wait_until(lambda: os.path.exists(out) and b'forwarded once' in open(out, 'rb').read(),
                   20, 0.05, 'the program')
        with open(out, 'rb') as f:
            self.assertTrue(f.read().startswith(b'%d\n' % self.pw.pw_uid))
        self.assertEqual(os.stat(out).st_uid, self.pw.pw_uid)
        wait_until(lambda: len(self.maildir_new()) == 1, 20, 0.05, 'the own Maildir')

        # writable by others: ignored (logged), the Maildir gets the mail
        self.forward('alice\n', mode=0o666)
        n = len(self.inst.mails('alice'))
        self.send(b'not forwarded')
        wait_until(lambda: len(self.maildir_new()) == 2, 20, 0.05, 'the Maildir')
        self.assertIn('.forward: ignored', self.inst.log())
        self.assertEqual(len(self.inst.mails('alice')), n)
        # owned by another account: ignored too
        self.forward('alice\n', owner=pwd.getpwnam('ptalv').pw_uid)
        self.send(b'not forwarded either')
        wait_until(lambda: len(self.maildir_new()) == 3, 20, 0.05, 'the Maildir')
        self.assertEqual(len(self.inst.mails('alice')), n)

    def test_killed_worker_takes_its_command(self):
        # the delivery child becomes ptal2 (the kernel then clears its
        # parent-death signal) and runs the command: both must die with the
        # worker, or a worker killed at its deadline leaves them running
        secs = 5000 + os.getpid() % 4000  # its own mark in the process list
        mark = b'sleep\0%d\0' % secs
        self.forward('"|exec sleep %d"\n' % secs)
        self.send(b'into a long command')

        def sleeper():
            for pid in os.listdir('/proc'):
                if pid.isdigit():
                    try:
                        with open('/proc/%s/cmdline' % pid, 'rb') as f:
                            if f.read() == mark:
                                return int(pid)
                    except OSError:
                        pass
            return None
        sleep = wait_until(sleeper, 20, 0.05, 'the command running')
        self.addCleanup(lambda: alive(sleep) and os.kill(sleep, signal.SIGKILL))
        self.assertEqual(int(proc_status(sleep)['Uid'][0]), self.pw.pw_uid)
        # up from the command: the delivery child, then the root worker
        child = int(proc_status(sleep)['PPid'][0])
        worker = int(proc_status(child)['PPid'][0])
        self.assertEqual(int(proc_status(child)['Uid'][0]), self.pw.pw_uid)
        with open('/proc/%d/cmdline' % worker, 'rb') as f:
            self.assertIn(b'pochta-local', f.read())
        self.assertEqual(int(proc_status(worker)['Uid'][0]), 0)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: not alive(sleep) and not alive(child), 10, 0.05,
                   'the delivery child and its command gone with the worker')
        # the message is delivered again by a new worker; stop it there
        self.forward('\\ptal2\n')
        self.inst.ctl('queue', 'flush')
        wait_until(lambda: len(self.maildir_new()) >= 1, 30, 0.05, 'the retry in the Maildir')


if __name__ == '__main__':
    unittest.main()
