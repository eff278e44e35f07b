"""A scriptable fake SMTP server for client tests (pochta-remote).

    srv = FakeSMTP(ehlo=['PIPELINING', 'SIZE 1000'], rcpt=lambda a: '550 5.1.1 no' if 'x' in a else None)
    srv.start(); ... srv.stop()
    srv.sessions[0].commands   # every command line received, in order
    srv.sessions[0].messages   # the DATA bodies received (bytes, as on the wire, without the final dot)

Each reply hook returns a reply string (without CRLF; '\\n' separates the lines of
a multi-line reply) or None for the default. greeting=None: accept and say nothing
(a server that never answers). Every socket has a timeout; stop() closes all.

Servers out of step with their client (RFC 2920 3.1 desyncs):
    extra={'MAIL': '250 2.1.0 extra'}  a further, unsolicited reply sent in the same write
                                       as the reply to that verb ('GREETING' for the greeting)
    mute=('RCPT',)                     verbs that get no reply at all
    reverse_group=True                 the replies to a pipelined group sent in reverse order
    data_wait=0.5                      wait before answering DATA; session.before_354 then holds
                                       what the client sent after DATA before it had a reply
    close_after=1                      close the connection, without a word, after accepting
                                       that many messages in it (a server dropping an idle client)

BDAT (RFC 3030) is served whenever the client sends it (offer CHUNKING in ehlo):
each chunk is read by its exact size; the chunks of a message, joined, go to
session.messages as they came (no unstuffing), and session.bdat_sizes holds
each chunk's size."""
import socket
import threading
import time


class Session:
    def __init__(self):
        self.commands = []
        self.messages = []
        # for each command: how many further complete lines were already buffered
        # when it was read (pipelining shows as > 0 after MAIL)
        self.buffered_after = []
        self.before_354 = None
        self.closed_by_client = False
        self.bdat_sizes = []


def _fmt(reply):
    lines = reply.split('\n')
    out = []
    for i, l in enumerate(lines):
        code, text = l[:3], l[4:] if len(l) > 3 else ''
        sep = '-' if i < len(lines) - 1 else ' '
        out.append('%s%s%s\r\n' % (code, sep, text))
    return ''.join(out).encode()


class FakeSMTP:
    def __init__(self, greeting='220 fake.test ESMTP', ehlo=('PIPELINING', 'SIZE 10000000', '8BITMIME'),
                 ehlo_reply=None, helo_reply=None, mail=None, rcpt=None, data=None, final=None,
                 silent_after=None, host='127.0.0.1', port=0, timeout=10, extra=None, mute=(),
                 reverse_group=False, data_wait=0, close_after=None):
        self.greeting = greeting
        self.ehlo = list(ehlo) if ehlo is not None else None
        self.ehlo_reply = ehlo_reply
        self.helo_reply = helo_reply
        self.mail = mail
        self.rcpt = rcpt
        self.data = data
        self.final = final
        self.silent_after = silent_after  # a verb after which the server stops answering
        self.extra = dict(extra or {})
        self.mute = tuple(v.upper() for v in mute)
        self.reverse_group = reverse_group
        self.data_wait = data_wait
        self.close_after = close_after
        self.host = host
        self.timeout = timeout
        self.sessions = []
        self.sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stopping = False
        self.conns = []
        self.threads = []
        self.lock = threading.Lock()

    def start(self):
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping = True
        for c in list(self.conns):
            try:
                c.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(5)
        self.sock.close()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(self.timeout)
            self.conns.append(c)
            s = Session()
            with self.lock:
                self.sessions.append(s)
            t = threading.Thread(target=self._serve, args=(c, s), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, c, s):
        buf = b''

        def readn(n):
            nonlocal buf
            while len(buf) < n:
                d = c.recv(65536)
                if not d:
                    return None
                buf += d
            out, buf = buf[:n], buf[n:]
            return out

        chunks = []

        def readline():
            nonlocal buf
            while b'\n' not in buf:
                d = c.recv(65536)
                if not d:
                    return None
                buf += d
            i = buf.index(b'\n') + 1
            line, buf = buf[:i], buf[i:]
            return line

        verb = 'GREETING'
        held = []   # reverse_group: the replies of the group so far

        def send(reply):
            if verb in self.mute:
                return
            if self.reverse_group and b'\n' in buf:
                held.append(reply)
                return
            out = [reply] + held[::-1]
            del held[:]
            if verb in self.extra:
                out.append(self.extra[verb])
            c.sendall(b''.join(_fmt(r) for r in out))

        try:
            if self.greeting is None:
                while not self.stopping and c.recv(4096):
                    pass
                return
            send(self.greeting)
            if not self.greeting.startswith('2'):
                # stay for the client's QUIT, then close
                l = readline()
                if l is not None:
                    s.commands.append(l.decode('latin-1').rstrip('\r\n'))
                    send('221 bye')
                return
            while True:
                l = readline()
                if l is None:
                    s.closed_by_client = True
                    return
                cmd = l.decode('latin-1').rstrip('\r\n')
                s.commands.append(cmd)
                s.buffered_after.append(buf.count(b'\n'))
                verb = cmd.split(' ', 1)[0].upper()
                if self.silent_after and verb == self.silent_after:
                    while not self.stopping and c.recv(4096):
                        pass
                    return
                if verb == 'EHLO':
                    r = self.ehlo_reply
                    if r is None:
                        if self.ehlo is None:
                            r = '500 5.5.1 EHLO not understood'
                        else:
                            r = '\n'.join(['250 fake.test'] + ['250 ' + e for e in self.ehlo])
                    send(r)
                elif verb == 'HELO':
                    send(self.helo_reply or '250 fake.test')
                elif verb == 'MAIL':
                    send((self.mail(cmd) if self.mail else None) or '250 2.1.0 ok')
                elif verb == 'RCPT':
                    addr = cmd[cmd.index('<') + 1:cmd.rindex('>')] if '<' in cmd else ''
                    r = (self.rcpt(addr) if self.rcpt else None) or '250 2.1.5 ok'
                    send(r)
                    if r.startswith('421'):
                        return
                    s.last_rcpt_ok = getattr(s, 'last_rcpt_ok', 0) + (1 if r.startswith('2') else 0)
                elif verb == 'DATA':
                    if not getattr(s, 'last_rcpt_ok', 0):
                        send('554 5.5.1 no valid recipients')
                        continue
                    r = self.data or '354 go ahead'
                    if self.data_wait:
                        time.sleep(self.data_wait)
                        c.setblocking(False)
                        try:
                            early = c.recv(65536, socket.MSG_PEEK)
                        except BlockingIOError:
                            early = b''
                        finally:
                            c.settimeout(self.timeout)
                        s.before_354 = buf + early
                    send(r)
                    if not r.startswith('354'):
                        continue
                    body = b''
                    while True:
                        dl = readline()
                        if dl is None:
                            s.closed_by_client = True
                            return
                        if dl == b'.\r\n':
                            break
                        body += dl
                    s.messages.append(body)
                    s.last_rcpt_ok = 0
                    fr = (self.final(body) if callable(self.final) else self.final) or '250 2.0.0 queued as FAKE'
                    send(fr)
                    if fr.startswith('421'):
                        return
                    if self.close_after and len(s.messages) >= self.close_after:
                        return
                elif verb == 'BDAT':
                    parts = cmd.split(' ')
                    n = int(parts[1])
                    last = len(parts) > 2 and parts[2].upper() == 'LAST'
                    data = readn(n)
                    if data is None:
                        s.closed_by_client = True
                        return
                    s.bdat_sizes.append(n)
                    chunks.append(data)
                    if not last:
                        send('250 2.0.0 %d octets' % n)
                        continue
                    body = b''.join(chunks)
                    del chunks[:]
                    if not getattr(s, 'last_rcpt_ok', 0):
                        send('554 5.5.1 no valid recipients')
                        continue
                    s.messages.append(body)
                    s.last_rcpt_ok = 0
                    fr = (self.final(body) if callable(self.final) else self.final) or '250 2.0.0 queued as FAKE'
                    send(fr)
                elif verb == 'RSET':
                    s.last_rcpt_ok = 0
                    del chunks[:]
                    send('250 ok')
                elif verb == 'QUIT':
                    send('221 2.0.0 bye')
                    return
                else:
                    send('502 5.5.2 not implemented')
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass


