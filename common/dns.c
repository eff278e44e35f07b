/* dns: MX and address lookups through libresolv (see dns.h). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "conf.h"
#include "dns.h"

#define DNS_PKT_MAX 65536

void dns_err_set(struct dns_err *e, char class, const char *status, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->class = class;
	snprintf(e->status, sizeof e->status, "%s", status);
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

/* ---- the pure parts ---- */

int dns_classify(const unsigned char *pkt, size_t len)
{
	ns_msg m;

	if (len < NS_HFIXEDSZ || len > DNS_PKT_MAX || ns_initparse(pkt, (int)len, &m) < 0)
		return DNS_EFAIL;
	if (!ns_msg_getflag(m, ns_f_qr))
		return DNS_EFAIL;
	switch (ns_msg_getflag(m, ns_f_rcode)) {
	case ns_r_noerror:
		return DNS_OK;
	case ns_r_nxdomain:
		return DNS_ENOTFOUND;
	case ns_r_servfail:
		return DNS_ETEMP;
	}
	return DNS_EFAIL;
}

static void lower_copy(char *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
	out[n] = '\0';
}

/* a name from the resolver ("a.b", "a.b." or "." / "" for the root) into out,
 * lowercased without the trailing dot; 1 valid host name, 0 root, -1 invalid.
 * An all-digit last label ("MX 10 192.0.2.1") is no host name (RFC 3696 2):
 * getaddrinfo would take it for an address, our own resolver would not. */
static int name_clean(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), i;

	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0)
		return 0;
	if (n >= cap || n > ADDR_DOMAIN_MAX || !addr_domain_valid(in, n))
		return -1;
	for (i = n; i > 0 && in[i - 1] >= '0' && in[i - 1] <= '9'; i--)
		;
	if (i == 0 || in[i - 1] == '.')
		return -1;
	lower_copy(out, in, n);
	return 1;
}

int dns_parse_mx(const unsigned char *pkt, size_t len, struct dns_mx **out, size_t *n)
{
	ns_msg m;
	ns_rr rr;
	char name[NS_MAXDNAME + 1];
	struct dns_mx *v = NULL;
	size_t count = 0;
	int i, an;

	*out = NULL;
	*n = 0;
	if (len > DNS_PKT_MAX || ns_initparse(pkt, (int)len, &m) < 0)
		return DNS_EFAIL;
	an = ns_msg_count(m, ns_s_an);
	for (i = 0; i < an; i++) {
		struct dns_mx *x;
		int k;
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0) {
			free(v);
			return DNS_EFAIL;
		}
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in)
			continue; /* e.g. the CNAME that led to the MX */
		if (ns_rr_rdlen(rr) < 3) {
			free(v);
			return DNS_EFAIL;
		}
		if (ns_name_uncompress(ns_msg_base(m), ns_msg_end(m), ns_rr_rdata(rr) + 2,
		                       name, sizeof name) < 0) {
			free(v);
			return DNS_EFAIL;
		}
		if (!v) {
			v = calloc(DNS_MAX_MX, sizeof *v);
			if (!v) {
				errno = ENOMEM;
				return -1;
			}
		}
		if (count >= DNS_MAX_MX)
			continue;
		x = &v[count++];
		x->pref = ns_get16(ns_rr_rdata(rr));
		k = name_clean(name, x->host, sizeof x->host);
		x->kind = k > 0 ? DNS_MX_HOST : k == 0 ? DNS_MX_ROOT : DNS_MX_BADNAME;
		if (k < 0) {
			/* kept for the error text: the resolver's presentation form
			 * (printable, escaped), truncated */
			size_t nl = strlen(name);
			lower_copy(x->host, name, nl < sizeof x->host ? nl : sizeof x->host - 1);
		}
	}
	if (count == 0) {
		free(v);
		return DNS_OK;
	}
	*out = v;
	*n = count;
	return DNS_OK;
}

int dns_mx_null(const struct dns_mx *v, size_t n)
{
	return n == 1 && v[0].kind == DNS_MX_ROOT && v[0].pref == 0;
}

int dns_addrs_merge(const int *r, size_t nr, size_t n)
{
	size_t i;
	int notfound = 0;

	if (n > 0)
		return DNS_OK;
	for (i = 0; i < nr; i++) {
		if (r[i] == DNS_ETEMP || r[i] == DNS_EFAIL)
			return r[i];
		if (r[i] == DNS_ENOTFOUND)
			notfound = 1;
	}
	return notfound ? DNS_ENOTFOUND : DNS_OK;
}

