/* sa: length-counted growable strings; every size is checked against SA_MAX. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sa.h"

int size_add(size_t a, size_t b, size_t *out)
{
	if (a > SIZE_MAX - b) {
		errno = ERANGE;
		return -1;
	}
	*out = a + b;
	return 0;
}

int size_mul(size_t a, size_t b, size_t *out)
{
	if (a != 0 && b > SIZE_MAX / a) {
		errno = ERANGE;
		return -1;
	}
	*out = a * b;
	return 0;
}

int sa_ready(sa_t *sa, size_t extra)
{
	size_t want, cap;
	char *p;

	/* want = len + extra (the content), which must stay within SA_MAX */
	if (size_add(sa->len, extra, &want) < 0 || want > SA_MAX) {
		errno = ERANGE;
		return -1;
	}
	want++; /* the terminating NUL */
	if (sa->s && sa->cap >= want)
		return 0;
	/* grow by half again to keep appends amortised O(1); never past SA_MAX + 1 */
	cap = want + want / 2;
	if (cap < 32)
		cap = 32;
	if (cap > SA_MAX + 1)
		cap = SA_MAX + 1;
	p = realloc(sa->s, cap);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	if (!sa->s)
		p[0] = '\0';
	sa->s = p;
	sa->cap = cap;
	return 0;
}

int sa_catb(sa_t *sa, const void *p, size_t n)
{
	const char *src = p;
	size_t off = 0;
	int inside = 0;

	/* appending a piece of ourselves: remember the offset, realloc may move s */
	if (sa->s && src >= sa->s && src < sa->s + sa->cap) {
		inside = 1;
		off = (size_t)(src - sa->s);
	}
	if (sa_ready(sa, n) < 0)
		return -1;
	if (inside)
		src = sa->s + off;
	if (n)
		memmove(sa->s + sa->len, src, n);
	sa->len += n;
	sa->s[sa->len] = '\0';
	return 0;
}

int sa_cats(sa_t *sa, const char *s)
{
	return sa_catb(sa, s, strlen(s));
}

int sa_catc(sa_t *sa, char c)
{
	return sa_catb(sa, &c, 1);
}

int sa_catu(sa_t *sa, unsigned long long u)
{
	char buf[24];
	size_t i = sizeof buf;

	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return sa_catb(sa, buf + i, sizeof buf - i);
}

int sa_vcatf(sa_t *sa, const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	size_t room;

	if (sa_ready(sa, 0) < 0)
		return -1;
	room = sa->cap - sa->len;
	va_copy(aq, ap);
	n = vsnprintf(sa->s + sa->len, room, fmt, aq);
	va_end(aq);
	if (n < 0) {
		sa->s[sa->len] = '\0';
		errno = EINVAL;
		return -1;
	}
	if ((size_t)n >= room) {
		/* did not fit: restore the NUL, grow, format again */
		sa->s[sa->len] = '\0';
		if (sa_ready(sa, (size_t)n) < 0)
			return -1;
		va_copy(aq, ap);
		n = vsnprintf(sa->s + sa->len, sa->cap - sa->len, fmt, aq);
		va_end(aq);
		if (n < 0 || (size_t)n >= sa->cap - sa->len) {
			sa->s[sa->len] = '\0';
			errno = EINVAL;
			return -1;
		}
	}
	sa->len += (size_t)n;
	return 0;
}

int sa_catf(sa_t *sa, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sa_vcatf(sa, fmt, ap);
	va_end(ap);
	return r;
}

int sa_copyb(sa_t *sa, const void *p, size_t n)
{
	const char *src = p;

	/* a source inside our own buffer already fits: just move it down */
	if (sa->s && src >= sa->s && src < sa->s + sa->cap) {
		memmove(sa->s, src, n);
		sa->len = n;
		sa->s[n] = '\0';
		return 0;
	}
	sa->len = 0;
	if (sa->s)
		sa->s[0] = '\0';
	return sa_catb(sa, p, n);
}

int sa_copys(sa_t *sa, const char *s)
{
	return sa_copyb(sa, s, strlen(s));
}

void sa_trunc(sa_t *sa, size_t len)
{
	if (len > sa->len)
		return;
	sa->len = len;
	if (sa->s)
		sa->s[len] = '\0';
}

void sa_free(sa_t *sa)
{
	free(sa->s);
	sa->s = NULL;
	sa->len = 0;
	sa->cap = 0;
}
