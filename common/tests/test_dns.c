#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "dns.h"
#include "test.h"

/* a tiny DNS packet builder for canned answers */
struct pkt {
	unsigned char b[4096];
	size_t len;
};

static void put16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

static void put32(struct pkt *p, unsigned long v)
{
	put16(p, (unsigned)(v >> 16));
	put16(p, (unsigned)(v & 0xffff));
}

static void put_name(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);
		p->b[p->len++] = (unsigned char)n;
		memcpy(p->b + p->len, name, n);
		p->len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	p->b[p->len++] = 0;
}

/* header + question for name/type; an answers follow */
static void start(struct pkt *p, const char *name, unsigned type, unsigned rcode, unsigned an)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);   /* QR, RD, RA */
	put16(p, 1);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
	put_name(p, name);
	put16(p, type);
	put16(p, 1);
}

/* an answer owned by the question name (compression pointer to offset 12) */
static void rr_head(struct pkt *p, unsigned type, unsigned rdlen)
{
	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1);
	put32(p, 300);
	put16(p, rdlen);
}

static void add_mx(struct pkt *p, unsigned pref, const char *host)
{
	struct pkt n;
	n.len = 0;
	put_name(&n, host);
	rr_head(p, ns_t_mx, (unsigned)(2 + n.len));
	put16(p, pref);
	memcpy(p->b + p->len, n.b, n.len);
	p->len += n.len;
}

static void add_a(struct pkt *p, const char *ip)
{
	unsigned char a[4];
	inet_pton(AF_INET, ip, a);
	rr_head(p, ns_t_a, 4);
	memcpy(p->b + p->len, a, 4);
	p->len += 4;
}

static void add_aaaa(struct pkt *p, const char *ip)
{
	unsigned char a[16];
	inet_pton(AF_INET6, ip, a);
	rr_head(p, ns_t_aaaa, 16);
	memcpy(p->b + p->len, a, 16);
	p->len += 16;
}

static void test_classify(void)
{
	struct pkt p;

	start(&p, "b.test", ns_t_mx, 0, 0);
	T_INTEQ(dns_classify(p.b, p.len), DNS_OK);
	start(&p, "b.test", ns_t_mx, 3, 0);
	T_INTEQ(dns_classify(p.b, p.len), DNS_ENOTFOUND);
	start(&p, "b.test", ns_t_mx, 2, 0);
	T_INTEQ(dns_classify(p.b, p.len), DNS_ETEMP);
	start(&p, "b.test", ns_t_mx, 5, 0);
	T_INTEQ(dns_classify(p.b, p.len), DNS_EFAIL);
	start(&p, "b.test", ns_t_mx, 0, 0);
	p.b[2] &= 0x7f;             /* a query, not a response */
	T_INTEQ(dns_classify(p.b, p.len), DNS_EFAIL);
	T_INTEQ(dns_classify(p.b, 5), DNS_EFAIL);
}

static void test_parse_mx(void)
{
	struct pkt p;
	struct dns_mx *v;
	size_t n;

	start(&p, "b.test", ns_t_mx, 0, 3);
	add_mx(&p, 20, "MX2.b.test");
	add_mx(&p, 10, "mx1.b.test.");
	add_a(&p, "192.0.2.1");     /* other types are skipped */
	p.b[7] = 3;
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 2);
	if (n == 2) {
		T_STREQ(v[0].host, "mx2.b.test");
		T_INTEQ(v[0].pref, 20);
		T_STREQ(v[1].host, "mx1.b.test");
		T_INTEQ(v[1].pref, 10);
		dns_mx_sort(v, n);
		T_STREQ(v[0].host, "mx1.b.test");
		T_STREQ(v[1].host, "mx2.b.test");
	}
	free(v);
}

static void test_parse_mx_compressed(void)
{
	struct pkt p;
	struct dns_mx *v;
	size_t n;

	/* exchange "mx.<pointer to b.test>" */
	start(&p, "b.test", ns_t_mx, 0, 1);
	rr_head(&p, ns_t_mx, 2 + 3 + 2);
	put16(&p, 5);
	p.b[p.len++] = 2;
	p.b[p.len++] = 'm';
	p.b[p.len++] = 'x';
	put16(&p, 0xc00c);
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 1);
	if (n == 1) {
		T_STREQ(v[0].host, "mx.b.test");
		T_INTEQ(v[0].pref, 5);
	}
	free(v);
}

