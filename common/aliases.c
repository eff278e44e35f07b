/* aliases: the aliases file, its compiled form and lookups (aliases.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "addr.h"
#include "aliases.h"
#include "fileread.h"
#include "durable.h"
#include "log.h"

#define HDR_LEN (ALIASES_MAGIC_LEN + 4)
#define RACY_S 2 /* a file changed this recently is read again (users.c's reason) */

static int bad(sa_t *err, const char *file, size_t line, const char *why)
{
	sa_trunc(err, 0);
	if (line)
		sa_catf(err, "%s:%zu: %s", file, line, why);
	else
		sa_catf(err, "%s: %s", file, why);
	errno = EINVAL;
	return -1;
}

static void nomem(sa_t *err)
{
	sa_trunc(err, 0);
	sa_cats(err, "out of memory");
	errno = ENOMEM;
}

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

/* a name: 1..ALIASES_NAME_MAX printable ASCII (spaces only inside), no '@' */
static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > ALIASES_NAME_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '@')
			return 0;
	return 1;
}

int aliases_target_kind(const char *t, const char **value)
{
	size_t n = strlen(t);
	struct addr a;

	*value = t;
	if (n == 0 || n > ALIASES_TARGET_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)t[i] < 0x20 && t[i] != '\t') || t[i] == 0x7f)
			return 0;
	if (strncasecmp(t, ":include:", 9) == 0) {
		*value = t + 9;
		return t[9] == '/' && t[10] ? ALIASES_T_INCLUDE : 0;
	}
	if (t[0] == '|') {
		*value = t + 1;
		return t[1] ? ALIASES_T_PIPE : 0;
	}
	if (t[0] == '/')
		return t[1] ? ALIASES_T_FILE : 0;
	if (t[0] == '\\') {
		*value = t + 1;
		return name_ok(t + 1, n - 1) ? ALIASES_T_SELF : 0;
	}
	if (strchr(t, '@'))
		return addr_parse(t, n, &a) == ADDR_OK && a.has_domain && !a.null ? ALIASES_T_ADDR : 0;
	return name_ok(t, n) ? ALIASES_T_NAME : 0;
}

/* s[0] is '"': the unquoted string into out when the quote closes at s[n-1];
 * 1 so, 0 when the quoted string ends earlier (or never) */
static int unquote_whole(const char *s, size_t n, sa_t *out)
{
	size_t i;

	sa_trunc(out, 0);
	for (i = 1; i < n && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		if (sa_catc(out, s[i]) < 0)
			return -1;
	}
	return i == n - 1;
}

/* the targets of s (n bytes) split at commas outside quotes, each checked
 * and appended NUL-terminated to out, counted in *count */
static int split_targets(const char *s, size_t n, const char *file, size_t line, sa_t *out,
                         size_t *count, sa_t *err)
{
	sa_t tmp = SA_INIT;
	size_t i = 0;
	int rc = -1;

	while (i <= n) {
		size_t st = i, e;
		int q = 0;
		const char *t, *v;
		size_t tl;
		int k;

		while (i < n && (q || s[i] != ',')) {
			if (s[i] == '\\' && q && i + 1 < n)
				i++;
			else if (s[i] == '"')
				q = !q;
			i++;
		}
		if (q) {
			bad(err, file, line, "a quoted string does not end");
			goto out;
		}
		e = i++;
		while (st < e && blank(s[st]))
			st++;
		while (e > st && blank(s[e - 1]))
			e--;
		if (st == e)
			continue; /* "a,,b" and a trailing comma: nothing between */
		t = s + st;
		tl = e - st;
		if (t[0] == '"' && (k = unquote_whole(t, tl, &tmp)) != 0) {
			if (k < 0)
				goto nomem;
		} else if (sa_copyb(&tmp, t, tl) < 0) {
			goto nomem;
		} else {
			k = 0;
		}
		if (sa_ready(&tmp, 0) < 0) /* "" unquoted: an empty string, not NULL */
			goto nomem;
		tmp.s[tmp.len] = '\0';
		if (tmp.len > ALIASES_TARGET_MAX) {
			bad(err, file, line, "a target is too long");
			goto out;
		}
		if (memchr(tmp.s, '\0', tmp.len) || !(k = aliases_target_kind(tmp.s, &v)) ||
		    (t[0] != '"' && (k == ALIASES_T_NAME || k == ALIASES_T_SELF) &&
		     strpbrk(tmp.s, " \t"))) {
			sa_trunc(err, 0);
			sa_catf(err, "%s:%zu: bad target \"%.*s\"%s", file, line, (int)(tl > 80 ? 80 : tl),
			        t, strpbrk(tmp.s, " \t") && k != ALIASES_T_PIPE ? " (a missing comma?)" : "");
			errno = EINVAL;
			goto out;
		}
		if (*count >= ALIASES_TARGETS_MAX) {
			bad(err, file, line, "too many targets");
			goto out;
		}
		if (sa_catb(out, tmp.s, tmp.len + 1) < 0)
			goto nomem;
		(*count)++;
	}
	rc = 0;
	goto out;
nomem:
	nomem(err);
out:
	sa_free(&tmp);
	return rc;
}

