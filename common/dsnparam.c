/* dsnparam: RFC 3461 parameters, parsed and written (dsnparam.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "dsnparam.h"

static int dsnp_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* lower case is not xtext */
}

int dsnp_xtext_decode(const char *s, size_t n, sa_t *out)
{
	sa_trunc(out, 0);
	if (sa_ready(out, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			int h, l;
			if (i + 2 >= n)
				goto bad;
			h = dsnp_hex(s[i + 1]);
			l = dsnp_hex(s[i + 2]);
			if (h < 0 || l < 0)
				goto bad;
			c = (unsigned char)(h * 16 + l);
			i += 2;
			if (c < 0x20 || c > 0x7e)
				goto bad;
		} else if (c < '!' || c > '~' || c == '=') {
			goto bad;
		}
		out->s[out->len++] = (char)c;
	}
	out->s[out->len] = '\0';
	return 0;
bad:
	sa_trunc(out, 0);
	errno = EINVAL;
	return -1;
}

int dsnp_xtext_encode(const char *s, size_t n, sa_t *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;
		if (c < '!' || c > '~' || c == '+' || c == '=') {
			char e[3] = { '+', hex[c >> 4], hex[c & 15] };
			r = sa_catb(out, e, 3);
		} else {
			r = sa_catc(out, (char)c);
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int dsnp_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

/* valid xtext that decodes to printable ASCII */
static int dsnp_xtext_ok(const char *s, size_t n)
{
	sa_t d = SA_INIT;
	int ok = dsnp_xtext_decode(s, n, &d) == 0;

	sa_free(&d);
	return ok;
}

int dsnp_mail_param(struct dsnp_mail *m, const char *k, size_t kl, const char *v, size_t vl,
                    const char **err)
{
	if (dsnp_is(k, kl, "RET")) {
		if (m->ret != DSNP_RET_NONE) {
			*err = "501 5.5.4 Duplicate MAIL parameter";
			return -1;
		}
		if (v && dsnp_is(v, vl, "FULL"))
			m->ret = DSNP_RET_FULL;
		else if (v && dsnp_is(v, vl, "HDRS"))
			m->ret = DSNP_RET_HDRS;
		else {
			*err = "501 5.5.4 Bad RET parameter";
			return -1;
		}
		return 1;
	}
	if (dsnp_is(k, kl, "ENVID")) {
		if (m->has_envid) {
			*err = "501 5.5.4 Duplicate MAIL parameter";
			return -1;
		}
		if (!v || vl == 0 || vl > DSNP_ENVID_MAX || !dsnp_xtext_ok(v, vl)) {
			*err = "501 5.5.4 Bad ENVID parameter";
			return -1;
		}
		memcpy(m->envid, v, vl);
		m->envid[vl] = '\0';
		m->has_envid = 1;
		return 1;
	}
	return 0;
}

/* NOTIFY="NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY"), each at most once */
static unsigned dsnp_notify(const char *v, size_t n)
{
	unsigned bits = 0;
	size_t i = 0;

	if (dsnp_is(v, n, "NEVER"))
		return DSNP_NOTIFY_NEVER;
	while (i <= n) {
		size_t j = i;
		unsigned b;
		while (j < n && v[j] != ',')
			j++;
		if (dsnp_is(v + i, j - i, "SUCCESS"))
			b = DSNP_NOTIFY_SUCCESS;
		else if (dsnp_is(v + i, j - i, "FAILURE"))
			b = DSNP_NOTIFY_FAILURE;
		else if (dsnp_is(v + i, j - i, "DELAY"))
			b = DSNP_NOTIFY_DELAY;
		else
			return 0; /* NEVER among others, empty or unknown */
		if (bits & b)
			return 0;
		bits |= b;
		i = j + 1;
	}
	return bits;
}

int dsnp_rcpt_param(struct dsnp_rcpt *r, const char *k, size_t kl, const char *v, size_t vl,
                    const char **err)
{
	if (dsnp_is(k, kl, "NOTIFY")) {
		unsigned bits;
		if (r->notify) {
			*err = "501 5.5.4 Duplicate RCPT parameter";
			return -1;
		}
		if (!v || (bits = dsnp_notify(v, vl)) == 0) {
			*err = "501 5.5.4 Bad NOTIFY parameter";
			return -1;
		}
		r->notify = bits;
		return 1;
	}
	if (dsnp_is(k, kl, "ORCPT")) {
		const char *semi;
		size_t tl;
		if (r->has_orcpt) {
			*err = "501 5.5.4 Duplicate RCPT parameter";
			return -1;
		}
		semi = v ? memchr(v, ';', vl) : NULL;
		tl = semi ? (size_t)(semi - v) : 0;
		/* addr-type: only rfc822 addresses are ours to report */
		if (!semi || vl > DSNP_ORCPT_MAX || !dsnp_is(v, tl, "rfc822") || tl + 1 == vl ||
		    !dsnp_xtext_ok(semi + 1, vl - tl - 1)) {
			*err = "501 5.5.4 Bad ORCPT parameter";
			return -1;
		}
		memcpy(r->orcpt, "rfc822;", 7);
		memcpy(r->orcpt + 7, semi + 1, vl - tl - 1);
		r->orcpt[7 + vl - tl - 1] = '\0';
		r->has_orcpt = 1;
		return 1;
	}
	return 0;
}

/* esmtp-param *(SP esmtp-param) with fn taking each; unknown: unknown_err */
static int dsnp_list(const char *p, size_t n, void *obj,
                     int (*fn)(void *, const char *, size_t, const char *, size_t, const char **),
                     const char *malformed, const char *unknown, const char **err)
{
	size_t i = 0;

	while (i < n) {
		size_t k0, kl, v0 = 0, vl = 0;
		int has_value = 0, r;
		if (p[i] == ' ') {
			i++;
			continue;
		}
		k0 = i;
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		while (i < n && ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		                 (p[i] >= '0' && p[i] <= '9') || (p[i] == '-' && i > k0)))
			i++;
		if (i == k0)
			goto malformed;
		kl = i - k0;
		if (i < n && p[i] == '=') {
			has_value = 1;
			v0 = ++i;
			/* esmtp-value = 1*(%d33-60 / %d62-126) */
			while (i < n && p[i] != ' ') {
				unsigned char c = (unsigned char)p[i];
				if (c < 33 || c > 126 || c == '=')
					goto malformed;
				i++;
			}
			vl = i - v0;
			if (vl == 0)
				goto malformed;
		} else if (i < n && p[i] != ' ') {
			goto malformed;
		}
		r = fn(obj, p + k0, kl, has_value ? p + v0 : NULL, vl, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			*err = unknown;
			return -1;
		}
	}
	return 0;
malformed:
	*err = malformed;
	return -1;
}

static int dsnp_mail_fn(void *o, const char *k, size_t kl, const char *v, size_t vl, const char **e)
{
	return dsnp_mail_param(o, k, kl, v, vl, e);
}

static int dsnp_rcpt_fn(void *o, const char *k, size_t kl, const char *v, size_t vl, const char **e)
{
	return dsnp_rcpt_param(o, k, kl, v, vl, e);
}

int dsnp_rcpt_params(const char *p, size_t n, struct dsnp_rcpt *r, const char **err)
{
	return dsnp_list(p, n, r, dsnp_rcpt_fn, "555 5.5.4 Malformed RCPT parameter",
	                 "555 5.5.4 Unsupported RCPT parameter", err);
}

int dsnp_mail_format(const struct dsnp_mail *m, sa_t *out)
{
	if (m->ret != DSNP_RET_NONE &&
	    sa_cats(out, m->ret == DSNP_RET_FULL ? "RET=FULL" : "RET=HDRS") < 0)
		return -1;
	if (m->has_envid && (sa_cats(out, m->ret != DSNP_RET_NONE ? " ENVID=" : "ENVID=") < 0 ||
	                     sa_cats(out, m->envid) < 0))
		return -1;
	return 0;
}

int dsnp_rcpt_format(const struct dsnp_rcpt *r, sa_t *out)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ DSNP_NOTIFY_NEVER, "NEVER" }, { DSNP_NOTIFY_SUCCESS, "SUCCESS" },
		{ DSNP_NOTIFY_FAILURE, "FAILURE" }, { DSNP_NOTIFY_DELAY, "DELAY" },
	};
	int first = 1;

	if (r->notify) {
		if (sa_cats(out, "NOTIFY=") < 0)
			return -1;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			if (!(r->notify & names[i].bit))
				continue;
			if ((!first && sa_catc(out, ',') < 0) || sa_cats(out, names[i].name) < 0)
				return -1;
			first = 0;
		}
	}
	if (r->has_orcpt && (sa_cats(out, r->notify ? " ORCPT=" : "ORCPT=") < 0 ||
	                     sa_cats(out, r->orcpt) < 0))
		return -1;
	return 0;
}

int dsnp_mail_parse(const char *s, size_t n, struct dsnp_mail *m)
{
	const char *err;

	memset(m, 0, sizeof *m);
	if (dsnp_list(s, n, m, dsnp_mail_fn, "", "", &err) < 0) {
		memset(m, 0, sizeof *m);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int dsnp_rcpt_parse(const char *s, size_t n, struct dsnp_rcpt *r)
{
	const char *err;

	memset(r, 0, sizeof *r);
	if (dsnp_list(s, n, r, dsnp_rcpt_fn, "", "", &err) < 0) {
		memset(r, 0, sizeof *r);
		errno = EPROTO;
		return -1;
	}
	return 0;
}