static void test_parse_mx_none(void)
{
	struct pkt p;
	struct dns_mx *v = (void *)1;
	size_t n = 9;

	start(&p, "b.test", ns_t_mx, 0, 0);
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 0);
	T_ASSERT(v == NULL);
}

/* parse an answer of k MX records (pref, host); the records in *v, their
 * number returned (-1 when the parse fails) */
static long mx_answer(const unsigned *prefs, const char *const *hosts, size_t k,
                      struct dns_mx **v)
{
	struct pkt p;
	size_t i, n;

	start(&p, "nullmx.test", ns_t_mx, 0, (unsigned)k);
	for (i = 0; i < k; i++)
		add_mx(&p, prefs[i], hosts[i]);
	if (dns_parse_mx(p.b, p.len, v, &n) != DNS_OK)
		return -1;
	return (long)n;
}

static void test_null_mx(void)
{
	static const unsigned p0[] = { 0 }, p10[] = { 10 }, p00[] = { 0, 0 }, p0_10[] = { 0, 10 };
	static const char *const root[] = { "" }, *const roots[] = { "", "" },
	                         *const mixed[] = { "", "mx.nullmx.test" };
	struct dns_mx *v;

	T_INTEQ(mx_answer(p0, root, 1, &v), 1);
	T_INTEQ(v[0].kind, DNS_MX_ROOT);
	T_STREQ(v[0].host, "");
	T_INTEQ(dns_mx_null(v, 1), 1);
	free(v);
	/* RFC 7505: only a lone "MX 0 ." is the null MX */
	T_INTEQ(mx_answer(p10, root, 1, &v), 1);
	T_INTEQ(dns_mx_null(v, 1), 0);
	free(v);
	T_INTEQ(mx_answer(p00, roots, 2, &v), 2);
	T_INTEQ(dns_mx_null(v, 2), 0);
	free(v);
	/* beside a real one: both kept, the "." one marked, no null MX */
	T_INTEQ(mx_answer(p0_10, mixed, 2, &v), 2);
	T_INTEQ(dns_mx_null(v, 2), 0);
	T_INTEQ(v[0].kind, DNS_MX_ROOT);
	T_INTEQ(v[1].kind, DNS_MX_HOST);
	T_STREQ(v[1].host, "mx.nullmx.test");
	free(v);
	T_INTEQ(dns_mx_null(NULL, 0), 0);
}

static void test_parse_mx_bad(void)
{
	struct pkt p;
	struct dns_mx *v;
	size_t n;

	/* rdata too short */
	start(&p, "b.test", ns_t_mx, 0, 1);
	rr_head(&p, ns_t_mx, 2);
	put16(&p, 1);
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_EFAIL);
	/* answer count larger than the packet */
	start(&p, "b.test", ns_t_mx, 0, 2);
	add_mx(&p, 10, "mx.b.test");
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_EFAIL);
	/* truncated in the middle of a record */
	start(&p, "b.test", ns_t_mx, 0, 1);
	add_mx(&p, 10, "mx.b.test");
	T_INTEQ(dns_parse_mx(p.b, p.len - 3, &v, &n), DNS_EFAIL);
	/* a compression loop */
	start(&p, "b.test", ns_t_mx, 0, 1);
	rr_head(&p, ns_t_mx, 4);
	put16(&p, 10);
	put16(&p, 0xc000 | (unsigned)p.len); /* points at itself */
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_EFAIL);
	/* an exchange that is no host name is kept, marked: the caller must not
	 * mistake "MX records, none usable" for "no MX records" */
	start(&p, "b.test", ns_t_mx, 0, 2);
	add_mx(&p, 10, "Bad_Name.b.test");
	add_mx(&p, 20, "ok.b.test");
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 2);
	if (n == 2) {
		T_INTEQ(v[0].kind, DNS_MX_BADNAME);
		T_STREQ(v[0].host, "bad_name.b.test");
		T_INTEQ(v[0].pref, 10);
		T_INTEQ(v[1].kind, DNS_MX_HOST);
		T_STREQ(v[1].host, "ok.b.test");
	}
	free(v);
	/* an IP address written as the exchange is no host name either, while
	 * digits elsewhere are fine */
	start(&p, "b.test", ns_t_mx, 0, 3);
	add_mx(&p, 10, "192.0.2.1");
	add_mx(&p, 20, "2130706433");
	add_mx(&p, 30, "1.mx.b.test");
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 3);
	if (n == 3) {
		T_INTEQ(v[0].kind, DNS_MX_BADNAME);
		T_STREQ(v[0].host, "192.0.2.1");
		T_INTEQ(v[1].kind, DNS_MX_BADNAME);
		T_INTEQ(v[2].kind, DNS_MX_HOST);
		T_STREQ(v[2].host, "1.mx.b.test");
	}
	free(v);
	start(&p, "badmx.test", ns_t_mx, 0, 1);
	add_mx(&p, 10, "bad_name.badmx.test");
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, 1);
	T_INTEQ(dns_mx_null(v, n), 0);
	if (n == 1)
		T_INTEQ(v[0].kind, DNS_MX_BADNAME);
	free(v);
	/* a bad name whose printed form (\001 escapes) exceeds the field: truncated */
	{
		char big[82];
		size_t i;
		for (i = 0; i + 1 < sizeof big; i++)
			big[i] = i == 40 ? '.' : 1;
		big[sizeof big - 1] = '\0';
		start(&p, "b.test", ns_t_mx, 0, 1);
		add_mx(&p, 10, big);
		T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
		T_INTEQ(n, 1);
		if (n == 1) {
			T_INTEQ(v[0].kind, DNS_MX_BADNAME);
			T_INTEQ(strlen(v[0].host), ADDR_DOMAIN_MAX);
			T_ASSERT(strncmp(v[0].host, "\\001\\001", 8) == 0);  /* printed, not raw */
		}
		free(v);
	}
}

