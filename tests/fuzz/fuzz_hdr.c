/* libFuzzer harness: the end-of-header scanner (hdr.h).
 * Properties: the fields and the end of the section do not depend on how the
 * input is cut into pieces; they equal what a plain reference computes from
 * the whole input (lines split at LF, the CR of CRLF dropped, lines that start
 * with SP or HT joined to the field before, the first empty line ends the
 * section); a small buffer holds each field's start and flags the cut. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hdr.h"
#include "sa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct got {
	sa_t all;              /* each field: its length, then its bytes */
	size_t cap;
};

static void field(const struct hdr *h, void *arg)
{
	struct got *g = arg;
	size_t v;

	if (h->len > h->cap || (h->over && h->len != h->cap))
		abort();
	if (hdr_name_is(h->buf, h->len, "received", &v) && (v > h->len || h->buf[v - 1] != ':'))
		abort();
	if (sa_catf(&g->all, "%zu%c:", h->len, h->over ? '+' : '=') < 0 ||
	    sa_catb(&g->all, h->buf, h->len) < 0)
		abort();
}

struct res {
	struct got g;
	size_t used;
	unsigned long long hlen, off;
	int done;
};

static void run(const char *p, size_t n, const uint8_t *cuts, size_t ncuts, size_t cap,
                struct res *r)
{
	char *buf = malloc(cap ? cap : 1);
	struct hdr h;
	size_t pos = 0, k = 0;

	if (!buf)
		abort();
	memset(r, 0, sizeof *r);
	r->g.cap = cap;
	hdr_init(&h, buf, cap, field, &r->g);
	while (pos < n) {
		size_t step = ncuts ? (size_t)cuts[k++ % ncuts] % 17 + 1 : n;
		if (step > n - pos)
			step = n - pos;
		size_t u = hdr_feed(&h, p + pos, step);
		if (u > step || (u < step && !h.done))
			abort();
		r->used += u;
		pos += step;
	}
	hdr_end(&h);
	if (!h.done || h.hlen > h.off || h.off != r->used)
		abort();
	r->hlen = h.hlen;
	r->off = h.off;
	free(buf);
}

/* the reference: the same fields, from the whole input at once */
static void reference(const char *p, size_t n, struct res *r)
{
	sa_t cur = SA_INIT;
	size_t pos = 0;
	int open = 0;

	memset(r, 0, sizeof *r);
	r->g.cap = (size_t)-1;
	while (pos < n) {
		const char *lf = memchr(p + pos, '\n', n - pos);
		size_t end = lf ? (size_t)(lf - p) : n, len = end - pos;
		if (lf && len > 0 && p[end - 1] == '\r')
			len--;
		if (lf && len == 0) {
			r->hlen = pos;
			r->off = r->used = end + 1;
			break;
		}
		if (!open || (p[pos] != ' ' && p[pos] != '\t')) {
			if (open && (sa_catf(&r->g.all, "%zu=:", cur.len) < 0 ||
			             sa_catb(&r->g.all, cur.s, cur.len) < 0))
				abort();
			sa_trunc(&cur, 0);
			open = 1;
		}
		if (sa_catb(&cur, p + pos, len) < 0)
			abort();
		pos = lf ? end + 1 : n;
		r->hlen = r->off = r->used = pos;
	}
	if (open && (sa_catf(&r->g.all, "%zu=:", cur.len) < 0 ||
	             sa_catb(&r->g.all, cur.s, cur.len) < 0))
		abort();
	sa_free(&cur);
}

static int same(const struct res *a, const struct res *b)
{
	return a->used == b->used && a->hlen == b->hlen && a->off == b->off &&
	       a->g.all.len == b->g.all.len &&
	       (a->g.all.len == 0 || memcmp(a->g.all.s, b->g.all.s, a->g.all.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res whole, cut, ref, small;
	size_t ncuts = size && data[0] < 8 ? data[0] : 0;
	const uint8_t *cuts = data + (ncuts < size ? 1 : 0);

	reference((const char *)data, size, &ref);
	run((const char *)data, size, NULL, 0, 8192, &whole);
	run((const char *)data, size, cuts, ncuts, 8192, &cut);
	if (!same(&whole, &ref) || !same(&cut, &ref))
		abort();
	/* a buffer of 5: every field is its first 5 bytes, over when longer */
	run((const char *)data, size, cuts, ncuts, 5, &small);
	if (small.used != ref.used || small.hlen != ref.hlen)
		abort();
	sa_free(&whole.g.all);
	sa_free(&cut.g.all);
	sa_free(&ref.g.all);
	sa_free(&small.g.all);
	return 0;
}
