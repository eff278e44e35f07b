"""pochtactl init, user and config: the instance layout, the users files and
pochta.conf editing (no running instance needed)."""
import ctypes
import ctypes.util
import os
import shutil
import stat
import subprocess
import tempfile
import unittest

from pochta import CTL, Instance, InstanceTest


def ctl(root, *args, input=None):
    env = dict(os.environ)
    env.pop('POCHTA_ROOT', None)
    if args[:1] == ('init',) and os.geteuid() == 0:
        # init itself, not the separate users root's init then sets up (test_init_root.py)
        args += ('--no-setup',)
    return subprocess.run([CTL, '-r', root] + list(args), input=(input or '').encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, env=env)


def crypt_fn():
    name = ctypes.util.find_library('crypt')
    if not name:
        return None
    lib = ctypes.CDLL(name)
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lambda pw, setting: lib.crypt(pw.encode(), setting.encode())


class TmpDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='pochta-ctl-')
        self.addCleanup(shutil.rmtree, self.tmp, True)


class InitTest(TmpDir):
    def test_init_creates_layout(self):
        root = os.path.join(self.tmp, 'inst')
        p = ctl(root, 'init', '--domain', 'example.test', '--smtp', '127.0.0.1:2999')
        self.assertEqual(p.returncode, 0, p.stderr)
        for d in ('etc', 'queue/tmp', 'queue/incoming', 'queue/mess', 'queue/state', 'queue/hold',
                  'mail', 'mail/postmaster/tmp', 'mail/postmaster/new', 'mail/postmaster/cur', 'log'):
            self.assertTrue(os.path.isdir(os.path.join(root, d)), d)
        self.assertTrue(stat.S_ISFIFO(os.stat(os.path.join(root, 'queue/trigger')).st_mode))
        for f in ('etc/users', 'etc/passwd'):
            self.assertEqual(os.path.getsize(os.path.join(root, f)), 0, f)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(root, 'etc/passwd')).st_mode), 0o600)
        with open(os.path.join(root, 'etc/pochta.conf')) as f:
            text = f.read()
        self.assertIn('local_domains = example.test', text)
        self.assertIn('smtp_listen = 127.0.0.1:2999', text)
        self.assertIn('#', text)  # commented for people
        self.assertEqual(ctl(root, 'config', 'get', 'local_domains').stdout, b'example.test\n')
        self.assertEqual(ctl(root, 'config', 'get', 'smtp_listen').stdout, b'127.0.0.1:2999\n')
        # no --pop3: no POP3 listener
        self.assertEqual(ctl(root, 'config', 'get', 'pop3_listen').stdout, b'\n')
        self.assertEqual(ctl(root, 'config', 'check').returncode, 0)

    def test_init_into_existing_empty_dir(self):
        p = ctl(self.tmp, 'init', '--domain', 'example.test')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp, 'etc/pochta.conf')))
        # default SMTP listener when --smtp is not given
        self.assertEqual(ctl(self.tmp, 'config', 'get', 'smtp_listen').stdout, b'127.0.0.1:25\n')

    def test_init_refuses_non_empty_non_instance(self):
        with open(os.path.join(self.tmp, 'precious'), 'w') as f:
            f.write('data')
        p = ctl(self.tmp, 'init', '--domain', 'example.test')
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith(b'pochtactl: '), p.stderr)
        self.assertEqual(os.listdir(self.tmp), ['precious'])

    def test_init_refuses_reinit(self):
        root = os.path.join(self.tmp, 'i')
        self.assertEqual(ctl(root, 'init', '--domain', 'a.test').returncode, 0)
        p = ctl(root, 'init', '--domain', 'b.test')
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'already', p.stderr)
        self.assertEqual(ctl(root, 'config', 'get', 'local_domains').stdout, b'a.test\n')

    def test_init_validates_before_creating(self):
        for args in (['--domain', 'bad..domain'], ['--domain', 'a.test', '--smtp', 'localhost'],
                     ['--domain', 'a.test', '--smtp', '127.0.0.1:99999'],
                     ['--domain', 'a.test', '--pop3', '::1:110']):
            root = os.path.join(self.tmp, 'x')
            p = ctl(root, 'init', *args)
            self.assertEqual(p.returncode, 1, args)
            self.assertFalse(os.path.exists(root), args)
        self.assertEqual(ctl(os.path.join(self.tmp, 'y'), 'init').returncode, 2)  # usage
        p = ctl(os.path.join(self.tmp, 'v6'), 'init', '--domain', 'a.test', '--smtp', '[::1]:2525')
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_usage_errors(self):
        self.assertEqual(ctl(self.tmp, 'frobnicate').returncode, 2)
        self.assertEqual(ctl(self.tmp, 'user').returncode, 2)
        p = ctl(os.path.join(self.tmp, 'none'), 'config', 'get', 'max_recipients')
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith(b'pochtactl: '))


