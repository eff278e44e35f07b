"""delivery_concurrency: pochta-qmgr never runs more deliveries at once than
the key allows, and does run that many. Measured with a pochta-local stand-in
(POCHTA_LIBEXEC) that logs when it starts and stops, then runs the real one."""
import os
import shutil
import tempfile
import time
import unittest

from pochta import BUILD, InstanceTest

PROGS = ('pochta-smtpd', 'pochta-enqueue', 'pochta-qmgr', 'pochta-remote', 'pochta-pop3d',
         'pochtactl')
SLOW_LOCAL = '''#!/bin/sh
echo "start $(date +%%s.%%N)" >> %(log)s
sleep 0.4
echo "end $(date +%%s.%%N)" >> %(log)s
exec %(real)s "$@"
'''


class Concurrency(InstanceTest):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='pochta-libexec-')
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

    def max_overlap(self):
        events = []
        with open(self.log) as f:
            for line in f:
                kind, t = line.split()
                events.append((float(t), 1 if kind == 'start' else -1))
        events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best, len([e for e in events if e[1] == 1])

    def test_limit_is_kept_and_used(self):
        inst = self.instance(users={'alice': 'pw'}, conf={'delivery_concurrency': '2'})
        with inst.smtp() as s:
            for i in range(6):
                s.sendmail('s@remote.test', ['alice@example.test'],
                           'Subject: c%d\r\n\r\nbody\r\n' % i)
        inst.wait_mail('alice', 6, timeout=30)
        best, starts = self.max_overlap()
        self.assertEqual(starts, 6)
        self.assertEqual(best, 2, 'deliveries running at once')


if __name__ == '__main__':
    unittest.main()
