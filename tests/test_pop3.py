"""pochta-pop3d: the POP3 protocol against a real instance (pochtactl start).

Messages are written straight into ROOT/mail/USER/new/ so that their exact
bytes (and octet counts) are known; tests/test_pop3_e2e.py covers SMTP -> RETR.
One instance serves the whole class; each test uses its own fresh user."""
import base64
import itertools
import os
import shutil
import poplib
import time
import unittest

from pochta import (Instance, Raw, copy_build, pids_of_root, remove_service_accounts, service_accounts,
                    wait_until)

_seq = itertools.count(1)


def wire(data):
    """what the client should get for a file (after removing byte-stuffing):
    LF -> CRLF unless already CRLF, a final CRLF added when missing"""
    out = bytearray()
    prev = None
    for b in data:
        if b == 0x0a and prev != 0x0d:
            out += b'\r'
        out.append(b)
        prev = b
    if data and data[-1:] != b'\n':
        out += b'\r\n'
    return bytes(out)


class Pop(Raw):
    """a raw POP3 client"""

    def line(self):
        l = self.readline()
        if not l:
            return None
        return l.decode('latin-1').rstrip('\r\n')

    def cmd(self, line):
        self.send(line + '\r\n')
        return self.line()

    def multi(self):
        """the lines of a multi-line body up to '.', raw (still stuffed)"""
        out = []
        while True:
            l = self.readline()
            if not l:
                raise AssertionError('EOF inside a multi-line response')
            if l == b'.\r\n':
                return out
            out.append(l)


class Pop3Base(unittest.TestCase):
    conf = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(conf=cls.conf)
        try:
            cls.inst.start()
            cls.inst.wait_listening(cls.inst.pop3_port)
        except BaseException:
            cls.inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def user(self):
        name = 'u%d' % next(_seq)
        pw = 'pw-%s secret' % name
        self.inst.ctl('user', 'add', name, input=pw + '\n')
        md = self.inst.maildir(name)
        for sub in ('tmp', 'new', 'cur'):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        return name, pw

    def put(self, user, data, t=None, name=None):
        """deliver data as a Maildir writer would: tmp/ then rename into new/"""
        t = t if t is not None else 1700000000 + next(_seq)
        name = name or '%d.M%dP%dQ%d.testhost' % (t, next(_seq), os.getpid(), next(_seq))
        md = self.inst.maildir(user)
        tmp = self.inst.write(os.path.join(md, 'tmp', name), data)
        os.rename(tmp, os.path.join(md, 'new', name))
        return name

    def files(self, user):
        return [os.path.basename(p) for p in self.inst.mail_files(user)]

    def raw(self):
        p = Pop(self.inst.pop3_port)
        g = p.line()
        self.assertTrue(g.startswith('+OK'), g)
        return p

    def login(self, user, pw):
        p = self.raw()
        self.assertTrue(p.cmd('USER ' + user).startswith('+OK'))
        r = p.cmd('PASS ' + pw)
        self.assertTrue(r.startswith('+OK'), r)
        return p

    def pop(self, user, pw):
        c = self.inst.pop3()
        c.user(user)
        c.pass_(pw)
        return c

    def wait_unlocked(self, user, pw):
        """the previous session's process may still be finishing"""
        def ok():
            c = self.inst.pop3()
            c.user(user)
            try:
                c.pass_(pw)
            except poplib.error_proto as e:
                c.sock.close()
                if b'IN-USE' in e.args[0]:
                    return None
                raise
            return c
        return wait_until(ok, 10, 0.05, 'maildrop unlocked')


