/* pochta-qmgr internals (man/pochta-qmgr.8, man/pochta-queue.5). */
#ifndef POCHTA_QMGR_H
#define POCHTA_QMGR_H
#include <poll.h>
#include <stddef.h>
#include <sys/types.h>
#include "conf.h"
#include "qid.h"
#include "sa.h"

#define QMGR_JOURNAL_BATCH 64        /* journal unrecorded results at least this often */
#define QMGR_JOURNAL_DELAY 5         /* ... and once they are this many seconds old */
#define QMGR_DELIVERY_TIMEOUT 3600   /* seconds before a hung delivery is killed */
#define QMGR_STOP_WAIT 10            /* seconds SIGTERM waits for running deliveries */
#define QMGR_SCAN_INTERVAL 60        /* safety rescan of incoming/ (a lost trigger byte) */
#define QMGR_TMP_MAX_AGE (36 * 3600) /* stale files in tmp/ are removed after this */
#define QMGR_BATCH_MAX 100           /* recipients per pochta-remote run (RFC 5321 4.5.3.1.8) */
#define QMGR_BATCH_SCAN 2000         /* recipients looked at to fill a batch */
#define QMGR_ENQ_TIMEOUT 30000       /* ms pochta-enqueue may take per step of a notice */
#define QMGR_NOTIFY_IDX ((size_t)-1) /* a job that is no recipient: retry the notices */

/* the wait status of a worker whose socket ended and whose exit we cannot
 * see (the supervisor's): no real status is negative */
#define QMGR_WORKER_GONE (-1)

enum rcpt_status { R_PENDING, R_RUNNING, R_DEFERRED, R_SENT, R_FAILED };

struct dest;

struct rcpt {
	char *addr;
	struct dest *dest;         /* remote: its destination (domain); NULL: local */
	unsigned char status;      /* enum rcpt_status */
	unsigned char dirty;       /* state not yet in the journal */
	unsigned char notified;    /* R_FAILED: the sender was told (or it was dropped);
	                            * R_SENT: no success notice is due (any more) */
	unsigned attempts;         /* failed attempts so far */
	long long when;            /* time of the last attempt */
	long long next;            /* R_DEFERRED: time of the next attempt */
	char dsn[16];              /* last result's status code ("" before any) */
	char *text;                /* last result's text, or NULL */
	char *dsnp;                /* its DSN parameters (O record, dsnparam.h), or NULL */
	unsigned char notify;      /* their NOTIFY bits (DSNP_NOTIFY_*); 0: not given */
};

struct msg {
	char qid[QID_LEN + 1];
	long long arrival;         /* T record */
	double t0;                 /* queue file mtime: for delay= */
	char *sender;
	char body[16];             /* B record: "8BITMIME", "7BIT", "BINARYMIME" or "" */
	int smtputf8;              /* U record (qfile.h) */
	char *dsnp;                /* N record: RET= ENVID= (dsnparam.h), or NULL */
	unsigned long long msg_off;
	size_t nrcpt, nfinal, nactive, ndirty;  /* nactive: R_PENDING + R_RUNNING */
	long long dirty_since;     /* when the oldest unjournaled result came */
	size_t njobs;              /* jobs in the queues and the heap that name it */
	struct rcpt *rcpt;
	int journaled;             /* state/QID exists */
	int warned;                /* a delay notice was queued */
	int warn_dirty;            /* ... and its W record is not yet journaled */
	int notify_wait;           /* a notice could not be queued: a retry job waits */
	int mark;                  /* rescan bookkeeping */
	struct msg *hnext;
};

struct job {
	struct msg *m;
	size_t idx;                /* recipient, or QMGR_NOTIFY_IDX */
	long long due;             /* heap only */
};

struct jobq {                      /* a FIFO ring of jobs */
	struct job *v;
	size_t head, len, cap;
};

/* A destination: the recipients of one remote domain (lowercased). It limits
 * the batches running at once and is backed off as a whole when its servers
 * cannot be reached. */
struct dest {
	char *name;
	size_t refs;               /* recipients that name it */
	size_t running;            /* pochta-remote runs for it */
	unsigned fails;            /* unreachable attempts in a row */
	long long until;           /* backed off until then (0: not) */
	long long last_fail;       /* when fails was last counted */
	char status[16];           /* the last failure, for recipients not tried */
	char *text;
	struct jobq q;             /* its ready recipients */
	int active;                /* in the scheduler's round-robin ring */
	struct dest *anext, *aprev;
	struct dest *hnext;
};

struct qmgr {
	struct conf conf;
	int stopping;
	long long now;             /* wall clock, seconds, updated each loop */
	size_t nmsg;
};
extern struct qmgr Q;

/* qmgr_msg.c: messages, their files and journals */
struct msg *msg_find(const char *qid);
/* load mess/QID and its journal and schedule its recipients; 0 or -1 */
int msg_load(const char *qid);
/* incoming/ -> mess/ for every entry, then load */
void msg_take_incoming(void);

/* qmgr_conf.c: Q.conf, loaded at start and again when pochta.conf changes
 * (a broken file keeps the last valid configuration) */
int qmgr_conf_load(sa_t *err);
void qmgr_conf_check(void);
/* reread mess/: drop entries that left, load ones that came */
void msg_rescan(void);
/* startup: tmp/ cleanup, mess/, incoming/, orphan state files */
void msg_startup(void);
/* after results: when no recipient of m is pending or running, send the
 * notices that are due, then remove m when every recipient is final and told,
 * else journal what is new. m may be freed. */
void msg_settle(struct msg *m);
/* journal the results that waited QMGR_JOURNAL_DELAY seconds for the rest of
 * their message's round (a slow sibling delivery must not widen the window of
 * duplicates after a crash) */
