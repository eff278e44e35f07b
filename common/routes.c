/* routes: the etc/routes table and HOST[:PORT] destinations (see routes.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "routes.h"

#define ROUTES_FILE_MAX ((size_t)64 << 20)

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int port_parse(const char *s, size_t len, unsigned *port)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* an IPv4 or IPv6 address in text (len bytes) into d->host; 1 yes, 0 not an address */
static int ip_take(const char *s, size_t len, int v6, struct route_dest *d)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	unsigned char bin[16];

	if (len == 0 || len >= sizeof tmp)
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, tmp, bin) != 1)
		return 0;
	memcpy(d->host, tmp, len + 1);
	d->is_ip = 1;
	d->no_mx = 1;
	return 1;
}

static int name_take(const char *s, size_t len, struct route_dest *d)
{
	size_t i;

	if (len > ADDR_DOMAIN_MAX || !addr_domain_valid(s, len))
		return 0;
	for (i = 0; i < len; i++)
		d->host[i] = lower(s[i]);
	d->host[len] = '\0';
	d->is_ip = 0;
	return 1;
}

int route_dest_parse(const char *s, size_t len, struct route_dest *d, sa_t *err)
{
	const char *colon, *host, *rest;
	size_t hlen, rlen;

	memset(d, 0, sizeof *d);
	if (len == 0)
		goto bad;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close)
			goto bad;
		host = s + 1;
		hlen = (size_t)(close - host);
		rest = close + 1;
		rlen = len - (size_t)(rest - s);
		if (hlen > 5 && strncasecmp(host, "IPv6:", 5) == 0) {
			if (!ip_take(host + 5, hlen - 5, 1, d))
				goto bad;
		} else if (!ip_take(host, hlen, 0, d) && !ip_take(host, hlen, 1, d)) {
			if (!name_take(host, hlen, d))
				goto bad;
		}
		d->no_mx = 1;
	} else {
		colon = memchr(s, ':', len);
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
			if (err)
				sa_cats(err, "an IPv6 address needs brackets: [");
			if (err)
				sa_catb(err, s, len), sa_cats(err, "]");
			errno = EINVAL;
			return -1;
		}
		host = s;
		hlen = colon ? (size_t)(colon - s) : len;
		rest = s + hlen;
		rlen = len - hlen;
		if (!ip_take(host, hlen, 0, d) && !name_take(host, hlen, d))
			goto bad;
	}
	if (rlen > 0) {
		if (rest[0] != ':' || port_parse(rest + 1, rlen - 1, &d->port) < 0)
			goto bad;
	}
	return 0;
bad:
	if (err) {
		sa_cats(err, "bad destination \"");
		sa_catb(err, s, len > 300 ? 300 : len);
		sa_cats(err, "\" (want host, host:port, [host]:port or [IP]:port)");
	}
	errno = EINVAL;
	return -1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = *(const struct route *const *)a, *y = *(const struct route *const *)b;
	int c = strcmp(x->domain, y->domain);

	if (c)
		return c;
	if (x->subdomains != y->subdomains)
		return x->subdomains - y->subdomains;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* entries from index first on: no domain given twice; 0 or -1 with message */
static int routes_check_dups(struct routes *r, size_t first, const char *name, sa_t *err)
{
	struct route **v;
	size_t i, n = r->n - first, bytes;
	int rc = 0;

	if (n < 2)
		return 0;
	if (size_mul(n, sizeof *v, &bytes) < 0)
		return -1;
	v = malloc(bytes);
	if (!v)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = &r->v[first + i];
	qsort(v, n, sizeof *v, route_cmp);
	for (i = 1; i < n; i++) {
		if (v[i]->subdomains == v[i - 1]->subdomains && strcmp(v[i]->domain, v[i - 1]->domain) == 0) {
			if (err)
				sa_catf(err, "%s:%u: %s%s already routed at line %u", name, v[i]->line,
				        v[i]->subdomains ? "." : "", v[i]->domain, v[i - 1]->line);
			errno = EINVAL;
			rc = -1;
			break;
		}
	}
	free(v);
	return rc;
}

static int routes_add(struct routes *r, const char *dom, size_t dlen, int sub,
                      const struct route_dest *d, unsigned line)
{
	struct route *nv, *e;
	size_t bytes, i;

	if (r->n >= ROUTES_MAX) {
		errno = E2BIG;
		return -1;
	}
	if (size_mul(r->n + 1, sizeof *nv, &bytes) < 0)
		return -1;
	nv = realloc(r->v, bytes);
	if (!nv)
		return -1;
	r->v = nv;
	e = &nv[r->n];
	e->domain = malloc(dlen + 1);
	if (!e->domain)
		return -1;
	for (i = 0; i < dlen; i++)
		e->domain[i] = lower(dom[i]);
	e->domain[dlen] = '\0';
	e->subdomains = sub;
	e->dest = *d;
	e->line = line;
	e->tls_verify = 0;
	r->n++;
	return 0;
}

