#include <errno.h>
#include <string.h>
#include "smtpreply.h"
#include "test.h"

/* feed the LF-separated lines of s; the last smtpreply_line() result, and the
 * number of lines fed in *fed */
static int feed(struct smtpreply *r, const char *s, size_t *fed)
{
	int rc = 0;
	size_t n = 0;

	smtpreply_reset(r);
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		rc = smtpreply_line(r, s, len);
		n++;
		if (rc != 0 || !nl)
			break;
		s = nl + 1;
	}
	if (fed)
		*fed = n;
	return rc;
}

static void test_single_line(void)
{
	struct smtpreply r = SMTPREPLY_INIT;

	T_INTEQ(feed(&r, "250 2.1.0 sender ok", NULL), 1);
	T_INTEQ(r.code, 250);
	T_STREQ(r.status, "2.1.0");
	T_INTEQ(r.enhanced, 1);
	T_INTEQ(r.nlines, 1);
	T_INTEQ(r.done, 1);
	T_STREQ(r.text.s, "250 2.1.0 sender ok");
	T_STREQ(r.lines.s, "2.1.0 sender ok");
	/* without an enhanced code: the class digit of the reply */
	T_INTEQ(feed(&r, "554 go away", NULL), 1);
	T_STREQ(r.status, "5.0.0");
	T_INTEQ(r.enhanced, 0);
	/* a code alone is a whole reply */
	T_INTEQ(feed(&r, "354", NULL), 1);
	T_INTEQ(r.code, 354);
	T_STREQ(r.text.s, "354");
	T_STREQ(r.lines.s, "");
	/* an enhanced code of another class is text, not the status */
	T_INTEQ(feed(&r, "451 5.7.1 odd", NULL), 1);
	T_STREQ(r.status, "4.0.0");
	/* "5.1.1x" is no enhanced code */
	T_INTEQ(feed(&r, "550 5.1.1x no", NULL), 1);
	T_STREQ(r.status, "5.0.0");
	T_INTEQ(feed(&r, "550 5.1.1", NULL), 1);
	T_STREQ(r.status, "5.1.1");
	smtpreply_free(&r);
}

static void test_multi_line(void)
{
	struct smtpreply r = SMTPREPLY_INIT;
	size_t fed;

	T_INTEQ(feed(&r, "550-5.7.1 first line\n550-5.7.1\n550 5.7.1 second line", &fed), 1);
	T_INTEQ(fed, 3);
	T_INTEQ(r.nlines, 3);
	T_STREQ(r.status, "5.7.1");
	/* repeated enhanced codes are dropped from the joined text */
	T_STREQ(r.text.s, "550 5.7.1 first line second line");
	T_STREQ(r.lines.s, "5.7.1 first line\n5.7.1\n5.7.1 second line");
	/* one line at a time: 0 until the last */
	smtpreply_reset(&r);
	T_INTEQ(smtpreply_line(&r, "220-mx.b.test ESMTP", 19), 0);
	T_INTEQ(r.done, 0);
	T_INTEQ(smtpreply_line(&r, "220-", 4), 0);
	T_INTEQ(smtpreply_line(&r, "220 ready", 9), 1);
	T_STREQ(r.lines.s, "mx.b.test ESMTP\n\nready");
	/* nothing more after the last line */
	errno = 0;
	T_INTEQ(smtpreply_line(&r, "220 again", 9), -1);
	T_INTEQ(errno, EINVAL);
	smtpreply_free(&r);
}

static void test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"25",
		"2500 ok",          /* four digits */
		"250:ok",           /* bad separator */
		"150 one digit too low",
		"650 too high",
		"260 second digit over 5",
		"2a0 letters",
		" 250 leading space",
		"250-first\n251 code changed",
		"250-first\n250",   /* fine: the code alone ends it (checked below) */
	};
	struct smtpreply r = SMTPREPLY_INIT;
	size_t i;

	for (i = 0; i + 1 < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		T_INTEQ(feed(&r, bad[i], NULL), -1);
		T_INTEQ(errno, EPROTO);
	}
	T_INTEQ(feed(&r, bad[i], NULL), 1);
	smtpreply_free(&r);
}

