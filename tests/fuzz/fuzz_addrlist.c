/* libFuzzer harness: RFC 5322 address lists (addrlist.h). Properties: no
 * crash; every address handed out formats back into a path that addr.h
 * parses to the same address; the count returned is the number handed out;
 * a refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addrlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const struct addr *a, void *arg)
{
	sa_t t = SA_INIT;
	struct addr b;
	size_t used;

	if (sa_catc(&t, '<') < 0 || addr_format(a, &t) < 0 || sa_catc(&t, '>') < 0)
		abort();
	if (t.len > ADDR_PATH_MAX + 2 ||
	    addr_parse_path(t.s, t.len, &b, 0, 1, &used) != ADDR_OK || used != t.len)
		abort();
	if (b.has_domain != a->has_domain || strcmp(b.local, a->local) != 0 ||
	    strcmp(b.domain, a->domain) != 0)
		abort();
	sa_free(&t);
	(*(long *)arg)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sa_t err = SA_INIT;
	long n = 0, r = addrlist_parse((const char *)data, size, check, &n, &err);

	if (r >= 0 && r != n)
		abort();
	if (r < 0 && (!err.s || !*err.s))
		abort();
	sa_free(&err);
	return 0;
}
