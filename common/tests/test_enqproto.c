/* enqproto: the pochta-enqueue stream parser, record by record */
#include <stdlib.h>
#include "enqproto.h"
#include "test.h"

static struct enqp P;

static int rec(int type, const char *s)
{
	return enqp_record(&P, type, s, strlen(s));
}

/* M, the envelope records given (type, data pairs), then D "x" */
static void begin(const char *const *kv)
{
	enqp_free(&P);
	enqp_init(&P, 100);
	T_INTEQ(rec('M', ""), ENQP_DROP | ENQP_OPEN);
	T_INTEQ(P.st, ENQP_ENV);
	for (; kv && kv[0]; kv += 2)
		rec(kv[0][0], kv[1]);
}

static const char *const good[] = { "S", "a@b.test", "B", "8BITMIME", "P", "ESMTP", "H", "c.test",
                                    "C", "192.0.2.1", "R", "x@y.test", "R", "Postmaster", NULL };

/* the text the message was refused with, checked after E */
static void refused_with(int type, const char *text)
{
	T_INTEQ(P.st, ENQP_BAD);
	T_INTEQ(rec('D', "dropped"), 0);
	T_INTEQ(rec('R', "z@y.test"), 0);
	T_INTEQ(rec('E', ""), ENQP_REPLY);
	T_INTEQ(P.st, ENQP_IDLE);
	T_INTEQ(P.fail_type, type);
	T_STREQ(P.fail_text.s, text);
}

static void test_good(void)
{
	begin(good);
	T_STREQ(P.q.sender.s, "a@b.test");
	T_STREQ(P.q.body.s, "8BITMIME");
	T_STREQ(P.q.proto.s, "ESMTP");
	T_STREQ(P.q.helo.s, "c.test");
	T_STREQ(P.q.client.s, "192.0.2.1");
	T_INTEQ(P.q.nrcpt, 2);
	T_INTEQ(rec('D', "Subject: x\n\n"), ENQP_WRITE);
	T_INTEQ(P.st, ENQP_DATA);
	T_INTEQ(rec('D', "body\n"), ENQP_WRITE);
	T_INTEQ(P.size, 17);
	T_INTEQ(rec('E', ""), ENQP_COMMIT);
	T_INTEQ(P.st, ENQP_IDLE);
	/* a second message in the same session starts afresh */
	T_INTEQ(rec('M', ""), ENQP_DROP | ENQP_OPEN);
	T_INTEQ(P.q.nrcpt, 0);
	T_INTEQ(P.q.sender.len, 0);
	T_INTEQ(rec('S', ""), 0); /* the null sender */
	T_INTEQ(rec('R', "postmaster"), 0);
	T_INTEQ(rec('E', ""), ENQP_COMMIT); /* no data: an empty message */
	T_INTEQ(P.size, 0);
}

static void test_duplicate_rcpt(void)
{
	const char *const kv[] = { "S", "", "R", "x@y.test", "R", "x@y.test", "R", "w@y.test", NULL };

	begin(kv);
	T_INTEQ(P.q.nrcpt, 2);
	T_INTEQ(rec('E', ""), ENQP_COMMIT);
}

