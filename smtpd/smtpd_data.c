/* smtpd_data: the DATA state machine (see smtpd_data.h). */
#include "smtpd_data.h"

enum {
	D_BOL,    /* at the start of a line (after CRLF, or at the start of the data) */
	D_MID,    /* inside a line */
	D_CR,     /* a CR that may start CRLF */
	D_DOT,    /* a line that started with '.' */
	D_DOTCR,  /* CRLF "." CR: one LF more ends the data */
	D_END,
};

static void size_inc(struct data_sm *d, unsigned n)
{
	if (d->size <= ~0ULL - n)
		d->size += n;
	else
		d->size = ~0ULL;
}

/* a whole header field: count the Received: ones */
static void data_field(const struct hdr *h, void *arg)
{
	struct data_sm *d = arg;

	if (hdr_name_is(h->buf, h->len, "received", NULL) && d->received < ~0UL)
		d->received++;
	else if (hdr_name_is(h->buf, h->len, "date", NULL))
		d->has_date = 1;
	else if (hdr_name_is(h->buf, h->len, "message-id", NULL))
		d->has_msgid = 1;
}

/* one byte of message output, with the header-section bookkeeping */
static void emit(struct data_sm *d, char *out, size_t *o, char c)
{
	out[(*o)++] = c;
	size_inc(d, 1);
	if (c == '\0')
		d->nul = 1;
	if (c == '\n') {
		d->linelen = 0;
	} else if (++d->linelen > DATA_LINE_MAX) {
		d->longline = 1;
		d->linelen = DATA_LINE_MAX + 1; /* no wrap, however long */
	}
	if (d->in_header) {
		hdr_feed(&d->hdr, &c, 1);
		d->in_header = !d->hdr.done;
		if (!d->in_header && d->pause_at_hdr_end)
			d->paused = 1;
	}
	d->out_bol = (c == '\n');
}

/* a byte inside a line: CR may start a line end; a bare LF is marked bad and
 * kept as data, so that it can never start a line that could end the data */
static void mid_byte(struct data_sm *d, char c, char *out, size_t *o)
{
	if (c == '\r') {
		d->state = D_CR;
		return;
	}
	if (c == '\n')
		d->bare = 1;
	emit(d, out, o, c);
	d->state = D_MID;
}

void data_init(struct data_sm *d)
{
	d->state = D_BOL;
	d->done = 0;
	d->bare = 0;
	d->nul = 0;
	d->longline = 0;
	d->linelen = 0;
	d->in_header = 1;
	d->out_bol = 1;
	d->received = 0;
	d->has_date = d->has_msgid = 0;
	d->pause_at_hdr_end = d->paused = 0;
	hdr_init(&d->hdr, d->hdr_name, sizeof d->hdr_name, data_field, d);
	d->size = 0;
}

size_t data_feed(struct data_sm *d, const char *in, size_t inlen,
                 char *out, size_t outcap, size_t *outlen)
{
	size_t i = 0, o = 0;

	/* each input byte writes at most 2 output bytes */
	while (i < inlen && d->state != D_END && outcap - o >= 2 && !d->paused) {
		char c = in[i++];

		switch (d->state) {
		case D_BOL:
			if (c == '.')
				d->state = D_DOT;
			else
				mid_byte(d, c, out, &o);
			break;
		case D_MID:
			mid_byte(d, c, out, &o);
			break;
		case D_CR:
			if (c == '\n') {
				emit(d, out, &o, '\n');
				size_inc(d, 1); /* the CR of CRLF */
				d->state = D_BOL;
			} else {
				d->bare = 1; /* a CR not followed by LF */
				emit(d, out, &o, '\r');
				mid_byte(d, c, out, &o);
			}
			break;
		case D_DOT:
			/* a leading dot followed by more than CRLF is stuffing: drop it */
			if (c == '\r')
				d->state = D_DOTCR;
			else
				mid_byte(d, c, out, &o);
			break;
		case D_DOTCR:
			if (c == '\n') {
				d->state = D_END;
				d->done = 1;
				hdr_end(&d->hdr); /* a last field without the empty line */
			} else {
				/* CRLF "." CR without LF: not the end; the CR is bare */
				d->bare = 1;
				emit(d, out, &o, '\r');
				mid_byte(d, c, out, &o);
			}
			break;
		default:
			break;
		}
	}
	*outlen = o;
	return i;
}
