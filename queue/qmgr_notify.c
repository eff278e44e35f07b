/* qmgr_notify: telling the sender. Failed recipients of a round go back in
 * one RFC 3464 report (common/dsn.h) queued through pochta-enqueue with the
 * null sender, so that a notice can never cause another notice to a sender:
 *   - sender set: a bounce to the sender;
 *   - null sender (the failed message is itself a notice): one double bounce
 *     to the postmaster of the first local domain, unless the failed
 *     recipients are all postmasters already: then it is dropped and logged.
 * A notice is queued durably (pochta-enqueue's K) before the recipients are
 * marked told (B records, or the removal of the original): a crash in between
 * costs a duplicate notice, never a missing one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dsn.h"
#include "dsnparam.h"
#include "enqclient.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "qmgr.h"

static const char *status_for(const struct rcpt *r, char cls)
{
	if (r->dsn[0] == cls && r->dsn[1] == '.')
		return r->dsn;
	if (cls == '2')
		return "2.0.0";
	return cls == '4' ? "4.0.0" : r->dsn[0] == '4' ? r->dsn : "5.0.0";
}

/* build the report about recipients v[0..n) and queue it to `to` with the
 * null sender; limit: bytes of the original returned whole (-1: headers only).
 * 0 and the notice's queue ID in qid, or -1 (logged) */
