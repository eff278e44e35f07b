#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "routes.h"
#include "test.h"

static int dest(const char *s, struct route_dest *d)
{
	return route_dest_parse(s, strlen(s), d, NULL);
}

static void test_dest_forms(void)
{
	struct route_dest d;

	T_INTEQ(dest("Mx.Example.NET", &d), 0);
	T_STREQ(d.host, "mx.example.net");
	T_INTEQ(d.is_ip, 0);
	T_INTEQ(d.no_mx, 0);
	T_INTEQ(d.port, 0);

	T_INTEQ(dest("mx.example.net:2525", &d), 0);
	T_STREQ(d.host, "mx.example.net");
	T_INTEQ(d.port, 2525);

	T_INTEQ(dest("[mx.example.net]:26", &d), 0);
	T_STREQ(d.host, "mx.example.net");
	T_INTEQ(d.no_mx, 1);
	T_INTEQ(d.is_ip, 0);
	T_INTEQ(d.port, 26);

	T_INTEQ(dest("192.0.2.7", &d), 0);
	T_STREQ(d.host, "192.0.2.7");
	T_INTEQ(d.is_ip, 1);
	T_INTEQ(d.no_mx, 1);

	T_INTEQ(dest("[192.0.2.7]:25", &d), 0);
	T_STREQ(d.host, "192.0.2.7");
	T_INTEQ(d.is_ip, 1);
	T_INTEQ(d.port, 25);

	T_INTEQ(dest("[::1]:2525", &d), 0);
	T_STREQ(d.host, "::1");
	T_INTEQ(d.is_ip, 1);
	T_INTEQ(d.port, 2525);

	T_INTEQ(dest("[IPv6:2001:db8::1]", &d), 0);
	T_STREQ(d.host, "2001:db8::1");
	T_INTEQ(d.is_ip, 1);
	T_INTEQ(d.port, 0);

	T_INTEQ(dest("127.0.0.1:65535", &d), 0);
	T_INTEQ(d.port, 65535);
}

static void test_dest_bad(void)
{
	struct route_dest d;
	sa_t err = SA_INIT;
	const char *bad[] = {
		"", ":25", "host:", "host:0", "host:65536", "host:123456", "host:2x", "[host",
		"[]", "[1.2.3.4]x", "[1.2.3.4]:", "::1", "2001:db8::1:25", "bad_host", "-a.b",
		"a..b", "[IPv6:1.2.3.4]", "[IPv6:zz]", "host:25:26",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (dest(bad[i], &d) != -1)
			{ printf("accepted: \"%s\"\n", bad[i]); T_ASSERT(0); }
	}
	T_INTEQ(route_dest_parse("::1", 3, &d, &err), -1);
	T_ASSERT(strstr(err.s, "brackets") != NULL);
	sa_free(&err);
}

static const char table[] =
	"# routes\n"
	"\n"
	"example.org      mx1.example.net\n"
	".example.org     [192.0.2.7]:2525   # every subdomain\n"
	".b.example.org   relay.b.example.org:26\n"
	"  Other.TEST\t[::1]\n"
	".test other:1\n";

static void test_parse_find(void)
{
	struct routes r = ROUTES_INIT;
	sa_t err = SA_INIT;
	const struct route *e;

	T_INTEQ(routes_parse(&r, "routes", table, sizeof table - 1, &err), 0);
	T_INTEQ(r.n, 5);

	e = routes_find(&r, "example.org", 11);
	T_ASSERT(e && !e->subdomains);
	if (e)
		T_STREQ(e->dest.host, "mx1.example.net");
	e = routes_find(&r, "EXAMPLE.ORG", 11);
	T_ASSERT(e && !e->subdomains && e->line == 3);

	e = routes_find(&r, "a.example.org", 13);
	T_ASSERT(e && e->subdomains);
	if (e) {
		T_STREQ(e->dest.host, "192.0.2.7");
		T_INTEQ(e->dest.port, 2525);
		T_INTEQ(e->line, 4);
	}
	/* the longest suffix wins */
	e = routes_find(&r, "x.y.b.example.org", 17);
	T_ASSERT(e && e->line == 5);
	/* .b.example.org does not match b.example.org itself: .example.org does */
	e = routes_find(&r, "b.example.org", 13);
	T_ASSERT(e && e->line == 4);

	e = routes_find(&r, "other.test", 10);
	T_ASSERT(e && e->line == 6);
	e = routes_find(&r, "x.other.test", 12);
	T_ASSERT(e && e->line == 7);
	T_ASSERT(routes_find(&r, "test", 4) == NULL);
	T_ASSERT(routes_find(&r, "xexample.org", 12) == NULL);
	T_ASSERT(routes_find(&r, "example.net", 11) == NULL);
	routes_free(&r);
	sa_free(&err);
}

