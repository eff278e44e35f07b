#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "rec.h"
#include "test.h"

/* a reader over a pipe holding data (small enough for the pipe buffer) */
static int pipe_in(io_t *in, char *buf, size_t cap, const char *data, size_t n)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	if (n && fd_write_all(p[1], data, n) < 0)
		return -1;
	close(p[1]);
	io_init(in, p[0], buf, cap, 1000);
	return p[0];
}

static void test_cat_format(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(rec_cat(&s, 'S', "alice@example.org", 17) == 0);
	T_ASSERT(rec_cat(&s, 'T', "", 0) == 0);
	T_ASSERT(rec_cat(&s, 'D', "a\nb\0c", 5) == 0);
	T_INTEQ(s.len, 22 + 4 + 9);
	T_ASSERT(memcmp(s.s, "S17:alice@example.org\nT0:\nD5:a\nb\0c\n", s.len) == 0);
	errno = 0;
	T_ASSERT(rec_cat(&s, 256, "x", 1) == -1);
	T_INTEQ(errno, EINVAL);
	T_ASSERT(rec_cat(&s, -1, "x", 1) == -1);
	T_INTEQ(s.len, 35); /* unchanged on failure */
	sa_free(&s);
}

static void test_put_get_roundtrip(void)
{
	int p[2];
	char ob[8], ib[8]; /* tiny buffers: records span many reads */
	io_t out, in;
	sa_t d = SA_INIT;
	int type = 0;
	char bin[300];
	size_t i;

	for (i = 0; i < sizeof bin; i++)
		bin[i] = (char)i; /* includes \0, \n, \r, ':' and digits */
	T_ASSERT(pipe(p) == 0);
	io_init(&out, p[1], ob, sizeof ob, 1000);
	T_ASSERT(rec_puts(&out, 'F', "bob@example.net") == 0);
	T_ASSERT(rec_put(&out, 'B', bin, sizeof bin) == 0);
	T_ASSERT(rec_put(&out, 'E', NULL, 0) == 0);
	T_ASSERT(rec_put(&out, 0, "\n", 1) == 0); /* any type byte */
	T_ASSERT(io_flush(&out) == 0);
	close(p[1]);
	io_init(&in, p[0], ib, sizeof ib, 1000);
	T_INTEQ(rec_get(&in, &type, &d, 1000), IO_OK);
	T_INTEQ(type, 'F');
	T_STREQ(d.s, "bob@example.net");
	T_INTEQ(rec_get(&in, &type, &d, 1000), IO_OK);
	T_INTEQ(type, 'B');
	T_INTEQ(d.len, sizeof bin);
	T_ASSERT(d.len == sizeof bin && memcmp(d.s, bin, sizeof bin) == 0);
	T_ASSERT(d.s[d.len] == '\0');
	T_INTEQ(rec_get(&in, &type, &d, 1000), IO_OK);
	T_INTEQ(type, 'E');
	T_INTEQ(d.len, 0);
	T_STREQ(d.s, "");
	T_INTEQ(rec_get(&in, &type, &d, 1000), IO_OK);
	T_INTEQ(type, 0);
	T_STREQ(d.s, "\n");
	T_INTEQ(rec_get(&in, &type, &d, 1000), IO_EOF);
	close(p[0]);
	sa_free(&d);
}

/* rec_get on one whole input: the first result other than IO_OK, with errno,
 * after *count good records */
static int get_all(const char *data, size_t n, size_t max, int *count, int *err)
{
	char ib[16];
	io_t in;
	sa_t d = SA_INIT;
	int type, r, fd = pipe_in(&in, ib, sizeof ib, data, n);

	*count = 0;
	while ((r = rec_get(&in, &type, &d, max)) == IO_OK)
		(*count)++;
	*err = errno;
	close(fd);
	sa_free(&d);
	return r;
}

static void bad_input(const char *data, size_t n, int expect_errno)
{
	int count, err;
	size_t pos = 0;
	int type;
	const char *d;
	size_t dl;
	int r = get_all(data, n, 100, &count, &err);

	T_INTEQ(r, IO_ERR);
	T_INTEQ(count, 0);
	T_INTEQ(err, expect_errno);
	if (expect_errno == EPROTO) { /* rec_next agrees */
		errno = 0;
		T_INTEQ(rec_next(data, n, &pos, &type, &d, &dl), -1);
		T_INTEQ(errno, EPROTO);
		T_INTEQ(pos, 0);
	}
}

#define BAD(lit, e) bad_input(lit, sizeof lit - 1, e)

