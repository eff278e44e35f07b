/* Unit tests for common/dsnparam.c: RFC 3461 parameters and xtext. */
#include <string.h>
#include "dsnparam.h"
#include "smtpcmd.h"
#include "test.h"

static void test_xtext(void)
{
	sa_t d = SA_INIT;

	T_INTEQ(dsnp_xtext_decode("a+2Bb+3Dc", 9, &d), 0);
	T_STREQ(d.s, "a+b=c");
	T_INTEQ(dsnp_xtext_decode("", 0, &d), 0);
	T_INTEQ(d.len, 0);
	T_INTEQ(dsnp_xtext_decode("+20", 3, &d), 0);
	T_STREQ(d.s, " ");
	T_INTEQ(dsnp_xtext_decode("a+2b", 4, &d), -1);   /* lower case hex */
	T_INTEQ(dsnp_xtext_decode("a+2", 3, &d), -1);    /* short */
	T_INTEQ(dsnp_xtext_decode("a+", 2, &d), -1);
	T_INTEQ(dsnp_xtext_decode("a=b", 3, &d), -1);
	T_INTEQ(dsnp_xtext_decode("a b", 3, &d), -1);
	T_INTEQ(dsnp_xtext_decode("+0D+0A", 6, &d), -1); /* decodes to a control */
	T_INTEQ(dsnp_xtext_decode("+C3", 3, &d), -1);    /* 8-bit */
	T_INTEQ(dsnp_xtext_decode("a\0b", 3, &d), -1);
	sa_trunc(&d, 0);
	T_INTEQ(dsnp_xtext_encode("a+b=c d\x01", 8, &d), 0);
	T_STREQ(d.s, "a+2Bb+3Dc+20d+01");
	sa_free(&d);
}

static int mail(const char *line, struct smtp_cmd *c)
{
	return smtp_cmd_parse(line, strlen(line), c);
}

static void test_mail(void)
{
	struct smtp_cmd c;
	sa_t f = SA_INIT;
	char big[300];

	T_INTEQ(mail("MAIL FROM:<a@b> ret=hdrs envid=QQ+2B1 SIZE=10", &c), 0);
	T_INTEQ(c.dsn_mail.ret, DSNP_RET_HDRS);
	T_STREQ(c.dsn_mail.envid, "QQ+2B1");
	T_INTEQ(dsnp_mail_format(&c.dsn_mail, &f), 0);
	T_STREQ(f.s, "RET=HDRS ENVID=QQ+2B1");
	T_INTEQ(mail("MAIL FROM:<a@b> RET=FULL", &c), 0);
	T_INTEQ(c.dsn_mail.ret, DSNP_RET_FULL);
	T_INTEQ(c.dsn_mail.has_envid, 0);
	T_INTEQ(mail("MAIL FROM:<a@b>", &c), 0);
	T_INTEQ(c.dsn_mail.ret, DSNP_RET_NONE);
	sa_trunc(&f, 0);
	T_INTEQ(dsnp_mail_format(&c.dsn_mail, &f), 0);
	T_INTEQ(f.len, 0);
	T_INTEQ(mail("MAIL FROM:<a@b> RET", &c), -1);
	T_STREQ(c.err, "501 5.5.4 Bad RET parameter");
	T_INTEQ(mail("MAIL FROM:<a@b> ENVID=a+2", &c), -1);
	T_STREQ(c.err, "501 5.5.4 Bad ENVID parameter");
	T_INTEQ(mail("MAIL FROM:<a@b> ENVID=1 ENVID=2", &c), -1);
	T_STREQ(c.err, "501 5.5.4 Duplicate MAIL parameter");
	/* 100 characters pass, 101 do not */
	memcpy(big, "MAIL FROM:<a@b> ENVID=", 22);
	memset(big + 22, 'e', 101);
	big[22 + 100] = '\0';
	T_INTEQ(mail(big, &c), 0);
	T_INTEQ(strlen(c.dsn_mail.envid), 100);
	big[22 + 100] = 'e';
	big[22 + 101] = '\0';
	T_INTEQ(mail(big, &c), -1);
	T_STREQ(c.err, "501 5.5.4 Bad ENVID parameter");
	sa_free(&f);
}

