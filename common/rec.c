/* rec: length-prefixed records "<type><len>:<bytes>\n", written and parsed. */
#include <errno.h>
#include <string.h>
#include "rec.h"

/* the largest length REC_LEN_DIGITS digits can carry */
#define REC_LEN_LIMIT 9999999999ULL

/* "<type><len>:" into h; its length, or 0 when type or len are out of range */
static size_t rec_header(char *h, int type, size_t len)
{
	char d[24];
	size_t i = sizeof d, n = 0;
	unsigned long long u = len;

	if (type < 0 || type > 255 || u > REC_LEN_LIMIT)
		return 0;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	h[n++] = (char)type;
	memcpy(h + n, d + i, sizeof d - i);
	n += sizeof d - i;
	h[n++] = ':';
	return n;
}

int rec_put(io_t *out, int type, const void *data, size_t len)
{
	char h[REC_LEN_DIGITS + 2];
	size_t hn = rec_header(h, type, len);

	if (hn == 0) {
		errno = (type < 0 || type > 255) ? EINVAL : E2BIG;
		return -1;
	}
	if (io_put(out, h, hn) < 0 || io_put(out, data, len) < 0 || io_put(out, "\n", 1) < 0)
		return -1;
	return 0;
}

int rec_puts(io_t *out, int type, const char *s)
{
	return rec_put(out, type, s, strlen(s));
}

int rec_cat(sa_t *sa, int type, const void *data, size_t len)
{
	char h[REC_LEN_DIGITS + 2];
	size_t hn = rec_header(h, type, len), total;
	size_t old = sa->len;

	if (hn == 0) {
		errno = (type < 0 || type > 255) ? EINVAL : E2BIG;
		return -1;
	}
	/* reserve everything first so a failure leaves sa as it was */
	if (size_add(hn, len, &total) < 0 || size_add(total, 1, &total) < 0 ||
	    sa_ready(sa, total) < 0)
		return -1;
	if (sa_catb(sa, h, hn) < 0 || sa_catb(sa, data, len) < 0 || sa_catc(sa, '\n') < 0) {
		sa_trunc(sa, old);
		return -1;
	}
	return 0;
}

/* parse "<digits>:" at p[0..n): the length and the bytes used, or -1 when
 * malformed, or 0 when more input is needed to decide */
static int rec_len_parse(const char *p, size_t n, unsigned long long *len, size_t *used)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ':') {
			if (i == 0)
				return -1; /* no digits */
			*len = v;
			*used = i + 1;
			return 1;
		}
		if (c < '0' || c > '9')
			return -1;
		if (i == REC_LEN_DIGITS)
			return -1; /* too many digits */
		if (i == 1 && p[0] == '0')
			return -1; /* leading zero: "0" only as itself */
		v = v * 10 + (c - '0');
	}
	return 0;
}

int rec_next(const char *buf, size_t len, size_t *pos, int *type, const char **data, size_t *dlen)
{
	size_t p = *pos, used, rest;
	unsigned long long n;

	if (p == len)
		return 0;
	if (p > len)
		goto bad;
	rest = len - p - 1;
	if (rec_len_parse(buf + p + 1, rest, &n, &used) != 1)
		goto bad;
	rest -= used;
	/* the data and its '\n' must be inside buf */
	if (n >= rest || buf[p + 1 + used + n] != '\n')
		goto bad;
	*type = (unsigned char)buf[p];
	*data = buf + p + 1 + used;
	*dlen = (size_t)n;
	*pos = p + 1 + used + (size_t)n + 1;
	return 1;
bad:
	errno = EPROTO;
	return -1;
}

/* the next byte, consumed: IO_OK, IO_EOF or IO_ERR */
static int rec_byte(io_t *in, unsigned char *c)
{
	int r = io_fill(in);

	if (r != IO_OK)
		return r;
	*c = (unsigned char)in->buf[in->start];
	io_consume(in, 1);
	return IO_OK;
}

int rec_get(io_t *in, int *type, sa_t *data, size_t max)
{
	char h[REC_LEN_DIGITS + 1];
	unsigned long long n;
	unsigned char c;
	size_t hn = 0, used, left;
	int r;

	sa_trunc(data, 0);
	if (sa_ready(data, 0) < 0)
		return IO_ERR;
	r = rec_byte(in, &c);
	if (r != IO_OK)
		return r; /* IO_EOF here is a clean record boundary */
	*type = c;
	/* the length: digits up to ':', REC_LEN_DIGITS at most */
	for (;;) {
		r = rec_byte(in, &c);
		if (r == IO_EOF)
			goto proto;
		if (r != IO_OK)
			return IO_ERR;
		h[hn++] = (char)c;
		r = rec_len_parse(h, hn, &n, &used);
		if (r < 0)
			goto proto;
		if (r == 1)
			break;
		if (hn == sizeof h)
			goto proto;
	}
	if (n > max) {
		errno = E2BIG;
		return IO_ERR;
	}
	/* grow with the data that really arrives, never on the sender's word alone */
	left = (size_t)n;
	while (left > 0) {
		size_t k;
		r = io_fill(in);
		if (r == IO_EOF)
			goto proto;
		if (r != IO_OK)
			return IO_ERR;
		k = in->end - in->start;
		if (k > left)
			k = left;
		if (sa_catb(data, in->buf + in->start, k) < 0)
			return IO_ERR;
		io_consume(in, k);
		left -= k;
	}
	r = rec_byte(in, &c);
	if (r == IO_EOF || (r == IO_OK && c != '\n'))
		goto proto;
	if (r != IO_OK)
		return IO_ERR;
	return IO_OK;
proto:
	errno = EPROTO;
	return IO_ERR;
}
