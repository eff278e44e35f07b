/* qstate: journal record format, append, load, torn tails */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "qstate.h"
#include "rec.h"
#include "sa.h"
#include "test.h"

static char dir[] = "/tmp/test_qstate.XXXXXX";
static char path[256];

static struct qstate_rec mk(int type, size_t idx, unsigned att, long long next, const char *st,
                            const char *text)
{
	struct qstate_rec r;

	memset(&r, 0, sizeof r);
	r.type = type;
	r.index = idx;
	r.when = 1700000000;
	r.attempts = att;
	r.next = next;
	snprintf(r.status, sizeof r.status, "%s", st);
	r.text = text;
	r.textlen = strlen(text);
	return r;
}

static void test_format_parse(void)
{
	struct qstate_rec r = mk(QSTATE_DEFERRED, 7, 3, 1700000600, "4.2.0", "mailbox unavailable: x y"), p;
	sa_t s = SA_INIT;
	size_t pos = 0, dlen;
	const char *data;
	int type;

	T_ASSERT(qstate_format(&s, &r) == 0);
	T_STREQ(s.s, "Z56:7 1700000000 3 1700000600 4.2.0 mailbox unavailable: x y\n");
	T_INTEQ(rec_next(s.s, s.len, &pos, &type, &data, &dlen), 1);
	T_INTEQ(qstate_parse(type, data, dlen, &p), 0);
	T_INTEQ(p.type, QSTATE_DEFERRED);
	T_INTEQ(p.index, 7);
	T_INTEQ(p.when, 1700000000);
	T_INTEQ(p.attempts, 3);
	T_INTEQ(p.next, 1700000600);
	T_STREQ(p.status, "4.2.0");
	T_INTEQ(p.textlen, strlen("mailbox unavailable: x y"));
	T_ASSERT(memcmp(p.text, "mailbox unavailable: x y", p.textlen) == 0);
	sa_free(&s);
}

/* control characters in the text never reach the file; an empty text is fine */
static void test_format_sanitise(void)
{
	struct qstate_rec r = mk(QSTATE_FAILED, 0, 1, 0, "5.1.1", "bad\r\nZ5:inject"), e;
	sa_t s = SA_INIT;

	T_ASSERT(qstate_format(&s, &r) == 0);
	T_ASSERT(strchr(s.s, '\r') == NULL);
	T_ASSERT(strchr(s.s, '\n') == s.s + s.len - 1);
	T_ASSERT(strstr(s.s, "bad??Z5:inject") != NULL);
	e = mk(QSTATE_SENT, 1, 0, 0, "2.0.0", "");
	sa_trunc(&s, 0);
	T_ASSERT(qstate_format(&s, &e) == 0);
	T_STREQ(s.s, "D23:1 1700000000 0 0 2.0.0 \n");
	/* refused: bad status, bad type, next on a final record */
	e = mk(QSTATE_SENT, 1, 0, 0, "2.0", "");
	T_INTEQ(qstate_format(&s, &e), -1);
	e = mk('Q', 1, 0, 0, "2.0.0", "");
	T_INTEQ(qstate_format(&s, &e), -1);
	sa_free(&s);
}

static void test_parse_bad(void)
{
	struct qstate_rec p;
	static const char *bad[] = {
		"", "1", "x 1 0 0 2.0.0 t", "1 1 0 0 2.0.0", "1 1 0 5 2.0.0 t" /* next on D */,
		"1 1 0 0 20.0.0 t", "1 1 0 0 2.0.0.1 t", "-1 1 0 0 2.0.0 t",
		"1 1 99999999999 0 2.0.0 t", "1 1 0 0 2.0.0 t\001", "1  1 0 0 2.0.0 t",
		"99999999999999999999999 1 0 0 2.0.0 t",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (qstate_parse('D', bad[i], strlen(bad[i]), &p) != -1)
			printf("  accepted: \"%s\"\n", bad[i]);
		T_INTEQ(errno, EPROTO);
	}
	T_INTEQ(qstate_parse('X', "1 1 0 0 2.0.0 t", 15, &p), -1);
	T_INTEQ(qstate_parse('Z', "1 1 1 0 4.0.0 t", 15, &p), 0);
}

