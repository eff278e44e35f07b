/* libFuzzer harness: addr_parse_path / addr_parse / addr_domain_valid, and
 * their SMTPUTF8 forms (_u). Properties: no crash; results within the limits;
 * a parsed address formats to text that parses back to the same address; an
 * ASCII parse succeeds exactly when the UTF-8 one does on a pure ASCII input;
 * every byte >= 0x80 of a UTF-8 address is part of a character addr_utf8_len
 * allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		int u;
		if ((unsigned char)s[i] < 0x80)
			continue;
		u = addr_utf8_len(s + i, n - i);
		if (u < 2 || u > 4)
			abort();
		i += (size_t)u - 1;
	}
}

static void check_addr(const struct addr *a, int utf8)
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
	if (addr_parse_path_u(path.s, path.len, &b, 0, !a->has_domain, utf8, &used) != ADDR_OK)
		abort();
	check_utf8(a->local);
	check_utf8(a->domain);
	if (used != path.len || strcmp(a->local, b.local) != 0 || strcmp(a->domain, b.domain) != 0 ||
	    a->has_domain != b.has_domain)
		abort();
	if (a->has_domain && out.len > ADDR_PATH_MAX - 2)
		abort();
	/* the domain part of a name (not a literal) is valid on its own (an
	 * ASCII one: addr_domain_valid knows no U-labels) */
	if (a->has_domain && a->domain[0] != '[' && addr_is_ascii(a->domain, strlen(a->domain)) &&
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

	for (int flags = 0; flags < 8; flags++) {
		int utf8 = (flags & 4) != 0, ra;
		used = (size_t)-1;
		r = addr_parse_path_u(s, size, &a, flags & 1, flags & 2, utf8, &used);
		if (r < (utf8 ? ADDR_EUTF8 : ADDR_E8BIT) || r > ADDR_OK)
			abort();
		if (utf8 && addr_is_ascii(s, size)) {
			struct addr b;
			size_t u2;
			ra = addr_parse_path(s, size, &b, flags & 1, flags & 2, &u2);
			if ((ra == ADDR_OK) != (r == ADDR_OK))
				abort();
		}
		if (r == ADDR_OK) {
			if (used < 2 || used > size || used > ADDR_PATH_MAX || s[used - 1] != '>')
				abort();
			check_addr(&a, utf8);
		} else if (used != (size_t)-1) {
			abort();
		}
	}
	r = addr_parse(s, size, &a);
	if (r == ADDR_OK) {
		if (!a.has_domain || a.null)
			abort();
		check_addr(&a, 0);
	}
	r = addr_parse_u(s, size, &a, 1);
	if (r == ADDR_OK) {
		if (!a.has_domain || a.null)
			abort();
		check_addr(&a, 1);
	}
	(void)addr_domain_valid(s, size);
	(void)addr_strerror(r);
	return 0;
}
