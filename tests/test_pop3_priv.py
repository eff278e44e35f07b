"""pochta-checkpass, the one program that reads password hashes, and
pochta-pop3d started as root: it holds root only until the checker has said
yes, then serves the maildrop as the instance's account. The root parts need
root (CI runs as root) and skip with a message otherwise."""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import unittest

from pochta import InstanceTest, pids_of_root, proc_status, prog, wait_until

ACCOUNT = 'nobody'


def children(pid):
    with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
        return [int(x) for x in f.read().split()]


class CheckpassTest(InstanceTest):
    """the checker's protocol: NAME NUL PASSWORD NUL on stdin, the exit status"""

    def setUp(self):
        self.inst = self.instance(start=False, users={'alice': 'secret pw'})

    def check(self, data, *args):
        p = subprocess.run([prog('pochta-checkpass')] + list(args), input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20,
                           env=dict(self.inst.env(), POCHTA_LOG='stderr'))
        self.assertEqual(p.stdout, b'')  # never a word on its output
        return p.returncode, p.stderr

    def test_answers(self):
        self.assertEqual(self.check(b'alice\0secret pw\0')[0], 0)
        self.assertEqual(self.check(b'alice\0secret\0')[0], 1)
        self.assertEqual(self.check(b'alice\0secret pw \0')[0], 1)
        self.assertEqual(self.check(b'nobody-here\0secret pw\0')[0], 1)
        # -r names the instance as well as POCHTA_ROOT
        self.assertEqual(self.check(b'alice\0secret pw\0', '-r', self.inst.root)[0], 0)

    def test_malformed_requests(self):
        for data in (b'', b'alice', b'alice\0secret pw', b'alice\0secret pw\0x\0',
                     b'Alice\0secret pw\0', b'alice\0\0', b'alice\0' + b'p' * 300 + b'\0'):
            code, err = self.check(data)
            self.assertEqual(code, 100, data)
            self.assertIn(b'malformed request', err)
        self.assertEqual(self.check(b'alice\0secret pw\0', '-x')[0], 100)

    def test_unreadable_hashes_are_temporary(self):
        passwd = os.path.join(self.inst.root, 'etc', 'passwd')
        os.rename(passwd, passwd + '.away')
        os.mkdir(passwd)  # reading it fails: not a "no"
        self.inst.give(passwd)
        code, err = self.check(b'alice\0secret pw\0')
        self.assertEqual(code, 111)
        self.assertIn(b'cannot check the password', err)


class Pop3dDirect:
    """pochta-pop3d on one end of a socket pair, as inetd would start it"""

    def __init__(self, test, inst, env=None):
        a, b = socket.socketpair()
        self.log = tempfile.NamedTemporaryFile(prefix='pochta-pop3d-', suffix='.log')
        e = dict(inst.env(), POCHTA_LOG='stderr')
        e.update(env or {})
        self.proc = subprocess.Popen([prog('pochta-pop3d'), '-r', inst.root], stdin=b.fileno(),
                                     stdout=b.fileno(), stderr=self.log, env=e)
        b.close()
        a.settimeout(15)
        self.sock = a
        self.f = a.makefile('rb')
        test.addCleanup(self.close)

    def line(self):
        return self.f.readline().decode()

    def cmd(self, text):
        self.sock.sendall(text.encode() + b'\r\n')
        return self.line()

    def logtext(self):
        with open(self.log.name, 'rb') as f:
            return f.read().decode(errors='replace')

    def close(self):
        self.f.close()
        self.sock.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.log.close()


