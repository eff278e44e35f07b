"""pochtactl queue list|stats|show|hold|release|delete|flush: on queue files
made here (exact contents known), and on a message relayed through a running
instance that cannot deliver it."""
import json
import os
import stat
import time
import unittest

from pochta import InstanceTest, free_port, wait_until, prog

QID1 = '0K2JQ3U000G0000000000ABC'   # valid IDs: base-32 [0-9A-V], usec field < 10^6
QID2 = '0K2JQ3V000G0000000000ABD'


def rec(t, data):
    if isinstance(data, str):
        data = data.encode()
    return t.encode() + str(len(data)).encode() + b':' + data + b'\n'


def queue_file(qid, sender, rcpts, message, arrival=1700000000):
    out = rec('V', '1') + rec('I', qid) + rec('T', str(arrival)) + rec('S', sender)
    out += rec('B', '7BIT') + rec('P', 'ESMTP') + rec('H', 'client.test') + rec('C', '192.0.2.7')
    for r in rcpts:
        out += rec('R', r)
    return out + rec('M', '') + message


MSG = b'Subject: hello there\nFrom: a@client.test\n\nbody line\n'


class CraftedQueueTest(InstanceTest):
    def setUp(self):
        self.inst = self.instance(start=False)
        q = os.path.join(self.inst.root, 'queue')
        self.q = q
        self.inst.write(os.path.join(q, 'mess', QID1),
                        queue_file(QID1, 'a@client.test', ['x@remote.test', 'y@remote.test'], MSG))
        # recipient 0 deferred (twice), recipient 1 delivered
        self.inst.write(os.path.join(q, 'state', QID1),
                        rec('Z', '0 1700000100 1 1700000400 4.4.1 connection refused') +
                        rec('D', '1 1700000100 0 0 2.0.0 ok') +
                        rec('Z', '0 1700000500 2 1700001100 4.4.1 still refused'))
        self.inst.write(os.path.join(q, 'incoming', QID2),
                        queue_file(QID2, '', ['postmaster@example.test'], b'Subject: bounce\n\nx\n', 1700000300))

    def ctl(self, *a, **kw):
        return self.inst.ctl(*a, **kw)

    def test_list_human(self):
        out = self.ctl('queue', 'list').stdout.decode()
        self.assertIn(QID1, out)
        self.assertIn(QID2 + '+', out)  # incoming: not yet taken by qmgr
        self.assertIn('<a@client.test>', out)
        self.assertIn('<>', out)
        self.assertIn('x@remote.test (deferred 4.4.1, 2 attempts', out)
        self.assertIn('still refused', out)
        self.assertNotIn('connection refused', out)  # superseded by the later record
        self.assertIn('y@remote.test (delivered', out)
        self.assertIn('in 2 messages', out)

    def test_list_json(self):
        lines = self.ctl('queue', 'list', '--json').stdout.decode().splitlines()
        objs = [json.loads(l) for l in lines]
        self.assertEqual([o['id'] for o in objs], [QID2, QID1])  # incoming, then mess
        o = objs[1]
        self.assertEqual(o['sender'], 'a@client.test')
        self.assertEqual(o['recipients'], ['x@remote.test', 'y@remote.test'])
        self.assertEqual(o['size'], len(MSG))
        self.assertEqual(o['arrival'], 1700000000)
        self.assertFalse(o['held'])
        self.assertTrue(o['deferred'])
        self.assertEqual(o['rcpt_state'][0]['state'], 'deferred')
        self.assertEqual(o['rcpt_state'][0]['attempts'], 2)
        self.assertEqual(o['rcpt_state'][0]['text'], 'still refused')
        self.assertEqual(o['rcpt_state'][1]['state'], 'delivered')
        self.assertEqual(objs[0]['queue'], 'incoming')
        self.assertEqual(objs[0]['sender'], '')

    def test_stats(self):
        s = json.loads(self.ctl('queue', 'stats', '--json').stdout)
        self.assertEqual((s['incoming'], s['active'], s['deferred'], s['held'], s['messages']), (1, 1, 1, 0, 2))
        # the message sizes, as queue list shows them (one size for both)
        self.assertEqual(s['bytes'], len(MSG) + len(b'Subject: bounce\n\nx\n'))
        human = self.ctl('queue', 'stats').stdout.decode()
        self.assertIn('deferred: 1', human)

    def test_show(self):
        out = self.ctl('queue', 'show', QID1).stdout.decode()
        self.assertIn('id: %s' % QID1, out)
        self.assertIn('sender: <a@client.test>', out)
        self.assertIn('client: 192.0.2.7', out)
        self.assertIn('recipient: x@remote.test (deferred', out)
        self.assertIn('Subject: hello there', out)
        # envelope, then the message: header, empty line, body (as postcat -q)
        self.assertTrue(out.endswith('\n\nSubject: hello there\nFrom: a@client.test\n\nbody line\n'), out)
        # only the header, only the body (as postcat -h, -b)
        self.assertEqual(self.ctl('queue', 'show', '--header', QID1).stdout,
                         b'Subject: hello there\nFrom: a@client.test\n')
        self.assertEqual(self.ctl('queue', 'show', QID1, '--body').stdout, b'body line\n')
        self.assertEqual(self.ctl('queue', 'show', '--header', '--body', QID1).stdout, MSG)
        self.assertEqual(self.ctl('queue', 'show', 'AAAAAAAAAAAAAAAAAAAAAAAA', check=False).returncode, 1)

    def test_hold_release_delete(self):
        self.ctl('queue', 'hold', QID1)
        self.assertFalse(os.path.exists(os.path.join(self.q, 'mess', QID1)))
        self.assertTrue(os.path.exists(os.path.join(self.q, 'hold', QID1)))
        o = [json.loads(l) for l in self.ctl('queue', 'list', '--json').stdout.splitlines()]
        self.assertTrue([x for x in o if x['id'] == QID1][0]['held'])
        self.assertIn(QID1 + '!', self.ctl('queue', 'list').stdout.decode())
        self.assertEqual(json.loads(self.ctl('queue', 'stats', '--json').stdout)['held'], 1)
        self.assertEqual(self.ctl('queue', 'hold', QID1, check=False).returncode, 1)
        self.ctl('queue', 'release', QID1)
        self.assertTrue(os.path.exists(os.path.join(self.q, 'mess', QID1)))
        self.assertEqual(self.ctl('queue', 'release', QID1, check=False).returncode, 1)
        # an incoming entry can be held too
        self.ctl('queue', 'hold', QID2)
        self.assertTrue(os.path.exists(os.path.join(self.q, 'hold', QID2)))

        self.ctl('queue', 'delete', QID1)
        self.assertFalse(os.path.exists(os.path.join(self.q, 'mess', QID1)))
        self.assertFalse(os.path.exists(os.path.join(self.q, 'state', QID1)))
        self.assertEqual(self.ctl('queue', 'delete', QID1, check=False).returncode, 1)
        self.ctl('queue', 'delete', QID2)
        self.assertIn('queue is empty', self.ctl('queue', 'list').stdout.decode())
        self.assertEqual(self.ctl('queue', 'list', '--json').stdout, b'')

    def test_bad_ids_touch_nothing(self):
        victim = os.path.join(self.inst.root, 'etc', 'pochta.conf')
        for bad in ('../../etc/pochta.conf', QID1 + 'X', QID1.lower(), '', 'W' * 24):
            for cmd in ('show', 'delete', 'hold', 'release'):
                p = self.ctl('queue', cmd, bad, check=False)
                self.assertEqual(p.returncode, 1, (cmd, bad))
                self.assertIn(b'bad queue ID', p.stderr)
        self.assertTrue(os.path.exists(victim))
        self.assertTrue(os.path.exists(os.path.join(self.q, 'mess', QID1)))

    def test_damaged_file_is_reported(self):
        self.inst.write(os.path.join(self.q, 'mess', QID1), b'V1:1\nI3:bad\n')
        out = self.ctl('queue', 'list').stdout.decode()
        self.assertIn('unreadable', out)
        o = [json.loads(l) for l in self.ctl('queue', 'list', '--json').stdout.splitlines()]
        self.assertIn('error', [x for x in o if x['id'] == QID1][0])

    def test_flush_writes_trigger(self):
        fifo = os.path.join(self.q, 'trigger')
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.ctl('queue', 'flush')
            self.assertEqual(os.read(fd, 10), b'f')
            self.ctl('queue', 'hold', QID1)
            self.assertEqual(os.read(fd, 10), b'r')
        finally:
            os.close(fd)


