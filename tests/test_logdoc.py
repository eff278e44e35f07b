"""Each program's man page lists every line the program logs.

The test reads the C sources (no build needed). For every call of log_info,
log_warn, log_fatal or log_info_fields in a program's files (PROGRAMS below:
its own sources, and the functions of common/ it runs that log), it takes the
format string and cuts it at each printf conversion (%s, %zu, %.*s, ...); each
literal piece, with its surrounding white space removed, that holds at least
two letters must appear in the LOGGING section of that program's man page
(roff escapes undone, white space collapsed). So "to=<%s> relay=%s status=%s"
asks for "to=<", "> relay=" and "status=" there.

A format with no such piece ("%s", "%s: %s") logs a text made elsewhere:
  - the string literals among its other arguments (the fallback texts, e.g.
    err.s ? err.s : "cannot load configuration") are checked instead;
  - a call with none is listed in INDIRECT, with the words the page uses for
    that line; a new such call fails the test until it is listed there.
Texts logged through a helper of the program are checked the same way
(HELPERS: the literal argument of each call of that helper).
"""
import glob
import os
import re
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# program: (man page, [source files or globs; "FILE:FUNCTION" for the one
# function of a common/ file that the program runs and that logs])
LOG_CONFIGURE = 'common/log.c:log_configure'     # the log file cannot be opened
ALIASES = ['common/localaddr.c:alias_step',      # the aliases file is bad
           'common/aliases.c:reload']            # its index is older than it
PASSCHECK = 'common/passcheck.c:passcheck_exec'  # pochta-checkpass cannot be run
PROGRAMS = {
    'pochta-smtpd': ('pochta-smtpd.8', ['smtpd/smtpd*.c', LOG_CONFIGURE, PASSCHECK] + ALIASES),
    # a TLS build's own program (make TLS=openssl), beside pochta-smtpd
    'pochta-tls': ('pochta-tls.8', ['smtpd/tls*.c', LOG_CONFIGURE]),
    'pochta-pop3d': ('pochta-pop3d.8', ['pop3d/pop3d*.c', LOG_CONFIGURE, PASSCHECK]),
    'pochta-checkpass': ('pochta-checkpass.8', ['pop3d/checkpass*.c', LOG_CONFIGURE]),
    'pochta-enqueue': ('pochta-enqueue.8', ['queue/enqueue*.c', LOG_CONFIGURE]),
    'pochta-qmgr': ('pochta-qmgr.8', ['queue/qmgr*.c', LOG_CONFIGURE]),
    # pochtactl start: one line, then it becomes pochta-master (same pid)
    'pochtactl': ('pochtactl.8', ['queue/ctl*.c']),
    'pochta-sendmail': ('pochta-sendmail.8', ['queue/sendmail*.c', LOG_CONFIGURE] + ALIASES),
    'pochta-local': ('pochta-local.8', ['deliver/local*.c', LOG_CONFIGURE] + ALIASES),
    'pochta-remote': ('pochta-remote.8', ['deliver/remote*.c', LOG_CONFIGURE]),
    # pochta-logger is pochta-master's child (no program of its own): its page
    'pochta-master': ('pochta-master.8', ['queue/master*.c', LOG_CONFIGURE, 'common/log.c:log_supervise',
                                          'common/log.c:logger_run', 'common/log.c:log_reopen']),
}
# functions of common/ that log but that no program calls yet (checked below)
UNCALLED = {}

# (file, the call's arguments with white space collapsed): the words the page
# uses for a line whose whole text is made elsewhere
INDIRECT = {
    ('deliver/local_alias.c', 'x->qid, "<%s>: %s%s%s", x->rcpt, what, detail ? ": " : "", detail ? detail : ""'):
        'QID <RCPT>: PROBLEM',
    ('deliver/local_alias.c', 'x->qid, "%s: %s", path, strerror(errno)'):
        'QID warning: INCLUDE-FILE: ERROR',
    ('deliver/remote.c', 'rm.qid, "%s", rm.r[0].text.s'):
        'QID warning: REASON',
    ('queue/master.c', 'NULL, "%.*s", (int)n, w->s + i'):
        'warning: CONFIG-WARNING',
    ('smtpd/tls.c', 'NULL, "%s", m.s + 2'):
        'no TLS for this session',
}
# file: [(helper, index of its argument that is the logged text or format)]
HELPERS = {
    'deliver/local_alias.c': [('fail', 3)],
    'smtpd/smtpd.c': [('fatal_config', 0)],
    'smtpd/tls.c': [('give_up', 0)],
}