int routes_parse(struct routes *r, const char *name, const char *text, size_t len, sa_t *err)
{
	size_t pos = 0, first = r->n;
	unsigned line = 0;

	while (pos < len) {
		const char *l = text + pos, *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos, i = 0, f1, f1len, f2, f2len;
		struct route_dest d;
		int sub = 0, tls_verify;

		pos += ll + (nl ? 1 : 0);
		line++;
		if (ll > ROUTES_MAX_LINE) {
			if (err)
				sa_catf(err, "%s:%u: line too long", name, line);
			goto fail_inval;
		}
		while (i < ll && is_space(l[i]))
			i++;
		if (i == ll || l[i] == '#')
			continue;
		f1 = i;
		while (i < ll && !is_space(l[i]))
			i++;
		f1len = i - f1;
		while (i < ll && is_space(l[i]))
			i++;
		f2 = i;
		while (i < ll && !is_space(l[i]))
			i++;
		f2len = i - f2;
		while (i < ll && is_space(l[i]))
			i++;
		/* an option after the host: tls=verify (tls=may is the default) */
		tls_verify = 0;
		if (f2len && i < ll && l[i] != '#') {
			size_t f3 = i;
			while (i < ll && !is_space(l[i]))
				i++;
			if (i - f3 == 10 && memcmp(l + f3, "tls=verify", 10) == 0)
				tls_verify = 1;
			else if (!(i - f3 == 7 && memcmp(l + f3, "tls=may", 7) == 0)) {
				if (err)
					sa_catf(err, "%s:%u: unknown option (want tls=verify or tls=may)", name, line);
				goto fail_inval;
			}
			while (i < ll && is_space(l[i]))
				i++;
		}
		if (f2len == 0 || (i < ll && l[i] != '#')) {
			if (err)
				sa_catf(err, "%s:%u: want \"domain host[:port] [tls=verify]\"", name, line);
			goto fail_inval;
		}
		if (l[f1] == '.') {
			sub = 1;
			f1++;
			f1len--;
		}
		if (f1len == 0 || f1len > ADDR_DOMAIN_MAX || !addr_domain_valid(l + f1, f1len)) {
			if (err) {
				sa_catf(err, "%s:%u: bad domain \"", name, line);
				sa_catb(err, l + f1, f1len > 300 ? 300 : f1len);
				sa_cats(err, "\"");
			}
			goto fail_inval;
		}
		if (route_dest_parse(l + f2, f2len, &d, NULL) < 0) {
			if (err) {
				sa_catf(err, "%s:%u: ", name, line);
				route_dest_parse(l + f2, f2len, &d, err);
			}
			goto fail_inval;
		}
		if (routes_add(r, l + f1, f1len, sub, &d, line) < 0) {
			if (err)
				sa_catf(err, "%s:%u: %s", name, line, strerror(errno));
			return -1;
		}
		r->v[r->n - 1].tls_verify = tls_verify;
	}
	return routes_check_dups(r, first, name, err);
fail_inval:
	errno = EINVAL;
	return -1;
}

int routes_load(struct routes *r, const char *path, sa_t *err)
{
	sa_t text = SA_INIT;
	char buf[65536];
	ssize_t n;
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		if (err)
			sa_catf(err, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (text.len + (size_t)n > ROUTES_FILE_MAX) {
			n = -1;
			errno = EFBIG;
			break;
		}
		if (sa_catb(&text, buf, (size_t)n) < 0) {
			n = -1;
			break;
		}
	}
	e = errno;
	close(fd);
	if (n < 0) {
		if (err)
			sa_catf(err, "%s: %s", path, strerror(e));
		sa_free(&text);
		errno = e;
		return -1;
	}
	rc = routes_parse(r, path, text.s ? text.s : "", text.len, err);
	e = errno;
	sa_free(&text);
	errno = e;
	return rc;
}

const struct route *routes_find(const struct routes *r, const char *domain, size_t len)
{
	const struct route *best = NULL;
	size_t i, dl, bestlen = 0;

	for (i = 0; i < r->n; i++) {
		const struct route *e = &r->v[i];
		dl = strlen(e->domain);
		if (!e->subdomains) {
			if (dl == len && strncasecmp(e->domain, domain, len) == 0)
				return e;
			continue;
		}
		/* ".example.org" matches x.example.org, not example.org itself */
		if (dl < len && domain[len - dl - 1] == '.' &&
		    strncasecmp(e->domain, domain + len - dl, dl) == 0 && dl >= bestlen) {
			best = e;
			bestlen = dl;
		}
	}
	return best;
}

void routes_free(struct routes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].domain);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}
