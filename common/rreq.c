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
	unsigned got = 0;
	int type, k;

	r->n = 0;
	r->smtputf8 = 0;
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
