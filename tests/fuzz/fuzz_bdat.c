/* libFuzzer harness for the BDAT state machine of pochta-smtpd.
 * The first input byte picks text or binary and the chunk sizes' seed; the
 * rest is the message. Properties: the result does not depend on how the
 * message is cut into chunks and reads; a chunk is taken exactly (never a byte
 * more); binary output is exactly the input; text output without a bare CR/LF
 * is exactly the input with CRLF made LF; NUL and long lines marked exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../smtpd/smtpd_bdat.c"

struct run {
	size_t outlen;
	struct bdat_sm b;
};

static void feed(const uint8_t *in, size_t len, int binary, unsigned seed, char *out,
                 struct run *r)
{
	char buf[5];
	size_t pos = 0;

	bdat_init(&r->b, binary);
	r->outlen = 0;
	do {
		size_t n = seed ? (seed = seed * 1103515245u + 12345u) % 17 : len - pos;
		if (n > len - pos)
			n = len - pos;
		bdat_chunk(&r->b, n);
		while (r->b.left > 0) {
			size_t step = 1 + (seed ? seed % 7 : len), got, used;
			if (step > len - pos)
				step = len - pos;
			used = bdat_feed(&r->b, (const char *)in + pos, len - pos < step + 2 ? len - pos : step + 2,
			                 buf, sizeof buf, &got);
			if (used > n || got > sizeof buf || (used == 0 && got == 0))
				abort();
			memcpy(out + r->outlen, buf, got);
			r->outlen += got;
			pos += used;
		}
	} while (pos < len);
	r->outlen += bdat_end(&r->b, out + r->outlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *in = data + 1;
	size_t len = size ? size - 1 : 0, i, n = 0, line = 0, longest = 0;
	int binary = size && (data[0] & 1);
	char *a = malloc(len + 1), *b = malloc(len + 1), *ref = malloc(len + 1);
	struct run ra, rb;

	if (!a || !b || !ref)
		abort();
	feed(in, len, binary, 0, a, &ra);
	feed(in, len, binary, size ? data[0] + 1u : 3u, b, &rb);
	if (ra.outlen != rb.outlen || memcmp(a, b, ra.outlen) != 0 || ra.b.bare != rb.b.bare ||
	    ra.b.nul != rb.b.nul || ra.b.longline != rb.b.longline ||
	    ra.b.received != rb.b.received || ra.b.size != len || rb.b.size != len)
		abort();
	if (binary) {
		if (ra.outlen != len || (len && memcmp(a, in, len) != 0) || ra.b.bare || ra.b.nul)
			abort();
	} else {
		if (ra.b.nul != (len > 0 && memchr(in, 0, len) != NULL))
			abort();
		if (!ra.b.bare) {
			for (i = 0; i < len; i++) {
				if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n')
					i++;
				ref[n++] = (char)in[i];
			}
			if (n != ra.outlen || (n && memcmp(ref, a, n) != 0))
				abort();
			for (i = 0; i < n; i++) {
				line = ref[i] == '\n' ? 0 : line + 1;
				if (line > longest)
					longest = line;
			}
			if (ra.b.longline != (longest > DATA_LINE_MAX))
				abort();
		}
	}
	free(a);
	free(b);
	free(ref);
	return 0;
}
