"""The README's quick start: `make run` makes ./run (domain localhost, user
demo/demo) and starts it; a message sent with smtplib to demo@localhost lands
in run/mail/demo/new/ and is read back over POP3 with demo/demo."""
import os
import poplib
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest

from pochta import BUILD, ensure_account, free_port, pids_of_root, wait_until
import socket

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class MakeRun(unittest.TestCase):
    def test_quick_start(self):
        self.quick_start(as_root=False)

    @unittest.skipUnless(os.geteuid() == 0, 'needs root: make run by root')
    def test_quick_start_as_root(self):
        # the demo's programs run as the account nobody, never as root
        self.quick_start(as_root=True)

    @unittest.skipUnless(os.geteuid() == 0, 'needs root: make run by root')
    def test_root_in_a_closed_directory(self):
        cwd = tempfile.mkdtemp(prefix='pochta-makerun-')  # 0700: nobody cannot get in
        self.addCleanup(shutil.rmtree, cwd, True)
        env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}
        p = subprocess.run(['sh', os.path.join(TOP, 'tests', 'lib', 'make-run.sh'), BUILD], cwd=cwd,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'the demo runs as the account nobody, which cannot reach', p.stderr)
        self.assertFalse(os.path.exists(os.path.join(cwd, 'run')))

    def quick_start(self, as_root):
        cwd = tempfile.mkdtemp(prefix='pochta-makerun-')
        self.addCleanup(shutil.rmtree, cwd, True)
        smtp, pop3 = free_port(), free_port()
        env = dict(os.environ)
        env.pop('POCHTA_ROOT', None)
        env['POCHTA_RUN_SMTP'] = '127.0.0.1:%d' % smtp
        env['POCHTA_RUN_POP3'] = '127.0.0.1:%d' % pop3
        log = open(os.path.join(cwd, 'out.log'), 'wb')
        self.addCleanup(log.close)
        run_as = {}
        if as_root:
            os.chmod(cwd, 0o755)
        elif os.geteuid() == 0:  # as an ordinary user does: the test account
            pw = ensure_account()[0]
            os.chown(cwd, pw.pw_uid, pw.pw_gid)
            run_as = {'user': pw.pw_uid, 'group': pw.pw_gid, 'extra_groups': []}
        p = subprocess.Popen(['sh', os.path.join(TOP, 'tests', 'lib', 'make-run.sh'), BUILD],
                             cwd=cwd, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                             **run_as)
        root = os.path.join(cwd, 'run')

        def stop():
            if p.poll() is None:
                p.send_signal(signal.SIGINT)  # Ctrl-C
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
            for pid in pids_of_root(root):
                os.kill(pid, signal.SIGKILL)
        self.addCleanup(stop)

        def up():
            self.assertIsNone(p.poll(), 'make run exited')
            try:
                socket.create_connection(('127.0.0.1', pop3), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(up, 20, 0.05, 'make run listening')
        body = 'Subject: hi\r\n\r\nhello from the quick start\r\n.leading dot\r\n'
        s = smtplib.SMTP('127.0.0.1', smtp, timeout=10)
        s.sendmail('me@example.org', ['demo@localhost'], body)
        s.quit()
        new = os.path.join(root, 'mail', 'demo', 'new')
        wait_until(lambda: os.listdir(new), 15, 0.05, 'the message in run/mail/demo/new')
        with open(os.path.join(new, os.listdir(new)[0]), 'rb') as f:
            data = f.read()
            owner = os.fstat(f.fileno()).st_uid
        self.assertTrue(data.endswith(b'\n\nhello from the quick start\n.leading dot\n'), data)
        m = poplib.POP3('127.0.0.1', pop3, timeout=10)
        m.user('demo')
        m.pass_('demo')
        resp, lines, octets = m.retr(1)
        m.quit()
        self.assertIn(b'hello from the quick start', lines)
        self.assertIn(b'.leading dot', lines)
        if as_root:
            nobody = pwd.getpwnam('nobody')
            self.assertEqual(owner, nobody.pw_uid)
            for pid in pids_of_root(root):
                try:
                    with open('/proc/%d/status' % pid) as f:
                        uid = [l.split()[1] for l in f if l.startswith('Uid:')][0]
                except OSError:
                    continue
                self.assertEqual(int(uid), nobody.pw_uid, 'pid %d' % pid)
        stop()
        self.assertEqual(p.returncode, 0)
        self.assertEqual(pids_of_root(root), [])


if __name__ == '__main__':
    unittest.main()
