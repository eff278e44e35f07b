"""pochta-smtpd sessions: relaying from relay_networks, 20 concurrent sessions,
SIGTERM in the middle of a message, memory per session."""
import os
import re
import signal
import threading
import time
import unittest

from pochta import InstanceTest, free_port, prog, prog_pids, sanitized_build, tmp_files, wait_until

HOST = 'mx.example.test'


def smtpd_pids(inst):
    return prog_pids(inst, 'pochta-smtpd')


class SmtpdSession(InstanceTest):
    def test_relay_allowed_from_relay_networks(self):
        # relayhost points at a closed port: the message must stay queued
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'relay_networks': '192.0.2.0/24, 127.0.0.0/8',
                                   'relayhost': '127.0.0.1:%d' % free_port()})
        with inst.smtp() as s:
            s.ehlo('client.test')
            s.mail('sender@remote.test')
            self.assertEqual(s.rcpt('someone@remote.test')[0], 250)
            self.assertEqual(s.rcpt('other@[192.0.2.7]')[0], 250)
            # relaying does not open the local domains
            self.assertEqual(s.rcpt('nobody@example.test')[0], 550)
            code, resp = s.data(b'Subject: relayed-1\r\n\r\nrelay me\r\n')
        self.assertEqual(code, 250, resp)
        qid = re.search(rb'queued as ([0-9A-V]{24})', resp).group(1).decode()
        time.sleep(0.5)
        self.assertIn(qid, inst.queue_files())
        p = inst.ctl('queue', 'list', check=False)
        if p.returncode == 0:
            self.assertIn(b'someone@remote.test', p.stdout)
        self.assertEqual(inst.mail_files('alice'), [])

    def test_relay_denied_by_default(self):
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST})
        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        code, lines = r.cmd('RCPT TO:<someone@remote.test>')
        self.assertEqual(code, 554)
        self.assertTrue(lines[0].startswith('554 5.7.1'), lines)
        self.assertEqual(r.cmd('DATA')[0], 503)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        time.sleep(0.3)
        self.assertEqual(inst.queue_files(), [])

    def test_concurrent_sessions(self):
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST})
        n = 20
        errors = []
        start = threading.Barrier(n)

        def one(i):
            try:
                start.wait(10)
                with inst.smtp(timeout=30) as s:
                    s.sendmail('sender@remote.test', ['alice@example.test'],
                               ('Subject: conc-%02d\r\nMessage-ID: <conc-%02d@client.test>\r\n'
                                '\r\nmessage %d\r\n' % (i, i, i)).encode())
            except Exception as e:  # collected and asserted below
                errors.append((i, repr(e)))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        inst.wait_mail('alice', n, timeout=30)
        time.sleep(0.5)
        msgs = inst.mails('alice')
        self.assertEqual(len(msgs), n)
        ids = sorted(re.search(rb'Message-ID: <(conc-\d\d)@', m).group(1) for m in msgs)
        self.assertEqual(ids, [b'conc-%02d' % i for i in range(n)])

    def test_sigterm_mid_data(self):
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST})
        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        r.send('Subject: sigterm-mid\r\n\r\n' + 'data\r\n' * 100)
        pids = wait_until(lambda: smtpd_pids(inst), 5, 0.05, 'the pochta-smtpd process')
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        self.assertTrue(r.closed(5))
        wait_until(lambda: not smtpd_pids(inst), 5, 0.05, 'pochta-smtpd to exit')
        wait_until(lambda: not tmp_files(inst), 10, 0.05, 'queue tmp/ empty')
        time.sleep(0.3)
        self.assertEqual(inst.queue_files(), [])
        self.assertEqual(inst.mail_files('alice'), [])

    def test_quit_reply_after_the_enqueue_child_is_gone(self):
        """once the client has its 221 the session's process only exits: a
        client that reconnects at once (one connection per message, as
        smtp-source) does not find its old session still counted against
        max_connections_per_ip. An enqueue child of the session's own (exec'd
        without the enqueue zygote) is reaped before the 221; one forked by the
        zygote is not the session's to wait for, and a stopped one delays
        nothing"""
        inst = self.instance(users={'alice': 's'}, conf={'myhostname': HOST})
        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        self.assertEqual(r.cmd('Subject: quit-order\r\n\r\nx\r\n.')[0], 250)
        m = wait_until(lambda: re.search(r'pochta-enqueue\[(\d+)\]: \S+ queued', inst.log()), 5, 0.05,
                       'the enqueue child in the log')
        child = int(m.group(1))
        with open('/proc/%d/stat' % child, 'rb') as f:
            ppid = int(f.read().rsplit(b')', 1)[1].split()[1])
        own = ppid in smtpd_pids(inst) and b'-z' not in open('/proc/%d/cmdline' % ppid, 'rb').read()
        os.kill(child, signal.SIGSTOP)
        self.addCleanup(lambda: os.kill(child, signal.SIGCONT) if os.path.exists('/proc/%d' % child) else None)
        session = inst.sessions()
        r.send('QUIT\r\n')
        if own:
            r.sock.settimeout(1)
            with self.assertRaises(OSError, msg='221 sent while the enqueue child still runs'):
                r.sock.recv(100)
            os.kill(child, signal.SIGCONT)
        r.sock.settimeout(10)
        self.assertEqual(r.reply(), (221, ['221 2.0.0 Bye']))
        self.assertTrue(r.closed(5))
        wait_until(lambda: not set(session) & set(inst.sessions()), 5, 0.02, 'the session to end')
        os.kill(child, signal.SIGCONT)
        inst.wait_mail('alice', 1)

    def test_memory_per_session(self):
        """anonymous (private, per-session) memory stays small and does not grow with
        the message: DATA is a byte-level state machine with fixed buffers"""
        if sanitized_build():
            self.skipTest('sanitizer builds use much more memory')
        # the 1 MB line must be taken, to show it costs no memory
        inst = self.instance(users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_allow_long_lines': '1'})

        def anon(pid):
            with open('/proc/%d/smaps_rollup' % pid) as f:
                for l in f:
                    if l.startswith('Anonymous:'):
                        return int(l.split()[1])
            raise AssertionError('no Anonymous: in smaps_rollup')

        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<sender@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('DATA')[0], 354)
        pid = wait_until(lambda: smtpd_pids(inst), 5, 0.05, 'the pochta-smtpd process')[0]
        r.send('Subject: mem\r\n\r\n' + ('x' * 70 + '\r\n') * 1000)
        time.sleep(0.2)
        before = anon(pid)
        # 3 MB more, with one 1 MB line
        r.send(('x' * 70 + '\r\n') * 30000 + 'y' * 1000000 + '\r\n')
        time.sleep(0.3)
        after = anon(pid)
        r.send('.\r\n')
        self.assertEqual(r.reply()[0], 250)
        self.assertLess(before, 200)
        self.assertLess(after - before, 16)


