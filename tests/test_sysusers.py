"""Mail for the host's accounts (local_system_users): RCPT, delivery into
HOME/Maildir/ as the account, and POP3 with the system password. Needs root
(throwaway accounts are made with useradd, prefix ptsu) and skips otherwise.

The instance is started as root with its service accounts (smtpd_user and the
others, also ptsu...) made by `pochtactl -r ROOT setup`, so the test holds
whether the instance runs every program as root or each as its own user."""
import os
import poplib
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from hostacct import claim_accounts, run
from pochta import Instance, copy_build, prog, wait_until

MSG = b'Subject: for a system user\r\n\r\nhello from the test\r\n'
SERVICE = {'smtpd_user': 'ptsud', 'qmgr_user': 'ptsuq', 'remote_user': 'ptsur',
           'virtual_user': 'ptsuv', 'queue_group': 'ptsug'}
SERVICE_USERS = [SERVICE[k] for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user')]










@unittest.skipUnless(os.geteuid() == 0, 'needs root: makes host accounts (useradd) and delivers as them')
class SystemUsers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        claim_accounts(cls.addClassCleanup, ['ptsu1', 'ptsu2', 'ptsu3', 'ptsu4'] + SERVICE_USERS,
                       [SERVICE['queue_group']])
        cls.homes = tempfile.mkdtemp(prefix='ptsu-homes-')
        os.chmod(cls.homes, 0o755)
        cls.addClassCleanup(shutil.rmtree, cls.homes, True)
        # ptsu2 first: it gets the lower uid, below the minimum set from ptsu1's
        cls.pw = {}
        for n in ('ptsu2', 'ptsu1', 'ptsu3', 'ptsu4'):
            run('useradd', '-m', '-d', os.path.join(cls.homes, n), '-s', '/bin/sh', n)
            run('chpasswd', input=('%s:pw-%s\n' % (n, n)).encode())
            cls.pw[n] = pwd.getpwnam(n)
        if not (1000 <= cls.pw['ptsu2'].pw_uid < cls.pw['ptsu1'].pw_uid):
            raise unittest.SkipTest('uids not as the test needs: %d, %d' % (
                cls.pw['ptsu2'].pw_uid, cls.pw['ptsu1'].pw_uid))
        minimum = min(cls.pw[n].pw_uid for n in ('ptsu1', 'ptsu3', 'ptsu4'))
        # ptsu3: a locked password; ptsu4: its Maildir a link to elsewhere
        run('usermod', '-L', 'ptsu3')
        cls.elsewhere = os.path.join(cls.homes, 'elsewhere')
        os.mkdir(cls.elsewhere)
        os.chown(cls.elsewhere, cls.pw['ptsu4'].pw_uid, cls.pw['ptsu4'].pw_gid)
        os.symlink(cls.elsewhere, os.path.join(cls.homes, 'ptsu4', 'Maildir'))

        conf = dict(SERVICE, local_system_users='1', local_uid_minimum=str(minimum))
        # the service accounts, each program as its own (no instance_user)
        libexec = copy_build()  # setup makes its pochta-enqueue setgid
        cls.addClassCleanup(shutil.rmtree, libexec, True)
        cls.inst = Instance(users={'alice': 'alice-pw'}, conf=conf, no_account=True, libexec=libexec)
        cls.addClassCleanup(cls.inst.cleanup)
        os.chmod(cls.inst.root, 0o755)  # the service accounts reach their files
        cls.inst.ctl('setup')
        cls.inst.start()
        cls.inst.wait_listening(cls.inst.pop3_port)

    def home(self, n, *rel):
        return os.path.join(self.homes, n, *rel)

    def new_files(self, n, rel='Maildir/new'):
        d = self.home(n, rel)
        try:
            return sorted(os.path.join(d, f) for f in os.listdir(d))
        except FileNotFoundError:
            return []

    def rcpt(self, addr):
        with self.inst.smtp() as s:
            s.ehlo('client.test')
            s.mail('sender@remote.test')
            return s.rcpt(addr)

    def test_rcpt(self):
        # root is no system user, but (pochta-aliases(5)) the postmaster mailbox
        for a in ('ptsu1@example.test', 'PTSU1@example.test', 'ptsu1+lists@example.test',
                  'alice@example.test', 'root@example.test'):
            self.assertEqual(self.rcpt(a)[0], 250, a)
        for a in ('ptsu2@example.test', 'daemon@example.test',
                  'ptsu-none@example.test'):
            code, text = self.rcpt(a)
            self.assertEqual(code, 550, a)
            self.assertTrue(text.startswith(b'5.1.1'), text)

    def test_delivered_into_home_as_the_account(self):
        pw = self.pw['ptsu1']
        self.assertFalse(os.path.exists(self.home('ptsu1', 'Maildir')))
        with self.inst.smtp() as s:
            s.sendmail('sender@remote.test', ['ptsu1+x@example.test'], MSG)
        wait_until(lambda: self.new_files('ptsu1'), 20, 0.05, 'mail in ~ptsu1/Maildir/new')
        [f] = self.new_files('ptsu1')
        st = os.stat(f)
        self.assertEqual((st.st_uid, st.st_gid), (pw.pw_uid, pw.pw_gid))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        for sub in ('', 'tmp', 'new', 'cur'):
            st = os.lstat(self.home('ptsu1', 'Maildir', sub))
            self.assertTrue(stat.S_ISDIR(st.st_mode), sub)
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                             (pw.pw_uid, pw.pw_gid, 0o700), sub)
        with open(f, 'rb') as fh:
            body = fh.read()
        self.assertIn(b'Delivered-To: ptsu1+x@example.test\n', body)
        self.assertIn(b'hello from the test', body)

        # POP3 with the system password, served from ~/Maildir
        p = poplib.POP3('127.0.0.1', self.inst.pop3_port, timeout=20)
        try:
            p.user('ptsu1')
            p.pass_('pw-ptsu1')
            self.assertEqual(p.stat()[0], 1)
            resp, lines, _ = p.retr(1)
            self.assertIn(b'hello from the test', lines)
            p.quit()
        finally:
            p.close()
        self.assertEqual(self.new_files('ptsu1'), [])  # moved to cur/ by the session
        for f in os.listdir(self.home('ptsu1', 'Maildir', 'cur')):
            self.assertEqual(os.stat(self.home('ptsu1', 'Maildir', 'cur', f)).st_uid, pw.pw_uid)
        st = os.stat(self.home('ptsu1', 'Maildir', 'pop3.lock'))
        self.assertEqual(st.st_uid, pw.pw_uid)

    def pop3_fails(self, user, password):
        p = poplib.POP3('127.0.0.1', self.inst.pop3_port, timeout=20)
        try:
            p.user(user)
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(password)
            return cm.exception.args[0]
        finally:
            p.close()

    def test_pop3_refusals(self):
        # the same answer as for a virtual user's wrong password
        want = b'-ERR [AUTH] invalid user name or password'
        self.assertEqual(self.pop3_fails('alice', 'wrong'), want)
        self.assertEqual(self.pop3_fails('ptsu1', 'wrong'), want)
        self.assertEqual(self.pop3_fails('ptsu3', 'pw-ptsu3'), want)   # locked
        self.assertEqual(self.pop3_fails('ptsu2', 'pw-ptsu2'), want)   # uid below the minimum
        self.assertEqual(self.pop3_fails('root', 'x'), want)
        self.assertFalse(os.path.exists(self.home('ptsu2', 'Maildir')))

    def test_expired_account(self):
        run('chage', '-E', '1', 'ptsu1')  # expired on 2 January 1970
        self.addCleanup(run, 'chage', '-E', '-1', 'ptsu1')
        self.assertEqual(self.pop3_fails('ptsu1', 'pw-ptsu1'),
                         b'-ERR [AUTH] invalid user name or password')

    def test_symlinked_maildir_refused(self):
        with self.inst.smtp() as s:
            s.sendmail('sender@remote.test', ['ptsu4@example.test'], MSG)
        wait_until(lambda: 'ptsu4' in self.inst.log() and 'a symbolic link, not followed' in self.inst.log(),
                   20, 0.05, 'the refusal in the log')
        self.assertEqual(os.listdir(self.elsewhere), [])
        self.assertTrue(os.path.islink(self.home('ptsu4', 'Maildir')))
        # kept, to be tried again: a temporary failure
        self.assertTrue(self.inst.queue_files())

    def local(self, rcpt):
        p = subprocess.run([prog('pochta-local'), '-f', 's@remote.test', '--', rcpt], input=MSG,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.inst.env(),
                           timeout=30)
        return p.returncode, p.stdout

    def test_one_shot_delivery(self):
        # the same checks at delivery as at RCPT
        rc, out = self.local('ptsu2@example.test')
        self.assertEqual(rc, 100, out)
        self.assertRegex(out, rb' P 5\.1\.1 user unknown')
        self.assertEqual(self.local('daemon@example.test')[0], 100)  # root: the postmaster's now
        self.assertFalse(os.path.exists(self.home('ptsu2', 'Maildir')))
        rc, out = self.local('ptsu4@example.test')
        self.assertEqual(rc, 111, out)
        self.assertIn(b'4.2.0 mailbox unavailable: Maildir: a symbolic link, not followed', out)
        self.assertEqual(os.listdir(self.elsewhere), [])
        # the one-shot mode writes as the account too (its Maildir in place)
        pw = self.pw['ptsu3']
        rc, out = self.local('ptsu3@example.test')
        self.assertEqual(rc, 0, out)
        [f] = self.new_files('ptsu3')
        self.assertEqual(os.stat(f).st_uid, pw.pw_uid)