static void test_bounds(void)
{
	struct smtpreply r = SMTPREPLY_INIT;
	char line[SMTPREPLY_LINE_MAX + 8];
	size_t i;

	/* the longest line: SMTPREPLY_LINE_MAX with its CRLF */
	memset(line, 'x', sizeof line);
	memcpy(line, "250 ", 4);
	T_INTEQ(smtpreply_line(&r, line, SMTPREPLY_LINE_MAX - 2), 1);
	/* the joined text is cut, the lines are whole */
	T_INTEQ(r.text.len, SMTPREPLY_TEXT_MAX);
	T_INTEQ(r.lines.len, SMTPREPLY_LINE_MAX - 6);
	smtpreply_reset(&r);
	errno = 0;
	T_INTEQ(smtpreply_line(&r, line, SMTPREPLY_LINE_MAX - 1), -1);
	T_INTEQ(errno, EPROTO);
	/* SMTPREPLY_LINES_MAX lines, not one more */
	smtpreply_reset(&r);
	for (i = 0; i + 1 < SMTPREPLY_LINES_MAX; i++)
		T_INTEQ(smtpreply_line(&r, "250-more", 8), 0);
	T_INTEQ(smtpreply_line(&r, "250 last", 8), 1);
	T_INTEQ(r.nlines, SMTPREPLY_LINES_MAX);
	smtpreply_reset(&r);
	for (i = 0; i < SMTPREPLY_LINES_MAX; i++)
		T_INTEQ(smtpreply_line(&r, "250-more", 8), 0);
	errno = 0;
	T_INTEQ(smtpreply_line(&r, "250 last", 8), -1);
	T_INTEQ(errno, EPROTO);
	/* bytes after the code are the server's business: NUL and CR stay text */
	smtpreply_reset(&r);
	T_INTEQ(smtpreply_line(&r, "550 a\0b\rc", 9), 1);
	T_INTEQ(r.text.len, 9);
	smtpreply_free(&r);
}

static void test_ehlo(void)
{
	struct smtpreply r = SMTPREPLY_INIT;
	struct smtpreply_ehlo e;

	T_INTEQ(feed(&r, "250-mx.b.test greets a.test\n250-pipelining\n250-SIZE 10240000\n"
	                 "250-8BITMIME\n250-ENHANCEDSTATUSCODES\n250-AUTH PLAIN LOGIN\n"
	                 "250-SMTPUTF8\n250-CHUNKING\n250-DSN\n250 STARTTLS", NULL), 1);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.pipelining, 1);
	T_INTEQ(e.size, 1);
	T_INTEQ(e.size_max, 10240000);
	T_INTEQ(e.eightbitmime, 1);
	T_INTEQ(e.enhancedstatuscodes, 1);
	T_INTEQ(e.smtputf8, 1);
	T_INTEQ(e.chunking, 1);
	T_INTEQ(e.dsn, 1);
	T_INTEQ(e.starttls, 1);
	/* the first line is the server's name, never a keyword */
	T_INTEQ(feed(&r, "250-PIPELINING\n250 SIZE", NULL), 1);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.pipelining, 0);
	T_INTEQ(e.size, 1);
	T_INTEQ(e.size_max, 0);
	/* a keyword is the whole word; SIZE limits that are no number mean none */
	T_INTEQ(feed(&r, "250-x\n250-PIPELININGX\n250-8BITMIMEE\n250-SIZE 12x\n250 DSN", NULL), 1);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.pipelining, 0);
	T_INTEQ(e.eightbitmime, 0);
	T_INTEQ(e.size, 1);
	T_INTEQ(e.size_max, 0);
	T_INTEQ(e.dsn, 1);
	T_INTEQ(feed(&r, "250-x\n250 SIZE 99999999999999999999999", NULL), 1);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.size, 1);
	T_INTEQ(e.size_max, 0);
	T_INTEQ(feed(&r, "250-x\n250 SIZE 18446744073709551615", NULL), 1);
	smtpreply_ehlo(&r, &e);
	T_ASSERT(e.size_max == 18446744073709551615ULL);
	/* an incomplete reply offers nothing */
	T_INTEQ(feed(&r, "250-x\n250-PIPELINING", NULL), 0);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.pipelining, 0);
	/* nor does a reply never fed */
	smtpreply_free(&r);
	smtpreply_ehlo(&r, &e);
	T_INTEQ(e.size, 0);
}

int main(void)
{
	T_RUN(test_single_line);
	T_RUN(test_multi_line);
	T_RUN(test_malformed);
	T_RUN(test_bounds);
	T_RUN(test_ehlo);
	return t_done();
}
