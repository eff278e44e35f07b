"""delivery_concurrency: pochta-qmgr never runs more deliveries at once than
the key allows, and does run that many. Local deliveries go to long-lived
workers that deliver one message at a time, so that is: never more than that
many workers, and as many started when the first ones are busy. Measured with
a pochta-local stand-in (POCHTA_LIBEXEC) that logs when a worker starts and
is slow to take its first request, then runs the real one."""
import os
import shutil
import tempfile
import unittest

from pochta import BUILD, InstanceTest

PROGS = ('pochta-smtpd', 'pochta-enqueue', 'pochta-qmgr', 'pochta-remote', 'pochta-pop3d',
         'pochtactl')
SLOW_LOCAL = '''#!/bin/sh
echo "start $$ $*" >> %(log)s
sleep 1
exec %(real)s "$@"
'''


class Concurrency(InstanceTest):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pochta-libexec-')
        os.chmod(self.dir, 0o755)  # run by the instance's account too
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.log = os.path.join(self.dir, 'local.log')
        for p in PROGS:
            os.symlink(os.path.join(BUILD, p), os.path.join(self.dir, p))
        path = os.path.join(self.dir, 'pochta-local')
        with open(path, 'w') as f:
            f.write(SLOW_LOCAL % {'log': self.log, 'real': os.path.join(BUILD, 'pochta-local')})
        os.chmod(path, 0o755)
        old = os.environ.get('POCHTA_LIBEXEC')
        os.environ['POCHTA_LIBEXEC'] = self.dir
        self.addCleanup(lambda: os.environ.pop('POCHTA_LIBEXEC') if old is None
                        else os.environ.__setitem__('POCHTA_LIBEXEC', old))

    def starts(self):
        with open(self.log) as f:
            return [line.split() for line in f]

    def test_limit_is_kept_and_used(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'delivery_concurrency': '2'})
        inst.write(self.log, '')  # the stand-in, run as the instance's owner, appends
        with inst.smtp() as s:
            for i in range(6):
                s.sendmail('s@remote.test', ['alice@example.test'],
                           'Subject: c%d\r\n\r\nbody\r\n' % i)
        inst.wait_mail('alice', 6, timeout=30)
        starts = self.starts()
        # the first worker was busy: a second one ran beside it, and no third
        self.assertEqual(len(starts), 2, starts)
        self.assertTrue(all(a[2:] == ['-w'] for a in starts), starts)

if __name__ == '__main__':
    unittest.main()
