/* Unit tests for common/smtpcmd.c: line -> verb / argument / error reply. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "smtpcmd.h"
#include "test.h"

#define E_UNREC "500 5.5.1 Command unrecognized"
#define E_CTRL "500 5.5.2 Syntax error: control characters not allowed"
#define E_MAILSYN "501 5.5.4 Syntax: MAIL FROM:<address>"
#define E_RCPTSYN "501 5.5.4 Syntax: RCPT TO:<address>"
#define E_BADFROM "501 5.1.7 Bad sender address syntax"
#define E_BADTO "501 5.1.3 Bad recipient address syntax"
#define E_PMAL "555 5.5.4 Malformed MAIL parameter"
#define E_PUNK "555 5.5.4 Unsupported MAIL parameter"
#define E_PDUP "555 5.5.4 Duplicate MAIL parameter"
#define E_RPARAM "555 5.5.4 Unsupported RCPT parameter"

struct cmd_case {
	const char *line;
	enum smtp_verb verb;
	const char *err;        /* NULL: success */
	const char *arg;        /* expected arg on success (NULL: not checked) */
	const char *addr;       /* expected formatted address for MAIL/RCPT */
};

static const struct cmd_case cases[] = {
	/* verbs, any case, followed by end or space */
	{ "HELO host", SMTP_HELO, NULL, "host", NULL },
	{ "helo host", SMTP_HELO, NULL, "host", NULL },
	{ "EHLO mail.example.org", SMTP_EHLO, NULL, "mail.example.org", NULL },
	{ "eHlO [192.0.2.1]", SMTP_EHLO, NULL, "[192.0.2.1]", NULL },
	{ "EHLO   spaced   ", SMTP_EHLO, NULL, "spaced", NULL },
	{ "EHLO under_score!", SMTP_EHLO, NULL, "under_score!", NULL },
	{ "EHLO", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname", NULL, NULL },
	{ "EHLO ", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname", NULL, NULL },
	{ "HELO", SMTP_HELO, "501 5.5.4 Syntax: HELO hostname", NULL, NULL },
	{ "EHLO two words", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname", NULL, NULL },
	{ "EHLO h\xc3\xa4st", SMTP_EHLO, "501 5.5.4 Syntax: EHLO hostname", NULL, NULL },
	{ "EHLOhost", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "DATA", SMTP_DATA, NULL, "", NULL },
	{ "data", SMTP_DATA, NULL, "", NULL },
	{ "DATA ", SMTP_DATA, NULL, NULL, NULL },
	{ "DATA x", SMTP_DATA, "501 5.5.4 Syntax: DATA", NULL, NULL },
	{ "RSET", SMTP_RSET, NULL, "", NULL },
	{ "RSET now", SMTP_RSET, "501 5.5.4 Syntax: RSET", NULL, NULL },
	{ "QUIT", SMTP_QUIT, NULL, "", NULL },
	{ "quit please", SMTP_QUIT, "501 5.5.4 Syntax: QUIT", NULL, NULL },
	{ "STARTTLS", SMTP_STARTTLS, NULL, "", NULL },
	{ "STARTTLS x", SMTP_STARTTLS, "501 5.5.4 Syntax: STARTTLS", NULL, NULL },
	{ "NOOP", SMTP_NOOP, NULL, "", NULL },
	{ "NOOP anything at all", SMTP_NOOP, NULL, "anything at all", NULL },
	{ "HELP", SMTP_HELP, NULL, "", NULL },
	{ "HELP MAIL", SMTP_HELP, NULL, "MAIL", NULL },
	{ "VRFY alice", SMTP_VRFY, NULL, "alice", NULL },
	{ "VRFY", SMTP_VRFY, NULL, "", NULL },
	{ "EXPN list", SMTP_EXPN, NULL, "list", NULL },
	{ "AUTH PLAIN AGFsaWNlAHNlY3JldA==", SMTP_AUTH, NULL, "PLAIN AGFsaWNlAHNlY3JldA==", NULL },
	{ "BDAT 100 LAST", SMTP_BDAT, NULL, "100 LAST", NULL },
	/* unknown */
	{ "", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ " ", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ " HELO x", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "FOO", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "DAT", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "DATAX", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "MAILFROM:<a@b>", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "GET / HTTP/1.1", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	{ "\xc3\xa4", SMTP_UNKNOWN, E_UNREC, NULL, NULL },
	/* control characters */
	{ "DATA\t", SMTP_UNKNOWN, E_CTRL, NULL, NULL },
	{ "NOOP a\tb", SMTP_NOOP, E_CTRL, NULL, NULL },
	{ "NOOP a\rb", SMTP_NOOP, E_CTRL, NULL, NULL },
	{ "NOOP a\x7f", SMTP_NOOP, E_CTRL, NULL, NULL },
	{ "\x1b[A", SMTP_UNKNOWN, E_CTRL, NULL, NULL },
	{ "MAIL FROM:<a@b>\r", SMTP_MAIL, E_CTRL, NULL, NULL },
	/* MAIL */
	{ "MAIL FROM:<alice@Example.org>", SMTP_MAIL, NULL, NULL, "alice@example.org" },
	{ "mail from:<alice@example.org>", SMTP_MAIL, NULL, NULL, "alice@example.org" },
	{ "MAIL From:<>", SMTP_MAIL, NULL, NULL, "" },
	{ "MAIL FROM: <alice@example.org>", SMTP_MAIL, NULL, NULL, "alice@example.org" },
	{ "MAIL FROM:  <alice@example.org>", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:<alice@example.org>   ", SMTP_MAIL, NULL, NULL, "alice@example.org" },
	{ "MAIL FROM:<@r.s:a@b.c>", SMTP_MAIL, NULL, NULL, "a@b.c" },
	{ "MAIL FROM:<\"a b\"@c>", SMTP_MAIL, NULL, NULL, "\"a b\"@c" },
	{ "MAIL FROM :<a@b>", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL  FROM:<a@b>", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM: ", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:a@b", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL TO:<a@b>", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:<a@b>x", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:<a@b>>", SMTP_MAIL, E_MAILSYN, NULL, NULL },
	{ "MAIL FROM:<a@b", SMTP_MAIL, E_BADFROM, NULL, NULL },
	{ "MAIL FROM:<a@@b>", SMTP_MAIL, E_BADFROM, NULL, NULL },
	{ "MAIL FROM:<a@-b>", SMTP_MAIL, E_BADFROM, NULL, NULL },
	{ "MAIL FROM:<Postmaster>", SMTP_MAIL, E_BADFROM, NULL, NULL },
	{ "MAIL FROM:<a b@c>", SMTP_MAIL, E_BADFROM, NULL, NULL },
	{ "MAIL FROM:<j\xc3\xb6rg@c>", SMTP_MAIL, "553 5.6.7 Non-ASCII sender address not supported", NULL, NULL },
	/* MAIL parameters */
	{ "MAIL FROM:<a@b> SIZE=1000", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> size=0", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> BODY=8BITMIME", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> body=7bit", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<> SIZE=5 BODY=8bitmime", SMTP_MAIL, NULL, NULL, "" },
	{ "MAIL FROM:<a@b>  SIZE=5   BODY=7BIT  ", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> SIZE=", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=12a", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=-1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=+1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=1 SIZE=1", SMTP_MAIL, E_PDUP, NULL, NULL },
	{ "MAIL FROM:<a@b> BODY=7BIT BODY=7BIT", SMTP_MAIL, E_PDUP, NULL, NULL },
	{ "MAIL FROM:<a@b> BODY=BINARYMIME", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> BODY=BINARYMIMEX", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> BODY=", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> BODY", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> BODY=8BITMIMEX", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> AUTH=<>", SMTP_MAIL, E_PUNK, NULL, NULL },
	{ "MAIL FROM:<a@b> SMTPUTF8", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> SMTPUTF8=1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SMTPUTF8 smtputf8", SMTP_MAIL, E_PDUP, NULL, NULL },
	{ "MAIL FROM:<j\xc3\xb6rg@c> SMTPUTF8", SMTP_MAIL, NULL, NULL, "j\xc3\xb6rg@c" },
	{ "MAIL FROM:<j\xc3\xb6rg@d\xc3\xb6m.c> BODY=8BITMIME SMTPUTF8", SMTP_MAIL, NULL, NULL,
	  "j\xc3\xb6rg@d\xc3\xb6m.c" },
	{ "MAIL FROM:<j\xc3\xb6rg@c> BODY=8BITMIME", SMTP_MAIL,
	  "553 5.6.7 Non-ASCII sender address not supported", NULL, NULL },
	{ "MAIL FROM:<j\xf6rg@c> SMTPUTF8", SMTP_MAIL,
	  "553 5.6.7 Non-ASCII sender address not supported", NULL, NULL },
	/* BDAT size [LAST] */
	{ "BDAT 0 LAST", SMTP_BDAT, NULL, NULL, NULL },
	{ "BDAT 123", SMTP_BDAT, NULL, NULL, NULL },
	{ "bdat 5 last  ", SMTP_BDAT, NULL, NULL, NULL },
	{ "BDAT", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "BDAT LAST", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "BDAT 5 LASTX", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "BDAT 5  LAST", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "BDAT -5", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "BDAT 123456789012345678901", SMTP_BDAT, "501 5.5.4 Syntax: BDAT size [LAST]", NULL, NULL },
	{ "MAIL FROM:<a@b> RET=HDRS", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> AUTH=<>", SMTP_MAIL, E_PUNK, NULL, NULL },
	{ "MAIL FROM:<a@b> X-FOO=1", SMTP_MAIL, E_PUNK, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZES=1", SMTP_MAIL, E_PUNK, NULL, NULL },
	{ "MAIL FROM:<a@b> -X=1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> =1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=1=2", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SI_ZE=1", SMTP_MAIL, E_PMAL, NULL, NULL },
	{ "MAIL FROM:<a@b> SIZE=1\xc3", SMTP_MAIL, E_PMAL, NULL, NULL },
	/* RCPT */
	{ "RCPT TO:<bob@Example.org>", SMTP_RCPT, NULL, NULL, "bob@example.org" },
	{ "rcpt to:<bob@example.org>", SMTP_RCPT, NULL, NULL, "bob@example.org" },
	{ "RCPT TO: <bob@example.org>", SMTP_RCPT, NULL, NULL, "bob@example.org" },
	{ "RCPT TO:<Postmaster>", SMTP_RCPT, NULL, NULL, "Postmaster" },
	{ "RCPT TO:<postmaster>", SMTP_RCPT, NULL, NULL, "postmaster" },
	{ "RCPT TO:<POSTMASTER>  ", SMTP_RCPT, NULL, NULL, "POSTMASTER" },
	{ "RCPT TO:<\"Postmaster\">", SMTP_RCPT, NULL, NULL, "Postmaster" },
	{ "RCPT TO:<@r.s:bob@x.y>", SMTP_RCPT, NULL, NULL, "bob@x.y" },
	{ "RCPT TO:<bob@[127.0.0.1]>", SMTP_RCPT, NULL, NULL, "bob@[127.0.0.1]" },
	{ "RCPT TO:<bob>", SMTP_RCPT, E_BADTO, NULL, NULL },
	{ "RCPT TO:<>", SMTP_RCPT, E_BADTO, NULL, NULL },
	{ "RCPT TO:<bob@>", SMTP_RCPT, E_BADTO, NULL, NULL },
	{ "RCPT TO:<bob@x.y> NOTIFY=NEVER", SMTP_RCPT, NULL, NULL, "bob@x.y" },
	{ "RCPT TO:<bob@x.y> ORCPT=rfc822;a@b", SMTP_RCPT, NULL, NULL, "bob@x.y" },
	{ "RCPT TO:<bob@x.y> NOTIFY=NEVER,DELAY", SMTP_RCPT, "501 5.5.4 Bad NOTIFY parameter", NULL, NULL },
	{ "RCPT TO:<bob@x.y> NOTIFY=NEVER NOTIFY=NEVER", SMTP_RCPT, "501 5.5.4 Duplicate RCPT parameter", NULL, NULL },
	{ "RCPT TO:<bob@x.y> X-FOO=1", SMTP_RCPT, E_RPARAM, NULL, NULL },
	{ "MAIL FROM:<a@b> RET=HDRS ENVID=x+2By", SMTP_MAIL, NULL, NULL, "a@b" },
	{ "MAIL FROM:<a@b> RET=NONE", SMTP_MAIL, "501 5.5.4 Bad RET parameter", NULL, NULL },
	{ "MAIL FROM:<a@b> RET=FULL RET=FULL", SMTP_MAIL, "501 5.5.4 Duplicate MAIL parameter", NULL, NULL },
	{ "RCPT TO:<bob@x.y>x", SMTP_RCPT, E_RCPTSYN, NULL, NULL },
	{ "RCPT TO:bob@x.y", SMTP_RCPT, E_RCPTSYN, NULL, NULL },
	{ "RCPT FROM:<bob@x.y>", SMTP_RCPT, E_RCPTSYN, NULL, NULL },
	{ "RCPT TO:", SMTP_RCPT, E_RCPTSYN, NULL, NULL },
	{ "RCPT", SMTP_RCPT, E_RCPTSYN, NULL, NULL },
	{ "RCPT TO:<b\xc3\xb6" "b@x.y>", SMTP_RCPT, "553 5.6.7 Non-ASCII recipient address not supported", NULL, NULL },
};

static void test_table(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct cmd_case *k = &cases[i];
		struct smtp_cmd c;
		int rc = smtp_cmd_parse(k->line, strlen(k->line), &c);
		int bad = 0;

		if (c.verb != k->verb)
			bad = 1;
		if (k->err ? (rc != -1 || !c.err || strcmp(c.err, k->err) != 0)
		           : (rc != 0 || c.err != NULL))
			bad = 1;
		if (!k->err && k->arg && (c.arglen != strlen(k->arg) ||
		                          memcmp(c.arg, k->arg, c.arglen) != 0))
			bad = 1;
		if (!k->err && k->addr) {
			sa_t out = SA_INIT;
			T_INTEQ(addr_format(&c.addr, &out), 0);
			if (strcmp(out.s ? out.s : "", k->addr) != 0)
				bad = 1;
			sa_free(&out);
		}
		if (bad) {
			printf("FAIL case %zu \"%s\": rc %d verb %s err %s arg \"%.*s\"\n", i, k->line,
			       rc, smtp_verb_name(c.verb), c.err ? c.err : "(none)",
			       (int)c.arglen, c.arg ? c.arg : "");
			t_cur_failed = 1;
		}
		/* the argument always points into the line */
		T_ASSERT(c.arg != NULL);
		T_ASSERT(c.arg >= k->line && c.arg + c.arglen <= k->line + strlen(k->line));
	}
}

static void test_mail_params(void)
{
	struct smtp_cmd c;
	const char *l;

	l = "MAIL FROM:<a@b>";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_INTEQ(c.size_given, 0);
	T_INTEQ(c.body, SMTP_BODY_NONE);
	T_INTEQ(c.addr.null, 0);

	l = "MAIL FROM:<> SIZE=123456 BODY=8BITMIME";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_INTEQ(c.addr.null, 1);
	T_INTEQ(c.size_given, 1);
	T_ASSERT(c.size == 123456ULL);
	T_INTEQ(c.body, SMTP_BODY_8BITMIME);

	l = "MAIL FROM:<a@b> BODY=7BIT SIZE=0";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_INTEQ(c.body, SMTP_BODY_7BIT);
	T_INTEQ(c.size_given, 1);
	T_ASSERT(c.size == 0);

	/* saturation */
	l = "MAIL FROM:<a@b> SIZE=18446744073709551615";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.size == ULLONG_MAX);
	l = "MAIL FROM:<a@b> SIZE=18446744073709551614";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.size == ULLONG_MAX - 1);
	l = "MAIL FROM:<a@b> SIZE=18446744073709551616";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.size == ULLONG_MAX);
	l = "MAIL FROM:<a@b> SIZE=99999999999999999999999999999999999999999999";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.size == ULLONG_MAX);
	l = "MAIL FROM:<a@b> SIZE=000000000000000000000000000000000000000000042";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.size == 42);
}

static void test_bdat_args(void)
{
	struct smtp_cmd c;
	const char *l;

	l = "BDAT 4096";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.bdat_size == 4096);
	T_INTEQ(c.bdat_last, 0);
	l = "BDAT 0 LAST";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.bdat_size == 0);
	T_INTEQ(c.bdat_last, 1);
	l = "BDAT 99999999999999999999"; /* 20 digits: saturates */
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_ASSERT(c.bdat_size == ULLONG_MAX);
}

/* RCPT in an SMTPUTF8 transaction: UTF-8 allowed, anything else 8-bit not */
static void test_rcpt_utf8(void)
{
	struct smtp_cmd c;
	const char *l = "RCPT TO:<j\xc3\xbcrgen@x.y>";

	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), -1);
	T_STREQ(c.err, "553 5.6.7 Non-ASCII recipient address not supported");
	T_INTEQ(smtp_cmd_parse_u(l, strlen(l), 1, &c), 0);
	T_STREQ(c.addr.local, "j\xc3\xbcrgen");
	l = "RCPT TO:<j\xfcrgen@x.y>";
	T_INTEQ(smtp_cmd_parse_u(l, strlen(l), 1, &c), -1);
	T_STREQ(c.err, "553 5.6.7 Recipient address is not valid UTF-8");
	l = "MAIL FROM:<a@b> SMTPUTF8";
	T_INTEQ(smtp_cmd_parse(l, strlen(l), &c), 0);
	T_INTEQ(c.smtputf8, 1);
}

static void test_addr_errors(void)
{
	char line[600];
	struct smtp_cmd c;
	int n;

	/* local part 65 */
	n = snprintf(line, sizeof line, "MAIL FROM:<%0*d@x.y>", 65, 0);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.7 Sender local part too long");
	n = snprintf(line, sizeof line, "RCPT TO:<%0*d@x.y>", 65, 0);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.3 Recipient local part too long");
	n = snprintf(line, sizeof line, "RCPT TO:<%0*d@x.y>", 64, 0);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), 0);
	T_INTEQ(strlen(c.addr.local), 64);

	/* path 257: "<" 1 "@" 253 ">" with the domain in 63-octet labels */
	char dom[300];
	memset(dom, 'd', 253);
	dom[63] = dom[127] = dom[191] = '.';
	dom[253] = '\0';
	n = snprintf(line, sizeof line, "MAIL FROM:<a@%s>", dom);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.7 Sender path too long");
	n = snprintf(line, sizeof line, "RCPT TO:<a@%s>", dom);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.3 Recipient path too long");
	dom[252] = '\0';
	n = snprintf(line, sizeof line, "RCPT TO:<a@%s>", dom);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), 0);

	/* domain over 255 */
	memset(dom, 'd', 290);
	for (int i = 63; i < 290; i += 64)
		dom[i] = '.';
	dom[290] = '\0';
	n = snprintf(line, sizeof line, "MAIL FROM:<a@%s>", dom);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.7 Sender domain too long");
	n = snprintf(line, sizeof line, "RCPT TO:<a@%s>", dom);
	T_INTEQ(smtp_cmd_parse(line, (size_t)n, &c), -1);
	T_STREQ(c.err, "501 5.1.3 Recipient domain too long");
	T_STREQ(c.addr.local, "");  /* no half-parsed address left behind */
}

