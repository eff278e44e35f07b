"""The commit points, seen from the system calls (strace): a 250 to DATA only
after the queue file is fsync'd, renamed into incoming/ and incoming/ fsync'd;
a delivery reported only after the Maildir file is fsync'd, linked into new/
and new/ fsync'd. And a queue that cannot be written gets 451 4.3.0 with
nothing half-written left behind."""
import os
import re
import subprocess
import unittest

from pochta import InstanceTest, prog
from strace import STRACE, index_of, resolve_paths, strace_run


@unittest.skipUnless(STRACE, 'strace is not installed')
class CommitOrder(InstanceTest):
    def test_250_after_queue_file_and_directory_are_synced(self):
        # the session is one write through strace: the synchronization check off
        inst = self.instance(start=False, users={'alice': 'pw'},
                             conf={'smtp_forbid_unauth_pipelining': '0'})
        env = inst.env()
        env['TCPREMOTEIP'] = '127.0.0.1'
        session = (b'EHLO c.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\n'
                   b'DATA\r\nSubject: sync\r\n\r\nbody\r\n.\r\nQUIT\r\n')
        out, calls = strace_run([prog('pochta-smtpd')], env, session, user=inst.owner and inst.user)
        m = re.search(rb'250 2\.0\.0 Ok: queued as ([0-9A-V]{24})', out)
        self.assertTrue(m, out)
        qid = m.group(1).decode()
        # the queue file in tmp/, its descriptor
        i_open = index_of(calls, lambda c: c[1] == 'openat' and '/queue/tmp/' in c[2] and c[3] >= 0,
                          what='open of queue/tmp/*')
        epid, qfd = calls[i_open][0], calls[i_open][3]
        i_sync = index_of(calls, lambda c: c[0] == epid and c[1] in ('fsync', 'fdatasync')
                          and c[2].strip() == str(qfd) and c[3] == 0, i_open, 'fsync of the queue file')
        i_ren = index_of(calls, lambda c: c[0] == epid and c[1].startswith('rename')
                         and ('/queue/incoming/' + qid) in c[2] and c[3] == 0, i_sync,
                         'rename into incoming/')
        i_dir = index_of(calls, lambda c: c[0] == epid and c[1] == 'openat'
                         and re.search(r'/queue/incoming/?"', c[2]) and c[3] >= 0, i_ren,
                         'open of incoming/')
        dfd = calls[i_dir][3]
        i_dsync = index_of(calls, lambda c: c[0] == epid and c[1] == 'fsync'
                           and c[2].strip() == str(dfd) and c[3] == 0, i_dir, 'fsync of incoming/')
        i_250 = index_of(calls, lambda c: c[0] != epid and c[1] == 'write'
                         and '250 2.0.0 Ok: queued' in c[2], 0, 'the 250 reply')
        self.assertGreater(i_250, i_dsync, 'the 250 was written before incoming/ was synced')

    def test_delivery_reported_after_maildir_file_and_new_are_synced(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        env = inst.env()
        out, calls = strace_run([prog('pochta-local'), '-q', 'TESTQID', '-f', 's@remote.test',
                                 '--', 'alice@example.test'], env, b'Subject: sync\n\nbody\n',
                                user=inst.owner and inst.user)
        self.assertIn(b' D 2.0.0 ', out)
        # whole paths or names relative to the Maildir's directories, alike
        calls = resolve_paths(calls)
        i_open = index_of(calls, lambda c: c[1] == 'openat' and c[3] >= 0 and c[4]
                          and '/mail/alice/tmp/' in c[4][0], what='open of the Maildir tmp/ file')
        pid, fd = calls[i_open][0], calls[i_open][3]
        name = calls[i_open][4][0].rsplit('/', 1)[1]
        i_sync = index_of(calls, lambda c: c[0] == pid and c[1] == 'fsync' and c[2].strip() == str(fd)
                          and c[3] == 0, i_open, 'fsync of the message')
        i_link = index_of(calls, lambda c: c[1] in ('link', 'linkat', 'rename', 'renameat', 'renameat2')
                          and any(p.endswith('/mail/alice/new/' + name) for p in c[4]) and c[3] == 0,
                          i_sync, 'link into new/')
        # new/ opened before or after the link; synced after it
        newfds = {(c[0], c[3]) for c in calls if c[1] == 'openat' and c[3] >= 0 and c[4]
                  and re.search(r'/mail/alice/new/?$', c[4][0])}
        i_dsync = index_of(calls, lambda c: c[1] == 'fsync' and (c[0], int(c[2].strip())) in newfds
                           and c[3] == 0, i_link, 'fsync of new/')
        i_rep = index_of(calls, lambda c: c[1] == 'write' and c[2].startswith('1,'), 0,
                         'the result record on stdout')
        self.assertGreater(i_rep, i_dsync, 'delivery reported before new/ was synced')
        self.assertEqual(os.listdir(os.path.join(inst.maildir('alice'), 'new')), [name])


class QueueFailure(InstanceTest):
    def send(self, inst, body):
        r = inst.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.cmd('EHLO c.test')[0], 250)
        self.assertEqual(r.cmd('MAIL FROM:<s@remote.test>')[0], 250)
        self.assertEqual(r.cmd('RCPT TO:<alice@example.test>')[0], 250)
        code, lines = r.cmd('DATA')
        if code == 354:  # else the queue file could not even be created: refused at DATA
            r.send(body + b'.\r\n')
            code, lines = r.reply()
        # the session goes on after a queueing failure
        self.assertEqual(r.cmd('NOOP')[0], 250)
        return code, lines

    def test_unwritable_queue_gets_451(self):
        inst = self.instance(users={'alice': 'pw'})
        tmp = os.path.join(inst.root, 'queue', 'tmp')
        os.rmdir(tmp)
        inst.write(tmp, 'x')  # queue/tmp is no directory: every create fails
        code, lines = self.send(inst, b'Subject: nope\r\n\r\nbody\r\n')
        self.assertEqual(code, 451, lines)
        self.assertTrue(lines[0].startswith('451 4.3.0'), lines)
        self.assertEqual(os.listdir(os.path.join(inst.root, 'queue', 'incoming')), [])
        self.assertEqual(inst.mail_files('alice'), [])

    def test_disk_full_gets_451_and_leaves_nothing(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        q = os.path.join(inst.root, 'queue')
        r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', q],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            self.skipTest('cannot mount a small tmpfs here (needs root)')
        self.addCleanup(subprocess.run, ['umount', '-l', q])
        for d in ('tmp', 'incoming', 'mess', 'state', 'hold'):
            os.mkdir(os.path.join(q, d), 0o700)
        os.mkfifo(os.path.join(q, 'trigger'), 0o600)
        inst.give(q)
        inst.start()
        code, lines = self.send(inst, b'Subject: big\r\n\r\n' + (b'y' * 998 + b'\r\n') * 200)
        self.assertEqual(code, 451, lines)
        self.assertTrue(lines[0].startswith('451 4.3.0'), lines)
        self.assertEqual(os.listdir(os.path.join(q, 'tmp')), [])
        self.assertEqual(os.listdir(os.path.join(q, 'incoming')), [])
        # a message that fits still goes through afterwards
        code, lines = self.send(inst, b'Subject: small\r\n\r\nok\r\n')
        self.assertEqual(code, 250, lines)
        inst.wait_mail('alice', 1)


if __name__ == '__main__':
    unittest.main()
