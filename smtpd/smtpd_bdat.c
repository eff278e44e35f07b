/* smtpd_bdat: the BDAT state machine (see smtpd_bdat.h). */
#include "smtpd_bdat.h"

static void bdat_size_inc(struct bdat_sm *b, unsigned long long n)
{
	b->size = b->size <= ~0ULL - n ? b->size + n : ~0ULL;
}

static void bdat_field(const struct hdr *h, void *arg)
{
	struct bdat_sm *b = arg;

	if (hdr_name_is(h->buf, h->len, "received", NULL) && b->received < ~0UL)
		b->received++;
}

/* the header scan sees the text form (hdr.h takes LF and CRLF alike) */
static void bdat_hdr(struct bdat_sm *b, char c)
{
	if (b->in_header) {
		hdr_feed(&b->hdr, &c, 1);
		b->in_header = !b->hdr.done;
	}
}

/* text: one byte of the LF form */
static void bdat_emit(struct bdat_sm *b, char *out, size_t *o, char c)
{
	out[(*o)++] = c;
	if (c == '\0')
		b->nul = 1;
	if (c == '\n') {
		b->linelen = 0;
	} else if (++b->linelen > DATA_LINE_MAX) {
		b->longline = 1;
		b->linelen = DATA_LINE_MAX + 1;
	}
	bdat_hdr(b, c);
}

void bdat_init(struct bdat_sm *b, int binary)
{
	b->binary = binary;
	b->cr = 0;
	b->bare = 0;
	b->nul = 0;
	b->longline = 0;
	b->linelen = 0;
	b->in_header = 1;
	hdr_init(&b->hdr, b->hdr_name, sizeof b->hdr_name, bdat_field, b);
	b->received = 0;
	b->size = 0;
	b->left = 0;
	b->ended = 0;
}

void bdat_chunk(struct bdat_sm *b, unsigned long long n)
{
	b->left = n;
	bdat_size_inc(b, n);
}

size_t bdat_feed(struct bdat_sm *b, const char *in, size_t inlen, char *out, size_t outcap,
                 size_t *outlen)
{
	size_t i = 0, o = 0;

	if (inlen > b->left)
		inlen = (size_t)b->left;
	while (i < inlen && outcap - o >= 2) {
		char c = in[i++];

		if (b->binary) {
			out[o++] = c;
			bdat_hdr(b, c);
			continue;
		}
		if (b->cr) {
			b->cr = 0;
			if (c == '\n') {
				bdat_emit(b, out, &o, '\n');
				continue;
			}
			b->bare = 1;          /* a CR not followed by LF */
			bdat_emit(b, out, &o, '\r');
		}
		if (c == '\r') {
			b->cr = 1;
			continue;
		}
		if (c == '\n')
			b->bare = 1;          /* an LF without its CR */
		bdat_emit(b, out, &o, c);
	}
	b->left -= i;
	*outlen = o;
	return i;
}

size_t bdat_end(struct bdat_sm *b, char *out)
{
	size_t o = 0;

	if (b->cr) {
		b->cr = 0;
		b->bare = 1;
		bdat_emit(b, out, &o, '\r');
	}
	hdr_end(&b->hdr);
	b->in_header = 0;
	b->ended = 1;
	return o;
}
