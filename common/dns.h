/* dns: MX and address lookups for remote delivery (RFC 5321 §5.1, RFC 7505)
 * through the C library's resolver (libresolv: res_nmkquery, res_nsend and the
 * ns_* parsers). The servers asked are those of /etc/resolv.conf, or the
 * dns_servers list (IPv4 IP[:PORT], at most MAXNS) when it is not empty.
 * Lookup results: DNS_OK, or a DNS_E* code with a struct dns_err that says how
 * the delivery fails (class 'T' or 'P', an RFC 3463 status and a text). */
#ifndef POCHTA_DNS_H
#define POCHTA_DNS_H
#include <stddef.h>
#include <resolv.h>
#include "addr.h"
#include "sa.h"

#define DNS_MAX_MX 32      /* MX hosts used per domain (more are ignored) */
#define DNS_MAX_ADDR 16    /* addresses used per host */

#define DNS_OK 0
#define DNS_ENOTFOUND (-1) /* NXDOMAIN: the name does not exist */
#define DNS_ETEMP (-2)     /* SERVFAIL, timeout, no server: try again later */
#define DNS_EFAIL (-3)     /* REFUSED, FORMERR, a malformed answer ... */
#define DNS_ENULLMX (-4)   /* the domain publishes a null MX: "MX 0 ." alone (RFC 7505) */

/* what an MX record's exchange is */
#define DNS_MX_HOST 0                /* a host name */
#define DNS_MX_ROOT 1                /* "." (the null MX when alone at preference 0) */
#define DNS_MX_BADNAME 2             /* no valid host name: never usable */

struct dns_mx {
	unsigned pref;
	int kind;                        /* DNS_MX_* */
	char host[ADDR_DOMAIN_MAX + 1];  /* lowercased, no trailing dot; "" for the root;
	                                  * a bad name as the resolver printed it, truncated */
};

struct dns_addr {
	int family;                      /* AF_INET or AF_INET6 */
	unsigned char a[16];             /* network order; IPv4 in the first 4 bytes */
};

struct dns_err {
	char class;                      /* 'T' temporary or 'P' permanent */
	char status[8];                  /* e.g. "4.4.3" */
	char text[400];
};

/* fill e (when not NULL) */
void dns_err_set(struct dns_err *e, char class, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

typedef struct dns {
	struct __res_state res;
	int custom;                      /* dns_servers given: no getaddrinfo */
	int timeout;                     /* seconds per try */
} dns_t;

/* servers: "" (resolv.conf) or "IP[:PORT] ..." (comma/space separated);
 * timeout: seconds per try with custom servers (0: the resolver's default).
 * 0, or -1 with a message in err (bad server list, resolver init failure) */
int dns_init(dns_t *d, const char *servers, int timeout, sa_t *err);
void dns_close(dns_t *d);

/* the MX records of domain, sorted by preference, equal preferences shuffled,
 * unusable ones (kind DNS_MX_ROOT, DNS_MX_BADNAME) included: the caller skips them.
 * DNS_OK with *n == 0 only when the domain exists and has no MX record at all
 * (use its own A/AAAA); DNS_ENULLMX for a null MX (dns_mx_null).
 * *out is malloc()ed (free() it) when *n > 0. */
int dns_mx(dns_t *d, const char *domain, struct dns_mx **out, size_t *n, struct dns_err *e);
/* the addresses of host: IPv6 first, then IPv4 (custom servers: both asked,
 * each answer used on its own, merged by dns_addrs_merge), or in getaddrinfo()'s
 * order; DNS_OK with *n == 0 when the name has none */
int dns_addrs(dns_t *d, const char *host, struct dns_addr *out, size_t max, size_t *n,
              struct dns_err *e);

/* the pure parts, unit-tested with canned packets: */

/* DNS_OK for rcode NOERROR, DNS_ENOTFOUND for NXDOMAIN, DNS_ETEMP for SERVFAIL,
 * DNS_EFAIL for the rest and for a packet that is not a response */
int dns_classify(const unsigned char *pkt, size_t len);
/* the MX records of an answer section (other types skipped), the first
 * DNS_MAX_MX of them, each with its kind. *out malloc()ed when *n > 0.
 * DNS_OK, DNS_EFAIL when malformed, -1 with errno ENOMEM */
int dns_parse_mx(const unsigned char *pkt, size_t len, struct dns_mx **out, size_t *n);
/* RFC 7505: 1 when the records are one "MX 0 ." and nothing else */
int dns_mx_null(const struct dns_mx *v, size_t n);
/* a host's result from its per-family results r[0..nr-1] (DNS_OK or DNS_E*) and
 * the number of addresses they gave: DNS_OK when any address came (an NXDOMAIN or
 * a failure of one family never hides the other's addresses, RFC 4074 4.2); else
 * the first temporary failure (DNS_ETEMP, DNS_EFAIL); else DNS_ENOTFOUND when a
 * family said NXDOMAIN; else DNS_OK (the name exists, no addresses) */
int dns_addrs_merge(const int *r, size_t nr, size_t n);
/* the A (type ns_t_a) or AAAA (ns_t_aaaa) records, appended at out[*n], up to max */
int dns_parse_addrs(const unsigned char *pkt, size_t len, int type, struct dns_addr *out,
                    size_t max, size_t *n);
/* sort by preference; shuffle runs of equal preference */
void dns_mx_sort(struct dns_mx *v, size_t n);
/* an address as text (buf at least 46 bytes) */
const char *dns_addr_str(const struct dns_addr *a, char *buf, size_t len);

#endif
