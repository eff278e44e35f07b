/* Unit tests for common/addr.c: RFC 5321 §4.1.2 paths and mailboxes. */
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "test.h"

struct path_case {
	const char *in;
	int allow_null, allow_nodomain;
	int rc;
	const char *local, *domain;  /* expected on success */
	size_t used;                 /* 0: strlen(in) */
};

static const struct path_case path_cases[] = {
	/* plain mailboxes */
	{ "<user@example.org>", 0, 0, ADDR_OK, "user", "example.org", 0 },
	{ "<User.Name@Example.ORG>", 0, 0, ADDR_OK, "User.Name", "example.org", 0 },
	{ "<a@b>", 0, 0, ADDR_OK, "a", "b", 0 },
	{ "<a@localhost>", 0, 0, ADDR_OK, "a", "localhost", 0 },
	{ "<a@1.2.3.4>", 0, 0, ADDR_OK, "a", "1.2.3.4", 0 },  /* numeric labels are LDH */
	{ "<a@x-y.z>", 0, 0, ADDR_OK, "a", "x-y.z", 0 },
	{ "<a@x--y.z>", 0, 0, ADDR_OK, "a", "x--y.z", 0 },
	{ "<a@3com.com>", 0, 0, ADDR_OK, "a", "3com.com", 0 },
	{ "<!#$%&'*+-/=?^_`{|}~@x.y>", 0, 0, ADDR_OK, "!#$%&'*+-/=?^_`{|}~", "x.y", 0 },
	{ "<first.middle.last@x.y>", 0, 0, ADDR_OK, "first.middle.last", "x.y", 0 },
	{ "<user+ext@x.y>", 0, 0, ADDR_OK, "user+ext", "x.y", 0 },
	/* trailing bytes after '>' are the caller's */
	{ "<a@b> SIZE=10", 0, 0, ADDR_OK, "a", "b", 5 },
	{ "<a@b>>", 0, 0, ADDR_OK, "a", "b", 5 },
	/* quoted local parts, stored decoded */
	{ "<\"john doe\"@x.y>", 0, 0, ADDR_OK, "john doe", "x.y", 0 },
	{ "<\"a\\\"b\"@x.y>", 0, 0, ADDR_OK, "a\"b", "x.y", 0 },
	{ "<\"a\\\\b\"@x.y>", 0, 0, ADDR_OK, "a\\b", "x.y", 0 },
	{ "<\"\\a\"@x.y>", 0, 0, ADDR_OK, "a", "x.y", 0 },
	{ "<\"a@b\"@x.y>", 0, 0, ADDR_OK, "a@b", "x.y", 0 },
	{ "<\"a>b\"@x.y>", 0, 0, ADDR_OK, "a>b", "x.y", 0 },
	{ "<\"\"@x.y>", 0, 0, ADDR_OK, "", "x.y", 0 },
	{ "<\".a..b.\"@x.y>", 0, 0, ADDR_OK, ".a..b.", "x.y", 0 },
	{ "<\"plain\"@x.y>", 0, 0, ADDR_OK, "plain", "x.y", 0 },
	/* address literals */
	{ "<a@[127.0.0.1]>", 0, 0, ADDR_OK, "a", "[127.0.0.1]", 0 },
	{ "<a@[IPv6:::1]>", 0, 0, ADDR_OK, "a", "[IPv6:::1]", 0 },
	{ "<a@[ipv6:2001:DB8::1]>", 0, 0, ADDR_OK, "a", "[IPv6:2001:db8::1]", 0 },
	{ "<a@[IPv6:2001:db8:0:0:0:0:0:1]>", 0, 0, ADDR_OK, "a", "[IPv6:2001:db8:0:0:0:0:0:1]", 0 },
	{ "<a@[IPv6:::ffff:192.0.2.1]>", 0, 0, ADDR_OK, "a", "[IPv6:::ffff:192.0.2.1]", 0 },
	{ "<a@[1.2.3]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[1.2.3.256]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[1.2.3.4.5]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[::1]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },          /* IPv6 needs its tag */
	{ "<a@[IPv6:1.2.3.4]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[IPv6:::1%eth0]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[IPv6:]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[x-tag:stuff]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },  /* general literal */
	{ "<a@[]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[1.2.3.4>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[1.2.3.4]x>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[ 1.2.3.4]>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@[1.2.3.4]", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	/* the null path */
	{ "<>", 1, 0, ADDR_OK, "", "", 2 },
	{ "<> SIZE=1", 1, 0, ADDR_OK, "", "", 2 },
	{ "<>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<>", 0, 1, ADDR_ESYNTAX, 0, 0, 0 },
	/* bare local part */
	{ "<Postmaster>", 0, 1, ADDR_OK, "Postmaster", "", 0 },
	{ "<Postmaster>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"post master\">", 0, 1, ADDR_OK, "post master", "", 0 },
	{ "<\"\">", 0, 1, ADDR_ESYNTAX, 0, 0, 0 },
	/* source routes: parsed, ignored */
	{ "<@a.b:user@x.y>", 0, 0, ADDR_OK, "user", "x.y", 0 },
	{ "<@a.b,@c.d:user@x.y>", 0, 0, ADDR_OK, "user", "x.y", 0 },
	{ "<@a.b,@C.D:User@X.Y>", 0, 0, ADDR_OK, "User", "x.y", 0 },
	{ "<@a.b:>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@a.b>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@:user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@a.b,user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@a.b,:user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@a..b:user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	/* malformed */
	{ "", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<", 1, 1, ADDR_ESYNTAX, 0, 0, 0 },
	{ "user@x.y", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ " <user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "< user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y >", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user @x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@ x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a@b@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<.user@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user.@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<us..er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<us(er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<us,er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<us\\er@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"unterminated@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"a\"b@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<a\"b\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"a\tb\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"a\\\tb\"@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<\"a\\", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y.>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@.x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x..y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@-x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x-.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y->", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x_y.z>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y:25>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user\x01@x.y>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<user@x.y\x7f>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	{ "<<user@x.y>>", 0, 0, ADDR_ESYNTAX, 0, 0, 0 },
	/* 8-bit bytes anywhere */
	{ "<j\xc3\xb6rg@x.y>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<\xc3\xb6@x.y>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<\"j\xc3\xb6rg\"@x.y>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<\"a\\\xc3\"@x.y>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<user@b\xc3\xbc.de>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<user@\xc3\xbc.de>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<user@x.y\xff>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<user@[1.2.3.4\xff]>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
	{ "<user\xff>", 0, 1, ADDR_E8BIT, 0, 0, 0 },
	{ "<@a\xff:user@x.y>", 0, 0, ADDR_E8BIT, 0, 0, 0 },
};

static void test_path_table(void)
{
	for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
		const struct path_case *c = &path_cases[i];
		struct addr a;
		size_t used = 12345;
		int rc = addr_parse_path(c->in, strlen(c->in), &a, c->allow_null,
		                         c->allow_nodomain, &used);
		if (rc != c->rc)
			printf("case %zu: %s\n", i, c->in);
		T_INTEQ(rc, c->rc);
		if (rc != ADDR_OK || c->rc != ADDR_OK) {
			if (rc != ADDR_OK)
				T_INTEQ(used, 12345);  /* untouched on failure */
			continue;
		}
		T_STREQ(a.local, c->local);
		T_STREQ(a.domain, c->domain);
		T_INTEQ(used, c->used ? c->used : strlen(c->in));
		T_INTEQ(a.null, c->in[1] == '>');
		T_INTEQ(a.has_domain, c->domain[0] != '\0');
	}
}

/* the input need not be NUL-terminated: parse from a heap copy of exactly len
 * bytes, so ASan catches any read past the end */
static void test_path_unterminated(void)
{
	const char *ins[] = { "<a@b.c>", "<a@b.c", "<\"a", "<a@[1.2.3.4", "<@a.b", "<", "<>",
	                      "<Postmaster", "<a@b.c-", "<\"a\\" };
	for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
		size_t n = strlen(ins[i]);
		char *p = malloc(n ? n : 1);
		struct addr a;
		size_t used = 0;
		T_ASSERT(p != NULL);
		memcpy(p, ins[i], n);
		int rc = addr_parse_path(p, n, &a, 1, 1, &used);
		T_INTEQ(rc, (i == 0 || i == 6) ? ADDR_OK : ADDR_ESYNTAX);
		free(p);
	}
	/* a NUL inside the length is just a bad byte */
	struct addr a;
	T_INTEQ(addr_parse_path("<a\0b@x.y>", 9, &a, 0, 0, NULL), ADDR_ESYNTAX);
	T_INTEQ(addr_parse_path("<a@x\0y>", 7, &a, 0, 0, NULL), ADDR_ESYNTAX);
	/* length shorter than the string: the '>' is not seen */
	T_INTEQ(addr_parse_path("<a@x.y>", 6, &a, 0, 0, NULL), ADDR_ESYNTAX);
	/* used may be NULL */
	T_INTEQ(addr_parse_path("<a@x.y>", 7, &a, 0, 0, NULL), ADDR_OK);
}

static char *repeat(char *p, char c, size_t n)
{
	memset(p, c, n);
	return p + n;
}

/* "<" local(nl) "@" domain ">" where the domain is labels of 63 then one of rest */
static size_t build(char *buf, size_t nl, size_t nd)
{
	char *p = buf;
	*p++ = '<';
	p = repeat(p, 'l', nl);
	*p++ = '@';
	size_t left = nd;
	while (left > 0) {
		size_t lab = left > 63 ? 63 : left;
		if (left > 63 && left - 63 == 1)
			lab = 62;          /* never leave a lone dot-less remainder of 0 */
		p = repeat(p, 'd', lab);
		left -= lab;
		if (left > 0) {
			*p++ = '.';
			left--;
		}
	}
	*p++ = '>';
	*p = '\0';
	return (size_t)(p - buf);
}

static void test_limits(void)
{
	char buf[1024];
	struct addr a;
	size_t n, used;

	/* local part: 64 ok, 65 not */
	n = build(buf, 64, 10);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_OK);
	T_INTEQ(strlen(a.local), 64);
	n = build(buf, 65, 10);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_ELOCALLEN);
	n = build(buf, 300, 10);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_ELOCALLEN);

	/* quoted: the wire form counts; "x...x" of 62 + 2 quotes = 64 ok, 63 not */
	char *p = buf;
	*p++ = '<'; *p++ = '"'; p = repeat(p, 'q', 62); *p++ = '"';
	memcpy(p, "@x.y>", 6);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_OK);
	T_INTEQ(strlen(a.local), 62);
	p = buf;
	*p++ = '<'; *p++ = '"'; p = repeat(p, 'q', 63); *p++ = '"';
	memcpy(p, "@x.y>", 6);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_ELOCALLEN);
	/* escapes count on the wire: 31 pairs + 2 quotes = 64 ok; 32 pairs not */
	p = buf;
	*p++ = '<'; *p++ = '"';
	for (int i = 0; i < 31; i++) { *p++ = '\\'; *p++ = '"'; }
	*p++ = '"';
	memcpy(p, "@x.y>", 6);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_OK);
	T_INTEQ(strlen(a.local), 31);
	p = buf;
	*p++ = '<'; *p++ = '"';
	for (int i = 0; i < 32; i++) { *p++ = '\\'; *p++ = '"'; }
	*p++ = '"';
	memcpy(p, "@x.y>", 6);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_ELOCALLEN);

	/* label: 63 ok, 64 not */
	p = buf;
	memcpy(p, "<a@", 3); p += 3; p = repeat(p, 'x', 63); memcpy(p, ".y>", 4);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_OK);
	p = buf;
	memcpy(p, "<a@", 3); p += 3; p = repeat(p, 'x', 64); memcpy(p, ".y>", 4);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_ESYNTAX);

	/* path: 256 ok, 257 not: "<" + 1 + "@" + 252 + ">" = 256 */
	n = build(buf, 1, 252);
	T_INTEQ(n, 256);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_OK);
	T_INTEQ(used, 256);
	T_INTEQ(strlen(a.domain), 252);
	n = build(buf, 1, 253);
	T_INTEQ(n, 257);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_EPATHLEN);
	n = build(buf, 64, 189);
	T_INTEQ(n, 256);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_OK);
	n = build(buf, 64, 190);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_EPATHLEN);
	/* a source route counts toward the path */
	p = buf;
	memcpy(p, "<@r.s:", 6); p += 6;
	n = build(p, 1, 247);             /* 6 of route + 250 = 256 */
	memmove(buf + 6, buf + 7, n);     /* drop the inner '<' */
	T_INTEQ(strlen(buf), 256);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_OK);
	p = buf;
	memcpy(p, "<@r.st:", 7); p += 7;
	n = build(p, 1, 247);
	memmove(buf + 7, buf + 8, n);
	T_INTEQ(strlen(buf), 257);
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, &used), ADDR_EPATHLEN);

	/* domain: 255 ok for addr_domain_valid, 256 gives EDOMAINLEN in a path */
	n = build(buf, 1, 255);
	T_INTEQ(addr_domain_valid(buf + 3, 255), 1);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_EPATHLEN);
	n = build(buf, 1, 256);
	T_INTEQ(addr_domain_valid(buf + 3, 256), 0);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_EDOMAINLEN);
	n = build(buf, 1, 600);
	T_INTEQ(addr_parse_path(buf, n, &a, 0, 0, &used), ADDR_EDOMAINLEN);
}

