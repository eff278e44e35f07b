"""pochta-enqueue driven directly over pipes (the record protocol of
common/enqproto.h), and pochta-qmgr restarts with mail waiting in the queue."""
import os
import re
import signal
import subprocess
import time
import unittest

from pochta import InstanceTest, prog, wait_until

USERS = {'alice': 'pw-a', 'bob': 'pw-b'}


def rec(t, data=b''):
    if isinstance(data, str):
        data = data.encode()
    return t.encode() + str(len(data)).encode() + b':' + data + b'\n'


class Enqueue:
    """one pochta-enqueue process; stdin and stdout are pipes"""

    def __init__(self, inst):
        env = inst.env()
        env['POCHTA_LOG'] = 'stderr'
        self.errpath = inst.root + '.enqueue.log'
        self.err = open(self.errpath, 'ab')
        self.p = subprocess.Popen([prog('pochta-enqueue')], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err, env=env,
                                  **inst.as_owner())

    def send(self, *recs):
        self.p.stdin.write(b''.join(recs))
        self.p.stdin.flush()

    def reply(self):
        f = self.p.stdout
        t = f.read(1)
        if not t:
            return (None, None)
        n = b''
        while True:
            c = f.read(1)
            if c == b':' or not c:
                break
            n += c
        d = f.read(int(n))
        assert f.read(1) == b'\n'
        return (t.decode(), d.decode())

    def message(self, sender, rcpts, body, envelope=None):
        """M, envelope, D..., E: returns (qid, (type, text))"""
        self.send(rec('M'))
        t, qid = self.reply()
        assert t == 'I', (t, qid)
        env = envelope if envelope is not None else (
            [rec('S', sender)] + [rec('R', r) for r in rcpts] + [rec('P', 'LOCAL')])
        self.send(*env)
        for i in range(0, len(body), 65536):
            self.send(rec('D', body[i:i + 65536]))
        self.send(rec('E'))
        return qid, self.reply()

    def close(self):
        self.p.stdin.close()
        rc = self.p.wait(10)
        self.err.close()
        return rc

    def log(self):
        with open(self.errpath, errors='replace') as f:
            return f.read()


def qdir(inst, sub):
    return sorted(os.listdir(os.path.join(inst.root, 'queue', sub)))


