"""TLS through pochta-tls (make TLS=openssl): STARTTLS (RFC 3207), STLS
(RFC 2595), implicit TLS (RFC 8314), pochta-remote's STARTTLS with
verification and tls=verify routes, the key's checks, reload, and real POP3
clients. The libc-only programs never link OpenSSL (checked on every build).
Run on a TLS build: make B=build/tls TLS=openssl; python3 tests/run.py -k
test_tls build/tls. Elsewhere the TLS tests skip with a message."""
import os
import poplib
import pwd
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from pochta import (BUILD, InstanceTest, Raw, copy_build, free_port, proc_status, prog,  # noqa: E402
                    prog_pids, remove_service_accounts, service_accounts, wait_until)

TLS_PROG = prog('pochta-tls')
HAVE_TLS = os.access(TLS_PROG, os.X_OK)
NO_TLS = 'no pochta-tls in %s: build it with make B=build/tls TLS=openssl (needs libssl-dev)' % BUILD
OPENSSL = shutil.which('openssl')


def make_cert(d, cn, sans):
    """a self-signed certificate and key made by the test (openssl req)"""
    cert, key = os.path.join(d, cn + '-cert.pem'), os.path.join(d, cn + '-key.pem')
    subprocess.run([OPENSSL, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=' + cn,
                    '-addext', 'subjectAltName=' + ','.join(sans)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return cert, key


class NoOpenSSLInLibcPrograms(unittest.TestCase):
    def test_ldd(self):
        if not shutil.which('ldd'):
            self.skipTest('no ldd')
        progs = [n for n in os.listdir(BUILD) if n.startswith('pochta') and n != 'pochta-tls'
                 and os.access(os.path.join(BUILD, n), os.X_OK) and os.path.isfile(os.path.join(BUILD, n))]
        self.assertIn('pochta-smtpd', progs)
        for n in progs:
            out = subprocess.run(['ldd', os.path.join(BUILD, n)], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=30).stdout.decode()
            self.assertNotIn('libssl', out, n)
            self.assertNotIn('libcrypto', out, n)
        if HAVE_TLS:
            out = subprocess.run(['ldd', TLS_PROG], stdout=subprocess.PIPE, timeout=30).stdout.decode()
            self.assertIn('libssl', out)


@unittest.skipUnless(HAVE_TLS, NO_TLS)
@unittest.skipUnless(OPENSSL, 'no openssl command to make the test certificates')
class TLSBase(InstanceTest):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='pochta-tls-')
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def tls_instance(self, cn='localhost', sans=('DNS:localhost', 'IP:127.0.0.1'), start=True, **kw):
        """an instance serving the test's own certificate, with implicit TLS
        listeners too; returns (inst, cert path)"""
        cert, key = make_cert(self.tmp, cn, sans)
        inst = self.instance(start=False, **kw)
        inst.smtps_port, inst.pop3s_port = free_port(), free_port()
        inst.write('etc/test-cert.pem', open(cert).read())
        inst.write('etc/test-key.pem', open(key).read(), mode=0o600)
        for k, v in (('tls_cert_file', 'test-cert.pem'), ('tls_key_file', 'test-key.pem'),
                     ('smtps_listen', '127.0.0.1:%d' % inst.smtps_port),
                     ('pop3s_listen', '127.0.0.1:%d' % inst.pop3s_port)):
            inst.ctl('config', 'set', k, v)
        if start:
            inst.start()
            inst.wait_listening(inst.smtps_port)
            inst.wait_listening(inst.pop3s_port)
        return inst, cert

    def ctx(self, cert):
        c = ssl.create_default_context(cafile=cert)
        c.minimum_version = ssl.TLSVersion.TLSv1_2
        return c


class STARTTLS(TLSBase):
    def test_smtplib_starttls(self):
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
            s.ehlo('client.test')
            self.assertTrue(s.has_extn('starttls'))
            code, _ = s.starttls(context=self.ctx(cert))  # checks the name 127.0.0.1 too
            self.assertEqual(code, 220)
            self.assertIn(s.sock.version(), ('TLSv1.2', 'TLSv1.3'))
            # RFC 3207 4.2: the state is gone: MAIL needs EHLO again
            code, _ = s.docmd('MAIL FROM:<a@b.test>')
            self.assertEqual(code, 503)
            s.ehlo('client.test')
            self.assertFalse(s.has_extn('starttls'))
            code, msg = s.docmd('STARTTLS')
            self.assertEqual(code, 554, msg)
            s.sendmail('a@b.test', ['alice@example.test'], b'Subject: t\r\n\r\nunder TLS\r\n')
        text = inst.wait_mail('alice', 1)[0].decode()
        self.assertRegex(text, r'\(using TLSv1\.[23] with cipher [A-Z0-9_-]+ \(\d+/\d+ bits\)\)')
        self.assertIn('with ESMTPS id', text)
        self.assertRegex(inst.log(), r'STARTTLS from 127\.0\.0\.1: TLSv1\.[23] with cipher')

    def test_openssl_s_client(self):
        inst, cert = self.tls_instance()
        p = subprocess.run([OPENSSL, 's_client', '-starttls', 'smtp', '-connect', '127.0.0.1:%d' % inst.smtp_port,
                            '-CAfile', cert, '-verify_return_error', '-crlf', '-quiet'],
                           input=b'QUIT\n', stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode(errors='replace')
        self.assertEqual(p.returncode, 0, out)
        self.assertIn('verify return:1', out)
        self.assertIn('250 HELP', out)
        self.assertIn('221 2.0.0', out)

    def test_pipelined_after_starttls_refused(self):
        """CVE-2011-0411: a command sent with STARTTLS, before the handshake,
        must never be taken as sent under TLS"""
        inst, cert = self.tls_instance()
        r = Raw(inst.smtp_port)
        r.reply()
        r.send(b'EHLO client.test\r\n')
        r.reply()
        r.send(b'STARTTLS\r\nMAIL FROM:<evil@b.test>\r\n')
        code, lines = r.reply()
        self.assertEqual(code, 554, lines)
        self.assertIn('5.5.0', lines[0])
        self.assertTrue(r.closed())
        self.assertIn('improper pipelining after STARTTLS', inst.log())

    def test_world_readable_key_refused(self):
        inst, cert = self.tls_instance(start=False)
        os.chmod(inst.path('etc/test-key.pem'), 0o644)
        inst.start()
        with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
            s.ehlo('client.test')
            code, msg = s.docmd('STARTTLS')
            self.assertEqual(code, 454, msg)
            s.ehlo('client.test')  # the session goes on in plain text
        wait_until(lambda: 'world-readable' in inst.log(), what='the refusal logged')

    def test_key_closed_and_unprivileged(self):
        """pochta-tls holds no descriptor of the key file once it has loaded
        it, and runs as the session's account, never root"""
        inst, cert = self.tls_instance()
        key = os.path.realpath(inst.path('etc/test-key.pem'))
        with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
            s.starttls(context=self.ctx(cert))
            s.ehlo('client.test')
            pids = []
            for p in os.listdir('/proc'):
                try:
                    if p.isdigit() and open('/proc/%s/comm' % p).read().strip() == 'pochta-tls' and \
                            ('POCHTA_ROOT=%s\0' % inst.root).encode() in open('/proc/%s/environ' % p, 'rb').read():
                        pids.append(p)
                except OSError:
                    pass
            self.assertTrue(pids, 'no pochta-tls found for the session')
            for p in pids:
                fds = []
                for fd in os.listdir('/proc/%s/fd' % p):
                    try:
                        fds.append(os.readlink('/proc/%s/fd/%s' % (p, fd)))
                    except OSError:
                        pass
                self.assertNotIn(key, fds)
                uid = [ln for ln in open('/proc/%s/status' % p) if ln.startswith('Uid:')][0].split()
                self.assertNotIn('0', uid[1:], 'pochta-tls runs as root')

    def test_reload_new_pair(self):
        inst, cert = self.tls_instance()
        def peer_der():
            with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                s.starttls(context=ctx)
                return s.sock.getpeercert(binary_form=True)
        self.assertEqual(peer_der(), ssl.PEM_cert_to_DER_cert(open(cert).read()))
        cert2, key2 = make_cert(self.tmp, 'second', ['DNS:second.test'])
        inst.write('etc/second-cert.pem', open(cert2).read())
        inst.write('etc/second-key.pem', open(key2).read(), mode=0o600)
        inst.ctl('config', 'set', 'tls_cert_file', 'second-cert.pem')
        inst.ctl('config', 'set', 'tls_key_file', 'second-key.pem')
        inst.ctl('reload')
        wait_until(lambda: peer_der() == ssl.PEM_cert_to_DER_cert(open(cert2).read()), timeout=15,
                   what='the new certificate served after reload')

    def test_init_pair_offers_starttls(self):
        """pochtactl init in a TLS build makes its own pair: STARTTLS at once"""
        inst = self.instance()
        conf = open(inst.path('etc/pochta.conf')).read()
        self.assertIn('tls_cert_file = tls-cert.pem', conf)
        self.assertEqual(os.stat(inst.path('etc/tls-key.pem')).st_mode & 0o777, 0o600)
        with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
            s.ehlo('client.test')
            self.assertTrue(s.has_extn('starttls'))
            ctx = ssl.create_default_context(cafile=inst.path('etc/tls-cert.pem'))
            ctx.check_hostname = False
            self.assertEqual(s.starttls(context=ctx)[0], 220)


class POP3andImplicit(TLSBase):
    def test_stls_poplib(self):
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=20)
        try:
            self.assertIn('STLS', p.capa())
            self.assertTrue(p.stls(context=self.ctx(cert)).startswith(b'+OK'))
            self.assertNotIn('STLS', p.capa())
            p.user('alice')
            p.pass_('pw')
            self.assertEqual(p.stat(), (0, 0))
        finally:
            p.quit()
        self.assertRegex(inst.log(), r'STLS from 127\.0\.0\.1: TLSv1\.[23]')

    def test_stls_pipelined_refused(self):
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        r = Raw(inst.pop3_port)
        r.readline()
        r.send(b'STLS\r\nUSER alice\r\n')
        self.assertTrue(r.readline().startswith(b'-ERR'))
        self.assertTrue(r.closed())

    def test_implicit_smtp_and_pop3(self):
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        # port 465 is submission under implicit TLS (RFC 8314 3.3): AUTH is
        # offered because TLS is on (no loopback key here) and required
        with smtplib.SMTP_SSL('127.0.0.1', inst.smtps_port, timeout=20, context=self.ctx(cert)) as s:
            s.ehlo('client.test')
            self.assertFalse(s.has_extn('starttls'))
            self.assertTrue(s.has_extn('auth'))
            self.assertEqual(s.docmd('MAIL', 'FROM:<alice@example.test>')[0], 530)
            s.login('alice', 'pw')
            s.sendmail('alice@example.test', ['alice@example.test'], b'Subject: t\r\n\r\nimplicit\r\n')
        inst.wait_mail('alice', 1)
        p = poplib.POP3_SSL('127.0.0.1', inst.pop3s_port, timeout=20, context=self.ctx(cert))
        try:
            p.user('alice')
            p.pass_('pw')
            self.assertEqual(p.stat()[0], 1)
            body = b'\n'.join(p.retr(1)[1])
            self.assertIn(b'with ESMTPSA', body)
            self.assertIn(b'implicit', body)
        finally:
            p.quit()
        # a plain-text client on the TLS port gets no greeting in the clear
        r = Raw(inst.smtps_port, timeout=5)
        r.send(b'EHLO x\r\n')
        self.assertTrue(r.closed(timeout=15))


@unittest.skipUnless(os.geteuid() == 0, 'needs root: one user per program')
class Separated(TLSBase):
    """installed-style separation: pochta-smtpd as smtpd_user reads the key
    through the group `pochtactl setup` gives it; pochta-pop3d's pochta-tls,
    started while pop3d is still root, gives up root before the handshake"""

    def test_tls_as_smtpd_user(self):
        keys = service_accounts('pttl%d' % (os.getpid() % 10000))
        remove_service_accounts(keys)
        self.addCleanup(remove_service_accounts, keys)
        libexec = copy_build()
        self.addCleanup(shutil.rmtree, libexec, True)
        inst, cert = self.tls_instance(users={'alice': 'pw'}, start=False, no_account=True,
                                       libexec=libexec, conf=keys)
        os.chmod(inst.root, 0o755)
        inst.ctl('setup')
        st = os.stat(inst.path('etc/test-key.pem'))
        smtpd = pwd.getpwnam(keys['smtpd_user'])
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, smtpd.pw_gid, 0o640))
        inst.start()
        with smtplib.SMTP('127.0.0.1', inst.smtp_port, timeout=20) as s:
            s.ehlo('client.test')
            self.assertTrue(s.has_extn('starttls'))
            self.assertEqual(s.starttls(context=self.ctx(cert))[0], 220)
            s.ehlo('client.test')
            tls = [pid for pid in prog_pids(inst, 'pochta-tls')]
            self.assertTrue(tls)
            for pid in tls:
                self.assertEqual(int(proc_status(pid)['Uid'][0]), smtpd.pw_uid)
            s.sendmail('x@remote.test', ['alice@example.test'], b'Subject: s\r\n\r\nover tls\r\n')
        inst.wait_mail('alice', 1)
        p = poplib.POP3('127.0.0.1', inst.pop3_port, timeout=20)
        try:
            self.assertTrue(p.stls(context=self.ctx(cert)).startswith(b'+OK'))
            tls = wait_until(lambda: prog_pids(inst, 'pochta-tls'), 10, 0.05, "pop3d's pochta-tls")
            for pid in tls:
                uids = [int(x) for x in proc_status(pid)['Uid']]
                self.assertEqual(uids, [smtpd.pw_uid] * 4)
            p.user('alice')
            p.pass_('pw')
            self.assertEqual(p.stat()[0], 1)
        finally:
            p.quit()


