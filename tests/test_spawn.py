"""An instance root started as root with no instance_user runs each program as
its own user (pochta-master(8)): the supervisor as root, pochta-smtpd as
smtpd_user, pochta-qmgr as qmgr_user with the queue group, and the delivery
workers, which pochta-qmgr asks of the supervisor over the spawn channel, as
remote_user (pochta-remote) and as root (pochta-local: it becomes each
Maildir's owner). Accounts named ptsp* are made by `pochtactl setup` and
removed afterwards; the programs are a copy of the build (setup makes
pochta-enqueue setgid). Needs root (CI runs as root); skipped otherwise."""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from fakesmtp import fake_server, held_first
from pochta import BUILD, CTL, Instance, alive, pids_of_root, proc_status, prog_pids, wait_until

TAG = 'ptsp%d' % (os.getpid() % 10000)  # plain and sanitized runs at once: their own names
KEYS = {'smtpd_user': TAG + 'd', 'qmgr_user': TAG + 'q', 'remote_user': TAG + 'r',
        'virtual_user': TAG + 'v', 'queue_group': TAG + 'g'}
USERS = [KEYS[k] for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user')]


def del_accounts():
    for u in USERS:
        subprocess.run(['userdel', u], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for g in USERS + [KEYS['queue_group']]:
        subprocess.run(['groupdel', g], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ids(pid):
    """(uids, gids, sorted groups) of a process, as ints"""
    st = proc_status(pid)
    return ([int(x) for x in st['Uid']], [int(x) for x in st['Gid']],
            sorted(int(x) for x in st['Groups']))


class SepInstance(Instance):
    """an instance whose programs are found in libexec (POCHTA_LIBEXEC)"""

    def __init__(self, libexec, **kw):
        super().__init__(libexec=libexec, **kw)


@unittest.skipUnless(os.geteuid() == 0, 'needs root: pochta-master separates users only when started as root')
class SeparateUsers(unittest.TestCase):
    def setUp(self):
        del_accounts()  # a run killed before its cleanup
        self.addCleanup(del_accounts)
        self.libexec = tempfile.mkdtemp(prefix='pochta-spawn-bin-')
        self.addCleanup(shutil.rmtree, self.libexec, True)
        os.chmod(self.libexec, 0o755)
        for n in os.listdir(BUILD):
            p = os.path.join(BUILD, n)
            if n.startswith('pochta') and os.path.isfile(p) and os.access(p, os.X_OK):
                shutil.copy(p, self.libexec)

    def instance(self, setup=True, conf=None, start=True):
        c = dict(KEYS, relay_networks='127.0.0.0/8', retry_min='1', retry_max='2',
                 worker_idle_timeout='120', delivery_concurrency='2')
        c.update(conf or {})
        # one user per program: no instance_user
        inst = SepInstance(self.libexec, users={'alice': 'pw'}, conf=c, no_account=True)
        self.addCleanup(inst.cleanup)
        os.chmod(inst.root, 0o755)  # mkdtemp's 0700: the accounts could not get in
        if setup:
            p = inst.ctl('setup')
            self.assertIn(b'setup done', p.stdout)
        if start:
            inst.start()
        return inst

    def route(self, inst, srv):
        with open(os.path.join(inst.root, 'etc', 'routes'), 'w') as f:
            f.write('far.test [127.0.0.1]:%d\n' % srv.port)


    def pw(self, key):
        return pwd.getpwnam(KEYS[key])

    def assert_runs_as(self, pid, key, extra_groups=()):
        pw = self.pw(key)
        want = sorted({pw.pw_gid} | {grp.getgrnam(g).gr_gid for g in extra_groups})
        self.assertEqual(ids(pid), ([pw.pw_uid] * 4, [pw.pw_gid] * 4, want), key)

    def send(self, inst, rcpts, text):
        with inst.smtp() as s:
            s.sendmail('alice@example.test', rcpts, 'Subject: %s\r\n\r\n%s\r\n' % (text, text))

    def test_each_program_as_its_user(self):
        # an instance's pochta.conf from init says local_system_users = 0:
        # the local workers never need root
        self.each_program_as_its_user(False)

    def test_local_workers_root_for_system_users(self):
        # they must become the host's accounts (~/Maildir), so they run as root
        self.each_program_as_its_user(True)

    def each_program_as_its_user(self, local_as_root):
        srv = fake_server(self)
        inst = self.instance(start=False, conf={'local_system_users': '1' if local_as_root else '0'})
        self.route(inst, srv)
        inst.start()
        self.assertIn('running smtpd as %s, qmgr as %s, remote workers as %s, local workers as %s'
                      % (KEYS['smtpd_user'], KEYS['qmgr_user'], KEYS['remote_user'],
                         'root' if local_as_root else KEYS['virtual_user']), inst.log())
        self.assertNotIn('every program runs as root', inst.log())
        self.assertEqual(ids(inst.proc.pid)[0], [0, 0, 0, 0])
        [qmgr] = wait_until(lambda: prog_pids(inst, 'pochta-qmgr'), 10, what='pochta-qmgr')
        self.assert_runs_as(qmgr, 'qmgr_user', [KEYS['queue_group']])
        smtpd = prog_pids(inst, 'pochta-smtpd')
        self.assertTrue(smtpd)
        for pid in smtpd:
            self.assert_runs_as(pid, 'smtpd_user')

        # written by pochta-enqueue as smtpd_user, read by qmgr_user through the group
        self.send(inst, ['alice@example.test', 'x@far.test'], 'hello')
        [mail] = inst.wait_mail('alice', 1)
        self.assertIn(b'hello', mail)
        st = os.stat(inst.mail_files('alice')[0])
        self.assertEqual((st.st_uid, st.st_gid), (self.pw('virtual_user').pw_uid, self.pw('virtual_user').pw_gid))
        wait_until(lambda: sum(len(s.messages) for s in list(srv.sessions)) == 1, 15, 0.02,
                   'the message at the fake server')
        inst.wait_queue_empty()

        # the workers, idle now, are the supervisor's children, as their users
        [remote] = prog_pids(inst, 'pochta-remote')
        self.assert_runs_as(remote, 'remote_user')
        local = prog_pids(inst, 'pochta-local')
        self.assertEqual(len(local), 1)
        if local_as_root:
            self.assertEqual(ids(local[0])[0], [0, 0, 0, 0])
        else:
            self.assert_runs_as(local[0], 'virtual_user')
        for pid in (remote, local[0]):
            self.assertEqual(int(proc_status(pid)['PPid'][0]), inst.proc.pid)
        log = inst.log()
        self.assertIn('spawned remote worker pid=%d user=%s' % (remote, KEYS['remote_user']), log)
        self.assertIn('delivery workers are started by pochta-master', log)
        self.assertEqual(inst.stop(), 0)
        wait_until(lambda: not pids_of_root(inst.root), 10, 0.05, 'no process of the instance left')

    def test_killed_worker_and_qmgr_lose_nothing(self):
        release, first, final = held_first()
        srv = fake_server(self, final=final)
        inst = self.instance(start=False)
        self.route(inst, srv)
        inst.start()
        self.send(inst, ['x@far.test'], 'one')
        wait_until(lambda: first, 15, 0.02, 'the message at the server')
        [remote] = prog_pids(inst, 'pochta-remote')
        # a busy worker killed: qmgr, which cannot wait for it, sees its socket end
        os.kill(remote, signal.SIGKILL)
        wait_until(lambda: 'remote worker pid=%d killed by signal 9' % remote in inst.log(), 10, 0.05,
                   'the supervisor reaping it')
        wait_until(lambda: re.search(r'to=<x@far.test> status=deferred .*ended without a result',
                                     inst.log()), 10, 0.05, 'the delivery deferred')
        release.set()
        wait_until(lambda: sum(len(s.messages) for s in list(srv.sessions)) >= 2, 20, 0.05, 'the retry')
        inst.wait_queue_empty(20)

        # qmgr killed: restarted; its workers leave with their sockets
        self.send(inst, ['alice@example.test'], 'two')
        inst.wait_mail('alice', 1)
        workers = prog_pids(inst, 'pochta-local') + prog_pids(inst, 'pochta-remote')
        self.assertTrue(workers)
        [qmgr] = prog_pids(inst, 'pochta-qmgr')
        os.kill(qmgr, signal.SIGKILL)
        wait_until(lambda: not any(alive(p) for p in workers), 10, 0.05, 'the old workers gone')
        # mail that came while no qmgr ran is delivered by the next
        self.send(inst, ['alice@example.test'], 'three')
        mails = inst.wait_mail('alice', 2, 20)
        self.assertTrue(any(b'three' in m for m in mails))
        [qmgr2] = prog_pids(inst, 'pochta-qmgr')
        self.assertNotEqual(qmgr2, qmgr)
        self.assert_runs_as(qmgr2, 'qmgr_user', [KEYS['queue_group']])
        inst.wait_queue_empty()

    def test_channel_protocol(self):
        # a stand-in for pochta-qmgr, run by the supervisor as qmgr_user, that
        # speaks the spawn channel and prints what it saw
        with open(os.path.join(self.libexec, 'pochta-qmgr'), 'w') as f:
            f.write(FAKE_QMGR)
        os.chmod(os.path.join(self.libexec, 'pochta-qmgr'), 0o755)
        inst = self.instance()
        seen = {}

        def done():
            for m in re.findall(r'^FAKEQMGR (.*)$', inst.log(), re.M):
                seen.update(json.loads(m))
            return 'end' in seen
        wait_until(done, 20, 0.05, 'the stand-in done')
        q = self.pw('qmgr_user')
        self.assertEqual(seen['uid'], q.pw_uid)
        self.assertEqual(seen['groups'], sorted({q.pw_gid, grp.getgrnam(KEYS['queue_group']).gr_gid}))
        self.assertEqual(seen['fd'], 3)
        rpid = seen['remote']
        self.assertEqual(seen['remote_uid'], self.pw('remote_user').pw_uid)
        self.assertTrue(seen['remote_socket'])
        # a kill request for a process that is no worker of ours, and garbage
        log = inst.log()
        self.assertIn('spawn: kill 1: not a running worker', log)
        self.assertIn('spawn: malformed request from qmgr', log)
        # a late reply's number is the request's: "local 7" was answered "7 PID"
        self.assertEqual(seen['seq'], 7)
        # the worker killed on request: its socket ended
        self.assertTrue(seen['killed_eof'])
        self.assertIn('killing worker pid=%d for qmgr' % seen['local'], log)
        wait_until(lambda: 'local worker pid=%d killed by signal 9' % seen['local'] in inst.log(),
                   10, 0.05, 'the kill reaped')
        # the remote one, its socket closed by the stand-in, exits 0: reaped, gone
        wait_until(lambda: not alive(rpid), 10, 0.05, 'the remote worker gone')
        self.assertNotIn('remote worker pid=%d exited' % rpid, inst.log())

    def test_setup_gives_queue_files_to_qmgr_user(self):
        # left by a manager that ran as root (its lock, a journal) and by
        # pochta-enqueue as smtpd_user (mode 0600): qmgr_user could not use them
        inst = self.instance(start=False)
        q = os.path.join(inst.root, 'queue')
        left = {'qmgr.lock': (0, 0), 'state/0123456789ABCDEFGHIJKLMN': (0, 0),
                'mess/0123456789ABCDEFGHIJKLMO': (self.pw('smtpd_user').pw_uid, 0)}
        for rel, (uid, gid) in left.items():
            with open(os.path.join(q, rel), 'w'):
                pass
            os.chown(os.path.join(q, rel), uid, gid)
            os.chmod(os.path.join(q, rel), 0o600)
        p = inst.ctl('setup', '--check', check=False)
        self.assertEqual(p.returncode, 1)
        for rel in left:
            self.assertIn(('%s/%s: not owned by %s:%s\n' % (q, rel, KEYS['qmgr_user'], KEYS['queue_group'])).encode(),
                          p.stdout)
        inst.ctl('setup')
        qg = grp.getgrnam(KEYS['queue_group']).gr_gid
        for rel in left:
            st = os.stat(os.path.join(q, rel))
            self.assertEqual((st.st_uid, st.st_gid), (self.pw('qmgr_user').pw_uid, qg), rel)
        os.unlink(os.path.join(q, 'mess/0123456789ABCDEFGHIJKLMO'))
        os.unlink(os.path.join(q, 'state/0123456789ABCDEFGHIJKLMN'))
        self.assertEqual(inst.ctl('setup', '--check', check=False).returncode, 0)
        # the manager takes its lock as qmgr_user and runs the queue
        inst.start()
        self.send(inst, ['alice@example.test'], 'locked')
        inst.wait_mail('alice', 1)
        self.assertNotIn('cannot open', inst.log())

    def test_missing_accounts_refused(self):
        inst = self.instance(setup=False, start=False, conf={'smtpd_user': 'ptspnone'})
        p = subprocess.run([CTL, '-r', inst.root, 'start'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, env=inst.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'started as root, each program runs as its own user, but smtpd_user ptspnone:'
                      b' no such user: ptspnone; create the system users (pochtactl setup) or give the'
                      b' system one account (instance_user in ', p.stderr)
        self.assertEqual(pids_of_root(inst.root), [])

    def test_queue_not_given_to_qmgr_user_refused(self):
        inst = self.instance(start=False)
        os.chown(os.path.join(inst.root, 'queue'), 0, 0)
        p = subprocess.run([CTL, '-r', inst.root, 'start'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20, env=inst.env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s/queue is not owned by qmgr_user %s: give the tree its owners with'
                       ' pochtactl -r %s setup' % (inst.root, KEYS['qmgr_user'], inst.root)).encode(),
                      p.stderr)
        self.assertEqual(pids_of_root(inst.root), [])


FAKE_QMGR = r'''#!/usr/bin/python3
import array, json, os, select, signal, socket, sys, time

def say(**kw):
    sys.stdout.write('FAKEQMGR %s\n' % json.dumps(kw))
    sys.stdout.flush()

fd = int(os.environ['POCHTA_SPAWN_FD'])
say(uid=os.getuid(), groups=sorted(set(os.getgroups())), fd=fd)
s = socket.socket(fileno=fd)

def ask(data):
    s.send(data)
    select.select([s], [], [], 10)
    msg, anc, _, _ = s.recvmsg(64, socket.CMSG_SPACE(4))
    fds = array.array('i')
    for level, typ, d in anc:
        fds.frombytes(d[:len(d) - len(d) % fds.itemsize])
    return msg.decode(), list(fds)

def uid_of(pid):
    # once it runs the program: the drop comes before the exec
    end = time.time() + 10
    while time.time() < end:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            if f.read().startswith(b'pochta-remote'):
                break
        time.sleep(0.01)
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('Uid:'):
                return int(line.split()[1])

reply, fds = ask(b'remote 1')
seq, pid = map(int, reply.split())
w = socket.socket(fileno=fds[0])
say(remote=pid, remote_uid=uid_of(pid), remote_socket=w.type == socket.SOCK_SEQPACKET)
w.close()  # the worker sees EOF and exits
s.send(b'kill 1')
s.send(b'bogus 3')
reply, fds = ask(b'local 7')
seq, pid = map(int, reply.split())
say(seq=seq, local=pid)
w = socket.socket(fileno=fds[0])
s.send(b'kill %d' % pid)
r, _, _ = select.select([w], [], [], 10)
say(killed_eof=bool(r) and w.recv(100) == b'')
say(end=1)
signal.pause()
'''


if __name__ == '__main__':
    unittest.main()
