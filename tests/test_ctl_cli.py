"""pochtactl's command line: --help and --version (exit 0, on standard
output), help COMMAND [SUBCOMMAND] and COMMAND [SUBCOMMAND] --help (that
command's own usage), missing arguments named (exit 2), unknown commands
(exit 2, usage on standard error)."""
import os
import subprocess
import unittest

from pochta import CTL, InstanceTest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, root=None, input=None):
    env = {k: v for k, v in os.environ.items() if k != 'POCHTA_ROOT'}
    pre = ['-r', root] if root else []
    return subprocess.run([CTL] + pre + list(args), input=(input or '').encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=30)


class Help(unittest.TestCase):
    def test_help_and_version(self):
        for flag in ('--help', '-h'):
            p = run(flag)
            self.assertEqual(p.returncode, 0)
            self.assertEqual(p.stderr, b'')
            out = p.stdout.decode()
            for cmd in ('init --domain', 'user add', 'config set KEY VALUE', 'queue delete', 'queue flush',
                        'queue show [--header] [--body] ID', 'help [COMMAND'):
                self.assertIn(cmd, out)
        with open(os.path.join(TOP, 'VERSION')) as f:
            version = f.read().strip()
        self.assertTrue(version)
        p = run('--version')
        self.assertEqual((p.returncode, p.stdout), (0, ('pochtactl (pochta) %s\n' % version).encode()))

    def test_command_help(self):
        for args in (('help', 'queue'), ('queue', '--help'), ('queue', '-h')):
            p = run(*args)
            self.assertEqual(p.returncode, 0, args)
            out = p.stdout.decode()
            self.assertIn('queue delete [SELECTORS] ID...|ALL|-', out)
            self.assertIn('--domain DOMAIN', out)
            self.assertNotIn('user add', out)
        for args in (('help', 'queue', 'delete'), ('queue', 'delete', '--help')):
            p = run(*args)
            self.assertEqual(p.returncode, 0, args)
            out = p.stdout.decode()
            self.assertIn('queue delete', out)
            self.assertIn('--sender ADDRESS', out)
            self.assertNotIn('queue hold', out)
        p = run('help', 'user', 'add')
        self.assertIn('user add [--force] NAME', p.stdout.decode())
        self.assertNotIn('user del', p.stdout.decode())
        p = run('init', '--help')
        self.assertEqual(p.returncode, 0)
        self.assertIn('init --domain DOMAIN', p.stdout.decode())

    def test_help_of_nothing(self):
        p = run('help', 'frobnicate')
        self.assertEqual((p.returncode, p.stdout), (2, b''))
        self.assertIn(b'help: unknown command frobnicate', p.stderr)
        p = run('help', 'user', 'frob')
        self.assertEqual((p.returncode, p.stdout), (2, b''))
        self.assertIn(b'help: user has no subcommand frob', p.stderr)
        self.assertIn(b'user del NAME', p.stderr)

    def test_unknown_command_and_none(self):
        p = run('frobnicate')
        self.assertEqual((p.returncode, p.stdout), (2, b''))
        self.assertIn(b'unknown command frobnicate', p.stderr)
        self.assertIn(b'usage: pochtactl', p.stderr)
        p = run()
        self.assertEqual((p.returncode, p.stdout), (2, b''))
        self.assertIn(b'missing COMMAND', p.stderr)


class MissingArguments(InstanceTest):
    def test_missing_named(self):
        inst = self.instance(start=False)
        cases = [(('user', 'add'), 'user add: missing NAME'),
                 (('user', 'add', '--force'), 'user add: missing NAME'),
                 (('user', 'del'), 'user del: missing NAME'),
                 (('user', 'passwd'), 'user passwd: missing NAME'),
                 (('user',), 'user: missing a subcommand'),
                 (('config', 'get'), 'config get: missing KEY'),
                 (('config', 'set'), 'config set: missing KEY'),
                 (('config', 'set', 'myhostname'), 'config set: missing VALUE'),
                 (('config', 'get', 'a', 'b'), 'config get: too many arguments'),
                 (('queue',), 'queue: missing a subcommand'),
                 (('queue', 'show'), 'queue show: missing ID'),
                 (('queue', 'delete'), 'queue delete: missing ID'),
                 (('queue', 'frob'), 'queue: unknown subcommand frob'),
                 (('start', 'now'), 'start: too many arguments')]
        for args, msg in cases:
            p = inst.ctl(*args, check=False)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(('pochtactl: ' + msg).encode(), p.stderr, args)
            self.assertIn(b'usage:', p.stderr, args)
        p = run('init', root=os.path.join(inst.root, 'nothere'))
        self.assertEqual(p.returncode, 2)
        self.assertIn(b'init: missing --domain DOMAIN', p.stderr)
        self.assertFalse(os.path.exists(os.path.join(inst.root, 'nothere')))

    def test_help_acts_on_nothing(self):
        inst = self.instance(start=False)
        p = inst.ctl('user', 'add', '--help', input='pw\n')
        self.assertIn(b'user add [--force] NAME', p.stdout)
        self.assertNotIn(b'--help', inst.ctl('user', 'list').stdout)


if __name__ == '__main__':
    unittest.main()
