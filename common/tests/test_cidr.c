#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "cidr.h"
#include "test.h"

static int parses(const char *s)
{
	struct cidr c;
	return cidr_parse(s, strlen(s), &c) == 0;
}

static void test_parse(void)
{
	struct cidr c;

	T_ASSERT(cidr_parse("10.0.0.0/8", 10, &c) == 0);
	T_INTEQ(c.family, AF_INET);
	T_INTEQ(c.bits, 8);
	T_ASSERT(c.addr[0] == 10 && c.addr[1] == 0);
	T_ASSERT(cidr_parse("192.0.2.1", 9, &c) == 0);
	T_INTEQ(c.bits, 32);
	T_ASSERT(c.addr[3] == 1);
	T_ASSERT(cidr_parse("::1/128", 7, &c) == 0);
	T_INTEQ(c.family, AF_INET6);
	T_INTEQ(c.bits, 128);
	T_ASSERT(c.addr[15] == 1);
	T_ASSERT(cidr_parse("2001:db8::/32", 13, &c) == 0);
	T_INTEQ(c.bits, 32);
	/* host bits are cleared */
	T_ASSERT(cidr_parse("10.1.2.3/12", 11, &c) == 0);
	T_ASSERT(c.addr[0] == 10 && c.addr[1] == 0 && c.addr[2] == 0 && c.addr[3] == 0);
	T_ASSERT(cidr_parse("10.31.2.3/12", 12, &c) == 0);
	T_ASSERT(c.addr[1] == 16);
	/* len bounds the text: the rest is ignored */
	T_ASSERT(cidr_parse("10.0.0.0/8,junk", 10, &c) == 0);
	T_INTEQ(c.bits, 8);

	T_ASSERT(parses("0.0.0.0/0"));
	T_ASSERT(parses("::/0"));
	T_ASSERT(parses("1.2.3.4/32"));
	T_ASSERT(parses("::ffff:10.0.0.0/104"));
	T_ASSERT(!parses("1.2.3.4/33"));
	T_ASSERT(!parses("::/129"));
	T_ASSERT(!parses("1.2.3.4/"));
	T_ASSERT(!parses("1.2.3.4/-1"));
	T_ASSERT(!parses("1.2.3.4/+8"));
	T_ASSERT(!parses("1.2.3.4/08"));
	T_ASSERT(!parses("1.2.3.4/1000"));
	T_ASSERT(!parses("1.2.3.4/8/8"));
	T_ASSERT(!parses("1.2.3.4/ 8"));
	T_ASSERT(!parses("1.2.3/24"));
	T_ASSERT(!parses("256.0.0.0/8"));
	T_ASSERT(!parses("example.org"));
	T_ASSERT(!parses(""));
	T_ASSERT(!parses("/8"));
	T_ASSERT(!parses(" 1.2.3.4"));
	T_ASSERT(!parses("1:2:3:4:5:6:7:8:9/64"));
	errno = 0;
	T_ASSERT(cidr_parse("1.2.3.4\0/8", 10, &c) == -1);
	T_INTEQ(errno, EINVAL);
	char longs[200];
	memset(longs, '1', sizeof longs);
	T_ASSERT(cidr_parse(longs, sizeof longs, &c) == -1);
}

static void test_list(void)
{
	struct cidr *v = NULL;
	size_t n = 99;
	sa_t err = SA_INIT;

	T_ASSERT(cidr_list_parse("", &v, &n, &err) == 0);
	T_INTEQ(n, 0);
	T_ASSERT(cidr_list_parse(" , ,\t", &v, &n, &err) == 0);
	T_INTEQ(n, 0);
	free(v);
	T_ASSERT(cidr_list_parse("127.0.0.0/8, ::1/128 192.0.2.0/24,,\t10.0.0.1", &v, &n, &err) == 0);
	T_INTEQ(n, 4);
	if (n == 4) {
		T_INTEQ(v[0].bits, 8);
		T_INTEQ(v[1].family, AF_INET6);
		T_INTEQ(v[2].bits, 24);
		T_INTEQ(v[3].bits, 32);
	}
	free(v);
	v = NULL;
	errno = 0;
	T_ASSERT(cidr_list_parse("127.0.0.0/8, 10.0.0.0/33 ::1", &v, &n, &err) == -1);
	T_INTEQ(errno, EINVAL);
	T_STREQ(err.s, "10.0.0.0/33");
	T_ASSERT(v == NULL);
	T_INTEQ(n, 0);
	T_ASSERT(cidr_list_parse("bogus", &v, &n, NULL) == -1);
	sa_free(&err);
}

static void test_list_ref(void)
{
	struct cidr *v = NULL;
	size_t n = 99;
	sa_t err = SA_INIT;
	const char *relay = "10.0.0.0/8, ::1";

	/* the name, with or without '$', stands for the named list, anywhere */
	T_ASSERT(cidr_list_parse_ref("relay_networks", "relay_networks", relay, &v, &n, &err) == 0);
	T_INTEQ(n, 2);
	T_ASSERT(cidr_match(v, n, "10.1.2.3") && cidr_match(v, n, "::1") && !cidr_match(v, n, "11.0.0.1"));
	free(v);
	T_ASSERT(cidr_list_parse_ref("192.0.2.0/24,$relay_networks 127.0.0.1", "relay_networks", relay,
	                             &v, &n, &err) == 0);
	T_INTEQ(n, 4);
	T_ASSERT(cidr_match(v, n, "192.0.2.9") && cidr_match(v, n, "10.9.9.9") &&
	         cidr_match(v, n, "127.0.0.1") && !cidr_match(v, n, "127.0.0.2"));
	free(v);
	/* an empty named list, an empty list */
	T_ASSERT(cidr_list_parse_ref("relay_networks", "relay_networks", "", &v, &n, &err) == 0);
	T_INTEQ(n, 0);
	free(v);
	T_ASSERT(cidr_list_parse_ref(" ,", "relay_networks", relay, &v, &n, &err) == 0);
	T_INTEQ(n, 0);
	free(v);
	v = NULL;
	/* other words, a bare '$', a near miss: named as the bad item */
	static const char *bad[] = { "$relay_network", "relay_networksx", "$", "$$relay_networks",
	                             "$10.0.0.0/8", "mynetworks" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		T_ASSERT(cidr_list_parse_ref(bad[i], "relay_networks", relay, &v, &n, &err) == -1);
		T_INTEQ(errno, EINVAL);
		T_STREQ(err.s, bad[i]);
		T_ASSERT(v == NULL);
	}
	sa_free(&err);
}

