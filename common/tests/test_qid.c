#include <stdlib.h>
#include "qid.h"
#include "test.h"

static int in_alphabet(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'V')))
			return 0;
	return 1;
}

static void test_format(void)
{
	char id[QID_LEN + 1];
	struct timeval tv = { 1700000000, 123456 };

	memset(id, 'x', sizeof id);
	qid_make(id, &tv, 1234567);
	T_INTEQ(strlen(id), QID_LEN);
	T_ASSERT(in_alphabet(id));
	T_ASSERT(qid_valid(id));
	/* 1700000000 = 1IL7S80 in base 32; 123456 = 3OI0; 1234567 = 15LK7 */
	T_STREQ(id, "1IL7S80" "3OI0" "0000000015LK7");

	tv.tv_sec = 0;
	tv.tv_usec = 0;
	qid_make(id, &tv, 0);
	T_STREQ(id, "000000000000000000000000");
	T_ASSERT(qid_valid(id));

	tv.tv_usec = 999999;
	qid_make(id, &tv, ~0ULL);
	T_ASSERT(qid_valid(id));
	T_STREQ(id + 7, "UGHV" "FVVVVVVVVVVVV");
}

static void test_unique_and_sorted(void)
{
	char a[QID_LEN + 1], b[QID_LEN + 1];
	struct timeval t1 = { 1700000000, 5 }, t2 = { 1700000000, 6 }, t3 = { 1700000001, 0 };

	/* different inodes at the same time */
	qid_make(a, &t1, 100);
	qid_make(b, &t1, 101);
	T_ASSERT(strcmp(a, b) != 0);
	/* the same inode at different times (an inode reused later) */
	qid_make(a, &t1, 100);
	qid_make(b, &t2, 100);
	T_ASSERT(strcmp(a, b) < 0);
	qid_make(a, &t2, 999999);
	qid_make(b, &t3, 1);
	T_ASSERT(strcmp(a, b) < 0); /* arrival order is string order */
	/* many distinct values stay distinct */
	int dup = 0;
	char prev[QID_LEN + 1] = "";
	for (unsigned i = 0; i < 2000; i++) {
		struct timeval tv = { 1700000000 + (long)(i / 7), (long)(i * 389 % 1000000) };
		qid_make(a, &tv, i % 7);
		if (strcmp(a, prev) == 0)
			dup++;
		memcpy(prev, a, sizeof prev);
	}
	T_INTEQ(dup, 0);
}

static void test_normalise_usec(void)
{
	char a[QID_LEN + 1], b[QID_LEN + 1];
	struct timeval t1 = { 1000, 1500000 }, t2 = { 1001, 500000 };
	qid_make(a, &t1, 9);
	qid_make(b, &t2, 9);
	T_STREQ(a, b);
	T_ASSERT(qid_valid(a));
}

static void test_invalid(void)
{
	T_ASSERT(!qid_valid(NULL));
	T_ASSERT(!qid_valid(""));
	T_ASSERT(!qid_valid("1KKC8G03OI0000000015LK4"));    /* 23 */
	T_ASSERT(!qid_valid("1KKC8G03OI0000000015LK477")); /* 25 */
	T_ASSERT(!qid_valid("1kkc8g03oi0000000015lk47"));  /* lower case */
	T_ASSERT(!qid_valid("1KKC8G03OI0000000015LKW7"));  /* W outside */
	T_ASSERT(!qid_valid("1KKC8G03OI00000000/5LK47"));
	T_ASSERT(!qid_valid("1KKC8G03OI000000.015LK47"));
	T_ASSERT(!qid_valid("1KKC8G0UUUU000000015LK47"));  /* usec >= 10^6 */
	T_ASSERT(!qid_valid("1KKC8G03OI0G000000015LK4"));  /* inode > 64 bits */
	T_ASSERT(!qid_valid("1KKC8G03OI0000000015LK4 "));
	T_ASSERT(!qid_valid("../../../etc/passwd00000"));
	T_ASSERT(qid_valid("1KKC8G03OI0000000015LK47"));
	T_ASSERT(qid_valid("1KKC8G03OI0F000000015LK4"));
}

int main(void)
{
	T_RUN(test_format);
	T_RUN(test_unique_and_sorted);
	T_RUN(test_normalise_usec);
	T_RUN(test_invalid);
	return t_done();
}