/* the next physical line of text at *pos: its bytes (no LF, no CR before
 * it), checked for length and control characters */
static int next_line(const char *text, size_t len, size_t *pos, const char **l, size_t *n,
                     const char *file, size_t lineno, sa_t *err)
{
	const char *nl = memchr(text + *pos, '\n', len - *pos);

	*l = text + *pos;
	*n = nl ? (size_t)(nl - *l) : len - *pos;
	*pos += *n + (nl ? 1 : 0);
	if (*n > 0 && (*l)[*n - 1] == '\r')
		(*n)--;
	if (*n > ALIASES_LINE_MAX)
		return bad(err, file, lineno, "line too long");
	for (size_t i = 0; i < *n; i++)
		if (((unsigned char)(*l)[i] < 0x20 && (*l)[i] != '\t') || (*l)[i] == 0x7f)
			return bad(err, file, lineno, "control character");
	return 0;
}

static int skip_line(const char *l, size_t n)
{
	size_t i = 0;

	while (i < n && blank(l[i]))
		i++;
	return i == n || l[i] == '#';
}

int aliases_list_parse(const char *text, size_t len, const char *file, sa_t *out, size_t *n,
                       sa_t *err)
{
	size_t pos = 0, line = 0, ln;
	const char *l;

	*n = 0;
	if (len > ALIASES_FILE_MAX)
		return bad(err, file, 0, "file too large");
	while (pos < len) {
		line++;
		if (next_line(text, len, &pos, &l, &ln, file, line, err) < 0)
			return -1;
		if (!skip_line(l, ln) && split_targets(l, ln, file, line, out, n, err) < 0)
			return -1;
	}
	return 0;
}

/* one parsed entry while the file is read */
struct ent {
	size_t line, off; /* off: its record in the records buffer */
};

struct sortctx {
	const char *recs;
};

static int ent_cmp(const void *a, const void *b, void *arg)
{
	const struct sortctx *c = arg;
	const struct ent *x = a, *y = b;
	int r = strcmp(c->recs + x->off, c->recs + y->off);

	return r ? r : (x->line > y->line) - (x->line < y->line);
}

static void put32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
}

static uint32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* one logical line into a record of recs: NAME NUL TARGETS... NUL */
static int parse_entry(const char *s, size_t n, const char *file, size_t line, sa_t *recs,
                       sa_t *err)
{
	size_t i = 0, start = recs->len, count = 0;
	sa_t name = SA_INIT;
	int rc = -1;

	if (s[0] == '"') {
		for (i = 1; i < n && s[i] != '"'; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			if (sa_catc(&name, s[i]) < 0)
				goto nomem;
		}
		if (i == n) {
			bad(err, file, line, "a quoted name does not end");
			goto out;
		}
		i++;
		while (i < n && blank(s[i]))
			i++;
	} else {
		while (i < n && s[i] != ':' && !blank(s[i]) && s[i] != '"')
			i++;
		if (sa_copyb(&name, s, i) < 0)
			goto nomem;
		while (i < n && blank(s[i]))
			i++;
	}
	if (i == n || s[i] != ':') {
		bad(err, file, line, "expected \"name: target, ...\"");
		goto out;
	}
	i++;
	if (!name.s || !name_ok(name.s, name.len) || memchr(name.s, '\0', name.len)) {
		bad(err, file, line, "bad name (a local part of 1 to 64 characters, without @)");
		goto out;
	}
	for (size_t k = 0; k < name.len; k++)
		if (name.s[k] >= 'A' && name.s[k] <= 'Z')
			name.s[k] = (char)(name.s[k] - 'A' + 'a');
	if (sa_catb(recs, name.s, name.len + 1) < 0)
		goto nomem;
	if (split_targets(s + i, n - i, file, line, recs, &count, err) < 0)
		goto fail;
	if (count == 0) {
		bad(err, file, line, "no targets");
		goto fail;
	}
	if (sa_catc(recs, '\0') < 0)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	nomem(err);
fail:
	sa_trunc(recs, start);
out:
	sa_free(&name);
	return rc;
}

