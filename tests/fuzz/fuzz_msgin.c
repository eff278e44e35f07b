/* libFuzzer harness: local message input and its header section (msgin.h).
 * The first byte picks -i and the cut sizes. Properties: the output does not
 * depend on how the input is cut or how small the output buffer is; it has
 * a CR only when bare_cr is set and a NUL only when nul is; every line ends
 * in LF; without the "." rule all input is used; the header scan covers the
 * fields contiguously from the start, and hend <= body <= the output length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "msgin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	char *p;
	size_t len, used;
	struct msgin m;
};

static void run(const char *in, size_t n, int dot, size_t step, size_t cap, struct out *r)
{
	size_t pos = 0, o;

	r->p = malloc(3 * n + 4);
	if (!r->p)
		abort();
	r->len = 0;
	msgin_init(&r->m, dot);
	while (pos < n && !r->m.done) {
		size_t c = n - pos < step ? n - pos : step;
		size_t u = msgin_feed(&r->m, in + pos, c, r->p + r->len, cap, &o);
		if (u > c || o > cap || (u == 0 && !r->m.done))
			abort();
		pos += u;
		r->len += o;
	}
	r->used = pos;
	if (!r->m.done)
		r->len += msgin_end(&r->m, r->p + r->len);
}

static size_t next_field;

static int field(const char *msg, size_t off, size_t len, void *arg)
{
	(void)msg;
	(void)arg;
	if (off != next_field || len == 0)
		abort();
	next_field = off + len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out a, b;
	size_t hend, body, i;
	int dot, r;

	if (size < 1)
		return 0;
	dot = data[0] & 1;
	run((const char *)data + 1, size - 1, dot, size, 4096, &a);
	run((const char *)data + 1, size - 1, dot, (size_t)(data[0] >> 1) % 7 + 1,
	    (size_t)(data[0] >> 4) % 4 + 3, &b);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0 || a.used != b.used ||
	    a.m.nul != b.m.nul || a.m.bare_cr != b.m.bare_cr || a.m.longline != b.m.longline)
		abort();
	if (!dot && a.used != size - 1)
		abort();
	if (a.len && a.p[a.len - 1] != '\n')
		abort();
	for (i = 0; i < a.len; i++)
		if ((a.p[i] == '\r' && !a.m.bare_cr) || (a.p[i] == '\0' && !a.m.nul))
			abort();
	next_field = 0;
	r = msgin_headers(a.p, a.len, field, NULL, &hend, &body);
	if (r < 0 || next_field != hend || hend > body || body > a.len || body - hend != (size_t)r)
		abort();
	free(a.p);
	free(b.p);
	return 0;
}