class TestPop3Protocol(Pop3Base):
    def test_greeting_and_capa(self):
        p = self.raw()
        self.assertEqual(p.cmd('CAPA'), '+OK capability list follows')
        caps = [l.decode().rstrip('\r\n') for l in p.multi()]
        for c in ('USER', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE',
                  'SASL PLAIN'):
            self.assertIn(c, caps)
        self.assertTrue(any(c.startswith('IMPLEMENTATION ') for c in caps), caps)
        p.close()
        # no APOP: the greeting carries no <timestamp>
        p = Pop(self.inst.pop3_port)
        g = p.line()
        self.assertTrue(g.startswith('+OK'))
        self.assertNotIn('<', g)
        self.assertTrue(p.cmd('APOP x 0123456789abcdef0123456789abcdef').startswith('-ERR'))
        p.close()

    def test_commands_before_login(self):
        p = self.raw()
        for c in ('STAT', 'LIST', 'RETR 1', 'DELE 1', 'UIDL', 'TOP 1 0', 'RSET', 'NOOP'):
            self.assertTrue(p.cmd(c).startswith('-ERR'), c)
        self.assertTrue(p.cmd('PASS nouser').startswith('-ERR'))
        self.assertEqual(p.cmd('QUIT')[:3], '+OK')
        self.assertTrue(p.closed())

    def test_exact_sizes_and_retr(self):
        u, pw = self.user()
        msgs = [
            b'Subject: plain\n\nhello\nworld\n',
            b'Subject: dots\n\n.\n.leading dot\n..two dots\nend\n',
            b'Subject: no final newline\n\nlast line without LF',
            b'Subject: crlf\r\n\r\nalready CRLF\r\nmixed\nbare\rcr\n',
            b'',
            b'Subject: big\n\n' + b''.join(b'line %d %s\n' % (i, b'x' * (i % 97)) for i in range(5000)),
        ]
        for m in msgs:
            self.put(u, m)
        c = self.pop(u, pw)
        count, total = c.stat()
        self.assertEqual(count, len(msgs))
        self.assertEqual(total, sum(len(wire(m)) for m in msgs))
        resp, listing, _ = c.list()
        sizes = [int(l.split()[1]) for l in listing]
        self.assertEqual([int(l.split()[0]) for l in listing], list(range(1, len(msgs) + 1)))
        for i, m in enumerate(msgs, 1):
            resp, lines, octets = c.retr(i)
            got = b''.join(l + b'\r\n' for l in lines)
            self.assertEqual(sizes[i - 1], len(got), 'message %d' % i)
            self.assertEqual(got, wire(m), 'message %d' % i)
            self.assertEqual(int(resp.split()[1]), sizes[i - 1])
            self.assertEqual(int(c.list(i).split()[2]), sizes[i - 1])
        c.quit()

    def test_byte_stuffing_on_the_wire(self):
        u, pw = self.user()
        self.put(u, b'Subject: s\n\n.\n.x\n..y\nz.\n')
        p = self.login(u, pw)
        self.assertEqual(p.cmd('RETR 1'), '+OK %d octets' % len(wire(b'Subject: s\n\n.\n.x\n..y\nz.\n')))
        self.assertEqual(p.multi(), [b'Subject: s\r\n', b'\r\n', b'..\r\n', b'..x\r\n', b'...y\r\n',
                                     b'z.\r\n'])
        self.assertEqual(p.cmd('QUIT')[:3], '+OK')

    def test_top(self):
        u, pw = self.user()
        self.put(u, b'From: a@b\nSubject: t\n\nb1\n.b2\nb3\n')
        self.put(u, b'Subject: headers only\nX: y')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('TOP 1 0').startswith('+OK'))
        self.assertEqual(p.multi(), [b'From: a@b\r\n', b'Subject: t\r\n', b'\r\n'])
        self.assertTrue(p.cmd('top 1 2').startswith('+OK'))
        self.assertEqual(p.multi(), [b'From: a@b\r\n', b'Subject: t\r\n', b'\r\n', b'b1\r\n',
                                     b'..b2\r\n'])
        self.assertTrue(p.cmd('TOP 1 100').startswith('+OK'))
        self.assertEqual(len(p.multi()), 6)
        self.assertTrue(p.cmd('TOP 2 0').startswith('+OK'))
        self.assertEqual(p.multi(), [b'Subject: headers only\r\n', b'X: y\r\n'])
        for bad in ('TOP 1', 'TOP 1 -1', 'TOP 1 x', 'TOP 0 1', 'TOP 3 0', 'TOP', 'TOP 1 1 1'):
            self.assertTrue(p.cmd(bad).startswith('-ERR'), bad)
        self.assertEqual(p.cmd('DELE 1'), '+OK message 1 deleted')
        self.assertTrue(p.cmd('TOP 1 0').startswith('-ERR'))
        self.assertEqual(p.cmd('NOOP'), '+OK')
        p.cmd('RSET')
        p.cmd('QUIT')

    def test_uidl_stable_across_sessions_and_move(self):
        u, pw = self.user()
        n1 = self.put(u, b'Subject: 1\n\none\n', t=1700000001)
        n2 = self.put(u, b'Subject: 2\n\ntwo\n', t=1700000002)
        # a unique name too long for a UIDL, and one with bytes outside 0x21..0x7E
        n3 = self.put(u, b'Subject: 3\n\n', name='1700000003.M1P1Q1.' + 'h' * 80)
        n4 = self.put(u, b'Subject: 4\n\n', name='1700000004.M1P1Q1.h\u00e9st x')
        c = self.pop(u, pw)
        _, l1, _ = c.uidl()
        uids1 = [x.split()[1] for x in l1]
        self.assertEqual(uids1[0], n1.encode())
        self.assertEqual(uids1[1], n2.encode())
        for x in uids1:
            self.assertTrue(1 <= len(x) <= 70, x)
            self.assertTrue(all(0x21 <= b <= 0x7e for b in x), x)
        self.assertEqual(len(set(uids1)), 4)
        self.assertEqual(c.uidl(2).split()[1:], [b'2', n2.encode()])
        c.quit()
        # new/ -> cur/ with ":2," and nothing left in new/
        self.assertEqual(os.listdir(os.path.join(self.inst.maildir(u), 'new')), [])
        cur = sorted(os.listdir(os.path.join(self.inst.maildir(u), 'cur')))
        self.assertIn(n1 + ':2,', cur)
        self.assertIn(n2 + ':2,', cur)
        n5 = self.put(u, b'Subject: 5\n\nfive\n', t=1700000005)
        c = self.wait_unlocked(u, pw)
        _, l2, _ = c.uidl()
        uids2 = [x.split()[1] for x in l2]
        self.assertEqual(uids2[:4], uids1)
        self.assertEqual(uids2[4], n5.encode())
        # still the same after a DELE moves the numbering? UIDs of the rest stay
        c.dele(1)
        _, l3, _ = c.uidl()
        self.assertEqual([x.split()[1] for x in l3], uids2[1:])
        c.rset()
        c.quit()
        del n3, n4

    def test_same_unique_name_in_new_and_cur(self):
        u, pw = self.user()
        md = self.inst.maildir(u)
        name = '1700000020.M1P1Q1.h'
        # cur/ already holds the name new/NAME would move to
        self.inst.write(os.path.join(md, 'cur', name + ':2,'), b'Subject: old\n\n')
        self.put(u, b'Subject: new\n\n', name=name)
        c = self.pop(u, pw)
        self.assertEqual(c.stat()[0], 2)
        uids = [x.split()[1] for x in c.uidl()[1]]
        self.assertEqual(len(set(uids)), 2, uids)
        self.assertIn(name.encode(), uids)
        c.quit()
        # the move never replaced the file already in cur/
        self.assertEqual(sorted(self.files(u)), sorted([name, name + ':2,']))
        c = self.wait_unlocked(u, pw)
        self.assertEqual([x.split()[1] for x in c.uidl()[1]], uids)
        c.quit()

    def test_order_is_delivery_time(self):
        u, pw = self.user()
        # microseconds are not zero-padded: M99 is older than M100
        self.put(u, b'Subject: c\n\n', name='1700000010.M100P1Q1.h')
        self.put(u, b'Subject: a\n\n', name='1700000009.M5P1Q1.h')
        self.put(u, b'Subject: b\n\n', name='1700000010.M99P1Q1.h')
        c = self.pop(u, pw)
        subjects = [c.top(i, 0)[1][0] for i in (1, 2, 3)]
        self.assertEqual(subjects, [b'Subject: a', b'Subject: b', b'Subject: c'])
        c.quit()

    def test_vanished_message_is_sys_temp(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.login(u, pw)
        self.addCleanup(p.close)
        cur = os.path.join(self.inst.maildir(u), 'cur')
        for n in os.listdir(cur):  # another reader removed it under us
            os.unlink(os.path.join(cur, n))
        self.assertTrue(p.cmd('RETR 1').startswith('-ERR [SYS/TEMP]'))
        self.assertTrue(p.cmd('TOP 1 0').startswith('-ERR [SYS/TEMP]'))
        self.assertEqual(p.cmd('NOOP'), '+OK')

    def test_unopenable_maildrop_is_sys_temp(self):
        u, pw = self.user()
        md = self.inst.maildir(u)
        shutil.rmtree(md)
        self.inst.write(md, 'x')  # not a directory: cannot be opened or made
        p = self.raw()
        self.addCleanup(p.close)
        self.assertTrue(p.cmd('USER ' + u).startswith('+OK'))
        self.assertTrue(p.cmd('PASS ' + pw).startswith('-ERR [SYS/TEMP]'))

    def test_stale_tmp_files_removed_at_login(self):
        """what a crashed delivery left in tmp/ goes after 36 hours (Maildir spec)"""
        u, pw = self.user()
        tmp = os.path.join(self.inst.maildir(u), 'tmp')
        old, young = os.path.join(tmp, 'old.crashed'), os.path.join(tmp, 'young.writing')
        for p in (old, young):
            self.inst.write(p, b'partial')
        t = time.time() - 37 * 3600
        os.utime(old, (t, t))
        t = time.time() - 35 * 3600
        os.utime(young, (t, t))
        self.put(u, b'Subject: 1\n\n1\n')
        c = self.pop(u, pw)
        self.assertEqual(c.stat()[0], 1)
        c.quit()
        self.assertEqual(sorted(os.listdir(tmp)), ['young.writing'])

    def test_dele_quit_removes(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        keep = self.put(u, b'Subject: 2\n\n2\n')
        self.put(u, b'Subject: 3\n\n3\n')
        c = self.pop(u, pw)
        self.assertTrue(c.retr(1)[0].startswith(b'+OK'))
        self.assertTrue(c.dele(1).startswith(b'+OK'))
        self.assertTrue(c.dele(3).startswith(b'+OK'))
        self.assertEqual(c.stat(), (1, len(wire(b'Subject: 2\n\n2\n'))))
        # deleted messages are not listed
        self.assertEqual([l.split()[0] for l in c.list()[1]], [b'2'])
        self.assertEqual([l.split()[0] for l in c.uidl()[1]], [b'2'])
        self.assertTrue(c.quit().startswith(b'+OK'))
        self.assertEqual(self.files(u), [keep + ':2,'])
        # with the client, as the login and disconnect lines
        wait_until(lambda: 'logout user=%s client=127.0.0.1 retr=1 dele=2' % u in self.inst.log(),
                   5, 0.05, 'logout line')
        self.assertIn('login user=%s client=127.0.0.1' % u, self.inst.log())

    def test_dele_then_drop_keeps_everything(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        self.put(u, b'Subject: 2\n\n2\n')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        self.assertTrue(p.cmd('DELE 2').startswith('+OK'))
        self.assertTrue(p.cmd('STAT').startswith('+OK 0 0'))
        p.close()  # no QUIT
        c = self.wait_unlocked(u, pw)
        self.assertEqual(c.stat()[0], 2)
        c.quit()
        self.assertEqual(len(self.files(u)), 2)

    def test_rset(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        self.put(u, b'Subject: 2\n\n2\n')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        self.assertTrue(p.cmd('RETR 1').startswith('-ERR'))
        self.assertTrue(p.cmd('RSET').startswith('+OK maildrop has 2 messages'))
        self.assertTrue(p.cmd('RETR 1').startswith('+OK'))
        p.multi()
        self.assertTrue(p.cmd('RSET 1').startswith('-ERR'))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        self.assertTrue(p.closed())
        self.assertEqual(len(self.files(u)), 2)

    def test_bad_arguments_keep_the_session(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        self.put(u, b'Subject: 2\n\n2\n')
        p = self.login(u, pw)
        bad = ['RETR 0', 'RETR -1', 'RETR +1', 'RETR x', 'RETR 1x', 'RETR 3', 'RETR',
               'RETR 1 2', 'RETR 99999999999999999999999', 'DELE 0', 'DELE 3', 'DELE x',
               'DELE', 'LIST 0', 'LIST 3', 'LIST x', 'LIST 1 2', 'UIDL 0', 'UIDL 3',
               'UIDL -2', 'TOP 3 1', 'STAT 1', 'NOOP x', 'QUIT now', 'XYZZY', 'USER x',
               'PASS x', 'AUTH PLAIN', 'STLS', '', 'RETR\t1']
        for b in bad:
            r = p.cmd(b)
            self.assertTrue(r.startswith('-ERR'), '%r -> %r' % (b, r))
        self.assertTrue(p.cmd('DELE 2').startswith('+OK'))
        for b in ('DELE 2', 'RETR 2', 'LIST 2', 'UIDL 2', 'TOP 2 0'):
            self.assertTrue(p.cmd(b).startswith('-ERR'), b)
        # an over-long line (RFC 2449: 255 octets with CRLF) is refused
        self.assertTrue(p.cmd('LIST ' + '1' * 300).startswith('-ERR'))
        self.assertTrue(p.cmd('X' * 5000).startswith('-ERR'))
        self.assertTrue(p.cmd('NOOP' + ' ' * 250).startswith('-ERR'))    # 256 with CRLF
        self.assertEqual(p.cmd('NOOP' + ' ' * 249), '+OK')               # exactly 255
        self.assertEqual(p.cmd('stat'), '+OK 1 %d' % len(wire(b'Subject: 1\n\n1\n')))
        self.assertEqual(p.cmd('NoOp'), '+OK')
        self.assertTrue(p.cmd('list 1').startswith('+OK 1 '))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        self.assertEqual(len(self.files(u)), 1)

    def test_pipelining(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.raw()
        p.send('USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nRETR 1\r\nNOOP\r\nQUIT\r\n' % (u, pw))
        self.assertTrue(p.line().startswith('+OK'))
        self.assertTrue(p.line().startswith('+OK maildrop has 1 message'))
        self.assertTrue(p.line().startswith('+OK 1 '))
        self.assertTrue(p.line().startswith('+OK'))
        self.assertEqual(len(p.multi()), 1)
        self.assertTrue(p.line().startswith('+OK'))
        self.assertEqual(p.multi(), [b'Subject: 1\r\n', b'\r\n', b'1\r\n'])
        self.assertEqual(p.line(), '+OK')
        self.assertTrue(p.line().startswith('+OK'))
        self.assertTrue(p.closed())

    def test_states(self):
        u, pw = self.user()
        p = self.login(u, pw)
        for c in ('USER ' + u, 'PASS ' + pw, 'AUTH PLAIN', 'APOP a b'):
            self.assertTrue(p.cmd(c).startswith('-ERR'), c)
        self.assertEqual(p.cmd('CAPA'), '+OK capability list follows')
        caps = [l.decode().rstrip('\r\n') for l in p.multi()]
        self.assertIn('UIDL', caps)
        self.assertNotIn('USER', caps)
        self.assertEqual(p.cmd('STAT'), '+OK 0 0')
        self.assertEqual(p.cmd('LIST'), '+OK 0 messages (0 octets)')
        self.assertEqual(p.multi(), [])
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))

    def test_user_name_case(self):
        u, pw = self.user()
        c = self.inst.pop3()
        c.user(u.upper())
        self.assertTrue(c.pass_(pw).startswith(b'+OK'))
        c.quit()

    def test_lock_in_use(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        first = self.login(u, pw)
        second = self.raw()
        second.cmd('USER ' + u)
        r = second.cmd('PASS ' + pw)
        self.assertEqual(r, '-ERR [IN-USE] maildrop already locked')
        self.assertTrue(second.closed())
        # AUTH PLAIN gets the same
        third = self.raw()
        tok = base64.b64encode(b'\0' + u.encode() + b'\0' + pw.encode()).decode()
        self.assertTrue(third.cmd('AUTH PLAIN ' + tok).startswith('-ERR [IN-USE]'))
        # the first session was not disturbed; after it the maildrop is free
        self.assertTrue(first.cmd('STAT').startswith('+OK 1 '))
        self.assertTrue(first.cmd('QUIT').startswith('+OK'))
        c = self.wait_unlocked(u, pw)
        self.assertEqual(c.stat()[0], 1)
        c.quit()

    def test_delivery_during_session_waits_for_next(self):
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        p = self.login(u, pw)
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        late = self.put(u, b'Subject: late\n\nlate\n', t=int(time.time()))
        self.assertEqual(p.cmd('STAT'), '+OK 0 0')
        self.assertTrue(p.cmd('LIST 2').startswith('-ERR'))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        self.assertEqual(self.files(u), [late])
        c = self.wait_unlocked(u, pw)
        self.assertEqual(c.stat()[0], 1)
        self.assertEqual(c.retr(1)[1], [b'Subject: late', b'', b'late'])
        c.quit()


@unittest.skipUnless(os.geteuid() == 0, 'needs root')
class TestPop3RootNoAccount(Pop3Base):
    """a root instance with no account (each program as its service account):
    pop3d takes on each Maildir's owner"""

    @classmethod
    def setUpClass(cls):
        keys = service_accounts('pttc%dp' % (os.getpid() % 10000))
        cls.addClassCleanup(remove_service_accounts, keys)
        libexec = copy_build()  # setup makes its pochta-enqueue setgid
        cls.addClassCleanup(shutil.rmtree, libexec, True)
        cls.inst = Instance(conf=keys, no_account=True, libexec=libexec)
        try:
            os.chmod(cls.inst.root, 0o755)  # the service accounts reach their files
            cls.inst.ctl('setup')
            cls.inst.start()
            cls.inst.wait_listening(cls.inst.pop3_port)
        except BaseException:
            cls.inst.cleanup()
            raise

    def test_root_serves_as_the_maildir_owner(self):
        """started as root, pop3d becomes the Maildir's owner before opening it"""
        u, pw = self.user()
        self.put(u, b'Subject: 1\n\n1\n')
        uid = gid = 65534
        md = self.inst.maildir(u)
        for d, subs, files in os.walk(md):
            os.chown(d, uid, gid)
            for f in files:
                os.chown(os.path.join(d, f), uid, gid)
        os.chmod(self.inst.root, 0o711)
        os.chmod(os.path.join(self.inst.root, 'mail'), 0o711)
        p = self.login(u, pw)
        def pop3d_pids():
            out = []
            for pid in pids_of_root(self.inst.root):
                try:
                    with open('/proc/%d/cmdline' % pid, 'rb') as f:
                        if f.read().startswith(b'pochta-pop3d'):
                            out.append(pid)
                except OSError:
                    pass
            return out
        # sessions of earlier tests may still be exiting
        pids = wait_until(lambda: len(pop3d_pids()) == 1 and pop3d_pids(), 10, 0.05, 'one pop3d')
        with open('/proc/%d/status' % pids[0]) as f:
            st = dict(l.split(':', 1) for l in f.read().splitlines() if ':' in l)
        self.assertEqual(st['Uid'].split(), [str(uid)] * 4)
        self.assertEqual(st['Gid'].split(), [str(gid)] * 4)
        self.assertEqual(st['Groups'].split(), [str(gid)])
        self.assertTrue(p.cmd('RETR 1').startswith('+OK'))
        p.multi()
        self.assertTrue(p.cmd('DELE 1').startswith('+OK'))
        self.assertTrue(p.cmd('QUIT').startswith('+OK'))
        self.assertEqual(self.files(u), [])
        self.assertEqual(os.stat(os.path.join(md, 'pop3.lock')).st_uid, uid)


if __name__ == '__main__':
    unittest.main()
