"""Black-box test support: real pochta instances on free loopback ports.

    from pochta import Instance, InstanceTest, Raw
    class T(InstanceTest):
        def test_x(self):
            inst = self.instance(users={'alice': 'secret'}, conf={'max_recipients': '2'})
            with inst.smtp() as s: ...
            msgs = inst.wait_mail('alice', 1)

Every wait is bounded; every process an instance started is killed at cleanup,
by PID (the supervisor, then anything whose environment names this instance's
POCHTA_ROOT).

Run as root (as in CI), every instance is made with `init --user pochtatest`:
the supervisor binds its listeners as root, then it and everything it runs
are that one unprivileged account, as when an ordinary user runs the suite.
The account is created when missing (tests/run.py creates it before the
black-box tests and removes it after, when it made it; a test file run on its
own creates it and leaves it). So:
- a test that writes into an instance's tree a file the instance's programs
  read or write (etc/ tables, a Maildir, a planted queue file) gives it to
  the account: inst.write(), inst.give(); a program the test runs itself on
  the tree runs as the account: subprocess.run(..., **inst.as_owner());
- Instance.cleanup() fails the test when anything under mail/ or queue/ is
  owned by root: mail is never written as root;
- Instance(user=NAME) names another account; Instance(no_account=True) makes
  a root instance with no account (instance_user unset), for the tests of
  what pochta-master does then: each program as its own user, so such a test
  names throwaway ones (service_accounts()), makes them with `pochtactl
  setup` and runs on a copy of the build (copy_build(), Instance(libexec=)).
Run by an ordinary user none of this applies: no account, nothing changes."""
import errno
import fcntl
import os
import pwd
import re
import signal
import smtplib
import poplib
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

BUILD = os.path.abspath(os.environ.get('POCHTA_BUILD', 'build'))
CTL = os.path.join(BUILD, 'pochtactl')


TEST_ACCOUNT = 'pochtatest'
_LOCKDIR = '/run' if os.path.isdir('/run') else '/tmp'
# held exclusively while the account is created (test files run in parallel)
CREATE_LOCK = os.path.join(_LOCKDIR, 'pochtatest.create.lock')
# held shared by every process that may use the account, for its life:
# tests/run.py removes the account only when it gets this one exclusively
USERS_LOCK = os.path.join(_LOCKDIR, 'pochtatest.users.lock')
_users_fd = None