class RemoteResult:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.stdout = out
        self.log = err.decode('utf-8', 'replace')
        self.results = {}   # index -> (class, status, text)
        pos = 0
        while pos < len(out):
            if out[pos:pos + 1] != b'r':
                raise AssertionError('bad record at %d in %r' % (pos, out))
            colon = out.index(b':', pos)
            n = int(out[pos + 1:colon])
            data = out[colon + 1:colon + 1 + n].decode('utf-8', 'replace')
            if out[colon + 1 + n:colon + 2 + n] != b'\n':
                raise AssertionError('record not ended by LF in %r' % out)
            pos = colon + 2 + n
            idx, cls, status, text = (data.split(' ', 3) + [''])[:4]
            self.results[int(idx)] = (cls, status, text)

    def cls(self, i):
        return self.results[i][0]

    def status(self, i):
        return self.results[i][1]

    def text(self, i):
        return self.results[i][2]


def run_remote(prog, root, domain, rcpts, msg=b'Subject: test\n\nhello\n', sender='alice@a.test',
               body=None, qid='0TESTQID', timeout=30, stdin=None, run_as=None):
    """run pochta-remote once; stdin (an open file) replaces msg when given;
    run_as: subprocess arguments naming its user (Instance.as_owner())"""
    import subprocess
    import os
    args = [prog, '-r', root, '-q', qid, '-f', sender]
    if body is not None:
        args += ['-b', body]
    args += ['--', domain] + list(rcpts)
    env = dict(os.environ)
    env['POCHTA_LOG'] = 'stderr'
    env.pop('POCHTA_ROOT', None)
    if stdin is not None:
        p = subprocess.run(args, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env, **(run_as or {}))
    else:
        p = subprocess.run(args, input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=env, **(run_as or {}))
    return RemoteResult(p.returncode, p.stdout, p.stderr)


def fake_server(test, **kw):
    """a started FakeSMTP(**kw), stopped at test's cleanup"""
    srv = FakeSMTP(**kw).start()
    test.addCleanup(srv.stop)
    return srv


def held_first(timeout=20):
    """(release, first, final): final, as FakeSMTP's final= hook, holds the
    reply to the first message until release is set (at most timeout
    seconds); first is non-empty once that message arrived"""
    release = threading.Event()
    first = []

    def final(body):
        if not first:
            first.append(1)
            release.wait(timeout)
        return None
    return release, first, final
