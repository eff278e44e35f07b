#include <errno.h>
#include <string.h>
#include "spawnreq.h"
#include "test.h"

static int parse(const char *s, struct spawnreq *r)
{
	return spawnreq_parse(s, strlen(s), r);
}

static void test_requests(void)
{
	char buf[SPAWNREQ_MAX];
	struct spawnreq r;

	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_LOCAL, 1), 7);
	T_STREQ(buf, "local 1");
	T_INTEQ(parse(buf, &r), 0);
	T_INTEQ(r.op, SPAWNREQ_LOCAL);
	T_INTEQ(r.n, 1);
	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_REMOTE, 4294967295UL), 17);
	T_STREQ(buf, "remote 4294967295");
	T_INTEQ(parse(buf, &r), 0);
	T_INTEQ(r.op, SPAWNREQ_REMOTE);
	T_INTEQ(r.n, 4294967295UL);
	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_KILL, 2147483647), 15);
	T_INTEQ(parse(buf, &r), 0);
	T_INTEQ(r.op, SPAWNREQ_KILL);
	T_INTEQ(r.n, 2147483647);
	/* out of range, a bad op, a buffer too small */
	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_LOCAL, 0), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_REMOTE, 4294967296UL), -1);
	T_INTEQ(spawnreq_build(buf, sizeof buf, SPAWNREQ_KILL, 2147483648UL), -1);
	T_INTEQ(spawnreq_build(buf, sizeof buf, (enum spawnreq_op)7, 1), -1);
	T_INTEQ(spawnreq_build(buf, 7, SPAWNREQ_LOCAL, 1), -1);
}

static void test_bad_requests(void)
{
	static const char *const bad[] = {
		"", "local", "local ", "local 0", "local 01", "local -1", "local +1", "local 1 ",
		" local 1", "local  1", "Local 1", "locals 1", "remote 4294967296", "remote 99999999999",
		"kill 0", "kill 2147483648", "kill 1x", "spawn 1", "local\t1", "local 1\n",
	};
	struct spawnreq r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (parse(bad[i], &r) != -1 || errno != EPROTO) {
			T_STREQ(bad[i], "(refused)");
		}
	}
	/* a NUL inside, and a packet longer than any request */
	T_INTEQ(spawnreq_parse("local 1\0", 8, &r), -1);
	char big[SPAWNREQ_MAX + 2];
	memset(big, '1', sizeof big);
	memcpy(big, "local ", 6);
	T_INTEQ(spawnreq_parse(big, sizeof big, &r), -1);
}

static void test_replies(void)
{
	char buf[SPAWNREQ_MAX];
	unsigned long seq, pid;

	T_INTEQ(spawnreq_reply_build(buf, sizeof buf, 3, 12345), 7);
	T_STREQ(buf, "3 12345");
	T_INTEQ(spawnreq_reply_parse(buf, strlen(buf), &seq, &pid), 0);
	T_INTEQ(seq, 3);
	T_INTEQ(pid, 12345);
	T_INTEQ(spawnreq_reply_build(buf, sizeof buf, 4294967295UL, 0), 12);
	T_INTEQ(spawnreq_reply_parse(buf, strlen(buf), &seq, &pid), 0);
	T_INTEQ(pid, 0);
	T_INTEQ(spawnreq_reply_build(buf, sizeof buf, 0, 1), -1);
	T_INTEQ(spawnreq_reply_build(buf, sizeof buf, 1, 2147483648UL), -1);
	static const char *const bad[] = { "", "1", "1 ", " 1", "0 5", "1 00", "1 -5", "1 5 ",
	                                   "a 5", "1 2147483648", "4294967296 1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (spawnreq_reply_parse(bad[i], strlen(bad[i]), &seq, &pid) != -1) {
			T_STREQ(bad[i], "(refused)");
		}
}

int main(void)
{
	T_RUN(test_requests);
	T_RUN(test_bad_requests);
	T_RUN(test_replies);
	return t_done();
}