class Remote(TLSBase):
    def pair(self, cn, sans, route_opt):
        """B receives for example.net with (cn, sans); A routes example.net to
        B with route_opt and trusts B's certificate"""
        b, bcert = self.tls_instance(domain='example.net', cn=cn, sans=sans, users={'bob': 'pw'},
                                     conf={'myhostname': 'mx.example.net'})
        a = self.instance(start=False, conf={'relay_networks': '127.0.0.1/32'})
        a.write('etc/b-ca.pem', open(bcert).read())
        a.ctl('config', 'set', 'tls_ca_file', 'b-ca.pem')
        a.write('etc/routes', 'example.net [127.0.0.1]:%d %s\n' % (b.smtp_port, route_opt))
        a.start()
        with a.smtp() as s:
            s.sendmail('x@example.test', ['bob@example.net'], b'Subject: r\r\n\r\nrelayed\r\n')
        return a, b

    def test_remote_starttls_verified(self):
        a, b = self.pair('localhost', ['DNS:localhost', 'IP:127.0.0.1'], 'tls=verify')
        m = b.wait_mail('bob', 1)[0]
        self.assertIn(b'with ESMTPS', m)
        wait_until(lambda: re.search(r'TLS to 127\.0\.0\.1\[127\.0\.0\.1\]:\d+: TLSv1\.[23] .*certificate verified',
                                     a.log()), what='verified logged')

    def test_remote_must_verify_wrong_name(self):
        a, b = self.pair('mx.other.test', ['DNS:mx.other.test'], 'tls=verify')
        wait_until(lambda: 'not verified' in a.log(), timeout=20, what='the refusal logged')
        self.assertIn('certificate unverified', a.log())
        self.assertEqual(b.mail_files('bob'), [])
        self.assertTrue(a.queue_files(), 'the message must stay queued')

    def test_remote_opportunistic_unverified(self):
        """without tls=verify an unverified certificate still carries the mail
        under TLS, and the result is logged"""
        a, b = self.pair('mx.other.test', ['DNS:mx.other.test'], '')
        m = b.wait_mail('bob', 1)[0]
        self.assertIn(b'with ESMTPS', m)
        self.assertIn('certificate unverified', a.log())


