"""Logging, black box: the time on every line, log_destination (file through
pochta-logger, reopened on SIGHUP; syslog in a mount namespace of our own),
log_format=json, reject lines with their reason, the admin's hold, release and
delete, and one size for one message."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from pochta import InstanceTest, alive, prog, wait_until

USERS = {'alice': 'pw-a'}
STAMP = r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d'
LINE = re.compile(r'^' + STAMP + r' [a-z][a-z-]*\[\d+\]: \S')
MSG = 'From: <a@example.org>\r\nTo: <alice@example.test>\r\nSubject: log\r\n\r\nhello\r\n'
# deferred for good: relayed to a port nobody listens on
DEFER = {'relay_networks': '127.0.0.0/8', 'relayhost': '127.0.0.1:9'}


def qid_of(log, who='pochta-enqueue'):
    m = re.findall(r'%s\[\d+\]: ([0-9A-V]{24}) queued' % who, log)
    return m[-1] if m else None


class Logging(InstanceTest):
    def cycle(self, inst, rcpt='alice@example.test'):
        with inst.smtp() as s:
            s.sendmail('a@example.org', [rcpt], MSG)

    def test_time_on_every_line(self):
        inst = self.instance(users=USERS)
        self.cycle(inst)
        inst.wait_mail('alice', 1)
        wait_until(lambda: ' removed' in inst.log(), 10, 0.05, 'the removed line')
        inst.stop()
        lines = inst.log().splitlines()
        progs = set()
        for line in lines:
            self.assertRegex(line, LINE)
            progs.add(re.match(STAMP + r' ([a-z-]+)\[', line).group(1))
        for p in ('pochtactl', 'pochta-master', 'pochta-smtpd', 'pochta-enqueue', 'pochta-qmgr'):
            self.assertIn(p, progs, lines)

    def test_file_and_reopen(self):
        inst = self.instance(users=USERS, conf={'log_destination': 'file'})
        path = os.path.join(inst.root, 'log', 'pochta.log')
        self.cycle(inst)
        inst.wait_mail('alice', 1)
        wait_until(lambda: os.path.exists(path) and ' removed' in open(path).read(), 10, 0.05,
                   'the removed line in the file')
        text = open(path).read()
        for line in text.splitlines():
            self.assertRegex(line, LINE)
        for p in ('pochta-master', 'pochta-smtpd', 'pochta-enqueue', 'pochta-qmgr'):
            self.assertRegex(text, r' %s\[\d+\]: ' % p)
        # stderr keeps only what came before the configuration was read
        self.assertNotIn('pochta-smtpd[', inst.log())
        self.assertNotIn('queued', inst.log())
        if inst.owner:
            self.assertEqual(os.stat(path).st_uid, inst.owner.pw_uid)
        first = qid_of(text)
        logger = int(re.search(r'through pochta-logger pid=(\d+)', text).group(1))
        with open('/proc/%d/comm' % logger) as f:
            self.assertEqual(f.read().strip(), 'pochta-logger')
        # logrotate: rename, then SIGHUP
        os.rename(path, path + '.1')
        os.kill(logger, signal.SIGHUP)
        wait_until(lambda: os.path.exists(path), 5, 0.05, 'a new log file')
        self.cycle(inst)
        inst.wait_mail('alice', 2)
        wait_until(lambda: len(re.findall(r'queued', open(path).read())) == 1, 10, 0.05,
                   'the second message in the new file')
        new = open(path).read()
        second = qid_of(new)
        self.assertNotEqual(first, second)
        self.assertNotIn(second, open(path + '.1').read())
        self.assertNotIn(first, new)
        self.assertIn('pochta-smtpd[', new)
        # logrotate's postrotate: pochtactl reload (SIGHUP to the supervisor)
        os.rename(path, path + '.2')
        inst.ctl('reload')
        wait_until(lambda: os.path.exists(path), 5, 0.05, 'a new log file after reload')
        self.cycle(inst)
        inst.wait_mail('alice', 3)
        wait_until(lambda: 'queued' in open(path).read(), 10, 0.05, 'the third message in the new file')
        third = qid_of(open(path).read())
        self.assertNotIn(third, open(path + '.2').read())
        # it goes when the supervisor does
        inst.stop()
        wait_until(lambda: not alive(logger), 10, 0.05, 'pochta-logger gone')

    def test_json(self):
        inst = self.instance(users=USERS, conf={'log_format': 'json'})
        self.cycle(inst)
        inst.wait_mail('alice', 1)
        r = inst.raw()
        r.reply()
        r.cmd('EHLO bad"helo\\')
        r.cmd('MAIL FROM:<"q\\"x"@example.org>')
        r.cmd('RCPT TO:<nobody@example.test>')
        r.cmd('QUIT')
        r.close()
        wait_until(lambda: ' removed' in inst.log() or '"removed"' in inst.log(), 10, 0.05, 'removed')
        wait_until(lambda: 'user_unknown' in inst.log(), 10, 0.05, 'the reject line')
        objs = [json.loads(line) for line in inst.log().splitlines()]
        for o in objs:
            self.assertRegex(o['time'], '^' + STAMP + '$')
            self.assertIsInstance(o['pid'], int)
            self.assertIn(o['level'], ('info', 'warning', 'fatal'))
            self.assertIn('program', o)
            self.assertIn('message', o)
        queued = [o for o in objs if o['program'] == 'pochta-enqueue' and 'queued' in o['message']]
        self.assertEqual(len(queued), 1)
        self.assertRegex(queued[0]['qid'], '^[0-9A-V]{24}$')
        rej = [o for o in objs if o.get('reason') == 'user_unknown']
        self.assertEqual(len(rej), 1, objs)
        self.assertEqual(rej[0]['to'], '<nobody@example.test>')
        self.assertEqual(rej[0]['from'], '<"q\\"x"@example.org>')
        self.assertEqual(rej[0]['helo'], '<bad"helo\\>')
        self.assertEqual(rej[0]['client'], '127.0.0.1')
        self.assertNotIn('qid', rej[0])
        self.assertTrue(rej[0]['message'].startswith('NOQUEUE: reject: RCPT from 127.0.0.1: 550 5.1.1 '))

    def test_reject_lines(self):
        inst = self.instance(users=USERS, conf={'message_size_limit': 2000, 'max_recipients': 1})
        r = inst.raw()
        r.reply()
        self.assertEqual(r.cmd('EHLO client.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<big@example.org> SIZE=5000')[0], 552)
        self.assertEqual(r.cmd('MAIL FROM:<a@example.org>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<nobody@example.test>')[0], 550)
        self.assertEqual(r.cmd('RCPT TO:<x@elsewhere.test>')[0], 554)
        self.assertEqual(r.cmd('RCPT TO:<bad')[0], 501)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 452)
        self.assertEqual(r.cmd('QUIT')[0], 221)
        r.close()
        wait_until(lambda: 'disconnect from' in inst.log().split('reason=limit')[-1], 10, 0.05,
                   'the session end')
        log = inst.log()
        tail = r' proto=ESMTP helo=<client\.test>$'
        want = [
            r'NOQUEUE: reject: MAIL from 127\.0\.0\.1: 552 5\.3\.4 Message size exceeds fixed limit; '
            r'reason=size client=127\.0\.0\.1 from=<big@example\.org>' + tail,
            r'NOQUEUE: reject: RCPT from 127\.0\.0\.1: 550 5\.1\.1 <nobody@example\.test>: Recipient address '
            r'rejected: User unknown; reason=user_unknown client=127\.0\.0\.1 from=<a@example\.org> '
            r'to=<nobody@example\.test>' + tail,
            r'NOQUEUE: reject: RCPT from 127\.0\.0\.1: 554 5\.7\.1 <x@elsewhere\.test>: Relay access denied; '
            r'reason=relay_denied client=127\.0\.0\.1 from=<a@example\.org> to=<x@elsewhere\.test>' + tail,
            r'NOQUEUE: reject: RCPT from 127\.0\.0\.1: 501 5\.1\.3 [^;]*; reason=syntax client=127\.0\.0\.1 '
            r'from=<a@example\.org>' + tail,
            r'NOQUEUE: reject: RCPT from 127\.0\.0\.1: 452 4\.5\.3 Error: too many recipients; reason=limit '
            r'client=127\.0\.0\.1 from=<a@example\.org> to=<alice@example\.test>' + tail,
        ]
        for w in want:
            self.assertEqual(len(re.findall(r'pochta-smtpd\[\d+\]: ' + w, log, re.M)), 1, (w, log))
        self.assertEqual(len(re.findall(r'reject:', log)), 5, log)

    def test_hold_release_delete(self):
        inst = self.instance(users=USERS, conf=DEFER)
        self.cycle(inst, 'bob@remote.test')
        wait_until(lambda: 'status=deferred' in inst.log(), 10, 0.05, 'deferred')
        qid = qid_of(inst.log())
        for cmd, line in (('hold', 'held by admin'), ('release', 'released'), ('delete', 'deleted by admin')):
            inst.ctl('queue', cmd, qid)
            wait_until(lambda: re.search(r'pochta-qmgr\[\d+\]: %s %s$' % (qid, line), inst.log(), re.M),
                       10, 0.05, line)
        wait_until(lambda: re.search(r'pochta-qmgr\[\d+\]: %s removed$' % qid, inst.log(), re.M), 10, 0.05,
                   'removed')
        log = inst.log()
        for line in ('held by admin', 'released', 'deleted by admin', 'removed'):
            self.assertEqual(len(re.findall(r'%s %s$' % (qid, line), log, re.M)), 1, log)
        # held straight from incoming/ (before the queue manager took it) and deleted while held
        inst.stop()
        inst.start()
        self.cycle(inst, 'carol@remote.test')
        wait_until(lambda: qid_of(inst.log()) != qid, 10, 0.05, 'the second message')
        q2 = qid_of(inst.log())
        inst.ctl('queue', 'hold', q2)
        wait_until(lambda: '%s held by admin' % q2 in inst.log(), 10, 0.05, 'held')
        inst.ctl('queue', 'delete', q2)
        wait_until(lambda: '%s removed' % q2 in inst.log(), 10, 0.05, 'removed')
        self.assertIn('%s deleted by admin' % q2, inst.log())

    def test_one_size(self):
        inst = self.instance(users=USERS, conf=DEFER)
        self.cycle(inst, 'bob@remote.test')
        wait_until(lambda: 'status=deferred' in inst.log(), 10, 0.05, 'deferred')
        log = inst.log()
        qid = qid_of(log)
        sizes = {}
        for who in ('pochta-enqueue', 'pochta-smtpd', 'pochta-qmgr'):
            m = re.search(r'%s\[\d+\]: %s .*\bsize=(\d+)' % (who, qid), log)
            self.assertTrue(m, (who, log))
            sizes[who] = int(m.group(1))
        out = inst.ctl('queue', 'list').stdout.decode()
        m = re.search(r'^%s\S*\s+(\d+)\s' % qid, out, re.M)
        self.assertTrue(m, out)
        sizes['queue list'] = int(m.group(1))
        self.assertEqual(len(set(sizes.values())), 1, sizes)
        # the queue file's message: more than what the client sent (our Received: line)
        self.assertGreater(sizes['queue list'], len(MSG))

    @unittest.skipUnless(shutil.which('unshare') and os.geteuid() == 0,
                         'needs root and unshare(1) for a /dev/log of our own')
    def test_syslog(self):
        inst = self.instance(users=USERS, start=False, conf={'log_destination': 'syslog'})
        d = tempfile.mkdtemp(prefix='pochta-devlog-')
        self.addCleanup(shutil.rmtree, d, True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(os.path.join(d, 'log'))
        open(os.path.join(d, 'null'), 'w').close()
        # a /dev of our own (with null) in a mount namespace: the host's syslog is never touched
        ns = ('mount --make-rprivate / && mount --bind /dev/null "$1/null" && mount --rbind "$1" /dev'
              ' && shift && exec "$@"')
        p = subprocess.run(['unshare', '--mount', 'sh', '-c', ns, 'sh', d, prog('pochta-smtpd')],
                           input=b'QUIT\r\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=dict(inst.env(), TCPREMOTEIP='192.0.2.7'), timeout=30)
        if p.returncode != 0 and b'mount' in p.stderr:
            self.skipTest('cannot mount here: %s' % p.stderr.decode(errors='replace'))
        self.assertIn(b'221', p.stdout, p.stderr)
        self.assertEqual(p.stderr, b'')
        sock.settimeout(5)
        got = [sock.recv(4096).decode() for _ in range(2)]
        # syslog's own format: <PRI>, the time, ident[pid]: text; facility mail (2), info (6)
        for g in got:
            self.assertRegex(g, r'^<22>\w{3} [ \d]\d \d\d:\d\d:\d\d pochta-smtpd\[\d+\]: ')
        self.assertIn('connect from 192.0.2.7', got[0])
        self.assertIn('disconnect from 192.0.2.7', got[1])


if __name__ == '__main__':
    unittest.main()
