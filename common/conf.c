/* conf: the pochta.conf reader, driven by the one key table in conf_keys.h.
 *
 * File syntax:
 *   - one `key = value` per line; spaces and tabs around the key, the '=' and
 *     the value are ignored; a value may be empty; a CR before the LF is ignored
 *     (files edited on other systems);
 *   - a line whose first non-blank character is '#' is a comment; there are no
 *     trailing comments: in `a = b # c` the value is "b # c";
 *   - blank lines are ignored; the file may be at most CONF_FILE_MAX bytes;
 *   - any other control character (NUL, ESC, ...) anywhere is an error.
 * Values: INT is a plain decimal integer ('-' only for keys whose minimum is
 * below 0; no '+', no spaces, no units) within [min, max]; STR is text of min..max
 * characters (bytes) without control characters.
 * Errors name the place: "NAME:LINE: unknown key 'x'", "NAME:LINE: missing '='",
 * "NAME:LINE: missing key before '='", "NAME:LINE: duplicate key 'x'",
 * "NAME:LINE: control character", "NAME:LINE: x: control character in value"
 * (a tab inside a value), "NAME:LINE: x: not an integer",
 * "NAME:LINE: x: out of range (MIN..MAX)", "NAME:LINE: x: too long (max N characters)",
 * "NAME:LINE: x: too short (min N characters)"; conf_check_value() and conf_set()
 * give the same "x: ..." reasons without the place. conf_load() adds
 * "PATH: <strerror>", "PATH: not a regular file" and "PATH: file too large (max
 * 1048576 bytes)" (errno EFBIG); parse errors set errno EINVAL.
 * conf_defaults(), conf_parse() and conf_load() overwrite c without freeing it:
 * give them a fresh struct or conf_free() it first. Whether they succeed or
 * not, c is left valid for conf_free() (on failure it holds the defaults). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include "conf.h"
#include "fileread.h"

#define CONF_FILE_MAX (1024 * 1024)

#define CONF_KEY_ENTRY(n, t, d, lo, hi, doc) \
	{ #n, CONF_##t, d, lo, hi, doc, offsetof(struct conf, n) },
const struct conf_key conf_keys[] = {
	CONF_KEYS(CONF_KEY_ENTRY)
};
const size_t conf_nkeys = sizeof conf_keys / sizeof conf_keys[0];

static long long *int_field(struct conf *c, const struct conf_key *k)
{
	return (long long *)(void *)((char *)c + k->offset);
}

static char **str_field(struct conf *c, const struct conf_key *k)
{
	return (char **)(void *)((char *)c + k->offset);
}

const struct conf_key *conf_key_find(const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

static const struct conf_key *key_findb(const char *name, size_t len)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (strlen(conf_keys[i].name) == len && memcmp(conf_keys[i].name, name, len) == 0)
			return &conf_keys[i];
	return NULL;
}

static int is_ctl(unsigned char c)
{
	return c < 32 || c == 127;
}

/* replace err's contents with a formatted message; errors of err itself are
 * ignored: the caller reports failure anyway */
static void err_set(sa_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_set(sa_t *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	sa_trunc(err, 0);
	va_start(ap, fmt);
	(void)sa_vcatf(err, fmt, ap);
	va_end(ap);
}

/* INT text -> value; 0 ok, -1 not an integer, -2 out of range */
static int int_parse(const struct conf_key *k, const char *v, size_t n, long long *out)
{
	size_t i = 0;
	int neg = 0;
	unsigned long long x = 0, lim;

	if (i < n && v[i] == '-' && k->min < 0) {
		neg = 1;
		i++;
	}
	if (i == n)
		return -1;
	for (size_t j = i; j < n; j++)
		if (v[j] < '0' || v[j] > '9')
			return -1;
	/* magnitude limit: LLONG_MAX, or its negative's magnitude */
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (lim - d) / 10)
			return -2;
		x = x * 10 + d;
	}
	if (neg)
		*out = x == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)x;
	else
		*out = (long long)x;
	if (*out < k->min || *out > k->max)
		return -2;
	return 0;
}