def _lock_open(path):
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def ensure_account(name=TEST_ACCOUNT):
    """(root) the test account's pwd entry, created when missing; returns
    (entry, created)"""
    global _users_fd
    if _users_fd is None:
        _users_fd = _lock_open(USERS_LOCK)
        fcntl.flock(_users_fd, fcntl.LOCK_SH)
    try:
        return pwd.getpwnam(name), False
    except KeyError:
        pass
    fd = _lock_open(CREATE_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(name), False
        except KeyError:
            pass
        for _ in range(50):  # useradd fails while another holds /etc/passwd's lock
            p = subprocess.run(['useradd', '--system', '--no-create-home',
                                '--shell', '/usr/sbin/nologin', name],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            if p.returncode in (0, 9):  # 9: exists already
                return pwd.getpwnam(name), p.returncode == 0
            time.sleep(0.2)
        raise AssertionError('useradd %s: %s' % (name, p.stdout.decode(errors='replace')))
    finally:
        os.close(fd)


def remove_account(name=TEST_ACCOUNT):
    """(root) remove the account unless another process holds USERS_LOCK
    (another run of the suite still using it); None when removed, else why not"""
    global _users_fd
    if _users_fd is None:
        return 'not ours'
    try:
        fcntl.flock(_users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return 'another run uses it'
        raise
    try:
        p = subprocess.run(['userdel', name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        return None if p.returncode == 0 else p.stdout.decode(errors='replace').strip()
    finally:
        os.close(_users_fd)
        _users_fd = None


def default_user():
    """the account an instance is given by default: the test account when
    run as root, else none (the instance is the running user's)"""
    if os.geteuid() != 0:
        return None
    ensure_account()
    return TEST_ACCOUNT


def service_accounts(tag):
    """config keys that give each program of a no_account root instance its
    own throwaway account, made by `pochtactl -r ROOT setup`: TAG plus d, q,
    r, v, and the queue group TAG plus g (tag: the test's prefix and its PID,
    so that runs at once do not share names)"""
    return {'smtpd_user': tag + 'd', 'qmgr_user': tag + 'q', 'remote_user': tag + 'r',
            'virtual_user': tag + 'v', 'queue_group': tag + 'g'}


def remove_service_accounts(keys):
    """remove what service_accounts() named (each may be missing)"""
    for k in ('smtpd_user', 'qmgr_user', 'remote_user', 'virtual_user'):
        subprocess.run(['userdel', keys[k]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
    subprocess.run(['groupdel', keys['queue_group']], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def copy_build():
    """a copy of the build's programs in a new directory (0755, for the
    accounts too); the caller removes it. An instance that runs `pochtactl
    setup` runs on such a copy (Instance(libexec=...)): setup makes
    pochta-enqueue setgid to the queue group, and the build must stay as made"""
    d = tempfile.mkdtemp(prefix='pochta-bin-')
    os.chmod(d, 0o755)
    for n in os.listdir(BUILD):
        p = os.path.join(BUILD, n)
        if n.startswith('pochta') and os.path.isfile(p) and os.access(p, os.X_OK):
            shutil.copy(p, d)
    return d


def prog(name):
    return os.path.join(BUILD, name)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout=10.0, interval=0.02, what='condition'):
    end = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > end:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, what))
        time.sleep(interval)


def tmp_files(inst):
    """what pochta-enqueue has in the queue's tmp/ (a partial message)"""
    d = os.path.join(inst.root, 'queue', 'tmp')
    try:
        return [n for n in os.listdir(d) if not n.startswith('.')]
    except FileNotFoundError:
        return []


def pids_of_root(root):
    """PIDs of processes whose environment has POCHTA_ROOT=root"""
    key = ('POCHTA_ROOT=' + root).encode()
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % d, 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        if key in env:
            out.append(int(d))
    return out


def proc_status(pid):
    """/proc/PID/status as {field: [words]}"""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.split()
    return out


def alive(pid):
    """whether pid is a running process (not gone, not a zombie)"""
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


def worker_starts(inst, kind):
    """PIDs of the delivery workers of kind (local, remote) qmgr logged starting"""
    return [int(p) for p in re.findall(r'%s worker pid=(\d+) started' % kind, inst.log())]


def prog_pids(inst, name):
    """PIDs of the instance's processes running program name"""
    out = []
    for pid in pids_of_root(inst.root):
        try:
            with open('/proc/%d/cmdline' % pid, 'rb') as f:
                argv0 = f.read().split(b'\0')[0]
        except OSError:
            continue
        if os.path.basename(argv0) == name.encode():
            out.append(pid)
    return out


def sanitized_build(name='pochta-smtpd'):
    """whether the build under test has AddressSanitizer in it"""
    try:
        with open(prog(name), 'rb') as f:
            return b'__asan_init' in f.read()
    except OSError:
        return False


class Instance:
    def __init__(self, domain='example.test', users=None, conf=None, pop3=True, root=None, user=None,
                 no_account=False, libexec=None):
        """user: the account a root instance runs as (default: TEST_ACCOUNT
        when run as root); no_account: as root, make it with no account at
        all; libexec: where its programs are (POCHTA_LIBEXEC, see copy_build)"""
        self.libexec = libexec
        if no_account and user:
            raise ValueError('an instance with an account and no account')
        if user is None and not no_account:
            user = default_user()
        self.user = user
        # whom the tree belongs to when root made it for an account
        self.owner = pwd.getpwnam(user) if user and os.geteuid() == 0 else None
        self.root = root or tempfile.mkdtemp(prefix='pochta-t-')
        self.domain = domain
        self.smtp_port = free_port()
        self.pop3_port = free_port()
        self.proc = None
        self.logpath = os.path.join(self.root + '.log')
        args = ['init', '--domain', domain, '--smtp', '127.0.0.1:%d' % self.smtp_port]
        if pop3:
            args += ['--pop3', '127.0.0.1:%d' % self.pop3_port]
        if user:
            args += ['--user', user]
        elif no_account:
            args += ['--no-setup']  # the test names the accounts, then runs setup itself
        self.ctl(*args)
        for u, p in (users or {}).items():
            self.ctl('user', 'add', u, input=p + '\n')
        for k, v in (conf or {}).items():
            self.ctl('config', 'set', k, str(v))

    def env(self):
        e = dict(os.environ)
        e['POCHTA_ROOT'] = self.root
        if self.libexec:
            e['POCHTA_LIBEXEC'] = self.libexec
        return e

    def ctl(self, *args, input=None, check=True, timeout=30):
        p = subprocess.run([CTL, '-r', self.root] + list(args), input=(input or '').encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=self.env())
        if check and p.returncode != 0:
            raise AssertionError('pochtactl %s failed (%d): %s' % (
                ' '.join(args), p.returncode, p.stderr.decode(errors='replace')))
        return p

    def as_owner(self):
        """subprocess keyword arguments that run a program as the instance's
        owner (the account, as root; nothing otherwise)"""
        if not self.owner:
            return {}
        return {'user': self.owner.pw_uid, 'group': self.owner.pw_gid, 'extra_groups': []}

    def path(self, rel):
        return rel if os.path.isabs(rel) else os.path.join(self.root, rel)

    def give(self, *paths):
        """give paths (each a file or a whole tree) to the instance's owner,
        as if the owner had written them; nothing to do unless root made the
        instance for an account"""
        if not self.owner:
            return
        uid, gid = self.owner.pw_uid, self.owner.pw_gid
        for p in paths:
            p = self.path(p)
            os.lchown(p, uid, gid)
            if os.path.isdir(p) and not os.path.islink(p):
                for d, dirs, names in os.walk(p):
                    for n in dirs + names:
                        os.lchown(os.path.join(d, n), uid, gid)

    def write(self, rel, data, append=False, mode=None):
        """write (or append to) a file of the instance as its owner would"""
        p = self.path(rel)
        with open(p, ('a' if append else 'w') + ('b' if isinstance(data, bytes) else '')) as f:
            f.write(data)
        if mode is not None:
            os.chmod(p, mode)
        self.give(p)
        return p

    def root_owned(self):
        """paths under mail/ and queue/ owned by root: mail written as root"""
        out = []
        for top in ('mail', 'queue'):
            for d, dirs, names in os.walk(os.path.join(self.root, top)):
                for n in [d] + [os.path.join(d, x) for x in dirs + names]:
                    try:
                        if os.lstat(n).st_uid == 0:
                            out.append(os.path.relpath(n, self.root))
                    except FileNotFoundError:
                        pass
        return out

    def start(self, wait=True):
        self.logf = open(self.logpath, 'ab')
        self.proc = subprocess.Popen([CTL, '-r', self.root, 'start'], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf, env=self.env())
        if wait:
            self.wait_listening(self.smtp_port)
        return self

    def wait_listening(self, port, timeout=15):
        def ok():
            if self.proc and self.proc.poll() is not None:
                raise AssertionError('pochtactl start exited %s:\n%s' % (self.proc.returncode, self.log()))
            try:
                c = socket.create_connection(('127.0.0.1', port), timeout=1)
            except OSError:
                return False
            # a whole session: served, and over once the server closes (so it
            # is no longer counted by the time a test starts, see sessions())
            try:
                c.shutdown(socket.SHUT_WR)
                c.settimeout(10)
                while c.recv(4096):
                    pass
            except OSError:
                pass
            finally:
                c.close()
            return True
        wait_until(ok, timeout, 0.05, 'port %d' % port)

    def log(self):
        try:
            with open(self.logpath, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self, timeout=15):
        """SIGTERM the supervisor; returns its exit status"""
        if not self.proc:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(5)
        self.proc = None
        self.logf.close()
        return rc

    def kill_all(self):
        """SIGKILL every process of this instance (a crash)"""
        if self.proc:
            try:
                self.proc.kill()
            except OSError:
                pass
        for _ in range(50):
            pids = pids_of_root(self.root)
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        if self.proc:
            self.proc.wait(5)
            self.proc = None
            self.logf.close()

    def sessions(self):
        """PIDs of the supervisor's children that are sessions still running:
        not pochta-qmgr, not a helper orphaned to it, not a zombie (which the
        supervisor reaps before it counts connections)"""
        if not self.proc:
            return []
        try:
            with open('/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid)) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            return []
        out = []
        for k in kids:
            try:
                with open('/proc/%d/stat' % k, 'rb') as f:
                    state = f.read().rsplit(b')', 1)[1].split()[0]
                with open('/proc/%d/cmdline' % k, 'rb') as f:
                    argv = f.read().split(b'\0')
                argv0 = os.path.basename(argv[0])
            except (OSError, IndexError):
                continue  # gone meanwhile
            if argv0 == b'pochta-smtpd' and argv[1:2] == [b'-z']:
                continue  # the zygote that forks the sessions, not one
            if state != b'Z' and argv0 not in (b'pochta-qmgr', b'pochta-enqueue'):
                out.append(k)
        return out

    def wait_sessions_ended(self, timeout=10):
        """until every session accepted so far has exited (the probe of
        wait_listening() included: it returns once that session was accepted)"""
        wait_until(lambda: not self.sessions(), timeout, 0.02, 'earlier sessions to end')

    def cleanup(self):
        """stop and remove the instance; as root with an account, fail when
        anything under mail/ or queue/ is root's (written as root)"""
        bad = []
        try:
            self.stop()
        finally:
            self.kill_all()
            if self.owner:
                bad = self.root_owned()
            shutil.rmtree(self.root, ignore_errors=True)
            try:
                os.unlink(self.logpath)
            except OSError:
                pass
        if bad:
            raise AssertionError('owned by root in an instance run as %s: %s'
                                 % (self.user, ', '.join(sorted(bad)[:10])))

    # mail access
    def smtp(self, timeout=10):
        return smtplib.SMTP('127.0.0.1', self.smtp_port, timeout=timeout)

    def pop3(self, timeout=10):
        return poplib.POP3('127.0.0.1', self.pop3_port, timeout=timeout)

    def raw(self, port=None, timeout=10):
        return Raw(port or self.smtp_port, timeout)

    def maildir(self, user):
        return os.path.join(self.root, 'mail', user)

    def mail_files(self, user):
        out = []
        for sub in ('new', 'cur'):
            d = os.path.join(self.maildir(user), sub)
            try:
                out += [os.path.join(d, n) for n in sorted(os.listdir(d)) if not n.startswith('.')]
            except FileNotFoundError:
                pass
        return out

    def mails(self, user):
        res = []
        for p in self.mail_files(user):
            with open(p, 'rb') as f:
                res.append(f.read())
        return res

    def wait_mail(self, user, n, timeout=15):
        wait_until(lambda: len(self.mail_files(user)) >= n, timeout, 0.02,
                   '%d message(s) for %s' % (n, user))
        return self.mails(user)

    def queue_files(self):
        out = []
        for sub in ('incoming', 'mess'):
            d = os.path.join(self.root, 'queue', sub)
            try:
                out += [n for n in os.listdir(d) if not n.startswith('.')]
            except FileNotFoundError:
                pass
        return out

    def wait_queue_empty(self, timeout=15):
        wait_until(lambda: not self.queue_files(), timeout, 0.02, 'empty queue')


class Raw:
    """A raw line-oriented client for protocol tests"""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
        self.buf = b''

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self):
        while b'\n' not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                r, self.buf = self.buf, b''
                return r
            self.buf += d
        i = self.buf.index(b'\n') + 1
        r, self.buf = self.buf[:i], self.buf[i:]
        return r

    def reply(self):
        """one SMTP reply: (code, [lines]) ; (None, []) at EOF"""
        lines = []
        while True:
            l = self.readline()
            if not l:
                return (None, lines)
            l = l.decode('utf-8', 'replace').rstrip('\r\n')
            lines.append(l)
            if len(l) < 4 or l[3] != '-':
                return (int(l[:3]) if l[:3].isdigit() else None, lines)

    def cmd(self, line):
        self.send(line + '\r\n')
        return self.reply()

    def closed(self, timeout=5):
        """True when the server closed the connection (EOF) within timeout"""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


class InstanceTest(unittest.TestCase):
    def instance(self, start=True, **kw):
        inst = Instance(**kw)
        self.addCleanup(inst.cleanup)
        if start:
            inst.start()
        return inst
