/* qfile: envelope write/read round trip and refusal of damaged files */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/time.h>
#include "io.h"
#include "qfile.h"
#include "rec.h"
#include "sa.h"
#include "test.h"

static char qid[QID_LEN + 1];

static int tmpfile_with(const void *p, size_t n)
{
	char path[] = "/tmp/test_qfile.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (n && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* an envelope built record by record; types and data as "T" "data" pairs */
static void env_build(sa_t *s, const char *const *kv)
{
	for (; kv[0]; kv += 2)
		T_ASSERT(rec_cat(s, kv[0][0], kv[1], strlen(kv[1])) == 0);
}

static int read_str(const char *const *kv, const char *msg, struct qfile *q, sa_t *err)
{
	sa_t s = SA_INIT;
	int fd, r;

	env_build(&s, kv);
	if (msg)
		sa_cats(&s, msg);
	fd = tmpfile_with(s.s, s.len);
	T_ASSERT(fd >= 0);
	r = qfile_read(fd, q, err);
	close(fd);
	sa_free(&s);
	return r;
}

static void test_roundtrip(void)
{
	struct qfile q, r;
	sa_t rc[3] = { SA_INIT, SA_INIT, SA_INIT }, err = SA_INIT;
	char obuf[512], mbuf[64];
	io_t out;
	int fd = tmpfile_with(NULL, 0);
	const char *msg = "Subject: x\n\nbody\n";

	T_ASSERT(fd >= 0);
	memset(&q, 0, sizeof q);
	memcpy(q.qid, qid, sizeof q.qid);
	q.arrival = 1700000000;
	sa_copys(&q.sender, "alice@example.org");
	sa_copys(&q.body, "8BITMIME");
	sa_copys(&q.proto, "ESMTP");
	sa_copys(&q.helo, "client.example.org");
	sa_copys(&q.client, "192.0.2.1");
	sa_copys(&rc[0], "bob@example.test");
	sa_copys(&rc[1], "Postmaster");
	sa_copys(&rc[2], "\"odd local\"@example.test");
	q.rcpt = rc;
	q.nrcpt = 3;
	io_init(&out, fd, obuf, sizeof obuf, -1);
	T_ASSERT(qfile_write_env(&out, &q) == 0);
	T_ASSERT(io_puts(&out, msg) == 0);
	T_ASSERT(io_flush(&out) == 0);
	lseek(fd, 0, SEEK_SET);
	T_ASSERT(qfile_read(fd, &r, &err) == 0);
	T_STREQ(r.qid, qid);
	T_INTEQ(r.arrival, 1700000000);
	T_STREQ(r.sender.s, "alice@example.org");
	T_STREQ(r.body.s, "8BITMIME");
	T_STREQ(r.proto.s, "ESMTP");
	T_STREQ(r.helo.s, "client.example.org");
	T_STREQ(r.client.s, "192.0.2.1");
	T_INTEQ(r.nrcpt, 3);
	if (r.nrcpt == 3) {
		T_STREQ(r.rcpt[0].s, "bob@example.test");
		T_STREQ(r.rcpt[1].s, "Postmaster");
		T_STREQ(r.rcpt[2].s, "\"odd local\"@example.test");
	}
	T_INTEQ(r.msg_size, strlen(msg));
	/* the descriptor is left at the message */
	T_INTEQ(lseek(fd, 0, SEEK_CUR), (long long)r.msg_off);
	T_INTEQ(read(fd, mbuf, sizeof mbuf), (long long)strlen(msg));
	T_ASSERT(memcmp(mbuf, msg, strlen(msg)) == 0);
	qfile_free(&r);
	for (int i = 0; i < 3; i++)
		sa_free(&rc[i]);
	sa_free(&q.sender);
	sa_free(&q.body);
	sa_free(&q.proto);
	sa_free(&q.helo);
	sa_free(&q.client);
	sa_free(&err);
	close(fd);
}

/* the null sender and empty optional fields; an empty message */
static void test_minimal(void)
{
	const char *kv[] = { "V", "1", "I", qid, "T", "5", "S", "", "B", "", "P", "", "H", "",
	                     "C", "", "R", "postmaster", "M", "", NULL };
	struct qfile q;
	sa_t err = SA_INIT;

	T_INTEQ(read_str(kv, NULL, &q, &err), 0);
	T_INTEQ(q.sender.len, 0);
	T_INTEQ(q.nrcpt, 1);
	T_INTEQ(q.msg_size, 0);
	T_INTEQ(q.arrival, 5);
	qfile_free(&q);
	sa_free(&err);
}

/* read from a non-zero offset: offsets are relative to it */
static void test_offset(void)
{
	const char *kv[] = { "V", "1", "I", qid, "T", "5", "S", "", "B", "", "P", "", "H", "",
	                     "C", "", "R", "a@b.c", "M", "", NULL };
	sa_t s = SA_INIT, err = SA_INIT;
	struct qfile q;
	int fd;

	sa_cats(&s, "JUNK");
	env_build(&s, kv);
	sa_cats(&s, "msg\n");
	fd = tmpfile_with(s.s, s.len);
	lseek(fd, 4, SEEK_SET);
	T_INTEQ(qfile_read(fd, &q, &err), 0);
	T_INTEQ(q.msg_off + 4 + 4, s.len);
	T_INTEQ(q.msg_size, 4);
	T_INTEQ(lseek(fd, 0, SEEK_CUR), (long long)(4 + q.msg_off));
	qfile_free(&q);
	close(fd);
	sa_free(&s);
	sa_free(&err);
}

static void expect_bad(const char *const *kv, const char *why)
{
	struct qfile q;
	sa_t err = SA_INIT;

	errno = 0;
	T_INTEQ(read_str(kv, "body\n", &q, &err), -1);
	T_INTEQ(errno, EPROTO);
	if (!err.len || !strstr(err.s, why))
		printf("  (reason: \"%s\", expected \"%s\")\n", err.s ? err.s : "", why);
	T_ASSERT(err.len > 0 && strstr(err.s, why));
	sa_free(&err);
}

static void test_bad(void)
{
	char longf[QFILE_MAX_FIELD + 10];

	memset(longf, 'a', sizeof longf - 1);
	longf[sizeof longf - 1] = '\0';
	{
		const char *kv[] = { "V", "2", NULL };
		expect_bad(kv, "version");
	}
	{
		const char *kv[] = { "I", qid, NULL };
		expect_bad(kv, "order");
	}
	{
		const char *kv[] = { "V", "1", "I", "123", NULL };
		expect_bad(kv, "queue ID");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "12x", NULL };
		expect_bad(kv, "arrival");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "not an address", NULL };
		expect_bad(kv, "sender");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "9BIT", NULL };
		expect_bad(kv, "body");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "",
		                     "H", "evil\r\nX: y", NULL };
		expect_bad(kv, "control");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "M", "", NULL };
		expect_bad(kv, "no recipients");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "bob", "M", "", NULL };
		expect_bad(kv, "recipient");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@b.c", "S", "", NULL };
		expect_bad(kv, "unexpected");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", longf,
		                     NULL };
		expect_bad(kv, "too long");
	}
	{
		/* the envelope ends before M: a truncated file */
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@b.c", NULL };
		struct qfile q;
		sa_t err = SA_INIT;
		T_INTEQ(read_str(kv, NULL, &q, &err), -1);
		T_INTEQ(errno, EPROTO);
		sa_free(&err);
	}
	{
		/* a record cut in the middle */
		const char *kv[] = { "V", "1", "I", qid, NULL };
		struct qfile q;
		sa_t err = SA_INIT;
		T_INTEQ(read_str(kv, "T10:12", &q, &err), -1);
		T_INTEQ(errno, EPROTO);
		sa_free(&err);
	}
}

