/* qmgr_deliver: the delivery launch interface of pochta-qmgr, one slot per
 * running delivery. A local recipient goes to a long-lived local worker
 * (qmgr_local.c), a batch of remote recipients of one message and one
 * destination to a long-lived remote worker (qmgr_remote.c); both report
 * through deliver_local_result, with dresult.h records. A recipient without a
 * result is a temporary failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dresult.h"
#include "log.h"
#include "paths.h"
#include "qmgr.h"
#include "qmgr_pool.h"
#include "rec.h"
#include "rreq.h"

/* output kept from a run: a full result record per recipient, and some slack */
#define OUT_PER_RCPT (DRESULT_TEXT_MAX + 64)
#define OUT_SLACK 1024

struct child {
	pid_t pid;           /* 0: free slot; else the worker's */
	int exited, wstatus; /* exited: the worker replied or ended */
	struct msg *m;       /* NULL: the message was dropped (held or deleted) */
	char qid[QID_LEN + 1]; /* to journal the final results of a held one */
	struct dest *dest;   /* remote runs: the destination; NULL: local */
	size_t idx[QMGR_BATCH_MAX];
	size_t n;
	long long started, deadline;
	size_t outlen, outmax, outcap;
	char *out;
};

static struct child *kids;
static size_t nslots, nrunning;

int deliver_init(size_t slots)
{
	kids = calloc(slots, sizeof *kids);
	if (!kids || qmgr_pool_init(&qmgr_local_pool, slots) < 0 ||
	    qmgr_pool_init(&qmgr_remote_pool, slots) < 0)
		return -1;
	nslots = slots;
	return 0;
}

size_t deliver_free_slots(void)
{
	return nslots - nrunning;
}

size_t deliver_running(void)
{
	return nrunning;
}

void deliver_child_signals(void)
{
	sigset_t all;

	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

int deliver_start(struct msg *m, struct dest *d, const size_t *idx, size_t n)
{
	struct child *c = NULL;
	pid_t pid;

	if (n == 0 || n > QMGR_BATCH_MAX || (!d && n != 1)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid == 0) {
			c = &kids[i];
			break;
		}
	if (!c) {
		errno = EAGAIN;
		return -1;
	}
	c->outmax = n * OUT_PER_RCPT + OUT_SLACK;
	if (!c->out || c->outcap < c->outmax) {
		char *o = realloc(c->out, c->outmax);
		if (!o)
			return -1;
		c->out = o;
		c->outcap = c->outmax;
	}
	pid = d ? qmgr_remote_start(m, d, idx, n, c) : qmgr_local_start(m, idx[0], c);
	if (pid < 0)
		return -1;
	c->pid = pid;
	c->exited = 0;
	c->wstatus = 0;
	c->m = m;
	memcpy(c->qid, m->qid, sizeof c->qid);
	c->dest = d;
	memcpy(c->idx, idx, n * sizeof *idx);
	c->n = n;
	c->started = Q.now;
	c->deadline = Q.now + QMGR_DELIVERY_TIMEOUT;
	c->outlen = 0;
	nrunning++;
	if (d)
		log_info(m->qid, "remote run pid=%ld domain=%s nrcpt=%zu", (long)pid, d->name, n);
	return 0;
}

size_t deliver_pollfds(struct pollfd *p, size_t max)
{
	size_t n = qmgr_pool_pollfds(&qmgr_local_pool, p, max);

	return n + qmgr_pool_pollfds(&qmgr_remote_pool, p + n, max - n);
}

void deliver_local_result(void *slot, const char *out, size_t len, int wstatus)
{
	struct child *c = slot;

	if (len > c->outmax)
		len = c->outmax;
	if (len)
		memcpy(c->out, out, len);
	c->outlen = len;
	c->wstatus = wstatus;
	c->exited = 1;
}

struct result {
	char class;            /* 0: none reported */
	int passed;            /* delivered to a peer that took the DSN duty (rreq.h p) */
	char status[16];
	char *text;
};

/* what a run without a result record for a recipient means */
static void exit_result(const struct child *c, struct result *r, char *buf, size_t len)
{
	/* both agents report every recipient: one they did not is not known to
	 * be delivered, whatever the exit code */
	r->class = 'T';
	snprintf(r->status, sizeof r->status, "4.3.0");
	if (c->wstatus == QMGR_WORKER_GONE)
		snprintf(buf, len, "delivery agent ended without a result");
	else if (WIFSIGNALED(c->wstatus))
		snprintf(buf, len, "delivery agent killed by signal %d", WTERMSIG(c->wstatus));
	else
		snprintf(buf, len, "delivery agent exited %d without a result",
		         WEXITSTATUS(c->wstatus));
	r->text = buf;
}

static void child_done(struct child *c)
{
	struct result res[QMGR_BATCH_MAX];
	struct dresult dr = { 0, 0, "", SA_INIT };
	const char *data;
	size_t pos = 0, dlen, n = c->n;
	int type, unreachable = 1, answered = 0;
	char fallback[128];
	struct msg *m = c->m;
	struct dest *d = c->dest;

	memset(res, 0, sizeof res);
	while (rec_next(c->out, c->outlen, &pos, &type, &data, &dlen) == 1) {
		struct result *r;
		size_t pi;
		if (type == RREQ_PASSED && rreq_passed(data, dlen, &pi) == 0 && pi < n) {
			res[pi].passed = 1;
			continue;
		}
		if (type != DRESULT_REC || dresult_parse(data, dlen, &dr) < 0 || dr.index >= n)
			continue;
		r = &res[dr.index];
		if (r->class)
			continue; /* the first result for a recipient counts */
		r->class = dr.class;
		memcpy(r->status, dr.status, sizeof r->status);
		r->text = strdup(dr.text.s ? dr.text.s : "");
		if (!r->text)
			r->class = 0;
	}
	sa_free(&dr.text);
	for (size_t i = 0; i < n; i++) {
		if (!res[i].class)
			exit_result(c, &res[i], fallback, sizeof fallback);
		/* unreachable: nothing but network and routing failures (4.4.x);
		 * answered: a server delivered or replied (its reply is the text) */
		if (res[i].class != 'T' || strncmp(res[i].status, "4.4.", 4) != 0)
			unreachable = 0;
		if (res[i].class == 'D' || strncmp(res[i].text, "smtp;", 5) == 0)
			answered = 1;
	}
	c->pid = 0;
	c->m = NULL;
	c->dest = NULL;
	nrunning--;
	if (d)
		dest_done(d, c->started, unreachable, answered, res[0].status, res[0].text);
	if (m) {
		for (size_t i = 0; i < n; i++) {
			sched_result(m, c->idx[i], res[i].class, res[i].status, res[i].text);
			/* the peer has NOTIFY=SUCCESS now: its notice, not ours */
			if (res[i].class == 'D' && res[i].passed && notify_success_due(&m->rcpt[c->idx[i]]))
				m->rcpt[c->idx[i]].notified = 1;
		}
		msg_settle(m);
	} else {
		/* held while it ran: what was delivered or refused must not be tried
		 * again after the release */
		for (size_t i = 0; i < n; i++)
			if (res[i].class == 'D' || res[i].class == 'P')
				msg_journal_detached(c->qid, c->idx[i], res[i].class, res[i].status,
				                     res[i].text);
	}
	for (size_t i = 0; i < n; i++)
		if (res[i].text != fallback)
			free(res[i].text);
}

static void check_done(void)
{
	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid && kids[i].exited)
			child_done(&kids[i]);
}

