/* libFuzzer harness for the DATA state machine of pochta-smtpd.
 * Properties: the result does not depend on how the input is split into reads;
 * the data ends only right after CRLF "." CRLF (or "." CRLF at the very start);
 * and when no bare CR/LF was seen, the output is exactly the unstuffed input
 * with CRLF turned into LF; a NUL is flagged exactly when one was consumed, a
 * long line exactly when an output line has more than DATA_LINE_MAX octets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../smtpd/smtpd_data.c"

struct run {
	size_t used, outlen;
	struct data_sm d;
};

/* feed in chunks whose sizes come from the seed; out small to exercise "out full" */
static void feed(const uint8_t *in, size_t len, unsigned seed, char *out, struct run *r)
{
	char buf[7];
	size_t pos = 0;

	data_init(&r->d);
	r->outlen = 0;
	while (pos < len && !r->d.done) {
		size_t chunk = seed ? 1 + (seed = seed * 1103515245u + 12345u) % 13 : len - pos;
		size_t n, got;
		if (chunk > len - pos)
			chunk = len - pos;
		n = data_feed(&r->d, (const char *)in + pos, chunk, buf, sizeof buf, &got);
		if (n > chunk || got > sizeof buf)
			abort();
		memcpy(out + r->outlen, buf, got);
		r->outlen += got;
		pos += n;
		if (n == 0 && got == 0 && !r->d.done)
			abort(); /* no progress */
	}
	r->used = pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	char *a = malloc(len + 1), *b = malloc(len + 1), *ref = malloc(len + 1);
	struct run ra, rb;
	size_t i, n = 0;
	int bol = 1;

	if (!a || !b || !ref)
		abort();
	feed(in, len, 0, a, &ra);
	feed(in, len, len ? in[0] + 1u : 7u, b, &rb);
	if (ra.used != rb.used || ra.outlen != rb.outlen || memcmp(a, b, ra.outlen) != 0 ||
	    ra.d.done != rb.d.done || ra.d.bare != rb.d.bare || ra.d.received != rb.d.received ||
	    ra.d.size != rb.d.size || ra.d.nul != rb.d.nul || ra.d.longline != rb.d.longline)
		abort();
	if (ra.d.nul != (ra.used > 0 && memchr(in, 0, ra.used) != NULL))
		abort();
	if (ra.outlen > ra.used)
		abort();
	if (ra.d.done) {
		const char *u = (const char *)in;
		if (ra.used < 3 || memcmp(u + ra.used - 3, ".\r\n", 3) != 0)
			abort();
		if (ra.used > 3 && (ra.used < 5 || memcmp(u + ra.used - 5, "\r\n", 2) != 0))
			abort();
	}
	if (ra.d.done && !ra.d.bare) {
		/* reference: lines of the consumed input before the terminator */
		size_t end = ra.used - 3;
		for (i = 0; i < end; i++) {
			if (bol && in[i] == '.') {
				bol = 0;
				continue;
			}
			if (in[i] == '\r' && i + 1 < end + 2 && in[i + 1] == '\n') {
				ref[n++] = '\n';
				i++;
				bol = 1;
				continue;
			}
			ref[n++] = (char)in[i];
			bol = 0;
		}
		if (n != ra.outlen || memcmp(ref, a, n) != 0)
			abort();
		{
			size_t line = 0, longest = 0;
			for (i = 0; i < n; i++) {
				line = ref[i] == '\n' ? 0 : line + 1;
				if (line > longest)
					longest = line;
			}
			if (ra.d.longline != (longest > DATA_LINE_MAX))
				abort();
		}
	}
	free(a);
	free(b);
	free(ref);
	return 0;
}
