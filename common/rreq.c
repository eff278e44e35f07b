/* rreq: remote delivery requests and their packets (rreq.h). */
#include <errno.h>
#include <string.h>
#include "qfile.h"
#include "qid.h"
#include "rec.h"
#include "rreq.h"

static int body_ok(const char *b, size_t len)
{
	return qfile_body_ok(b, len);
}

int rreq_smtputf8(sa_t *out)
{
	return rec_cat(out, RREQ_SMTPUTF8, "", 0);
}

int rreq_build(sa_t *out, const char *qid, const char *sender, const char *body,
               const char *domain, const char *const *rcpt, size_t n)
{
	size_t old = out->len, sl = strlen(sender), bl = strlen(body), dl = strlen(domain);

	if (strlen(qid) != QID_LEN || !qid_valid(qid) || !lreq_field_ok(sender, sl, LREQ_ADDR_MAX) ||
	    !body_ok(body, bl) || dl == 0 || !lreq_field_ok(domain, dl, RREQ_DOMAIN_MAX) || n == 0 ||
	    n > RREQ_RCPT_MAX)
		goto inval;
	for (size_t i = 0; i < n; i++) {
		size_t rl = strlen(rcpt[i]);
		if (rl == 0 || !lreq_field_ok(rcpt[i], rl, LREQ_ADDR_MAX))
			goto inval;
	}
	if (rec_cat(out, 'q', qid, QID_LEN) < 0 || rec_cat(out, 'f', sender, sl) < 0 ||
	    rec_cat(out, 'b', body, bl) < 0 || rec_cat(out, 'd', domain, dl) < 0)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (rec_cat(out, 'a', rcpt[i], strlen(rcpt[i])) < 0)
			goto nomem;
	return 0;
nomem:
	sa_trunc(out, old);
	errno = ENOMEM;
	return -1;
inval:
	errno = EINVAL;
	return -1;
}

/* "INDEX" with no leading zero, below RREQ_RCPT_MAX; its length or 0 */
static size_t rreq_index(const char *d, size_t len, size_t *index)
{
	size_t i = 0, v = 0;

	while (i < len && d[i] >= '0' && d[i] <= '9' && i < 4)
		v = v * 10 + (size_t)(d[i++] - '0');
	if (i == 0 || (i > 1 && d[0] == '0') || v >= RREQ_RCPT_MAX)
		return 0;
	*index = v;
	return i;
}

int rreq_passed(const char *data, size_t len, size_t *index)
{
	return len && rreq_index(data, len, index) == len ? 0 : -1;
}

static int rreq_dsn_ok(int type, const char *d, size_t len)
{
	struct dsnp_mail m;
	struct dsnp_rcpt r;

	return len > 0 && len <= RREQ_DSN_MAX && lreq_field_ok(d, len, RREQ_DSN_MAX) &&
	       (type == 'e' ? dsnp_mail_parse(d, len, &m) : dsnp_rcpt_parse(d, len, &r)) == 0;
}

int rreq_build_dsn(sa_t *out, const char *mail_dsn, const char *const *rcpt_dsn, size_t n)
{
	size_t old = out->len;

	if (n > RREQ_RCPT_MAX)
		goto inval;
	if (mail_dsn && *mail_dsn) {
		if (!rreq_dsn_ok('e', mail_dsn, strlen(mail_dsn)))
			goto inval;
		if (rec_cat(out, 'e', mail_dsn, strlen(mail_dsn)) < 0)
			goto nomem;
	}
	for (size_t i = 0; i < n; i++) {
		sa_t d = SA_INIT;
		int bad;
		if (!rcpt_dsn[i] || !*rcpt_dsn[i])
			continue;
		if (!rreq_dsn_ok('o', rcpt_dsn[i], strlen(rcpt_dsn[i]))) {
			sa_trunc(out, old);
			goto inval;
		}
		bad = sa_catu(&d, i) < 0 || sa_catc(&d, ' ') < 0 || sa_cats(&d, rcpt_dsn[i]) < 0 ||
		      rec_cat(out, 'o', d.s, d.len) < 0;
		sa_free(&d);
		if (bad)
			goto nomem;
	}
	return 0;
nomem:
	sa_trunc(out, old);
	errno = ENOMEM;
	return -1;
inval:
	errno = EINVAL;
	return -1;
}