/* each limit, from both sides */
static void test_parse_bounds(void)
{
	struct qstate_rec p;
	char buf[1200];
	int n;

	T_INTEQ(qstate_parse('D', "1 1 4294967295 0 2.0.0 t", 24, &p), 0);
	T_INTEQ(p.attempts, 4294967295u);
	T_INTEQ(qstate_parse('D', "1 1 4294967296 0 2.0.0 t", 24, &p), -1);
	T_INTEQ(qstate_parse('Z', "0 9223372036854775807 1 9223372036854775807 4.0.0 t", 50, &p), 0);
	T_INTEQ(p.when, 9223372036854775807LL);
	T_INTEQ(qstate_parse('Z', "0 9223372036854775808 1 0 4.0.0 t", 33, &p), -1);
	T_INTEQ(qstate_parse('Z', "0 1 1 9223372036854775808 4.0.0 t", 33, &p), -1);
	/* 20 digits with leading zeros pass, 21 do not */
	T_INTEQ(qstate_parse('D', "00000000000000000001 1 0 0 2.0.0 t", 34, &p), 0);
	T_INTEQ(p.index, 1);
	T_INTEQ(qstate_parse('D', "000000000000000000001 1 0 0 2.0.0 t", 35, &p), -1);
	/* an empty text; a status of another class; no space after the status */
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0 ", 14, &p), 0);
	T_INTEQ(p.textlen, 0);
	T_INTEQ(qstate_parse('D', "1 1 0 0 3.0.0 t", 15, &p), -1);
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0", 13, &p), -1);
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.000000000000 t", 26, &p), -1);
	/* a text of QSTATE_TEXT_MAX bytes is read, one more is refused */
	n = snprintf(buf, sizeof buf, "1 1 0 0 2.0.0 ");
	memset(buf + n, 'x', QSTATE_TEXT_MAX + 1);
	T_INTEQ(qstate_parse('D', buf, (size_t)n + QSTATE_TEXT_MAX, &p), 0);
	T_INTEQ(p.textlen, QSTATE_TEXT_MAX);
	T_INTEQ(qstate_parse('D', buf, (size_t)n + QSTATE_TEXT_MAX + 1, &p), -1);
	/* a NUL or a DEL in the text; 8-bit text is kept */
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0 a\0b", 17, &p), -1);
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0 a\x7f", 16, &p), -1);
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0 \xc3\xa9", 16, &p), 0);
	/* the length bounds the parse: the same bytes cut short are refused */
	T_INTEQ(qstate_parse('D', "1 1 0 0 2.0.0 t", 7, &p), -1);
}

/* B (failed, sender told) and W (delay notice queued) round-trip; final
 * records never carry a retry time */
static void test_bounced_warned(void)
{
	struct qstate_rec b = mk(QSTATE_BOUNCED, 3, 2, 0, "4.4.7", "expired: connect refused"),
	                  w = mk(QSTATE_WARNED, 0, 0, 0, "4.0.0", "delay notice 0ABC"), p;
	sa_t s = SA_INIT;
	size_t pos = 0, dlen;
	const char *data;
	int type;

	T_ASSERT(qstate_format(&s, &b) == 0);
	T_ASSERT(qstate_format(&s, &w) == 0);
	T_INTEQ(rec_next(s.s, s.len, &pos, &type, &data, &dlen), 1);
	T_INTEQ(type, 'B');
	T_INTEQ(qstate_parse(type, data, dlen, &p), 0);
	T_INTEQ(p.type, QSTATE_BOUNCED);
	T_INTEQ(p.index, 3);
	T_STREQ(p.status, "4.4.7");
	T_INTEQ(rec_next(s.s, s.len, &pos, &type, &data, &dlen), 1);
	T_INTEQ(type, 'W');
	T_INTEQ(qstate_parse(type, data, dlen, &p), 0);
	T_INTEQ(p.type, QSTATE_WARNED);
	T_INTEQ(qstate_parse('B', "1 1 0 7 5.0.0 t", 15, &p), -1);
	b.next = 5;
	T_INTEQ(qstate_format(&s, &b), -1);
	sa_free(&s);
}

