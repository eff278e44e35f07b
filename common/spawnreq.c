/* spawnreq: requests and replies of the spawn channel (spawnreq.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "spawnreq.h"

#define SEQ_MAX 4294967295UL

static const char *const spawnreq_ops[] = { "local", "remote", "kill" };

/* a decimal number without leading zeros, lo..hi, that is all of s (len
 * bytes); 0, or -1 */
static int spawnreq_num(const char *s, size_t len, unsigned long lo, unsigned long hi,
                        unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 10 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0'); /* 10 digits fit in 64 bits */
	}
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static unsigned long spawnreq_hi(enum spawnreq_op op)
{
	return op == SPAWNREQ_KILL ? (unsigned long)INT_MAX : SEQ_MAX;
}

int spawnreq_build(char *buf, size_t cap, enum spawnreq_op op, unsigned long n)
{
	if ((unsigned)op > SPAWNREQ_KILL || n < 1 || n > spawnreq_hi(op))
		goto bad;
	int len = snprintf(buf, cap, "%s %lu", spawnreq_ops[op], n);
	if (len < 0 || (size_t)len >= cap)
		goto bad;
	return len;
bad:
	errno = EINVAL;
	return -1;
}

int spawnreq_parse(const char *buf, size_t len, struct spawnreq *r)
{
	const char *sp = len <= SPAWNREQ_MAX ? memchr(buf, ' ', len) : NULL;

	if (sp) {
		size_t w = (size_t)(sp - buf);
		for (unsigned op = 0; op <= SPAWNREQ_KILL; op++)
			if (strlen(spawnreq_ops[op]) == w && memcmp(buf, spawnreq_ops[op], w) == 0 &&
			    spawnreq_num(sp + 1, len - w - 1, 1, spawnreq_hi(op), &r->n) == 0) {
				r->op = (enum spawnreq_op)op;
				return 0;
			}
	}
	errno = EPROTO;
	return -1;
}

int spawnreq_reply_build(char *buf, size_t cap, unsigned long seq, unsigned long pid)
{
	int len = -1;

	if (seq >= 1 && seq <= SEQ_MAX && pid <= (unsigned long)INT_MAX)
		len = snprintf(buf, cap, "%lu %lu", seq, pid);
	if (len < 0 || (size_t)len >= cap) {
		errno = EINVAL;
		return -1;
	}
	return len;
}

int spawnreq_reply_parse(const char *buf, size_t len, unsigned long *seq, unsigned long *pid)
{
	const char *sp = len <= SPAWNREQ_MAX ? memchr(buf, ' ', len) : NULL;

	if (sp && spawnreq_num(buf, (size_t)(sp - buf), 1, SEQ_MAX, seq) == 0 &&
	    spawnreq_num(sp + 1, len - (size_t)(sp - buf) - 1, 0, (unsigned long)INT_MAX, pid) == 0)
		return 0;
	errno = EPROTO;
	return -1;
}
