"""pochta as a host's MTA, end to end, as root (CI runs as root; skips with a
message otherwise): `make install` into a throwaway DESTDIR, the installed
pochtactl's `setup` creating test-only accounts for an instance root,
`pochtactl start` as root; each running program's uid, gid and groups read from
/proc against DESIGN's table; pochta-smtpd's identity shown unable to open a
queue file, a mailbox or a password file; mail for a system user (its
~/Maildir) and for a virtual user, each read back over POP3; and everything
the test made (accounts, homes, files, processes) removed."""
import errno
import grp
import os
import poplib
import pwd
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
import unittest

from fakesmtp import FakeSMTP
from hostacct import claim_accounts, make
from pochta import free_port, pids_of_root, proc_status, wait_until

TAG = 'ptm%d' % (os.getpid() % 10000)  # plain and sanitized runs at once: their own names
KEYS = {'smtpd_user': TAG + 'd', 'qmgr_user': TAG + 'q', 'remote_user': TAG + 'r',
        'virtual_user': TAG + 'v', 'queue_group': TAG + 'g'}
SERVICE = [KEYS[k] for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user')]
HUMAN = TAG + 'u'  # a host account that gets mail in ~/Maildir
HUMAN_PW = 'system secret'


def ids(pid):
    """(uids, gids, sorted supplementary groups) of a process"""
    st = proc_status(pid)
    return ([int(x) for x in st['Uid']], [int(x) for x in st['Gid']],
            sorted(int(x) for x in st['Groups']))


def argv_of(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return [a.decode() for a in f.read().split(b'\0') if a]
    except OSError:
        return []


def open_as(uid, gid, groups, paths):
    """errno names (or 'OPENED') for opening each path read-only in a child
    that has taken exactly this identity (no exec: the interpreter may be out
    of the account's reach)"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups(groups)
            os.setgid(gid)
            os.setuid(uid)
            out = []
            for p in paths:
                try:
                    os.close(os.open(p, os.O_RDONLY))
                    out.append('OPENED')
                except OSError as e:
                    out.append(errno.errorcode[e.errno])
            os.write(w, ' '.join(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, 'rb') as f:
        got = f.read().decode().split()
    os.waitpid(pid, 0)
    return got


@unittest.skipUnless(os.geteuid() == 0, 'needs root (CI runs as root): make install, accounts, start as root')
class SystemMTA(unittest.TestCase):
    def setUp(self):
        claim_accounts(self.addCleanup, [HUMAN] + SERVICE, [KEYS['queue_group']])
        self.top = tempfile.mkdtemp(prefix='pochta-mta-')
        self.addCleanup(shutil.rmtree, self.top, True)
        os.chmod(self.top, 0o755)  # the accounts must reach their files below it
        self.dest = os.path.join(self.top, 'dest')
        self.root = os.path.join(self.top, 'root')
        self.home = os.path.join(self.top, 'home', HUMAN)
        os.makedirs(os.path.dirname(self.home), 0o755)
        self.sup = None
        self.logpath = os.path.join(self.top, 'start.log')

    # --- the installed programs ---------------------------------------------
    def env(self):
        e = {k: v for k, v in os.environ.items() if k not in ('POCHTA_LIBEXEC', 'POCHTA_ROOT')}
        return e

    def ctl(self, *args, input=None):
        p = subprocess.run([os.path.join(self.dest, 'usr/local/sbin/pochtactl'), '-r', self.root]
                           + list(args), input=(input or '').encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env(), timeout=60)
        self.assertEqual(p.returncode, 0, 'pochtactl %s: %s' % (' '.join(args), p.stderr))
        return p

    def install(self):
        subprocess.run(['groupadd', '--system', KEYS['queue_group']], check=True)
        args = ['DESTDIR=' + self.dest, 'PREFIX=/usr/local', 'QUEUE_GROUP=' + KEYS['queue_group']]
        p = make('install', *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.addCleanup(make, 'uninstall', *args)
        # the DESTDIR's own directories are made by install(1) 0755; the
        # scratch top above them was opened above
        enq = os.path.join(self.dest, 'usr/local/libexec/pochta/pochta-enqueue')
        st = os.stat(enq)
        self.assertEqual((st.st_mode & 0o7777, st.st_gid), (0o2755, grp.getgrnam(KEYS['queue_group']).gr_gid))

    def start(self):
        self.logf = open(self.logpath, 'ab')
        self.addCleanup(self.logf.close)
        self.sup = subprocess.Popen([os.path.join(self.dest, 'usr/local/sbin/pochtactl'), '-r',
                                     self.root, 'start'], stdin=subprocess.DEVNULL,
                                    stdout=self.logf, stderr=self.logf, env=self.env())
        self.addCleanup(self.stop)

        def listening():
            if self.sup.poll() is not None:
                raise AssertionError('pochtactl start exited %s:\n%s' % (self.sup.returncode, self.log()))
            try:
                with smtplib.SMTP('127.0.0.1', self.smtp_port, timeout=5) as s:
                    s.noop()
                return True
            except OSError:
                return False
        wait_until(listening, 20, 0.05, 'the SMTP listener')

    def stop(self):
        if self.sup and self.sup.poll() is None:
            self.sup.terminate()
            try:
                self.sup.wait(20)
            except subprocess.TimeoutExpired:
                self.sup.kill()
                self.sup.wait(5)
        for _ in range(100):
            pids = pids_of_root(self.root)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.05)

    def log(self):
        with open(self.logpath, errors='replace') as f:
            return f.read()

    def progs(self):
        """{program name: [pid, ...]} of the instance's processes"""
        out = {}
        for pid in pids_of_root(self.root):
            a = argv_of(pid)
            if a:
                out.setdefault(os.path.basename(a[0]), []).append(pid)
        return out

    def assert_ids(self, pid, user, groups=None, egid=None):
        pw = pwd.getpwnam(user)
        uids, gids, sup = ids(pid)
        what = '%s (pid %d, %s)' % (user, pid, ' '.join(argv_of(pid)))
        self.assertEqual(uids, [pw.pw_uid] * 4, what)
        if egid is None:
            self.assertEqual(gids, [pw.pw_gid] * 4, what)
        else:
            # setgid program: effective (and saved) gid the queue group
            self.assertEqual((gids[0], gids[1], gids[2]), (pw.pw_gid, egid, egid), what)
        want = sorted({pw.pw_gid} | set(groups or ()))
        self.assertEqual(sup, want, what)

    # --- the test -----------------------------------------------------------
    def test_installed_host_mta(self):
        self.install()
        # a person with a login on the host: mail in ~/Maildir, POP3 with the system password
        subprocess.run(['useradd', '--create-home', '--home-dir', self.home, '--shell',
                        '/usr/sbin/nologin', HUMAN], check=True)
        subprocess.run(['chpasswd'], input=('%s:%s\n' % (HUMAN, HUMAN_PW)).encode(), check=True)
        human = pwd.getpwnam(HUMAN)
        self.assertGreaterEqual(human.pw_uid, 1000)

        self.smtp_port, self.pop3_port = free_port(), free_port()
        self.ctl('init', '--domain', 'example.test', '--smtp', '127.0.0.1:%d' % self.smtp_port,
                 '--pop3', '127.0.0.1:%d' % self.pop3_port, '--no-setup')
        for k, v in dict(KEYS, instance_user='', local_system_users='1',
                         relay_networks='127.0.0.0/8', retry_min='60').items():
            self.ctl('config', 'set', k, v)
        self.ctl('user', 'add', 'alice', input='virtual secret\n')
        far = FakeSMTP(rcpt=lambda a: '451 4.3.0 try later').start()
        self.addCleanup(far.stop)
        with open(os.path.join(self.root, 'etc', 'routes'), 'w') as f:
            f.write('far.test [127.0.0.1]:%d\n' % far.port)
        p = self.ctl('setup')
        self.assertIn(b'setup done', p.stdout)
        self.assertEqual(self.ctl('setup', '--check').stdout, b'')
        self.start()

        with smtplib.SMTP('127.0.0.1', self.smtp_port, timeout=10) as s:
            s.sendmail('sender@example.test', ['alice@example.test'],
                       'Subject: to a virtual user\r\n\r\nfor alice\r\n')
            s.sendmail('sender@example.test', ['%s@example.test' % HUMAN],
                       'Subject: to a system user\r\n\r\nfor the person\r\n')
            # stays in the queue: the peer says 451
            s.sendmail('sender@example.test', ['bob@far.test'], 'Subject: deferred\r\n\r\nlater\r\n')

        vmail = os.path.join(self.root, 'mail', 'alice', 'new')
        hmail = os.path.join(self.home, 'Maildir', 'new')
        wait_until(lambda: os.path.isdir(hmail) and os.listdir(hmail) and os.listdir(vmail), 20, 0.05,
                   'both deliveries')
        [vfile] = [os.path.join(vmail, n) for n in os.listdir(vmail)]
        [hfile] = [os.path.join(hmail, n) for n in os.listdir(hmail)]
        v = pwd.getpwnam(KEYS['virtual_user'])
        st = os.stat(vfile)
        self.assertEqual((st.st_uid, st.st_gid), (v.pw_uid, v.pw_gid))
        st = os.stat(hfile)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (human.pw_uid, human.pw_gid, 0o600))
        for d in ('', 'tmp', 'new', 'cur'):
            st = os.stat(os.path.join(self.home, 'Maildir', d))
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (human.pw_uid, 0o700), d)
        # a local user's program mails through the installed sendmail: the
        # setgid hand-off to pochta-enqueue, no relay_networks needed
        sm = os.path.join(self.dest, 'usr/local/sbin/pochta-sendmail')
        p = subprocess.run(['runuser', '-u', HUMAN, '--', sm, '-r', self.root, '-i', 'alice@example.test'],
                           input=b'Subject: from a program\n\nsent by sendmail\n', env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, cwd='/')
        self.assertEqual(p.returncode, 0, p.stderr)
        wait_until(lambda: len(os.listdir(vmail)) == 2, 20, 0.05, 'the sendmail message')
        [sfile] = [os.path.join(vmail, n) for n in os.listdir(vmail) if os.path.join(vmail, n) != vfile]
        with open(sfile, 'rb') as f:
            text = f.read()
        self.assertIn(b'sent by sendmail', text)
        self.assertIn(b'from userid %d' % human.pw_uid, text)
        self.assertIn(b'From: %s@example.test' % HUMAN.encode(), text)
        wait_until(lambda: any(s.commands for s in list(far.sessions)), 20, 0.05, 'a remote attempt')
        mess = os.path.join(self.root, 'queue', 'mess')
        queued = [os.path.join(mess, n) for n in os.listdir(mess)]
        self.assertEqual(len(queued), 1, 'the deferred message is in the queue')

        # sessions share the sync of incoming/ through the queue group's file
        st = os.stat(os.path.join(self.root, 'queue', 'commit'))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (pwd.getpwnam(KEYS['qmgr_user']).pw_uid, grp.getgrnam(KEYS['queue_group']).gr_gid, 0o660))
        self.assertNotIn('is synced by each session alone', self.log())

        # every program as DESIGN's table says
        qg = grp.getgrnam(KEYS['queue_group']).gr_gid
        progs = self.progs()
        self.assertEqual(ids(self.sup.pid)[0], [0] * 4)
        [master] = progs['pochta-master']
        self.assertEqual(ids(master)[0], [0] * 4)
        for pid in progs['pochta-qmgr']:
            self.assert_ids(pid, KEYS['qmgr_user'], [qg])
        self.assertTrue(progs.get('pochta-smtpd'))
        for pid in progs['pochta-smtpd']:
            self.assert_ids(pid, KEYS['smtpd_user'])
        for pid in progs.get('pochta-enqueue', []):
            self.assert_ids(pid, KEYS['smtpd_user'], egid=qg)
        self.assertTrue(progs.get('pochta-remote'))
        for pid in progs['pochta-remote']:
            self.assert_ids(pid, KEYS['remote_user'])
        # local workers keep root only to become each mailbox's owner
        self.assertTrue(progs.get('pochta-local'))
        for pid in progs['pochta-local']:
            self.assertEqual(ids(pid)[0], [0] * 4)
            self.assertEqual(int(proc_status(pid)['PPid'][0]), master)
        self.assertNotIn('pochta-pop3d', progs)  # no session yet

        # pochta-smtpd's identity, taken exactly: no queue file, no mailbox, no hashes
        smtpd = progs['pochta-smtpd'][0]
        uids, gids, groups = ids(smtpd)

        paths = [queued[0], vfile, hfile, os.path.join(self.root, 'etc', 'passwd'), '/etc/shadow',
                 mess, os.path.join(self.root, 'queue', 'incoming')]
        got = open_as(uids[0], gids[0], groups, paths)
        self.assertEqual(got, ['EACCES'] * len(paths), list(zip(paths, got)))

        # each mailbox over POP3, the session running as its owner once authenticated
        for user, pw, text, owner, n in (('alice', 'virtual secret', b'for alice', v, 2),
                                         (HUMAN, HUMAN_PW, b'for the person', human, 1)):
            c = poplib.POP3('127.0.0.1', self.pop3_port, timeout=10)
            try:
                c.user(user)
                c.pass_(pw)
                self.assertEqual(c.stat()[0], n, user)
                self.assertIn(text, b'\n'.join(b'\n'.join(c.retr(i)[1]) for i in range(1, n + 1)))
                pop = wait_until(lambda: self.progs().get('pochta-pop3d'), 10, 0.02, 'the POP3 session')
                for pid in pop:
                    self.assertEqual(ids(pid)[0], [owner.pw_uid] * 4, user)
                    self.assertEqual(ids(pid)[1], [owner.pw_gid] * 4, user)
                self.assertNotIn(0, ids(pop[0])[2])
                c.quit()
            finally:
                c.close()
        with self.assertRaises(poplib.error_proto):
            c = poplib.POP3('127.0.0.1', self.pop3_port, timeout=10)
            try:
                c.user(HUMAN)
                c.pass_('wrong')
            finally:
                c.close()

        # nothing written as root under the instance or the home
        for top in (os.path.join(self.root, 'mail'), os.path.join(self.root, 'queue'), self.home):
            for d, dirs, files in os.walk(top):
                for n in dirs + files:
                    self.assertNotEqual(os.lstat(os.path.join(d, n)).st_uid, 0, os.path.join(d, n))

        self.stop()
        self.assertEqual(pids_of_root(self.root), [])
        p = make('uninstall', 'DESTDIR=' + self.dest, 'PREFIX=/usr/local')
        self.assertEqual(p.returncode, 0, p.stderr)
        left = [os.path.relpath(os.path.join(d, n), self.dest)
                for d, _, files in os.walk(self.dest) for n in files]
        self.assertEqual(left, ['etc/pochta/pochta.conf'])


if __name__ == '__main__':
    unittest.main()