/* value (n bytes) for key k: 0 ok (*iv set for INT), -1 with reason in err */
static int check_value(const struct conf_key *k, const char *v, size_t n, long long *iv,
                       sa_t *err)
{
	for (size_t i = 0; i < n; i++) {
		if (is_ctl((unsigned char)v[i])) {
			err_set(err, "%s: control character in value", k->name);
			return -1;
		}
	}
	if (k->type == CONF_INT) {
		long long x = 0;
		int r = int_parse(k, v, n, &x);
		if (r == -1) {
			err_set(err, "%s: not an integer", k->name);
			return -1;
		}
		if (r == -2) {
			err_set(err, "%s: out of range (%lld..%lld)", k->name, k->min, k->max);
			return -1;
		}
		if (iv)
			*iv = x;
		return 0;
	}
	if (n > (size_t)LLONG_MAX || (long long)n > k->max) {
		err_set(err, "%s: too long (max %lld characters)", k->name, k->max);
		return -1;
	}
	if ((long long)n < k->min) {
		err_set(err, "%s: too short (min %lld characters)", k->name, k->min);
		return -1;
	}
	return 0;
}

int conf_check_value(const struct conf_key *k, const char *value, sa_t *err)
{
	return check_value(k, value, strlen(value), NULL, err);
}

/* set k from n bytes of validated text */
static int set_value(struct conf *c, const struct conf_key *k, const char *v, size_t n,
                     sa_t *err)
{
	long long x = 0;

	if (check_value(k, v, n, &x, err) < 0)
		return -1;
	if (k->type == CONF_INT) {
		*int_field(c, k) = x;
	} else {
		char *s = malloc(n + 1);   /* n <= k->max, a small table bound */
		if (!s) {
			err_set(err, "%s: out of memory", k->name);
			errno = ENOMEM;
			return -1;
		}
		memcpy(s, v, n);
		s[n] = '\0';
		free(*str_field(c, k));
		*str_field(c, k) = s;
	}
	return 0;
}

int conf_set(struct conf *c, const struct conf_key *k, const char *value, sa_t *err)
{
	if (set_value(c, k, value, strlen(value), err) < 0) {
		if (errno != ENOMEM)
			errno = EINVAL;
		return -1;
	}
	return 0;
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < conf_nkeys; i++) {
		if (conf_keys[i].type == CONF_STR) {
			free(*str_field(c, &conf_keys[i]));
			*str_field(c, &conf_keys[i]) = NULL;
		}
	}
}

int conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		/* the table's defaults are valid by construction (test_conf checks) */
		if (set_value(c, k, k->def, strlen(k->def), NULL) < 0) {
			conf_free(c);
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* one line (no LF) into t; seen[] marks keys already set; on an error *badk
 * is the key the line names (NULL: none, or not known) */
static int parse_line(struct conf *t, const char *name, unsigned long lineno,
                      const char *l, size_t n, unsigned char *seen, sa_t *err,
                      const struct conf_key **badk)
{
	size_t i = 0, k0, klen, v0, vend;
	const struct conf_key *k;
	sa_t why = SA_INIT;
	int r;

	if (n > 0 && l[n - 1] == '\r')
		n--;
	for (size_t j = 0; j < n; j++) {
		if (l[j] != '\t' && is_ctl((unsigned char)l[j])) {
			err_set(err, "%s:%lu: control character", name, lineno);
			return -1;
		}
	}
	while (i < n && is_blank(l[i]))
		i++;
	if (i == n || l[i] == '#')
		return 0;
	k0 = i;
	while (i < n && !is_blank(l[i]) && l[i] != '=')
		i++;
	klen = i - k0;
	while (i < n && is_blank(l[i]))
		i++;
	if (i == n || l[i] != '=') {
		err_set(err, "%s:%lu: missing '='", name, lineno);
		return -1;
	}
	if (klen == 0) {
		err_set(err, "%s:%lu: missing key before '='", name, lineno);
		return -1;
	}
	i++;
	while (i < n && is_blank(l[i]))
		i++;
	v0 = i;
	vend = n;
	while (vend > v0 && is_blank(l[vend - 1]))
		vend--;
	k = key_findb(l + k0, klen);
	if (!k) {
		/* bound the echo of an unknown key; it holds no control characters */
		err_set(err, "%s:%lu: unknown key '%.*s%s'", name, lineno,
		        (int)(klen > 64 ? 64 : klen), l + k0, klen > 64 ? "..." : "");
		return -1;
	}
	*badk = k;
	if (seen[k - conf_keys]) {
		err_set(err, "%s:%lu: duplicate key '%s'", name, lineno, k->name);
		return -1;
	}
	seen[k - conf_keys] = 1;
	/* a tab inside a value is a control character too */
	r = set_value(t, k, l + v0, vend - v0, &why);
	if (r < 0)
		err_set(err, "%s:%lu: %s", name, lineno, why.s ? why.s : "bad value");
	sa_free(&why);
	return r;
}

/* every line of text into c. all == 0: stop at the first bad line, c gets
 * the defaults and err its message; -1. all: go on past bad lines, c gets the
 * values of the good ones, err one "NAME:LINE: ...\n" per bad line and bad[]
 * (when not NULL) marks each key a bad line names; the number of bad lines.
 * -1 (ENOMEM) either way when memory runs out. */
static int parse_text(struct conf *c, const char *name, const char *text, size_t len, sa_t *err,
                      int all, unsigned char *bad)
{
	struct conf t;
	unsigned char seen[sizeof conf_keys / sizeof conf_keys[0]];
	unsigned long lineno = 0;
	size_t pos = 0;
	int nbad = 0, saved;
	sa_t why = SA_INIT;

	if (conf_defaults(&t) < 0) {
		memset(c, 0, sizeof *c);
		err_set(err, "%s: out of memory", name);
		errno = ENOMEM;
		return -1;
	}
	memset(seen, 0, sizeof seen);
	if (bad)
		memset(bad, 0, conf_nkeys);
	if (all && err)
		sa_trunc(err, 0);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const struct conf_key *k = NULL;
		lineno++;
		errno = 0;
		if (parse_line(&t, name, lineno, text + pos, end - pos, seen, all ? &why : err, &k) < 0) {
			saved = errno == ENOMEM ? ENOMEM : EINVAL;
			if (!all || saved == ENOMEM || (err && (sa_catb(err, why.s ? why.s : "", why.len) < 0 || sa_catc(err, '\n') < 0))) {
				sa_free(&why);
				conf_free(&t);
				if (conf_defaults(c) < 0)
					memset(c, 0, sizeof *c);
				errno = saved;
				return -1;
			}
			if (bad && k)
				bad[k - conf_keys] = 1;
			nbad++;
		}
		pos = end + 1;
	}
	sa_free(&why);
	*c = t;
	return nbad;
}

int conf_parse(struct conf *c, const char *name, const char *text, size_t len, sa_t *err)
{
	return parse_text(c, name, text, len, err, 0, NULL) < 0 ? -1 : 0;
}

int conf_parse_all(struct conf *c, const char *name, const char *text, size_t len, sa_t *err,
                   unsigned char *bad)
{
	return parse_text(c, name, text, len, err, 1, bad);
}

/* the whole file into text, or -1 with errno and a message in err */
static int read_conf_file(const char *path, sa_t *text, sa_t *err)
{
	int saved;

	if (file_read_all(path, CONF_FILE_MAX, 0, text, NULL) == 0)
		return 0;
	saved = errno;
	if (saved == EINVAL)
		err_set(err, "%s: not a regular file", path);
	else if (saved == EFBIG)
		err_set(err, "%s: file too large (max %d bytes)", path, CONF_FILE_MAX);
	else
		err_set(err, "%s: %s", path, strerror(saved));
	errno = saved;
	return -1;
}

/* conf_load (all == 0) or conf_load_all (all) */
static int load(struct conf *c, const char *path, sa_t *err, int all, unsigned char *bad)
{
	sa_t text = SA_INIT;
	int saved, r;

	memset(c, 0, sizeof *c);
	if (read_conf_file(path, &text, err) < 0) {
		saved = errno;
		sa_free(&text);
		if (conf_defaults(c) < 0)
			memset(c, 0, sizeof *c);
		errno = saved;
		return -1;
	}
	r = parse_text(c, path, text.s, text.len, err, all, bad);
	saved = errno;
	sa_free(&text);
	errno = saved;
	return r;
}