static void test_envelope_refused(void)
{
	char big[QFILE_MAX_FIELD + 2];

	begin(NULL);
	T_INTEQ(rec('S', "not an address"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.1.7 bad sender address");
	begin(NULL);
	T_INTEQ(rec('R', "bad"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.1.3 bad recipient address");
	begin(NULL);
	T_INTEQ(rec('R', ""), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.1.3 bad recipient address");
	begin(NULL);
	T_INTEQ(rec('S', "a@b.test"), 0);
	T_INTEQ(rec('S', "a@b.test"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 repeated envelope record");
	begin(NULL);
	T_INTEQ(rec('B', "BINARYMIMEX"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 bad body type");
	/* U: SMTPUTF8 once and empty; a UTF-8 address sets it too */
	begin(NULL);
	T_INTEQ(rec('U', "x"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 bad SMTPUTF8 record");
	begin(NULL);
	T_INTEQ(rec('U', ""), 0);
	T_INTEQ(rec('U', ""), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 bad SMTPUTF8 record");
	begin(NULL);
	T_INTEQ(rec('U', ""), 0);
	T_INTEQ(P.q.smtputf8, 1);
	begin(NULL);
	T_INTEQ(P.q.smtputf8, 0);
	T_INTEQ(rec('R', "j\xc3\xbcrgen@b.test"), 0);
	T_INTEQ(P.q.smtputf8, 1);
	begin(NULL);
	T_INTEQ(rec('R', "j\xfcrgen@b.test"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.1.3 bad recipient address");
	begin(NULL);
	T_INTEQ(enqp_record(&P, 'B', "7BIT\0x", 6), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 control character in envelope");
	begin(NULL);
	T_INTEQ(rec('H', "a\tb"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 control character in envelope");
	begin(NULL);
	T_INTEQ(rec('C', "x\x7f"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 control character in envelope");
	begin(NULL);
	T_INTEQ(rec('R', "x@y.test\r\nRCPT TO:<z@y.test>"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.1.3 bad recipient address");
	/* bounds: a field of QFILE_MAX_FIELD bytes passes, one more does not */
	memset(big, 'a', sizeof big);
	big[QFILE_MAX_FIELD] = '\0';
	begin(NULL);
	T_INTEQ(rec('H', big), 0);
	T_INTEQ(P.q.helo.len, QFILE_MAX_FIELD);
	big[QFILE_MAX_FIELD] = 'a';
	big[QFILE_MAX_FIELD + 1] = '\0';
	begin(NULL);
	T_INTEQ(rec('P', big), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 envelope field too long");
}

static void test_incomplete(void)
{
	const char *const nosender[] = { "R", "x@y.test", NULL };
	const char *const norcpt[] = { "S", "a@b.test", NULL };

	begin(nosender);
	T_INTEQ(rec('D', "x"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.1 no sender");
	begin(norcpt);
	T_INTEQ(rec('E', ""), ENQP_DROP | ENQP_LOG | ENQP_REPLY);
	T_INTEQ(P.fail_type, ENQ_R_PERM);
	T_STREQ(P.fail_text.s, "5.5.1 no valid recipients");
	T_INTEQ(P.st, ENQP_IDLE);
}

static void test_order(void)
{
	begin(good);
	T_INTEQ(rec('D', "x"), ENQP_WRITE);
	T_INTEQ(rec('R', "late@y.test"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 envelope record after message data");
	begin(good);
	T_INTEQ(rec('Y', "?"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 unknown record on the queue pipe");
	/* outside a message: envelope, data and unknown records are ignored */
	T_INTEQ(rec('S', "a@b.test"), 0);
	T_INTEQ(rec('D', "x"), 0);
	T_INTEQ(rec('Y', "?"), 0);
	T_INTEQ(rec(0, ""), 0);
	T_INTEQ(rec(255, ""), 0);
	T_INTEQ(rec('E', ""), ENQP_REPLY);
	T_INTEQ(P.fail_type, ENQ_R_TEMP);
	T_STREQ(P.fail_text.s, "4.3.0 no message in progress");
	/* Q drops the message; M inside one abandons it */
	begin(good);
	T_INTEQ(rec('Q', ""), ENQP_DROP);
	T_INTEQ(P.st, ENQP_IDLE);
	begin(good);
	T_INTEQ(rec('D', "x"), ENQP_WRITE);
	T_INTEQ(rec('M', ""), ENQP_DROP | ENQP_OPEN);
	T_INTEQ(P.q.nrcpt, 0);
	T_INTEQ(P.size, 0);
	T_INTEQ(rec('E', ""), ENQP_DROP | ENQP_LOG | ENQP_REPLY);
}

static void test_size_limit(void)
{
	char d[61];

	memset(d, 'x', 60);
	d[60] = '\0';
	begin(good); /* the limit is 100 bytes */
	T_INTEQ(rec('D', d), ENQP_WRITE);
	d[40] = '\0';
	T_INTEQ(rec('D', d), ENQP_WRITE);
	T_INTEQ(P.size, 100);
	T_INTEQ(rec('D', ""), ENQP_WRITE);
	T_INTEQ(rec('D', "y"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.3.4 message too big");
	/* a length that would overflow the sum is refused, not wrapped */
	begin(good);
	T_INTEQ(rec('D', "ab"), ENQP_WRITE);
	T_INTEQ(enqp_record(&P, 'D', "", (size_t)-1), ENQP_DROP | ENQP_LOG);
}

static void test_caller_failure(void)
{
	begin(good);
	T_INTEQ(rec('D', "x"), ENQP_WRITE);
	T_INTEQ(enqp_fail(&P, ENQ_R_TEMP, "4.3.0 disk full"), ENQP_DROP | ENQP_LOG);
	/* logged once: a second failure only drops */
	T_INTEQ(enqp_fail(&P, ENQ_R_TEMP, "4.3.0 again"), ENQP_DROP);
	refused_with(ENQ_R_TEMP, "4.3.0 again");
	/* a commit that fails: the E after it replies */
	begin(good);
	T_INTEQ(rec('E', ""), ENQP_COMMIT);
	T_INTEQ(enqp_fail(&P, ENQ_R_TEMP, "4.3.0 commit failed"), ENQP_DROP | ENQP_LOG);
	T_INTEQ(rec('E', ""), ENQP_REPLY);
	T_STREQ(P.fail_text.s, "4.3.0 commit failed");
	T_INTEQ(P.st, ENQP_IDLE);
}

static void test_too_many_rcpts(void)
{
	char a[32];

	begin(NULL);
	for (int i = 0; i < QFILE_MAX_RCPT; i++) {
		snprintf(a, sizeof a, "u%d@y.test", i);
		if (rec('R', a) != 0)
			break;
	}
	T_INTEQ(P.q.nrcpt, QFILE_MAX_RCPT);
	T_INTEQ(rec('R', "one@more.test"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.3 too many recipients");
}

/* N and O: checked, kept in place, an O after a dropped duplicate R dropped */
static void test_dsn(void)
{
	const char *const kv[] = { "S", "a@b.test", "N", "RET=HDRS ENVID=e1", "R", "x@y.test",
	                           "O", "NOTIFY=NEVER", "R", "w@y.test", "R", "x@y.test",
	                           "O", "NOTIFY=SUCCESS", NULL };

	begin(kv);
	T_INTEQ(P.st, ENQP_ENV);
	T_STREQ(P.q.dsn.s, "RET=HDRS ENVID=e1");
	T_INTEQ(P.q.nrcpt, 2);
	if (P.q.nrcpt == 2) {
		T_STREQ(P.q.rcpt_dsn[0].s, "NOTIFY=NEVER");
		T_INTEQ(P.q.rcpt_dsn[1].len, 0);
	}
	T_INTEQ(rec('E', ""), ENQP_COMMIT);
	begin(NULL);
	T_INTEQ(rec('O', "NOTIFY=NEVER"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 DSN record out of place");
	begin(NULL);
	T_INTEQ(rec('R', "x@y.test"), 0);
	T_INTEQ(rec('N', "RET=FULL"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 DSN record out of place");
	begin(NULL);
	T_INTEQ(rec('R', "x@y.test"), 0);
	T_INTEQ(rec('O', "NOTIFY=NEVER"), 0);
	T_INTEQ(rec('O', "NOTIFY=NEVER"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 DSN record out of place");
	begin(NULL);
	T_INTEQ(rec('R', "x@y.test"), 0);
	T_INTEQ(rec('O', "NOTIFY=NEVER,SUCCESS"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 bad DSN parameters");
	begin(NULL);
	T_INTEQ(rec('N', ""), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 bad DSN parameters");
	begin(NULL);
	T_INTEQ(rec('N', "ENVID=a+0Ab"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.4 bad DSN parameters");
	begin(NULL);
	T_INTEQ(rec('N', "RET=FULL"), 0);
	T_INTEQ(rec('N', "RET=FULL"), ENQP_DROP | ENQP_LOG);
	refused_with(ENQ_R_PERM, "5.5.0 repeated envelope record");
}

int main(void)
{
	T_RUN(test_good);
	T_RUN(test_duplicate_rcpt);
	T_RUN(test_envelope_refused);
	T_RUN(test_incomplete);
	T_RUN(test_order);
	T_RUN(test_size_limit);
	T_RUN(test_caller_failure);
	T_RUN(test_too_many_rcpts);
	T_RUN(test_dsn);
	enqp_free(&P);
	return t_done();
}
