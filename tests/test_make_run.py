"""The README's quick start: `make run` makes ./run (domain localhost, user
demo/demo) and starts it; a message sent with smtplib to demo@localhost lands
in run/mail/demo/new/ and is read back over POP3 with demo/demo. The README's
own snippets (its fenced sh blocks, copied from the raw file) run against it,
and those of "An instance" against an instance of their own, so the README
cannot silently rot; `make run` builds the programs and nothing else."""
import os
import poplib
import pwd
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest

from pochta import BUILD, ensure_account, free_port, pids_of_root, wait_until
import socket

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def readme_blocks(section):
    """the fenced sh blocks of one README section, as lists of lines"""
    with open(os.path.join(TOP, 'README.md')) as f:
        text = f.read()
    m = re.search(r'^## %s\n(.*?)(?=^## )' % re.escape(section), text, re.S | re.M)
    assert m, section
    return [b.splitlines() for b in re.findall(r'^```sh\n(.*?)^```$', m.group(1), re.S | re.M)]


class MakeRun(unittest.TestCase):
    def test_run_builds_only_the_programs(self):
        out = tempfile.mkdtemp(prefix='pochta-makerun-b-')
        self.addCleanup(shutil.rmtree, out, True)
        p = subprocess.run(['make', '-n', '-C', TOP, 'run', 'B=' + out], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        cmds = p.stdout.decode()
        self.assertIn(os.path.join(out, 'pochtactl'), cmds)
        self.assertIn(os.path.join(out, 'pochta-smtpd'), cmds)
        self.assertNotIn(os.path.join(out, 'tests') + '/', cmds)  # no unit test binaries
        self.assertNotIn('fuzz', cmds)

    def test_readme_instance_snippet(self):
        blocks = readme_blocks('An instance')
        lines = [l for b in blocks for l in b]
        self.assertTrue(any(' init ' in l for l in lines))
        base = tempfile.mkdtemp(prefix='pochta-readme-')
        self.addCleanup(shutil.rmtree, base, True)
        os.chmod(base, 0o755)
        run_as = {}
        if os.geteuid() == 0:  # as the ordinary user the README speaks to
            pw = ensure_account()[0]
            os.chown(base, pw.pw_uid, pw.pw_gid)
            run_as = {'user': pw.pw_uid, 'group': pw.pw_gid, 'extra_groups': []}
        root = os.path.join(base, 'mx')
        smtp, pop3 = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}

        def adapt(l):
            l = l.replace('/tmp/mx', root).replace('build/', BUILD + '/')
            return l.replace(':2525', ':%d' % smtp).replace(':1110', ':%d' % pop3)
        start = None
        for l in lines:
            if l.endswith(' start'):
                start = adapt(l)
                continue
            p = subprocess.run(['sh', '-c', adapt(l)], cwd=base, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60, **run_as)
            self.assertEqual(p.returncode, 0, (l, p.stderr))
        self.assertIn(b'alice', subprocess.run([os.path.join(BUILD, 'pochtactl'), '-r', root, 'user', 'list'],
                                              stdout=subprocess.PIPE, env=env, timeout=30).stdout)
        self.assertIsNotNone(start)
        proc = subprocess.Popen(['sh', '-c', 'exec ' + start], cwd=base, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, **run_as)

        def stop():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            for pid in pids_of_root(root):
                os.kill(pid, signal.SIGKILL)
        self.addCleanup(stop)

        def up():
            self.assertIsNone(proc.poll(), 'start exited')
            try:
                socket.create_connection(('127.0.0.1', smtp), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(up, 20, 0.05, 'the README instance listening')
        stop()
        self.assertEqual(proc.returncode, 0)

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
        self.readme_quick_start(cwd, env, smtp, pop3, new)
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


    def readme_quick_start(self, cwd, env, smtp, pop3, new):
        """the README's quick start snippets, as copied from the raw file"""
        blocks = readme_blocks('Quick start')
        self.assertEqual([b[0] for b in blocks if b[0].startswith('make')], ['make run', 'make check'])
        ran = 0
        for b in blocks:
            for l in b:
                if l.startswith('make '):
                    continue
                if l.startswith('curl ') and not shutil.which('curl'):
                    continue
                before = len(os.listdir(new))
                cmd = l.replace('2525', str(smtp)).replace('1110', str(pop3))
                p = subprocess.run(['sh', '-c', cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=30)
                self.assertEqual(p.returncode, 0, (l, p.stderr))
                ran += 1
                if 'smtplib' in l:
                    wait_until(lambda: len(os.listdir(new)) > before, 15, 0.05, 'the README message')
                    got = [open(os.path.join(new, f), 'rb').read() for f in os.listdir(new)]
                    self.assertTrue([d for d in got if b'Subject: hi\n' in d and d.endswith(b'\n\nhello\n')])

                    # it ends its session with QUIT: no SMTP session of the demo was lost
                    def disconnects():
                        with open(os.path.join(cwd, 'out.log')) as f:
                            return [x for x in f if 'pochta-smtpd' in x and 'disconnect from' in x]
                    wait_until(lambda: len(disconnects()) >= 2, 10, 0.05, 'the README session ended')
                    for x in disconnects():
                        self.assertNotIn('lost connection', x)
                else:
                    self.assertIn(b'hello', p.stdout, l)
        self.assertGreaterEqual(ran, 2)


if __name__ == '__main__':
    unittest.main()