static void test_nul(void)
{
	struct smtp_cmd c;
	/* a NUL byte inside the line, not the end of it */
	T_INTEQ(smtp_cmd_parse("MAIL FROM:<a@b>\0x", 17, &c), -1);
	T_STREQ(c.err, E_CTRL);
	T_INTEQ(smtp_cmd_parse("RCPT TO:<a\0@b>", 14, &c), -1);
	T_STREQ(c.err, E_CTRL);
	T_INTEQ(smtp_cmd_parse("\0", 1, &c), -1);
	T_STREQ(c.err, E_CTRL);
	T_INTEQ(smtp_cmd_parse("QUIT\0", 5, &c), -1);
	T_STREQ(c.err, E_CTRL);
	/* the length is honoured: the parser reads no further */
	T_INTEQ(smtp_cmd_parse("QUITX", 4, &c), 0);
	T_INTEQ(c.verb, SMTP_QUIT);
	char *p = malloc(4);
	T_ASSERT(p != NULL);
	memcpy(p, "DATA", 4);
	T_INTEQ(smtp_cmd_parse(p, 4, &c), 0);
	T_INTEQ(c.verb, SMTP_DATA);
	memcpy(p, "MAIL", 4);
	T_INTEQ(smtp_cmd_parse(p, 4, &c), -1);
	free(p);
	p = malloc(12);
	T_ASSERT(p != NULL);
	memcpy(p, "MAIL FROM:<a", 12);
	T_INTEQ(smtp_cmd_parse(p, 12, &c), -1);
	T_STREQ(c.err, E_BADFROM);
	free(p);
}