static int reads(const char *const *kv)
{
	struct qfile q;
	sa_t err = SA_INIT;
	int r = read_str(kv, "body\n", &q, &err);

	if (r == 0)
		qfile_free(&q);
	sa_free(&err);
	return r == 0;
}

/* the limits, each side of them, and bytes no envelope may hold */
static void test_bounds(void)
{
	char field[QFILE_MAX_FIELD + 2];
	struct qfile q;
	sa_t err = SA_INIT;
	const char *t18[] = { "V", "1", "I", qid, "T", "999999999999999999", "S", "", "B", "", "P", "",
	                      "H", "", "C", "", "R", "a@b.c", "M", "", NULL };
	const char *t19[] = { "V", "1", "I", qid, "T", "9999999999999999999", NULL };
	const char *t0[] = { "V", "1", "I", qid, "T", "", NULL };
	const char *h[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", field,
	                    "C", "", "R", "a@b.c", "M", "", NULL };

	T_ASSERT(reads(t18));
	expect_bad(t19, "arrival");
	expect_bad(t0, "arrival");
	/* a field of QFILE_MAX_FIELD bytes is read, one more is refused */
	memset(field, 'h', QFILE_MAX_FIELD);
	field[QFILE_MAX_FIELD] = '\0';
	T_ASSERT(reads(h));
	field[QFILE_MAX_FIELD] = 'h';
	field[QFILE_MAX_FIELD + 1] = '\0';
	expect_bad(h, "too long");
	/* M carries nothing; the version is exactly "1" */
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@b.c", "M", "x", NULL };
		expect_bad(kv, "end of envelope");
	}
	{
		const char *kv[] = { "V", "", NULL };
		expect_bad(kv, "version");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@b.c\tX", NULL };
		expect_bad(kv, "recipient");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "a@b.c\x7f", NULL };
		expect_bad(kv, "sender");
	}
	/* NUL inside a record: the length is what counts, and the NUL is refused */
	{
		sa_t s = SA_INIT;
		int fd;
		T_INTEQ(rec_cat(&s, 'V', "1", 1), 0);
		T_INTEQ(rec_cat(&s, 'I', qid, QID_LEN), 0);
		T_INTEQ(rec_cat(&s, 'T', "1", 1), 0);
		T_INTEQ(rec_cat(&s, 'S', "", 0), 0);
		T_INTEQ(rec_cat(&s, 'B', "7BIT\0x", 6), 0);
		fd = tmpfile_with(s.s, s.len);
		errno = 0;
		T_INTEQ(qfile_read(fd, &q, &err), -1);
		T_INTEQ(errno, EPROTO);
		T_ASSERT(err.s && strstr(err.s, "control"));
		close(fd);
		sa_free(&s);
	}
	/* an empty file, and a record length with too many digits */
	{
		int fd = tmpfile_with(NULL, 0);
		T_INTEQ(qfile_read(fd, &q, &err), -1);
		T_INTEQ(errno, EPROTO);
		close(fd);
		fd = tmpfile_with("V99999999999:1\n", 15);
		T_INTEQ(qfile_read(fd, &q, &err), -1);
		T_INTEQ(errno, EPROTO);
		close(fd);
	}
	sa_free(&err);
}