class UserTest(InstanceTest):
    def test_add_list_del(self):
        inst = self.instance(start=False)
        inst.ctl('user', 'add', 'alice', input='s3cret-pass\n')
        inst.ctl('user', 'add', 'bob', input='other\r\n')
        self.assertEqual(inst.ctl('user', 'list').stdout.split(), [b'alice', b'bob'])
        passwd = os.path.join(inst.root, 'etc/passwd')
        self.assertEqual(stat.S_IMODE(os.stat(passwd).st_mode), 0o600)
        with open(passwd) as f:
            text = f.read()
        self.assertNotIn('s3cret-pass', text)
        hashes = dict(l.split(':', 1) for l in text.splitlines() if l)
        self.assertEqual(sorted(hashes), ['alice', 'bob'])
        self.assertTrue(hashes['alice'].startswith('$'), hashes['alice'])
        c = crypt_fn()
        if c:
            self.assertEqual(c('s3cret-pass', hashes['alice']).decode(), hashes['alice'])
            self.assertEqual(c('other', hashes['bob']).decode(), hashes['bob'])  # CR stripped
            self.assertNotEqual(c('wrong', hashes['alice']).decode(), hashes['alice'])
        for sub in ('tmp', 'new', 'cur'):
            self.assertTrue(os.path.isdir(os.path.join(inst.maildir('alice'), sub)))

        p = inst.ctl('user', 'add', 'alice', input='x\n', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'exists', p.stderr)

        p = inst.ctl('user', 'del', 'alice')
        self.assertIn(b'kept', p.stdout)
        self.assertEqual(inst.ctl('user', 'list').stdout.split(), [b'bob'])
        with open(passwd) as f:
            self.assertNotIn('alice', f.read())
        self.assertTrue(os.path.isdir(inst.maildir('alice')))  # mail is kept
        self.assertEqual(inst.ctl('user', 'del', 'alice', check=False).returncode, 1)

    def test_passwd_changes_hash(self):
        inst = self.instance(start=False, users={'carol': 'one'})
        passwd = os.path.join(inst.root, 'etc/passwd')
        with open(passwd) as f:
            before = f.read()
        inst.ctl('user', 'passwd', 'carol', input='two\n')
        with open(passwd) as f:
            after = f.read()
        self.assertNotEqual(before, after)
        c = crypt_fn()
        if c:
            h = after.strip().split(':', 1)[1]
            self.assertEqual(c('two', h).decode(), h)
        self.assertEqual(inst.ctl('user', 'passwd', 'nobody', input='x\n', check=False).returncode, 1)

    def test_bad_names_and_passwords(self):
        inst = self.instance(start=False)
        for name in ('Alice', '-x', '.x', 'a/b', 'a' * 33, ''):
            p = inst.ctl('user', 'add', name, input='pw\n', check=False)
            self.assertEqual(p.returncode, 1, name)
        for pw in ('', '\n', 'x' * 600 + '\n'):
            p = inst.ctl('user', 'add', 'dave', input=pw, check=False)
            self.assertEqual(p.returncode, 1, pw[:10])
        self.assertEqual(inst.ctl('user', 'list').stdout, b'')