static void test_verb_names(void)
{
	T_STREQ(smtp_verb_name(SMTP_HELO), "HELO");
	T_STREQ(smtp_verb_name(SMTP_EHLO), "EHLO");
	T_STREQ(smtp_verb_name(SMTP_MAIL), "MAIL");
	T_STREQ(smtp_verb_name(SMTP_RCPT), "RCPT");
	T_STREQ(smtp_verb_name(SMTP_DATA), "DATA");
	T_STREQ(smtp_verb_name(SMTP_STARTTLS), "STARTTLS");
	T_STREQ(smtp_verb_name(SMTP_BDAT), "BDAT");
	T_STREQ(smtp_verb_name(SMTP_UNKNOWN), "UNKNOWN");
	/* every verb's name parses back to it */
	for (int v = SMTP_HELO; v <= SMTP_BDAT; v++) {
		struct smtp_cmd c;
		const char *n = smtp_verb_name((enum smtp_verb)v);
		smtp_cmd_parse(n, strlen(n), &c);
		T_INTEQ(c.verb, v);
	}
}

int main(void)
{
	T_RUN(test_table);
	T_RUN(test_mail_params);
	T_RUN(test_bdat_args);
	T_RUN(test_rcpt_utf8);
	T_RUN(test_addr_errors);
	T_RUN(test_nul);
	T_RUN(test_verb_names);
	return t_done();
}