void deliver_reap(void)
{
	int st;
	pid_t pid;

	/* every child is a worker: others (retired ones) are just reaped */
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (!qmgr_pool_reaped(&qmgr_local_pool, pid, st))
			qmgr_pool_reaped(&qmgr_remote_pool, pid, st);
	check_done();
}

void deliver_events(struct pollfd *p, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (p[j].revents && !qmgr_pool_event(&qmgr_local_pool, p[j].fd))
			qmgr_pool_event(&qmgr_remote_pool, p[j].fd);
	deliver_reap();
}

long long deliver_timeouts(void)
{
	long long next = qmgr_pool_timeouts(&qmgr_local_pool);
	long long rnext = qmgr_pool_timeouts(&qmgr_remote_pool);

	if (rnext >= 0 && (next < 0 || rnext < next))
		next = rnext;
	for (size_t i = 0; i < nslots; i++) {
		struct child *c = &kids[i];
		if (!c->pid || c->exited)
			continue;
		if (c->deadline <= Q.now) {
			log_warn(c->m ? c->m->qid : NULL, "delivery pid %ld timed out: killed", (long)c->pid);
			qmgr_pool_kill(c->pid, 0);
			c->deadline = Q.now + 5;
		}
		long long ms = (c->deadline - Q.now) * 1000;
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

void deliver_adopt(struct msg *m)
{
	for (size_t i = 0; i < nslots; i++) {
		struct child *c = &kids[i];
		int final = 0;

		if (!c->pid || c->m || strcmp(c->qid, m->qid) != 0)
			continue;
		for (size_t k = 0; k < c->n; k++)
			if (m->rcpt[c->idx[k]].status == R_SENT || m->rcpt[c->idx[k]].status == R_FAILED)
				final = 1;
		if (final)
			continue; /* the journal knows better: leave its result unheard */
		c->m = m;
		for (size_t k = 0; k < c->n; k++)
			m->rcpt[c->idx[k]].status = R_RUNNING;
	}
}

void deliver_forget(struct msg *m)
{
	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid && kids[i].m == m)
			kids[i].m = NULL;
}

void deliver_kill_all(void)
{
	for (size_t i = 0; i < nslots; i++) {
		struct child *c = &kids[i];
		if (!c->pid)
			continue;
		if (!c->exited) {
			/* its worker (and a local worker's child, with it) */
			qmgr_pool_kill(c->pid, 1);
		}
		c->pid = 0;
		c->m = NULL;
		if (c->dest && c->dest->running)
			c->dest->running--;
		c->dest = NULL;
		nrunning--;
	}
}

void deliver_free(void)
{
	qmgr_pool_stop_all(&qmgr_local_pool);
	qmgr_pool_free(&qmgr_local_pool);
	qmgr_pool_stop_all(&qmgr_remote_pool);
	qmgr_pool_free(&qmgr_remote_pool);
	for (size_t i = 0; i < nslots; i++)
		free(kids[i].out);
	free(kids);
	kids = NULL;
	nslots = 0;
}
