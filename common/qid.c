/* qid: fixed-width base-32 queue IDs: seconds, microseconds, inode. */
#include <string.h>
#include "qid.h"

static const char qid_digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

#define QID_SEC 7
#define QID_USEC 4
#define QID_INO 13

/* v as exactly n base-32 digits, most significant first (so IDs sort by time) */
static void qid_put(char *out, unsigned long long v, int n)
{
	while (n-- > 0) {
		out[n] = qid_digits[v & 31];
		v >>= 5;
	}
}

void qid_make(char *out, const struct timeval *tv, unsigned long long inode)
{
	long long sec = tv->tv_sec;
	long long usec = tv->tv_usec;

	/* normalise so the microsecond field is always 0..999999 */
	if (usec < 0 || usec >= 1000000) {
		sec += usec / 1000000;
		usec %= 1000000;
		if (usec < 0) {
			usec += 1000000;
			sec--;
		}
	}
	/* 35 bits of seconds last until the year 3058 */
	qid_put(out, (unsigned long long)sec & ((1ULL << (5 * QID_SEC)) - 1), QID_SEC);
	qid_put(out + QID_SEC, (unsigned long long)usec, QID_USEC);
	qid_put(out + QID_SEC + QID_USEC, inode, QID_INO);
	out[QID_LEN] = '\0';
}

static int qid_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'V')
		return c - 'A' + 10;
	return -1;
}

int qid_valid(const char *s)
{
	unsigned long usec = 0;
	int i;

	if (!s)
		return 0;
	for (i = 0; i < QID_LEN; i++)
		if (qid_digit(s[i]) < 0)
			return 0;
	if (s[QID_LEN] != '\0')
		return 0;
	for (i = QID_SEC; i < QID_SEC + QID_USEC; i++)
		usec = usec * 32 + (unsigned long)qid_digit(s[i]);
	if (usec >= 1000000)
		return 0;
	/* 13 digits carry 65 bits; an inode has 64 */
	if (qid_digit(s[QID_SEC + QID_USEC]) > 15)
		return 0;
	return 1;
}
