#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dresult.h"
#include "rec.h"
#include "test.h"

/* write with dresult_put into a temporary file and read it back whole */
static int put_read(size_t index, char class, const char *status, const char *text, sa_t *out)
{
	char tmpl[] = "/tmp/test_dresult.XXXXXX";
	char buf[4096];
	io_t io;
	int fd, r;
	ssize_t n;

	fd = mkstemp(tmpl);
	if (fd < 0)
		return -1;
	unlink(tmpl);
	io_init(&io, fd, buf, sizeof buf, -1);
	r = dresult_put(&io, index, class, status, text);
	if (r == 0)
		r = io_flush(&io);
	if (r == 0 && lseek(fd, 0, SEEK_SET) == 0) {
		while ((n = read(fd, buf, sizeof buf)) > 0)
			sa_catb(out, buf, (size_t)n);
	}
	close(fd);
	return r;
}

static void test_put_format(void)
{
	sa_t s = SA_INIT;
	T_INTEQ(put_read(3, 'P', "5.1.1", "smtp; 550 5.1.1 <bob@b.test>: no", &s), 0);
	T_STREQ(s.s, "r42:3 P 5.1.1 smtp; 550 5.1.1 <bob@b.test>: no\n");
	sa_free(&s);
}

static void test_put_sanitises(void)
{
	sa_t s = SA_INIT;
	T_INTEQ(put_read(0, 'T', "4.4.1", "a\r\nb\tc\x7f", &s), 0);
	T_STREQ(s.s, "r17:0 T 4.4.1 a  b c \n");
	sa_free(&s);
	/* C1 controls, as one byte or UTF-8, and bytes that are not UTF-8 go;
	 * well-formed UTF-8 stays */
	T_INTEQ(put_read(0, 'T', "4.4.1", "x\x9by\xc2\x9bz\xc3\xa9\xff", &s), 0);
	T_STREQ(s.s, "r18:0 T 4.4.1 x y z\xc3\xa9 \n");
	sa_free(&s);
}

static void test_put_cuts(void)
{
	sa_t s = SA_INIT;
	char big[DRESULT_TEXT_MAX + 500];
	const char *data;
	size_t pos = 0, dlen;
	int type;
	struct dresult r = { 0 };

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_INTEQ(put_read(12, 'D', "2.0.0", big, &s), 0);
	T_INTEQ(rec_next(s.s, s.len, &pos, &type, &data, &dlen), 1);
	T_INTEQ(type, DRESULT_REC);
	T_INTEQ(dlen, strlen("12 D 2.0.0 ") + DRESULT_TEXT_MAX);
	T_INTEQ(dresult_parse(data, dlen, &r), 0);
	T_INTEQ(r.index, 12);
	T_INTEQ(r.text.len, DRESULT_TEXT_MAX);
	sa_free(&r.text);
	sa_free(&s);
}

static void test_put_rejects(void)
{
	sa_t s = SA_INIT;
	T_INTEQ(put_read(0, 'X', "2.0.0", "", &s), -1);
	T_INTEQ(put_read(0, 'D', "5.0.0", "", &s), -1);   /* class mismatch */
	T_INTEQ(put_read(0, 'T', "4.0", "", &s), -1);
	T_INTEQ(put_read(0, 'T', "4.1000.0", "", &s), -1);
	T_INTEQ(put_read(0, 'T', NULL, "", &s), -1);
	T_INTEQ(s.len, 0);
	sa_free(&s);
}

static int parse(const char *txt, struct dresult *r)
{
	return dresult_parse(txt, strlen(txt), r);
}

static void test_parse_ok(void)
{
	struct dresult r = { 0 };
	T_INTEQ(parse("0 D 2.0.0 smtp; 250 ok", &r), 0);
	T_INTEQ(r.index, 0);
	T_INTEQ(r.class, 'D');
	T_STREQ(r.status, "2.0.0");
	T_STREQ(r.text.s, "smtp; 250 ok");
	T_INTEQ(parse("99 P 5.1.10 Domain does not accept mail (null MX)", &r), 0);
	T_INTEQ(r.index, 99);
	T_STREQ(r.status, "5.1.10");
	T_STREQ(r.text.s, "Domain does not accept mail (null MX)");
	T_INTEQ(parse("7 T 4.4.1", &r), 0);
	T_STREQ(r.text.s, "");
	T_INTEQ(parse("7 T 4.4.1 ", &r), 0);
	T_STREQ(r.text.s, "");
	sa_free(&r.text);
}

static void test_parse_bad(void)
{
	struct dresult r = { 0 };
	const char *bad[] = {
		"", "x D 2.0.0 a", "-1 D 2.0.0 a", "01 D 2.0.0 a", "1 d 2.0.0 a", "1 D 5.0.0 a",
		"1 D 2.0 a", "1 D 2..0 a", "1 D 2.0.0a", "1  D 2.0.0 a", "1 D", "1 D ",
		"99999999999999999999999999 D 2.0.0 a", "1 D 2.0.0 a\nb", "1 T 44.0.0 a",
		"1 T 4.0.0 a\x9b", "1 T 4.0.0 a\xc2\x9b", "1 T 4.0.0 \xff",
	};
	size_t i;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		if (parse(bad[i], &r) != -1 || errno != EPROTO)
			{ printf("accepted: \"%s\"\n", bad[i]); T_ASSERT(0); }
	}
	sa_free(&r.text);
}

static void test_cat(void)
{
	sa_t s = SA_INIT;
	T_INTEQ(sa_cats(&s, "x"), 0);
	T_INTEQ(dresult_cat(&s, 0, 'D', "2.0.0", "ok\n"), 0);
	T_STREQ(s.s, "xr13:0 D 2.0.0 ok \n");
	T_INTEQ(dresult_cat(&s, 0, 'D', "4.0.0", "x"), -1);
	T_INTEQ(errno, EINVAL);
	T_STREQ(s.s, "xr13:0 D 2.0.0 ok \n");
	sa_free(&s);
}

int main(void)
{
	T_RUN(test_cat);
	T_RUN(test_put_format);
	T_RUN(test_put_sanitises);
	T_RUN(test_put_cuts);
	T_RUN(test_put_rejects);
	T_RUN(test_parse_ok);
	T_RUN(test_parse_bad);
	return t_done();
}
