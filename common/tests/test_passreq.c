#include <errno.h>
#include <string.h>
#include "passreq.h"
#include "test.h"

static void test_build_parse(void)
{
	char b[PASSREQ_MAX];
	struct passreq r;
	int n = passreq_build(b, "alice", 5, "s3cret pw", 9);

	T_INTEQ(n, 16);
	T_ASSERT(memcmp(b, "alice\0s3cret pw\0", 16) == 0);
	T_INTEQ(passreq_parse(b, (size_t)n, &r), 0);
	T_STREQ(r.name, "alice");
	T_STREQ(r.pass, "s3cret pw");
	T_INTEQ(r.passlen, 9);
}

static void test_longest(void)
{
	char b[PASSREQ_MAX], name[USER_MAILBOX_MAX], pass[USER_PASS_MAX + 1];
	struct passreq r;

	/* NAME@DOMAIN: 32 octets, '@', four labels of 63 (255 octets) */
	memset(name, 'n', sizeof name);
	name[USER_NAME_MAX] = '@';
	for (size_t i = USER_NAME_MAX + 1 + 63; i < sizeof name; i += 64)
		name[i] = '.';
	memset(pass, 'p', sizeof pass);
	T_INTEQ(passreq_build(b, name, sizeof name, pass, USER_PASS_MAX), PASSREQ_MAX);
	T_INTEQ(passreq_parse(b, PASSREQ_MAX, &r), 0);
	T_INTEQ(r.passlen, USER_PASS_MAX);
	T_INTEQ(strlen(r.name), USER_MAILBOX_MAX);
	T_INTEQ(passreq_build(b, "alice@b.test", 12, "x", 1), 15);
	T_INTEQ(passreq_parse(b, 15, &r), 0);
	T_STREQ(r.name, "alice@b.test");
	T_INTEQ(passreq_build(b, "alice@B.test", 12, "x", 1), -1);
	T_INTEQ(passreq_build(b, "alice@[127.0.0.1]", 17, "x", 1), -1);
	T_INTEQ(passreq_build(b, "alice@", 6, "x", 1), -1);
	T_INTEQ(passreq_build(b, "@b.test", 7, "x", 1), -1);
	/* one byte too many of either */
	T_INTEQ(passreq_build(b, name, sizeof name, pass, USER_PASS_MAX + 1), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(passreq_build(b, "a", 1, "", 0), -1);
	T_INTEQ(passreq_build(b, "Alice", 5, "x", 1), -1);
	T_INTEQ(passreq_build(b, "a", 1, "x\0y", 3), -1);
	T_INTEQ(passreq_build(b, "a\0b", 3, "x", 1), -1);
}

#define BAD(lit) do { T_INTEQ(passreq_parse(lit, sizeof lit - 1, &r), -1); \
	T_INTEQ(errno, EPROTO); } while (0)

static void test_malformed(void)
{
	char big[PASSREQ_MAX + 1];
	struct passreq r;

	BAD("");
	BAD("a");
	BAD("alice\0secret");          /* no final NUL */
	BAD("alice\0");                /* no password */
	BAD("alice\0\0");              /* empty password */
	BAD("\0secret\0");             /* empty name */
	BAD("alice\0secret\0x\0");     /* a third field */
	BAD("alice\0secret\0\0");
	BAD("alice\0sec\0ret\0");
	BAD("Alice\0secret\0");        /* names are lower case */
	BAD(".alice\0secret\0");
	BAD("al ice\0secret\0");
	BAD("alice");
	/* too long as a whole, even when well formed inside */
	memset(big, 'p', sizeof big);
	memcpy(big, "a", 2);
	big[sizeof big - 1] = '\0';
	T_INTEQ(passreq_parse(big, sizeof big, &r), -1);
	T_STREQ(r.name, "");
}

int main(void)
{
	T_RUN(test_build_parse);
	T_RUN(test_longest);
	T_RUN(test_malformed);
	return t_done();
}