static void test_parse_mx_limit(void)
{
	struct pkt p;
	struct dns_mx *v;
	size_t n, i;

	start(&p, "b.test", ns_t_mx, 0, DNS_MAX_MX + 5);
	for (i = 0; i < DNS_MAX_MX + 5; i++)
		add_mx(&p, (unsigned)i, "m.b.test");
	T_INTEQ(dns_parse_mx(p.b, p.len, &v, &n), DNS_OK);
	T_INTEQ(n, DNS_MAX_MX);
	free(v);
}

static void test_parse_addrs(void)
{
	struct pkt p;
	struct dns_addr a[4];
	char buf[64];
	size_t n = 0;

	start(&p, "h.test", ns_t_aaaa, 0, 2);
	add_aaaa(&p, "2001:db8::25");
	add_a(&p, "192.0.2.9");
	T_INTEQ(dns_parse_addrs(p.b, p.len, ns_t_aaaa, a, 4, &n), DNS_OK);
	T_INTEQ(n, 1);
	T_INTEQ(a[0].family, AF_INET6);
	T_STREQ(dns_addr_str(&a[0], buf, sizeof buf), "2001:db8::25");

	start(&p, "h.test", ns_t_a, 0, 3);
	add_a(&p, "192.0.2.9");
	add_a(&p, "192.0.2.10");
	add_a(&p, "192.0.2.11");
	T_INTEQ(dns_parse_addrs(p.b, p.len, ns_t_a, a, 3, &n), DNS_OK);
	T_INTEQ(n, 3);  /* appended, and stopped at max */
	T_INTEQ(a[1].family, AF_INET);
	T_STREQ(dns_addr_str(&a[1], buf, sizeof buf), "192.0.2.9");
	T_STREQ(dns_addr_str(&a[2], buf, sizeof buf), "192.0.2.10");

	/* an A record with a wrong length */
	start(&p, "h.test", ns_t_a, 0, 1);
	rr_head(&p, ns_t_a, 5);
	put32(&p, 0);
	p.b[p.len++] = 0;
	n = 0;
	T_INTEQ(dns_parse_addrs(p.b, p.len, ns_t_a, a, 4, &n), DNS_EFAIL);
}

/* each family's answer counts on its own: an NXDOMAIN for AAAA beside an
 * A answer (RFC 4074 4.2) still gives the A address */