/* N and O records (DSN parameters): written, read back, and their place */
static void test_dsn(void)
{
	struct qfile q, r;
	sa_t rc[2] = { SA_INIT, SA_INIT }, rd[2] = { SA_INIT, SA_INIT }, err = SA_INIT;
	char obuf[512];
	io_t out;
	int fd = tmpfile_with(NULL, 0);

	T_ASSERT(fd >= 0);
	memset(&q, 0, sizeof q);
	memcpy(q.qid, qid, sizeof q.qid);
	q.arrival = 1;
	sa_copys(&q.dsn, "RET=HDRS ENVID=id+2B1");
	sa_copys(&rc[0], "a@x.test");
	sa_copys(&rc[1], "b@x.test");
	sa_copys(&rd[1], "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40y");
	q.rcpt = rc;
	q.rcpt_dsn = rd;
	q.nrcpt = 2;
	io_init(&out, fd, obuf, sizeof obuf, -1);
	T_ASSERT(qfile_write_env(&out, &q) == 0);
	T_ASSERT(io_flush(&out) == 0);
	lseek(fd, 0, SEEK_SET);
	T_ASSERT(qfile_read(fd, &r, &err) == 0);
	T_STREQ(r.dsn.s, "RET=HDRS ENVID=id+2B1");
	T_INTEQ(r.nrcpt, 2);
	if (r.nrcpt == 2) {
		T_INTEQ(r.rcpt_dsn[0].len, 0);
		T_STREQ(r.rcpt_dsn[1].s, "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+40y");
	}
	qfile_free(&r);
	close(fd);
	for (int i = 0; i < 2; i++) {
		sa_free(&rc[i]);
		sa_free(&rd[i]);
	}
	sa_free(&q.dsn);
	sa_free(&err);
	/* an old file: no N, no O */
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@x.test", "M", "", NULL };
		T_INTEQ(read_str(kv, "body\n", &r, &err), 0);
		T_INTEQ(r.dsn.len, 0);
		T_INTEQ(r.rcpt_dsn[0].len, 0);
		qfile_free(&r);
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "O", "NOTIFY=NEVER", "R", "a@x.test", "M", "", NULL };
		expect_bad(kv, "unexpected");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@x.test", "O", "NOTIFY=NEVER", "O", "NOTIFY=NEVER",
		                     "M", "", NULL };
		expect_bad(kv, "unexpected");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@x.test", "N", "RET=FULL", "M", "", NULL };
		expect_bad(kv, "unexpected");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "N", "RET=FULL", "N", "RET=FULL", "R", "a@x.test", "M", "", NULL };
		expect_bad(kv, "unexpected");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "N", "RET=SOME", "R", "a@x.test", "M", "", NULL };
		expect_bad(kv, "DSN");
	}
	{
		const char *kv[] = { "V", "1", "I", qid, "T", "1", "S", "", "B", "", "P", "", "H", "",
		                     "C", "", "R", "a@x.test", "O", "ORCPT=rfc822;+0A", "M", "", NULL };
		expect_bad(kv, "DSN");
	}
}

int main(void)
{
	struct timeval tv = { 1700000000, 123456 };

	qid_make(qid, &tv, 4242);
	T_RUN(test_roundtrip);
	T_RUN(test_minimal);
	T_RUN(test_offset);
	T_RUN(test_bad);
	T_RUN(test_bounds);
	T_RUN(test_dsn);
	return t_done();
}
