/* libFuzzer harness: addr_parse_path / addr_parse / addr_domain_valid.
 * Properties: no crash; results within the limits; a parsed address formats to
 * text that parses back to the same address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_addr(const struct addr *a)
{
	sa_t out = SA_INIT, path = SA_INIT;
	struct addr b;
	size_t used = 0;

	if (strlen(a->local) > ADDR_LOCAL_MAX || strlen(a->domain) > ADDR_DOMAIN_MAX)
		abort();
	if (a->null) {
		if (a->local[0] || a->domain[0] || a->has_domain)
			abort();
		return;
	}
	if (a->has_domain != (a->domain[0] != '\0'))
		abort();
	if (addr_format(a, &out) < 0)
		abort();
	/* round trip through the canonical form */
	if (sa_catc(&path, '<') < 0 || sa_catb(&path, out.s, out.len) < 0 || sa_catc(&path, '>') < 0)
		abort();
	if (addr_parse_path(path.s, path.len, &b, 0, !a->has_domain, &used) != ADDR_OK)
		abort();
	if (used != path.len || strcmp(a->local, b.local) != 0 || strcmp(a->domain, b.domain) != 0 ||
	    a->has_domain != b.has_domain)
		abort();
	if (a->has_domain && out.len > ADDR_PATH_MAX - 2)
		abort();
	/* the domain part of a name (not a literal) is valid on its own */
	if (a->has_domain && a->domain[0] != '[' &&
	    !addr_domain_valid(a->domain, strlen(a->domain)))
		abort();
	sa_free(&out);
	sa_free(&path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct addr a;
	size_t used;
	int r;

	for (int flags = 0; flags < 4; flags++) {
		used = (size_t)-1;
		r = addr_parse_path(s, size, &a, flags & 1, flags & 2, &used);
		if (r < ADDR_E8BIT || r > ADDR_OK)
			abort();
		if (r == ADDR_OK) {
			if (used < 2 || used > size || used > ADDR_PATH_MAX || s[used - 1] != '>')
				abort();
			check_addr(&a);
		} else if (used != (size_t)-1) {
			abort();
		}
	}
	r = addr_parse(s, size, &a);
	if (r == ADDR_OK) {
		if (!a.has_domain || a.null)
			abort();
		check_addr(&a);
	}
	(void)addr_domain_valid(s, size);
	(void)addr_strerror(r);
	return 0;
}
