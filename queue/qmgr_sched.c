/* qmgr_sched: which recipient is delivered next, and what a result means.
 * Ready jobs wait in a FIFO; deferred ones in a min-heap by retry time. A job
 * names (message, recipient index); a message that is dropped has its jobs
 * removed at once, so no job ever points at freed memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "qmgr.h"

struct job {
	struct msg *m;
	size_t idx;
	long long due;             /* heap only */
};

static struct {
	struct job *v;
	size_t head, len, cap;     /* ring buffer */
} ready;

static struct {
	struct job *v;
	size_t len, cap;
} heap;

static int grow(struct job **v, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 64, bytes;
	struct job *n;

	if (size_mul(ncap, sizeof *n, &bytes) < 0)
		return -1;
	n = realloc(*v, bytes);
	if (!n)
		return -1;
	*v = n;
	*cap = ncap;
	return 0;
}

static int ready_push(struct job j)
{
	if (ready.len == ready.cap) {
		size_t old = ready.cap;
		if (grow(&ready.v, &ready.cap) < 0)
			return -1;
		/* unwrap: the part before head moves after the old end */
		if (ready.head + ready.len > old) {
			size_t wrapped = ready.head + ready.len - old;
			memcpy(ready.v + old, ready.v, wrapped * sizeof *ready.v);
		}
	}
	ready.v[(ready.head + ready.len) % ready.cap] = j;
	ready.len++;
	return 0;
}

static int ready_pop(struct job *j)
{
	if (ready.len == 0)
		return 0;
	*j = ready.v[ready.head];
	ready.head = (ready.head + 1) % ready.cap;
	ready.len--;
	return 1;
}

static void heap_swap(size_t a, size_t b)
{
	struct job t = heap.v[a];
	heap.v[a] = heap.v[b];
	heap.v[b] = t;
}

static void heap_up(size_t i)
{
	while (i > 0 && heap.v[(i - 1) / 2].due > heap.v[i].due) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		if (l < heap.len && heap.v[l].due < heap.v[s].due)
			s = l;
		if (r < heap.len && heap.v[r].due < heap.v[s].due)
			s = r;
		if (s == i)
			return;
		heap_swap(i, s);
		i = s;
	}
}

static int heap_push(struct job j)
{
	if (heap.len == heap.cap && grow(&heap.v, &heap.cap) < 0)
		return -1;
	heap.v[heap.len++] = j;
	heap_up(heap.len - 1);
	return 0;
}

static void heap_pop(void)
{
	heap.v[0] = heap.v[--heap.len];
	if (heap.len)
		heap_down(0);
}

void sched_ready(struct msg *m, size_t idx)
{
	struct job j = { m, idx, 0 };

	m->rcpt[idx].status = R_PENDING;
	m->nactive++;
	if (ready_push(j) < 0)
		log_fatal("out of memory for the ready queue"); /* restart rebuilds it all */
}

void sched_defer(struct msg *m, size_t idx)
{
	struct job j = { m, idx, m->rcpt[idx].next };

	m->rcpt[idx].status = R_DEFERRED;
	if (heap_push(j) < 0)
		log_fatal("out of memory for the retry queue");
}

void sched_forget(struct msg *m)
{
	size_t i, n = 0;

	/* ready: keep the others in order */
	for (i = 0; i < ready.len; i++) {
		struct job j = ready.v[(ready.head + i) % ready.cap];
		if (j.m != m)
			ready.v[(ready.head + n++) % ready.cap] = j;
	}
	ready.len = n;
	for (i = 0, n = 0; i < heap.len; i++)
		if (heap.v[i].m != m)
			heap.v[n++] = heap.v[i];
	heap.len = n;
	for (i = heap.len / 2 + 1; i-- > 0;)
		heap_down(i);
}

static long long backoff(unsigned attempts)
{
	long long d = Q.conf.retry_min, max = Q.conf.retry_max;

	if (max < d)
		max = d;
	for (unsigned i = 1; i < attempts && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

static void set_text(struct rcpt *r, const char *status, const char *text)
{
	size_t n = strlen(status);

	if (n >= sizeof r->dsn)
		n = sizeof r->dsn - 1;
	memcpy(r->dsn, status, n);
	r->dsn[n] = '\0';
	free(r->text);
	r->text = strdup(text);
}

void sched_result(struct msg *m, size_t idx, int class, const char *status, const char *text)
{
	struct rcpt *r = &m->rcpt[idx];
	double delay;
	const char *what;
	char buf[1200];

	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		delay = (double)ts.tv_sec + ts.tv_nsec / 1e9 - m->t0;
		if (delay < 0)
			delay = 0;
	}
	if (r->status == R_PENDING || r->status == R_RUNNING)
		m->nactive--;
	r->when = Q.now;
	if (class == 'T' && Q.now - m->arrival >= Q.conf.queue_lifetime) {
		/* too old: the temporary failure becomes final (a bounce, later) */
		snprintf(buf, sizeof buf, "message expired after %llds in queue: %s",
		         (long long)(Q.now - m->arrival), text);
		text = buf;
		status = "4.4.7";
		class = 'P';
	}
	switch (class) {
	case 'D':
		r->status = R_SENT;
		what = "sent";
		m->nfinal++;
		break;
	case 'P':
		r->status = R_FAILED;
		what = "failed";
		m->nfinal++;
		break;
	default:
		r->attempts++;
		r->next = Q.now + backoff(r->attempts);
		what = "deferred";
		break;
	}
	log_info(m->qid, "to=<%s> status=%s delay=%.2f reason=\"%s %s\"", r->addr, what, delay,
	         status, text);
	if (!r->dirty)
		m->ndirty++;
	r->dirty = 1;
	set_text(r, status, text);
	if (class == 'T')
		sched_defer(m, idx);
	if (m->nfinal == m->nrcpt) {
		/* the common case: every recipient final in one round, nothing journaled */
		msg_remove(m);
		return;
	}
	/* the round is over (or long): what is known must survive a crash */
	if (m->nactive == 0 || m->ndirty >= QMGR_JOURNAL_BATCH)
		msg_journal(m);
}

void sched_run(void)
{
	struct job j;

	while (!Q.stopping && deliver_free_slots() > 0 && ready_pop(&j)) {
		struct rcpt *r = &j.m->rcpt[j.idx];
		if (r->status != R_PENDING)
			continue;
		if (!r->local) {
			/* pochta-remote does not exist yet: the recipient stays queued */
			r->status = R_RUNNING;
			sched_result(j.m, j.idx, 'T', "4.3.2", "remote delivery not available");
			continue;
		}
		r->status = R_RUNNING;
		if (deliver_start(j.m, j.idx) < 0) {
			char buf[200];
			snprintf(buf, sizeof buf, "cannot start delivery: %s", strerror(errno));
			sched_result(j.m, j.idx, 'T', "4.3.0", buf);
		}
	}
}

long long sched_due(void)
{
	while (heap.len && heap.v[0].due <= Q.now) {
		struct job j = heap.v[0];
		heap_pop();
		if (j.m->rcpt[j.idx].status == R_DEFERRED)
			sched_ready(j.m, j.idx);
	}
	if (!heap.len)
		return -1;
	return (heap.v[0].due - Q.now) * 1000;
}

void sched_flush(void)
{
	while (heap.len) {
		struct job j = heap.v[0];
		heap_pop();
		if (j.m->rcpt[j.idx].status == R_DEFERRED)
			sched_ready(j.m, j.idx);
	}
}

void sched_free(void)
{
	free(ready.v);
	free(heap.v);
	memset(&ready, 0, sizeof ready);
	memset(&heap, 0, sizeof heap);
}
