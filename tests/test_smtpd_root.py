"""pochta-smtpd refuses to run as root where it must not: installed (no -r,
no POCHTA_ROOT), where it runs as smtpd_user. An instance that root runs
runs it as smtpd_user too, or as instance_user (pochta-master(8)). Needs root;
skipped otherwise."""
import os
import subprocess
import unittest

from pochta import prog


@unittest.skipUnless(os.geteuid() == 0, 'needs root: the refusal is of root')
class SmtpdRootTest(unittest.TestCase):
    def test_installed_refuses_root(self):
        env = {k: v for k, v in os.environ.items() if k not in ('POCHTA_ROOT',)}
        env['POCHTA_LOG'] = 'stderr'
        r = subprocess.run([prog('pochta-smtpd')], input=b'EHLO x\r\nQUIT\r\n', stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, timeout=20)
        self.assertEqual(r.stdout, b'421 4.3.0 Service not available: configuration error\r\n')
        self.assertIn(b'refusing to run as root: start pochta-smtpd as smtpd_user (pochtad)', r.stderr)
        self.assertNotEqual(r.returncode, 0)


if __name__ == '__main__':
    unittest.main()
