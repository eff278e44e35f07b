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
        size = sum(os.path.getsize(os.path.join(self.q, d, i)) for d, i in (('mess', QID1), ('incoming', QID2)))
        self.assertEqual(s['bytes'], size)
        human = self.ctl('queue', 'stats').stdout.decode()
        self.assertIn('deferred: 1', human)

    def test_show(self):
        out = self.ctl('queue', 'show', QID1).stdout.decode()
        self.assertIn('id: %s' % QID1, out)
        self.assertIn('sender: <a@client.test>', out)
        self.assertIn('client: 192.0.2.7', out)
        self.assertIn('recipient: x@remote.test (deferred', out)
        self.assertIn('Subject: hello there', out)
        self.assertNotIn('body line', out)  # headers only
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


if __name__ == '__main__':
    unittest.main()
