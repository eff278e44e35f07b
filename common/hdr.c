/* hdr: the end-of-header scanner and field collector (hdr.h). */
#include <string.h>
#include "hdr.h"

enum {
	HDR_BOL,    /* at the start of a line */
	HDR_BOLCR,  /* a line that starts with CR: the empty line when LF follows */
	HDR_MID,    /* inside a line */
	HDR_CR,     /* inside a line after a CR: the line end when LF follows */
	HDR_DONE,
};

void hdr_init(struct hdr *h, char *buf, size_t cap, hdr_field_fn *fn, void *arg)
{
	memset(h, 0, sizeof *h);
	h->buf = buf;
	h->cap = buf ? cap : 0;
	h->fn = fn;
	h->arg = arg;
	h->state = HDR_BOL;
}

static void hdr_add(struct hdr *h, char c)
{
	if (h->len < h->cap)
		h->buf[h->len++] = c;
	else
		h->over = 1;
}

/* the open field is whole: hand it out and start afresh */
static void hdr_field_end(struct hdr *h)
{
	if (h->infield && h->fn)
		h->fn(h, h->arg);
	h->infield = 0;
	h->len = 0;
	h->over = 0;
}

static void hdr_finish(struct hdr *h, unsigned long long hlen)
{
	hdr_field_end(h);
	h->hlen = hlen;
	h->done = 1;
	h->state = HDR_DONE;
}

size_t hdr_feed(struct hdr *h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && h->state != HDR_DONE; i++) {
		char c = p[i];

		h->off++;
		switch (h->state) {
		case HDR_BOL:
			if (c == '\n') {
				hdr_finish(h, h->off - 1);
				break;
			}
			if (c != ' ' && c != '\t')
				hdr_field_end(h); /* not a continuation: the last field is whole */
			if (c == '\r') {
				h->state = HDR_BOLCR;
				break;
			}
			h->infield = 1;
			hdr_add(h, c);
			h->state = HDR_MID;
			break;
		case HDR_BOLCR:
			if (c == '\n') {
				hdr_finish(h, h->off - 2);
				break;
			}
			/* a line that starts with a bare CR: a (bad) field of its own */
			h->infield = 1;
			hdr_add(h, '\r');
			/* fall through */
		case HDR_MID:
			if (c == '\r')
				h->state = HDR_CR;
			else if (c == '\n')
				h->state = HDR_BOL;
			else {
				hdr_add(h, c);
				h->state = HDR_MID;
			}
			break;
		case HDR_CR:
			if (c == '\n') {
				h->state = HDR_BOL; /* CRLF: the CR is the line end's */
			} else if (c == '\r') {
				hdr_add(h, '\r'); /* the earlier CR was not; this one may be */
			} else {
				hdr_add(h, '\r');
				hdr_add(h, c);
				h->state = HDR_MID;
			}
			break;
		}
	}
	return i;
}

void hdr_end(struct hdr *h)
{
	if (h->state == HDR_DONE)
		return;
	if (h->state == HDR_CR || h->state == HDR_BOLCR) {
		h->infield = 1; /* a last CR without LF is text */
		hdr_add(h, '\r');
	}
	hdr_finish(h, h->off);
}

static char hdr_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int hdr_name_is(const char *f, size_t len, const char *name, size_t *value)
{
	size_t n = strlen(name), i;

	if (len <= n)
		return 0;
	for (i = 0; i < n; i++)
		if (hdr_lower(f[i]) != hdr_lower(name[i]))
			return 0;
	while (i < len && (f[i] == ' ' || f[i] == '\t'))
		i++;
	if (i >= len || f[i] != ':')
		return 0;
	if (value)
		*value = i + 1;
	return 1;
}
