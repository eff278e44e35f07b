"""make install / make uninstall into a DESTDIR, `pochtactl setup [--check]` in
a throwaway root with test-only account names, `systemd-analyze verify` on the
installed units and a lint of the man pages. Installing and setup need root
(they skip with a message otherwise); the verify and lint tests skip when their
tool is missing."""
import glob
import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

from hostacct import del_accounts, make
from pochta import BUILD, CTL, free_port, pids_of_root, wait_until

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# each test process (plain and sanitized builds run at once) its own names
TAG = 'pt%d' % (os.getpid() % 100000)




def tree(top):
    """{relative path: (mode bits, group name)} of every non-directory under top"""
    out = {}
    for d, dirs, files in os.walk(top):
        for n in files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (stat.S_IMODE(st.st_mode), grp.getgrgid(st.st_gid).gr_name)
    return out


def progs():
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(BUILD, 'pochta*'))
                  if os.path.isfile(p) and os.access(p, os.X_OK))




class Install(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest('make install and pochtactl setup need root (run as root, as CI does)')
        self.dest = tempfile.mkdtemp(prefix='pochta-destdir-')
        self.addCleanup(shutil.rmtree, self.dest, True)

    def expected(self, qgroup):
        exp = {}
        for p in progs():
            where = 'usr/local/sbin' if p in ('pochtactl', 'pochta-sendmail') else 'usr/local/libexec/pochta'
            exp['%s/%s' % (where, p)] = (0o2755, qgroup) if p == 'pochta-enqueue' else (0o755, 'root')
        exp['usr/local/sbin/mailq'] = (0o777, 'root')  # a link to pochta-sendmail
        for m in glob.glob(os.path.join(TOP, 'man', '*.[58]')):
            exp['usr/local/share/man/man%s/%s' % (m[-1], os.path.basename(m))] = (0o644, 'root')
        for u in os.listdir(os.path.join(TOP, 'etc', 'systemd')):
            exp['usr/local/share/pochta/' + u] = (0o644, 'root')
        exp['usr/local/share/pochta/inetd.conf'] = (0o644, 'root')
        exp['usr/local/share/pochta/pochta.conf.sample'] = (0o644, 'root')
        exp['etc/pochta/pochta.conf'] = (0o644, 'root')
        return exp

    def test_install_uninstall(self):
        group = TAG + 'g'
        self.addCleanup(del_accounts, [], [group])
        args = ['DESTDIR=' + self.dest, 'PREFIX=/usr/local', 'QUEUE_GROUP=' + group]
        # no queue group yet: installed, but pochta-enqueue is not setgid and it says so
        p = make('install', *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b'is NOT setgid', p.stderr)
        enq = os.path.join(self.dest, 'usr/local/libexec/pochta/pochta-enqueue')
        self.assertEqual(stat.S_IMODE(os.stat(enq).st_mode), 0o755)

        subprocess.run(['groupadd', '--system', group], check=True)
        conf = os.path.join(self.dest, 'etc/pochta/pochta.conf')
        with open(conf, 'a') as f:
            f.write('local_domains = edited.example\n')
        p = make('install', *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(tree(self.dest), self.expected(group))
        self.assertEqual(os.readlink(os.path.join(self.dest, 'usr/local/sbin/mailq')), 'pochta-sendmail')
        # the admin's configuration survives a second install
        with open(conf) as f:
            self.assertIn('local_domains = edited.example', f.read())
        for n in os.listdir(os.path.join(self.dest, 'usr/local/share/pochta')):
            with open(os.path.join(self.dest, 'usr/local/share/pochta', n)) as f:
                text = f.read()
            self.assertNotIn('@PREFIX@', text, n)
        with open(os.path.join(self.dest, 'usr/local/share/pochta/pochta-smtpd@.service')) as f:
            self.assertIn('ExecStart=/usr/local/libexec/pochta/pochta-smtpd\n', f.read())

        self.check_installed_start()

        p = make('uninstall', *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(tree(self.dest)), ['etc/pochta/pochta.conf'])

    def check_installed_start(self):
        """the installed pochtactl, in sbin, runs the programs of the installed
        libexec/pochta with no -r for them and no POCHTA_LIBEXEC"""
        root = tempfile.mkdtemp(prefix='pochta-inst-')
        self.addCleanup(shutil.rmtree, root, True)
        # the account below must get in, and run the installed programs
        os.chmod(root, 0o755)
        os.chmod(self.dest, 0o755)
        ctl = os.path.join(self.dest, 'usr/local/sbin/pochtactl')
        env = dict(os.environ)
        env.pop('POCHTA_LIBEXEC', None)
        env.pop('POCHTA_ROOT', None)
        smtp = free_port()
        # one account for the instance: without it, root would need the system users
        subprocess.run([ctl, '-r', root, 'init', '--domain', 'example.test', '--user', 'nobody',
                        '--smtp', '127.0.0.1:%d' % smtp], check=True, env=env, stdout=subprocess.DEVNULL)
        log = open(root + '.log', 'wb')
        self.addCleanup(os.unlink, root + '.log')
        self.addCleanup(log.close)
        sup = subprocess.Popen([ctl, '-r', root, 'start'], env=env, stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL)

        def stop():
            if sup.poll() is None:
                sup.terminate()
                try:
                    sup.wait(20)
                except subprocess.TimeoutExpired:
                    sup.kill()
                    sup.wait(5)
            for pid in pids_of_root(root):
                os.kill(pid, signal.SIGKILL)
        self.addCleanup(stop)
        libexec = os.path.join(self.dest, 'usr/local/libexec/pochta')

        def qmgr():
            self.assertIsNone(sup.poll(), 'pochtactl start exited')
            for pid in pids_of_root(root):
                try:
                    exe = os.readlink('/proc/%d/exe' % pid)
                except OSError:
                    continue
                if os.path.basename(exe) == 'pochta-qmgr':
                    return exe
            return None
        self.assertEqual(os.path.dirname(wait_until(qmgr, 20, 0.05, 'pochta-qmgr started')), libexec)
        stop()

    def test_setup(self):
        names = {'smtpd_user': TAG + 'd', 'qmgr_user': TAG + 'q', 'remote_user': TAG + 'r',
                 'virtual_user': TAG + 'v', 'queue_group': TAG + 'g'}
        users = [names[k] for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user')]
        for n in users + [names['queue_group']]:
            with self.assertRaises(KeyError, msg='%s exists already on this host' % n):
                grp.getgrnam(n)
        self.addCleanup(del_accounts, users, users + [names['queue_group']])
        root = os.path.join(self.dest, 'root')
        # a copy of pochta-enqueue stands for the installed one: setup makes it setgid
        libexec = os.path.join(self.dest, 'libexec')
        os.mkdir(libexec)
        shutil.copy(os.path.join(BUILD, 'pochta-enqueue'), libexec)
        env = dict(os.environ, POCHTA_LIBEXEC=libexec)
        env.pop('POCHTA_ROOT', None)

        def ctl(*args):
            return subprocess.run([CTL, '-r', root] + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, timeout=60)
        self.assertEqual(ctl('init', '--domain', 'example.test', '--no-setup').returncode, 0)
        for k, v in names.items():
            self.assertEqual(ctl('config', 'set', k, v).returncode, 0)
        p = ctl('config', 'set', 'smtpd_user', 'root')
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'not a system account name', p.stderr)

        p = ctl('setup', '--check')
        self.assertEqual(p.returncode, 1)
        for u in users:
            self.assertIn(('missing user %s\n' % u).encode(), p.stdout)
        self.assertIn(('missing group %s\n' % names['queue_group']).encode(), p.stdout)

        # the postmaster's Maildir as init makes it: setup makes it again
        shutil.rmtree(os.path.join(root, 'mail', 'postmaster'))
        p = ctl('setup')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for u in users:
            pw = pwd.getpwnam(u)
            self.assertNotEqual(pw.pw_uid, 0)
            self.assertEqual(grp.getgrgid(pw.pw_gid).gr_name, u)
            self.assertIn(pw.pw_shell, ('/usr/sbin/nologin', '/sbin/nologin', '/bin/false'))
        self.assertEqual(pwd.getpwnam(names['qmgr_user']).pw_dir, os.path.join(root, 'queue'))
        q, v, qg = names['qmgr_user'], names['virtual_user'], names['queue_group']
        want = {
            'etc': ('root', 'root', 0o755), 'etc/passwd': ('root', 'root', 0o600),
            'etc/users': ('root', 'root', 0o644), 'etc/pochta.conf': ('root', 'root', 0o644),
            'queue': (q, qg, 0o2750), 'queue/tmp': (q, qg, 0o2770), 'queue/incoming': (q, qg, 0o2770),
            'queue/mess': (q, qg, 0o2750), 'queue/state': (q, qg, 0o2700), 'queue/hold': (q, qg, 0o2700),
            'queue/trigger': (q, qg, 0o620), 'queue/commit': (q, qg, 0o660), 'mail': (v, v, 0o700),
            'mail/postmaster': (v, v, 0o700), 'mail/postmaster/new': (v, v, 0o700),
            'log': ('root', 'root', 0o755),
        }
        for rel, (u, g, mode) in want.items():
            st = os.lstat(os.path.join(root, rel))
            self.assertEqual((pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
                              stat.S_IMODE(st.st_mode)), (u, g, mode), rel)
        st = os.stat(os.path.join(libexec, 'pochta-enqueue'))
        self.assertEqual((stat.S_IMODE(st.st_mode), grp.getgrgid(st.st_gid).gr_name), (0o2755, qg))
        # the queue manager reads what pochta-enqueue wrote through the queue group;
        # the network-facing user cannot reach the queue through its groups
        self.assertIn(q, grp.getgrnam(qg).gr_mem)
        d = pwd.getpwnam(names['smtpd_user'])
        self.assertNotIn(d.pw_name, grp.getgrnam(qg).gr_mem)
        self.assertNotEqual(d.pw_gid, grp.getgrnam(qg).gr_gid)

        # a user added by root afterwards gets a Maildir of the virtual owner
        p = subprocess.run([CTL, '-r', root, 'user', 'add', 'alice'], input=b'secret\n',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        for sub in ('', '/tmp', '/new', '/cur'):
            st = os.stat(os.path.join(root, 'mail/alice' + sub))
            self.assertEqual((st.st_uid, st.st_gid), (pwd.getpwnam(v).pw_uid, pwd.getpwnam(v).pw_gid), sub)

        # rerunnable: nothing left to create, nothing wrong
        p = ctl('setup')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn(b'created', p.stdout)
        p = ctl('setup', '--check')
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b'', b''))

        # a queue manager account that lost its queue group gets it back
        subprocess.run(['gpasswd', '-d', q, qg], check=True, stdout=subprocess.DEVNULL)
        p = ctl('setup', '--check')
        self.assertEqual(p.returncode, 1)
        self.assertIn(('user %s is not a member of the group %s\n' % (q, qg)).encode(), p.stdout)
        p = ctl('setup')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(q, grp.getgrnam(qg).gr_mem)

        # what --check finds, one line each, exit 1; setup puts it right
        os.chmod(os.path.join(root, 'queue/tmp'), 0o777)
        os.chown(os.path.join(root, 'mail/postmaster'), 0, 0)
        msg = os.path.join(root, 'mail/postmaster/new/1.root')
        with open(msg, 'w') as f:
            f.write('Subject: written as root\n\n')
        p = ctl('setup', '--check')
        self.assertEqual(p.returncode, 1)
        lines = p.stdout.decode().splitlines()
        self.assertIn('%s/queue/tmp: mode 0777, should be 2770' % root, lines)
        self.assertIn('%s/mail/postmaster: owner root:root, should be %s:%s' % (root, v, v), lines)
        self.assertIn('%s: not owned by %s' % (msg, v), lines)
        self.assertEqual(lines[-1], '3 problems')
        self.assertEqual(ctl('setup').returncode, 0)
        self.assertEqual(os.stat(msg).st_uid, pwd.getpwnam(v).pw_uid)
        p = ctl('setup', '--check')
        self.assertEqual((p.returncode, p.stdout), (0, b''))

        # a damaged commit file (pochta-queue.5): named by --check, rewritten by setup
        cpath = os.path.join(root, 'queue/commit')
        with open(cpath, 'r+b') as f:
            f.truncate(10)
        p = ctl('setup', '--check')
        self.assertEqual(p.returncode, 1)
        self.assertIn('%s: not a valid commit file' % cpath, p.stdout.decode().splitlines())
        p = ctl('setup')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(('rewrote file %s\n' % cpath).encode(), p.stdout)
        st = os.lstat(cpath)
        self.assertEqual((st.st_size, pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
                          stat.S_IMODE(st.st_mode)), (64, q, qg, 0o660))
        with open(cpath, 'rb') as f:
            self.assertEqual(f.read(8), b'pochtagc')
        p = ctl('setup', '--check')
        self.assertEqual((p.returncode, p.stdout), (0, b''))

        # a TLS pair: the key readable by smtpd_user's group only (pochta-tls
        # runs as pochta-smtpd does), the certificate by all
        for name, mode in (('tls.pem', 0o600), ('tls.key', 0o600)):
            with open(os.path.join(root, 'etc', name), 'w') as f:
                f.write('placeholder\n')
            os.chmod(os.path.join(root, 'etc', name), mode)
        self.assertEqual(ctl('config', 'set', 'tls_cert_file', 'tls.pem').returncode, 0)
        self.assertEqual(ctl('config', 'set', 'tls_key_file', 'tls.key').returncode, 0)
        p = ctl('setup', '--check')
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'tls.key: owner root:root, should be root:%s' % names['smtpd_user'].encode(), p.stdout)
        self.assertEqual(ctl('setup').returncode, 0)
        st = os.stat(os.path.join(root, 'etc', 'tls.key'))
        self.assertEqual((st.st_uid, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)),
                         (0, names['smtpd_user'], 0o640))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(root, 'etc', 'tls.pem')).st_mode), 0o644)
        p = ctl('setup', '--check')
        self.assertEqual((p.returncode, p.stdout), (0, b''))


