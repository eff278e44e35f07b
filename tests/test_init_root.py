"""`pochtactl -r ROOT init` run by root without --user makes an instance that
is to run as separate users: it ends as `pochtactl setup` does, creating the
default accounts (pochtad, pochtaq, pochtar, pochtav, group pochta) when they
are missing and giving the queue and mailboxes to them; --no-setup leaves that
for later. The accounts are made in a private mount namespace over a copy of
/etc, so the host's account databases are never touched. Needs root and
unshare(1); skips with a message otherwise."""
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import unittest

from pochta import copy_build

# what the namespace runs: /etc replaced by the copy, then pochtactl
NS = 'mount --make-rprivate / && mount --bind "$1" /etc && shift && exec "$@"'


def db(path):
    """name -> (id, gid or None) from a copied passwd or group file"""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip('\n').split(':')
            if len(p) >= 3:
                out[p[0]] = (int(p[2]), int(p[3]) if len(p) > 3 and p[3].isdigit() else None)
    return out


@unittest.skipUnless(os.geteuid() == 0, 'needs root: init as root creates accounts')
@unittest.skipUnless(shutil.which('unshare'), 'unshare(1) missing (Debian: util-linux)')
class InitAsRoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pochta-initroot-')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)
        self.etc = os.path.join(self.tmp, 'etc')
        subprocess.run(['cp', '-a', '/etc', self.etc], check=True)
        self.libexec = copy_build()  # setup makes its pochta-enqueue setgid
        self.addCleanup(shutil.rmtree, self.libexec, True)
        with open('/etc/passwd') as f:
            self.host_passwd = f.read()

    def init(self, *extra):
        root = os.path.join(self.tmp, 'inst')
        env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}
        env['POCHTA_LIBEXEC'] = self.libexec
        p = subprocess.run(['unshare', '--mount', 'sh', '-c', NS, 'sh', self.etc,
                            os.path.join(self.libexec, 'pochtactl'), '-r', root, 'init',
                            '--domain', 'example.test'] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120)
        # the host's own accounts are as they were
        with open('/etc/passwd') as f:
            self.assertEqual(f.read(), self.host_passwd)
        return root, p

    def owner(self, path):
        st = os.lstat(path)
        return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)

    def test_init_sets_up_the_users(self):
        had = set(db(os.path.join(self.etc, 'passwd')))
        root, p = self.init()
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertIn('pochta instance created in %s' % root, out)
        self.assertIn('setup done: %s' % root, out)
        users = db(os.path.join(self.etc, 'passwd'))
        groups = db(os.path.join(self.etc, 'group'))
        for u in ('pochtad', 'pochtaq', 'pochtar', 'pochtav'):
            self.assertIn(u, users)
            self.assertNotEqual(users[u][0], 0)
            if u not in had:
                self.assertIn('created user %s' % u, out)
        q, v, g = users['pochtaq'][0], users['pochtav'], groups['pochta'][0]
        self.assertEqual(self.owner(os.path.join(root, 'queue')), (q, g, 0o2750))
        self.assertEqual(self.owner(os.path.join(root, 'queue', 'incoming')), (q, g, 0o2770))
        self.assertEqual(self.owner(os.path.join(root, 'queue', 'commit')), (q, g, 0o660))
        self.assertEqual(self.owner(os.path.join(root, 'mail', 'postmaster')), (v[0], v[1], 0o700))
        self.assertEqual(self.owner(os.path.join(root, 'etc', 'passwd')), (0, 0, 0o600))
        enq = os.stat(os.path.join(self.libexec, 'pochta-enqueue'))
        self.assertEqual((stat.S_IMODE(enq.st_mode), enq.st_gid), (0o2755, g))

    def test_no_setup(self):
        root, p = self.init('--no-setup')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b'setup', p.stdout)
        self.assertNotIn(b'created user', p.stdout)
        self.assertEqual(self.owner(os.path.join(root, 'queue'))[:2], (0, 0))
        # no account made in the copy either
        for u in ('pochtad', 'pochtaq'):
            self.assertEqual(u in db(os.path.join(self.etc, 'passwd')),
                             u in {pw.pw_name for pw in pwd.getpwall()})

    def test_with_user_no_setup(self):
        # one account for the whole instance: nothing to set up
        root, p = self.init('--user', 'nobody')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b'setup done', p.stdout)
        self.assertEqual(os.lstat(os.path.join(root, 'queue')).st_uid, pwd.getpwnam('nobody').pw_uid)


if __name__ == '__main__':
    unittest.main()
