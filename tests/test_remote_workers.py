"""Long-lived remote delivery workers and their connection cache
(man/pochta-remote.8 WORKER, man/pochta-qmgr.8): pochta-qmgr keeps
`pochta-remote -w` processes, reuses and replaces them; a worker keeps the SMTP
connection to a domain for its next message (RSET, no new connection, no MX
lookup) within remote_connection_cache_time and remote_connection_reuse_limit,
closes it with QUIT; a kept connection the server dropped or left hanging
costs nothing but a new connection; a worker killed with a batch loses
nothing; a running worker sees pochta.conf change."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from dnsmasq import Dnsmasq, find as find_dnsmasq
from fakesmtp import FakeSMTP, fake_server, held_first
from lifecycle_lib import make_a, send, token_msg
from pochta import InstanceTest, alive, prog, wait_until, worker_starts

QID = '0123456789ABCDEFGHIJKLMN'


def starts(inst):
    return worker_starts(inst, 'remote')


def received(srv):
    return sum(len(s.messages) for s in list(srv.sessions))


class RemoteWorkers(InstanceTest):

    def sender(self, srv, **conf):
        return make_a(self, routes={'far.test': '[127.0.0.1]:%d' % srv.port}, **conf)

    def deliver(self, a, srv, k, timeout=15):
        """one message to far.test; wait until the server has k in all"""
        token, body = token_msg(to='x@far.test')
        send(a, 'alice@a.test', ['x@far.test'], body)
        wait_until(lambda: received(srv) >= k, timeout, 0.02, '%d messages at the server' % k)
        return token

    def test_messages_share_one_connection(self):
        srv = fake_server(self)
        a = self.sender(srv, remote_connection_cache_time='30')
        for k in range(1, 4):
            self.deliver(a, srv, k)
        a.wait_queue_empty()
        self.assertEqual(len(srv.sessions), 1, [s.commands for s in srv.sessions])
        cmds = srv.sessions[0].commands
        self.assertEqual(len(srv.sessions[0].messages), 3)
        self.assertEqual(cmds.count('RSET'), 2, cmds)
        self.assertEqual(len([c for c in cmds if c.startswith('EHLO')]), 1, cmds)
        self.assertNotIn('QUIT', cmds)
        self.assertEqual(len(re.findall(r'reusing the connection to 127\.0\.0\.1\[127\.0\.0\.1\]:%d'
                                        % srv.port, a.log())), 2, a.log())

    @unittest.skipUnless(find_dnsmasq(), 'dnsmasq not installed')
    def test_mx_looked_up_once_for_the_kept_connection(self):
        dns = Dnsmasq(['--mx-host=far.test,mx.far.test,10', '--host-record=mx.far.test,127.0.0.1',
                       '--log-queries'])
        dns.start()
        self.addCleanup(dns.stop)
        srv = fake_server(self)
        a = make_a(self, dns_servers='127.0.0.1:%d' % dns.port, remote_port=str(srv.port),
                   remote_connection_cache_time='30')
        for k in range(1, 4):
            self.deliver(a, srv, k)
        a.wait_queue_empty()
        self.assertEqual(len(srv.sessions), 1)
        self.assertRegex(a.log(), r'reusing the connection to mx\.far\.test\[127\.0\.0\.1\]:%d'
                         % srv.port)
        mx = re.findall(r'query\[MX\] far\.test from', dns.logtext())
        self.assertEqual(len(mx), 1, dns.logtext())

    def test_idle_connection_closed_with_quit(self):
        srv = fake_server(self)
        a = self.sender(srv, remote_connection_cache_time='2')
        self.deliver(a, srv, 1)
        t0 = time.monotonic()
        s = srv.sessions[0]
        wait_until(lambda: 'QUIT' in s.commands, 15, 0.02, 'QUIT on the idle connection')
        # kept open for the cache time, not closed after the message
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.assertIn('closing the cached connection to 127.0.0.1[127.0.0.1]:%d after 1 message'
                      % srv.port, a.log())
        # the next message has a connection of its own
        self.deliver(a, srv, 2)
        self.assertEqual(len(srv.sessions), 2)

    def test_reuse_limit_starts_a_new_connection(self):
        srv = fake_server(self)
        a = self.sender(srv, remote_connection_cache_time='30', remote_connection_reuse_limit='2')
        for k in range(1, 4):
            self.deliver(a, srv, k)
        self.assertEqual([len(s.messages) for s in srv.sessions], [2, 1])
        first = srv.sessions[0].commands
        self.assertEqual(first[-1], 'QUIT', first)
        self.assertEqual(first.count('RSET'), 1, first)

    def test_dropped_connection_fails_over(self):
        """the server closed the kept connection: the next message goes over a
        new one at once, not deferred (retry_min is far away)"""
        srv = fake_server(self, close_after=1)
        a = self.sender(srv, remote_connection_cache_time='30', retry_min='300', retry_max='600')
        self.deliver(a, srv, 1)
        time.sleep(0.3)  # the server's close has reached the kept socket
        self.deliver(a, srv, 2, timeout=20)
        a.wait_queue_empty()
        log = a.log()
        self.assertEqual(len(srv.sessions), 2)
        self.assertRegex(log, r'cached connection to 127\.0\.0\.1\[127\.0\.0\.1\]:%d failed while'
                         % srv.port)
        self.assertNotIn('status=deferred', log)

    def test_hung_connection_fails_over(self):
        """a kept connection that never answers RSET: given up after
        remote_timeout, then a new connection; nothing deferred"""
        srv = fake_server(self, mute=('RSET',))
        a = self.sender(srv, remote_connection_cache_time='30', retry_min='300', retry_max='600')
        self.deliver(a, srv, 1)
        self.deliver(a, srv, 2, timeout=20)
        a.wait_queue_empty()
        self.assertEqual(len(srv.sessions), 2)
        self.assertIn('RSET', srv.sessions[0].commands)
        self.assertRegex(a.log(), r'cached connection to \S+ failed while sending RSET: timeout')
        self.assertNotIn('status=deferred', a.log())

    def test_421_to_mail_on_a_kept_connection_fails_over(self):
        """RSET answered, then 421 to MAIL (a server closing idle clients):
        the message goes over a new connection at once, not deferred"""
        mails = []

        def mail(cmd):
            mails.append(cmd)
            return '421 4.4.2 idle too long' if len(mails) == 2 else None
        srv = fake_server(self, mail=mail)
        a = self.sender(srv, remote_connection_cache_time='30', retry_min='300', retry_max='600')
        self.deliver(a, srv, 1)
        self.deliver(a, srv, 2, timeout=20)
        a.wait_queue_empty()
        self.assertEqual([len(x.messages) for x in srv.sessions], [1, 1])
        self.assertIn('RSET', srv.sessions[0].commands)
        self.assertRegex(a.log(), r'cached connection to \S+: 421 to MAIL')
        self.assertNotIn('status=deferred', a.log())

    def test_batch_goes_to_the_worker_with_the_connection(self):
        """two domains, two workers, messages alternating: each domain's
        messages stay on the one connection its worker keeps"""
        far, near = fake_server(self), fake_server(self)
        a = make_a(self, routes={'far.test': '[127.0.0.1]:%d' % far.port,
                                 'near.test': '[127.0.0.1]:%d' % near.port},
                   delivery_concurrency='2', remote_connection_cache_time='30')
        for k in range(1, 4):
            for dom, srv in (('far.test', far), ('near.test', near)):
                token, body = token_msg(to='x@' + dom)
                send(a, 'alice@a.test', ['x@' + dom], body)
                wait_until(lambda: received(srv) >= k, 15, 0.02, '%d at %s' % (k, dom))
        a.wait_queue_empty()
        self.assertEqual(len(far.sessions), 1, [x.commands for x in far.sessions])
        self.assertEqual(len(near.sessions), 1, [x.commands for x in near.sessions])
        self.assertEqual(len(starts(a)), 2)

    def test_workers_reused_and_replaced(self):
        srv = fake_server(self)
        a = self.sender(srv, delivery_concurrency='2', worker_max_use='2',
                        remote_connection_cache_time='0')
        for k in range(1, 6):
            self.deliver(a, srv, k)
        a.wait_queue_empty()
        wait_until(lambda: len(starts(a)) == 3, 10, 0.05, 'three workers')
        self.assertEqual(len(re.findall(r'remote worker pid=\d+ replaced after 2 batches',
                                        a.log())), 2, a.log())
        first, second, third = starts(a)
        wait_until(lambda: not alive(first) and not alive(second), 10, 0.05, 'old workers gone')
        self.assertTrue(alive(third))
        with open('/proc/%d/cmdline' % third, 'rb') as f:
            self.assertEqual(f.read().split(b'\0')[1:-1], [b'-w'])
        # no kept connection (cache time 0): every message had its own, with QUIT
        self.assertEqual(len(srv.sessions), 5)
        wait_until(lambda: all(s.commands[-1:] == ['QUIT'] for s in srv.sessions), 10)

    def test_idle_worker_stops_and_quits(self):
        srv = fake_server(self)
        a = self.sender(srv, worker_idle_timeout='1', remote_connection_cache_time='30')
        self.deliver(a, srv, 1)
        [pid] = starts(a)
        wait_until(lambda: not alive(pid), 10, 0.05, 'the idle worker stopped')
        self.assertIn('remote worker pid=%d idle, stopped after 1 batches' % pid, a.log())
        # it closed its kept connection on the way out
        wait_until(lambda: srv.sessions[0].commands[-1:] == ['QUIT'], 5)

    def test_killed_worker_loses_nothing(self):
        release, first, final = held_first()
        srv = fake_server(self, final=final)
        a = self.sender(srv, remote_connection_cache_time='30')
        token, body = token_msg(to='x@far.test')
        qid = send(a, 'alice@a.test', ['x@far.test'], body)
        wait_until(lambda: first, 15, 0.02, 'the message at the server')
        [pid] = starts(a)
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: 'killed by signal 9' in a.log(), 10, 0.05, 'the kill noticed')
        release.set()
        # retried (retry_min 1) by a new worker: delivered at least once more
        wait_until(lambda: received(srv) >= 2, 20, 0.05, 'the retry')
        a.wait_queue_empty(20)
        self.assertRegex(a.log(), r'%s to=<x@far.test> status=deferred .*killed by signal 9' % qid)
        self.assertRegex(a.log(), r'%s to=<x@far.test> status=sent' % qid)
        self.assertEqual(len(starts(a)), 2)

    def test_config_change_noticed(self):
        srv = fake_server(self)
        other = fake_server(self)
        a = self.sender(srv, remote_connection_cache_time='30')
        self.deliver(a, srv, 1)
        a.ctl('config', 'set', 'relayhost', '127.0.0.1:%d' % other.port)
        a.ctl('reload')
        token, body = token_msg(to='x@far.test')
        send(a, 'alice@a.test', ['x@far.test'], body)
        wait_until(lambda: received(other) == 1, 15, 0.02, 'the message at the relayhost')
        self.assertEqual(received(srv), 1)
        # the same worker, which closed the connection made under the old configuration
        self.assertEqual(len(starts(a)), 1)
        wait_until(lambda: srv.sessions[0].commands[-1:] == ['QUIT'], 5)


def rec(t, data):
    data = data.encode() if isinstance(data, str) else data
    return t.encode() + str(len(data)).encode() + b':' + data + b'\n'


def records(buf):
    """[(type, text)] of a reply packet"""
    out, pos = [], 0
    while pos < len(buf):
        colon = buf.index(b':', pos)
        n = int(buf[pos + 1:colon])
        out.append((chr(buf[pos]), buf[colon + 1:colon + 1 + n].decode()))
        assert buf[colon + 1 + n:colon + 2 + n] == b'\n', buf
        pos = colon + 2 + n
    return out


class WorkerProtocol(InstanceTest):
    """pochta-remote -w spoken to directly over its packet socket (common/rreq.h)"""

    def worker(self, srv):
        a = self.instance(start=False, domain='a.test', pop3=False,
                          conf={'myhostname': 'a.test', 'remote_timeout': '5',
                                'remote_connection_cache_time': '30'})
        a.write('etc/routes', 'far.test [127.0.0.1]:%d\n' % srv.port)
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.logf = tempfile.TemporaryFile()
        env = dict(os.environ, POCHTA_LOG='stderr')
        p = subprocess.Popen([prog('pochta-remote'), '-r', a.root, '-w'], stdin=theirs,
                             stdout=subprocess.DEVNULL, stderr=self.logf, env=env, **a.as_owner())
        theirs.close()
        mine.settimeout(20)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(5)))
        self.addCleanup(mine.close)
        return p, mine

    def message(self):
        f = tempfile.TemporaryFile()
        f.write(b'Subject: w\n\nbody\n')
        f.seek(0)
        self.addCleanup(f.close)
        return f

    def request(self, rcpts, domain='far.test', qid=QID):
        return (rec('q', qid) + rec('f', 'alice@a.test') + rec('b', '') + rec('d', domain) +
                b''.join(rec('a', r) for r in rcpts))

    def test_batch_results_and_kept_connection(self):
        srv = FakeSMTP(rcpt=lambda a: '550 5.1.1 no' if a.startswith('no') else None).start()
        self.addCleanup(srv.stop)
        p, sock = self.worker(srv)
        socket.send_fds(sock, [self.request(['x@far.test', 'nobody@far.test', 'y@far.test'])],
                        [self.message().fileno()])
        r = records(sock.recv(200000))
        self.assertEqual([t for t, _ in r], ['r', 'r', 'r', 'k'], r)
        self.assertTrue(r[0][1].startswith('0 D 2.0.0 smtp; 250'), r)
        self.assertTrue(r[1][1].startswith('1 P 5.1.1 smtp; 550'), r)
        self.assertTrue(r[2][1].startswith('2 D 2.0.0'), r)
        self.assertEqual(r[3][1], 'far.test')
        self.assertNotIn('QUIT', srv.sessions[0].commands)
        # the socket closes: the worker QUITs the kept connection and exits 0
        sock.shutdown(socket.SHUT_RDWR)
        self.assertEqual(p.wait(10), 0)
        wait_until(lambda: srv.sessions[0].commands[-1:] == ['QUIT'], 5)

    def test_malformed_requests(self):
        srv = FakeSMTP().start()
        self.addCleanup(srv.stop)
        p, sock = self.worker(srv)
        bad = [
            (self.request(['x@far.test']), None),                          # no message
            (self.request([]), self.message().fileno()),                  # no recipient
            (self.request(['x@far.test']) + rec('x', 'y'), self.message().fileno()),
            (self.request(['x@far.test'], qid='SHORT'), self.message().fileno()),
        ]
        for pkt, fd in bad:
            if fd is None:
                sock.send(pkt)
            else:
                socket.send_fds(sock, [pkt], [fd])
            self.assertEqual(records(sock.recv(200000)),
                             [('r', '0 T 4.3.0 malformed delivery request')], pkt)
        # a bad destination and a bad sender fail for good, without a connection
        socket.send_fds(sock, [self.request(['x@far.test'], domain='bad..domain')],
                        [self.message().fileno()])
        self.assertTrue(records(sock.recv(200000))[0][1].startswith('0 P 5.1.2'))
        pkt = self.request(['x@far.test']).replace(rec('f', 'alice@a.test'), rec('f', 'a b@c'))
        socket.send_fds(sock, [pkt], [self.message().fileno()])
        self.assertTrue(records(sock.recv(200000))[0][1].startswith('0 P 5.1.7'))
        self.assertEqual(srv.sessions, [])
        # still serving
        socket.send_fds(sock, [self.request(['x@far.test'])], [self.message().fileno()])
        self.assertTrue(records(sock.recv(200000))[0][1].startswith('0 D 2.0.0'))
        sock.close()
        self.assertEqual(p.wait(10), 0)

    def test_usage(self):
        p = subprocess.run([prog('pochta-remote'), '-w', '-q', QID], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 100)
        self.assertIn(b'-w takes no other arguments', p.stderr)


if __name__ == '__main__':
    unittest.main()
