/* addrlist: RFC 5322 address lists (addrlist.h). A tokenizer (comments and
 * white space dropped) and one pass over the tokens that collects each
 * addr-spec's text, then addr.h checks it. */
#include <errno.h>
#include <string.h>
#include "addrlist.h"

enum { T_END, T_WORD, T_QSTR, T_DLIT, T_SPECIAL, T_BAD };

struct tok {
	int type;
	char c;              /* T_SPECIAL: the character */
	size_t off, len;     /* the token's bytes in the input */
	const char *why;     /* T_BAD: the reason */
};

struct al {
	const char *s;
	size_t len, pos;
	sa_t *err;
	/* the item being read */
	size_t item;                   /* where it started, for messages */
	char cur[ADDR_PATH_MAX + 1];   /* the addr-spec text so far, without <> */
	size_t curlen;
	int over;                      /* cur overflowed */
	int words;                     /* words in a row with nothing between: a phrase when > 1 */
	int phrase;
	int in_angle, in_group, done;  /* done: the item's address was handed out */
};

static int al_special(unsigned char c)
{
	return c && strchr("()<>[]:;@\\,.\"", c) != NULL;
}

static int al_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* a quoted string or domain literal from s[pos] (the opening char) to its
 * close; the position after it, or 0 when it is not closed */
static size_t al_delimited(const struct al *l, size_t pos, char close)
{
	for (pos++; pos < l->len; pos++) {
		if (l->s[pos] == '\\')
			pos++;
		else if (l->s[pos] == close)
			return pos + 1;
		else if (close == ']' && l->s[pos] == '[')
			return 0;
	}
	return 0;
}

/* skip white space and comments; 0, or -1 for an unclosed comment */
static int al_skip(struct al *l)
{
	while (l->pos < l->len) {
		unsigned char c = (unsigned char)l->s[l->pos];
		if (al_space(c)) {
			l->pos++;
		} else if (c == '(') {
			size_t depth = 0;
			for (; l->pos < l->len; l->pos++) {
				char d = l->s[l->pos];
				if (d == '\\')
					l->pos++;
				else if (d == '(')
					depth++;
				else if (d == ')' && --depth == 0)
					break;
			}
			if (l->pos >= l->len)
				return -1;
			l->pos++;
		} else {
			break;
		}
	}
	return 0;
}

static void al_next(struct al *l, struct tok *t)
{
	unsigned char c;
	size_t end;

	memset(t, 0, sizeof *t);
	if (al_skip(l) < 0) {
		t->type = T_BAD;
		t->why = "unclosed comment";
		return;
	}
	t->off = l->pos;
	if (l->pos >= l->len) {
		t->type = T_END;
		return;
	}
	c = (unsigned char)l->s[l->pos];
	if (c == '"' || c == '[') {
		end = al_delimited(l, l->pos, c == '"' ? '"' : ']');
		if (!end) {
			t->type = T_BAD;
			t->why = c == '"' ? "unclosed quoted string" : "unclosed domain literal";
			return;
		}
		t->type = c == '"' ? T_QSTR : T_DLIT;
		t->len = end - l->pos;
		l->pos = end;
		return;
	}
	if (c == ')' || c == ']' || c == '\\' || c == '\0' || c == 0x7f || (c < 0x20 && !al_space(c))) {
		t->type = T_BAD;
		t->why = c == ')' || c == ']' ? "unbalanced bracket" : "bad character";
		return;
	}
	if (al_special(c)) {
		t->type = T_SPECIAL;
		t->c = (char)c;
		t->len = 1;
		l->pos++;
		return;
	}
	end = l->pos;
	while (end < l->len) {
		unsigned char d = (unsigned char)l->s[end];
		if (al_space(d) || al_special(d) || d < 0x20 || d == 0x7f)
			break;
		end++;
	}
	t->type = T_WORD;
	t->len = end - l->pos;
	l->pos = end;
}

/* err = why, with the item's text so far (cut, controls shown as '?') */
static long al_fail(struct al *l, const char *why)
{
	size_t end = l->pos < l->len ? l->pos : l->len, n = end - l->item, i;

	if (n > 80)
		n = 80;
	sa_trunc(l->err, 0);
	if (sa_cats(l->err, why) == 0 && sa_cats(l->err, " in \"") == 0) {
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)l->s[l->item + i];
			if (sa_catc(l->err, c >= 0x20 && c != 0x7f ? (char)c : '?') < 0)
				break;
		}
		sa_catc(l->err, '"');
	}
	errno = EINVAL;
	return -1;
}

static void al_item_reset(struct al *l)
{
	l->curlen = 0;
	l->over = 0;
	l->words = 0;
	l->phrase = 0;
	l->done = 0;
}

