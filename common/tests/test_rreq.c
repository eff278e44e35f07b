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

/* e and o records: built, parsed, bounded; p records of a reply */
static void test_dsn(void)
{
	static struct rreq q;
	static char orcpt[RREQ_DSN_MAX + 1], big[LREQ_ADDR_MAX + 1];
	const char *rc[RREQ_RCPT_MAX], *rd[RREQ_RCPT_MAX];
	const char *two[2] = { "a@b.test", "c@d.test" };
	const char *dsn2[2] = { NULL, "NOTIFY=SUCCESS ORCPT=rfc822;c+2B1@d.test" };
	sa_t s = SA_INIT;
	size_t ix;

	T_INTEQ(rreq_build(&s, QID, "", "", "d.test", two, 2), 0);
	T_INTEQ(rreq_build_dsn(&s, "RET=HDRS ENVID=e1", dsn2, 2), 0);
	T_INTEQ(rreq_parse(s.s, s.len, &q), 0);
	T_STREQ(q.mail_dsn, "RET=HDRS ENVID=e1");
	T_STREQ(q.rcpt_dsn[0], "");
	T_STREQ(q.rcpt_dsn[1], "NOTIFY=SUCCESS ORCPT=rfc822;c+2B1@d.test");
	/* refused: bad parameters, nothing appended */
	{
		size_t old = s.len;
		const char *bad[1] = { "NOTIFY=NEVER,DELAY" };
		T_INTEQ(rreq_build_dsn(&s, "RET=ALL", NULL, 0), -1);
		T_INTEQ(rreq_build_dsn(&s, NULL, bad, 1), -1);
		T_INTEQ(s.len, old);
	}
	/* an o for no recipient, a repeated o or e, a bad one */
	static const char *const tails[] = {
		"o14:2 NOTIFY=NEVER\n", "o14:1 NOTIFY=NEVER\no14:1 NOTIFY=NEVER\n",
		"e8:RET=FULL\ne8:RET=FULL\n", "o13:1NOTIFY=NEVER\n", "o15:01 NOTIFY=NEVER\n",
		"e8:RET=SOME\n", "o2:1 \n", "e0:\n",
	};
	for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		sa_trunc(&s, 0);
		T_INTEQ(rreq_build(&s, QID, "", "", "d.test", two, 2), 0);
		T_INTEQ(sa_cats(&s, tails[i]), 0);
		if (rreq_parse(s.s, s.len, &q) != -1)
			printf("  accepted: %s", tails[i]);
		T_INTEQ(rreq_parse(s.s, s.len, &q), -1);
	}
	/* the largest request, DSN parameters included, fits in RREQ_MAX */
	memset(big, 'b', LREQ_ADDR_MAX);
	strcpy(orcpt, "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;");
	memset(orcpt + strlen(orcpt), 'o', DSNP_ORCPT_MAX - 7);
	for (size_t i = 0; i < RREQ_RCPT_MAX; i++) {
		rc[i] = big;
		rd[i] = orcpt;
	}
	sa_trunc(&s, 0);
	T_INTEQ(rreq_build(&s, QID, big, "8BITMIME", "c.test", rc, RREQ_RCPT_MAX), 0);
	T_INTEQ(rreq_build_dsn(&s, "RET=FULL ENVID=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", rd, RREQ_RCPT_MAX), 0);
	T_ASSERT(s.len <= RREQ_MAX);
	T_INTEQ(rreq_parse(s.s, s.len, &q), 0);
	T_STREQ(q.rcpt_dsn[RREQ_RCPT_MAX - 1], orcpt);
	sa_free(&s);
	T_INTEQ(rreq_passed("7", 1, &ix), 0);
	T_INTEQ(ix, 7);
	T_INTEQ(rreq_passed("", 0, &ix), -1);
	T_INTEQ(rreq_passed("07", 2, &ix), -1);
	T_INTEQ(rreq_passed("100", 3, &ix), -1);
	T_INTEQ(rreq_passed("1x", 2, &ix), -1);
}

int main(void)
{
	T_RUN(test_build_parse);
	T_RUN(test_build_rejects);
	T_RUN(test_parse_bad);
	T_RUN(test_too_many);
	T_RUN(test_kept);
	T_RUN(test_dsn);
	return t_done();
}