int dns_parse_addrs(const unsigned char *pkt, size_t len, int type, struct dns_addr *out,
                    size_t max, size_t *n)
{
	ns_msg m;
	ns_rr rr;
	int i, an;
	size_t want = type == ns_t_aaaa ? 16 : 4;

	if (len > DNS_PKT_MAX || ns_initparse(pkt, (int)len, &m) < 0)
		return DNS_EFAIL;
	an = ns_msg_count(m, ns_s_an);
	for (i = 0; i < an && *n < max; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0)
			return DNS_EFAIL;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_rdlen(rr) != want)
			return DNS_EFAIL;
		memset(&out[*n], 0, sizeof out[*n]);
		out[*n].family = type == ns_t_aaaa ? AF_INET6 : AF_INET;
		memcpy(out[*n].a, ns_rr_rdata(rr), want);
		(*n)++;
	}
	return DNS_OK;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

void dns_mx_sort(struct dns_mx *v, size_t n)
{
	size_t i, j, k;

	if (n < 2)
		return;
	qsort(v, n, sizeof *v, mx_cmp);
	/* RFC 5321 §5.1: hosts of equal preference are tried in random order */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && v[j].pref == v[i].pref; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t r = i + arc4random_uniform((uint32_t)(k - i + 1));
			struct dns_mx t = v[k];
			v[k] = v[r];
			v[r] = t;
		}
	}
}