static void al_add(struct al *l, const char *p, size_t n)
{
	if (l->over || n > sizeof l->cur - 1 - l->curlen) {
		l->over = 1;
		return;
	}
	memcpy(l->cur + l->curlen, p, n);
	l->curlen += n;
}

/* the collected addr-spec to fn; 0, or -1 (err set) */
static int al_emit(struct al *l, addrlist_fn *fn, void *arg, long *count)
{
	char path[ADDR_PATH_MAX + 3];
	struct addr a;
	size_t used;
	int r;

	if (l->over)
		return (int)al_fail(l, "address too long");
	if (l->phrase || l->curlen == 0)
		return (int)al_fail(l, "not an address");
	path[0] = '<';
	memcpy(path + 1, l->cur, l->curlen);
	path[l->curlen + 1] = '>';
	r = addr_parse_path(path, l->curlen + 2, &a, 0, 1, &used);
	if (r != ADDR_OK || used != l->curlen + 2)
		return (int)al_fail(l, r != ADDR_OK ? addr_strerror(r) : "bad address");
	l->done = 1;
	(*count)++;
	return fn(&a, arg);
}

/* the end of an item (',' ';' or the end): its address, when one is pending */
static int al_item_end(struct al *l, addrlist_fn *fn, void *arg, long *count)
{
	if (!l->done && (l->curlen > 0 || l->over || l->phrase) && al_emit(l, fn, arg, count) < 0)
		return -1;
	al_item_reset(l);
	return 0;
}

static int al_special_tok(struct al *l, const struct tok *t, addrlist_fn *fn, void *arg,
                          long *count)
{
	switch (t->c) {
	case '<':
		if (l->in_angle || l->done)
			return (int)al_fail(l, "misplaced '<'");
		al_item_reset(l); /* what came before was the display name */
		l->in_angle = 1;
		return 0;
	case '>':
		if (!l->in_angle)
			return (int)al_fail(l, "misplaced '>'");
		l->in_angle = 0;
		return al_emit(l, fn, arg, count);
	case ':':
		if (l->in_angle) {
			/* the end of an obsolete source route "@a,@b:": dropped */
			if (l->curlen == 0 || l->cur[0] != '@')
				return (int)al_fail(l, "misplaced ':'");
			al_item_reset(l);
			return 0;
		}
		if (l->in_group || l->done)
			return (int)al_fail(l, "misplaced ':'");
		al_item_reset(l); /* the group's name */
		l->in_group = 1;
		l->item = l->pos;
		return 0;
	case ';':
		if (l->in_angle || !l->in_group)
			return (int)al_fail(l, "misplaced ';'");
		if (al_item_end(l, fn, arg, count) < 0)
			return -1;
		l->in_group = 0;
		l->done = 1; /* only ',' or the end may follow */
		return 0;
	case ',':
		if (l->in_angle) {
			if (l->curlen == 0 || l->cur[0] != '@') /* inside a source route only */
				return (int)al_fail(l, "misplaced ','");
			al_add(l, ",", 1);
			return 0;
		}
		if (al_item_end(l, fn, arg, count) < 0)
			return -1;
		l->item = l->pos;
		return 0;
	default: /* '.' '@' */
		if (l->done)
			return (int)al_fail(l, "text after an address");
		al_add(l, &t->c, 1);
		l->words = 0;
		return 0;
	}
}

long addrlist_parse(const char *s, size_t len, addrlist_fn *fn, void *arg, sa_t *err)
{
	struct al l;
	struct tok t;
	long count = 0;

	memset(&l, 0, sizeof l);
	l.s = s;
	l.len = len;
	l.err = err;
	for (;;) {
		al_next(&l, &t);
		switch (t.type) {
		case T_END:
			if (l.in_angle)
				return al_fail(&l, "unclosed '<'");
			/* a group without its ';' at the very end: taken as closed */
			if (al_item_end(&l, fn, arg, &count) < 0)
				return -1;
			return count;
		case T_BAD:
			return al_fail(&l, t.why);
		case T_SPECIAL:
			if (al_special_tok(&l, &t, fn, arg, &count) < 0)
				return -1;
			break;
		default: /* a word, quoted string or domain literal */
			if (l.done)
				return al_fail(&l, "text after an address");
			if (++l.words > 1)
				l.phrase = 1;
			/* unfolding (RFC 5322 §2.2.3): the line ends go, the blanks stay */
			for (size_t i = 0; i < t.len; i++)
				if (s[t.off + i] != '\r' && s[t.off + i] != '\n')
					al_add(&l, s + t.off + i, 1);
			break;
		}
	}
}