@unittest.skipUnless(os.geteuid() == 0, 'needs root: makes a host account (useradd)')
class NotAnInstanceUser(unittest.TestCase):
    """an instance's users are its etc/users: init turns system users off, and
    a pochta.conf not owned by root has none whatever the key says"""

    def setUp(self):
        claim_accounts(self.addCleanup, ['ptsu5'] + SERVICE_USERS, [SERVICE['queue_group']])
        self.homes = tempfile.mkdtemp(prefix='ptsu-homes-')
        self.addCleanup(shutil.rmtree, self.homes, True)
        run('useradd', '-m', '-d', os.path.join(self.homes, 'ptsu5'), 'ptsu5')
        # root's instance, its pochta.conf root's (system users allowed), each
        # program as its service account (no instance_user)
        libexec = copy_build()  # setup makes its pochta-enqueue setgid
        self.addCleanup(shutil.rmtree, libexec, True)
        self.inst = Instance(users={'alice': 'alice-pw'}, conf=SERVICE, no_account=True,
                             libexec=libexec)
        self.addCleanup(self.inst.cleanup)
        os.chmod(self.inst.root, 0o755)  # the service accounts reach their files
        self.inst.ctl('setup')

    def rcpt(self):
        self.inst.start()
        try:
            with self.inst.smtp() as s:
                s.ehlo('client.test')
                s.mail('sender@remote.test')
                return s.rcpt('ptsu5@example.test')[0]
        finally:
            self.inst.stop()

    def test_init_default_off(self):
        with open(os.path.join(self.inst.root, 'etc', 'pochta.conf')) as f:
            self.assertRegex(f.read(), r'(?m)^local_system_users = 0$')
        if pwd.getpwnam('ptsu5').pw_uid < 1000:
            self.skipTest('useradd gave ptsu5 a uid below 1000')
        self.assertEqual(self.rcpt(), 550)
        self.inst.ctl('config', 'set', 'local_system_users', '1')
        self.assertEqual(self.rcpt(), 250)
        # the same file given to an ordinary account: no system users
        conf = os.path.join(self.inst.root, 'etc', 'pochta.conf')
        pw = pwd.getpwnam('ptsu5')
        os.chown(conf, pw.pw_uid, pw.pw_gid)
        self.assertEqual(self.rcpt(), 550)


if __name__ == '__main__':
    unittest.main()
