"""The supervisor's SMTP zygote (man/pochta-master.8, pochta-smtpd -z): each
connection is a session forked, without exec, by one long-lived
`pochta-smtpd -z`, yet a child of the supervisor with the UCSPI environment;
a session's pochta-enqueue is forked the same way by the zygote's
`pochta-enqueue -z`; a zygote that dies is replaced and no connection or
message is lost meanwhile."""
import os
import re
import signal
import smtplib
import unittest

from pochta import InstanceTest, wait_until


def raw_cmdline(pid):
    with open('/proc/%d/cmdline' % pid, 'rb') as f:
        return f.read()


def cmdline_or_none(pid):
    try:
        return raw_cmdline(pid)
    except OSError:
        return None  # gone meanwhile


def ppid(pid):
    with open('/proc/%d/stat' % pid, 'rb') as f:
        return int(f.read().rsplit(b')', 1)[1].split()[1])


def zygotes(inst):
    return [int(p) for p in re.findall(r'smtp zygote pid=(\d+) started', inst.log())]


class Zygote(InstanceTest):
    def test_sessions_are_forked_by_the_zygote(self):
        inst = self.instance(users={'alice': 'pw'})
        a, b = inst.raw(), inst.raw()
        self.assertEqual(a.reply()[0], 220)
        self.assertEqual(b.reply()[0], 220)
        [z] = zygotes(inst)
        self.assertEqual(raw_cmdline(z), b'pochta-smtpd\0-z\0')
        self.assertEqual(ppid(z), inst.proc.pid)
        # the start-up probe's session may still be exiting (LeakSanitizer
        # runs at exit, after the socket is closed)
        wait_until(lambda: len(inst.sessions()) == 2, 10, 0.05, 'two sessions')
        sessions = inst.sessions()
        self.assertEqual(len(sessions), 2, sessions)
        self.assertNotIn(z, sessions)
        for s in sessions:
            # the supervisor's child, with the zygote's image: its -z blanked
            self.assertEqual(ppid(s), inst.proc.pid)
            self.assertEqual(raw_cmdline(s), b'pochta-smtpd\0\0\0\0')
            self.assertIn('connection smtp from=127.0.0.1 pid=%d' % s, inst.log())
            # TCPREMOTEIP reached the session
            self.assertIn('pochta-smtpd[%d]: connect from 127.0.0.1' % s, inst.log())
        a.close()
        b.close()
        with inst.smtp() as s:
            s.sendmail('s@remote.test', ['alice@example.test'], 'Subject: z\r\n\r\nhi\r\n')
        inst.wait_mail('alice', 1)
        self.assertEqual(zygotes(inst), [z])

    def test_a_dead_zygote_is_replaced(self):
        inst = self.instance(users={'alice': 'pw'})
        r = inst.raw()
        self.assertEqual(r.reply()[0], 220)
        r.close()
        [z] = zygotes(inst)
        os.kill(z, signal.SIGKILL)
        wait_until(lambda: 'smtp zygote pid=%d ended' % z in inst.log(), 10, 0.05, 'zygote reaped')
        # at once: served by a fork and exec of its own
        r = inst.raw()
        self.assertEqual(r.reply()[0], 220)
        r.close()

        def replaced():
            c = inst.raw()
            code = c.reply()[0]
            c.close()
            self.assertEqual(code, 220)
            return len(zygotes(inst)) == 2
        wait_until(replaced, 10, 0.2, 'a new zygote')
        with inst.smtp() as s:
            s.sendmail('s@remote.test', ['alice@example.test'], 'Subject: z\r\n\r\nhi\r\n')
        inst.wait_mail('alice', 1)

    def enqueues(self, inst, session):
        """the pochta-enqueue of a session that has queued a message: pid, cmdline"""
        for line in inst.log().splitlines():
            m = re.search(r'pochta-enqueue\[(\d+)\]: \S+ queued', line)
            if m:
                pid = int(m.group(1))
                try:
                    return pid, raw_cmdline(pid)
                except OSError:
                    pass
        self.fail('no live pochta-enqueue: ' + inst.log())

    def test_the_sessions_enqueue_is_forked_by_the_enqueue_zygote(self):
        inst = self.instance(users={'alice': 'pw'})
        s = smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=10)
        s.sendmail('s@remote.test', ['alice@example.test'], 'Subject: z\r\n\r\nhi\r\n')
        pid, argv = self.enqueues(inst, s)  # kept for the session's next message
        self.assertEqual(argv, b'pochta-enqueue\0\0\0\0')
        ez = ppid(pid)
        self.assertEqual(raw_cmdline(ez), b'pochta-enqueue\0-z\0')
        [z] = zygotes(inst)
        self.assertEqual(ppid(ez), z)
        s.quit()
        inst.wait_mail('alice', 1)
        # the enqueue zygote killed: the next session execs its own, and a new
        # zygote comes at a later connection
        os.kill(ez, signal.SIGKILL)
        wait_until(lambda: cmdline_or_none(ez) != b'pochta-enqueue\0-z\0', 10, 0.05,
                   'enqueue zygote gone')
        sent = [1]

        def replaced():
            with inst.smtp() as c:
                c.sendmail('s@remote.test', ['alice@example.test'], 'Subject: z\r\n\r\nhi\r\n')
            sent[0] += 1
            inst.wait_mail('alice', sent[0])  # every message queued and delivered
            return [p for p in self.children(z) if cmdline_or_none(p) == b'pochta-enqueue\0-z\0']
        wait_until(replaced, 15, 0.2, 'a new enqueue zygote at a later connection')

    def children(self, pid):
        try:
            with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []


if __name__ == '__main__':
    unittest.main()
