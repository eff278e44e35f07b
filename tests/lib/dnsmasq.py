"""A private dnsmasq on 127.0.0.1 and a free port, serving only the records a
test gives it (authoritative for *.test: unknown names there are NXDOMAIN).

    dns = Dnsmasq(['--mx-host=b.test,mx1.b.test,10', '--host-record=mx1.b.test,127.0.0.1'])
    dns.start()            # waits until it answers; raises unittest.SkipTest without dnsmasq
    ... dns_servers = 127.0.0.1:%d % dns.port ...
    dns.stop()             # by PID

Null MX: '--mx-host=nullmx.test,.,0' (dnsmasq 2.90 sends "MX 0 .")."""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

CANDIDATES = ('/usr/sbin/dnsmasq', '/usr/local/sbin/dnsmasq')


def find():
    for p in CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    return shutil.which('dnsmasq')


def free_udp_tcp_port():
    """a port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both)"""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(('127.0.0.1', 0))
        port = u.getsockname()[1]
        t = socket.socket()
        try:
            t.bind(('127.0.0.1', port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise AssertionError('no free port')


def query(port, name, qtype=1, timeout=0.5):
    """one UDP query; the rcode (0 NOERROR, 3 NXDOMAIN ...) or None without an answer"""
    pkt = struct.pack('>HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.split('.'):
        pkt += bytes([len(label)]) + label.encode()
    pkt += b'\0' + struct.pack('>HH', qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(pkt, ('127.0.0.1', port))
        r = s.recv(4096)
        return r[3] & 15
    except OSError:
        return None
    finally:
        s.close()


class Dnsmasq:
    def __init__(self, records, domain='test'):
        self.records = list(records)
        self.domain = domain
        self.proc = None
        self.port = None
        self.dir = None

    def start(self, timeout=10):
        exe = find()
        if not exe:
            raise unittest.SkipTest('dnsmasq not installed')
        self.dir = tempfile.mkdtemp(prefix='pochta-dns-')
        self.port = free_udp_tcp_port()
        args = [exe, '--no-daemon', '--conf-file=/dev/null', '--no-resolv', '--no-hosts',
                '--port=%d' % self.port, '--listen-address=127.0.0.1', '--bind-interfaces',
                '--pid-file=' + os.path.join(self.dir, 'pid'), '--local=/%s/' % self.domain,
                '--log-facility=-']
        self.log = open(os.path.join(self.dir, 'log'), 'wb')
        self.proc = subprocess.Popen(args + self.records, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        end = time.time() + timeout
        while query(self.port, 'probe.' + self.domain) is None:
            if self.proc.poll() is not None or time.time() > end:
                out = self.logtext()
                self.stop()
                raise AssertionError('dnsmasq did not start: %s' % out)
            time.sleep(0.05)
        return self

    def logtext(self):
        try:
            with open(os.path.join(self.dir, 'log'), errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc = None
            self.log.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