static void expect_error(const char *text, const char *msg)
{
	struct routes r = ROUTES_INIT;
	sa_t err = SA_INIT;

	errno = 0;
	T_INTEQ(routes_parse(&r, "etc/routes", text, strlen(text), &err), -1);
	T_INTEQ(errno, EINVAL);
	if (!err.s || !strstr(err.s, msg)) {
		printf("error \"%s\" lacks \"%s\"\n", err.s ? err.s : "", msg);
		T_ASSERT(0);
	}
	routes_free(&r);
	sa_free(&err);
}

static void test_parse_errors(void)
{
	expect_error("a.test\n", "etc/routes:1: want");
	expect_error("# x\na.test b c\n", "etc/routes:2: unknown option");
	expect_error("a.test b tls=verify c\n", "etc/routes:1: want");
	expect_error("a.test b tls=verifyx\n", "etc/routes:1: unknown option");
	expect_error("\n\nbad_dom.test host\n", "etc/routes:3: bad domain");
	expect_error(". host\n", "etc/routes:1: bad domain");
	expect_error("a.test host:99999\n", "etc/routes:1: bad destination");
	expect_error("a.test h1\nb.test h2\nA.test h3\n", "etc/routes:3: a.test already routed at line 1");
	expect_error(".a.test h1\n.a.test h3\n", "etc/routes:2: .a.test already routed at line 1");
}

/* the third field: tls=verify makes TLS and a verified certificate a must */
static void test_tls_option(void)
{
	static const char t[] = "a.test h1 tls=verify\nb.test h2\nc.test [192.0.2.1]:26 tls=may # c\n"
	                        ".d.test h4\ttls=verify\n";
	struct routes r = ROUTES_INIT;
	sa_t err = SA_INIT;

	T_INTEQ(routes_parse(&r, "etc/routes", t, sizeof t - 1, &err), 0);
	T_INTEQ(routes_find(&r, "a.test", 6)->tls_verify, 1);
	T_STREQ(routes_find(&r, "a.test", 6)->dest.host, "h1");
	T_INTEQ(routes_find(&r, "b.test", 6)->tls_verify, 0);
	T_INTEQ(routes_find(&r, "c.test", 6)->tls_verify, 0);
	T_INTEQ(routes_find(&r, "c.test", 6)->dest.port, 26);
	T_INTEQ(routes_find(&r, "x.d.test", 8)->tls_verify, 1);
	routes_free(&r);
	sa_free(&err);
}

static void test_exact_and_sub_same_domain(void)
{
	struct routes r = ROUTES_INIT;
	const char *t = ".a.test h1\na.test h2\n";

	T_INTEQ(routes_parse(&r, "x", t, strlen(t), NULL), 0);
	T_INTEQ(r.n, 2);
	routes_free(&r);
}

static void test_load(void)
{
	struct routes r = ROUTES_INIT;
	sa_t err = SA_INIT;
	char path[] = "/tmp/test_routes.XXXXXX";
	int fd = mkstemp(path);
	const char *t = "a.test [127.0.0.1]:25\n";

	T_ASSERT(fd >= 0);
	T_ASSERT(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
	close(fd);
	T_INTEQ(routes_load(&r, path, &err), 0);
	T_INTEQ(r.n, 1);
	unlink(path);
	routes_free(&r);
	/* a missing table is an empty one */
	T_INTEQ(routes_load(&r, path, &err), 0);
	T_INTEQ(r.n, 0);
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_dest_forms);
	T_RUN(test_dest_bad);
	T_RUN(test_parse_find);
	T_RUN(test_parse_errors);
	T_RUN(test_tls_option);
	T_RUN(test_exact_and_sub_same_domain);
	T_RUN(test_load);
	return t_done();
}
