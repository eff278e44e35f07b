/* routes: the per-domain route table ROOT/etc/routes, and the HOST[:PORT]
 * syntax shared with the relayhost key.
 *   # comment
 *   example.org      mx.example.net          mail for example.org (exactly)
 *   .example.org     [192.0.2.7]:2525        mail for every subdomain of example.org
 *   example.net      mx.example.net tls=verify  only over TLS with a verified certificate
 * A destination is a host name (looked up like a mail domain: MX records, else
 * its own A/AAAA), a [name] (A/AAAA only, no MX lookup), an IP address or an
 * [IP] (no lookup at all). IPv6 addresses go in brackets: [::1]:2525, [IPv6:::1].
 * Lookup: the exact domain first, then ".suffix" entries, the longest suffix
 * first. Domains compare without regard to ASCII case. */
#ifndef POCHTA_ROUTES_H
#define POCHTA_ROUTES_H
#include <stddef.h>
#include "addr.h"
#include "sa.h"

#define ROUTES_MAX_LINE 1024
#define ROUTES_MAX 100000        /* entries per table */

struct route_dest {
	char host[ADDR_DOMAIN_MAX + 1]; /* name (lowercased) or the IP address text, no brackets */
	int is_ip;                      /* host is an IP address: connect to it directly */
	int no_mx;                      /* [name] or IP: no MX lookup */
	unsigned port;                  /* 0: not given (use remote_port) */
};

struct route {
	char *domain;                   /* lowercased, without the leading dot */
	int subdomains;                 /* the entry was ".domain" */
	struct route_dest dest;
	unsigned line;
	int tls_verify;                 /* "tls=verify": STARTTLS and a certificate
	                                 * valid for the host, or no delivery */
};

struct routes {
	struct route *v;
	size_t n;
};

#define ROUTES_INIT { 0, 0 }

/* parse "host", "host:port", "[host]", "[host]:port", "1.2.3.4:25", "[::1]:25",
 * "[IPv6:::1]" (s, len bytes); 0, or -1 with a reason in err */
int route_dest_parse(const char *s, size_t len, struct route_dest *d, sa_t *err);
/* parse a whole table (name is used in messages "name:line: ..."); on success the
 * entries are added to r. 0, or -1 with errno (EINVAL for a syntax error) and
 * the message in err. A domain given twice is an error. */
int routes_parse(struct routes *r, const char *name, const char *text, size_t len, sa_t *err);
/* read and parse a file; a missing file is an empty table. 0 or -1 as above */
int routes_load(struct routes *r, const char *path, sa_t *err);
/* the entry for domain (len bytes), or NULL */
const struct route *routes_find(const struct routes *r, const char *domain, size_t len);
void routes_free(struct routes *r);

#endif