class SmtpdDirect(InstanceTest):
    """pochta-smtpd run by hand, as inetd would: the connection on fds 0 and 1"""

    def run_smtpd(self, inst, data, env_extra=None, drop=(), pipes=False):
        import socket
        import subprocess
        env = inst.env()
        for k in ('TCPREMOTEIP', 'TCPREMOTEPORT', 'TCPLOCALIP', 'TCPLOCALPORT', 'POCHTA_LOG'):
            env.pop(k, None)
        env.update(env_extra or {})
        if pipes:
            p = subprocess.run([prog('pochta-smtpd'), '-r', inst.root], input=data,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                               timeout=30, **inst.as_owner())
            return p.stdout.decode(errors='replace'), p.returncode
        a, b = socket.socketpair()
        try:
            p = subprocess.Popen([prog('pochta-smtpd')], stdin=b, stdout=b,
                                 stderr=subprocess.DEVNULL, env=env, **inst.as_owner())
            b.close()
            a.sendall(data)
            a.settimeout(20)
            out = b''
            while True:
                d = a.recv(65536)
                if not d:
                    break
                out += d
            return out.decode(errors='replace'), p.wait(20)
        finally:
            a.close()

    def test_no_tcpremoteip_is_not_a_relay_client(self):
        inst = self.instance(start=False, users={'alice': 's'},
                             conf={'myhostname': HOST, 'relay_networks': '0.0.0.0/0 ::/0',
                                   'smtp_forbid_unauth_pipelining': '0'})
        cmds = (b'EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<x@remote.test>\r\n'
                b'RCPT TO:<alice@example.test>\r\nQUIT\r\n')
        out, rc = self.run_smtpd(inst, cmds)
        self.assertEqual(rc, 0)
        self.assertIn('554 5.7.1 <x@remote.test>: Relay access denied', out)
        self.assertIn('250 2.1.5', out)
        out, rc = self.run_smtpd(inst, cmds, {'TCPREMOTEIP': '10.1.2.3'})
        self.assertNotIn('554', out)
        self.assertEqual(out.count('250 2.1.5'), 2)

    def test_relay_networks_match_client_ip(self):
        inst = self.instance(start=False, users={'alice': 's'},
                             conf={'myhostname': HOST, 'relay_networks': '10.0.0.0/8, 2001:db8::/32',
                                   'smtp_forbid_unauth_pipelining': '0'})
        cmds = b'EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<x@remote.test>\r\nQUIT\r\n'
        for ip, ok in (('10.200.0.1', True), ('11.0.0.1', False), ('2001:db8::5', True),
                       ('2001:db9::5', False), ('::ffff:10.0.0.1', True), ('not-an-ip', False)):
            out, rc = self.run_smtpd(inst, cmds, {'TCPREMOTEIP': ip})
            self.assertEqual('250 2.1.5' in out, ok, (ip, out))
            self.assertEqual('554 5.7.1' in out, not ok, (ip, out))

    def test_config_error(self):
        inst = self.instance(start=False, users={'alice': 's'})
        with open(os.path.join(inst.root, 'etc', 'pochta.conf'), 'a') as f:
            f.write('no_such_key = 1\n')
        out, rc = self.run_smtpd(inst, b'EHLO c.test\r\n', {'TCPREMOTEIP': '127.0.0.1'})
        self.assertEqual(rc, 111)
        self.assertTrue(out.startswith('421 4.3.0 '), out)
        self.assertEqual(out.count('\r\n'), 1)

    def test_pipes_instead_of_a_socket(self):
        inst = self.instance(start=False, users={'alice': 's'},
                             conf={'myhostname': HOST, 'smtp_forbid_unauth_pipelining': '0'})
        out, rc = self.run_smtpd(inst, b'HELO c.test\r\nNOOP\r\nQUIT\r\n',
                                 {'TCPREMOTEIP': '127.0.0.1'}, pipes=True)
        self.assertEqual(rc, 0)
        self.assertEqual(out, '220 %s ESMTP pochta\r\n250 %s\r\n250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n'
                         % (HOST, HOST))

    def test_input_before_a_reply_is_refused(self):
        """commands sent after HELO/EHLO without waiting for its reply: 554, on a
        socket and on pipes (RFC 2920 3.1; smtp_forbid_unauth_pipelining default)"""
        inst = self.instance(start=False, users={'alice': 's'}, conf={'myhostname': HOST})
        sync = '554 5.5.0 Error: SMTP protocol synchronization error (input sent before the reply to %s)'
        for pipes in (False, True):
            for verb in ('HELO', 'EHLO'):
                out, rc = self.run_smtpd(inst, verb.encode() + b' c.test\r\nNOOP\r\nQUIT\r\n',
                                         {'TCPREMOTEIP': '127.0.0.1'}, pipes=pipes)
                self.assertEqual(rc, 0)
                self.assertEqual(out, '220 %s ESMTP pochta\r\n%s\r\n' % (HOST, sync % verb),
                                 (pipes, verb))