static void test_addrs_merge(void)
{
	struct pkt p;
	struct dns_addr a[4];
	char buf[64];
	int r[2];
	size_t n = 0;

	start(&p, "mx.c.test", ns_t_aaaa, 3, 0);
	r[0] = dns_classify(p.b, p.len);
	T_INTEQ(r[0], DNS_ENOTFOUND);
	start(&p, "mx.c.test", ns_t_a, 0, 1);
	add_a(&p, "127.0.0.10");
	r[1] = dns_classify(p.b, p.len);
	T_INTEQ(r[1], DNS_OK);
	T_INTEQ(dns_parse_addrs(p.b, p.len, ns_t_a, a, 4, &n), DNS_OK);
	T_INTEQ(n, 1);
	T_STREQ(dns_addr_str(&a[0], buf, sizeof buf), "127.0.0.10");
	T_INTEQ(dns_addrs_merge(r, 2, n), DNS_OK);
	/* the other way round, with a failed family, and without any address: a
	 * temporary failure wins over NXDOMAIN, NXDOMAIN over an empty answer */
	{
		static const int cases[][4] = {
			{ DNS_OK, DNS_ENOTFOUND, 1, DNS_OK },
			{ DNS_ETEMP, DNS_OK, 2, DNS_OK },
			{ DNS_ENOTFOUND, DNS_ETEMP, 0, DNS_ETEMP },
			{ DNS_ENOTFOUND, DNS_EFAIL, 0, DNS_EFAIL },
			{ DNS_ENOTFOUND, DNS_OK, 0, DNS_ENOTFOUND },
			{ DNS_OK, DNS_ENOTFOUND, 0, DNS_ENOTFOUND },
			{ DNS_OK, DNS_OK, 0, DNS_OK },
		};
		size_t k;
		for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			r[0] = cases[k][0];
			r[1] = cases[k][1];
			T_INTEQ(dns_addrs_merge(r, 2, (size_t)cases[k][2]), cases[k][3]);
		}
	}
	T_INTEQ(dns_addrs_merge(r, 0, 0), DNS_OK);
}

static void test_sort_shuffle(void)
{
	struct dns_mx v[6];
	int seen_first[3] = { 0, 0, 0 };
	int round, i;

	/* equal preferences come out in each order over many rounds; lower first always */
	for (round = 0; round < 200; round++) {
		const unsigned prefs[6] = { 30, 10, 10, 20, 10, 5 };
		const char *names[6] = { "f", "a", "b", "e", "c", "z" };
		for (i = 0; i < 6; i++) {
			v[i].pref = prefs[i];
			strcpy(v[i].host, names[i]);
		}
		dns_mx_sort(v, 6);
		T_STREQ(v[0].host, "z");
		T_INTEQ(v[1].pref, 10);
		T_INTEQ(v[2].pref, 10);
		T_INTEQ(v[3].pref, 10);
		T_STREQ(v[4].host, "e");
		T_STREQ(v[5].host, "f");
		seen_first[v[1].host[0] - 'a']++;
	}
	T_ASSERT(seen_first[0] > 0 && seen_first[1] > 0 && seen_first[2] > 0);
}

static void test_init_servers(void)
{
	dns_t d;
	sa_t err = SA_INIT;

	T_INTEQ(dns_init(&d, "127.0.0.1:5353, 192.0.2.1", 3, &err), 0);
	T_INTEQ(d.custom, 1);
	T_INTEQ(d.res.nscount, 2);
	T_INTEQ(ntohs(d.res.nsaddr_list[0].sin_port), 5353);
	T_INTEQ(ntohs(d.res.nsaddr_list[1].sin_port), 53);
	dns_close(&d);

	T_INTEQ(dns_init(&d, "", 3, &err), 0);
	T_INTEQ(d.custom, 0);
	dns_close(&d);

	T_INTEQ(dns_init(&d, "::1", 3, &err), -1);
	T_ASSERT(err.s && strstr(err.s, "bad server"));
	sa_trunc(&err, 0);
	T_INTEQ(dns_init(&d, "127.0.0.1:0", 3, &err), -1);
	T_INTEQ(dns_init(&d, "127.0.0.1:x", 3, &err), -1);
	T_INTEQ(dns_init(&d, "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4", 3, &err), -1);
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_classify);
	T_RUN(test_parse_mx);
	T_RUN(test_parse_mx_compressed);
	T_RUN(test_parse_mx_none);
	T_RUN(test_null_mx);
	T_RUN(test_parse_mx_bad);
	T_RUN(test_parse_mx_limit);
	T_RUN(test_parse_addrs);
	T_RUN(test_addrs_merge);
	T_RUN(test_sort_shuffle);
	T_RUN(test_init_servers);
	return t_done();
}
