"""pochta-master started as root: an instance given to one account
(pochtactl init --user) runs every program as that account, after binding its
listeners as root, and nothing of it is written as root. Needs root (CI runs
as root); skipped with a message otherwise."""
import os
import pwd
import subprocess
import tempfile
import shutil
import unittest

from pochta import CTL, Instance, InstanceTest, pids_of_root, proc_status, prog, wait_until

ACCOUNT = 'nobody'


def status_ids(pid):
    """(Uid, Gid, Groups) of /proc/PID/status, as lists of ints"""
    st = proc_status(pid)
    return tuple([int(x) for x in st[k]] for k in ('Uid', 'Gid', 'Groups'))


def argv0(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return os.path.basename(f.read().split(b'\0')[0])
    except OSError:
        return b''


@unittest.skipUnless(os.geteuid() == 0, 'needs root: pochta-master drops privileges only when started as root')
class InstanceUserTest(InstanceTest):
    def setUp(self):
        self.pw = pwd.getpwnam(ACCOUNT)
        self.groups = sorted(os.getgrouplist(ACCOUNT, self.pw.pw_gid))

    def assert_account(self, pid, what):
        uid, gid, groups = status_ids(pid)
        self.assertEqual(uid, [self.pw.pw_uid] * 4, what)
        self.assertEqual(gid, [self.pw.pw_gid] * 4, what)
        self.assertEqual(sorted(groups), self.groups, what)

    def test_everything_runs_as_the_account(self):
        inst = self.instance(user=ACCOUNT, users={'alice': 'secret'})
        self.assertIn('running as %s uid=%d' % (ACCOUNT, self.pw.pw_uid), inst.log())
        # the supervisor itself, once its listener is bound
        self.assert_account(inst.proc.pid, 'pochta-master')
        qmgr = wait_until(lambda: [p for p in pids_of_root(inst.root) if argv0(p) == b'pochta-qmgr'],
                          10, what='qmgr running')
        self.assert_account(qmgr[0], 'pochta-qmgr')
        r = inst.raw()
        self.assertEqual(r.reply()[0], 220)
        smtpd = [p for p in inst.sessions() if argv0(p) == b'pochta-smtpd']
        self.assertEqual(len(smtpd), 1)
        self.assert_account(smtpd[0], 'pochta-smtpd')
        r.close()
        # a message delivered and read back: the mail is the account's
        with inst.smtp() as s:
            s.sendmail('a@client.test', ['alice@example.test'], 'Subject: t\r\n\r\nhello\r\n')
        files = inst.wait_mail('alice', 1)
        self.assertIn(b'hello', files[0])
        self.assertEqual(os.stat(inst.mail_files('alice')[0]).st_uid, self.pw.pw_uid)
        p = inst.pop3()
        p.user('alice')
        p.pass_('secret')
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        self.assertEqual(inst.stop(), 0)
        wait_until(lambda: not pids_of_root(inst.root), 5, 0.05, 'no process of the instance left')
        # nothing in the tree belongs to root: not the files init, user add
        # (run as root here) or the supervisor made
        for d, dirs, names in os.walk(inst.root):
            for n in [d] + [os.path.join(d, x) for x in dirs + names]:
                self.assertEqual(os.lstat(n).st_uid, self.pw.pw_uid, n)

    def test_root_admin_commands_act_as_the_account(self):
        inst = self.instance(user=ACCOUNT, start=False)
        inst.ctl('user', 'add', 'bob', input='pw\n')
        inst.ctl('config', 'set', 'max_recipients', '7')
        for rel in ('etc/passwd', 'etc/users', 'etc/pochta.conf', 'mail/bob', 'mail/bob/new'):
            self.assertEqual(os.stat(os.path.join(inst.root, rel)).st_uid, self.pw.pw_uid, rel)
        self.assertEqual(inst.ctl('config', 'get', 'instance_user').stdout, ACCOUNT.encode() + b'\n')

    def test_queue_not_the_accounts(self):
        # an instance made by root, then told to run as an account without
        # giving it the files: refused at start, saying what to do
        inst = self.instance(start=False, no_account=True)
        inst.ctl('config', 'set', 'instance_user', ACCOUNT)
        p = subprocess.run([CTL, '-r', inst.root, 'start'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, env=inst.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'is not owned by instance_user nobody (chown -R nobody', p.stderr)
        self.assertEqual(pids_of_root(inst.root), [])

    def test_no_such_account(self):
        inst = self.instance(start=False, no_account=True)
        # a config written by hand, naming an account that does not exist
        with open(os.path.join(inst.root, 'etc', 'pochta.conf'), 'a') as f:
            f.write('instance_user = pochta-no-such\n')
        p = subprocess.run([prog('pochta-master'), '-r', inst.root], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, env=inst.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'pochta-master: instance_user pochta-no-such: no such user', p.stderr)

    def test_root_instance_without_accounts_refused(self):
        # no instance_user: each program as its own user (tests/test_spawn.py),
        # never everything as root; accounts that do not exist are refused
        inst = self.instance(start=False, no_account=True)
        inst.ctl('config', 'set', 'smtpd_user', 'pochta-no-such')
        p = subprocess.run([CTL, '-r', inst.root, 'start'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, env=inst.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'started as root, each program runs as its own user, but smtpd_user'
                      b' pochta-no-such: no such user', p.stderr)
        self.assertEqual(pids_of_root(inst.root), [])


@unittest.skipUnless(os.geteuid() == 0, 'needs root: init --user gives the instance to another account')
class InitUserTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pochta-inituser-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def init(self, *extra):
        root = os.path.join(self.tmp, 'i')
        p = subprocess.run([CTL, '-r', root, 'init', '--domain', 'example.test'] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        return root, p

    def test_refusals_create_nothing(self):
        for user, msg in (('pochta-no-such', b'no such user: pochta-no-such'),
                          ('root', b'not a system account name'),
                          ('Bad', b'not a system account name')):
            root, p = self.init('--user', user)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(msg, p.stderr)
            self.assertFalse(os.path.exists(root), user)

    def test_unreachable_parent(self):
        # mkdtemp's directory is 0700 root: the account could not get in
        root, p = self.init('--user', ACCOUNT)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'nobody cannot reach %s' % self.tmp.encode(), p.stderr)
        self.assertFalse(os.path.exists(root))

    def test_tree_given_to_the_account(self):
        os.chmod(self.tmp, 0o755)
        root, p = self.init('--user', ACCOUNT)
        self.assertEqual(p.returncode, 0, p.stderr)
        uid = pwd.getpwnam(ACCOUNT).pw_uid
        n = 0
        for d, dirs, names in os.walk(root):
            for x in [d] + [os.path.join(d, y) for y in dirs + names]:
                self.assertEqual(os.lstat(x).st_uid, uid, x)
                n += 1
        self.assertGreater(n, 10)
        with open(os.path.join(root, 'etc', 'pochta.conf')) as f:
            self.assertIn('\ninstance_user = nobody\n', f.read())


class FindMasterTest(unittest.TestCase):
    """how pochtactl start finds the supervisor, and its command line"""

    def test_start_without_master(self):
        # a pochtactl alone in its directory, with no pochta-master anywhere it looks
        d = tempfile.mkdtemp(prefix='pochta-nomaster-')
        self.addCleanup(shutil.rmtree, d, True)
        shutil.copy(CTL, os.path.join(d, 'pochtactl'))
        if os.path.exists('/usr/local/libexec/pochta/pochta-master'):
            self.skipTest('an installed pochta-master would be found')
        inst = Instance()
        self.addCleanup(inst.cleanup)
        env = dict(inst.env(), POCHTA_LIBEXEC=d)
        p = subprocess.run([os.path.join(d, 'pochtactl'), '-r', inst.root, 'start'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20, env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'pochtactl: pochta-master not found (looked in POCHTA_LIBEXEC', p.stderr)
        self.assertEqual(pids_of_root(inst.root), [])

    def test_usage(self):
        for args in (['-x'], ['extra'], ['-r']):
            p = subprocess.run([prog('pochta-master')] + args, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=20)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(b'usage: pochta-master [-r ROOT]', p.stderr)


if __name__ == '__main__':
    unittest.main()