class RelayedQueueTest(InstanceTest):
    def test_undeliverable_relay_stays_queued(self):
        dead = free_port()  # nothing listens there: every attempt is deferred
        inst = self.instance(conf={'relay_networks': '127.0.0.0/8', 'relayhost': '127.0.0.1:%d' % dead,
                                   'retry_min': '600'})
        with inst.smtp() as s:
            s.sendmail('sender@client.test', ['someone@remote.test'], b'Subject: relayed\r\n\r\nhi\r\n')

        def listed():
            p = inst.ctl('queue', 'list', '--json')
            return [json.loads(l) for l in p.stdout.decode().splitlines()]
        objs = wait_until(listed, 10, 0.1, 'the message in queue list')
        self.assertEqual(len(objs), 1)
        o = objs[0]
        self.assertEqual(o['recipients'], ['someone@remote.test'])
        self.assertEqual(o['sender'], 'sender@client.test')
        self.assertGreater(o['size'], 0)
        self.assertIn('someone@remote.test', inst.ctl('queue', 'list').stdout.decode())
        self.assertIn('Subject: relayed', inst.ctl('queue', 'show', o['id']).stdout.decode())
        s = json.loads(inst.ctl('queue', 'stats', '--json').stdout)
        self.assertEqual(s['messages'], 1)
        if os.access(prog('pochta-remote'), os.X_OK):
            # the attempt fails and is recorded; the message stays queued
            def deferred():
                o = listed()
                return o and o[0]['rcpt_state'][0]['state'] == 'deferred'
            wait_until(deferred, 15, 0.1, 'the recipient to be deferred')
            self.assertEqual(json.loads(inst.ctl('queue', 'stats', '--json').stdout)['deferred'], 1)
        # delete through a running qmgr: gone for good
        inst.ctl('queue', 'delete', o['id'])
        time.sleep(0.3)
        self.assertEqual(listed(), [])