static void test_malformed(void)
{
	BAD("S", EPROTO);               /* type only, then EOF */
	BAD("S1", EPROTO);              /* no ':' */
	BAD("S:x\n", EPROTO);           /* no digits */
	BAD("S01:x\n", EPROTO);         /* leading zero */
	BAD("S00:\n", EPROTO);
	BAD("S-1:x\n", EPROTO);
	BAD("S+1:x\n", EPROTO);
	BAD("S 1:x\n", EPROTO);
	BAD("S1 :x\n", EPROTO);
	BAD("S1x\n", EPROTO);
	BAD("S1:x", EPROTO);            /* missing '\n' at EOF */
	BAD("S1:xy\n", EPROTO);         /* wrong terminator: length disagrees */
	BAD("S2:x\n", EPROTO);          /* truncated: the \n is data, then EOF */
	BAD("S3:ab", EPROTO);
	BAD("S12345678901:x\n", EPROTO); /* 11 digits */
	BAD("S00000000001:x\n", EPROTO);
	BAD("S101:x\n", E2BIG);         /* over max (100) */
	BAD("S9999999999:x\n", E2BIG);  /* 10 digits, parses, over max */
}

static void test_zero_and_limits(void)
{
	int count, err;
	T_INTEQ(get_all("S0:\n", 4, 0, &count, &err), IO_EOF);
	T_INTEQ(count, 1);
	T_INTEQ(get_all("S100:", 5, 100, &count, &err), IO_ERR); /* at max: allowed, then EOF */
	T_INTEQ(err, EPROTO);
	T_INTEQ(get_all("", 0, 100, &count, &err), IO_EOF);
	T_INTEQ(count, 0);
	/* a good record then garbage: one good, then EPROTO */
	T_INTEQ(get_all("A1:x\nB", 6, 100, &count, &err), IO_ERR);
	T_INTEQ(count, 1);
	T_INTEQ(err, EPROTO);
}

static void test_next(void)
{
	const char buf[] = "S17:alice@example.org\nD5:a\nb\0c\nE0:\n";
	size_t len = sizeof buf - 1, pos = 0, dl = 99;
	const char *d = NULL;
	int type = 0;

	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, 'S');
	T_INTEQ(dl, 17);
	T_ASSERT(d == buf + 4);
	T_ASSERT(memcmp(d, "alice@example.org", 17) == 0);
	T_INTEQ(pos, 22);
	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, 'D');
	T_INTEQ(dl, 5);
	T_ASSERT(memcmp(d, "a\nb\0c", 5) == 0);
	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, 'E');
	T_INTEQ(dl, 0);
	T_INTEQ(pos, len);
	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), 0);
	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), 0);

	/* every truncation of a valid buffer ends in -1 at the cut record */
	size_t cut, bad = 0;
	for (cut = 0; cut < len; cut++) {
		size_t p = 0;
		int r;
		while ((r = rec_next(buf, cut, &p, &type, &d, &dl)) == 1)
			T_ASSERT(p <= cut);
		if (cut == 0 || cut == 22 || cut == 31) {
			if (r != 0)
				bad++;
		} else if (r != -1) {
			bad++;
		}
	}
	T_INTEQ(bad, 0);
	/* pos beyond len */
	pos = len + 1;
	T_INTEQ(rec_next(buf, len, &pos, &type, &d, &dl), -1);
}

static void test_next_type_byte_binary(void)
{
	const char buf[] = "\0" "1:\n\n" "\n" "0:\n";
	size_t pos = 0, dl;
	const char *d;
	int type = 7;
	T_INTEQ(rec_next(buf, sizeof buf - 1, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, 0);
	T_INTEQ(dl, 1);
	T_ASSERT(d[0] == '\n');
	T_INTEQ(rec_next(buf, sizeof buf - 1, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, '\n');
	T_INTEQ(dl, 0);
	T_INTEQ(rec_next(buf, sizeof buf - 1, &pos, &type, &d, &dl), 0);
	/* high type bytes come back as 0..255 */
	const char hb[] = "\xff" "0:\n";
	pos = 0;
	T_INTEQ(rec_next(hb, 4, &pos, &type, &d, &dl), 1);
	T_INTEQ(type, 255);
}

static void test_put_too_big(void)
{
	char ob[16];
	io_t out;
	io_init(&out, -1, ob, sizeof ob, 0);
	errno = 0;
	if (sizeof(size_t) > 4) {
		T_ASSERT(rec_put(&out, 'X', "", (size_t)10000000000ULL) == -1);
		T_INTEQ(errno, E2BIG);
	}
	errno = 0;
	T_ASSERT(rec_put(&out, 300, "", 0) == -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(out.end, 0);
}

int main(void)
{
	T_RUN(test_cat_format);
	T_RUN(test_put_get_roundtrip);
	T_RUN(test_malformed);
	T_RUN(test_zero_and_limits);
	T_RUN(test_next);
	T_RUN(test_next_type_byte_binary);
	T_RUN(test_put_too_big);
	return t_done();
}
