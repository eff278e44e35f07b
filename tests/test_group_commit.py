"""Group commit in pochta-enqueue (QUEUE/commit, man/pochta-queue.5): sessions
that commit at the same time share one fsync of incoming/, and still no 250 is
sent before that fsync, which began after their rename, has returned. A commit
file that cannot be trusted makes every session sync alone, and is rewritten
when pochta-qmgr starts; a writer killed while holding the lock holds nothing."""
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import unittest

from pochta import InstanceTest, prog, wait_until
from strace import STRACE, index_of, strace_run

SESSION = (b'EHLO c.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<alice@example.test>\r\n'
           b'DATA\r\nSubject: gc\r\n\r\nbody\r\n.\r\nQUIT\r\n')
# N sessions of pochta-smtpd at once, each fed SESSION; their outputs joined;
# as UID:GID when given (the instance's account)
SESSIONS = r'''
import subprocess, sys
prog, n, data = sys.argv[1], int(sys.argv[2]), sys.stdin.buffer.read()
kw = {}
if len(sys.argv) > 3:
    uid, gid = map(int, sys.argv[3].split(':'))
    kw = {'user': uid, 'group': gid, 'extra_groups': []}
ps = [subprocess.Popen([prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE, **kw) for _ in range(n)]
for p in ps:
    p.stdin.write(data)
    p.stdin.close()
for p in ps:
    sys.stdout.buffer.write(p.stdout.read())
    p.wait()
'''
# holds the commit file's lock until killed
HOLDER = r'''
import fcntl, sys, time
f = open(sys.argv[1], 'r+b')
fcntl.flock(f, fcntl.LOCK_EX)
print('locked', flush=True)
time.sleep(300)
'''


def commit_path(inst):
    return os.path.join(inst.root, 'queue', 'commit')


def tickets(inst):
    """the shared counter: tickets taken so far"""
    with open(commit_path(inst), 'rb') as f:
        data = f.read()
    return struct.unpack_from('=Q', data, 16)[0] if len(data) == 64 else -1


def incoming_syncs(calls):
    """indexes of the fsyncs of queue/incoming/ (by the descriptor that opened it)"""
    dirfd, out = {}, []
    for i, (pid, name, args, res) in enumerate(calls):
        if name == 'openat' and res >= 0:
            dirfd[(pid, res)] = bool(re.search(r'/queue/incoming/?"', args))
        elif name == 'fsync' and res == 0 and dirfd.get((pid, int(args.strip() or -1))):
            out.append(i)
    return out