class Lint(unittest.TestCase):
    def test_systemd_units(self):
        if not shutil.which('systemd-analyze'):
            self.skipTest('systemd-analyze not installed (Debian: systemd)')
        prefix = tempfile.mkdtemp(prefix='pochta-prefix-')
        self.addCleanup(shutil.rmtree, prefix, True)
        # installed for real under a throwaway PREFIX, so that every ExecStart
        # and Documentation=man: page the units name exists
        p = make('install', 'PREFIX=' + prefix, 'DESTDIR=' + prefix + '/dest')
        self.assertEqual(p.returncode, 0, p.stderr)
        for d in ('sbin', 'libexec', 'share'):
            os.rename(os.path.join(prefix, 'dest' + prefix, d), os.path.join(prefix, d))
        share = os.path.join(prefix, 'share', 'pochta')
        units = sorted(glob.glob(os.path.join(share, '*.service')) + glob.glob(os.path.join(share, '*.socket')))
        self.assertEqual(len(units), len(os.listdir(os.path.join(TOP, 'etc', 'systemd'))))
        env = dict(os.environ, MANPATH=os.path.join(prefix, 'share', 'man'))
        p = subprocess.run(['systemd-analyze', 'verify'] + units, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env, cwd=share, timeout=120)
        self.assertEqual((p.returncode, p.stdout.decode()), (0, ''))

    def test_man_pages(self):
        pages = sorted(glob.glob(os.path.join(TOP, 'man', '*.[58]')))
        self.assertGreater(len(pages), 5)
        if shutil.which('mandoc'):
            cmd = ['mandoc', '-Tlint', '-Wwarning'] + pages
        elif shutil.which('groff'):
            cmd = None
        else:
            self.skipTest('neither mandoc nor groff installed (Debian: mandoc)')
        if cmd:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            self.assertEqual((p.returncode, p.stdout.decode()), (0, ''))
            return
        for page in pages:
            p = subprocess.run(['groff', '-man', '-ww', '-z', page], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=120)
            self.assertEqual((p.returncode, p.stdout.decode()), (0, ''), page)


if __name__ == '__main__':
    unittest.main()
