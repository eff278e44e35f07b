/* qmgr_sched: which recipients are delivered next, and what a result means.
 * Ready local recipients wait in one FIFO; ready remote recipients in the FIFO
 * of their destination, and the destinations with work take turns (round
 * robin), each limited to destination_concurrency runs, so that one slow or
 * dead domain holds at most its own share of the delivery_concurrency slots.
 * Deferred recipients wait in a min-heap by retry time. A job names (message,
 * recipient); every job of a message that is dropped is removed at once, so no
 * job ever points at freed memory (msg->njobs counts them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "qmgr.h"

static struct jobq local;

static struct {
	struct job *v;
	size_t len, cap;
} heap;

static struct dest *ring;          /* next destination to serve */
static size_t nring;               /* destinations in the ring */

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

static void jobq_push(struct jobq *q, struct job j)
{
	if (q->len == q->cap) {
		size_t old = q->cap;
		if (grow(&q->v, &q->cap) < 0)
			log_fatal("out of memory for the ready queue"); /* a restart rebuilds it */
		/* unwrap: the part before head moves after the old end */
		if (q->head + q->len > old) {
			size_t wrapped = q->head + q->len - old;
			memcpy(q->v + old, q->v, wrapped * sizeof *q->v);
		}
	}
	q->v[(q->head + q->len) % q->cap] = j;
	q->len++;
	j.m->njobs++;
}

static int jobq_pop(struct jobq *q, struct job *j)
{
	if (q->len == 0)
		return 0;
	*j = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	j->m->njobs--;
	return 1;
}

