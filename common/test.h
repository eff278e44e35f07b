/* A tiny unit-test runner. In a test file:
 *     static void test_foo(void) { T_ASSERT(1 + 1 == 2); T_STREQ(s, "x"); }
 *     int main(void) { T_RUN(test_foo); return t_done(); }
 * Prints one line per failed assertion and, last, "N passed, N failed"
 * (one count per test function). */
#ifndef POCHTA_TEST_H
#define POCHTA_TEST_H
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail, t_cur_failed;

#define T_ASSERT(c) do { if (!(c)) { t_cur_failed = 1; \
	printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)
#define T_STREQ(a, b) do { const char *t_a = (a), *t_b = (b); \
	if (!t_a || !t_b || strcmp(t_a, t_b) != 0) { t_cur_failed = 1; \
	printf("FAIL %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
	       t_a ? t_a : "(null)", t_b ? t_b : "(null)"); } } while (0)
#define T_INTEQ(a, b) do { long long t_a = (long long)(a), t_b = (long long)(b); \
	if (t_a != t_b) { t_cur_failed = 1; \
	printf("FAIL %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, t_a, t_b); } } while (0)
#define T_RUN(fn) do { t_cur_failed = 0; fn(); \
	if (t_cur_failed) { t_fail++; printf("not ok %s\n", #fn); } \
	else { t_pass++; printf("ok %s\n", #fn); } } while (0)

static inline int t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
