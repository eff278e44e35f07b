"""pochta-local run directly: its result protocol (one dresult record on stdout)
and exit codes 0 delivered, 100 permanent, 111 temporary (man/pochta-local.8)."""
import os
import re
import shutil
import subprocess
import unittest

from pochta import InstanceTest, prog

MSG = b'Subject: local\n\nbody\n'


class LocalAgent(InstanceTest):
    def run_local(self, inst, rcpt, msg=MSG, sender='s@remote.test'):
        p = subprocess.run([prog('pochta-local'), '-q', 'TESTQID', '-f', sender, '--', rcpt],
                           input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=inst.env(), timeout=30, **inst.as_owner())
        m = re.match(rb'^r(\d+):0 ([DTP]) (\d\.\d+\.\d+) (.*)\n$', p.stdout, re.S)
        self.assertTrue(m, p.stdout)
        self.assertEqual(int(m.group(1)), len(p.stdout) - len(m.group(1)) - 3)
        return p.returncode, m.group(2).decode(), m.group(3).decode(), m.group(4).decode()

    def test_delivered_is_0(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        rc, cls, st, text = self.run_local(inst, 'Alice+tag@example.test')
        self.assertEqual((rc, cls, st), (0, 'D', '2.0.0'))
        [m] = inst.mails('alice')
        self.assertTrue(m.startswith(b'Return-Path: <s@remote.test>\nDelivered-To: Alice+tag@example.test\n'))
        self.assertTrue(m.endswith(MSG))

    def test_unknown_user_is_100(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        self.assertEqual(self.run_local(inst, 'nobody@example.test')[:3], (100, 'P', '5.1.1'))

    def test_loop_is_100(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        msg = b'Delivered-To: alice@example.test\n' + MSG
        rc, cls, st, text = self.run_local(inst, 'alice@example.test', msg)
        self.assertEqual((rc, cls, st), (100, 'P', '5.4.6'))
        self.assertIn('loop', text)
        self.assertEqual(inst.mail_files('alice'), [])

    def test_missing_maildir_is_111(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        shutil.rmtree(inst.maildir('alice'))
        inst.write(inst.maildir('alice'), 'x')  # something that is no Maildir
        rc, cls, st, text = self.run_local(inst, 'alice@example.test')
        self.assertEqual((rc, cls), (111, 'T'))
        self.assertTrue(st.startswith('4.'), st)

    def test_bad_addresses_are_100(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        self.assertEqual(self.run_local(inst, 'alice@example.test', sender='bad\nsender')[:3],
                         (100, 'P', '5.1.7'))
        self.assertEqual(self.run_local(inst, 'not an address')[:3], (100, 'P', '5.1.3'))

    def test_postmaster_goes_to_the_postmaster_mailbox(self):
        inst = self.instance(start=False, users={'alice': 'pw'}, conf={'postmaster': 'alice'})
        self.assertEqual(self.run_local(inst, 'postmaster')[:2], (0, 'D'))
        self.assertEqual(self.run_local(inst, 'PostMaster@example.test')[:2], (0, 'D'))
        self.assertEqual(len(inst.mails('alice')), 2)


if __name__ == '__main__':
    unittest.main()
