"""Queue and local delivery, black box: SMTP in, pochta-qmgr + pochta-local out."""
import os
import signal
import re
import time
import unittest

from pochta import InstanceTest, free_port, wait_until

USERS = {'alice': 'pw-a', 'bob': 'pw-b'}


def msg(subject, body='hello\r\n', extra=''):
    return ('From: <sender@example.org>\r\nTo: <alice@example.test>\r\n%sSubject: %s\r\n\r\n%s'
            % (extra, subject, body))


def header_block(m):
    return m.split(b'\n\n', 1)[0].split(b'\n')


class Delivery(InstanceTest):
    def test_one_recipient(self):
        inst = self.instance(users=USERS)
        t0 = time.time()
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test'], msg('one'))
        mails = inst.wait_mail('alice', 1)
        print('pickup+delivery: %.3fs' % (time.time() - t0))
        self.assertEqual(len(mails), 1)
        lines = header_block(mails[0])
        # Return-Path and Delivered-To come first, in that order
        self.assertEqual(lines[0], b'Return-Path: <sender@example.org>')
        self.assertEqual(lines[1], b'Delivered-To: alice@example.test')
        self.assertIn(b'Subject: one', mails[0])
        self.assertTrue(mails[0].endswith(b'\nhello\n'))
        self.assertNotIn(b'\r\n', mails[0])
        inst.wait_queue_empty()
        # nothing left anywhere in the queue, no journal written
        for sub in ('incoming', 'mess', 'state', 'tmp'):
            self.assertEqual(os.listdir(os.path.join(inst.root, 'queue', sub)), [], sub)
        # the queue file goes before its "removed" line is written
        removed = re.compile(r'pochta-qmgr\[\d+\]: [0-9A-V]{24} removed')
        wait_until(lambda: removed.search(inst.log()), 10, 0.05, 'the removed line')
        self.assertRegex(inst.log(), r'to=<alice@example.test> status=sent delay=\d+\.\d\d ')

    def test_several_recipients_one_queue_file(self):
        inst = self.instance(users=USERS)
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test', 'bob@example.test',
                                              'Postmaster@example.test'], msg('several'))
        a = inst.wait_mail('alice', 1)
        b = inst.wait_mail('bob', 1)
        p = inst.wait_mail('postmaster', 1)
        self.assertIn(b'Delivered-To: alice@example.test\n', a[0])
        self.assertIn(b'Delivered-To: bob@example.test\n', b[0])
        self.assertIn(b'Delivered-To: Postmaster@example.test\n', p[0])
        inst.wait_queue_empty()
        log = inst.log()
        qids = set(re.findall(r'pochta-enqueue\[\d+\]: ([0-9A-V]{24}) queued', log))
        self.assertEqual(len(qids), 1, log)
        qid = qids.pop()
        self.assertIn('nrcpt=3', log)
        self.assertEqual(len(re.findall(qid + r' to=<[^>]*> status=sent', log)), 3, log)
        # every recipient final in the first round: no state journal was needed
        self.assertEqual(os.listdir(os.path.join(inst.root, 'queue', 'state')), [])

    def test_extension_and_null_sender(self):
        inst = self.instance(users=USERS)
        with inst.smtp() as s:
            s.sendmail('', ['bob+lists@example.test'], msg('ext'))
        m = inst.wait_mail('bob', 1)[0]
        self.assertTrue(m.startswith(b'Return-Path: <>\nDelivered-To: bob+lists@example.test\n'))

    def test_mail_loop(self):
        inst = self.instance(users=USERS)
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test'],
                       msg('loop', extra='Delivered-To: ALICE@example.test\r\n'))
            # a folded header naming another address is not a loop
            s.sendmail('sender@example.org', ['alice@example.test'],
                       msg('ok', extra='Delivered-To:\r\n bob@example.test\r\n'))
        wait_until(lambda: 'status=failed' in inst.log(), 10, what='failed delivery in the log')
        inst.wait_mail('alice', 1)
        inst.wait_queue_empty()
        mails = inst.mails('alice')
        self.assertEqual(len(mails), 1)
        self.assertIn(b'Subject: ok', mails[0])
        log = inst.log()
        self.assertRegex(log, r'to=<alice@example.test> status=failed delay=[\d.]+ '
                              r'reason="5\.4\.6 mail loop: already delivered to <alice@example.test>"')
        # nothing half-written left behind
        self.assertEqual(os.listdir(os.path.join(inst.maildir('alice'), 'tmp')), [])

    def test_temporary_failure_retried(self):
        inst = self.instance(users=USERS, conf={'retry_min': '1', 'retry_max': '2'})
        bob = inst.maildir('bob')
        os.rename(bob, bob + '.away')
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test', 'bob@example.test'],
                       msg('retry'))
        inst.wait_mail('alice', 1)
        wait_until(lambda: 'to=<bob@example.test> status=deferred' in inst.log(), 10,
                   what='deferred delivery to bob')
        # alice is final, bob is not: once the round is over the journal has both
        sdir = os.path.join(inst.root, 'queue', 'state')

        def journal():
            for n in os.listdir(sdir):
                with open(os.path.join(sdir, n), 'rb') as f:
                    return f.read()
            return b''
        wait_until(lambda: journal().count(b'\n') >= 2, 10, what='journal of the first round')
        self.assertEqual(len(inst.queue_files()), 1)
        self.assertEqual(len(os.listdir(sdir)), 1)
        journal = journal()
        self.assertRegex(journal, rb'D\d+:0 \d+ 0 0 2\.0\.0 ')
        self.assertRegex(journal, rb'Z\d+:1 \d+ 1 \d+ 4\.2\.0 mailbox unavailable')
        os.rename(bob + '.away', bob)
        m = inst.wait_mail('bob', 1, timeout=15)
        self.assertIn(b'Subject: retry', m[0])
        inst.wait_queue_empty()
        wait_until(lambda: not os.listdir(os.path.join(inst.root, 'queue', 'state')), 5,
                   what='state journal removed')
        # alice was not delivered twice
        self.assertEqual(len(inst.mails('alice')), 1)
        self.assertRegex(inst.log(), r'to=<bob@example.test> status=sent')

    def test_remote_recipient_stays_queued(self):
        # remote.test is routed to a loopback port where nothing listens
        inst = self.instance(users=USERS, conf={'relay_networks': '127.0.0.0/8',
                                                'retry_min': '60'})
        inst.write('etc/routes', 'remote.test [127.0.0.1]:%d\n' % free_port())
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test', 'carol@remote.test'],
                       msg('remote'))
        inst.wait_mail('alice', 1)
        wait_until(lambda: 'to=<carol@remote.test> status=deferred' in inst.log(), 10,
                   what='remote recipient deferred')
        self.assertRegex(inst.log(), r'to=<carol@remote.test> status=deferred delay=[\d.]+ '
                                     r'reason="4\.4\.1 connect to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: '
                                     r'Connection refused"')
        # alice's result and carol's deferral are journaled once the round is over
        wait_until(lambda: len(os.listdir(os.path.join(inst.root, 'queue', 'state'))) == 1, 10,
                   what='state journal')
        time.sleep(0.3)
        self.assertEqual(len(inst.queue_files()), 1)
        self.assertEqual(len(inst.mails('alice')), 1)


