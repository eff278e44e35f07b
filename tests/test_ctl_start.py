"""pochtactl start: the supervisor. Listening, connection limits, UCSPI
environment, qmgr restarts, and a SIGTERM that leaves no process behind."""
import os
import signal
import socket
import stat
import subprocess
import tempfile
import shutil
import time
import unittest

from pochta import Instance, InstanceTest, Raw, pids_of_root, wait_until, prog, free_port


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')
    except OSError:
        return []


def prog_pids(root, name):
    out = []
    for p in pids_of_root(root):
        argv = cmdline(p)  # read once: the process may be gone by now
        if argv and os.path.basename(argv[0]) == name:
            out.append(p)
    return out


def qmgr_pids(root):
    return prog_pids(root, b'pochta-qmgr')


def open_sessions(inst, n):
    """n SMTP sessions, once the earlier ones (the probe of Instance.start()) have
    exited: each must get its 220 at the first try"""
    inst.wait_sessions_ended()
    got = [inst.raw() for _ in range(n)]
    for r in got:
        code, lines = r.reply()
        if code != 220:
            raise AssertionError('session %d of %d refused: %s' % (got.index(r) + 1, n, lines))
    return got


def greeting(r):
    code, lines = r.reply()
    return code


class StartTest(InstanceTest):
    def test_listens_and_logs(self):
        inst = self.instance()
        r = inst.raw()
        self.assertEqual(greeting(r), 220)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        r.close()
        log = inst.log()
        self.assertIn('pochtactl[', log)
        self.assertIn('listening smtp=127.0.0.1:%d' % inst.smtp_port, log)
        wait_until(lambda: 'connection smtp from=127.0.0.1' in inst.log(), 5, what='connection log line')

    def test_per_ip_limit(self):
        inst = self.instance(conf={'max_connections_per_ip': '2'})
        a, b = open_sessions(inst, 2)
        c = inst.raw()
        code, lines = c.reply()
        self.assertEqual(code, 421, lines)
        self.assertIn('too many connections', lines[0])
        self.assertTrue(c.closed())
        c.close()
        wait_until(lambda: 'reason=max_connections_per_ip' in inst.log(), 5, what='refusal logged')
        # the count is of live sessions: once one has exited, a new one is
        # served at the first try
        a.cmd('QUIT')
        self.assertTrue(a.closed())
        a.close()
        wait_until(lambda: len(inst.sessions()) == 1, 10, what="a's session to exit")
        d = inst.raw()
        self.assertEqual(greeting(d), 220)
        d.close()
        b.close()

    def test_max_connections(self):
        inst = self.instance(conf={'max_connections': '1'})
        a, = open_sessions(inst, 1)
        b = inst.raw()
        self.assertEqual(b.reply()[0], 421)
        b.close()
        a.close()

    def test_sigterm_stops_everything(self):
        inst = self.instance()
        # a session in the middle of a transaction, so smtpd has helpers running
        r = inst.raw()
        self.assertEqual(greeting(r), 220)
        r.cmd('EHLO client.test')
        r.cmd('MAIL FROM:<a@client.test>')
        wait_until(lambda: qmgr_pids(inst.root), 10, what='qmgr running')
        self.assertGreaterEqual(len(pids_of_root(inst.root)), 3)
        t0 = time.time()
        rc = inst.stop()
        self.assertEqual(rc, 0)
        self.assertLess(time.time() - t0, 12)
        wait_until(lambda: not pids_of_root(inst.root), 5, 0.05, 'no process of the instance left')
        self.assertTrue(r.closed())
        r.close()
        self.assertIn('stopped', inst.log())
        # and the port is free again at once (SO_REUSEADDR on restart)
        inst.start()
        self.assertEqual(greeting(inst.raw()), 220)

    def test_one_supervisor_per_instance(self):
        inst = self.instance()
        p = inst.ctl('start', check=False, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'another pochtactl start', p.stderr)
        self.assertIsNone(inst.proc.poll())  # the first one still runs
        wait_until(lambda: qmgr_pids(inst.root), 10, what='qmgr running')
        time.sleep(0.2)
        self.assertEqual(len(qmgr_pids(inst.root)), 1)

    def test_one_qmgr_per_queue(self):
        """a second pochta-qmgr on the same queue (a stray unit, a slow exit) refuses"""
        inst = self.instance()
        wait_until(lambda: qmgr_pids(inst.root), 10, what='qmgr running')
        p = subprocess.run([prog('pochta-qmgr')], env=dict(inst.env(), POCHTA_LOG='stderr'),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b'another pochta-qmgr is running', p.stderr)
        self.assertEqual(len(qmgr_pids(inst.root)), 1)

    def test_admin_commands_while_running(self):
        # the supervisor's lock must not be one that user/config commands take
        inst = self.instance()
        inst.ctl('user', 'add', 'late', input='pw\n', timeout=10)
        inst.ctl('config', 'set', 'max_recipients', '5', timeout=10)
        self.assertEqual(inst.ctl('user', 'list', timeout=10).stdout, b'late\n')
        with open(os.path.join(inst.root, 'log', 'pochtactl.pid')) as f:
            self.assertEqual(int(f.read()), inst.proc.pid)

    def test_qmgr_restarted(self):
        inst = self.instance()
        old = wait_until(lambda: qmgr_pids(inst.root), 10, what='qmgr running')
        self.assertEqual(len(old), 1)
        os.kill(old[0], signal.SIGKILL)
        new = wait_until(lambda: [p for p in qmgr_pids(inst.root) if p not in old], 10,
                         0.05, 'a new qmgr')
        self.assertEqual(len(new), 1)
        wait_until(lambda: 'qmgr exited signal=9' in inst.log(), 5, what='exit logged')
        # the supervisor is still serving
        self.assertEqual(greeting(inst.raw()), 220)