@unittest.skipUnless(os.geteuid() == 0, 'needs root: pochta-pop3d changes users only when started as root')
class RootPop3dTest(InstanceTest):
    def setUp(self):
        self.pw = pwd.getpwnam(ACCOUNT)
        self.groups = sorted(os.getgrouplist(ACCOUNT, self.pw.pw_gid))

    def account_instance(self, users):
        return self.instance(start=False, user=ACCOUNT, users=users)

    def assert_root(self, pid):
        st = proc_status(pid)
        self.assertEqual(st['Uid'], ['0'] * 4)

    def test_login_becomes_the_account(self):
        inst = self.account_instance({'alice': 'secret'})
        # no Maildir yet: the account is the instance's, not a Maildir owner's
        shutil.rmtree(inst.maildir('alice'))
        p = Pop3dDirect(self, inst)
        self.assertTrue(p.line().startswith('+OK'))
        pid = p.proc.pid
        # before the password: root, and the hashes are not open
        self.assert_root(pid)
        self.assertTrue(p.cmd('USER alice').startswith('+OK'))
        fds = [os.readlink('/proc/%d/fd/%s' % (pid, n)) for n in os.listdir('/proc/%d/fd' % pid)]
        self.assertNotIn(os.path.join(inst.root, 'etc', 'passwd'), fds)
        self.assertTrue(p.cmd('PASS secret').startswith('+OK maildrop has 0 messages'))
        st = proc_status(pid)
        self.assertEqual(st['Uid'], [str(self.pw.pw_uid)] * 4)
        self.assertEqual(st['Gid'], [str(self.pw.pw_gid)] * 4)
        self.assertEqual(sorted(int(g) for g in st['Groups']), self.groups)
        # no capability left: setuid(0) cannot succeed
        self.assertEqual(int(st['CapPrm'][0], 16), 0)
        self.assertEqual(int(st['CapEff'][0], 16), 0)
        for rel in ('', 'new', 'cur', 'tmp', 'pop3.lock'):
            self.assertEqual(os.stat(os.path.join(inst.maildir('alice'), rel)).st_uid, self.pw.pw_uid, rel)
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        self.assertEqual(p.proc.wait(10), 0)
        self.assertIn('login user=alice', p.logtext())

    def test_bad_password_leaves_nothing_as_the_account(self):
        inst = self.account_instance({'alice': 'secret'})
        md = inst.maildir('alice')
        shutil.rmtree(md)
        p = Pop3dDirect(self, inst)
        self.assertTrue(p.line().startswith('+OK'))
        self.assertTrue(p.cmd('USER alice').startswith('+OK'))
        self.assertTrue(p.cmd('PASS wrong').startswith('-ERR [AUTH]'))
        self.assert_root(p.proc.pid)
        self.assertEqual(children(p.proc.pid), [])  # the checker is gone
        for pid in pids_of_root(inst.root):
            try:
                uid = proc_status(pid)['Uid']
            except OSError:
                continue
            self.assertNotIn(str(self.pw.pw_uid), uid, 'pid %d' % pid)
        self.assertFalse(os.path.exists(md))  # nothing of the maildrop touched
        # the session goes on and a right password still works
        self.assertTrue(p.cmd('USER alice').startswith('+OK'))
        self.assertTrue(p.cmd('PASS secret').startswith('+OK'))
        self.assertEqual(proc_status(p.proc.pid)['Uid'], [str(self.pw.pw_uid)] * 4)
        self.assertEqual(os.stat(md).st_uid, self.pw.pw_uid)
        self.assertIn('auth failed user=alice', p.logtext())

    def test_password_only_on_the_pipe(self):
        """while a check is under way, no process has the password in its
        command line or environment"""
        pw = 'pw-' + secrets.token_hex(12)
        inst = self.account_instance({'carol': pw})
        d = tempfile.mkdtemp(prefix='pochta-checkwrap-')
        self.addCleanup(shutil.rmtree, d, True)
        wrapper = os.path.join(d, 'pochta-checkpass')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\n'
                    ': > %(d)s/started\n'
                    'i=0\n'
                    'while [ ! -e %(d)s/go ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done\n'
                    'exec %(real)s "$@"\n' % {'d': d, 'real': prog('pochta-checkpass')})
        os.chmod(wrapper, 0o755)
        p = Pop3dDirect(self, inst, env={'POCHTA_LIBEXEC': d})
        self.assertTrue(p.line().startswith('+OK'))
        self.assertTrue(p.cmd('USER carol').startswith('+OK'))
        p.sock.sendall(b'PASS ' + pw.encode() + b'\r\n')
        wait_until(lambda: os.path.exists(os.path.join(d, 'started')), 10, 0.02, 'the checker started')
        seen_checker = False
        secret = pw.encode()
        for n in os.listdir('/proc'):
            if not n.isdigit():
                continue
            for what in ('cmdline', 'environ'):
                try:
                    with open('/proc/%s/%s' % (n, what), 'rb') as f:
                        data = f.read()
                except OSError:
                    continue
                self.assertNotIn(secret, data, '/proc/%s/%s' % (n, what))
                if what == 'cmdline' and wrapper.encode() in data:
                    seen_checker = True
        self.assertTrue(seen_checker, 'the checker was running during the scan')
        open(os.path.join(d, 'go'), 'w').close()
        self.assertTrue(p.line().startswith('+OK'))
        self.assertEqual(proc_status(p.proc.pid)['Uid'], [str(self.pw.pw_uid)] * 4)

    def test_unknown_account_refused(self):
        # a root instance with no account, given one by hand that does not exist
        inst = self.instance(start=False, users={'alice': 'secret'}, no_account=True)
        with open(os.path.join(inst.root, 'etc', 'pochta.conf'), 'a') as f:
            f.write('instance_user = pochta-no-such\n')
        p = Pop3dDirect(self, inst)
        self.assertEqual(p.line(), '-ERR [SYS/PERM] server misconfigured: no account to serve maildrops as\r\n')
        self.assertEqual(p.proc.wait(10), 111)
        self.assertIn('refusing to serve maildrops as root: no such user: pochta-no-such', p.logtext())


if __name__ == '__main__':
    unittest.main()