static int add_ent(struct ent **e, size_t *n, size_t *cap, size_t line, size_t off)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ent *p = realloc(*e, nc * sizeof **e);
		if (!p)
			return -1;
		*e = p;
		*cap = nc;
	}
	(*e)[*n].line = line;
	(*e)[(*n)++].off = off;
	return 0;
}

/* the sorted entries into t's compiled bytes; a repeated name is an error */
static int build(const sa_t *recs, struct ent *e, size_t n, const char *file,
                 struct aliases_tab *t, sa_t *err)
{
	struct sortctx c = { recs->s };
	char num[4];
	size_t base = HDR_LEN + 4 * n;

	if (n)
		qsort_r(e, n, sizeof *e, ent_cmp, &c);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(recs->s + e[i].off, recs->s + e[i - 1].off) == 0) {
			sa_trunc(err, 0);
			sa_catf(err, "%s:%zu: \"%s\" is listed already (line %zu)", file, e[i].line,
			        recs->s + e[i].off, e[i - 1].line);
			errno = EINVAL;
			return -1;
		}
	}
	sa_trunc(&t->b, 0);
	put32(num, (uint32_t)n);
	if (sa_catb(&t->b, ALIASES_MAGIC, ALIASES_MAGIC_LEN) < 0 || sa_catb(&t->b, num, 4) < 0)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		/* each record keeps its place in recs: offsets are recs' plus the index */
		put32(num, (uint32_t)(base + e[i].off));
		if (sa_catb(&t->b, num, 4) < 0)
			goto nomem;
	}
	if (recs->len && sa_catb(&t->b, recs->s, recs->len) < 0)
		goto nomem;
	t->n = n;
	return 0;
nomem:
	nomem(err);
	return -1;
}

int aliases_parse(const char *text, size_t len, const char *file, struct aliases_tab *t,
                  sa_t *err)
{
	sa_t recs = SA_INIT, entry = SA_INIT;
	struct ent *e = NULL;
	size_t ne = 0, cap = 0, pos = 0, line = 0, eline = 0, ln;
	const char *l;
	int rc = -1, have = 0;

	if (len > ALIASES_FILE_MAX) {
		bad(err, file, 0, "file too large");
		errno = E2BIG;
		return -1;
	}
	for (;;) {
		int more = pos < len;
		if (more) {
			line++;
			if (next_line(text, len, &pos, &l, &ln, file, line, err) < 0)
				goto out;
			if (skip_line(l, ln))
				continue;
			if (blank(l[0])) {
				if (!have) {
					bad(err, file, line, "a continuation line without a name before it");
					goto out;
				}
				if (entry.len + 1 + ln > ALIASES_ENTRY_MAX) {
					bad(err, file, line, "entry too long");
					goto out;
				}
				if (sa_catc(&entry, ' ') < 0 || sa_catb(&entry, l, ln) < 0)
					goto nomem;
				continue;
			}
		}
		if (have) {
			size_t off = recs.len;
			if (ne >= ALIASES_NAMES_MAX) {
				bad(err, file, eline, "too many names");
				goto out;
			}
			if (parse_entry(entry.s, entry.len, file, eline, &recs, err) < 0)
				goto out;
			if (add_ent(&e, &ne, &cap, eline, off) < 0)
				goto nomem;
			have = 0;
		}
		if (!more)
			break;
		if (sa_copyb(&entry, l, ln) < 0)
			goto nomem;
		have = 1;
		eline = line;
	}
	rc = build(&recs, e, ne, file, t, err);
	goto out;
nomem:
	nomem(err);
out:
	free(e);
	sa_free(&recs);
	sa_free(&entry);
	return rc;
}

/* a NUL-terminated string at b[off..len): its length, or -1 */
static long str_at(const char *b, size_t len, size_t off)
{
	const char *z = off < len ? memchr(b + off, '\0', len - off) : NULL;

	return z ? (long)(z - (b + off)) : -1;
}