FAKE_SMTPD = r'''#!/bin/sh
printf '220 env %s %s %s %s %s %s|\r\n' "$PROTO" "$TCPREMOTEIP" "$TCPREMOTEPORT" "$TCPLOCALIP" "$TCPLOCALPORT" "$POCHTA_LOG"
read line
printf '221 %s\r\n' "$line"
'''
FAKE_QMGR = '''#!/bin/sh
exec sleep 600
'''


class FakeProgramsTest(InstanceTest):
    """The supervisor's own contract, with stand-ins for the programs it runs"""

    def setUp(self):
        self.fake = tempfile.mkdtemp(prefix='pochta-fake-')
        os.chmod(self.fake, 0o755)  # run by the instance's account too
        self.addCleanup(shutil.rmtree, self.fake, True)
        for name, text in (('pochta-smtpd', FAKE_SMTPD), ('pochta-qmgr', FAKE_QMGR)):
            p = os.path.join(self.fake, name)
            with open(p, 'w') as f:
                f.write(text)
            os.chmod(p, 0o755)
        old = os.environ.get('POCHTA_LIBEXEC')
        os.environ['POCHTA_LIBEXEC'] = self.fake
        self.addCleanup(self.restore, old)

    def restore(self, old):
        if old is None:
            os.environ.pop('POCHTA_LIBEXEC', None)
        else:
            os.environ['POCHTA_LIBEXEC'] = old

    def test_ucspi_environment(self):
        inst = self.instance()
        r = inst.raw()
        code, lines = r.reply()
        self.assertEqual(code, 220)
        local = r.sock.getsockname()
        f = lines[0].split('|')[0].split()
        self.assertEqual(f[2:], ['TCP', '127.0.0.1', str(local[1]), '127.0.0.1', str(inst.smtp_port), 'stderr'])
        # stdin and stdout are the connection
        self.assertEqual(r.cmd('hello there'), (221, ['221 hello there']))
        r.close()
        # no pochta-pop3d here: the POP3 listener is skipped with a warning
        self.assertIn('no POP3 listener', inst.log())

    def test_ipv6_listener(self):
        try:
            s = socket.socket(socket.AF_INET6)
            s.bind(('::1', 0))
            port = s.getsockname()[1]
            s.close()
        except OSError:
            self.skipTest('no IPv6 loopback')
        inst = self.instance(start=False)
        inst.ctl('config', 'set', 'smtp_listen', '[::1]:%d' % port)
        inst.start(wait=False)

        def up():
            try:
                return socket.create_connection(('::1', port), timeout=1)
            except OSError:
                return None
        c = wait_until(up, 10, 0.05, 'IPv6 listener')
        data = b''
        while b'\n' not in data:
            d = c.recv(1000)
            if not d:
                break
            data += d
        c.close()
        self.assertIn(b' ::1 ', data)

    def test_missing_smtpd_is_an_error(self):
        os.unlink(os.path.join(self.fake, 'pochta-smtpd'))
        inst = self.instance(start=False)
        inst.start(wait=False)
        rc = inst.proc.wait(10)
        self.assertEqual(rc, 1)
        self.assertIn('pochta-smtpd', inst.log())

    def test_port_in_use_is_an_error(self):
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.listen(1)
        inst = self.instance(start=False)
        inst.ctl('config', 'set', 'smtp_listen', '127.0.0.1:%d' % s.getsockname()[1])
        inst.start(wait=False)
        self.assertEqual(inst.proc.wait(10), 1)
        self.assertIn('cannot listen', inst.log())
        s.close()


if __name__ == '__main__':
    unittest.main()