static void test_match(void)
{
	struct cidr *v = NULL;
	size_t n = 0;

	T_ASSERT(cidr_list_parse("127.0.0.0/8 192.0.2.128/25 2001:db8::/32 ::1 10.0.0.0/9",
				 &v, &n, NULL) == 0);
	T_INTEQ(cidr_match(v, n, "127.0.0.1"), 1);
	T_INTEQ(cidr_match(v, n, "127.255.255.255"), 1);
	T_INTEQ(cidr_match(v, n, "128.0.0.1"), 0);
	T_INTEQ(cidr_match(v, n, "192.0.2.128"), 1);
	T_INTEQ(cidr_match(v, n, "192.0.2.255"), 1);
	T_INTEQ(cidr_match(v, n, "192.0.2.127"), 0);
	T_INTEQ(cidr_match(v, n, "10.127.0.1"), 1);
	T_INTEQ(cidr_match(v, n, "10.128.0.1"), 0);
	T_INTEQ(cidr_match(v, n, "2001:db8:1::5"), 1);
	T_INTEQ(cidr_match(v, n, "2001:db9::5"), 0);
	T_INTEQ(cidr_match(v, n, "::1"), 1);
	T_INTEQ(cidr_match(v, n, "::2"), 0);
	/* IPv4-mapped IPv6 clients match IPv4 blocks */
	T_INTEQ(cidr_match(v, n, "::ffff:127.0.0.1"), 1);
	T_INTEQ(cidr_match(v, n, "::FFFF:192.0.2.200"), 1);
	T_INTEQ(cidr_match(v, n, "::ffff:8.8.8.8"), 0);
	/* but not IPv4-compatible or other embeddings */
	T_INTEQ(cidr_match(v, n, "::127.0.0.1"), 0);
	T_INTEQ(cidr_match(v, n, "64:ff9b::127.0.0.1"), 0);
	/* unparsable: no match */
	T_INTEQ(cidr_match(v, n, ""), 0);
	T_INTEQ(cidr_match(v, n, NULL), 0);
	T_INTEQ(cidr_match(v, n, "localhost"), 0);
	T_INTEQ(cidr_match(v, n, "127.0.0.1 "), 0);
	T_INTEQ(cidr_match(v, n, "127.0.0.1/8"), 0);
	/* an IPv6 zone index is ignored */
	T_INTEQ(cidr_match(v, n, "::1%lo"), 1);
	free(v);

	/* the empty list matches nothing; /0 matches its whole family */
	T_INTEQ(cidr_match(NULL, 0, "127.0.0.1"), 0);
	T_ASSERT(cidr_list_parse("0.0.0.0/0", &v, &n, NULL) == 0);
	T_INTEQ(cidr_match(v, n, "203.0.113.9"), 1);
	T_INTEQ(cidr_match(v, n, "::ffff:203.0.113.9"), 1);
	T_INTEQ(cidr_match(v, n, "2001:db8::1"), 0);
	free(v);
	T_ASSERT(cidr_list_parse("::ffff:10.0.0.0/104", &v, &n, NULL) == 0);
	T_INTEQ(cidr_match(v, n, "::ffff:10.1.1.1"), 1);
	free(v);
}

/* the longest address text there is, and texts over the 64-byte bound */
static void test_bounds(void)
{
	char t[80];
	struct cidr c, *v = NULL;
	size_t n = 9;
	sa_t err = SA_INIT;

	snprintf(t, sizeof t, "0000:0000:0000:0000:0000:ffff:192.168.100.201/128");
	T_INTEQ(cidr_parse(t, strlen(t), &c), 0);
	T_INTEQ(c.bits, 128);
	memset(t, ' ', sizeof t);
	memcpy(t, "10.0.0.0/8", 10);
	T_INTEQ(cidr_parse(t, 64, &c), -1); /* trailing blanks are not an address */
	T_INTEQ(cidr_parse(t, 65, &c), -1);
	/* separators only: an empty list */
	T_INTEQ(cidr_list_parse(" ,\t, ", &v, &n, &err), 0);
	T_INTEQ(n, 0);
	T_ASSERT(v == NULL);
	/* an item over the bound is refused and named */
	memset(t, '1', 65);
	t[65] = '\0';
	T_INTEQ(cidr_list_parse(t, &v, &n, &err), -1);
	T_INTEQ(err.len, 65);
	T_ASSERT(v == NULL && n == 0);
	/* a client address over the bound never matches */
	T_INTEQ(cidr_list_parse("0.0.0.0/0 ::/0", &v, &n, NULL), 0);
	T_INTEQ(cidr_match(v, n, t), 0);
	T_INTEQ(cidr_match(v, n, "1.2.3.4"), 1);
	free(v);
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_list);
	T_RUN(test_list_ref);
	T_RUN(test_match);
	T_RUN(test_bounds);
	return t_done();
}
