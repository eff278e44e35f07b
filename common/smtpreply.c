/* smtpreply: SMTP reply lines in, replies out (see smtpreply.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "dsn.h"
#include "smtpreply.h"

void smtpreply_reset(struct smtpreply *r)
{
	r->code = 0;
	r->status[0] = '\0';
	r->enhanced = 0;
	r->nlines = 0;
	r->done = 0;
	sa_trunc(&r->text, 0);
	sa_trunc(&r->lines, 0);
}

void smtpreply_free(struct smtpreply *r)
{
	sa_free(&r->text);
	sa_free(&r->lines);
	smtpreply_reset(r);
}

/* an enhanced status at the start of a line's text, followed by a space or the
 * end: its length, or 0 */
static size_t enh_len(const char *s, size_t len)
{
	size_t k = dsn_status_len(s, len);

	return k && (k == len || s[k] == ' ') ? k : 0;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

/* append to the diagnostic text without passing SMTPREPLY_TEXT_MAX */
static int text_cat(sa_t *t, const char *p, size_t n)
{
	size_t room = t->len < SMTPREPLY_TEXT_MAX ? SMTPREPLY_TEXT_MAX - t->len : 0;

	return sa_catb(t, p, n < room ? n : room);
}

int smtpreply_line(struct smtpreply *r, const char *l, size_t len)
{
	size_t skip, k;
	int code;

	if (r->done)
		return fail(EINVAL);
	/* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39 */
	if (len < 3 || len > SMTPREPLY_LINE_MAX - 2 || l[0] < '2' || l[0] > '5' || l[1] < '0' ||
	    l[1] > '5' || l[2] < '0' || l[2] > '9' || (len > 3 && l[3] != ' ' && l[3] != '-'))
		return fail(EPROTO);
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (r->nlines > 0 && code != r->code)
		return fail(EPROTO);
	if (r->nlines >= SMTPREPLY_LINES_MAX)
		return fail(EPROTO);
	skip = len > 3 ? 4 : 3;
	k = enh_len(l + skip, len - skip);
	if (r->nlines == 0) {
		r->code = code;
		if (k && k < sizeof r->status && l[skip] == l[0]) {
			memcpy(r->status, l + skip, k);
			r->status[k] = '\0';
			r->enhanced = 1;
		} else {
			snprintf(r->status, sizeof r->status, "%c.0.0", l[0]);
		}
		if (text_cat(&r->text, l, 3) < 0)
			return -1;
	} else if (k) {
		/* continuation lines repeat the enhanced code: keep it once */
		skip += k + (skip + k < len ? 1 : 0);
	}
	if (skip < len && (text_cat(&r->text, " ", 1) < 0 || text_cat(&r->text, l + skip, len - skip) < 0))
		return -1;
	if ((r->nlines > 0 && sa_catc(&r->lines, '\n') < 0) ||
	    sa_catb(&r->lines, l + (len > 3 ? 4 : 3), len > 3 ? len - 4 : 0) < 0)
		return -1;
	r->nlines++;
	if (len == 3 || l[3] == ' ')
		r->done = 1;
	return r->done;
}

/* "SIZE" parameter: the limit, or 0 for none or not a number */
static unsigned long long size_param(const char *p, size_t n)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (p[i] < '0' || p[i] > '9' || v > (~0ULL - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

void smtpreply_ehlo(const struct smtpreply *r, struct smtpreply_ehlo *e)
{
	const struct {
		const char *kw;
		int *flag;
	} flags[] = {
		{ "PIPELINING", &e->pipelining },
		{ "8BITMIME", &e->eightbitmime },
		{ "ENHANCEDSTATUSCODES", &e->enhancedstatuscodes },
		{ "SMTPUTF8", &e->smtputf8 },
		{ "CHUNKING", &e->chunking },
		{ "BINARYMIME", &e->binarymime },
		{ "DSN", &e->dsn },
		{ "STARTTLS", &e->starttls },
	};
	const char *p = r->lines.s, *end = p ? p + r->lines.len : NULL;
	size_t i;

	memset(e, 0, sizeof *e);
	if (!p || !r->done)
		return;
	/* the first line is the server's name and greeting; then one keyword a line */
	p = memchr(p, '\n', (size_t)(end - p));
	while (p && p < end) {
		const char *l = p + 1, *nl = memchr(l, '\n', (size_t)(end - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(end - l), kw = 0, par;

		while (kw < len && l[kw] != ' ')
			kw++;
		par = kw < len ? kw + 1 : len;
		for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
			if (kw == strlen(flags[i].kw) && strncasecmp(l, flags[i].kw, kw) == 0)
				*flags[i].flag = 1;
		if (kw == 4 && strncasecmp(l, "SIZE", 4) == 0) {
			e->size = 1;
			e->size_max = size_param(l + par, len - par);
		}
		p = nl;
	}
}