const char *dns_addr_str(const struct dns_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* ---- the resolver ---- */

struct server_list {
	dns_t *d;
	sa_t *err;
	int n;
};

static int server_add(const char *item, size_t len, void *arg)
{
	struct server_list *sl = arg;
	char ip[INET_ADDRSTRLEN + 1];
	const char *colon = memchr(item, ':', len);
	size_t iplen = colon ? (size_t)(colon - item) : len;
	struct sockaddr_in sin;
	unsigned port = 53;

	memset(&sin, 0, sizeof sin);
	if (colon) {
		size_t i, plen = len - iplen - 1;
		if (plen == 0 || plen > 5)
			goto bad;
		port = 0;
		for (i = 0; i < plen; i++) {
			if (colon[1 + i] < '0' || colon[1 + i] > '9')
				goto bad;
			port = port * 10 + (unsigned)(colon[1 + i] - '0');
		}
		if (port == 0 || port > 65535)
			goto bad;
	}
	if (iplen == 0 || iplen >= sizeof ip)
		goto bad;
	memcpy(ip, item, iplen);
	ip[iplen] = '\0';
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		goto bad;
	if (sl->n >= MAXNS) {
		sa_catf(sl->err, "dns_servers: at most %d servers", MAXNS);
		return -1;
	}
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sl->d->res.nsaddr_list[sl->n++] = sin;
	return 0;
bad:
	sa_cats(sl->err, "dns_servers: bad server \"");
	sa_catb(sl->err, item, len > 100 ? 100 : len);
	sa_cats(sl->err, "\" (want IPv4 address[:port])");
	return -1;
}

int dns_init(dns_t *d, const char *servers, int timeout, sa_t *err)
{
	struct server_list sl;

	memset(d, 0, sizeof *d);
	if (res_ninit(&d->res) < 0) {
		sa_cats(err, "resolver initialisation failed");
		errno = EIO;
		return -1;
	}
	d->timeout = timeout;
	if (!servers || !*servers)
		return 0;
	sl.d = d;
	sl.err = err;
	sl.n = 0;
	if (conf_list_each(servers, server_add, &sl) != 0) {
		res_nclose(&d->res);
		errno = EINVAL;
		return -1;
	}
	if (sl.n == 0)
		return 0;
	/* glibc notices the changed list and drops its cached sockets */
	d->res.nscount = sl.n;
	d->custom = 1;
	if (timeout > 0)
		d->res.retrans = timeout;
	d->res.retry = 2;
	return 0;
}

void dns_close(dns_t *d)
{
	res_nclose(&d->res);
}

static const char *type_name(int type)
{
	switch (type) {
	case ns_t_mx: return "MX";
	case ns_t_a: return "A";
	case ns_t_aaaa: return "AAAA";
	}
	return "?";
}

/* one query; on DNS_OK the answer is in ans (*alen bytes) */
static int dns_query(dns_t *d, const char *name, int type, unsigned char *ans, size_t *alen,
                     struct dns_err *e)
{
	unsigned char q[NS_PACKETSZ];
	int qlen, r, c;

	qlen = res_nmkquery(&d->res, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, q, sizeof q);
	if (qlen < 0) {
		dns_err_set(e, 'P', "5.1.2", "bad domain name for DNS: %s", name);
		return DNS_EFAIL;
	}
	r = res_nsend(&d->res, q, qlen, ans, DNS_PKT_MAX);
	if (r < 0) {
		dns_err_set(e, 'T', "4.4.3", "DNS lookup of %s (%s) failed: %s", name, type_name(type),
		        errno == ETIMEDOUT ? "timed out" : "no answer from the DNS servers");
		return DNS_ETEMP;
	}
	if (r > DNS_PKT_MAX)
		r = DNS_PKT_MAX; /* truncated answer: parse what fits */
	*alen = (size_t)r;
	c = dns_classify(ans, *alen);
	switch (c) {
	case DNS_ENOTFOUND:
		dns_err_set(e, 'P', "5.1.2", "Host or domain name not found: %s (%s lookup: NXDOMAIN)", name,
		        type_name(type));
		break;
	case DNS_ETEMP:
		dns_err_set(e, 'T', "4.4.3", "DNS lookup of %s (%s) failed: server failure", name,
		        type_name(type));
		break;
	case DNS_EFAIL:
		dns_err_set(e, 'T', "4.4.3", "DNS lookup of %s (%s) failed: refused or malformed answer", name,
		        type_name(type));
		break;
	}
	return c;
}

int dns_mx(dns_t *d, const char *domain, struct dns_mx **out, size_t *n, struct dns_err *e)
{
	unsigned char *ans;
	size_t alen = 0;
	int r;

	*out = NULL;
	*n = 0;
	ans = malloc(DNS_PKT_MAX);
	if (!ans) {
		dns_err_set(e, 'T', "4.3.0", "out of memory");
		return DNS_ETEMP;
	}
	r = dns_query(d, domain, ns_t_mx, ans, &alen, e);
	if (r == DNS_OK) {
		r = dns_parse_mx(ans, alen, out, n);
		if (r == DNS_OK && dns_mx_null(*out, *n)) {
			free(*out);
			*out = NULL;
			*n = 0;
			r = DNS_ENULLMX;
			dns_err_set(e, 'P', "5.1.10", "Domain does not accept mail (null MX)");
		} else if (r == DNS_EFAIL)
			dns_err_set(e, 'T', "4.4.3", "DNS lookup of %s (MX) failed: malformed answer", domain);
		else if (r < 0) {
			dns_err_set(e, 'T', "4.3.0", "out of memory");
			r = DNS_ETEMP;
		} else
			dns_mx_sort(*out, *n);
	}
	free(ans);
	return r;
}

static int addrs_gai(const char *host, struct dns_addr *out, size_t max, size_t *n,
                     struct dns_err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	int r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, NULL, &hints, &res);
	switch (r) {
	case 0:
		break;
	case EAI_NONAME:
		dns_err_set(e, 'P', "5.1.2", "Host or domain name not found: %s", host);
		return DNS_ENOTFOUND;
#ifdef EAI_NODATA
	case EAI_NODATA:
		return DNS_OK;
#endif
	case EAI_AGAIN:
		dns_err_set(e, 'T', "4.4.3", "address lookup of %s failed: %s", host, gai_strerror(r));
		return DNS_ETEMP;
	default:
		dns_err_set(e, 'T', "4.4.3", "address lookup of %s failed: %s", host, gai_strerror(r));
		return DNS_EFAIL;
	}
	for (ai = res; ai && *n < max; ai = ai->ai_next) {
		struct dns_addr *a = &out[*n];
		size_t i;
		int dup = 0;
		memset(a, 0, sizeof *a);
		if (ai->ai_family == AF_INET) {
			a->family = AF_INET;
			memcpy(a->a, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a->family = AF_INET6;
			memcpy(a->a, &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		for (i = 0; i < *n; i++)
			if (out[i].family == a->family && memcmp(out[i].a, a->a, 16) == 0)
				dup = 1;
		if (!dup)
			(*n)++;
	}
	freeaddrinfo(res);
	return DNS_OK;
}

int dns_addrs(dns_t *d, const char *host, struct dns_addr *out, size_t max, size_t *n,
              struct dns_err *e)
{
	static const int types[2] = { ns_t_aaaa, ns_t_a };
	unsigned char *ans;
	struct dns_err fe[2];
	int i, r[2], m;

	*n = 0;
	if (!d->custom)
		return addrs_gai(host, out, max, n, e);
	ans = malloc(DNS_PKT_MAX);
	if (!ans) {
		dns_err_set(e, 'T', "4.3.0", "out of memory");
		return DNS_ETEMP;
	}
	/* both families always: some servers answer NXDOMAIN for AAAA and
	 * still give the A record (RFC 4074 4.2) */
	for (i = 0; i < 2; i++) {
		size_t alen = 0;
		r[i] = dns_query(d, host, types[i], ans, &alen, &fe[i]);
		if (r[i] == DNS_OK) {
			r[i] = dns_parse_addrs(ans, alen, types[i], out, max, n);
			if (r[i] != DNS_OK)
				dns_err_set(&fe[i], 'T', "4.4.3", "DNS lookup of %s (%s) failed: malformed answer",
				        host, type_name(types[i]));
		}
	}
	free(ans);
	m = dns_addrs_merge(r, 2, *n);
	for (i = 0; i < 2 && m != DNS_OK; i++)
		if (r[i] == m) {
			if (e)
				*e = fe[i];
			break;
		}
	return m;
}
