"""man/pochta.conf.5 documents exactly the keys of common/conf_keys.h.

The header is the one table of config keys; this test reads it with a regular
expression (no build needed) and checks the man page against it both ways:
every key is described, and every key-like item tagged in the page's key list
is a real key (so a renamed or removed key cannot linger in the docs)."""
import os
import re
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = os.path.join(TOP, 'common', 'conf_keys.h')
MANPAGE = os.path.join(TOP, 'man', 'pochta.conf.5')

# X(name, TYPE, "default", min, max, "doc") inside the CONF_KEYS macro
KEY_RE = re.compile(r'\bX\(\s*([a-z][a-z0-9_]*)\s*,\s*(INT|STR)\s*,\s*"((?:[^"\\]|\\.)*)"')


def header_keys():
    with open(HEADER) as f:
        text = f.read()
    # only the macro body: from "#define CONF_KEYS(X)" to the first line not
    # continued with a backslash
    m = re.search(r'#define\s+CONF_KEYS\(X\)((?:.*\\\n)*.*)', text)
    if not m:
        raise AssertionError('no CONF_KEYS(X) macro in %s' % HEADER)
    return [(k, t, d) for k, t, d in KEY_RE.findall(m.group(1))]


def man_text():
    with open(MANPAGE, errors='replace') as f:
        raw = f.read()
    # drop roff comments and the escapes that may sit inside a word
    raw = re.sub(r'^\.\\".*$', '', raw, flags=re.M)
    raw = re.sub(r'\\".*$', '', raw, flags=re.M)
    raw = re.sub(r'\\f(\(..|\[[^]]*\]|.)', '', raw)
    raw = raw.replace('\\&', '').replace('\\%', '').replace('\\:', '')
    raw = raw.replace('\\-', '-').replace('\\_', '_')
    return raw


def word_in(word, text):
    return re.search(r'(?<![A-Za-z0-9_])' + re.escape(word) + r'(?![A-Za-z0-9_])', text) is not None


def tagged_items(text):
    """words that the page uses as list tags: mdoc `.It Cm|Ic|Va|Ar|Li|Sy word`,
    man(7) `.TP` followed by a line holding the tag, or `.IP word`"""
    tags = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r'\.It\s+(?:(?:Cm|Ic|Va|Ar|Li|Sy|Fl|Dv|Ev)\s+)?(\S+)', line)
        if m:
            tags.append(m.group(1))
            continue
        m = re.match(r'\.IP\s+"?([^"\s]+)', line)
        if m:
            tags.append(m.group(1))
            continue
        if re.match(r'\.TP\b', line) and i + 1 < len(lines):
            nxt = re.sub(r'^\.(B|I|BR|BI|IR|RB|IB)\s+', '', lines[i + 1]).strip().strip('"')
            if nxt:
                tags.append(nxt.split()[0])
    return tags


class ConfDocTest(unittest.TestCase):
    def test_header_parses(self):
        keys = header_keys()
        # the regex must see the whole table, not a lucky part of it
        with open(HEADER) as f:
            n_x = len(re.findall(r'^\s*X\(', f.read(), flags=re.M))
        self.assertEqual(len(keys), n_x)
        self.assertGreaterEqual(len(keys), 10)
        names = [k for k, _, _ in keys]
        self.assertEqual(len(names), len(set(names)), 'duplicate key in conf_keys.h')
        for required in ('message_size_limit', 'max_recipients', 'smtp_timeout',
                         'local_domains', 'relay_networks', 'relayhost',
                         'queue_lifetime', 'retry_min', 'retry_max'):
            self.assertIn(required, names)

    def test_every_key_documented(self):
        self.assertTrue(os.path.exists(MANPAGE), '%s is missing' % MANPAGE)
        text = man_text()
        missing = [k for k, _, _ in header_keys() if not word_in(k, text)]
        self.assertEqual(missing, [], 'keys not in man/pochta.conf.5: %s' % ', '.join(missing))

    def test_no_stale_keys(self):
        self.assertTrue(os.path.exists(MANPAGE), '%s is missing' % MANPAGE)
        names = set(k for k, _, _ in header_keys())
        # a tag that looks like a config key (snake_case word) must be one
        stale = sorted(set(t for t in tagged_items(man_text())
                           if re.fullmatch(r'[a-z][a-z0-9]*(_[a-z0-9]+)+', t) and t not in names))
        self.assertEqual(stale, [], 'man/pochta.conf.5 lists unknown keys: %s' % ', '.join(stale))

    def test_defaults_documented(self):
        """each non-empty default appears in the page (as text, anywhere after the key)"""
        self.assertTrue(os.path.exists(MANPAGE), '%s is missing' % MANPAGE)
        text = man_text()
        missing = []
        for k, _, d in header_keys():
            if not d:
                continue
            m = re.search(r'(?<![A-Za-z0-9_])' + re.escape(k) + r'(?![A-Za-z0-9_])', text)
            if not m or d not in text[m.start():]:
                missing.append('%s (%s)' % (k, d))
        self.assertEqual(missing, [], 'defaults not in man/pochta.conf.5: %s' % ', '.join(missing))

    def test_restart_keys_documented(self):
        """each key of CONF_RESTART_KEYS, and only those, says in its entry
        that a change takes effect at the next restart"""
        with open(HEADER) as f:
            m = re.search(r'#define\s+CONF_RESTART_KEYS\(R\)((?:.*\\\n)*.*)', f.read())
        self.assertTrue(m, 'no CONF_RESTART_KEYS(R) in %s' % HEADER)
        restart = set(re.findall(r'\bR\(\s*([a-z][a-z0-9_]*)\s*\)', m.group(1)))
        names = set(k for k, _, _ in header_keys())
        self.assertGreaterEqual(len(restart), 5)
        self.assertEqual(restart - names, set(), 'CONF_RESTART_KEYS names unknown keys')
        text = man_text()
        keys_sec = text[text.index('.SH KEYS'):]
        keys_sec = keys_sec[:keys_sec.index('\n.SH ', 1)]
        entries = {}
        for part in re.split(r'\n\.(?:TP|SS)\b', keys_sec):
            m = re.match(r'\s*\.B\s+([a-z][a-z0-9_]*)\s*\n', part)
            if m and m.group(1) in names:
                entries[m.group(1)] = part
        self.assertEqual(set(entries), names, 'keys without an entry of their own')
        said = set(k for k, e in entries.items()
                   if 'A change takes effect at the next restart' in ' '.join(e.split()))
        self.assertEqual(sorted(restart - said), [], 'restart keys not marked in man/pochta.conf.5')
        self.assertEqual(sorted(said - restart), [], 'keys marked restart that apply on reload')


if __name__ == '__main__':
    unittest.main()