CALL_RE = re.compile(r'\b(log_info_fields|log_info|log_warn|log_fatal)\s*\(')
CONV_RE = re.compile(r'%[-+ #0]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t|L)?[diouxXcsfeEgGp]')
STR_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def read(rel):
    with open(os.path.join(TOP, rel), errors='replace') as f:
        return f.read()


def strip_comments(src):
    """C comments out, string literals kept"""
    return re.sub(r'/\*.*?\*/|//[^\n]*|("(?:[^"\\\n]|\\.)*")', lambda m: m.group(1) or ' ', src,
                  flags=re.S)


def c_unescape(s):
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), s)


def function_body(src, name):
    m = re.search(r'^[a-z][^\n;]*\b' + re.escape(name) + r'\([^;{]*\)\s*\{(.*?)^\}', src, flags=re.M | re.S)
    return m.group(1) if m else None


def split_args(text):
    """top-level comma-separated arguments of a call's argument text"""
    args, depth, cur, i = [], 0, '', 0
    while i < len(text):
        c = text[i]
        if c == '"':
            m = STR_RE.match(text, i)
            cur += m.group(0)
            i = m.end()
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        if c == ',' and depth == 0:
            args.append(cur.strip())
            cur = ''
        else:
            cur += c
        i += 1
    args.append(cur.strip())
    return args


def calls(src, pattern):
    """(name, argument text) of each call matching pattern"""
    for m in pattern.finditer(src):
        i, depth = m.end(), 1
        while depth and i < len(src):
            if src[i] == '"':
                i = STR_RE.match(src, i).end()
                continue
            depth += {'(': 1, ')': -1}.get(src[i], 0)
            i += 1
        yield m.group(1), ' '.join(src[m.end():i - 1].split())


def literal(arg):
    """the C string of an argument made only of adjacent literals, else None"""
    if not re.fullmatch(r'(?:\s*"(?:[^"\\]|\\.)*")+\s*', arg):
        return None
    return ''.join(c_unescape(s) for s in STR_RE.findall(arg))


def pieces(text):
    """the literal pieces of a format (or a plain text) that the page must hold"""
    out = []
    for p in CONV_RE.split(text.replace('%%', '\0')):
        p = ' '.join(p.replace('\0', '%').split())
        if len(re.findall(r'[A-Za-z]', p)) >= 2:
            out.append(p)
    return out


def sources(prog):
    """[(file, code)] of a program, comments removed"""
    out = []
    for spec in PROGRAMS[prog][1]:
        if ':' in spec:
            rel, fn = spec.split(':')
            body = function_body(strip_comments(read(rel)), fn)
            if body is None:
                raise AssertionError('no function %s in %s' % (fn, rel))
            out.append((rel, body))
            continue
        files = sorted(glob.glob(os.path.join(TOP, spec)))
        if not files:
            raise AssertionError('%s matches no file' % spec)
        out += [(os.path.relpath(f, TOP), strip_comments(read(os.path.relpath(f, TOP)))) for f in files]
    return out


def expected(prog):
    """[(file, fragment)] the program's page must hold"""
    out = []
    for rel, code in sources(prog):
        for fn, args in calls(code, CALL_RE):
            a = split_args(args)
            fmt_i = 0 if fn == 'log_fatal' else 3 if fn == 'log_info_fields' else 1
            fmt = literal(a[fmt_i])
            if fmt is None:
                raise AssertionError('%s: %s(%s): the format is not a string literal' % (rel, fn, args))
            got = pieces(fmt)
            if not got:
                for other in a[fmt_i + 1:]:
                    got += [p for s in STR_RE.findall(other) for p in pieces(c_unescape(s))]
            if not got:
                key = (rel, args)
                if key not in INDIRECT:
                    raise AssertionError('%s: %s(%s) logs a text made elsewhere: list it in INDIRECT'
                                         % (rel, fn, args))
                got = [INDIRECT[key]]
            out += [(rel, p) for p in got]
        for name, idx in HELPERS.get(rel, []):
            for _, args in calls(code, re.compile(r'\b(%s)\s*\(' % re.escape(name))):
                a = split_args(args)
                if len(a) > idx and literal(a[idx]) is not None:
                    out += [(rel, p) for p in pieces(literal(a[idx]))]
    return out


