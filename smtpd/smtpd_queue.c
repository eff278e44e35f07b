/* smtpd_queue: the pochta-enqueue child of a session, through the common
 * client (common/enqclient.h). Started lazily at the first DATA, reused for
 * every message of the session; a child that died or broke is reaped and the
 * next message starts a new one. This layer adds only the logging. */
#include <errno.h>
#include <string.h>
#include "smtpd.h"
#include "enqproto.h"
#include "log.h"
#include "paths.h"

void enq_init(struct enq *q, int timeout_ms)
{
	enqc_init(&q->c);
	q->timeout_ms = timeout_ms;
}

void enq_close(struct enq *q)
{
	enqc_close(&q->c);
}

static int enq_fail(struct enq *q, const char *what)
{
	log_warn(NULL, "pochta-enqueue: %s: %s", what, errno ? strerror(errno) : "failed");
	enqc_close(&q->c);
	return -1;
}

int enq_begin(struct enq *q, sa_t *qid)
{
	int r;

	errno = 0;
	q->size = 0;
	if (enqc_ready_z(&q->c, smtpd_enqz_fd, paths_prog("pochta-enqueue"), q->timeout_ms) < 0)
		return enq_fail(q, "start");
	r = enqc_begin(&q->c, qid);
	if (r == 0)
		return 0;
	if (r == 'Z') {
		log_warn(NULL, "pochta-enqueue: temporary failure: %s", qid->s);
		errno = EAGAIN;
		return -1;
	}
	return enq_fail(q, "begin");
}

int enq_put(struct enq *q, int type, const void *p, size_t n)
{
	if (q->c.broken)
		return -1;
	if (enqc_put(&q->c, type, p, n) < 0) {
		/* keep the child until the message ends: the caller reads the data to
		 * its end first, then enq_end() or enq_abort() reaps it */
		log_warn(NULL, "pochta-enqueue: write: %s", strerror(errno));
		return -1;
	}
	if (type == ENQ_DATA)
		q->size += n;
	return 0;
}

void enq_abort(struct enq *q)
{
	if (q->c.fd < 0)
		return;
	if (!q->c.broken)
		enqc_abort(&q->c);
	if (q->c.broken)
		enqc_close(&q->c);
}

int enq_end(struct enq *q, sa_t *text)
{
	int r;

	if (q->c.fd < 0)
		return -1;
	if (q->c.broken) {
		enqc_close(&q->c);
		return -1;
	}
	errno = 0;
	r = enqc_end(&q->c, text);
	if (r < 0)
		return enq_fail(q, "end");
	return r;
}
