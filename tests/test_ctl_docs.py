"""The configuration key table, man/pochta.conf.5, man/pochtactl.8 and the
etc/ samples agree with each other and with pochtactl."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from pochta import CTL

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(rel):
    with open(os.path.join(TOP, rel)) as f:
        return f.read()


def table_keys():
    """(name, type, default) of every key in common/conf_keys.h"""
    text = read('common/conf_keys.h')
    return re.findall(r'X\((\w+),\s*(INT|STR),\s*"([^"]*)"', text)


class DocsTest(unittest.TestCase):
    def test_every_key_documented(self):
        keys = table_keys()
        self.assertGreater(len(keys), 15)
        man = read('man/pochta.conf.5')
        for name, typ, default in keys:
            # each key has its own tagged paragraph: ".B name" on a line
            self.assertRegex(man, r'(?m)^\.B %s$' % re.escape(name), name)
            if typ == 'INT':
                self.assertIn('default %s' % default, man, name)

    def test_pochtactl_page(self):
        man = read('man/pochtactl.8')
        for sec in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'ENVIRONMENT', 'FILES', 'EXIT STATUS',
                    'SIGNALS', 'SECURITY', 'SEE ALSO'):
            self.assertIn('.SH %s' % sec, man)
        for cmd in ('init', 'user add', 'user del', 'user list', 'user passwd', 'config get',
                    'config set', 'config check', 'config list', 'start', 'queue list', 'queue stats',
                    'queue show', 'queue delete', 'queue hold', 'queue release', 'queue flush'):
            self.assertIn(cmd, man)

    def test_sample_config(self):
        sample = read('etc/pochta.conf.sample')
        keys = table_keys()
        for name, typ, default in keys:
            line = '#%s = %s' % (name, default) if default else '#%s =' % name
            self.assertIn(line + '\n', sample, name)
        root = tempfile.mkdtemp(prefix='pochta-docs-')
        self.addCleanup(shutil.rmtree, root, True)
        env = dict(os.environ, POCHTA_ROOT=root)

        def ctl(*a):
            return subprocess.run([CTL] + list(a), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=env, timeout=30)
        self.assertEqual(ctl('init', '--domain', 'example.test', '--no-setup').returncode, 0)
        conf = os.path.join(root, 'etc', 'pochta.conf')
        # as shipped (all commented out) and with every line uncommented: both
        # valid, and the second sets every key to its default
        for text in (sample, re.sub(r'(?m)^#(\w+ =)', r'\1', sample)):
            with open(conf, 'w') as f:
                f.write(text)
            p = ctl('config', 'check')
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(ctl('config', 'list', '-n').stdout, b'')

    def test_service_samples(self):
        inetd = read('etc/inetd.conf.sample')
        self.assertRegex(inetd, r'(?m)^smtp\s+stream\s+tcp\s+nowait\s+\S+\s+@PREFIX@/libexec/pochta/pochta-smtpd')
        self.assertRegex(inetd, r'(?m)^pop3\s+stream\s+tcp\s+nowait\s+\S+\s+@PREFIX@/libexec/pochta/pochta-pop3d')
        for svc in ('smtpd', 'pop3d'):
            sock = read('etc/systemd/pochta-%s.socket' % svc)
            self.assertIn('Accept=yes', sock)
            unit = read('etc/systemd/pochta-%s@.service' % svc)
            for line in ('StandardInput=socket', 'StandardError=journal', 'Environment=POCHTA_LOG=stderr',
                         'ExecStart=@PREFIX@/libexec/pochta/pochta-%s' % svc):
                self.assertIn(line, unit)
        self.assertIn('ExecStart=@PREFIX@/sbin/pochtactl start', read('etc/systemd/pochta.service'))


if __name__ == '__main__':
    unittest.main()
