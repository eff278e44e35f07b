"""Long-lived local delivery workers (man/pochta-local.8, man/pochta-qmgr.8):
pochta-qmgr keeps `pochta-local -w` processes and reuses them, replaces one
after worker_max_use deliveries, stops one idle for worker_idle_timeout; a
worker killed with a request loses nothing; a running worker sees changes of
etc/users and pochta.conf; run as root, the Maildir is written as its owner."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
import unittest

from pochta import (InstanceTest, alive, copy_build, prog, remove_service_accounts, service_accounts,
                    wait_until, worker_starts)


SERVICE = service_accounts('pttc%dw' % (os.getpid() % 10000))


def starts(inst):
    return worker_starts(inst, 'local')


def cmdline(pid):
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        return f.read().split(b'\0')[:-1]


class LocalWorkers(InstanceTest):
    def send(self, inst, rcpt, i):
        with inst.smtp() as s:
            s.sendmail('s@remote.test', [rcpt], 'Subject: w%d\r\n\r\nbody %d\r\n' % (i, i))

    def test_workers_are_reused(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'delivery_concurrency': '2'})
        for i in range(8):
            self.send(inst, 'alice@example.test', i)
        inst.wait_mail('alice', 8)
        pids = starts(inst)
        self.assertGreaterEqual(len(pids), 1)
        self.assertLessEqual(len(pids), 2, inst.log())
        live = [p for p in pids if alive(p)]
        self.assertTrue(live, 'a worker is kept')
        self.assertEqual(cmdline(live[0])[1:], [b'-w'])

    def test_max_use_replaces_a_worker(self):
        inst = self.instance(users={'alice': 'pw'},
                             conf={'delivery_concurrency': '1', 'worker_max_use': '3'})
        for i in range(7):
            self.send(inst, 'alice@example.test', i)
            inst.wait_mail('alice', i + 1)
        wait_until(lambda: len(starts(inst)) == 3, 10, 0.05, 'three workers')
        self.assertEqual(len(re.findall(r'local worker pid=\d+ replaced after 3 deliveries',
                                        inst.log())), 2, inst.log())
        first, second, third = starts(inst)
        wait_until(lambda: not alive(first) and not alive(second), 10, 0.05, 'old workers gone')
        self.assertTrue(alive(third))

    def test_idle_worker_stops(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'worker_idle_timeout': '1'})
        self.send(inst, 'alice@example.test', 0)
        inst.wait_mail('alice', 1)
        [pid] = starts(inst)
        wait_until(lambda: not alive(pid), 10, 0.05, 'the idle worker stopped')
        self.assertIn('local worker pid=%d idle, stopped after 1 deliveries' % pid, inst.log())
        # the next message starts a new one
        self.send(inst, 'alice@example.test', 1)
        inst.wait_mail('alice', 2)
        self.assertEqual(len(starts(inst)), 2)

    def test_worker_killed_with_a_request_loses_nothing(self):
        inst = self.instance(users={'alice': 'pw'},
                             conf={'delivery_concurrency': '1', 'retry_min': '1', 'retry_max': '2'})
        self.send(inst, 'alice@example.test', 0)
        inst.wait_mail('alice', 1)
        [pid] = starts(inst)
        # the worker takes the next request but never answers it
        os.kill(pid, signal.SIGSTOP)
        try:
            self.send(inst, 'alice@example.test', 1)
            mess = os.path.join(inst.root, 'queue', 'mess')
            wait_until(lambda: os.listdir(mess), 10, 0.02, 'the message queued')
            time.sleep(1)  # pochta-qmgr sends the request at once: it waits in the socket
            self.assertEqual(len(inst.mail_files('alice')), 1)
        finally:
            os.kill(pid, signal.SIGKILL)
        mails = inst.wait_mail('alice', 2)
        self.assertTrue(any(b'body 1' in m for m in mails))
        inst.wait_queue_empty()
        log = inst.log()
        self.assertIn('local worker pid=%d killed by signal 9' % pid, log)
        self.assertIn('delivery agent killed by signal 9', log)
        self.assertEqual(len(starts(inst)), 2)

    def test_running_worker_sees_users_and_config_changes(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'postmaster': 'alice'})
        self.send(inst, 'alice@example.test', 0)
        inst.wait_mail('alice', 1)
        [pid] = starts(inst)
        inst.ctl('user', 'add', 'bob', input='pw\n')
        self.send(inst, 'bob@example.test', 1)
        self.assertIn(b'body 1', inst.wait_mail('bob', 1)[0])
        inst.ctl('config', 'set', 'postmaster', 'bob')
        inst.ctl('reload')  # the running worker reads the checked copy
        self.send(inst, 'postmaster@example.test', 2)
        mails = inst.wait_mail('bob', 2)
        self.assertTrue(any(b'body 2' in m for m in mails))
        self.assertEqual(len(inst.mail_files('alice')), 1)
        # one worker did all of it
        self.assertEqual(starts(inst), [pid])
        self.assertTrue(alive(pid))

    def test_no_fork_without_a_change_of_uid(self):
        # the Maildir name carries the writer's pid (P) and its count (Q):
        # the worker itself wrote all three, no child per message
        inst = self.instance(users={'alice': 'pw'}, conf={'delivery_concurrency': '1'})
        for i in range(3):
            self.send(inst, 'alice@example.test', i)
            inst.wait_mail('alice', i + 1)
        [w] = starts(inst)
        names = sorted(os.path.basename(f) for f in inst.mail_files('alice'))
        writers = sorted(re.search(r'\.M\d+P(\d+)Q(\d+)\.', n).groups() for n in names)
        self.assertEqual(writers, [(str(w), '1'), (str(w), '2'), (str(w), '3')], names)

    @unittest.skipUnless(os.getuid() == 0, 'needs root (to hand a Maildir to another account)')
    def test_maildir_written_as_its_owner(self):
        nobody = pwd.getpwnam('nobody')
        # root's own workers: an instance with no account, each program as
        # its service account, local workers as root (local_system_users)
        libexec = copy_build()  # setup makes its pochta-enqueue setgid
        self.addCleanup(shutil.rmtree, libexec, True)
        # registered first, so run last: userdel refuses an account whose
        # processes (smtpd_user's, qmgr_user's) still run
        self.addCleanup(remove_service_accounts, SERVICE)
        inst = self.instance(users={'alice': 'pw', 'bob': 'pw'}, no_account=True, start=False,
                             conf=dict(SERVICE, local_system_users='1'), libexec=libexec)
        inst.ctl('setup')
        for d in (inst.root, os.path.join(inst.root, 'mail')):
            os.chmod(d, 0o755)  # bob's account reaches his Maildir
        inst.start()
        for top, dirs, files in os.walk(inst.maildir('bob')):
            for n in [top] + [os.path.join(top, f) for f in dirs + files]:
                os.chown(n, nobody.pw_uid, nobody.pw_gid)
        self.send(inst, 'bob@example.test', 0)
        self.send(inst, 'alice@example.test', 1)
        inst.wait_mail('bob', 1)
        inst.wait_mail('alice', 1)
        [b] = inst.mail_files('bob')
        [a] = inst.mail_files('alice')
        self.assertEqual((os.stat(b).st_uid, os.stat(b).st_gid), (nobody.pw_uid, nobody.pw_gid))
        # alice's Maildir is the virtual owner's (setup gave it): never root's
        self.assertEqual(os.stat(a).st_uid, pwd.getpwnam(SERVICE['virtual_user']).pw_uid)
        # each by a child of the root worker that took the owner's uid
        pb = int(re.search(r'\.M\d+P(\d+)Q', os.path.basename(b)).group(1))
        pa = int(re.search(r'\.M\d+P(\d+)Q', os.path.basename(a)).group(1))
        self.assertTrue(starts(inst))
        self.assertNotIn(pb, starts(inst))
        self.assertNotIn(pa, starts(inst))
        # the one-shot mode the same way
        p = subprocess.run([prog('pochta-local'), '-f', 's@remote.test', '--', 'bob@example.test'],
                           input=b'Subject: x\n\nhi\n', stdout=subprocess.PIPE,
                           env=inst.env(), timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout)
        files = inst.mail_files('bob')
        self.assertEqual(len(files), 2)
        self.assertTrue(all(os.stat(f).st_uid == nobody.pw_uid for f in files))


if __name__ == '__main__':
    unittest.main()
