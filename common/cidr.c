/* cidr: parse and match IPv4/IPv6 network blocks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "cidr.h"

/* the longest text we accept: an IPv6 address with an IPv4 tail, "/128" */
#define CIDR_TEXT_MAX 64

static const unsigned char cidr_v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* textual address into family and 16 bytes; 0 or -1 */
static int cidr_addr(const char *s, int *family, unsigned char *addr)
{
	memset(addr, 0, 16);
	if (strchr(s, ':')) {
		*family = AF_INET6;
		return inet_pton(AF_INET6, s, addr) == 1 ? 0 : -1;
	}
	*family = AF_INET;
	return inet_pton(AF_INET, s, addr) == 1 ? 0 : -1;
}

int cidr_parse(const char *s, size_t len, struct cidr *c)
{
	char buf[CIDR_TEXT_MAX + 1];
	char *slash;
	int maxbits, i;

	if (len == 0 || len > CIDR_TEXT_MAX || memchr(s, '\0', len))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (cidr_addr(buf, &c->family, c->addr) < 0)
		goto bad;
	maxbits = c->family == AF_INET ? 32 : 128;
	c->bits = maxbits;
	if (slash) {
		const char *b = slash + 1;
		int v = 0;
		size_t n = strlen(b);
		/* 1 to 3 digits, no sign, no leading zero (except "0") */
		if (n == 0 || n > 3 || (n > 1 && b[0] == '0'))
			goto bad;
		for (; *b; b++) {
			if (*b < '0' || *b > '9')
				goto bad;
			v = v * 10 + (*b - '0');
		}
		if (v > maxbits)
			goto bad;
		c->bits = v;
	}
	/* keep only the network part: 10.1.2.3/8 is 10.0.0.0/8 */
	for (i = 0; i < 16; i++) {
		int keep = c->bits - i * 8;
		if (keep <= 0)
			c->addr[i] = 0;
		else if (keep < 8)
			c->addr[i] &= (unsigned char)(0xff << (8 - keep));
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int cidr_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

/* the next item of a list at *p (its length in *len, *p moved past it), or
 * NULL at the end */
static const char *cidr_item(const char **p, size_t *len)
{
	const char *item, *q = *p;

	while (*q && cidr_sep(*q))
		q++;
	if (!*q)
		return NULL;
	item = q;
	while (*q && !cidr_sep(*q))
		q++;
	*len = (size_t)(q - item);
	*p = q;
	return item;
}

int cidr_list_parse(const char *list, struct cidr **out, size_t *n, sa_t *err)
{
	struct cidr *v = NULL;
	size_t count = 0, k = 0, bytes, len;
	const char *p, *item;

	*out = NULL;
	*n = 0;
	/* count the items first so one allocation (size checked) holds them */
	for (p = list; cidr_item(&p, &len);)
		count++;
	if (count == 0)
		return 0;
	if (size_mul(count, sizeof *v, &bytes) < 0)
		return -1;
	v = malloc(bytes);
	if (!v) {
		errno = ENOMEM;
		return -1;
	}
	for (p = list; (item = cidr_item(&p, &len)) != NULL; k++) {
		if (cidr_parse(item, len, &v[k]) < 0) {
			if (err)
				sa_copyb(err, item, len);
			free(v);
			errno = EINVAL;
			return -1;
		}
	}
	*out = v;
	*n = k;
	return 0;
}

int cidr_list_parse_ref(const char *list, const char *name, const char *named,
                        struct cidr **out, size_t *n, sa_t *err)
{
	sa_t x = SA_INIT;
	size_t nl = strlen(name), len;
	const char *p, *item;
	int r;

	*out = NULL;
	*n = 0;
	for (p = list; (item = cidr_item(&p, &len)) != NULL;) {
		const char *w = item[0] == '$' ? item + 1 : item;
		size_t wl = len - (size_t)(w - item);
		if (wl == nl && memcmp(w, name, nl) == 0)
			r = sa_cats(&x, named);
		else
			r = sa_catb(&x, item, len);
		if (r < 0 || sa_catc(&x, ' ') < 0) {
			sa_free(&x);
			errno = ENOMEM;
			return -1;
		}
	}
	r = cidr_list_parse(x.s ? x.s : "", out, n, err);
	sa_free(&x);
	return r;
}

static int cidr_in(const struct cidr *c, int family, const unsigned char *addr)
{
	int full, rest;

	if (c->family != family)
		return 0;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(c->addr, addr, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		if ((c->addr[full] & mask) != (addr[full] & mask))
			return 0;
	}
	return 1;
}

int cidr_match(const struct cidr *list, size_t n, const char *ip)
{
	char buf[CIDR_TEXT_MAX + 1];
	unsigned char addr[16], v4[16];
	int family, mapped = 0;
	size_t len, i;
	char *pct;

	if (!ip)
		return 0;
	len = strlen(ip);
	if (len == 0 || len > CIDR_TEXT_MAX)
		return 0;
	memcpy(buf, ip, len + 1);
	pct = strchr(buf, '%'); /* fe80::1%eth0: the zone does not matter here */
	if (pct)
		*pct = '\0';
	if (cidr_addr(buf, &family, addr) < 0)
		return 0;
	if (family == AF_INET6 && memcmp(addr, cidr_v4mapped, 12) == 0) {
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
		memset(v4, 0, sizeof v4);
		memcpy(v4, addr + 12, 4);
		mapped = 1;
	}
	for (i = 0; i < n; i++) {
		if (cidr_in(&list[i], family, addr))
			return 1;
		if (mapped && cidr_in(&list[i], AF_INET, v4))
			return 1;
	}
	return 0;
}
