/* qmgr_local: the local delivery workers of pochta-qmgr, a pool
 * (qmgr_pool.c) of long-lived `pochta-local -w` processes: a request
 * (common/lreq.h) carries one recipient and the message as a descriptor, a
 * reply one dresult record. A worker that leaves, retired or ended while
 * idle, is forgotten at once and reaped as an unknown child. */
#include "lreq.h"
#include "qmgr_pool.h"

struct qmgr_pool qmgr_local_pool = {
	.kind = "local",
	.prog = "pochta-local",
	.spawn_op = SPAWNREQ_LOCAL,
	.unit = "deliveries",
	.reply_max = LREQ_REPLY_MAX,
};

pid_t qmgr_local_start(struct msg *m, size_t idx, void *slot)
{
	sa_t req = SA_INIT;

	if (lreq_build(&req, m->qid, m->sender, m->body, m->rcpt[idx].addr) < 0)
		return -1;
	return qmgr_pool_send(&qmgr_local_pool, m, &req, NULL, slot);
}