class EnqueueProtocol(InstanceTest):
    def enq(self, inst):
        e = Enqueue(inst)
        self.addCleanup(lambda: (e.p.poll() is None and e.p.kill(), os.path.exists(e.errpath)
                                 and os.unlink(e.errpath)))
        return e

    def test_commit_writes_queue_file(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        qid, r = e.message('s@example.org', ['alice@example.test', 'postmaster'],
                           b'Subject: a\n\nbody\n')
        self.assertEqual(r, ('K', qid))
        self.assertRegex(qid, r'^[0-9A-V]{24}$')
        self.assertEqual(qdir(inst, 'incoming'), [qid])
        self.assertEqual(qdir(inst, 'tmp'), [])
        with open(os.path.join(inst.root, 'queue', 'incoming', qid), 'rb') as f:
            data = f.read()
        # the envelope records in their fixed order, then the message
        self.assertTrue(data.startswith(b'V1:1\nI24:' + qid.encode() + b'\nT10:'))
        self.assertIn(b'\nS13:s@example.org\nB0:\nP5:LOCAL\nH0:\nC0:\n'
                      b'R18:alice@example.test\nR10:postmaster\nM0:\nSubject: a\n\nbody\n', data)
        self.assertTrue(data.endswith(b'\nM0:\nSubject: a\n\nbody\n'))
        st = os.stat(os.path.join(inst.root, 'queue', 'incoming', qid))
        self.assertEqual(st.st_mode & 0o777, 0o640)  # read by qmgr_user through the queue group
        # a second message through the same process gets its own ID
        qid2, r2 = e.message('', ['bob@example.test'], b'x\n')
        self.assertEqual(r2, ('K', qid2))
        self.assertNotEqual(qid, qid2)
        self.assertEqual(e.close(), 0)
        self.assertIn(qid + ' queued from=<s@example.org> nrcpt=2 size=17', e.log())

    def test_duplicate_recipients_queued_once(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        qid, r = e.message('s@example.org', ['alice@example.test', 'bob@example.test',
                                             'alice@example.test', 'Alice@example.test'],
                           b'Subject: d\n\nbody\n')
        self.assertEqual(r, ('K', qid))
        with open(os.path.join(inst.root, 'queue', 'incoming', qid), 'rb') as f:
            data = f.read()
        # exact repeats go; a local part that differs in case is another address
        self.assertEqual(data.count(b'\nR18:alice@example.test\n'), 1)
        self.assertIn(b'\nR18:Alice@example.test\n', data)
        self.assertEqual(e.close(), 0)
        self.assertIn(qid + ' queued from=<s@example.org> nrcpt=3', e.log())

    def test_bad_envelope_gets_x(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        cases = [
            [rec('S', 'not an address'), rec('R', 'alice@example.test')],
            [rec('S', 'a@example.org'), rec('R', 'bob')],
            [rec('S', 'a@example.org')],                                  # no recipient
            [rec('R', 'alice@example.test')],                             # no sender
            [rec('S', 'a@example.org'), rec('R', 'alice@example.test'), rec('H', 'x\r\ny')],
            [rec('S', 'a@example.org'), rec('S', 'b@example.org'), rec('R', 'alice@example.test')],
            [rec('S', 'a@example.org'), rec('R', 'alice@example.test'), rec('B', '9BIT')],
        ]
        for env in cases:
            qid, r = e.message(None, None, b'Subject: x\n\nbody\n', envelope=env)
            self.assertEqual(r[0], 'X', (env, r))
            self.assertRegex(r[1], r'^5\.\d\.\d ')
        # an envelope record after data is refused too
        e.send(rec('M'))
        self.assertEqual(e.reply()[0], 'I')
        e.send(rec('S', ''), rec('R', 'alice@example.test'), rec('D', 'x\n'),
               rec('R', 'bob@example.test'), rec('E'))
        self.assertEqual(e.reply()[0], 'X')
        # the session goes on: a good message after the bad ones
        qid, r = e.message('a@example.org', ['alice@example.test'], b'ok\n')
        self.assertEqual(r, ('K', qid))
        self.assertEqual(qdir(inst, 'incoming'), [qid])
        self.assertEqual(qdir(inst, 'tmp'), [])
        self.assertEqual(e.close(), 0)

    def test_too_big_gets_x(self):
        inst = self.instance(users=USERS, start=False, conf={'message_size_limit': '10000'})
        e = self.enq(inst)
        qid, r = e.message('a@example.org', ['alice@example.test'], b'x' * (10000 + 70000))
        self.assertEqual(r[0], 'X')
        self.assertTrue(r[1].startswith('5.3.4'), r)
        # the limit leaves room for the headers smtpd adds
        qid, r = e.message('a@example.org', ['alice@example.test'], b'y' * 12000)
        self.assertEqual(r, ('K', qid))
        self.assertEqual(qdir(inst, 'incoming'), [qid])
        self.assertEqual(qdir(inst, 'tmp'), [])

    def test_eof_mid_message_leaves_nothing(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        e.send(rec('M'))
        self.assertEqual(e.reply()[0], 'I')
        e.send(rec('S', 'a@example.org'), rec('R', 'alice@example.test'), rec('D', 'x' * 1000))
        wait_until(lambda: qdir(inst, 'tmp'), 5, what='tmp file')
        self.assertEqual(e.close(), 0)  # EOF: abort
        self.assertEqual(qdir(inst, 'tmp'), [])
        self.assertEqual(qdir(inst, 'incoming'), [])

    def test_broken_record_leaves_nothing(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        e.send(rec('M'))
        self.assertEqual(e.reply()[0], 'I')
        # a record cut short by the client dying
        e.send(rec('S', 'a@example.org'), rec('R', 'alice@example.test'), b'D100:short')
        e.p.stdin.close()
        self.assertEqual(e.p.wait(10), 0)
        self.assertEqual(qdir(inst, 'tmp'), [])
        self.assertEqual(qdir(inst, 'incoming'), [])

    def test_abort(self):
        inst = self.instance(users=USERS, start=False)
        e = self.enq(inst)
        e.send(rec('M'))
        self.assertEqual(e.reply()[0], 'I')
        e.send(rec('S', 'a@example.org'), rec('R', 'alice@example.test'), rec('D', 'x\n'),
               rec('Q'))
        qid, r = e.message('a@example.org', ['bob@example.test'], b'y\n')
        self.assertEqual(r, ('K', qid))
        self.assertEqual(qdir(inst, 'incoming'), [qid])
        self.assertEqual(qdir(inst, 'tmp'), [])


class Restart(InstanceTest):
    def test_incoming_delivered_after_start(self):
        """mail committed while no queue manager runs is delivered when it starts"""
        inst = self.instance(users=USERS, start=False)
        e = Enqueue(inst)
        self.addCleanup(lambda: os.path.exists(e.errpath) and os.unlink(e.errpath))
        qids = []
        for i in range(5):
            qid, r = e.message('a@example.org', ['alice@example.test', 'bob@example.test'],
                               ('Subject: restart %d\n\nbody %d\n' % (i, i)).encode())
            self.assertEqual(r, ('K', qid))
            qids.append(qid)
        e.close()
        self.assertEqual(qdir(inst, 'incoming'), sorted(qids))
        inst.start()
        a = inst.wait_mail('alice', 5)
        inst.wait_mail('bob', 5)
        inst.wait_queue_empty()
        self.assertEqual(sorted(re.search(rb'Subject: (restart \d)', m).group(1) for m in a),
                         [b'restart %d' % i for i in range(5)])

    def run_qmgr(self, inst):
        env = inst.env()
        env['POCHTA_LOG'] = 'stderr'
        logf = open(inst.root + '.qmgr.log', 'ab')
        self.addCleanup(lambda: os.path.exists(logf.name) and os.unlink(logf.name))
        p = subprocess.Popen([prog('pochta-qmgr')], stdin=subprocess.DEVNULL, stdout=logf,
                             stderr=logf, env=env, **inst.as_owner())
        self.addCleanup(lambda: p.poll() is None and p.kill())
        logf.close()
        return p, inst.root + '.qmgr.log'

    def test_state_survives_restart(self):
        """a recipient recorded as delivered is not delivered again after a restart;
        a deferred one keeps its retry time; SIGTERM ends the manager with 0"""
        inst = self.instance(users=USERS, start=False, conf={'retry_min': '3600'})
        bob = inst.maildir('bob')
        os.rename(bob, bob + '.away')
        e = Enqueue(inst)
        self.addCleanup(lambda: os.path.exists(e.errpath) and os.unlink(e.errpath))
        qid, r = e.message('a@example.org', ['alice@example.test', 'bob@example.test'],
                           b'Subject: state\n\nbody\n')
        e.close()
        p, logpath = self.run_qmgr(inst)
        inst.wait_mail('alice', 1)
        wait_until(lambda: qdir(inst, 'state') == [qid], 10, what='state journal')

        def log():
            with open(logpath, errors='replace') as f:
                return f.read()
        wait_until(lambda: 'status=deferred' in log(), 5, what='deferred')
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(15), 0)
        self.assertEqual(qdir(inst, 'mess'), [qid])
        os.rename(bob + '.away', bob)
        p, logpath = self.run_qmgr(inst)
        wait_until(lambda: 'started: 1 message' in log(), 10, what='restart')
        time.sleep(0.5)
        # alice not again; bob waits for his retry time (an hour away)
        self.assertEqual(len(inst.mails('alice')), 1)
        self.assertEqual(inst.mails('bob'), [])
        # a flush retries him now
        with open(os.path.join(inst.root, 'queue', 'trigger'), 'wb', buffering=0) as t:
            t.write(b'f')
        inst.wait_mail('bob', 1)
        wait_until(lambda: qdir(inst, 'mess') == [] and qdir(inst, 'state') == [], 10,
                   what='queue empty')
        self.assertEqual(len(inst.mails('alice')), 1)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(15), 0)

    def test_rescan_drops_deleted(self):
        """QDIR_WAKE_RESCAN: a message removed from mess/ leaves the schedule,
        one put back is loaded again"""
        inst = self.instance(users=USERS, start=False, conf={'retry_min': '3600'})
        bob = inst.maildir('bob')
        os.rename(bob, bob + '.away')
        e = Enqueue(inst)
        self.addCleanup(lambda: os.path.exists(e.errpath) and os.unlink(e.errpath))
        qid, r = e.message('a@example.org', ['bob@example.test'], b'Subject: r\n\nbody\n')
        e.close()
        p, logpath = self.run_qmgr(inst)

        def log():
            with open(logpath, errors='replace') as f:
                return f.read()
        wait_until(lambda: 'status=deferred' in log(), 10, what='deferred')
        held = os.path.join(inst.root, 'queue', 'hold', qid)
        os.rename(os.path.join(inst.root, 'queue', 'mess', qid), held)
        with open(os.path.join(inst.root, 'queue', 'trigger'), 'wb', buffering=0) as t:
            t.write(b'r')
        wait_until(lambda: '%s held by admin' % qid in log(), 10, what='held')
        os.rename(bob + '.away', bob)
        with open(os.path.join(inst.root, 'queue', 'trigger'), 'wb', buffering=0) as t:
            t.write(b'f')
        time.sleep(0.5)
        self.assertEqual(inst.mails('bob'), [])  # held: not delivered
        os.rename(held, os.path.join(inst.root, 'queue', 'mess', qid))
        with open(os.path.join(inst.root, 'queue', 'trigger'), 'wb', buffering=0) as t:
            t.write(b'rf')
        inst.wait_mail('bob', 1)
        wait_until(lambda: qdir(inst, 'mess') == [], 10, what='queue empty')
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(15), 0)


if __name__ == '__main__':
    unittest.main()