class ConfigChange(InstanceTest):
    """pochta-smtpd reads the configuration per session; the running queue
    manager must route by the same one, or it bounces what smtpd just accepted"""

    def test_new_local_domain_is_delivered_not_bounced(self):
        inst = self.instance(users=USERS)
        inst.ctl('config', 'set', 'local_domains', 'example.test new.test')
        inst.ctl('reload')
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@new.test'], msg('new domain'))
        mails = inst.wait_mail('alice', 1)
        self.assertIn(b'Delivered-To: alice@new.test\n', mails[0])
        inst.wait_queue_empty()
        log = inst.log()
        self.assertRegex(log, r'pochta-qmgr\[\d+\]: configuration reloaded')
        self.assertNotIn('pochta-remote', log)

    def test_broken_file_keeps_the_last_valid_configuration(self):
        inst = self.instance(users=USERS)
        conf = os.path.join(inst.root, 'etc', 'pochta.conf')
        with open(conf) as f:
            good = f.read()
        inst.write(conf, 'no_such_key = 1\n', append=True)
        inst.ctl('queue', 'flush')
        res = inst.ctl('reload', check=False)
        self.assertNotEqual(res.returncode, 0)
        self.assertRegex(res.stderr.decode(), r'pochta.conf:\d+: unknown key .no_such_key')
        os.kill(inst.proc.pid, signal.SIGHUP)
        wait_until(lambda: 'reload refused' in inst.log(), 15, 0.05,
                   'the supervisor refused the broken file')
        # nothing that runs read the broken file: mail still flows
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test'], msg('during'))
        self.assertEqual(len(inst.wait_mail('alice', 1)), 1)
        self.assertNotIn('configuration not reloaded', inst.log())
        inst.write(conf, good)
        inst.ctl('reload')
        with inst.smtp() as s:
            s.sendmail('sender@example.org', ['alice@example.test'], msg('after'))
        self.assertEqual(len(inst.wait_mail('alice', 2)), 2)
        self.assertIsNone(inst.proc.poll())


if __name__ == '__main__':
    unittest.main()
