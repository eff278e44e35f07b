/* qmgr_remote: the remote delivery workers of pochta-qmgr, a pool
 * (qmgr_pool.c) of long-lived `pochta-remote -w` processes: a request is a
 * batch (one message, one destination, up to 100 recipients; common/rreq.h)
 * with the message as a descriptor, a reply one dresult record per recipient
 * and, when the worker keeps its SMTP connection, the domain it leads to. A
 * batch goes to the idle worker that holds a connection to its domain when
 * there is one. A retired worker closes its connection with QUIT and exits;
 * it keeps its entry until it is reaped. */
#include <errno.h>
#include "qmgr_pool.h"
#include "rreq.h"

static void remote_reply(struct qmgr_worker *w, const char *buf, size_t len)
{
	if (!rreq_kept(buf, len, w->kept, sizeof w->kept))
		w->kept[0] = '\0';
	w->kept_until = Q.now + Q.conf.remote_connection_cache_time;
}

struct qmgr_pool qmgr_remote_pool = {
	.kind = "remote",
	.prog = "pochta-remote",
	.spawn_op = SPAWNREQ_REMOTE,
	.unit = "batches",
	.reply_max = RREQ_REPLY_MAX,
	.sndbuf = RREQ_MAX + 4096, /* a batch and its reply are up to about 100 KiB, one packet each */
	.keep_dead = 1,
	.reply = remote_reply,
};

pid_t qmgr_remote_start(struct msg *m, struct dest *d, const size_t *idx, size_t n, void *slot)
{
	const char *rcpt[RREQ_RCPT_MAX], *rdsn[RREQ_RCPT_MAX];
	sa_t req = SA_INIT;

	if (n > RREQ_RCPT_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		rcpt[i] = m->rcpt[idx[i]].addr;
		rdsn[i] = m->rcpt[idx[i]].dsnp;
	}
	if (rreq_build(&req, m->qid, m->sender, m->body, d->name, rcpt, n) < 0 ||
	    (m->smtputf8 && rreq_smtputf8(&req) < 0) ||
	    rreq_build_dsn(&req, m->dsnp, rdsn, n) < 0) {
		sa_free(&req);
		return -1;
	}
	return qmgr_pool_send(&qmgr_remote_pool, m, &req, d->name, slot);
}