static void test_rcpt(void)
{
	struct smtp_cmd c;
	sa_t f = SA_INIT;
	char big[600];

	T_INTEQ(mail("RCPT TO:<b@c> NOTIFY=delay,Success ORCPT=RFC822;x+2By@z", &c), 0);
	T_INTEQ(c.dsn_rcpt.notify, DSNP_NOTIFY_DELAY | DSNP_NOTIFY_SUCCESS);
	T_STREQ(c.dsn_rcpt.orcpt, "rfc822;x+2By@z");
	T_INTEQ(dsnp_rcpt_format(&c.dsn_rcpt, &f), 0);
	T_STREQ(f.s, "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;x+2By@z");
	T_INTEQ(mail("RCPT TO:<b@c>  NOTIFY=NEVER  ", &c), 0);
	T_INTEQ(c.dsn_rcpt.notify, DSNP_NOTIFY_NEVER);
	static const struct {
		const char *line, *err;
	} bad[] = {
		{ "RCPT TO:<b@c> NOTIFY=", "555 5.5.4 Malformed RCPT parameter" },
		{ "RCPT TO:<b@c> NOTIFY", "501 5.5.4 Bad NOTIFY parameter" },
		{ "RCPT TO:<b@c> NOTIFY=SUCCESS,", "501 5.5.4 Bad NOTIFY parameter" },
		{ "RCPT TO:<b@c> NOTIFY=SUCCESS,SUCCESS", "501 5.5.4 Bad NOTIFY parameter" },
		{ "RCPT TO:<b@c> NOTIFY=FAILURE,NEVER", "501 5.5.4 Bad NOTIFY parameter" },
		{ "RCPT TO:<b@c> NOTIFY=SOMETIMES", "501 5.5.4 Bad NOTIFY parameter" },
		{ "RCPT TO:<b@c> NOTIFY=DELAY NOTIFY=DELAY", "501 5.5.4 Duplicate RCPT parameter" },
		{ "RCPT TO:<b@c> ORCPT=a@b", "501 5.5.4 Bad ORCPT parameter" },
		{ "RCPT TO:<b@c> ORCPT=x400;a", "501 5.5.4 Bad ORCPT parameter" },
		{ "RCPT TO:<b@c> ORCPT=rfc822;", "501 5.5.4 Bad ORCPT parameter" },
		{ "RCPT TO:<b@c> ORCPT=rfc822;a+0Ab", "501 5.5.4 Bad ORCPT parameter" },
		{ "RCPT TO:<b@c> ORCPT=rfc822;a ORCPT=rfc822;b", "501 5.5.4 Duplicate RCPT parameter" },
		{ "RCPT TO:<b@c> -X=1", "555 5.5.4 Malformed RCPT parameter" },
		{ "RCPT TO:<b@c> A=b=c", "555 5.5.4 Malformed RCPT parameter" },
		{ "RCPT TO:<b@c> SIZE=1", "555 5.5.4 Unsupported RCPT parameter" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_INTEQ(mail(bad[i].line, &c), -1);
		T_STREQ(c.err, bad[i].err);
	}
	/* ORCPT: 500 characters in all pass, 501 do not */
	memcpy(big, "RCPT TO:<b@c> ORCPT=rfc822;", 27);
	memset(big + 27, 'o', 500);
	big[20 + 500] = '\0';
	T_INTEQ(mail(big, &c), 0);
	big[20 + 500] = 'o';
	big[20 + 501] = '\0';
	T_INTEQ(mail(big, &c), -1);
	T_STREQ(c.err, "501 5.5.4 Bad ORCPT parameter");
	sa_free(&f);
}

static void test_canonical(void)
{
	struct dsnp_mail m;
	struct dsnp_rcpt r;
	sa_t f = SA_INIT;
	const char *s = "RET=FULL ENVID=a+20b";

	T_INTEQ(dsnp_mail_parse(s, strlen(s), &m), 0);
	T_INTEQ(dsnp_mail_format(&m, &f), 0);
	T_STREQ(f.s, s);
	T_INTEQ(dsnp_mail_parse("", 0, &m), 0);
	T_INTEQ(m.ret, DSNP_RET_NONE);
	T_INTEQ(dsnp_mail_parse("NOTIFY=NEVER", 12, &m), -1);
	T_INTEQ(dsnp_mail_parse("RET=FULL\n", 9, &m), -1);
	s = "NOTIFY=NEVER ORCPT=rfc822;q";
	T_INTEQ(dsnp_rcpt_parse(s, strlen(s), &r), 0);
	sa_trunc(&f, 0);
	T_INTEQ(dsnp_rcpt_format(&r, &f), 0);
	T_STREQ(f.s, s);
	T_INTEQ(dsnp_rcpt_parse("RET=FULL", 8, &r), -1);
	T_INTEQ(dsnp_rcpt_parse("NOTIFY=NEVER\0", 13, &r), -1);
	sa_free(&f);
}

int main(void)
{
	T_RUN(test_xtext);
	T_RUN(test_mail);
	T_RUN(test_rcpt);
	T_RUN(test_canonical);
	return t_done();
}
