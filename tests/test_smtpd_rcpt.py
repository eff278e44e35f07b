"""One address-to-mailbox mapping (common/localaddr.c) for RCPT and delivery: what
pochta-smtpd accepts at RCPT lands in the mailbox, never bounces with `user unknown`
from pochta-local (backscatter), and what delivery could not map is refused at RCPT
(man/pochta-smtpd.8, Recipient policy; man/pochta-local.8)."""
import re
import subprocess
import unittest

from pochta import InstanceTest, prog

X28 = 'x' * 28
# accepted: each must land in alice's Maildir
ACCEPTED = [
    'alice+' + X28 + '@example.test',          # user part + a 28-octet extension
    '"alice+a b"@example.test',                # quoted, extension with a space
    '"alice"@example.test',                    # quoted form of a plain name
    'alice+' + 'y' * 58 + '@example.test',     # 64 octets, the RFC 5321 limit
    '"Alice+' + 'z' * 56 + '"@EXAMPLE.test',   # 64 octets quoted, case
]
# refused at RCPT with 550 5.1.1: no mailbox could hold them
REFUSED = [
    '"al ice"@example.test',
    '"alice/x"@example.test',
    'a' * 33 + '@example.test',
    '+alice@example.test',
    'carol@example.test',
]


class RcptMapping(InstanceTest):
    def session(self, inst):
        c = inst.raw()
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd('EHLO client.test')[0], 250)
        return c

    def send_one(self, c, rcpt, n):
        self.assertEqual(c.cmd('MAIL FROM:<s@remote.test>')[0], 250)
        code, lines = c.cmd('RCPT TO:<%s>' % rcpt)
        self.assertEqual(code, 250, (rcpt, lines))
        self.assertEqual(c.cmd('DATA')[0], 354)
        code, lines = c.cmd('Subject: m%d\r\n\r\nbody\r\n.' % n)
        self.assertEqual(code, 250, lines)

    def test_accepted_recipients_are_delivered(self):
        inst = self.instance(users={'alice': 'pw'})
        c = self.session(inst)
        for i, rcpt in enumerate(ACCEPTED):
            self.send_one(c, rcpt, i)
        c.cmd('QUIT')
        c.close()
        mails = inst.wait_mail('alice', len(ACCEPTED), timeout=30)
        inst.wait_queue_empty(timeout=30)
        self.assertEqual(len(mails), len(ACCEPTED))
        got = {}
        for m in mails:
            subj = re.search(rb'^Subject: m(\d+)$', m, re.M)
            dt = re.search(rb'^Delivered-To: (.*)$', m, re.M)
            self.assertTrue(subj and dt, m)
            got[int(subj.group(1))] = dt.group(1).decode()
        self.assertEqual(sorted(got), list(range(len(ACCEPTED))))
        # the queued (canonical) form: quotes only where needed, domain lowercased
        self.assertEqual(got[0], ACCEPTED[0])
        self.assertEqual(got[1], '"alice+a b"@example.test')
        self.assertEqual(got[2], 'alice@example.test')
        self.assertEqual(got[3], ACCEPTED[3])
        self.assertEqual(got[4], 'Alice+' + 'z' * 56 + '@example.test')
        # nothing bounced (backscatter to a sender that may be forged)
        self.assertNotIn('5.1.1', inst.log())
        self.assertNotIn('bounce', inst.log())

    def test_postmaster_forms(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'postmaster': 'alice'})
        c = self.session(inst)
        for i, rcpt in enumerate(['"PostMaster"@example.test', 'postmaster+x@example.test']):
            self.send_one(c, rcpt, i)
        # the bare form, with no domain (RFC 5321 4.5.1)
        self.send_one(c, 'Postmaster', 2)
        c.cmd('QUIT')
        c.close()
        self.assertEqual(len(inst.wait_mail('alice', 3, timeout=30)), 3)
        inst.wait_queue_empty(timeout=30)
        self.assertNotIn('bounce', inst.log())

    def test_unmappable_recipients_are_refused_at_rcpt(self):
        inst = self.instance(users={'alice': 'pw'})
        c = self.session(inst)
        self.assertEqual(c.cmd('MAIL FROM:<s@remote.test>')[0], 250)
        for rcpt in REFUSED:
            code, lines = c.cmd('RCPT TO:<%s>' % rcpt)
            self.assertEqual(code, 550, (rcpt, lines))
            self.assertIn('5.1.1', lines[-1])
        # 65 octets: a syntax error before any mapping
        code, lines = c.cmd('RCPT TO:<alice+%s@example.test>' % ('y' * 59))
        self.assertEqual(code, 501, lines)
        self.assertIn('5.1.3', lines[-1])
        self.assertEqual(c.cmd('RSET')[0], 250)
        c.cmd('QUIT')
        c.close()
        # and delivery, asked directly, agrees with each verdict
        for rcpt in REFUSED:
            self.assertEqual(self.run_local(inst, rcpt), (100, 'P 5.1.1'), rcpt)
        for rcpt in ACCEPTED:
            self.assertEqual(self.run_local(inst, rcpt), (0, 'D 2.0.0'), rcpt)

    def test_empty_delimiter(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'recipient_delimiter': ''})
        c = self.session(inst)
        self.assertEqual(c.cmd('MAIL FROM:<s@remote.test>')[0], 250)
        self.assertEqual(c.cmd('RCPT TO:<alice+x@example.test>')[0], 550)
        self.assertEqual(c.cmd('RCPT TO:<"alice"@example.test>')[0], 250)
        c.cmd('QUIT')
        c.close()
        self.assertEqual(self.run_local(inst, 'alice+x@example.test'), (100, 'P 5.1.1'))

    def test_bare_postmaster_without_local_domains(self):
        # queued as the bare postmaster, which pochta-qmgr delivers locally
        inst = self.instance(users={'alice': 'pw'},
                             conf={'local_domains': '', 'postmaster': 'alice'})
        c = self.session(inst)
        self.send_one(c, 'Postmaster', 0)
        code, lines = c.cmd('MAIL FROM:<s@remote.test>')
        self.assertEqual(code, 250)
        self.assertEqual(c.cmd('RCPT TO:<alice@example.test>')[0], 554)   # relaying
        c.cmd('QUIT')
        c.close()
        [m] = inst.wait_mail('alice', 1, timeout=30)
        # the message itself, not a double bounce of it
        self.assertTrue(m.startswith(b'Return-Path: <s@remote.test>\nDelivered-To: postmaster\n'), m)
        self.assertIn(b'\nSubject: m0\n', m)
        inst.wait_queue_empty(timeout=30)
        self.assertNotIn('bounce', inst.log())

    def test_local_agent_errors(self):
        inst = self.instance(start=False, users={'alice': 'pw'})
        # the domain stopped being local under a running queue manager: later
        self.assertEqual(self.run_local(inst, 'alice@elsewhere.test', True),
                         (111, 'T 4.3.5', 'not a local domain'))
        # a postmaster key that is no user name (pochtactl refuses to set it)
        with open(inst.root + '/etc/pochta.conf', 'a') as f:
            f.write('postmaster = Not/A/User\n')
        self.assertEqual(self.run_local(inst, 'postmaster@example.test', True),
                         (111, 'T 4.3.5', 'configuration error: postmaster'))
        self.assertEqual(inst.mail_files('alice'), [])

    def run_local(self, inst, rcpt, text=False):
        """pochta-local's exit code and 'CLASS STATUS' (and its text)"""
        p = subprocess.run([prog('pochta-local'), '-q', 'TESTQID', '-f', 's@remote.test', '--',
                            rcpt], input=b'Subject: direct\n\nbody\n', stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=inst.env(), timeout=30, **inst.as_owner())
        m = re.match(rb'^r\d+:0 ([DTP] \d\.\d+\.\d+) (.*)\n$', p.stdout, re.S)
        self.assertTrue(m, p.stdout)
        if text:
            return p.returncode, m.group(1).decode(), m.group(2).decode()
        return p.returncode, m.group(1).decode()


if __name__ == '__main__':
    unittest.main()