void msg_journal_stale(void);
/* a result that came back after its message was dropped from memory: journal
 * it when the message is held (a D or P result is final) */
void msg_journal_detached(const char *qid, size_t idx, int class, const char *status,
                          const char *text);
/* every recipient final: unlink mess/QID (and state/QID), free */
void msg_remove(struct msg *m);
/* write the unjournaled state of m to state/QID (one fdatasync) */
int msg_journal(struct msg *m);
/* journal every message with unjournaled results (at exit) */
void msg_journal_all(void);
void msg_free_all(void);
/* a ready-made path: QUEUE/sub/qid in a static buffer */
const char *msg_path(const char *sub, const char *qid);
/* recipient i's last result */
void msg_set_result(struct msg *m, size_t i, const char *status, const char *text);

/* qmgr_sched.c: ready queues, retry heap, results */
void sched_ready(struct msg *m, size_t idx);
void sched_defer(struct msg *m, size_t idx);
/* retry m's notices at when */
void sched_notify_later(struct msg *m, long long when);
/* forget every queued job of m (it is being dropped) */
void sched_forget(struct msg *m);
/* start ready jobs while delivery slots are free */
void sched_run(void);
/* move due retries to the ready queues; ms until the next one (-1: none) */
long long sched_due(void);
/* every deferred recipient and backed-off destination is retried now */
void sched_flush(void);
/* queue flush DOMAIN: the deferred recipients at domain (any case) are retried
 * now and its destination is no longer backed off; how many were made ready */
size_t sched_flush_domain(const char *domain);
/* a delivery ended: class 'D', 'T' or 'P' (dresult.h); call msg_settle after */
void sched_result(struct msg *m, size_t idx, int class, const char *status, const char *text);
void sched_free(void);

/* qmgr_dest.c: destinations */
/* the destination of a domain (len bytes, any case), created on first use;
 * counts a reference. NULL when out of memory */
struct dest *dest_get(const char *domain, size_t len);
/* drop a reference; the destination is freed once nothing uses it */
void dest_unref(struct dest *d);
/* free d if no recipient, run or queue uses it (after it left the ring) */
void dest_release(struct dest *d);
/* a run for d ended. unreachable: every recipient failed temporarily at the
 * connection level (4.4.x); then status/text describe it. started: its start */
void dest_done(struct dest *d, long long started, int unreachable, int answered,
               const char *status, const char *text);
/* queue flush: no destination is backed off any more (failure counts stay) */
void dest_flush(void);
/* the destination of domain (any case), or NULL; no reference is counted */
struct dest *dest_find(const char *domain);
void dest_free_all(void);

/* qmgr_notify.c: bounces, double bounces and delay notices */
/* tell the sender about m's failed recipients not yet told: one notice for
 * all of them. 0 (done, or nothing to do), -1 (not queued: try later) */
int notify_failures(struct msg *m);
/* a delay notice for m's deferred recipients when delay_warning_time has
 * passed, once per message; 0 (sent or not due), -1 (not queued) */
int notify_delay(struct msg *m);
/* RFC 3461 NOTIFY=SUCCESS: one notice for the recipients delivered (Action:
 * delivered) or relayed to a peer without DSN (Action: relayed) not yet told;
 * 0 (done, or nothing to do), -1 (not queued: try later) */
int notify_success(struct msg *m);
/* recipient r asked for a success notice that is not sent yet */
int notify_success_due(const struct rcpt *r);

/* qmgr_deliver.c: the delivery launch interface, one slot per running
 * delivery: a request to a local worker (qmgr_local.c) for one local
 * recipient, a request to a remote worker (qmgr_remote.c) for a batch of
 * remote recipients of one message and one destination. */
int deliver_init(size_t slots);
size_t deliver_free_slots(void);
size_t deliver_running(void);
/* start delivering recipients idx[0..n) of m (d: their destination, NULL for
 * one local recipient): 0, or -1 (the caller records temporary failures) */
int deliver_start(struct msg *m, struct dest *d, const size_t *idx, size_t n);
/* fill pollfds (at most max); returns the count */
size_t deliver_pollfds(struct pollfd *p, size_t max);
/* after poll: read the pipes, reap children, report ended deliveries */
void deliver_events(struct pollfd *p, size_t n);
/* SIGCHLD arrived: reap */
void deliver_reap(void);
/* kill deliveries past their time limit; ms until the next limit (-1: none) */
long long deliver_timeouts(void);
/* m is being dropped: its running deliveries report to it no more (a held
 * one journals their final results: msg_journal_detached) */
void deliver_forget(struct msg *m);
/* a message loaded again (released) while a delivery of it still runs: that
 * delivery's recipients are marked running and its result will count */
void deliver_adopt(struct msg *m);
/* SIGKILL every running delivery and wait for it (results are lost: at-least-once) */
void deliver_kill_all(void);
void deliver_free(void);
/* a worker's reply for slot (dresult records, len bytes), or its end
 * without one (out NULL, wstatus from waitpid) */
void deliver_local_result(void *slot, const char *out, size_t len, int wstatus);
/* in a forked child before exec: default signal handling, nothing blocked */
void deliver_child_signals(void);

/* qmgr_local.c, qmgr_remote.c: send recipient idx of m to a local worker, or
 * a batch of recipients idx[0..n) of m to a remote worker for destination d;
 * the worker reports to slot through deliver_local_result. Its pid, or -1.
 * Their worker pools: qmgr_pool.h */
pid_t qmgr_local_start(struct msg *m, size_t idx, void *slot);
pid_t qmgr_remote_start(struct msg *m, struct dest *d, const size_t *idx, size_t n, void *slot);

#endif