int conf_read_file(const char *path, sa_t *text, sa_t *err)
{
	return read_conf_file(path, text, err);
}

int conf_load(struct conf *c, const char *path, sa_t *err)
{
	return load(c, path, err, 0, NULL) < 0 ? -1 : 0;
}

int conf_load_all(struct conf *c, const char *path, sa_t *err, unsigned char *bad)
{
	return load(c, path, err, 1, bad);
}

const char *conf_line_key(const char *line, size_t len, size_t *klen)
{
	size_t i = 0, s;
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#' || line[i] == '\r')
		return NULL;
	s = i;
	while (i < len && !is_blank(line[i]) && line[i] != '=')
		i++;
	*klen = i - s;
	return line + s;
}

unsigned long conf_key_line(const char *text, size_t len, const char *key)
{
	size_t pos = 0, kl = strlen(key);
	unsigned long lineno = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - text) - pos : len - pos, n;
		const char *k = conf_line_key(text + pos, ll, &n);
		lineno++;
		if (k && n == kl && memcmp(k, key, kl) == 0)
			return lineno;
		pos += ll + 1;
	}
	return 0;
}

int conf_dump(const struct conf *c, sa_t *out)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (sa_catf(out, "%s = ", conf_keys[i].name) < 0 || conf_format(c, &conf_keys[i], out) < 0 ||
		    sa_catc(out, '\n') < 0)
			return -1;
	return 0;
}

int conf_key_restart(const struct conf_key *k)
{
#define CONF_RESTART_CMP(n) if (strcmp(k->name, #n) == 0) return 1;
	CONF_RESTART_KEYS(CONF_RESTART_CMP)
#undef CONF_RESTART_CMP
	return 0;
}

int conf_format(const struct conf *c, const struct conf_key *k, sa_t *out)
{
	const char *base = (const char *)c + k->offset;

	if (k->type == CONF_INT) {
		long long x;
		memcpy(&x, base, sizeof x);
		return sa_catf(out, "%lld", x);
	} else {
		const char *s;
		memcpy(&s, base, sizeof s);
		return sa_cats(out, s ? s : "");
	}
}

static int is_sep(char ch)
{
	return ch == ',' || ch == ' ' || ch == '\t';
}

int conf_list_each(const char *list, int (*fn)(const char *item, size_t len, void *arg),
                   void *arg)
{
	const char *p = list;

	if (!p)
		return 0;
	while (*p) {
		const char *q;
		int r;
		while (*p && is_sep(*p))
			p++;
		if (!*p)
			break;
		q = p;
		while (*q && !is_sep(*q))
			q++;
		r = fn(p, (size_t)(q - p), arg);
		if (r)
			return r;
		p = q;
	}
	return 0;
}

struct has_arg {
	const char *item;
	size_t len;
};

static int has_fn(const char *item, size_t len, void *arg)
{
	const struct has_arg *h = arg;
	return len == h->len && strncasecmp(item, h->item, len) == 0;
}

int conf_list_has(const char *list, const char *item, size_t len)
{
	struct has_arg h = { item, len };

	if (len == 0)
		return 0;
	return conf_list_each(list, has_fn, &h) == 1;
}

const char *conf_hostname(const struct conf *c)
{
	static char host[256];
	static int cached;

	if (c && c->myhostname && c->myhostname[0])
		return c->myhostname;
	if (!cached) {
		/* gethostname may not terminate a truncated name */
		if (gethostname(host, sizeof host - 1) < 0 || host[0] == '\0')
			strcpy(host, "localhost");
		host[sizeof host - 1] = '\0';
		cached = 1;
	}
	return host;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int conf_live_load(struct conf_live *lc, const char *path, sa_t *err)
{
	struct stat st;
	struct conf c;

	if (stat(path, &st) < 0) {
		sa_catf(err, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (lc->loaded && same_file(&st, &lc->st))
		return 0;
	if (conf_load(&c, path, err) < 0)
		return -1;
	if (lc->loaded)
		conf_free(&lc->c);
	lc->c = c;
	lc->st = st;
	lc->loaded = 1;
	return 1;
}

void conf_live_free(struct conf_live *lc)
{
	if (lc->loaded)
		conf_free(&lc->c);
	lc->loaded = 0;
}
