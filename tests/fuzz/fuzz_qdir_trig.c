/* libFuzzer harness: the trigger FIFO's reader (qdir_trig_feed). The first
 * byte picks where the input is split in two; both halves fed in turn must give
 * the same wake-ups as the whole input at once, every domain handed out must be
 * one qdir_domain_ok accepts, and the parser's state stays within bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "qdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	unsigned long long hash;
	size_t n;
};

static void got(char what, const char *domain, void *arg)
{
	struct seen *s = arg;
	s->hash = s->hash * 131 + (unsigned char)what;
	if (domain) {
		size_t len = strlen(domain);
		if (what != QDIR_WAKE_DOMAIN || !qdir_domain_ok(domain, len))
			abort();
		for (size_t i = 0; i < len; i++)
			s->hash = s->hash * 131 + (unsigned char)domain[i];
	}
	s->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = data[0] % size;
	const char *in = (const char *)data + 1;
	size_t n = size - 1;
	if (cut > n)
		cut = n;
	struct qdir_trig a = QDIR_TRIG_INIT, b = QDIR_TRIG_INIT;
	struct seen sa = { 0, 0 }, sb = { 0, 0 };
	qdir_trig_feed(&a, in, n, got, &sa);
	qdir_trig_feed(&b, in, cut, got, &sb);
	qdir_trig_feed(&b, in + cut, n - cut, got, &sb);
	if (sa.n != sb.n || sa.hash != sb.hash || a.len > QDIR_DOMAIN_MAX || a.in_domain != b.in_domain)
		abort();
	return 0;
}