struct seen {
	int n;
	struct qstate_rec last;
	char lasttext[64];
};

static int collect(const struct qstate_rec *r, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->last = *r;
	snprintf(s->lasttext, sizeof s->lasttext, "%.*s", (int)r->textlen, r->text);
	return 0;
}

static void test_append_load(void)
{
	struct qstate_rec a = mk(QSTATE_SENT, 0, 0, 0, "2.0.0", "ok"),
	                  b = mk(QSTATE_DEFERRED, 1, 1, 1700000300, "4.2.0", "later");
	struct seen s = { 0 };
	sa_t buf = SA_INIT;
	off_t good, size;
	struct stat st;

	unlink(path);
	/* missing: an empty journal */
	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	T_INTEQ(s.n, 0);
	T_INTEQ(size, 0);
	T_ASSERT(qstate_format(&buf, &a) == 0);
	T_INTEQ(qstate_append(path, buf.s, buf.len), 0);
	T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	sa_trunc(&buf, 0);
	T_ASSERT(qstate_format(&buf, &b) == 0);
	T_INTEQ(qstate_append(path, buf.s, buf.len), 0);
	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	T_INTEQ(s.n, 2);
	T_INTEQ(good, size);
	T_INTEQ(s.last.type, QSTATE_DEFERRED);
	T_INTEQ(s.last.index, 1);
	T_STREQ(s.lasttext, "later");
	sa_free(&buf);
}

/* a crash during an append: the torn record is reported, cut, and appends go on */
static void test_torn_tail(void)
{
	struct seen s = { 0 };
	struct qstate_rec c = mk(QSTATE_FAILED, 2, 1, 0, "5.1.1", "user unknown");
	sa_t buf = SA_INIT;
	off_t good, size, before;
	int fd;

	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	before = size;
	fd = open(path, O_WRONLY | O_APPEND);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, "F40:2 17000", 11), 11);
	close(fd);
	s.n = 0;
	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	T_INTEQ(s.n, 2);
	T_INTEQ(good, before);
	T_INTEQ(size, before + 11);
	T_INTEQ(qstate_truncate(path, good), 0);
	T_ASSERT(qstate_format(&buf, &c) == 0);
	T_INTEQ(qstate_append(path, buf.s, buf.len), 0);
	s.n = 0;
	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	T_INTEQ(s.n, 3);
	T_INTEQ(good, size);
	T_INTEQ(s.last.type, QSTATE_FAILED);
	T_STREQ(s.lasttext, "user unknown");
	/* a damaged record in the middle ends the usable prefix there */
	fd = open(path, O_WRONLY | O_APPEND);
	T_INTEQ(write(fd, "D5:x y z\n", 9), 9);
	close(fd);
	T_ASSERT(qstate_append(path, buf.s, buf.len) == 0);
	s.n = 0;
	T_INTEQ(qstate_load(path, collect, &s, &good, &size), 0);
	T_INTEQ(s.n, 3);
	T_ASSERT(good < size);
	sa_free(&buf);
}

static int stop_at_first(const struct qstate_rec *r, void *arg)
{
	(void)r;
	(void)arg;
	errno = ENOMEM;
	return -1;
}

static void test_callback_error(void)
{
	off_t good, size;

	errno = 0;
	T_INTEQ(qstate_load(path, stop_at_first, NULL, &good, &size), -1);
	T_INTEQ(errno, ENOMEM);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/QID", dir);
	T_RUN(test_format_parse);
	T_RUN(test_format_sanitise);
	T_RUN(test_parse_bad);
	T_RUN(test_parse_bounds);
	T_RUN(test_bounced_warned);
	T_RUN(test_append_load);
	T_RUN(test_torn_tail);
	T_RUN(test_callback_error);
	unlink(path);
	rmdir(dir);
	return t_done();
}