int aliases_from_index(const char *b, size_t len, struct aliases_tab *t, sa_t *err)
{
	size_t n, base;
	const char *prev = NULL;

	if (len < HDR_LEN || len > ALIASES_FILE_MAX * 2u ||
	    memcmp(b, ALIASES_MAGIC, ALIASES_MAGIC_LEN) != 0)
		return bad(err, "compiled aliases", 0, "not a pochta-aliases1 file");
	n = get32(b + ALIASES_MAGIC_LEN);
	if (n > ALIASES_NAMES_MAX || (base = HDR_LEN + 4 * n) > len)
		return bad(err, "compiled aliases", 0, "bad count");
	for (size_t i = 0; i < n; i++) {
		size_t off = get32(b + HDR_LEN + 4 * i), k = 0;
		long sl = off >= base ? str_at(b, len, off) : -1;
		const char *v;

		if (sl < 0 || !name_ok(b + off, (size_t)sl))
			return bad(err, "compiled aliases", 0, "bad name");
		for (long j = 0; j < sl; j++)
			if (b[off + j] >= 'A' && b[off + j] <= 'Z')
				return bad(err, "compiled aliases", 0, "bad name");
		if (prev && strcmp(prev, b + off) >= 0)
			return bad(err, "compiled aliases", 0, "names out of order");
		prev = b + off;
		off += (size_t)sl + 1;
		for (;;) {
			sl = str_at(b, len, off);
			if (sl < 0)
				return bad(err, "compiled aliases", 0, "truncated record");
			if (sl == 0)
				break;
			if (++k > ALIASES_TARGETS_MAX || !aliases_target_kind(b + off, &v))
				return bad(err, "compiled aliases", 0, "bad target");
			off += (size_t)sl + 1;
		}
		if (k == 0)
			return bad(err, "compiled aliases", 0, "a name without targets");
	}
	if (sa_copyb(&t->b, b, len) < 0) {
		sa_trunc(err, 0);
		sa_cats(err, "out of memory");
		return -1;
	}
	t->n = n;
	return 0;
}

const char *aliases_find(const struct aliases_tab *t, const char *name)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = t->b.s + get32(t->b.s + HDR_LEN + 4 * mid);
		int c = strcmp(name, k);
		if (c == 0)
			return k + strlen(k) + 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *aliases_next(const char *tgt)
{
	tgt += strlen(tgt) + 1;
	return *tgt ? tgt : NULL;
}

void aliases_free(struct aliases_tab *t)
{
	sa_free(&t->b);
	t->n = 0;
}

static int is_role(const char *s)
{
	return strcmp(s, "postmaster") == 0 || strcmp(s, "abuse") == 0 ||
	       strcmp(s, "mailer-daemon") == 0;
}

int aliases_resolve(const struct aliases_tab *t, const char *admin_key, const char *name,
                    const char **targets)
{
	char admin[ALIASES_NAME_MAX + 1];
	const char *cur = name, *tg;
	size_t n = strlen(admin_key);

	if (n > ALIASES_NAME_MAX)
		n = ALIASES_NAME_MAX;
	for (size_t i = 0; i < n; i++)
		admin[i] = (admin_key[i] >= 'A' && admin_key[i] <= 'Z') ? (char)(admin_key[i] + 32)
		                                                        : admin_key[i];
	admin[n] = '\0';
	*targets = NULL;
	/* at most: name, then admin; a default never leads further */
	for (int step = 0; step < 2; step++) {
		tg = t ? aliases_find(t, cur) : NULL;
		if (tg && step == 0) {
			*targets = tg;
			return ALIASES_LISTED;
		}
		if (tg || (step == 1 && !is_role(cur) && strcmp(cur, "root") != 0)) {
			*targets = admin_key;
			return ALIASES_ADMIN;
		}
		if (step == 0 && !is_role(cur) && strcmp(cur, "root") != 0)
			return ALIASES_NONE;
		if (strcmp(cur, "root") == 0 || strcmp(cur, admin) == 0 || !admin[0])
			return ALIASES_POSTMASTER;
		cur = admin;
	}
	return ALIASES_POSTMASTER;
}

/* ---- the cache of long-lived readers ---- */

static struct {
	sa_t path;
	struct stat text, idx;     /* st_ino 0: missing */
	int valid;
	struct aliases_tab tab;
} cache = { SA_INIT, { 0 }, { 0 }, 0, ALIASES_TAB_INIT };

static int st_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_mode == b->st_mode && a->st_uid == b->st_uid;
}

static void st_get(const char *path, struct stat *st)
{
	if (stat(path, st) < 0)
		memset(st, 0, sizeof *st);
}