def logging_section(page):
    """the LOGGING section of a man page as plain text, white space collapsed"""
    raw = read(os.path.join('man', page))
    m = re.search(r'^\.SH "?LOGGING"?\s*$(.*?)(?=^\.SH|\Z)', raw, flags=re.M | re.S)
    if not m:
        return None
    lines = []
    for line in m.group(1).splitlines():
        if line.startswith(('.\\"', '\'\\"')):
            continue
        if line.startswith('.'):
            # a macro's arguments are text; its quotes are not
            line = re.sub(r'^\.\S+\s*', '', line).replace('"', ' ')
        lines.append(line)
    t = '\n'.join(lines)
    t = re.sub(r'\\f(\(..|\[[^]]*\]|.)', '', t)
    for esc, ch in (('\\(dq', '"'), ('\\(aq', "'"), ('\\(em', '--'), ('\\e', '\\'), ('\\-', '-'),
                    ('\\&', ''), ('\\%', ''), ('\\:', ''), ('\\ ', ' ')):
        t = t.replace(esc, ch)
    return ' '.join(t.split())


class LogDocTest(unittest.TestCase):
    def test_every_line_documented(self):
        for prog, (page, _) in sorted(PROGRAMS.items()):
            with self.subTest(program=prog):
                text = logging_section(page)
                self.assertIsNotNone(text, 'man/%s has no LOGGING section' % page)
                want = expected(prog)
                self.assertTrue(want, '%s: no log call found (wrong source list?)' % prog)
                missing = sorted(set('%s: %r' % (rel, p) for rel, p in want if p not in text))
                self.assertEqual(missing, [], 'man/%s LOGGING lacks:\n  %s' % (page, '\n  '.join(missing)))

    def test_extraction(self):
        """the rule itself, on lines it must read right"""
        self.assertEqual(pieces('to=<%s> relay=%s status=%s dsn=%s reply="%s"'),
                         ['to=<', '> relay=', 'status=', 'dsn=', 'reply="'])
        self.assertEqual(pieces('%s worker pid=%ld %s after %lu %s'), ['worker pid=', 'after'])
        self.assertEqual(pieces('%.*s'), [])
        self.assertEqual(pieces('100%% done: %zu'), ['100% done:'])
        self.assertEqual(literal('"a %s" "b\\"c"'), 'a %sb"c')
        self.assertIsNone(literal('fmt'))
        self.assertEqual(split_args('NULL, "x, y", f(a, b), c'), ['NULL', '"x, y"', 'f(a, b)', 'c'])
        want = expected('pochta-remote')
        self.assertIn(('deliver/remote_worker.c', '> relay='), want)
        # a fallback text instead of an empty format
        self.assertIn(('deliver/remote_worker.c', 'cannot load the configuration'), want)
        # a helper's text
        self.assertIn(('deliver/local_alias.c', 'alias loop'), expected('pochta-local'))

    def test_every_logging_file_mapped(self):
        """every program source and every function of common/ that logs belongs to a program"""
        mapped = set()
        funcs = set()
        for prog in PROGRAMS:
            for spec in PROGRAMS[prog][1]:
                if ':' in spec:
                    funcs.add(spec)
                else:
                    mapped |= set(os.path.relpath(f, TOP) for f in glob.glob(os.path.join(TOP, spec)))
        for d in ('smtpd', 'pop3d', 'queue', 'deliver'):
            for f in sorted(glob.glob(os.path.join(TOP, d, '*.c'))):
                rel = os.path.relpath(f, TOP)
                if CALL_RE.search(strip_comments(read(rel))):
                    self.assertIn(rel, mapped, '%s logs but no program in PROGRAMS has it' % rel)
        for f in sorted(glob.glob(os.path.join(TOP, 'common', '*.c'))):
            rel = os.path.relpath(f, TOP)
            code = strip_comments(read(rel))
            for m in re.finditer(r'^[a-z][^\n;]*\b(\w+)\([^;{]*\)\s*\{(.*?)^\}', code, flags=re.M | re.S):
                if not CALL_RE.search(m.group(2)) or m.group(1).startswith('log_') and rel == 'common/log.c' \
                        and m.group(1) in ('log_info', 'log_warn', 'log_fatal', 'log_info_fields'):
                    continue
                spec = '%s:%s' % (rel, m.group(1))
                if spec in UNCALLED:
                    continue
                self.assertIn(spec, funcs, '%s logs but no program in PROGRAMS runs it' % spec)
        # the functions listed as uncalled really are
        progsrc = ''.join(strip_comments(read(os.path.relpath(f, TOP)))
                          for d in ('smtpd', 'pop3d', 'queue', 'deliver')
                          for f in glob.glob(os.path.join(TOP, d, '*.c')))
        for spec, fn in UNCALLED.items():
            self.assertIsNone(re.search(r'\b%s\s*\(' % fn, progsrc),
                              '%s is called now: add it to the PROGRAMS that call it' % spec)


if __name__ == '__main__':
    unittest.main()