@unittest.skipUnless(HAVE_TLS, NO_TLS)
class Clients(TLSBase):
    """fetchmail and mpop with their default settings (TLS on, certificates
    checked) and only a CA file naming the test's certificate"""

    def fill(self, inst):
        with inst.smtp() as s:
            s.sendmail('a@b.test', ['alice@example.test'], b'Subject: fetched\r\n\r\nhello client\r\n')
        inst.wait_mail('alice', 1)

    def test_fetchmail(self):
        if not shutil.which('fetchmail'):
            self.skipTest('fetchmail is not installed (apt-get install fetchmail)')
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        for port, extra in ((inst.pop3_port, ''), (inst.pop3s_port, ' ssl')):
            self.fill(inst)
            out = os.path.join(self.tmp, 'fetched-%d' % port)
            rc = os.path.join(self.tmp, 'fetchmailrc-%d' % port)
            with open(rc, 'w') as f:
                f.write('poll localhost protocol pop3 service %d user alice password pw%s sslcertfile %s '
                        'mda "/bin/sh -c \'cat >> %s\'"\n' % (port, extra, cert, out))
            os.chmod(rc, 0o600)
            env = dict(os.environ, HOME=self.tmp, FETCHMAILHOME=self.tmp)
            p = subprocess.run(['fetchmail', '-f', rc, '--nodetach', '--nosyslog', '-v'], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            log = p.stdout.decode(errors='replace')
            self.assertEqual(p.returncode, 0, log)
            self.assertIn('hello client', open(out).read())

    def test_mpop(self):
        if not shutil.which('mpop'):
            self.skipTest('mpop is not installed (apt-get install mpop)')
        inst, cert = self.tls_instance(users={'alice': 'pw'})
        for port, starttls in ((inst.pop3_port, 'on'), (inst.pop3s_port, 'off')):
            self.fill(inst)
            box = os.path.join(self.tmp, 'mbox-%d' % port)
            open(box, 'w').close()
            rc = os.path.join(self.tmp, 'mpoprc-%d' % port)
            with open(rc, 'w') as f:
                f.write('account default\nhost localhost\nport %d\nuser alice\npassword pw\n'
                        'tls on\ntls_starttls %s\ntls_trust_file %s\ndelivery mbox %s\n'
                        'uidls_file %s\n' % (port, starttls, cert, box, box + '.uidls'))
            os.chmod(rc, 0o600)
            p = subprocess.run(['mpop', '-C', rc, '-q'], env=dict(os.environ, HOME=self.tmp),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout.decode(errors='replace'))
            self.assertIn('hello client', open(box).read())


if __name__ == '__main__':
    unittest.main()