/* an e or o record into r; 0 or -1 */
static int rreq_dsn_take(struct rreq *r, int type, const char *d, size_t dlen, unsigned *seen_e)
{
	size_t idx, k;

	if (type == 'e') {
		if (*seen_e || !rreq_dsn_ok('e', d, dlen))
			return -1;
		memcpy(r->mail_dsn, d, dlen);
		r->mail_dsn[dlen] = '\0';
		*seen_e = 1;
		return 0;
	}
	k = rreq_index(d, dlen, &idx);
	if (k == 0 || k + 1 >= dlen || d[k] != ' ' || r->rcpt_dsn[idx][0] ||
	    !rreq_dsn_ok('o', d + k + 1, dlen - k - 1))
		return -1;
	memcpy(r->rcpt_dsn[idx], d + k + 1, dlen - k - 1);
	r->rcpt_dsn[idx][dlen - k - 1] = '\0';
	return 0;
}

int rreq_parse(const char *buf, size_t len, struct rreq *r)
{
	const struct lreq_field f[] = {
		{ 'q', r->qid, QID_LEN },
		{ 'f', r->sender, LREQ_ADDR_MAX },
		{ 'b', r->body, sizeof r->body - 1 },
		{ 'd', r->domain, RREQ_DOMAIN_MAX },
	};
	size_t pos = 0, dlen, used = 0;
	const char *d;
	unsigned got = 0, seen_e = 0;
	int type, k;

	r->n = 0;
	r->smtputf8 = 0;
	r->mail_dsn[0] = '\0';
	for (size_t i = 0; i < RREQ_RCPT_MAX; i++)
		r->rcpt_dsn[i][0] = '\0';
	r->qid[0] = r->sender[0] = r->body[0] = r->domain[0] = '\0';
	if (len > RREQ_MAX)
		goto bad;
	while ((k = rec_next(buf, len, &pos, &type, &d, &dlen)) == 1) {
		if (type == RREQ_SMTPUTF8) {
			if (r->smtputf8 || dlen != 0)
				goto bad;
			r->smtputf8 = 1;
			continue;
		}
		if (type == 'e' || type == 'o') {
			if (rreq_dsn_take(r, type, d, dlen, &seen_e) < 0)
				goto bad;
			continue;
		}
		if (type != 'a') {
			if (lreq_field_take(f, 4, &got, type, d, dlen) < 0)
				goto bad;
			continue;
		}
		if (r->n == RREQ_RCPT_MAX || dlen == 0 || !lreq_field_ok(d, dlen, LREQ_ADDR_MAX))
			goto bad;
		memcpy(r->store + used, d, dlen);
		r->store[used + dlen] = '\0';
		r->rcpt[r->n++] = r->store + used;
		used += dlen + 1;
	}
	if (k < 0 || got != 15 || r->n == 0 || strlen(r->qid) != QID_LEN || !qid_valid(r->qid) ||
	    !body_ok(r->body, strlen(r->body)) || !r->domain[0])
		goto bad;
	for (size_t i = r->n; i < RREQ_RCPT_MAX; i++)
		if (r->rcpt_dsn[i][0])
			goto bad; /* for no recipient */
	return 0;
bad:
	r->n = 0;
	r->smtputf8 = 0;
	r->qid[0] = r->sender[0] = r->body[0] = r->domain[0] = '\0';
	errno = EPROTO;
	return -1;
}

int rreq_kept(const char *buf, size_t len, char *dom, size_t cap)
{
	size_t pos = 0, dlen;
	const char *d;
	int type;

	while (rec_next(buf, len, &pos, &type, &d, &dlen) == 1)
		if (type == RREQ_KEPT && dlen > 0 && dlen < cap && lreq_field_ok(d, dlen, RREQ_DOMAIN_MAX)) {
			memcpy(dom, d, dlen);
			dom[dlen] = '\0';
			return 1;
		}
	return 0;
}
