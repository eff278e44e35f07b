"""Virtual domains, catch-alls and address extensions, end to end: users
NAME@DOMAIN with their own Maildirs (mail/DOMAIN/NAME) and POP3 logins,
virtual_domains where bare names are no users, catch_all, recipient_delimiter
extensions kept in Delivered-To and, with extension_folders, delivered into
Maildir++ folders. Run as root, the instance runs as a throwaway account
(prefix ptvd), removed at the end."""
import base64
import os
import poplib
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'lib'))
from pochta import Instance, InstanceTest, copy_build  # noqa: E402

ACCOUNT = 'ptvd%d' % (os.getpid() % 100000)
TAG = 'ptvd%d' % (os.getpid() % 10000)
KEYS = {'smtpd_user': TAG + 'd', 'qmgr_user': TAG + 'q', 'remote_user': TAG + 'r',
        'virtual_user': TAG + 'v', 'queue_group': TAG + 'g'}


def setUpModule():
    if os.geteuid() == 0:
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin',
                        ACCOUNT], check=True)


def tearDownModule():
    if os.geteuid() == 0:
        subprocess.run(['userdel', ACCOUNT], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def msg(subject):
    return ('From: s@x.test\r\nTo: r@a.test\r\nSubject: %s\r\n\r\nbody of %s\r\n'
            % (subject, subject)).encode()


class VdomainsTest(InstanceTest):
    def vinst(self, users, conf=None, start=True):
        kw = {}
        if os.geteuid() == 0:
            kw['user'] = ACCOUNT    # a root instance runs as one account
        c = {'virtual_domains': 'b.test'}
        c.update(conf or {})
        inst = self.instance(start=False, domain='a.test', users=users, conf=c, **kw)
        os.chmod(inst.root, 0o755)
        if start:
            inst.start()
        return inst

    def send(self, inst, rcpts, subject):
        with inst.smtp() as s:
            refused = s.sendmail('s@x.test', rcpts, msg(subject))
        self.assertEqual(refused, {})

    def pop_subjects(self, inst, user, password):
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=10)
        try:
            p.user(user)
            p.pass_(password)
            out = []
            for i in range(1, len(p.list()[1]) + 1):
                lines = p.retr(i)[1]
                out += [ln.decode() for ln in lines if ln.startswith(b'Subject: ')]
            p.quit()
            return out
        finally:
            p.close()

    def assert_login_fails(self, inst, user, password):
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=10)
        try:
            p.user(user)
            with self.assertRaises(poplib.error_proto):
                p.pass_(password)
        finally:
            p.close()

    def test_same_name_two_domains(self):
        inst = self.vinst({'alice': 'pw-a', 'alice@b.test': 'pw-b'})
        self.assertTrue(os.path.isdir(os.path.join(inst.root, 'mail', 'b.test', 'alice', 'new')))
        self.send(inst, ['alice@a.test'], 'for a')
        self.send(inst, ['Alice@B.Test'], 'for b')
        ma = inst.wait_mail('alice', 1)
        mb = inst.wait_mail('b.test/alice', 1)
        inst.wait_queue_empty()
        self.assertEqual(len(inst.mail_files('alice')), 1)
        self.assertEqual(len(inst.mail_files('b.test/alice')), 1)
        self.assertIn(b'Subject: for a', ma[0])
        self.assertIn(b'Delivered-To: alice@a.test\n', ma[0])
        self.assertIn(b'Subject: for b', mb[0])
        self.assertIn(b'Delivered-To: Alice@b.test\n', mb[0])
        # each reads its own by its own name and password
        self.assertEqual(self.pop_subjects(inst, 'alice', 'pw-a'), ['Subject: for a'])
        self.assertEqual(self.pop_subjects(inst, 'alice@b.test', 'pw-b'), ['Subject: for b'])
        self.assert_login_fails(inst, 'alice@b.test', 'pw-a')
        self.assert_login_fails(inst, 'alice', 'pw-b')
        # AUTH PLAIN with the same name; the name is case-folded as SMTP's
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=10)
        try:
            cred = base64.b64encode(b'\0ALICE@b.test\0pw-b').decode()
            self.assertTrue(p._shortcmd('AUTH PLAIN ' + cred).startswith(b'+OK'))
            self.assertEqual(p.stat()[0], 1)
            p.quit()
        finally:
            p.close()
        self.assertIn('login user=alice@b.test', inst.log())

    def test_unknown_user_of_virtual_domain(self):
        inst = self.vinst({'alice@b.test': 'pw-b', 'bob': 'pw'})
        with inst.smtp() as s:
            s.ehlo()
            s.mail('s@x.test')
            for rcpt in ('dave@b.test', 'bob@b.test'):
                code, text = s.rcpt(rcpt)
                self.assertEqual(code, 550, rcpt)
                self.assertTrue(text.startswith(b'5.1.1'), text)
            # the bare user still is one of the local domain, and the
            # domain's own user of the virtual one
            self.assertEqual(s.rcpt('bob@a.test')[0], 250)
            self.assertEqual(s.rcpt('alice@b.test')[0], 250)
        # a domain in neither list is not local: relaying is still refused
        with inst.smtp() as s:
            s.ehlo()
            s.mail('s@x.test')
            code, _ = s.rcpt('alice@c.test')
            self.assertGreaterEqual(code, 500)

    def test_catch_all(self):
        inst = self.vinst({'alice@b.test': 'pw-b', 'catch@b.test': 'pw-c', 'abuse@b.test': 'pw-ab'},
                          conf={'catch_all': '@b.test:catch@b.test'})
        self.send(inst, ['nobody-here@b.test'], 'caught')
        self.send(inst, ['alice@b.test'], 'own')
        self.send(inst, ['abuse@b.test'], 'abuse')
        self.send(inst, ['postmaster@b.test'], 'pm')
        caught = inst.wait_mail('b.test/catch', 1)
        inst.wait_mail('b.test/alice', 1)
        inst.wait_mail('b.test/abuse', 1)
        inst.wait_mail('postmaster', 1)
        inst.wait_queue_empty()
        self.assertEqual(len(caught), 1)
        self.assertIn(b'Subject: caught', caught[0])
        self.assertIn(b'Delivered-To: nobody-here@b.test\n', caught[0])
        # a bare local-domain name that is no user is still refused: the
        # catch-all is b.test's only
        with inst.smtp() as s:
            s.ehlo()
            s.mail('s@x.test')
            self.assertEqual(s.rcpt('zed@a.test')[0], 550)

    def test_extension_to_inbox(self):
        inst = self.vinst({'alice@b.test': 'pw-b'})
        self.send(inst, ['alice+lists@b.test'], 'ext')
        m = inst.wait_mail('b.test/alice', 1)
        self.assertIn(b'Delivered-To: alice+lists@b.test\n', m[0])
        inst.wait_queue_empty()
        self.assertFalse(os.path.exists(os.path.join(inst.maildir('b.test/alice'), '.lists')))

    def test_extension_folders(self):
        inst = self.vinst({'alice@b.test': 'pw-b', 'carol': 'pw'},
                          conf={'extension_folders': '1'})
        self.send(inst, ['alice+Lists@b.test'], 'to the folder')
        self.send(inst, ['carol+news@a.test'], 'carol folder')
        self.send(inst, ['"alice+../x"@b.test'], 'dotdot')
        self.send(inst, ['alice+.hidden@b.test'], 'hidden')
        self.send(inst, ['alice@b.test'], 'plain')
        folder = inst.wait_mail('b.test/alice/.lists', 1)
        self.assertIn(b'Subject: to the folder', folder[0])
        self.assertIn(b'Delivered-To: alice+Lists@b.test\n', folder[0])
        md = inst.maildir('b.test/alice')
        self.assertTrue(os.path.isfile(os.path.join(md, '.lists', 'maildirfolder')))
        cf = inst.wait_mail('carol/.news', 1)
        self.assertIn(b'Subject: carol folder', cf[0])
        inbox = inst.wait_mail('b.test/alice', 3)
        inst.wait_queue_empty()
        subjects = sorted(ln for m in inbox for ln in m.split(b'\n') if ln.startswith(b'Subject: '))
        self.assertEqual(subjects, [b'Subject: dotdot', b'Subject: hidden', b'Subject: plain'])
        self.assertEqual(sorted(n for n in os.listdir(md) if n.startswith('.')), ['.lists'])
        self.assertFalse(os.path.exists(os.path.join(inst.root, 'mail', 'b.test', 'x')))
        # POP3 serves the inbox only
        self.assertEqual(len(self.pop_subjects(inst, 'alice@b.test', 'pw-b')), 3)

    def test_ctl_domain_users(self):
        inst = self.vinst({'alice@b.test': 'pw-b'}, start=False)
        self.assertEqual(inst.ctl('user', 'list').stdout, b'alice@b.test\n')
        # a bare user named like the domain would take its directory's place
        p = inst.ctl('user', 'add', 'b.test', input='pw\n', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'share', p.stderr)
        p = inst.ctl('user', 'add', 'Alice@B.test', input='pw\n', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'bad user name', p.stderr)
        # a domain in no list: added, with a warning
        p = inst.ctl('user', 'add', 'x@c.test', input='pw\n')
        self.assertIn(b'c.test is in neither local_domains nor virtual_domains', p.stderr)
        self.assertTrue(os.path.isdir(os.path.join(inst.root, 'mail', 'c.test', 'x', 'cur')))
        p = inst.ctl('user', 'del', 'alice@b.test')
        self.assertIn(os.path.join(inst.root, 'mail', 'b.test', 'alice').encode(), p.stdout)
        self.assertEqual(inst.ctl('user', 'list').stdout, b'x@c.test\n')
        if os.geteuid() == 0:
            # made by root: given to the mail directory's owner, domain directory too
            own = os.stat(os.path.join(inst.root, 'mail')).st_uid
            for d in ('c.test', 'c.test/x', 'c.test/x/new'):
                self.assertEqual(os.stat(os.path.join(inst.root, 'mail', d)).st_uid, own, d)


