#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "sa.h"
#include "test.h"

static void test_empty_ready(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_ready(&s, 0) == 0);
	T_ASSERT(s.s != NULL);
	T_INTEQ(s.len, 0);
	T_STREQ(s.s, "");
	T_ASSERT(s.cap >= 1);
	sa_free(&s);
	T_ASSERT(s.s == NULL && s.len == 0 && s.cap == 0);
}

static void test_cat(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_cats(&s, "hello") == 0);
	T_ASSERT(sa_catc(&s, ' ') == 0);
	T_ASSERT(sa_catb(&s, "world!!", 5) == 0);
	T_STREQ(s.s, "hello world");
	T_INTEQ(s.len, 11);
	T_ASSERT(sa_catb(&s, "", 0) == 0);
	T_INTEQ(s.len, 11);
	T_ASSERT(s.s[s.len] == '\0');
	sa_free(&s);

	/* zero-length append on an empty string still gives a C string */
	T_ASSERT(sa_catb(&s, NULL, 0) == 0);
	T_ASSERT(s.s && s.s[0] == '\0');
	sa_free(&s);
}

static void test_binary(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_catb(&s, "a\0b\nc", 5) == 0);
	T_INTEQ(s.len, 5);
	T_ASSERT(memcmp(s.s, "a\0b\nc", 6) == 0);
	sa_free(&s);
}

static void test_grow_many(void)
{
	sa_t s = SA_INIT;
	size_t i;
	int ok = 1;
	for (i = 0; i < 100000; i++)
		if (sa_catc(&s, (char)('a' + i % 26)) < 0)
			ok = 0;
	T_ASSERT(ok);
	T_INTEQ(s.len, 100000);
	for (i = 0; i < 100000; i++)
		if (s.s[i] != (char)('a' + i % 26))
			ok = 0;
	T_ASSERT(ok);
	T_ASSERT(s.s[s.len] == '\0');
	T_ASSERT(s.cap > s.len);
	sa_free(&s);
}

static void test_catu(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_catu(&s, 0) == 0);
	T_ASSERT(sa_catc(&s, ',') == 0);
	T_ASSERT(sa_catu(&s, 1234567890ULL) == 0);
	T_ASSERT(sa_catc(&s, ',') == 0);
	T_ASSERT(sa_catu(&s, 18446744073709551615ULL) == 0);
	T_STREQ(s.s, "0,1234567890,18446744073709551615");
	sa_free(&s);
}

static void test_catf(void)
{
	sa_t s = SA_INIT;
	char big[3000];
	T_ASSERT(sa_catf(&s, "%s=%d", "x", 42) == 0);
	T_STREQ(s.s, "x=42");
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* forces the grow-and-retry path */
	T_ASSERT(sa_catf(&s, " %s|%u", big, 7u) == 0);
	T_INTEQ(s.len, 4 + 1 + 2999 + 2);
	T_ASSERT(memcmp(s.s, "x=42 zzz", 8) == 0);
	T_STREQ(s.s + s.len - 2, "|7");
	T_ASSERT(sa_catf(&s, "%s", "") == 0);
	T_INTEQ(s.len, 4 + 1 + 2999 + 2);
	sa_free(&s);
}

static void test_copy_trunc(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_copys(&s, "abcdef") == 0);
	T_ASSERT(sa_copys(&s, "xy") == 0);
	T_STREQ(s.s, "xy");
	T_INTEQ(s.len, 2);
	T_ASSERT(sa_copyb(&s, "123456789", 9) == 0);
	sa_trunc(&s, 3);
	T_STREQ(s.s, "123");
	T_INTEQ(s.len, 3);
	sa_trunc(&s, 10); /* longer than len: ignored */
	T_INTEQ(s.len, 3);
	sa_trunc(&s, 0);
	T_STREQ(s.s, "");
	sa_free(&s);
}

static void test_self_overlap(void)
{
	sa_t s = SA_INIT;
	T_ASSERT(sa_copys(&s, "abc") == 0);
	/* appending itself repeatedly: realloc may move the buffer under the source */
	for (int i = 0; i < 12; i++)
		T_ASSERT(sa_catb(&s, s.s, s.len) == 0);
	T_INTEQ(s.len, 3 << 12);
	T_ASSERT(memcmp(s.s + s.len - 6, "abcabc", 6) == 0);
	/* copy from a suffix of itself */
	T_ASSERT(sa_copyb(&s, s.s + s.len - 3, 3) == 0);
	T_STREQ(s.s, "abc");
	sa_free(&s);
}

static void test_overflow(void)
{
	size_t out = 7;
	sa_t s = SA_INIT;

	T_ASSERT(size_add(1, 2, &out) == 0 && out == 3);
	errno = 0;
	T_ASSERT(size_add(SIZE_MAX, 1, &out) == -1);
	T_INTEQ(errno, ERANGE);
	T_ASSERT(size_add(SIZE_MAX - 1, 1, &out) == 0 && out == SIZE_MAX);
	T_ASSERT(size_mul(0, SIZE_MAX, &out) == 0 && out == 0);
	T_ASSERT(size_mul(SIZE_MAX, 0, &out) == 0 && out == 0);
	T_ASSERT(size_mul(1000, 1000, &out) == 0 && out == 1000000);
	errno = 0;
	T_ASSERT(size_mul(SIZE_MAX / 2 + 1, 2, &out) == -1);
	T_INTEQ(errno, ERANGE);

	T_ASSERT(sa_cats(&s, "abc") == 0);
	errno = 0;
	T_ASSERT(sa_ready(&s, SIZE_MAX) == -1);
	T_INTEQ(errno, ERANGE);
	errno = 0;
	T_ASSERT(sa_ready(&s, SIZE_MAX - 2) == -1); /* len + extra wraps to 0 */
	T_INTEQ(errno, ERANGE);
	errno = 0;
	T_ASSERT(sa_ready(&s, SA_MAX) == -1); /* 3 + SA_MAX > SA_MAX */
	T_INTEQ(errno, ERANGE);
	errno = 0;
	T_ASSERT(sa_catb(&s, "x", SIZE_MAX) == -1); /* never touches the source */
	T_INTEQ(errno, ERANGE);
	/* contents unchanged after failures */
	T_STREQ(s.s, "abc");
	T_INTEQ(s.len, 3);
	sa_free(&s);
}

int main(void)
{
	T_RUN(test_empty_ready);
	T_RUN(test_cat);
	T_RUN(test_binary);
	T_RUN(test_grow_many);
	T_RUN(test_catu);
	T_RUN(test_catf);
	T_RUN(test_copy_trunc);
	T_RUN(test_self_overlap);
	T_RUN(test_overflow);
	return t_done();
}
