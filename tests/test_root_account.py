"""Run as root (as in CI), a test instance is given one unprivileged account
(tests/lib/pochta.py, TEST_ACCOUNT): no process of it runs as root once its
listeners are bound, and no mail is written as root. Needs root; skipped with
a message otherwise."""
import os
import pwd
import unittest

from pochta import TEST_ACCOUNT, Instance, InstanceTest, pids_of_root, proc_status, wait_until


def ids(pid):
    """(Uid, Gid) lists of /proc/PID/status (real, effective, saved, fs), or
    None when the process is gone"""
    try:
        st = proc_status(pid)
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            argv0 = os.path.basename(f.read().split(b'\0')[0]).decode(errors='replace')
    except OSError:
        return None
    return argv0, [int(x) for x in st['Uid']], [int(x) for x in st['Gid']]


@unittest.skipUnless(os.geteuid() == 0, 'needs root: a test instance has an account only when root runs the tests')
class RootAccountTest(InstanceTest):
    def assert_no_root_process(self, inst, pw):
        seen = set()
        for pid in pids_of_root(inst.root):
            r = ids(pid)
            if r is None:
                continue
            argv0, uid, gid = r
            seen.add(argv0)
            self.assertEqual(uid, [pw.pw_uid] * 4, '%s pid=%d runs as uid %s' % (argv0, pid, uid))
            self.assertNotIn(0, gid, '%s pid=%d has gid %s' % (argv0, pid, gid))
        return seen

    def test_default_instance_runs_nothing_as_root(self):
        inst = self.instance(users={'alice': 'secret'})
        self.assertEqual(inst.user, TEST_ACCOUNT)
        pw = pwd.getpwnam(TEST_ACCOUNT)
        wait_until(lambda: 'qmgr started' in inst.log(), 10, 0.05, 'the queue manager')
        # an SMTP session and a POP3 session open at once, with mail delivered
        r = inst.raw()
        self.assertEqual(r.reply()[0], 220)
        with inst.smtp() as s:
            s.sendmail('a@client.test', ['alice@example.test'], 'Subject: t\r\n\r\nhello\r\n')
        inst.wait_mail('alice', 1)
        p = inst.pop3()
        p.user('alice')
        p.pass_('secret')
        seen = self.assert_no_root_process(inst, pw)
        for prog in ('pochta-master', 'pochta-qmgr', 'pochta-smtpd', 'pochta-pop3d'):
            self.assertIn(prog, seen)
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        r.close()
        files = inst.mail_files('alice')
        self.assertEqual(len(files), 1)
        for f in files:
            st = os.stat(f)
            self.assertEqual((st.st_uid, st.st_gid), (pw.pw_uid, pw.pw_gid), f)
        self.assertEqual(inst.root_owned(), [])

    def test_cleanup_fails_on_mail_written_as_root(self):
        inst = Instance(users={'alice': 'pw'})
        try:
            planted = os.path.join(inst.maildir('alice'), 'new', '1.M1P1Q1.root')
            with open(planted, 'w') as f:  # as root, not given to the account
                f.write('Subject: x\n\n')
            self.assertEqual(inst.root_owned(), ['mail/alice/new/1.M1P1Q1.root'])
        except BaseException:
            inst.cleanup()
            raise
        with self.assertRaisesRegex(AssertionError, 'owned by root .*mail/alice/new/1.M1P1Q1.root'):
            inst.cleanup()
        self.assertFalse(os.path.exists(inst.root))

    def test_no_account_on_request(self):
        inst = self.instance(start=False, no_account=True)
        self.assertIsNone(inst.user)
        self.assertEqual(os.stat(os.path.join(inst.root, 'queue')).st_uid, 0)
        self.assertEqual(inst.ctl('config', 'get', 'instance_user').stdout, b'\n')


if __name__ == '__main__':
    unittest.main()
