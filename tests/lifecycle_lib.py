"""Helpers of the tests/test_lifecycle_*.py files: a sending instance A
(a.test, user alice, relay for loopback) that reaches a receiving instance B
(b.test, users bob and carol) on loopback, and RFC 3464 report parsing."""
import email
import email.policy
import os
import re
import uuid

from pochta import wait_until

QID_RE = r'[0-9A-V]{24}'

# short timers: every retry, timeout and expiry of a test is seconds
FAST = {'retry_min': '1', 'retry_max': '2', 'remote_timeout': '3',
        'remote_connect_timeout': '2'}


def make_b(test, start=True, domains=('b.test',), **conf):
    c = {'local_domains': ' '.join(domains)}
    c.update(conf)
    return test.instance(start=start, domain='b.test', users={'bob': 'pw', 'carol': 'pw'},
                         pop3=False, conf=c)


def make_a(test, routes=None, start=True, **conf):
    """routes: {domain: destination} written to A's etc/routes"""
    c = {'myhostname': 'a.test', 'relay_networks': '127.0.0.0/8'}
    c.update(FAST)
    c.update(conf)
    a = test.instance(start=False, domain='a.test', users={'alice': 'pw'}, pop3=False, conf=c)
    if routes:
        write_routes(a, routes)
    if start:
        a.start()
    return a


def write_routes(inst, routes):
    inst.write('etc/routes', ''.join('%s %s\n' % (dom, dest) for dom, dest in routes.items()))


def token_msg(subject='test', frm='alice@a.test', to='bob@b.test'):
    token = uuid.uuid4().hex
    body = ('From: <%s>\r\nTo: <%s>\r\nSubject: %s %s\r\nMessage-ID: <%s@a.test>\r\n\r\n'
            'body %s\r\n' % (frm, to, subject, token, token, token))
    return token, body


def send(inst, sender, rcpts, body):
    """one SMTP transaction; returns the queue ID from A's 250 reply"""
    with inst.smtp() as s:
        s.ehlo('client.test')
        code, _ = s.mail(sender)
        assert code == 250, code
        for r in rcpts:
            code, msg = s.rcpt(r)
            assert code == 250, (r, code, msg)
        code, msg = s.data(body)
        assert code == 250, (code, msg)
    m = re.search(QID_RE, msg.decode())
    assert m, msg
    return m.group(0)


def with_token(inst, user, token, n=1, timeout=15):
    """wait for n messages holding token in user's Maildir; returns them all"""
    return wait_until(lambda: (lambda v: v if len(v) >= n else None)(
        [m for m in inst.mails(user) if token.encode() in m]), timeout, 0.05,
        '%d message(s) with %s for %s' % (n, token, user))


def queue_ids(inst):
    return sorted(inst.queue_files())


class Report:
    """a parsed RFC 3464 report: .msg (the whole message), .per_msg (the
    per-message fields), .rcpts (list of per-recipient field blocks), .orig
    (the third part)"""

    def __init__(self, raw):
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        assert self.msg.get_content_type() == 'multipart/report', self.msg.get_content_type()
        assert self.msg.get_param('report-type') == 'delivery-status'
        parts = self.msg.get_payload()
        assert parts[0].get_content_type() == 'text/plain'
        assert parts[1].get_content_type() == 'message/delivery-status'
        blocks = parts[1].get_payload()
        self.per_msg = blocks[0]
        self.rcpts = blocks[1:]
        self.orig = parts[2] if len(parts) > 2 else None

    def rcpt(self, addr):
        for b in self.rcpts:
            if b['Final-Recipient'].split(';', 1)[1].strip().lower() == addr.lower():
                return b
        raise AssertionError('no Final-Recipient %s in %s' % (addr, [b['Final-Recipient'] for b in self.rcpts]))

    def orig_text(self):
        if self.orig is None:
            return ''
        if self.orig.get_content_type() == 'message/rfc822':
            return self.orig.get_payload()[0].as_string()
        return self.orig.get_payload()


def reports(inst, user):
    return [Report(m) for m in inst.mails(user)]
