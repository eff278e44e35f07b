"""pochta-remote installed and started as root (by a queue manager that still
runs as root there) becomes remote_user before it reads a request, and refuses
to run as root when it cannot. Needs root (CI runs as root) and an /etc/pochta
it may create and remove; skips with a message otherwise."""
import os
import pwd
import shutil
import socket
import subprocess
import unittest

from pochta import prog, wait_until

ETC = '/etc/pochta'
ACCOUNT = 'nobody'


def ids(pid):
    with open('/proc/%d/status' % pid) as f:
        st = dict(line.split(':', 1) for line in f)
    return (st['Uid'].split(), st['Gid'].split(), st['Groups'].split())


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


if __name__ == '__main__':
    unittest.main()
