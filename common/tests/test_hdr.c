/* hdr: the end-of-header scanner, fed whole and in pieces of every small size */
#include <stdlib.h>
#include "hdr.h"
#include "sa.h"
#include "test.h"

/* the fields seen, each as "[field]" (NUL shown as '0'; "+" after a cut one) */
struct seen {
	sa_t fields;
};

static void collect(const struct hdr *h, void *arg)
{
	struct seen *s = arg;

	sa_catc(&s->fields, '[');
	for (size_t i = 0; i < h->len; i++)
		sa_catc(&s->fields, h->buf[i] ? h->buf[i] : '0');
	sa_catc(&s->fields, ']');
	if (h->over)
		sa_catc(&s->fields, '+');
}

struct result {
	char fields[512];
	size_t used;            /* bytes hdr_feed said were header */
	int done;
	unsigned long long hlen, off;
};

static void scan(const char *msg, size_t n, size_t chunk, size_t cap, int end, struct result *r)
{
	struct seen s = { SA_INIT };
	char *buf = cap ? malloc(cap) : NULL;
	struct hdr h;

	hdr_init(&h, buf, cap, collect, &s);
	r->used = 0;
	for (size_t i = 0; i < n; i += chunk)
		r->used += hdr_feed(&h, msg + i, n - i < chunk ? n - i : chunk);
	if (end)
		hdr_end(&h);
	snprintf(r->fields, sizeof r->fields, "%s", s.fields.s ? s.fields.s : "");
	r->done = h.done;
	r->hlen = h.hlen;
	r->off = h.off;
	sa_free(&s.fields);
	free(buf);
}

/* scans msg in every way of cutting it; all must agree. Returns the fields. */
static struct result R;
static const char *fields_n(const char *msg, size_t n, size_t cap)
{
	struct result one;

	scan(msg, n, n ? n : 1, cap, 1, &R);
	for (size_t c = 1; c < 9; c++) {
		scan(msg, n, c, cap, 1, &one);
		T_STREQ(one.fields, R.fields);
		T_INTEQ(one.used, R.used);
		T_INTEQ(one.hlen, R.hlen);
		T_INTEQ(one.done, 1);
	}
	return R.fields;
}

static const char *fields(const char *msg)
{
	return fields_n(msg, strlen(msg), 256);
}

static void test_lf_crlf(void)
{
	T_STREQ(fields("A: 1\nB: 2\n\nbody\nC: 3\n"), "[A: 1][B: 2]");
	T_INTEQ(R.hlen, 10);
	T_INTEQ(R.used, 11); /* the empty line belongs to the section */
	T_STREQ(fields("A: 1\r\nB: 2\r\n\r\nbody\r\nC: 3\r\n"), "[A: 1][B: 2]");
	T_INTEQ(R.hlen, 12);
	T_INTEQ(R.used, 14);
	/* mixed line ends */
	T_STREQ(fields("A: 1\r\nB: 2\n\r\nC: body\n"), "[A: 1][B: 2]");
	T_INTEQ(R.hlen, 11);
}

static void test_no_body(void)
{
	/* the header section ends with the message */
	T_STREQ(fields("A: 1\nB: 2\n"), "[A: 1][B: 2]");
	T_INTEQ(R.hlen, 10);
	T_INTEQ(R.used, 10);
	/* nor a line end after the last field */
	T_STREQ(fields("A: 1\nB: 2"), "[A: 1][B: 2]");
	T_INTEQ(R.hlen, 9);
	T_STREQ(fields("A: 1\r\nB: 2\r"), "[A: 1][B: 2\r]");
	/* an empty message, an empty header section */
	T_STREQ(fields(""), "");
	T_INTEQ(R.hlen, 0);
	T_STREQ(fields("\nA: body\n"), "");
	T_INTEQ(R.hlen, 0);
	T_INTEQ(R.used, 1);
	T_STREQ(fields("\r\nA: body\n"), "");
	T_INTEQ(R.used, 2);
}

static void test_not_yet_done(void)
{
	struct result r;

	/* without hdr_end the last field is not whole yet: the next line may fold */
	scan("A: 1\nB: 2\n", 10, 3, 64, 0, &r);
	T_STREQ(r.fields, "[A: 1]");
	T_INTEQ(r.done, 0);
	/* a CR at the start of a line may be the empty line: undecided */
	scan("A: 1\n\r", 6, 6, 64, 0, &r);
	T_STREQ(r.fields, "[A: 1]");
	T_INTEQ(r.done, 0);
	T_INTEQ(r.used, 6);
}