static int notice_queue(struct msg *m, const struct dsn_info *info, const struct dsn_rcpt *v,
                        size_t n, long long limit, const char *to, sa_t *qid)
{
	struct enqc c;
	struct enqc_env env;
	struct stat st;
	sa_t out = SA_INIT;
	unsigned long long size;
	int fd, r = -1;

	fd = open(msg_path("mess", m->qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn(m->qid, "cannot read the message for a notice: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	size = (unsigned long long)st.st_size > m->msg_off ? (unsigned long long)st.st_size - m->msg_off : 0;
	if (strcmp(m->body, "BINARYMIME") == 0)
		limit = -1; /* binary content cannot ride in a text report: headers only */
	for (int tries = 0; tries < 2 && r != 'K'; tries++) {
		sa_trunc(&out, 0);
		if (dsn_build(&out, info, v, n, fd, m->msg_off, size, limit) < 0) {
			log_warn(m->qid, "cannot build a notice: %s", strerror(errno));
			break;
		}
		env.sender = "";
		env.body = dsn_8bit(out.s, out.len) ? "8BITMIME" : "";
		env.proto = "LOCAL";
		env.rcpt = &to;
		env.nrcpt = 1;
		if (enqc_open(&c, paths_prog("pochta-enqueue"), QMGR_ENQ_TIMEOUT) < 0) {
			log_warn(m->qid, "cannot start pochta-enqueue: %s", strerror(errno));
			break;
		}
		r = enqc_send(&c, &env, out.s, out.len, qid);
		enqc_close(&c);
		if (r == 'K')
			break;
		if (r < 0)
			log_warn(m->qid, "pochta-enqueue failed: %s", strerror(errno));
		else
			log_warn(m->qid, "pochta-enqueue refused the notice to <%s>: %s", to, qid->s);
		/* refused for good: once more with the headers only (size) */
		if (r != 'X' || limit < 0)
			break;
		limit = -1;
	}
	close(fd);
	sa_free(&out);
	if (r == 'X')
		return 1;
	return r == 'K' ? 0 : -1;
}

/* RFC 3461: without NOTIFY, failures and delays are reported (as before) */
static int untold_failure(const struct rcpt *r)
{
	return r->status == R_FAILED && !r->notified &&
	       (!r->notify || (r->notify & DSNP_NOTIFY_FAILURE));
}

static int deferred(const struct rcpt *r)
{
	return r->status == R_DEFERRED && (!r->notify || (r->notify & DSNP_NOTIFY_DELAY));
}

int notify_success_due(const struct rcpt *r)
{
	return r->status == R_SENT && !r->notified && (r->notify & DSNP_NOTIFY_SUCCESS);
}

/* the message's RET= and its ENVID decoded into envid ("" when none) */
static enum dsnp_ret msg_dsn(const struct msg *m, sa_t *envid)
{
	struct dsnp_mail dm;

	sa_trunc(envid, 0);
	if (!m->dsnp || dsnp_mail_parse(m->dsnp, strlen(m->dsnp), &dm) < 0)
		return DSNP_RET_NONE;
	if (dm.has_envid && dsnp_xtext_decode(dm.envid, strlen(dm.envid), envid) < 0)
		sa_trunc(envid, 0);
	return dm.ret;
}

/* ORCPT as "type;address", decoded; NULL when none (or out of memory) */
static char *rcpt_orcpt(const struct rcpt *r)
{
	struct dsnp_rcpt dr;
	sa_t d = SA_INIT;
	const char *semi;
	char *out;

	if (!r->dsnp || dsnp_rcpt_parse(r->dsnp, strlen(r->dsnp), &dr) < 0 || !dr.has_orcpt)
		return NULL;
	semi = strchr(dr.orcpt, ';');
	if (!semi || dsnp_xtext_decode(semi + 1, strlen(semi + 1), &d) < 0 ||
	    sa_ready(&d, (size_t)(semi - dr.orcpt) + 1) < 0) {
		sa_free(&d);
		return NULL;
	}
	/* the type before the decoded address */
	memmove(d.s + (semi - dr.orcpt) + 1, d.s, d.len + 1);
	memcpy(d.s, dr.orcpt, (size_t)(semi - dr.orcpt) + 1);
	out = d.s;
	return out;
}

/* the per-message fields of a notice about m to `to` (envid: decoded ENVID) */
static void notice_info(const struct msg *m, struct dsn_info *info, const char *to, const sa_t *envid)
{
	memset(info, 0, sizeof *info);
	info->reporting_mta = conf_hostname(&Q.conf);
	info->sender = to;
	info->qid = m->qid;
	info->arrival = m->arrival;
	info->envid = envid->len ? envid->s : NULL;
}

static void notice_free(struct dsn_rcpt *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].orcpt);
	free(v);
}

/* r needs no notice (any more): journaled as told */
static void rcpt_told(struct msg *m, struct rcpt *rc)
{
	rc->notified = 1;
	if (!m->ndirty)
		m->dirty_since = Q.now;
	if (!rc->dirty)
		m->ndirty++;
	rc->dirty = 1;
}

/* the report lines of the recipients want() picks, their status of class cls;
 * NULL with *n 0 when there are none, NULL with *n > 0 when out of memory */
static struct dsn_rcpt *notice_rcpts(const struct msg *m, int (*want)(const struct rcpt *),
                                     char cls, size_t *n)
{
	struct dsn_rcpt *v;
	size_t k = 0;

	*n = 0;
	for (size_t i = 0; i < m->nrcpt; i++)
		if (want(&m->rcpt[i]))
			(*n)++;
	if (*n == 0 || !(v = calloc(*n, sizeof *v)))
		return NULL;
	for (size_t i = 0; i < m->nrcpt; i++) {
		const struct rcpt *rc = &m->rcpt[i];
		if (!want(rc))
			continue;
		v[k].addr = rc->addr;
		v[k].status = status_for(rc, cls);
		v[k].diag = rc->text && *rc->text ? rc->text : NULL;
		v[k].last_attempt = rc->when;
		v[k].orcpt = rcpt_orcpt(rc);
		if (cls == '2')
			v[k].action = rc->dest ? "relayed" : "delivered";
		k++;
	}
	return v;
}

int notify_failures(struct msg *m)
{
	struct dsn_rcpt *v;
	struct dsn_info info;
	sa_t to = SA_INIT, qid = SA_INIT, envid = SA_INIT;
	const char *kind = NULL;
	size_t n = 0, npm = 0;
	int r = 0;

	v = notice_rcpts(m, untold_failure, '5', &n);
	if (!v && n)
		return -1;
	for (size_t i = 0; i < n; i++)
		npm += localaddr_is_postmaster(&Q.conf, v[i].addr);
	if (n == 0) {
		kind = NULL; /* only failures whose NOTIFY declined a notice, if any */
	} else if (m->sender[0]) {
		kind = "bounce";
		if (sa_cats(&to, m->sender) < 0)
			log_fatal("out of memory");
	} else if (npm == n) {
		/* a notice to the postmaster that failed: nobody is left to tell */
		log_info(m->qid, "double-bounce dropped");
	} else {
		kind = "double-bounce";
		if (localaddr_postmaster(&Q.conf, &to) < 0)
			log_fatal("out of memory");
	}
	if (kind) {
		/* RET=HDRS: the header section only; RET=FULL or none: bounce_size_limit */
		enum dsnp_ret ret = msg_dsn(m, &envid);
		notice_info(m, &info, to.s, &envid);
		r = notice_queue(m, &info, v, n,
		                 ret == DSNP_RET_HDRS ? -1 : Q.conf.bounce_size_limit, to.s, &qid);
		if (r == 0)
			log_info(m->qid, "%s queued as %s to=<%s> nrcpt=%zu", kind, qid.s, to.s, n);
		else if (r > 0)
			log_warn(m->qid, "%s to <%s> refused for good: dropped", kind, to.s);
	}
	if (r >= 0) {
		for (size_t i = 0; i < m->nrcpt; i++) {
			struct rcpt *rc = &m->rcpt[i];
			if (rc->status != R_FAILED || rc->notified)
				continue;
			if (!untold_failure(rc))
				log_info(m->qid, "to=<%s> no failure notice: NOTIFY=%s", rc->addr,
				         rc->notify & DSNP_NOTIFY_NEVER ? "NEVER" : "without FAILURE");
			rcpt_told(m, rc);
		}
	}
	notice_free(v, n);
	sa_free(&to);
	sa_free(&qid);
	sa_free(&envid);
	return r >= 0 ? 0 : -1;
}

int notify_success(struct msg *m)
{
	struct dsn_rcpt *v;
	struct dsn_info info;
	sa_t qid = SA_INIT, envid = SA_INIT;
	enum dsnp_ret ret;
	size_t n = 0;
	int r = 0;

	v = notice_rcpts(m, notify_success_due, '2', &n);
	if (!v)
		return n == 0 ? 0 : -1;
	ret = msg_dsn(m, &envid);
	if (m->sender[0]) {
		notice_info(m, &info, m->sender, &envid);
		info.success = 1;
		/* the headers, unless RET=FULL asked for the whole message */
		r = notice_queue(m, &info, v, n, ret == DSNP_RET_FULL ? Q.conf.bounce_size_limit : -1,
		                 m->sender, &qid);
		if (r == 0)
			log_info(m->qid, "success notice queued as %s to=<%s> nrcpt=%zu", qid.s, m->sender, n);
		else if (r > 0)
			log_warn(m->qid, "success notice to <%s> refused for good: dropped", m->sender);
	}
	if (r >= 0)
		for (size_t i = 0; i < m->nrcpt; i++)
			if (notify_success_due(&m->rcpt[i]))
				rcpt_told(m, &m->rcpt[i]);
	notice_free(v, n);
	sa_free(&qid);
	sa_free(&envid);
	return r >= 0 ? 0 : -1;
}

int notify_delay(struct msg *m)
{
	struct dsn_rcpt *v;
	struct dsn_info info;
	sa_t qid = SA_INIT, envid = SA_INIT;
	enum dsnp_ret ret;
	size_t n = 0;
	int r;

	if (Q.conf.delay_warning_time <= 0 || m->warned || !m->sender[0] ||
	    Q.now - m->arrival < Q.conf.delay_warning_time)
		return 0;
	v = notice_rcpts(m, deferred, '4', &n);
	if (!v)
		return n == 0 ? 0 : -1;
	for (size_t i = 0; i < n; i++)
		v[i].will_retry_until = m->arrival + Q.conf.queue_lifetime;
	ret = msg_dsn(m, &envid);
	notice_info(m, &info, m->sender, &envid);
	info.delayed = 1;
	/* a warning returns the headers only (the sender need not resend), the
	 * whole message when RET=FULL asked for it */
	r = notice_queue(m, &info, v, n, ret == DSNP_RET_FULL ? Q.conf.bounce_size_limit : -1,
	                 m->sender, &qid);
	if (r >= 0) {
		if (r == 0)
			log_info(m->qid, "delay notice queued as %s to=<%s> nrcpt=%zu", qid.s, m->sender, n);
		m->warned = 1;
		m->warn_dirty = 1;
	}
	notice_free(v, n);
	sa_free(&qid);
	sa_free(&envid);
	return r >= 0 ? 0 : -1;
}