def qid(n):
    """a valid queue ID whose last characters are n (base 32 digits)"""
    return '0K2JQ3U000G0000000000' + ('%03d' % n)


# four messages, one of each kind the selectors tell apart
M_DEFERRED, M_BOUNCE, M_HELD, M_OTHER = qid(101), qid(102), qid(103), qid(104)


class BulkQueueTest(InstanceTest):
    """delete/hold/release of several IDs, ALL, - and selectors, and list's
    filters, on a stopped instance (the commands act on the files then)"""

    def setUp(self):
        self.inst = self.instance(start=False)
        self.q = os.path.join(self.inst.root, 'queue')
        w = self.inst.write
        w(os.path.join(self.q, 'mess', M_DEFERRED),
          queue_file(M_DEFERRED, 'a@client.test', ['x@remote.test'], MSG))
        w(os.path.join(self.q, 'state', M_DEFERRED), rec('Z', '0 1700000100 1 1700000400 4.4.1 refused'))
        w(os.path.join(self.q, 'incoming', M_BOUNCE),
          queue_file(M_BOUNCE, '', ['postmaster@example.test'], b'Subject: bounce\n\nx\n'))
        w(os.path.join(self.q, 'hold', M_HELD), queue_file(M_HELD, 'b@other.test', ['z@Other.TEST'], MSG))
        w(os.path.join(self.q, 'mess', M_OTHER),
          queue_file(M_OTHER, 'A@Client.test', ['w@third.test', 'v@remote.test'], MSG))

    def ctl(self, *a, **kw):
        return self.inst.ctl(*a, **kw)

    def where(self, i):
        for d in ('incoming', 'mess', 'hold'):
            if os.path.exists(os.path.join(self.q, d, i)):
                return d
        return None

    def listed(self, *sel):
        p = self.ctl('queue', 'list', '--json', *sel)
        return sorted(json.loads(l)['id'] for l in p.stdout.decode().splitlines())

    def test_delete_several(self):
        p = self.ctl('queue', 'delete', M_DEFERRED, M_OTHER)
        self.assertEqual((self.where(M_DEFERRED), self.where(M_OTHER)), (None, None))
        self.assertFalse(os.path.exists(os.path.join(self.q, 'state', M_DEFERRED)))
        self.assertEqual(self.where(M_HELD), 'hold')
        self.assertIn(b'pochtactl: Deleted: 2 messages\n', p.stderr)
        self.assertIn(('%s: deleted' % M_OTHER).encode(), p.stdout)

    def test_unknown_ids_named_and_the_rest_done(self):
        gone, bad = qid(999), 'nonsense'
        p = self.ctl('queue', 'delete', gone, M_DEFERRED, bad, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('no such message %s' % gone).encode(), p.stderr)
        self.assertIn(b'bad queue ID "nonsense"', p.stderr)
        self.assertIn(b'Deleted: 1 message\n', p.stderr)
        self.assertIsNone(self.where(M_DEFERRED))
        p = self.ctl('queue', 'release', M_DEFERRED, M_HELD, check=False)  # the first is gone now
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'Released from hold: 1 message\n', p.stderr)
        p = self.ctl('queue', 'hold', M_OTHER, M_OTHER, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s is already held' % M_OTHER).encode(), p.stderr)
        self.assertIn(b'Placed on hold: 1 message\n', p.stderr)

    def test_all(self):
        p = self.ctl('queue', 'hold', 'ALL')
        self.assertIn(b'Placed on hold: 3 messages\n', p.stderr)  # the held one is not counted
        self.assertEqual({self.where(i) for i in (M_DEFERRED, M_BOUNCE, M_HELD, M_OTHER)}, {'hold'})
        p = self.ctl('queue', 'release', 'ALL')
        self.assertIn(b'Released from hold: 4 messages\n', p.stderr)
        self.assertEqual({self.where(i) for i in (M_DEFERRED, M_BOUNCE, M_HELD, M_OTHER)}, {'mess'})
        p = self.ctl('queue', 'delete', 'ALL')
        self.assertIn(b'Deleted: 4 messages\n', p.stderr)
        self.assertEqual(os.listdir(os.path.join(self.q, 'mess')), [])
        self.assertEqual(os.listdir(os.path.join(self.q, 'state')), [])
        p = self.ctl('queue', 'delete', 'ALL')
        self.assertIn(b'Deleted: 0 messages\n', p.stderr)

    def test_ids_on_stdin(self):
        p = self.ctl('queue', 'hold', '-', input='%s\n\n  %s  \r\n' % (M_DEFERRED, M_BOUNCE))
        self.assertIn(b'Placed on hold: 2 messages\n', p.stderr)
        self.assertEqual((self.where(M_DEFERRED), self.where(M_BOUNCE)), ('hold', 'hold'))
        p = self.ctl('queue', 'delete', '-', input='%s\n%s\n%s\n' % (M_DEFERRED, 'x' * 1000, qid(998)),
                     check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'line 2: too long for a queue ID', p.stderr)
        self.assertIn(('no such message %s' % qid(998)).encode(), p.stderr)
        self.assertIn(b'Deleted: 1 message\n', p.stderr)
        self.assertIsNone(self.where(M_DEFERRED))

    def test_list_selectors(self):
        self.assertEqual(self.listed(), sorted([M_DEFERRED, M_BOUNCE, M_HELD, M_OTHER]))
        self.assertEqual(self.listed('--domain', 'remote.test'), sorted([M_DEFERRED, M_OTHER]))
        self.assertEqual(self.listed('--domain', 'OTHER.test'), [M_HELD])  # any case
        self.assertEqual(self.listed('--domain', 'test'), [])  # the whole domain, not a suffix
        self.assertEqual(self.listed('--sender', 'a@client.test'), sorted([M_DEFERRED, M_OTHER]))
        self.assertEqual(self.listed('--sender', '<>'), [M_BOUNCE])
        self.assertEqual(self.listed('--sender', ''), [M_BOUNCE])
        self.assertEqual(self.listed('--deferred'), [M_DEFERRED])
        self.assertEqual(self.listed('--held'), [M_HELD])
        self.assertEqual(self.listed('--held', '--deferred'), sorted([M_DEFERRED, M_HELD]))
        self.assertEqual(self.listed('--domain', 'remote.test', '--deferred'), [M_DEFERRED])
        out = self.ctl('queue', 'list', '--domain', 'nowhere.test').stdout.decode()
        self.assertIn('no message matches', out)
        human = self.ctl('queue', 'list', '--held').stdout.decode()
        self.assertIn(M_HELD + '!', human)
        self.assertNotIn(M_OTHER, human)
        self.assertIn('in 1 message', human)
        p = self.ctl('queue', 'list', '--domain', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b'queue list: missing the DOMAIN of --domain', p.stderr)

    def test_bulk_selectors(self):
        p = self.ctl('queue', 'delete', '--domain', 'remote.test', '--deferred')
        self.assertIn(b'Deleted: 1 message\n', p.stderr)
        self.assertIsNone(self.where(M_DEFERRED))
        self.assertEqual(self.where(M_OTHER), 'mess')
        p = self.ctl('queue', 'hold', '--sender', 'a@client.test')
        self.assertIn(b'Placed on hold: 1 message\n', p.stderr)
        self.assertEqual(self.where(M_OTHER), 'hold')
        p = self.ctl('queue', 'release', '--domain', 'other.test')
        self.assertIn(b'Released from hold: 1 message\n', p.stderr)
        self.assertEqual((self.where(M_HELD), self.where(M_OTHER)), ('mess', 'hold'))
        # named IDs and a selector: only the named ones it picks
        p = self.ctl('queue', 'delete', '--held', M_BOUNCE, M_OTHER)
        self.assertIn(b'Deleted: 1 message\n', p.stderr)
        self.assertEqual((self.where(M_BOUNCE), self.where(M_OTHER)), ('incoming', None))
        p = self.ctl('queue', 'delete', '--sender', '<>', '-', input=M_BOUNCE + '\n')
        self.assertIn(b'Deleted: 1 message\n', p.stderr)
        self.assertIsNone(self.where(M_BOUNCE))

    def test_missing_and_wrong_arguments(self):
        for sub in ('delete', 'hold', 'release'):
            p = self.ctl('queue', sub, check=False)
            self.assertEqual(p.returncode, 2)
            self.assertIn(('queue %s: missing ID (or ALL, -, or a selector)' % sub).encode(), p.stderr)
            p = self.ctl('queue', sub, '--bogus', M_OTHER, check=False)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b'unknown option --bogus', p.stderr)
        p = self.ctl('queue', 'show', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b'queue show: missing ID', p.stderr)
        self.assertEqual(self.where(M_OTHER), 'mess')

    def test_show_body_is_made_safe(self):
        msg = b'Subject: x\r\nX-Esc: a\x1b[31mred\r\n\r\nline one\r\n\x1b]0;title\x07\r\nlast\xff\r\n'
        self.inst.write(os.path.join(self.q, 'mess', M_OTHER),
                        queue_file(M_OTHER, 'a@client.test', ['w@third.test'], msg))
        self.assertEqual(self.ctl('queue', 'show', '--header', M_OTHER).stdout,
                         b'Subject: x\nX-Esc: a?[31mred\n')
        self.assertEqual(self.ctl('queue', 'show', '--body', M_OTHER).stdout,
                         b'line one\n?]0;title?\nlast?\n')

    def test_stats_shape(self):
        now = int(time.time())
        w = self.inst.write
        for d in ('mess', 'hold', 'incoming'):
            for f in os.listdir(os.path.join(self.q, d)):
                os.unlink(os.path.join(self.q, d, f))
        # deferred: ages 2, 7, 30 and 2000 minutes; one delivered recipient is not counted
        plan = [(qid(201), 2 * 60, ['a@slow.test', 'b@slow.test']), (qid(202), 7 * 60, ['c@slow.test']),
                (qid(203), 30 * 60, ['d@Slow.test', 'e@late.test']), (qid(204), 2000 * 60, ['f@late.test', 'g@late.test'])]
        for i, age, rcpts in plan:
            w(os.path.join(self.q, 'mess', i), queue_file(i, 's@a.test', rcpts, MSG, now - age))
            w(os.path.join(self.q, 'state', i), rec('Z', '0 %d 1 %d 4.4.1 later' % (now, now + 600)))
        w(os.path.join(self.q, 'state', qid(204)), rec('D', '1 %d 0 0 2.0.0 ok' % now), append=True)
        w(os.path.join(self.q, 'hold', qid(205)), queue_file(qid(205), 's@a.test', ['h@held.test'], MSG, now - 100 * 60))
        w(os.path.join(self.q, 'mess', qid(206)), queue_file(qid(206), 's@a.test', ['n@new.test'], MSG, now))
        s = json.loads(self.ctl('queue', 'stats', '--json').stdout)
        self.assertEqual(s['buckets'], [5, 10, 20, 40, 80, 160, 320, 640, 1280])
        d = s['shape']['deferred']
        self.assertEqual(d['TOTAL'], {'total': 6, 'ages': [2, 1, 0, 2, 0, 0, 0, 0, 0, 1]})
        self.assertEqual(d['slow.test'], {'total': 4, 'ages': [2, 1, 0, 1, 0, 0, 0, 0, 0, 0]})
        self.assertEqual(d['late.test'], {'total': 2, 'ages': [0, 0, 0, 1, 0, 0, 0, 0, 0, 1]})
        self.assertEqual(s['shape']['hold'], {'TOTAL': {'total': 1, 'ages': [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]},
                                              'held.test': {'total': 1, 'ages': [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]}})
        self.assertEqual(s['shape']['active']['new.test']['ages'][0], 1)
        self.assertEqual(s['shape']['incoming'], {'TOTAL': {'total': 0, 'ages': [0] * 10}})
        self.assertEqual((s['deferred'], s['held'], s['messages']), (4, 1, 6))
        human = self.ctl('queue', 'stats').stdout.decode().splitlines()
        i = human.index('deferred: recipients by domain and age (minutes)')
        self.assertEqual(human[i + 1].split(), ['T', '5', '10', '20', '40', '80', '160', '320', '640', '1280', '1280+'])
        self.assertEqual(human[i + 2].split(), ['TOTAL', '6', '2', '1', '0', '2', '0', '0', '0', '0', '0', '1'])
        self.assertEqual(human[i + 3].split(), ['slow.test', '4', '2', '1', '0', '1', '0', '0', '0', '0', '0', '0'])
        self.assertEqual(human[i + 4].split()[0], 'late.test')


