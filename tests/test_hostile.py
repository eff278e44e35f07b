"""Hostile input: seeded random bytes, huge and binary lines, half-finished
commands, thrown at pochta-smtpd and pochta-pop3d. Every session must end with
the server still sane (run under the sanitizers in CI, where any memory error
fails this file) and an ordinary session afterwards must work."""
import random
import socket
import time
import unittest

from pochta import InstanceTest

SMTP_WORDS = [b'EHLO x', b'HELO', b'MAIL FROM:<a@b.test>', b'MAIL FROM:<>', b'RCPT TO:<alice@example.test>',
              b'RCPT TO:<Postmaster>', b'DATA', b'.', b'RSET', b'NOOP', b'VRFY alice', b'BDAT 10 LAST',
              b'MAIL FROM:<' + b'a' * 300 + b'@b.test> SIZE=99999999999999999999999', b'AUTH PLAIN',
              b'RCPT TO:<"quoted\\"x"@example.test>', b'MAIL FROM:<@a,@b:c@d.test> BODY=8BITMIME',
              b'\x00\xff\xfe', b'\r', b'.\r\n.\r\n', b'\n.\n']
POP_WORDS = [b'USER alice', b'PASS pw', b'PASS wrong', b'STAT', b'LIST', b'LIST 1', b'LIST 999999999999',
             b'RETR 1', b'RETR -1', b'TOP 1 0', b'TOP 1 99999999999999999999', b'UIDL', b'DELE 1', b'RSET',
             b'NOOP', b'CAPA', b'AUTH PLAIN', b'AUTH PLAIN =', b'AUTH PLAIN !!!!', b'*', b'APOP a b',
             b'\x00\x01', b'QUIT']


def garbage(rng, words):
    out = []
    for _ in range(rng.randint(1, 40)):
        k = rng.random()
        if k < 0.5:
            w = rng.choice(words)
        elif k < 0.7:
            w = bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
        elif k < 0.8:
            w = b'X' * rng.choice([999, 1000, 1001, 5000, 70000])
        else:
            w = rng.choice(words)[:rng.randint(0, 10)]
        out.append(w + rng.choice([b'\r\n', b'\r\n', b'\n', b'\r', b'']))
    return b''.join(out)


def blast(port, data):
    s = socket.create_connection(('127.0.0.1', port), timeout=5)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass  # the server may close first (too many errors): that is fine
    finally:
        s.close()


class Hostile(InstanceTest):
    def test_smtpd_survives_garbage(self):
        inst = self.instance(users={'alice': 'pw'},
                             conf={'smtp_timeout': '3'})
        rng = random.Random(5321)
        for i in range(40):
            if i == 20:
                # the synchronization check ends most blasts at the first EHLO,
                # NOOP or DATA: without it the garbage reaches every state
                inst.ctl('config', 'set', 'smtp_forbid_unauth_pipelining', '0')
            blast(inst.smtp_port, garbage(rng, SMTP_WORDS))
        with inst.smtp() as s:
            s.sendmail('a@b.test', ['alice@example.test'], b'Subject: after\r\n\r\nstill fine\r\n')
        self.assertTrue(any(b'still fine' in m for m in inst.wait_mail('alice', 1)))

    def test_pop3d_survives_garbage(self):
        inst = self.instance(users={'alice': 'pw'},
                             conf={'pop3_timeout': '3'})
        inst.wait_listening(inst.pop3_port)
        with inst.smtp() as s:
            s.sendmail('a@b.test', ['alice@example.test'], b'Subject: m\r\n\r\n.dot\r\nbody\r\n')
        inst.wait_mail('alice', 1)
        rng = random.Random(1939)
        for _ in range(40):
            blast(inst.pop3_port, garbage(rng, POP_WORDS))
        for _ in range(50):  # the last garbage session may still hold the lock
            p = inst.pop3()
            try:
                p.user('alice')
                p.pass_('pw')
                break
            except Exception:
                p.close()
                time.sleep(0.1)
        else:
            self.fail('could not log in after the garbage')
        self.assertEqual(p.stat()[0], 1)
        self.assertIn(b'.dot', p.retr(1)[1])  # poplib unstuffs '..dot'
        p.quit()


if __name__ == '__main__':
    unittest.main()