static int st_still(const struct stat *st, time_t now)
{
	return !st->st_ino || (st->st_mtim.tv_sec < now - RACY_S && st->st_ctim.tv_sec < now - RACY_S);
}

static int idx_path(const char *path, sa_t *out)
{
	sa_trunc(out, 0);
	return sa_catf(out, "%s.idx", path);
}

/* the table from the files as they are now, into cache.tab */
static int reload(const char *path, const char *ipath, sa_t *err)
{
	sa_t buf = SA_INIT;
	struct stat st;
	int rc = -1;

	if (cache.text.st_ino && (cache.text.st_mode & 022)) {
		bad(err, path, 0, "writable by group or others: not used");
		goto out;
	}
	if (cache.idx.st_ino) {
		if (file_read_all(ipath, ALIASES_FILE_MAX * 2u, O_NOFOLLOW, &buf, &st) < 0) {
			sa_trunc(err, 0);
			sa_catf(err, "%s: %s", ipath, strerror(errno));
			goto out;
		}
		if (st.st_mode & 022) {
			bad(err, ipath, 0, "writable by group or others: not used");
			goto out;
		}
		if (aliases_from_index(buf.s, buf.len, &cache.tab, err) < 0) {
			sa_catf(err, " (%s; run pochtactl aliases)", ipath);
			goto out;
		}
		if (cache.text.st_ino && (cache.text.st_mtim.tv_sec > st.st_mtim.tv_sec ||
		    (cache.text.st_mtim.tv_sec == st.st_mtim.tv_sec &&
		     cache.text.st_mtim.tv_nsec > st.st_mtim.tv_nsec)))
			log_warn(NULL, "%s is older than %s: using it; run pochtactl aliases (newaliases)",
			         ipath, path);
		cache.tab.owner = cache.text.st_ino ? cache.text.st_uid : st.st_uid;
	} else if (cache.text.st_ino) {
		if (file_read_all(path, ALIASES_FILE_MAX, 0, &buf, &st) < 0) {
			sa_trunc(err, 0);
			sa_catf(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (aliases_parse(buf.s, buf.len, path, &cache.tab, err) < 0)
			goto out;
		cache.tab.owner = st.st_uid;
	} else {
		if (aliases_parse("", 0, path, &cache.tab, err) < 0)
			goto out;
		cache.tab.owner = 0;
	}
	rc = 0;
out:
	sa_free(&buf);
	return rc;
}

const struct aliases_tab *aliases_load(const char *path, sa_t *err)
{
	sa_t ipath = SA_INIT;
	struct stat t, i;
	time_t now = time(NULL);

	if (idx_path(path, &ipath) < 0) {
		sa_trunc(err, 0);
		sa_cats(err, "out of memory");
		return NULL;
	}
	st_get(path, &t);
	st_get(ipath.s, &i);
	if (cache.valid && strcmp(cache.path.s, path) == 0 && st_same(&t, &cache.text) &&
	    st_same(&i, &cache.idx)) {
		sa_free(&ipath);
		return &cache.tab;
	}
	cache.valid = 0;
	cache.text = t;
	cache.idx = i;
	if (reload(path, ipath.s, err) < 0) {
		sa_free(&ipath);
		return NULL;
	}
	sa_free(&ipath);
	/* kept only when both files have been still long enough */
	if (st_still(&t, now) && st_still(&i, now) && sa_copys(&cache.path, path) == 0)
		cache.valid = 1;
	return &cache.tab;
}

long aliases_compile(const char *path, sa_t *err)
{
	struct aliases_tab t = ALIASES_TAB_INIT;
	sa_t buf = SA_INIT, ipath = SA_INIT;
	long rc = -1;

	if (file_read_all(path, ALIASES_FILE_MAX, 0, &buf, NULL) < 0) {
		sa_trunc(err, 0);
		sa_catf(err, "%s: %s", path, errno == EFBIG ? "file too large" : strerror(errno));
		goto out;
	}
	if (aliases_parse(buf.s, buf.len, path, &t, err) < 0)
		goto out;
	if (idx_path(path, &ipath) < 0 || durable_replace(ipath.s, t.b.s, t.b.len, 0644) < 0) {
		sa_trunc(err, 0);
		sa_catf(err, "cannot write %s.idx: %s", path, strerror(errno));
		goto out;
	}
	rc = (long)t.n;
out:
	aliases_free(&t);
	sa_free(&buf);
	sa_free(&ipath);
	return rc;
}