class ConfigTest(InstanceTest):
    def conf_text(self, inst):
        with open(os.path.join(inst.root, 'etc/pochta.conf'), 'rb') as f:
            return f.read()

    def test_set_get_keeps_comments(self):
        inst = self.instance(start=False)
        before = self.conf_text(inst)
        inst.ctl('config', 'set', 'max_recipients', '7')
        self.assertEqual(inst.ctl('config', 'get', 'max_recipients').stdout, b'7\n')
        inst.ctl('config', 'set', 'max_recipients', '9')
        after = self.conf_text(inst)
        self.assertEqual(after.count(b'max_recipients'), 1)
        self.assertTrue(after.startswith(before), 'existing lines and comments kept')
        inst.ctl('config', 'set', 'local_domains', 'a.test, b.test')
        self.assertEqual(inst.ctl('config', 'get', 'local_domains').stdout, b'a.test, b.test\n')
        text = self.conf_text(inst)
        self.assertIn(b'local_domains = a.test, b.test\n', text)
        self.assertEqual(text.count(b'local_domains ='), 1)
        self.assertEqual(inst.ctl('config', 'check').stdout, b'ok\n')

    def test_open_relay_warning(self):
        inst = self.instance(start=False)
        p = inst.ctl('config', 'set', 'relay_networks', '192.0.2.0/24')
        self.assertEqual(p.stderr, b'')
        for block, shown in (('0.0.0.0/0', b'0.0.0.0/0'), ('10.0.0.0/8, ::/0', b'::/0')):
            p = inst.ctl('config', 'set', 'relay_networks', block)  # allowed, but said loudly
            self.assertIn(b'warning: relay_networks holds ' + shown, p.stderr)
            self.assertIn(b'open relay', p.stderr)
            p = inst.ctl('config', 'check')
            self.assertEqual(p.stdout, b'ok\n')
            self.assertIn(b'open relay', p.stderr)

    def test_set_invalid_leaves_file_unchanged(self):
        inst = self.instance(start=False)
        before = self.conf_text(inst)
        for k, v in (('max_recipients', '0'), ('max_recipients', 'ten'), ('message_size_limit', '-5'),
                     ('relay_networks', '10.0.0.0/33'), ('smtp_listen', 'nowhere'),
                     ('local_domains', 'bad..domain'), ('recipient_delimiter', '++'),
                     ('myhostname', 'a\tb')):
            p = inst.ctl('config', 'set', k, v, check=False)
            self.assertEqual(p.returncode, 1, (k, v))
            self.assertTrue(p.stderr.startswith(b'pochtactl: '), p.stderr)
            self.assertEqual(self.conf_text(inst), before, (k, v))
        p = inst.ctl('config', 'set', 'no_such_key', '1', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b'no_such_key', p.stderr)
        self.assertEqual(inst.ctl('config', 'get', 'no_such_key', check=False).returncode, 1)
        self.assertEqual(self.conf_text(inst), before)

    def test_check_reports_file_line(self):
        inst = self.instance(start=False)
        path = os.path.join(inst.root, 'etc/pochta.conf')
        lines = self.conf_text(inst).decode().splitlines()
        with open(path, 'a') as f:
            f.write('max_recipients = many\n')
        p = inst.ctl('config', 'check', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s:%d' % (path, len(lines) + 1)).encode(), p.stderr)
        with open(path, 'w') as f:
            f.write('# comment\n\nbogus_key = 1\n')
        p = inst.ctl('config', 'check', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s:3' % path).encode(), p.stderr)
        # a semantic error the key table cannot see: a bad CIDR block
        with open(path, 'w') as f:
            f.write('relay_networks = 127.0.0.0/8 300.1.1.1/8\n')
        p = inst.ctl('config', 'check', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(('%s:1' % path).encode(), p.stderr)
        # and `set` refuses to write on top of a broken file
        with open(path, 'w') as f:
            f.write('max_recipients = many\n')
        p = inst.ctl('config', 'set', 'smtp_timeout', '30', check=False)
        self.assertEqual(p.returncode, 1)
        with open(path) as f:
            self.assertEqual(f.read(), 'max_recipients = many\n')

    def test_list(self):
        inst = self.instance(start=False, conf={'smtp_timeout': '42'})
        out = inst.ctl('config', 'list').stdout.decode()
        keys = dict(l.split(' = ', 1) if ' = ' in l else (l.rstrip(' ='), '') for l in out.splitlines())
        self.assertEqual(keys['smtp_timeout'], '42')
        self.assertEqual(keys['max_recipients'], '1000')
        self.assertEqual(keys['local_domains'], 'example.test')
        self.assertIn('message_size_limit', keys)
        nondef = inst.ctl('config', 'list', '-n').stdout.decode()
        self.assertIn('smtp_timeout = 42', nondef)
        self.assertNotIn('max_recipients', nondef)
        doc = inst.ctl('config', 'list', '-v').stdout.decode()
        self.assertIn('default 300', doc)
        self.assertGreater(doc.count('#'), len(keys))


if __name__ == '__main__':
    unittest.main()
