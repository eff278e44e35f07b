/* addrlist: RFC 5322 address lists */
#include <string.h>
#include "addrlist.h"
#include "test.h"

/* the addresses, formatted, each followed by ' ' (a bare local part as "name!") */
static int collect(const struct addr *a, void *arg)
{
	sa_t *out = arg;

	if (addr_format(a, out) < 0)
		return -1;
	if (!a->has_domain)
		sa_catc(out, '!');
	return sa_catc(out, ' ');
}

static long run(const char *s, sa_t *out, sa_t *err)
{
	sa_trunc(out, 0);
	sa_copys(out, "");
	sa_trunc(err, 0);
	return addrlist_parse(s, strlen(s), collect, out, err);
}

static void test_forms(void)
{
	sa_t out = SA_INIT, err = SA_INIT;

	T_INTEQ(run("alice@example.test", &out, &err), 1);
	T_STREQ(out.s, "alice@example.test ");
	T_INTEQ(run(" Alice <alice@Example.TEST>, bob@x.test ,\"Carl, Jr.\" <c@y>", &out, &err), 3);
	T_STREQ(out.s, "alice@example.test bob@x.test c@y ");
	T_INTEQ(run("a@x (Alice (the (first))), (c) b@y", &out, &err), 2);
	T_STREQ(out.s, "a@x b@y ");
	T_INTEQ(run("John Q. Public <jqp@x>", &out, &err), 1);
	T_STREQ(out.s, "jqp@x ");
	T_INTEQ(run("\"odd local\"@x, \"esc\\\"aped\"@y", &out, &err), 2);
	T_STREQ(out.s, "\"odd local\"@x \"esc\\\"aped\"@y ");
	T_INTEQ(run("a@[192.0.2.1]", &out, &err), 1);
	T_STREQ(out.s, "a@[192.0.2.1] ");
	T_INTEQ(run("root, bob", &out, &err), 2); /* bare names: for the caller to qualify */
	T_STREQ(out.s, "root! bob! ");
	sa_free(&out);
	sa_free(&err);
}

static void test_groups_and_obsolete(void)
{
	sa_t out = SA_INIT, err = SA_INIT;

	T_INTEQ(run("undisclosed-recipients:;", &out, &err), 0);
	T_STREQ(out.s, "");
	T_INTEQ(run("team: a@x, B <b@y>; , c@z", &out, &err), 3);
	T_STREQ(out.s, "a@x b@y c@z ");
	T_INTEQ(run("open group: a@x", &out, &err), 1); /* no ';' at the very end */
	T_INTEQ(run("<@relay.x,@r2.y:user@z>", &out, &err), 1);
	T_STREQ(out.s, "user@z ");
	T_INTEQ(run("john . doe @ example . test", &out, &err), 1);
	T_STREQ(out.s, "john.doe@example.test ");
	T_INTEQ(run(", ,a@x,,", &out, &err), 1);
	/* folded lines */
	T_INTEQ(run("Alice\r\n <a@x>,\n\tb@y, \"folded\n quoted\"@z", &out, &err), 3);
	T_STREQ(out.s, "a@x b@y \"folded quoted\"@z ");
	T_INTEQ(run("", &out, &err), 0);
	T_INTEQ(run("  (only a comment)  ", &out, &err), 0);
	sa_free(&out);
	sa_free(&err);
}

static void test_errors(void)
{
	sa_t out = SA_INIT, err = SA_INIT;

	T_INTEQ(run("John Smith", &out, &err), -1);
	T_STREQ(err.s, "not an address in \"John Smith\"");
	T_INTEQ(run("a@x, <b@y", &out, &err), -1);
	T_INTEQ(run("a@x>", &out, &err), -1);
	T_INTEQ(run("a@x (unclosed", &out, &err), -1);
	T_INTEQ(run("\"unclosed@x", &out, &err), -1);
	T_INTEQ(run("a@[1.2.3.4", &out, &err), -1);
	T_INTEQ(run("a@x b@y", &out, &err), -1);
	T_INTEQ(run("<a@x> b", &out, &err), -1);
	T_INTEQ(run("a@x; b@y", &out, &err), -1);
	T_INTEQ(run("g1: g2: a@x;;", &out, &err), -1);
	T_INTEQ(run("<>", &out, &err), -1);
	T_INTEQ(run("a@-bad-.x", &out, &err), -1);
	T_INTEQ(run("a\x01@x", &out, &err), -1);
	T_INTEQ(run("\xc3\xa9@x", &out, &err), -1); /* 8-bit: no SMTPUTF8 yet */
	T_INTEQ(run("a@x)", &out, &err), -1);
	/* one address longer than an SMTP path */
	char big[400];
	memset(big, 'a', 300);
	strcpy(big + 300, "@x");
	T_INTEQ(run(big, &out, &err), -1);
	T_ASSERT(strstr(err.s, "too long") != NULL);
	/* a NUL byte inside the text */
	T_INTEQ(addrlist_parse("a@x\0b@y", 7, collect, &out, &err), -1);
	sa_free(&out);
	sa_free(&err);
}

static int stop_at_second(const struct addr *a, void *arg)
{
	(void)a;
	return ++*(int *)arg == 2 ? -1 : 0;
}

static void test_callback_stops(void)
{
	sa_t err = SA_INIT;
	int n = 0;

	T_INTEQ(addrlist_parse("a@x, b@x, c@x", 13, stop_at_second, &n, &err), -1);
	T_INTEQ(n, 2);
	T_ASSERT(err.len == 0); /* the callback's own failure: err untouched */
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_forms);
	T_RUN(test_groups_and_obsolete);
	T_RUN(test_errors);
	T_RUN(test_callback_stops);
	return t_done();
}
