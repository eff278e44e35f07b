#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rec.h"
#include "rreq.h"
#include "test.h"

#define QID "0123456789ABCDEFGHIJKLMN"

static struct rreq r;

static void test_build_parse(void)
{
	sa_t s = SA_INIT;
	const char *rc[] = { "bob@c.test", "carol@c.test" };

	T_INTEQ(rreq_build(&s, QID, "a@b.test", "8BITMIME", "c.test", rc, 2), 0);
	T_STREQ(s.s, "q24:" QID "\nf8:a@b.test\nb8:8BITMIME\nd6:c.test\na10:bob@c.test\n"
	             "a12:carol@c.test\n");
	T_INTEQ(rreq_parse(s.s, s.len, &r), 0);
	T_STREQ(r.qid, QID);
	T_STREQ(r.sender, "a@b.test");
	T_STREQ(r.body, "8BITMIME");
	T_STREQ(r.domain, "c.test");
	T_INTEQ(r.n, 2);
	T_STREQ(r.rcpt[0], "bob@c.test");
	T_STREQ(r.rcpt[1], "carol@c.test");
	sa_trunc(&s, 0);
	/* the null sender, no body type, an address literal, records in any order */
	{
		const char *p = "a3:x@y\nd11:[192.0.2.1]\nb0:\nf0:\nq24:" QID "\n";
		T_INTEQ(rreq_parse(p, strlen(p), &r), 0);
	}
	T_STREQ(r.sender, "");
	T_STREQ(r.body, "");
	T_STREQ(r.domain, "[192.0.2.1]");
	T_INTEQ(r.n, 1);
	sa_free(&s);
}

static void test_build_rejects(void)
{
	sa_t s = SA_INIT;
	char big[LREQ_ADDR_MAX + 2];
	const char *one[] = { "b@c" }, *empty[] = { "" }, *many[RREQ_RCPT_MAX + 1], *bigr[1];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	bigr[0] = big;
	T_INTEQ(sa_cats(&s, "x"), 0);
	T_INTEQ(rreq_build(&s, "short", "", "", "c", one, 1), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(rreq_build(&s, "", "", "", "c", one, 1), -1);
	T_INTEQ(rreq_build(&s, QID, "a\nb", "", "c", one, 1), -1);
	T_INTEQ(rreq_build(&s, QID, "", "BINARY", "c", one, 1), -1);
	T_INTEQ(rreq_build(&s, QID, "", "", "", one, 1), -1);
	T_INTEQ(rreq_build(&s, QID, "", "", "c", one, 0), -1);
	T_INTEQ(rreq_build(&s, QID, "", "", "c", empty, 1), -1);
	T_INTEQ(rreq_build(&s, QID, "", "", "c", bigr, 1), -1);
	T_INTEQ(rreq_build(&s, QID, big, "", "c", one, 1), -1);
	for (size_t i = 0; i < RREQ_RCPT_MAX + 1; i++)
		many[i] = "b@c";
	T_INTEQ(rreq_build(&s, QID, "", "", "c", many, RREQ_RCPT_MAX + 1), -1);
	T_STREQ(s.s, "x");
	/* the largest request fits in RREQ_MAX */
	big[LREQ_ADDR_MAX] = '\0';
	for (size_t i = 0; i < RREQ_RCPT_MAX; i++)
		many[i] = big;
	sa_trunc(&s, 0);
	T_INTEQ(rreq_build(&s, QID, big, "8BITMIME", "c.test", many, RREQ_RCPT_MAX), 0);
	T_ASSERT(s.len <= RREQ_MAX);
	T_INTEQ(rreq_parse(s.s, s.len, &r), 0);
	T_INTEQ(r.n, RREQ_RCPT_MAX);
	sa_free(&s);
}

static void test_parse_bad(void)
{
	static const char *bad[] = {
		"",                                              /* nothing */
		"f0:\nb0:\nd1:c\na3:b@c\n",                      /* no q */
		"q24:" QID "\nb0:\nd1:c\na3:b@c\n",              /* no f */
		"q24:" QID "\nf0:\nd1:c\na3:b@c\n",              /* no b */
		"q24:" QID "\nf0:\nb0:\na3:b@c\n",               /* no d */
		"q24:" QID "\nf0:\nb0:\nd1:c\n",                 /* no a */
		"q24:" QID "\nf0:\nb0:\nd0:\na3:b@c\n",          /* empty domain */
		"q24:" QID "\nf0:\nb0:\nd1:c\na0:\n",            /* empty recipient */
		"q24:" QID "\nf0:\nf0:\nb0:\nd1:c\na3:b@c\n",    /* twice */
		"q24:" QID "\nf0:\nb6:BINARY\nd1:c\na3:b@c\n",   /* body type */
		"q3:ABC\nf0:\nb0:\nd1:c\na3:b@c\n",              /* not a queue ID */
		"q24:" QID "\nf0:\nb0:\nd1:c\na3:b\r@\n",        /* control character */
		"q24:" QID "\nf0:\nb0:\nd1:c\na3:b@c\nx1:y\n",   /* unknown record */
		"q24:" QID "\nf0:\nb0:\nd1:c\na3:b@c",           /* truncated */
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		T_INTEQ(rreq_parse(bad[i], strlen(bad[i]), &r), -1);
		T_INTEQ(errno, EPROTO);
		T_INTEQ(r.n, 0);
	}
}

static void test_too_many(void)
{
	sa_t s = SA_INIT;

	T_INTEQ(sa_cats(&s, "q24:" QID "\nf0:\nb0:\nd1:c\n"), 0);
	for (size_t i = 0; i < RREQ_RCPT_MAX; i++)
		T_INTEQ(sa_cats(&s, "a3:b@c\n"), 0);
	T_INTEQ(rreq_parse(s.s, s.len, &r), 0);
	T_INTEQ(sa_cats(&s, "a3:b@c\n"), 0);
	T_INTEQ(rreq_parse(s.s, s.len, &r), -1);
	sa_free(&s);
}

static void test_kept(void)
{
	char dom[RREQ_DOMAIN_MAX + 1];
	sa_t s = SA_INIT;

	T_INTEQ(dresult_cat(&s, 0, 'D', "2.0.0", "smtp; 250 ok"), 0);
	T_INTEQ(rreq_kept(s.s, s.len, dom, sizeof dom), 0);
	T_INTEQ(rec_cat(&s, RREQ_KEPT, "c.test", 6), 0);
	T_INTEQ(rreq_kept(s.s, s.len, dom, sizeof dom), 1);
	T_STREQ(dom, "c.test");
	T_INTEQ(rreq_kept(s.s, s.len, dom, 4), 0); /* does not fit */
	T_INTEQ(rreq_kept("k3:a\nb\n", 7, dom, sizeof dom), 0);
	sa_free(&s);
}

int main(void)
{
	T_RUN(test_build_parse);
	T_RUN(test_build_rejects);
	T_RUN(test_parse_bad);
	T_RUN(test_too_many);
	T_RUN(test_kept);
	return t_done();
}
