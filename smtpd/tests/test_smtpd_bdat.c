/* Unit tests of pochta-smtpd's BDAT state machine (smtpd_bdat.c), included
 * so the test links with libpochta.a alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "../smtpd_bdat.c"

struct run {
	char out[8192];
	size_t outlen;
	struct bdat_sm b;
};

/* the chunks of sizes[] (0-terminated list; the rest of in is the last),
 * fed step bytes at a time into an output buffer of outcap */
static void feed(struct run *r, int binary, const char *in, size_t len, const size_t *sizes,
                 size_t step, size_t outcap)
{
	size_t pos = 0, k = 0;

	bdat_init(&r->b, binary);
	r->outlen = 0;
	for (;;) {
		size_t n = sizes && sizes[k] ? sizes[k++] : len - pos, end;
		bdat_chunk(&r->b, n);
		end = pos + n;
		while (pos < end) {
			char buf[64];
			/* offered up to step bytes, past the chunk's end too: it must stop there */
			size_t want = len - pos < step ? len - pos : step, o = 0, used;
			used = bdat_feed(&r->b, in + pos, want, buf, outcap, &o);
			T_ASSERT(used <= want && used <= end - pos);
			memcpy(r->out + r->outlen, buf, o);
			r->outlen += o;
			pos += used;
			if (used == 0 && o == 0)
				return;
		}
		T_ASSERT(r->b.left == 0);
		if (pos >= len)
			break;
	}
	r->outlen += bdat_end(&r->b, r->out + r->outlen);
}

static void test_text(void)
{
	static const char in[] = "Subject: a\r\nReceived: x\r\n\r\n.dot\r\nline\r\n";
	static const size_t cuts[] = { 11, 1, 14, 0 };
	struct run r;

	for (size_t step = 1; step < 9; step++) {
		feed(&r, 0, in, sizeof in - 1, cuts, step, 2 + step % 5);
		T_INTEQ((int)r.outlen, (int)strlen("Subject: a\nReceived: x\n\n.dot\nline\n"));
		T_ASSERT(memcmp(r.out, "Subject: a\nReceived: x\n\n.dot\nline\n", r.outlen) == 0);
		T_INTEQ(r.b.bare, 0);
		T_INTEQ(r.b.nul, 0);
		T_INTEQ((int)r.b.received, 1);
		T_ASSERT(r.b.size == sizeof in - 1);
	}
}

static void test_text_marks(void)
{
	struct run r;

	feed(&r, 0, "a\nb\r\n", 5, NULL, 64, 64);
	T_INTEQ(r.b.bare, 1);
	feed(&r, 0, "a\rb\r\n", 5, NULL, 64, 64);
	T_INTEQ(r.b.bare, 1);
	T_ASSERT(memcmp(r.out, "a\rb\n", 4) == 0);
	/* a CR at the very end: bare, and kept */
	feed(&r, 0, "a\r", 2, NULL, 64, 64);
	T_INTEQ(r.b.bare, 1);
	T_INTEQ((int)r.outlen, 2);
	/* a CRLF cut between two chunks is still a CRLF */
	{
		static const size_t cut[] = { 2, 0 };
		feed(&r, 0, "a\r\n", 3, cut, 64, 64);
		T_INTEQ(r.b.bare, 0);
		T_INTEQ((int)r.outlen, 2);
	}
	feed(&r, 0, "a\0b\r\n", 5, NULL, 64, 64);
	T_INTEQ(r.b.nul, 1);
	{
		char big[1200];
		memset(big, 'x', sizeof big);
		feed(&r, 0, big, 999, NULL, 64, 64);
		T_INTEQ(r.b.longline, 1);
		feed(&r, 0, big, 998, NULL, 64, 64);
		T_INTEQ(r.b.longline, 0);
	}
}

static void test_binary(void)
{
	char in[700];
	static const size_t cuts[] = { 1, 255, 3, 0 };
	struct run r;
	size_t n = 0;

	n += (size_t)sprintf(in, "Received: a\r\nReceived: b\nX: y\r\n\r\n");
	for (int i = 0; i < 256; i++)
		in[n++] = (char)i;
	memcpy(in + n, "\r\r\n\n.\r\n\0", 8);
	n += 8;
	for (size_t step = 1; step < 7; step++) {
		feed(&r, 1, in, n, cuts, step, 2 + step % 3);
		T_ASSERT(r.outlen == n && memcmp(r.out, in, n) == 0);
		T_INTEQ(r.b.bare, 0);
		T_INTEQ(r.b.nul, 0);
		T_INTEQ((int)r.b.received, 2);
		T_ASSERT(r.b.size == n);
	}
}

static void test_empty_and_size(void)
{
	struct run r;
	char out[4];
	size_t o;

	bdat_init(&r.b, 0);
	bdat_chunk(&r.b, 0);
	T_INTEQ((int)bdat_feed(&r.b, "abc", 3, out, sizeof out, &o), 0);
	T_INTEQ((int)o, 0);
	T_INTEQ((int)bdat_end(&r.b, out), 0);
	T_ASSERT(r.b.size == 0);
	/* the size saturates */
	bdat_init(&r.b, 1);
	bdat_chunk(&r.b, ~0ULL - 1);
	bdat_chunk(&r.b, 5);
	T_ASSERT(r.b.size == ~0ULL);
}

int main(void)
{
	T_RUN(test_text);
	T_RUN(test_text_marks);
	T_RUN(test_binary);
	T_RUN(test_empty_and_size);
	return t_done();
}
