/* libFuzzer harness: the etc/routes parser and lookups, and the HOST[:PORT]
 * destination syntax: no crash; every entry parsed is well-formed and found. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct routes r = ROUTES_INIT;
	struct route_dest d;
	sa_t err = SA_INIT;
	size_t i;

	if (routes_parse(&r, "fuzz", (const char *)data, size, &err) == 0) {
		for (i = 0; i < r.n; i++) {
			const struct route *e = &r.v[i], *f;
			size_t dl = strlen(e->domain);
			if (!addr_domain_valid(e->domain, dl) || e->dest.port > 65535 || !e->dest.host[0])
				abort();
			if (!e->subdomains) {
				f = routes_find(&r, e->domain, dl);
				if (f != e)
					abort(); /* exact entries are unique and always win */
			}
		}
	} else if (!err.s || err.len == 0) {
		abort(); /* every error says why */
	}
	routes_free(&r);
	sa_free(&err);
	if (route_dest_parse((const char *)data, size, &d, NULL) == 0 && (!d.host[0] || d.port > 65535))
		abort();
	return 0;
}