static void test_domain_valid(void)
{
	struct { const char *d; int ok; } cases[] = {
		{ "example.org", 1 }, { "EXAMPLE.ORG", 1 }, { "a", 1 }, { "0", 1 },
		{ "a-b.c", 1 }, { "a1.b2", 1 }, { "xn--bcher-kva.example", 1 },
		{ "", 0 }, { ".", 0 }, { "a.", 0 }, { ".a", 0 }, { "a..b", 0 },
		{ "-a", 0 }, { "a-", 0 }, { "a.-b", 0 }, { "a-.b", 0 }, { "a_b", 0 },
		{ "a b", 0 }, { "[1.2.3.4]", 0 }, { "a\xc3\xa4", 0 }, { "a/b", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (addr_domain_valid(cases[i].d, strlen(cases[i].d)) != cases[i].ok)
			printf("domain case %s\n", cases[i].d);
		T_INTEQ(addr_domain_valid(cases[i].d, strlen(cases[i].d)), cases[i].ok);
	}
	/* len is honoured: "a.b" of "a.b-" */
	T_INTEQ(addr_domain_valid("a.b-", 3), 1);
	T_INTEQ(addr_domain_valid("a.b-", 4), 0);
	char buf[300];
	memset(buf, 'x', sizeof buf);
	T_INTEQ(addr_domain_valid(buf, 63), 1);
	T_INTEQ(addr_domain_valid(buf, 64), 0);
}

static void test_parse_bare(void)
{
	struct addr a;
	T_INTEQ(addr_parse("alice@Example.ORG", 17, &a), ADDR_OK);
	T_STREQ(a.local, "alice");
	T_STREQ(a.domain, "example.org");
	T_INTEQ(a.has_domain, 1);
	T_INTEQ(a.null, 0);
	T_INTEQ(addr_parse("\"a b\"@x", 7, &a), ADDR_OK);
	T_STREQ(a.local, "a b");
	T_INTEQ(addr_parse("a@[10.0.0.1]", 12, &a), ADDR_OK);
	T_STREQ(a.domain, "[10.0.0.1]");
	T_INTEQ(addr_parse("alice", 5, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("<alice@x>", 9, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("alice@x ", 8, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("alice@x>", 8, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("", 0, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("@x", 2, &a), ADDR_ESYNTAX);
	T_INTEQ(addr_parse("a@x\xc3\xa4", 5, &a), ADDR_E8BIT);
	T_STREQ(a.local, "");   /* cleared on failure */
	/* only the first len bytes count */
	T_INTEQ(addr_parse("a@xy", 3, &a), ADDR_OK);
	T_STREQ(a.domain, "x");

	/* mailbox limit: 254 (fits in a 256-octet path) */
	char buf[400];
	char *p = buf;
	p = repeat(p, 'l', 64);
	*p++ = '@';
	for (int i = 0; i < 3; i++) { p = repeat(p, 'd', 60); *p++ = '.'; }
	p = repeat(p, 'd', 254 - 65 - 183);
	T_INTEQ(p - buf, 254);
	T_INTEQ(addr_parse(buf, 254, &a), ADDR_OK);
	*p++ = 'd';
	T_INTEQ(addr_parse(buf, 255, &a), ADDR_EPATHLEN);
	memset(buf, 'l', 65);
	buf[65] = '@';
	buf[66] = 'x';
	T_INTEQ(addr_parse(buf, 67, &a), ADDR_ELOCALLEN);
}

static void fmt_case(const char *path, int allow_nodomain, const char *want)
{
	struct addr a;
	sa_t out = SA_INIT;
	int rc = addr_parse_path(path, strlen(path), &a, 1, allow_nodomain, NULL);
	T_INTEQ(rc, ADDR_OK);
	T_INTEQ(sa_cats(&out, "x"), 0);  /* addr_format appends */
	T_INTEQ(addr_format(&a, &out), 0);
	T_STREQ(out.s, want);
	/* the canonical form parses back to the same address */
	if (rc == ADDR_OK && !a.null) {
		struct addr b;
		sa_t again = SA_INIT;
		T_INTEQ(sa_catc(&again, '<'), 0);
		T_INTEQ(sa_catb(&again, out.s + 1, out.len - 1), 0);
		T_INTEQ(sa_catc(&again, '>'), 0);
		T_INTEQ(addr_parse_path(again.s, again.len, &b, 0, allow_nodomain, NULL), ADDR_OK);
		T_STREQ(b.local, a.local);
		T_STREQ(b.domain, a.domain);
		sa_free(&again);
	}
	sa_free(&out);
}

static void test_format(void)
{
	fmt_case("<user@Example.org>", 0, "xuser@example.org");
	fmt_case("<>", 0, "x");
	fmt_case("<Postmaster>", 1, "xPostmaster");
	fmt_case("<\"plain\"@x.y>", 0, "xplain@x.y");
	fmt_case("<\"a b\"@x.y>", 0, "x\"a b\"@x.y");
	fmt_case("<\"a\\\"b\"@x.y>", 0, "x\"a\\\"b\"@x.y");
	fmt_case("<\"a\\\\b\"@x.y>", 0, "x\"a\\\\b\"@x.y");
	fmt_case("<\"\\x\"@x.y>", 0, "xx@x.y");
	fmt_case("<\"\"@x.y>", 0, "x\"\"@x.y");
	fmt_case("<\"a..b\"@x.y>", 0, "x\"a..b\"@x.y");
	fmt_case("<\".a\"@x.y>", 0, "x\".a\"@x.y");
	fmt_case("<\"a.\"@x.y>", 0, "x\"a.\"@x.y");
	fmt_case("<\"a@b\"@x.y>", 0, "x\"a@b\"@x.y");
	fmt_case("<@r.s:u@[IPv6:::1]>", 0, "xu@[IPv6:::1]");
	fmt_case("<\"post master\">", 1, "x\"post master\"");

	/* the longest quoted local part formats within 64 + 2 quotes */
	char buf[200];
	char *p = buf;
	*p++ = '<'; *p++ = '"';
	for (int i = 0; i < 31; i++) { *p++ = '\\'; *p++ = '\\'; }
	*p++ = '"';
	memcpy(p, "@x>", 4);
	struct addr a;
	sa_t out = SA_INIT;
	T_INTEQ(addr_parse_path(buf, strlen(buf), &a, 0, 0, NULL), ADDR_OK);
	T_INTEQ(addr_format(&a, &out), 0);
	T_INTEQ(out.len, 64 + 2);
	sa_free(&out);
}

static void test_strerror(void)
{
	T_ASSERT(strstr(addr_strerror(ADDR_ELOCALLEN), "64") != NULL);
	T_ASSERT(strstr(addr_strerror(ADDR_EDOMAINLEN), "255") != NULL);
	T_ASSERT(strstr(addr_strerror(ADDR_EPATHLEN), "256") != NULL);
	T_ASSERT(strstr(addr_strerror(ADDR_E8BIT), "ASCII") != NULL);
	T_ASSERT(strstr(addr_strerror(ADDR_ESYNTAX), "syntax") != NULL);
	T_ASSERT(addr_strerror(-99) != NULL);
	T_ASSERT(addr_strerror(ADDR_OK) != NULL);
}

/* SMTPUTF8 (RFC 6531 §3.3): UTF-8 in local parts and domains with utf8 only */
static void test_utf8(void)
{
	static const struct {
		const char *s;
		int r;
	} cases[] = {
		{ "<j\xc3\xb6rg@x.y>", ADDR_OK },
		{ "<\xd0\xb0\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80\xd1\x84>", ADDR_OK },
		{ "<\"j\xc3\xb6 rg\"@x.y>", ADDR_OK },
		{ "<\xf0\x9f\x98\x80@x.y>", ADDR_OK },             /* U+1F600, 4 bytes */
		{ "<user@b\xc3\xbc.de>", ADDR_OK },
		{ "<j\xf6rg@x.y>", ADDR_EUTF8 },                     /* Latin-1 */
		{ "<\xc0\xaf@x.y>", ADDR_EUTF8 },                    /* overlong '/' */
		{ "<\xe0\x80\xaf@x.y>", ADDR_EUTF8 },                /* overlong */
		{ "<\xed\xa0\x80@x.y>", ADDR_EUTF8 },                /* surrogate */
		{ "<\xc2\x85@x.y>", ADDR_EUTF8 },                    /* C1 control NEL */
		{ "<\xe2\x80\xa8@x.y>", ADDR_EUTF8 },                /* LINE SEPARATOR */
		{ "<\xef\xbb\xbf@x.y>", ADDR_EUTF8 },                /* BOM */
		{ "<\xf4\x90\x80\x80@x.y>", ADDR_EUTF8 },           /* > U+10FFFF */
		{ "<\xc3@x.y>", ADDR_EUTF8 },                         /* cut */
		{ "<a@x.y\xc3\xb6>", ADDR_OK },
		{ "<a@x.\xc3\xb6-\xc3\xb6>", ADDR_OK },
		{ "<a@x.\xc3\xb6->", ADDR_ESYNTAX },
		{ "<\"a\\\xc3\xb6\"@x.y>", ADDR_EUTF8 },           /* quoted-pair stays ASCII */
		{ "<a@[1.2.3.4\xc3\xb6]>", ADDR_E8BIT },
	};
	struct addr a;
	sa_t f = SA_INIT;
	size_t used;
	char big[200];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *s = cases[i].s;
		int r = addr_parse_path_u(s, strlen(s), &a, 0, 0, 1, &used);
		if (r != cases[i].r)
			fprintf(stderr, "case %zu\n", i);
		T_INTEQ(r, cases[i].r);
		if (r == ADDR_OK) {
			sa_trunc(&f, 0);
			T_INTEQ(addr_format(&a, &f), 0);
			T_ASSERT(addr_parse_u(f.s, f.len, &a, 1) == ADDR_OK);
		}
		/* without utf8 every one of them is 8-bit */
		T_INTEQ(addr_parse_path(s, strlen(s), &a, 0, 0, &used), ADDR_E8BIT);
	}
	/* the local part is 64 octets, not characters: 32 two-byte letters fit */
	big[0] = '<';
	for (int i = 0; i < 32; i++)
		memcpy(big + 1 + 2 * i, "\xc3\xb6", 2);
	memcpy(big + 65, "@x.y>", 6);
	T_INTEQ(addr_parse_path_u(big, strlen(big), &a, 0, 0, 1, &used), ADDR_OK);
	memcpy(big + 65, "\xc3\xb6@x.y>", 8);
	T_INTEQ(addr_parse_path_u(big, strlen(big), &a, 0, 0, 1, &used), ADDR_ELOCALLEN);
	/* only ASCII is lowercased */
	T_INTEQ(addr_parse_u("A@X.\xc3\x96", 6, &a, 1), ADDR_OK);
	T_STREQ(a.domain, "x.\xc3\x96");
	T_INTEQ(addr_utf8_len("\xc3\xb6", 2), 2);
	T_INTEQ(addr_utf8_len("a", 1), 0);
	T_INTEQ(addr_is_ascii("abc", 3), 1);
	T_INTEQ(addr_is_ascii("a\x80", 2), 0);
	T_STREQ(addr_strerror(ADDR_EUTF8), "invalid UTF-8 in address");
	sa_free(&f);
}

int main(void)
{
	T_RUN(test_utf8);
	T_RUN(test_path_table);
	T_RUN(test_path_unterminated);
	T_RUN(test_limits);
	T_RUN(test_domain_valid);
	T_RUN(test_parse_bare);
	T_RUN(test_format);
	T_RUN(test_strerror);
	return t_done();
}