static void test_folded(void)
{
	T_STREQ(fields("Subject: a\n b\n\tc\nTo: x\n\n"), "[Subject: a b\tc][To: x]");
	T_STREQ(fields("Subject: a\r\n b\r\n\r\n"), "[Subject: a b]");
	/* a continuation at the very start is a field of its own */
	T_STREQ(fields(" x\nA: 1\n\n"), "[ x][A: 1]");
	/* a line of blanks is not empty: it folds */
	T_STREQ(fields("A: 1\n \nB: 2\n\n"), "[A: 1 ][B: 2]");
}

static void test_bare_cr(void)
{
	/* a bare CR inside a line is text; a line that starts with one is a field */
	T_STREQ(fields("A: 1\r2\nB\r\r\n\n"), "[A: 1\r2][B\r]");
	T_STREQ(fields("A: 1\n\rX\n\n"), "[A: 1][\rX]");
	T_STREQ(fields("A: 1\n\r\rX\n\n"), "[A: 1][\r\rX]");
	T_STREQ(fields("A: 1\n\r"), "[A: 1][\r]");
}

static void test_nul(void)
{
	static const char m[] = "A: 1\0002\nB\000: x\n\nbody";

	T_STREQ(fields_n(m, sizeof m - 1, 256), "[A: 1" "02][B0: x]");
	T_INTEQ(R.hlen, 13);
}

static void test_huge_lines(void)
{
	size_t n = 200000;
	char *m = malloc(n + 32);

	/* a field far longer than the buffer: cut, flagged, and the scan goes on */
	memcpy(m, "X: ", 3);
	memset(m + 3, 'a', n);
	memcpy(m + 3 + n, "\nB: 2\n\nC: 3\n", 12);
	T_STREQ(fields_n(m, n + 15, 8), "[X: aaaaa]+[B: 2]");
	T_INTEQ(R.hlen, n + 3 + 6);
	/* no buffer at all: only the end of the section */
	scan(m, n + 15, 4096, 0, 1, &R);
	T_STREQ(R.fields, "[]+[]+");
	T_INTEQ(R.hlen, n + 3 + 6);
	free(m);
}

static void test_feed_after_done(void)
{
	struct hdr h;

	hdr_init(&h, NULL, 0, NULL, NULL);
	T_INTEQ(hdr_feed(&h, "A: 1\n\nB: 2\n", 11), 6);
	T_INTEQ(h.done, 1);
	T_INTEQ(hdr_feed(&h, "C: 3\n\n", 6), 0);
	hdr_end(&h);
	T_INTEQ(h.hlen, 5);
	T_INTEQ(h.off, 6);
}

static void test_name_is(void)
{
	size_t v = 0;

	T_INTEQ(hdr_name_is("Received: x", 11, "received", &v), 1);
	T_INTEQ(v, 9);
	T_INTEQ(hdr_name_is("RECEIVED \t: x", 13, "received", &v), 1);
	T_INTEQ(v, 11);
	T_INTEQ(hdr_name_is("Received:", 9, "received", NULL), 1);
	T_INTEQ(hdr_name_is("Received", 8, "received", NULL), 0);
	T_INTEQ(hdr_name_is("Received x:", 11, "received", NULL), 0);
	T_INTEQ(hdr_name_is("X-Received: a", 13, "received", NULL), 0);
	T_INTEQ(hdr_name_is(" Received: a", 12, "received", NULL), 0);
	T_INTEQ(hdr_name_is("Receive: a", 10, "received", NULL), 0);
	T_INTEQ(hdr_name_is("", 0, "received", NULL), 0);
	/* the length bounds the look: no reading past it */
	T_INTEQ(hdr_name_is("Received: x", 8, "received", NULL), 0);
}

int main(void)
{
	T_RUN(test_lf_crlf);
	T_RUN(test_no_body);
	T_RUN(test_not_yet_done);
	T_RUN(test_folded);
	T_RUN(test_bare_cr);
	T_RUN(test_nul);
	T_RUN(test_huge_lines);
	T_RUN(test_feed_after_done);
	T_RUN(test_name_is);
	return t_done();
}
