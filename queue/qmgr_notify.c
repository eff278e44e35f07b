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
#include "enqclient.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "qmgr.h"

static const char *status_for(const struct rcpt *r, char cls)
{
	if (r->dsn[0] == cls && r->dsn[1] == '.')
		return r->dsn;
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

static int untold_failure(const struct rcpt *r)
{
	return r->status == R_FAILED && !r->notified;
}

static int deferred(const struct rcpt *r)
{
	return r->status == R_DEFERRED;
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
		k++;
	}
	return v;
}

int notify_failures(struct msg *m)
{
	struct dsn_rcpt *v;
	struct dsn_info info;
	sa_t to = SA_INIT, qid = SA_INIT;
	const char *kind;
	size_t n = 0, npm = 0;
	int r;

	v = notice_rcpts(m, untold_failure, '5', &n);
	if (!v)
		return n == 0 ? 0 : -1;
	for (size_t i = 0; i < n; i++)
		npm += localaddr_is_postmaster(&Q.conf, v[i].addr);
	if (m->sender[0]) {
		kind = "bounce";
		if (sa_cats(&to, m->sender) < 0)
			log_fatal("out of memory");
		r = 0;
	} else if (npm == n) {
		/* a notice to the postmaster that failed: nobody is left to tell */
		log_info(m->qid, "double-bounce dropped");
		kind = NULL;
		r = 0;
	} else {
		kind = "double-bounce";
		if (localaddr_postmaster(&Q.conf, &to) < 0)
			log_fatal("out of memory");
		r = 0;
	}
	if (kind) {
		memset(&info, 0, sizeof info);
		info.reporting_mta = conf_hostname(&Q.conf);
		info.sender = to.s;
		info.qid = m->qid;
		info.arrival = m->arrival;
		r = notice_queue(m, &info, v, n, Q.conf.bounce_size_limit, to.s, &qid);
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
			rc->notified = 1;
			if (!m->ndirty)
				m->dirty_since = Q.now;
			if (!rc->dirty)
				m->ndirty++;
			rc->dirty = 1;
		}
	}
	free(v);
	sa_free(&to);
	sa_free(&qid);
	return r >= 0 ? 0 : -1;
}

int notify_delay(struct msg *m)
{
	struct dsn_rcpt *v;
	struct dsn_info info;
	sa_t qid = SA_INIT;
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
	memset(&info, 0, sizeof info);
	info.reporting_mta = conf_hostname(&Q.conf);
	info.sender = m->sender;
	info.qid = m->qid;
	info.arrival = m->arrival;
	info.delayed = 1;
	/* a warning returns the headers only: the sender need not resend */
	r = notice_queue(m, &info, v, n, -1, m->sender, &qid);
	if (r >= 0) {
		if (r == 0)
			log_info(m->qid, "delay notice queued as %s to=<%s> nrcpt=%zu", qid.s, m->sender, n);
		m->warned = 1;
		m->warn_dirty = 1;
	}
	free(v);
	sa_free(&qid);
	return r >= 0 ? 0 : -1;
}