/* remove m's jobs, keeping the others in order */
static void jobq_filter(struct jobq *q, struct msg *m)
{
	size_t n = 0;

	for (size_t i = 0; i < q->len; i++) {
		struct job j = q->v[(q->head + i) % q->cap];
		if (j.m != m)
			q->v[(q->head + n++) % q->cap] = j;
		else
			m->njobs--;
	}
	q->len = n;
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

static void heap_push(struct job j)
{
	if (heap.len == heap.cap && grow(&heap.v, &heap.cap) < 0)
		log_fatal("out of memory for the retry queue");
	heap.v[heap.len++] = j;
	heap_up(heap.len - 1);
	j.m->njobs++;
}

static struct job heap_pop(void)
{
	struct job j = heap.v[0];

	heap.v[0] = heap.v[--heap.len];
	if (heap.len)
		heap_down(0);
	j.m->njobs--;
	return j;
}

static void ring_add(struct dest *d)
{
	if (d->active)
		return;
	d->active = 1;
	nring++;
	if (!ring) {
		d->anext = d->aprev = d;
		ring = d;
		return;
	}
	/* at the tail: just before the next one served */
	d->anext = ring;
	d->aprev = ring->aprev;
	ring->aprev->anext = d;
	ring->aprev = d;
}

static void ring_del(struct dest *d)
{
	if (!d->active)
		return;
	d->active = 0;
	nring--;
	if (d->anext == d) {
		ring = NULL;
	} else {
		d->aprev->anext = d->anext;
		d->anext->aprev = d->aprev;
		if (ring == d)
			ring = d->anext;
	}
	d->anext = d->aprev = NULL;
}

void sched_ready(struct msg *m, size_t idx)
{
	struct rcpt *r = &m->rcpt[idx];
	struct job j = { m, idx, 0 };

	r->status = R_PENDING;
	m->nactive++;
	if (r->dest) {
		jobq_push(&r->dest->q, j);
		ring_add(r->dest);
	} else {
		jobq_push(&local, j);
	}
}

void sched_defer(struct msg *m, size_t idx)
{
	struct job j = { m, idx, m->rcpt[idx].next };

	m->rcpt[idx].status = R_DEFERRED;
	heap_push(j);
}

void sched_notify_later(struct msg *m, long long when)
{
	struct job j = { m, QMGR_NOTIFY_IDX, when };

	heap_push(j);
}

void sched_forget(struct msg *m)
{
	size_t i, n = 0;
	struct dest *last = NULL;

	if (m->njobs == 0)
		return;
	jobq_filter(&local, m);
	for (i = 0; i < heap.len; i++) {
		if (heap.v[i].m != m)
			heap.v[n++] = heap.v[i];
		else
			m->njobs--;
	}
	heap.len = n;
	for (i = heap.len / 2 + 1; i-- > 0;)
		heap_down(i);
	for (i = 0; i < m->nrcpt && m->njobs > 0; i++) {
		struct dest *d = m->rcpt[i].dest;
		if (d && d != last && d->q.len)
			jobq_filter(&d->q, m);
		last = d;
	}
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

static double msg_delay(const struct msg *m)
{
	struct timespec ts;
	double delay;

	clock_gettime(CLOCK_REALTIME, &ts);
	delay = (double)ts.tv_sec + ts.tv_nsec / 1e9 - m->t0;
	return delay < 0 ? 0 : delay;
}

void sched_result(struct msg *m, size_t idx, int class, const char *status, const char *text)
{
	struct rcpt *r = &m->rcpt[idx];
	const char *what;

	if (r->status == R_PENDING || r->status == R_RUNNING)
		m->nactive--;
	r->when = Q.now;
	if (class == 'T' && Q.now - m->arrival >= Q.conf.queue_lifetime) {
		/* too old: the temporary failure becomes final; the last reason stays
		 * as the diagnostic of the bounce */
		status = "4.4.7";
		class = 'P';
		log_info(m->qid, "to=<%s> expired after %llds in the queue", r->addr,
		         (long long)(Q.now - m->arrival));
	}
	switch (class) {
	case 'D':
		r->status = R_SENT;
		what = "sent";
		m->nfinal++;
		break;
	case 'P':
		r->status = R_FAILED;
		r->notified = 0;
		what = "failed";
		m->nfinal++;
		break;
	default:
		r->attempts++;
		r->next = Q.now + backoff(r->attempts);
		what = "deferred";
		break;
	}
	log_info(m->qid, "to=<%s> status=%s delay=%.2f reason=\"%s %s\"", r->addr, what, msg_delay(m),
	         status, text);
	msg_set_result(m, idx, status, text);
	if (class == 'T')
		sched_defer(m, idx);
}

/* a backed-off destination: its ready recipients wait for the end of the
 * backoff without an attempt (or expire) */
static void dest_park(struct dest *d)
{
	struct job j;
	char buf[1200];

	while (jobq_pop(&d->q, &j)) {
		struct msg *m = j.m;
		struct rcpt *r = &m->rcpt[j.idx];
		if (r->status != R_PENDING)
			continue;
		if (Q.now - m->arrival >= Q.conf.queue_lifetime) {
			sched_result(m, j.idx, 'T', d->status[0] ? d->status : "4.4.1",
			             d->text ? d->text : "destination unreachable");
		} else {
			snprintf(buf, sizeof buf, "not tried: domain %s backed off for %llds after %u failure%s: %s",
			         d->name, (long long)(d->until - Q.now), d->fails, d->fails == 1 ? "" : "s",
			         d->text ? d->text : "");
			m->nactive--;
			r->next = d->until;
			log_info(m->qid, "to=<%s> status=deferred delay=%.2f reason=\"%s %s\"", r->addr,
			         msg_delay(m), d->status[0] ? d->status : "4.4.1", buf);
			msg_set_result(m, j.idx, d->status[0] ? d->status : "4.4.1", buf);
			sched_defer(m, j.idx);
		}
		msg_settle(m);
	}
}

static void sort_idx(size_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		size_t x = v[i], k = i;
		while (k > 0 && v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
}

static void start_failed(struct msg *m, const size_t *idx, size_t n)
{
	char buf[200];

	snprintf(buf, sizeof buf, "cannot start delivery: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		sched_result(m, idx[i], 'T', "4.3.0", buf);
	msg_settle(m);
}

/* one pochta-remote run for the head of d's queue and the other ready
 * recipients of the same message and destination */
static void start_batch(struct dest *d)
{
	size_t idx[QMGR_BATCH_MAX], n = 0, lo, hi;
	struct job j;
	struct msg *m;

	jobq_pop(&d->q, &j);
	m = j.m;
	idx[n++] = j.idx;
	m->rcpt[j.idx].status = R_RUNNING;
	lo = j.idx > QMGR_BATCH_SCAN ? j.idx - QMGR_BATCH_SCAN : 0;
	hi = m->nrcpt - j.idx > QMGR_BATCH_SCAN ? j.idx + QMGR_BATCH_SCAN : m->nrcpt;
	for (size_t i = lo; i < hi && n < QMGR_BATCH_MAX; i++) {
		struct rcpt *r = &m->rcpt[i];
		if (r->dest == d && r->status == R_PENDING) {
			r->status = R_RUNNING; /* its own job is now stale */
			idx[n++] = i;
		}
	}
	sort_idx(idx, n);
	if (deliver_start(m, d, idx, n) < 0) {
		start_failed(m, idx, n);
		return;
	}
	d->running++;
}

/* start one batch for the next destination that may run; 0 when none can.
 * Each destination in the ring is looked at once at most per call. */
static int remote_one(void)
{
	size_t todo = nring;

	while (ring && todo-- > 0) {
		struct dest *d = ring;
		ring = d->anext; /* round robin: the next look starts after d */
		/* jobs of recipients that went into another batch */
		while (d->q.len) {
			struct job *head = &d->q.v[d->q.head], junk;
			if (head->m->rcpt[head->idx].status == R_PENDING)
				break;
			jobq_pop(&d->q, &junk);
		}
		/* parking may settle and free messages, never d: it is in the ring */
		if (d->q.len && d->until > Q.now)
			dest_park(d);
		if (d->q.len == 0) {
			ring_del(d);
			dest_release(d);
			continue;
		}
		if (d->running < (size_t)Q.conf.destination_concurrency) {
			start_batch(d);
			return 1;
		}
	}
	return 0;
}

void sched_run(void)
{
	while (!Q.stopping && deliver_free_slots() > 0) {
		int progress = 0;
		struct job j;

		/* local and remote take turns for the free slots */
		if (jobq_pop(&local, &j)) {
			progress = 1;
			if (j.m->rcpt[j.idx].status == R_PENDING) {
				j.m->rcpt[j.idx].status = R_RUNNING;
				if (deliver_start(j.m, NULL, &j.idx, 1) < 0)
					start_failed(j.m, &j.idx, 1);
			}
		}
		if (deliver_free_slots() > 0 && !Q.stopping && remote_one())
			progress = 1;
		if (!progress)
			break;
	}
}

static void job_due(struct job j)
{
	struct msg *m = j.m;

	if (j.idx == QMGR_NOTIFY_IDX) {
		m->notify_wait = 0;
		if (m->nactive == 0)
			msg_settle(m);
		return;
	}
	if (m->rcpt[j.idx].status == R_DEFERRED)
		sched_ready(m, j.idx);
}

long long sched_due(void)
{
	while (heap.len && heap.v[0].due <= Q.now)
		job_due(heap_pop());
	if (!heap.len)
		return -1;
	return (heap.v[0].due - Q.now) * 1000;
}

void sched_flush(void)
{
	/* first: so that the recipients made ready are not parked again */
	struct job *v = heap.v;
	size_t n = heap.len;

	dest_flush();
	/* take the whole heap first: a notice that fails again goes back into it
	 * and must not be retried in this same loop */
	heap.v = NULL;
	heap.len = heap.cap = 0;
	for (size_t i = 0; i < n; i++)
		v[i].m->njobs--;
	/* recipients first (that frees nothing), then the notices: a message has
	 * at most one notice job, and settling it may free the message */
	for (size_t i = 0; i < n; i++)
		if (v[i].idx != QMGR_NOTIFY_IDX)
			job_due(v[i]);
	for (size_t i = 0; i < n; i++)
		if (v[i].idx == QMGR_NOTIFY_IDX)
			job_due(v[i]);
	free(v);
}

/* the recipient of j is at domain */
static int job_at(const struct job *j, const char *domain)
{
	const char *at;

	if (j->idx == QMGR_NOTIFY_IDX)
		return 0;
	at = strrchr(j->m->rcpt[j->idx].addr, '@');
	return at && strcasecmp(at + 1, domain) == 0;
}

size_t sched_flush_domain(const char *domain)
{
	struct dest *d = dest_find(domain);
	size_t keep = heap.len, n = heap.len;

	if (d)
		d->until = 0; /* first: so that the recipients made ready are not parked again */
	/* the domain's jobs to the tail, the heap rebuilt from the others */
	for (size_t i = 0; i < keep;) {
		if (job_at(&heap.v[i], domain)) {
			struct job t = heap.v[--keep];
			heap.v[keep] = heap.v[i];
			heap.v[i] = t;
		} else {
			i++;
		}
	}
	heap.len = keep;
	for (size_t i = keep / 2; i-- > 0;)
		heap_down(i);
	/* job_due of a recipient only fills the ready queues: the tail stays put */
	for (size_t i = keep; i < n; i++) {
		heap.v[i].m->njobs--;
		job_due(heap.v[i]);
	}
	return n - keep;
}

void sched_free(void)
{
	free(local.v);
	free(heap.v);
	memset(&local, 0, sizeof local);
	memset(&heap, 0, sizeof heap);
	while (ring)
		ring_del(ring);
	nring = 0;
}