def del_setup_accounts():
    for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user'):
        subprocess.run(['userdel', KEYS[k]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for k in KEYS:
        subprocess.run(['groupdel', KEYS[k]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@unittest.skipUnless(os.geteuid() == 0, 'needs root: pochtactl setup changes owners')
class SetupDomainsTest(unittest.TestCase):
    def test_setup_walks_domain_directories(self):
        del_setup_accounts()
        self.addCleanup(del_setup_accounts)
        libexec = copy_build()  # setup makes its pochta-enqueue setgid
        self.addCleanup(shutil.rmtree, libexec, True)
        inst = Instance(domain='a.test', conf=dict(KEYS, virtual_domains='b.test'), no_account=True,
                        libexec=libexec)
        self.addCleanup(inst.cleanup)
        os.chmod(inst.root, 0o755)
        inst.ctl('user', 'add', 'alice@b.test', input='pw\n')
        inst.ctl('user', 'add', 'bob', input='pw\n')
        mail = os.path.join(inst.root, 'mail')
        left = os.path.join(mail, 'b.test', 'alice', 'new', '1.M1P1Q1.h')
        with open(left, 'w') as f:
            f.write('Subject: left by root\n\nx\n')
        p = inst.ctl('setup')
        self.assertIn(b'setup done', p.stdout)
        v = pwd.getpwnam(KEYS['virtual_user'])
        for rel in ('b.test', 'b.test/alice', 'b.test/alice/new', 'b.test/alice/cur',
                    'b.test/alice/new/1.M1P1Q1.h', 'bob', 'bob/new'):
            st = os.stat(os.path.join(mail, rel))
            self.assertEqual((st.st_uid, st.st_gid), (v.pw_uid, v.pw_gid), rel)
        # the domain's directory is no Maildir and is not made into one
        for sub in ('tmp', 'new', 'cur'):
            self.assertFalse(os.path.exists(os.path.join(mail, 'b.test', sub)), sub)
        self.assertEqual(os.stat(os.path.join(mail, 'b.test')).st_mode & 0o7777, 0o700)
        self.assertEqual(inst.ctl('setup', '--check', check=False).returncode, 0)
        # a Maildir of the domain left to root is found by the check
        os.chown(os.path.join(mail, 'b.test', 'alice', 'cur'), 0, 0)
        p = inst.ctl('setup', '--check', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s/b.test/alice/cur: owner' % mail).encode(), p.stdout)


if __name__ == '__main__':
    unittest.main()
