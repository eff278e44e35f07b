"""Configuration changes on a running instance: pochtactl reload and SIGHUP
apply a checked pochta.conf to every program, a broken file changes nothing
that runs; pochtactl status, stop, restart; config check lists every problem
and config get reads a good line while another is broken."""
import os
import re
import signal
import subprocess
import time
import unittest

from pochta import InstanceTest, alive, pids_of_root, prog_pids, wait_until


def greeting(inst):
    r = inst.raw()
    try:
        return r.reply()
    finally:
        r.close()


def ehlo_size(inst):
    r = inst.raw()
    try:
        r.reply()
        code, lines = r.cmd('EHLO client.test')
        r.cmd('QUIT')
    finally:
        r.close()
    for l in lines:
        m = re.match(r'250[- ]SIZE (\d+)', l)
        if m:
            return int(m.group(1))
    return None


class ReloadTest(InstanceTest):
    def broken(self, inst):
        """append two bad lines (an unknown key, a bad value): their line numbers"""
        with open(os.path.join(inst.root, 'etc', 'pochta.conf')) as f:
            n = len(f.read().splitlines())
        inst.write('etc/pochta.conf', 'no_such_key = 1\nmax_recipients = many\n', append=True)
        return n + 1, n + 2

    def test_broken_file_keeps_serving(self):
        inst = self.instance(users={'alice': 'pw'})
        l1, l2 = self.broken(inst)
        # the very next sessions still run on the checked configuration
        r = inst.raw()
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<a@client.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        self.assertEqual(r.cmd('Subject: kept\r\n\r\nbody\r\n.')[0], 250)
        r.cmd('QUIT')
        r.close()
        inst.wait_mail('alice', 1)
        p = inst.pop3()
        try:
            self.assertTrue(p.user('alice').startswith(b'+OK'))
            self.assertTrue(p.pass_('pw').startswith(b'+OK'))
        finally:
            p.quit()
        # reload refuses, naming every problem, and changes nothing
        res = inst.ctl('reload', check=False)
        err = res.stderr.decode()
        self.assertNotEqual(res.returncode, 0, err)
        self.assertIn('pochta.conf:%d: unknown key' % l1, err)
        self.assertIn('pochta.conf:%d: max_recipients: not an integer' % l2, err)
        self.assertIn('not reloaded: 2 problems', err)
        # the supervisor, told directly, logs why and keeps serving
        os.kill(inst.proc.pid, signal.SIGHUP)
        wait_until(lambda: 'reload refused' in inst.log(), 10, what='reload refused in the log')
        log = inst.log()
        self.assertIn('pochta.conf:%d: unknown key' % l1, log)
        self.assertIn('last valid configuration stays in effect', log)
        self.assertEqual(greeting(inst)[0], 220)
        self.assertIsNone(inst.proc.poll())

    def test_reload_applies_everywhere(self):
        inst = self.instance(users={'bob': 'pw'})
        inst.ctl('config', 'set', 'myhostname', 'before.example.test')
        inst.ctl('config', 'set', 'message_size_limit', '2000000')
        inst.ctl('config', 'set', 'extension_folders', '1')
        # not reloaded: what runs is still what was started
        self.assertNotIn('before.example.test', greeting(inst)[1][0])
        self.assertEqual(ehlo_size(inst), 10240000)
        with inst.smtp() as s:
            s.sendmail('a@client.test', ['bob+lists@example.test'], b'Subject: one\r\n\r\nx\r\n')
        inst.wait_mail('bob', 1)
        self.assertFalse(os.path.isdir(os.path.join(inst.maildir('bob'), '.lists')))
        res = inst.ctl('reload')
        self.assertIn(b'reloaded', res.stdout)
        # smtpd sessions, the local worker and the queue manager now run it
        self.assertIn('before.example.test', greeting(inst)[1][0])
        self.assertEqual(ehlo_size(inst), 2000000)
        with inst.smtp() as s:
            s.sendmail('a@client.test', ['bob+lists@example.test'], b'Subject: two\r\n\r\nx\r\n')
        wait_until(lambda: os.listdir(os.path.join(inst.maildir('bob'), '.lists', 'new')) if
                   os.path.isdir(os.path.join(inst.maildir('bob'), '.lists', 'new')) else [],
                   15, what='mail in the .lists folder')
        wait_until(lambda: re.search(r'pochta-qmgr\[\d+\]: .*configuration reloaded', inst.log()), 10,
                   what='qmgr reloaded')
        self.assertRegex(inst.log(), r'reloaded .*pochta.conf: changed=.*myhostname')

    def test_sighup_applies(self):
        inst = self.instance()
        inst.ctl('config', 'set', 'myhostname', 'hup.example.test')
        self.assertNotIn('hup.example.test', greeting(inst)[1][0])
        os.kill(inst.proc.pid, signal.SIGHUP)
        wait_until(lambda: 'hup.example.test' in greeting(inst)[1][0], 10, what='new greeting')
        self.assertIsNone(inst.proc.poll())

    def test_restart_keys_told(self):
        inst = self.instance()
        inst.ctl('config', 'set', 'max_connections', '7')
        inst.ctl('config', 'set', 'smtp_timeout', '77')
        res = inst.ctl('reload')
        out = res.stdout.decode()
        self.assertIn('effective at the next restart', out)
        self.assertIn('max_connections', out.split('restart')[-1])
        self.assertNotIn('smtp_timeout', out)
        wait_until(lambda: 'max_connections changed' in inst.log(), 10, what='restart key logged')
        # what runs keeps the started value
        with open(os.path.join(inst.root, 'etc', 'pochta.conf.running')) as f:
            run = f.read()
        self.assertIn('max_connections = 100\n', run)
        self.assertIn('smtp_timeout = 77\n', run)

    def test_reload_not_running(self):
        inst = self.instance(start=False)
        res = inst.ctl('reload', check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn(b'not running', res.stderr)


class StatusTest(InstanceTest):
    def test_status_running_stopped_stale(self):
        inst = self.instance()
        res = inst.ctl('status', check=False)
        out = res.stdout.decode()
        self.assertEqual(res.returncode, 0, out)
        self.assertIn('pochta-master pid %d, up ' % inst.proc.pid, out)
        qmgr = wait_until(lambda: prog_pids(inst, 'pochta-qmgr'), 10, what='qmgr')
        out = inst.ctl('status').stdout.decode()
        self.assertIn('pid %d pochta-qmgr' % qmgr[0], out)
        self.assertIn('listening smtp 127.0.0.1:%d' % inst.smtp_port, out)
        self.assertIn('listening pop3 127.0.0.1:%d' % inst.pop3_port, out)
        self.assertIn('queue: 0 messages', out)
        inst.stop()
        res = inst.ctl('status', check=False)
        self.assertEqual(res.returncode, 3, res.stdout)
        self.assertIn(b'not running', res.stdout)
        # a pid file left by a supervisor that died without stopping
        inst.write('log/pochtactl.pid', '999999\n')
        res = inst.ctl('status', check=False)
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertIn(b'999999', res.stdout)

    def test_status_queue_size(self):
        inst = self.instance()
        inst.write('queue/hold/0123456789ABCDEF', 'x')
        out = inst.ctl('status').stdout.decode()
        self.assertIn('queue: 1 message (incoming 0, active 0, held 1)', out)

    def test_stop(self):
        inst = self.instance()
        pid = inst.proc.pid
        res = inst.ctl('stop', timeout=40)
        self.assertEqual(res.returncode, 0)
        self.assertIn(b'stopped', res.stdout)
        self.assertEqual(inst.proc.wait(5), 0)
        self.assertFalse(alive(pid))
        wait_until(lambda: not pids_of_root(inst.root), 10, what='every process gone')
        self.assertFalse(os.path.exists(os.path.join(inst.root, 'etc', 'pochta.conf.running')))
        res = inst.ctl('stop', check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn(b'not running', res.stderr)

    def test_restart_and_start_background(self):
        inst = self.instance(start=False)
        res = inst.ctl('start', '-d', timeout=30)
        self.assertIn(b'started (pid', res.stdout)
        pid1 = int(re.search(rb'pid (\d+)', res.stdout).group(1))
        inst.wait_listening(inst.smtp_port)
        res = inst.ctl('restart', timeout=60)
        self.assertIn(b'stopped (pid %d)' % pid1, res.stdout)
        pid2 = int(re.search(rb'started \(pid (\d+)', res.stdout).group(1))
        self.assertNotEqual(pid1, pid2)
        self.assertFalse(alive(pid1))
        inst.wait_listening(inst.smtp_port)
        with open(os.path.join(inst.root, 'log', 'pochta.log')) as f:
            self.assertIn('pochta-master', f.read())
        self.assertEqual(inst.ctl('status', check=False).returncode, 0)
        self.assertEqual(inst.ctl('stop', timeout=40).returncode, 0)
        self.assertEqual(inst.ctl('status', check=False).returncode, 3)


class ConfigCheckTest(InstanceTest):
    def test_check_lists_every_problem(self):
        inst = self.instance(start=False)
        with open(os.path.join(inst.root, 'etc', 'pochta.conf')) as f:
            n = len(f.read().splitlines())
        inst.write('etc/pochta.conf', 'bogus = 1\nsmtp_timeout = 0\nmyhostname = not a host\n',
                   append=True)
        res = inst.ctl('config', 'check', check=False)
        self.assertEqual(res.returncode, 1)
        lines = [l for l in res.stderr.decode().splitlines() if re.search(r'pochta.conf:\d+:', l)]
        self.assertEqual(len(lines), 3, res.stderr)
        self.assertIn('pochta.conf:%d: unknown key' % (n + 1), lines[0])
        self.assertIn('pochta.conf:%d: smtp_timeout: out of range' % (n + 2), lines[1])
        self.assertIn('pochta.conf:%d: myhostname: not a host name' % (n + 3), lines[2])

    def test_get_with_another_line_broken(self):
        inst = self.instance(start=False)
        inst.ctl('config', 'set', 'max_recipients', '33')
        inst.write('etc/pochta.conf', 'smtp_timeout = soon\n', append=True)
        res = inst.ctl('config', 'get', 'max_recipients')
        self.assertEqual(res.stdout, b'33\n')
        self.assertIn(b'warning', res.stderr)
        res = inst.ctl('config', 'get', 'smtp_timeout', check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn(b'not valid', res.stderr)


if __name__ == '__main__':
    unittest.main()