class GroupCommit(InstanceTest):
    def instance_for_strace(self):
        # each session is one write through strace: the synchronization check off
        inst = self.instance(start=False, users={'alice': 'pw'},
                             conf={'smtp_forbid_unauth_pipelining': '0'})
        env = inst.env()
        env['TCPREMOTEIP'] = '127.0.0.1'
        return inst, env

    @unittest.skipUnless(STRACE, 'strace is not installed')
    def test_waiting_sessions_share_one_sync(self):
        n = 5
        inst, env = self.instance_for_strace()
        # a writer that holds the lock, then is killed: the sessions pile up
        # behind it, renamed and with their tickets
        holder = subprocess.Popen([sys.executable, '-c', HOLDER, commit_path(inst)],
                                  stdout=subprocess.PIPE)
        self.addCleanup(lambda: holder.poll() is None and (holder.kill(), holder.wait()))
        self.assertEqual(holder.stdout.readline().strip(), b'locked')
        res = {}
        # this python may be one the account cannot run: it starts the sessions as the account
        owner = ['%d:%d' % (inst.owner.pw_uid, inst.owner.pw_gid)] if inst.owner else []

        def run():
            try:
                res['out'], res['calls'] = strace_run(
                    [sys.executable, '-c', SESSIONS, prog('pochta-smtpd'), str(n)] + owner, env,
                    SESSION, timeout=120)
            except Exception as e:  # reported below
                res['error'] = e
        t = threading.Thread(target=run)
        t.start()
        try:
            wait_until(lambda: tickets(inst) == n, 60, 0.05, '%d renamed messages waiting' % n)
            self.assertTrue(t.is_alive(), res)  # none answered yet
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait(10)
            t.join(130)
        self.assertNotIn('error', res)
        out, calls = res['out'], res['calls']
        qids = re.findall(rb'250 2\.0\.0 Ok: queued as ([0-9A-V]{24})', out)
        self.assertEqual(len(set(qids)), n, out)
        self.assertEqual(sorted(os.listdir(os.path.join(inst.root, 'queue', 'incoming'))),
                         sorted(q.decode() for q in qids))
        renames = [i for i, c in enumerate(calls) if c[1].startswith('rename') and c[3] == 0
                   and '/queue/incoming/' in c[2]]
        syncs = incoming_syncs(calls)
        helper = calls[0][0]  # the python that started the sessions and prints their output
        replies = [i for i, c in enumerate(calls) if c[0] != helper and c[1] == 'write'
                   and '250 2.0.0 Ok: queued' in c[2]]
        tail = calls[-80:]
        self.assertEqual(len(renames), n, tail)
        self.assertEqual(len(replies), n, tail)
        # one fsync of incoming/ for the n messages, begun after every rename,
        # and every 250 after it returned
        self.assertEqual(len(syncs), 1, [calls[i] for i in syncs] + tail)
        self.assertGreater(syncs[0], max(renames))
        self.assertGreater(min(replies), syncs[0])
        self.assertEqual(tickets(inst), n)

    @unittest.skipUnless(STRACE, 'strace is not installed')
    def test_damaged_or_missing_file_each_session_syncs(self):
        inst, env = self.instance_for_strace()
        path = commit_path(inst)
        # the last one stays for the queue manager to rewrite
        for what in ('missing', 'short', 'garbage'):
            if what == 'missing':
                os.unlink(path)
            else:
                inst.write(path, b'pochtagc'.ljust(20, b'\0') if what == 'short' else b'x' * 64)
            out, calls = strace_run([prog('pochta-smtpd')], env, SESSION, user=inst.owner and inst.user)
            m = re.search(rb'250 2\.0\.0 Ok: queued as ([0-9A-V]{24})', out)
            self.assertTrue(m, (what, out))
            i_ren = index_of(calls, lambda c: c[1].startswith('rename') and c[3] == 0 and
                             ('/queue/incoming/' + m.group(1).decode()) in c[2], what='rename')
            syncs = [i for i in incoming_syncs(calls) if i > i_ren]
            i_250 = index_of(calls, lambda c: c[1] == 'write' and '250 2.0.0 Ok: queued' in c[2])
            self.assertTrue(syncs and syncs[0] < i_250, (what, calls[-60:]))
            # and says why
            p = subprocess.run([prog('pochta-smtpd')], input=SESSION, env=dict(env, POCHTA_LOG='stderr'),
                               timeout=60, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               **inst.as_owner())
            self.assertIn(b'250 2.0.0 Ok: queued', p.stdout)
            self.assertIn(b'not a valid commit file' if what != 'missing' else b'No such file',
                          p.stderr)
            self.assertIn(b'synced by each session alone', p.stderr)
        # the queue manager makes a new one when it starts
        inst.start()
        inst.wait_mail('alice', 6, timeout=30)
        with open(path, 'rb') as f:
            self.assertEqual(f.read(8), b'pochtagc')
        with inst.smtp() as s:
            s.sendmail('s@remote.test', ['alice@example.test'], 'Subject: after\r\n\r\nx\r\n')
        self.assertEqual(tickets(inst), 1)

    def test_many_concurrent_sessions_all_queued_and_delivered(self):
        threads, each = 8, 12
        inst = self.instance(users={'alice': 'pw'})
        errors = []

        def client(k):
            for i in range(each):
                try:
                    with inst.smtp(timeout=60) as s:  # one connection per message
                        s.sendmail('s@remote.test', ['alice@example.test'],
                                   'Subject: gc-%d-%d\r\n\r\nbody\r\n' % (k, i))
                except Exception as e:
                    errors.append(repr(e))
        ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(300)
        self.assertEqual(errors, [])
        inst.wait_mail('alice', threads * each, timeout=120)
        subjects = set()
        for path in inst.mail_files('alice'):
            with open(path, 'rb') as f:
                subjects.update(re.findall(rb'Subject: (gc-\d+-\d+)\n', f.read()))
        self.assertEqual(len(subjects), threads * each)
        # every commit went through the shared file
        self.assertEqual(tickets(inst), threads * each)
        inst.wait_queue_empty(30)


if __name__ == '__main__':
    unittest.main()