class FlushTest(InstanceTest):
    def test_flush_when_nothing_runs(self):
        inst = self.instance(start=False)
        for args in (('queue', 'flush'), ('queue', 'flush', 'example.org')):
            p = inst.ctl(*args, check=False)
            self.assertEqual(p.returncode, 1, args)
            self.assertIn(b'queue flush: the mail system is not running', p.stderr)
            self.assertIn(b'nothing flushed', p.stderr)
        p = inst.ctl('queue', 'flush', 'a b', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'bad domain "a b"', p.stderr)

    def test_flush_one_domain(self):
        from fakesmtp import FakeSMTP
        busy = {'on': True}

        def rcpt(a):
            return '450 4.2.1 busy, later' if busy['on'] else None
        srv_a = FakeSMTP(rcpt=rcpt).start()
        srv_b = FakeSMTP(rcpt=rcpt).start()
        self.addCleanup(srv_a.stop)
        self.addCleanup(srv_b.stop)
        inst = self.instance(start=False, conf={'relay_networks': '127.0.0.0/8', 'retry_min': '3600',
                                                'retry_max': '7200'})
        inst.write('etc/routes', 'a.test [127.0.0.1]:%d\nb.test [127.0.0.1]:%d\n' % (srv_a.port, srv_b.port))
        inst.start()
        if not os.access(prog('pochta-remote'), os.X_OK):
            self.skipTest('no pochta-remote')
        with inst.smtp() as s:
            s.sendmail('s@client.test', ['one@a.test'], b'Subject: to a\r\n\r\na\r\n')
            s.sendmail('s@client.test', ['two@B.test'], b'Subject: to b\r\n\r\nb\r\n')

        def deferred():
            p = inst.ctl('queue', 'list', '--json', '--deferred')
            return len(p.stdout.splitlines()) == 2
        wait_until(deferred, 20, 0.1, 'both messages deferred')
        busy['on'] = False
        inst.ctl('queue', 'flush', 'A.test')  # any case
        wait_until(lambda: any(sess.messages for sess in srv_a.sessions), 15, 0.1, 'a.test flushed')
        wait_until(lambda: inst.ctl('queue', 'list', '--json').stdout.count(b'\n') == 1, 10, 0.1,
                   'the a.test message gone from the queue')
        time.sleep(1.5)  # a flush of everything would have reached b.test by now
        self.assertFalse(any(sess.messages for sess in srv_b.sessions))
        left = [json.loads(l) for l in inst.ctl('queue', 'list', '--json').stdout.splitlines()]
        self.assertEqual([o['recipients'] for o in left], [['two@b.test']])
        self.assertTrue(left[0]['deferred'])
        self.assertIn('flush: domain=a.test recipients=1', inst.log())
        inst.ctl('queue', 'flush', 'b.test')
        wait_until(lambda: any(sess.messages for sess in srv_b.sessions), 15, 0.1, 'b.test flushed')
        inst.wait_queue_empty()


if __name__ == '__main__':
    unittest.main()
