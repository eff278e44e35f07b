"""Installed and started as root (by a pochta-qmgr run by hand as root; under
pochta-master they are started as their users), the delivery agents never
handle mail as root: pochta-remote becomes
remote_user before it reads a request (and refuses to run as root when it
cannot); pochta-local writes each Maildir as its owner and refuses one that
root owns. Needs root (CI runs as root) and an /etc/pochta and /var/mail/pochta
it may create and remove; skips with a message otherwise."""
import os
import pwd
import shutil
import socket
import subprocess
import unittest

from pochta import proc_status, prog, wait_until

ETC = '/etc/pochta'
MAIL = '/var/mail/pochta'
ACCOUNT = 'nobody'


def ids(pid):
    st = proc_status(pid)
    return (st['Uid'], st['Gid'], st['Groups'])


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root)')
@unittest.skipIf(os.path.exists(ETC), ETC + ' exists: not touching a real installation')
class RemoteDropsRoot(unittest.TestCase):
    def setUp(self):
        os.mkdir(ETC)
        self.addCleanup(shutil.rmtree, ETC, True)

    def worker(self, conf):
        with open(os.path.join(ETC, 'pochta.conf'), 'w') as f:
            f.write(conf)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}
        env['POCHTA_LOG'] = 'stderr'
        p = subprocess.Popen([prog('pochta-remote'), '-w'], stdin=theirs, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        theirs.close()
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p, ours

    def test_becomes_remote_user(self):
        pw = pwd.getpwnam(ACCOUNT)
        p, sock = self.worker('remote_user = %s\n' % ACCOUNT)
        want = [str(pw.pw_uid)] * 4
        wait_until(lambda: p.poll() is None and ids(p.pid)[0] == want, 10, 0.02, 'the drop')
        uid, gid, groups = ids(p.pid)
        self.assertEqual(gid, [str(pw.pw_gid)] * 4)
        self.assertNotIn('0', groups)
        sock.close()  # the queue manager went away: the worker exits cleanly
        self.assertEqual(p.wait(10), 0)

    def test_refuses_root_without_the_account(self):
        p, sock = self.worker('remote_user = nosuchaccountxyz\n')
        self.assertEqual(p.wait(10), 111)
        self.assertIn(b'refusing to run as root', p.stderr.read())
        sock.close()


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root)')
@unittest.skipIf(os.path.exists(ETC) or os.path.exists(MAIL),
                 ETC + ' or ' + MAIL + ' exists: not touching a real installation')
class LocalNeverAsRoot(unittest.TestCase):
    def setUp(self):
        os.mkdir(ETC)
        self.addCleanup(shutil.rmtree, ETC, True)
        os.makedirs(MAIL)
        self.addCleanup(shutil.rmtree, MAIL, True)
        with open(os.path.join(ETC, 'pochta.conf'), 'w') as f:
            f.write('local_domains = example.test\n')
        with open(os.path.join(ETC, 'users'), 'w') as f:
            f.write('alice\nbob\n')
        for u in ('alice', 'bob'):
            for d in ('tmp', 'new', 'cur'):
                os.makedirs(os.path.join(MAIL, u, d))
        pw = pwd.getpwnam(ACCOUNT)
        for top, dirs, files in os.walk(os.path.join(MAIL, 'bob')):
            os.chown(top, pw.pw_uid, pw.pw_gid)

    def deliver(self, rcpt):
        env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}
        return subprocess.run([prog('pochta-local'), '-q', 'TESTQID', '-f', 's@remote.test', '--',
                               rcpt], input=b'Subject: x\r\n\r\nhi\r\n', stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, timeout=30)

    def test_root_owned_maildir_refused(self):
        p = self.deliver('alice@example.test')
        self.assertEqual(p.returncode, 111, p.stderr)
        self.assertIn(b'refusing to write mail as root', p.stdout)
        self.assertEqual(os.listdir(os.path.join(MAIL, 'alice', 'new')), [])

    def test_written_as_the_owner(self):
        p = self.deliver('bob@example.test')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        new = os.path.join(MAIL, 'bob', 'new')
        files = os.listdir(new)
        self.assertEqual(len(files), 1)
        self.assertEqual(os.stat(os.path.join(new, files[0])).st_uid, pwd.getpwnam(ACCOUNT).pw_uid)


if __name__ == '__main__':
    unittest.main()
