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
#define QMGR_DELIVERY_TIMEOUT 3600   /* seconds before a hung delivery is killed */
#define QMGR_STOP_WAIT 10            /* seconds SIGTERM waits for running deliveries */
#define QMGR_SCAN_INTERVAL 60        /* safety rescan of incoming/ (a lost trigger byte) */
#define QMGR_TMP_MAX_AGE (36 * 3600) /* stale files in tmp/ are removed after this */

enum rcpt_status { R_PENDING, R_RUNNING, R_DEFERRED, R_SENT, R_FAILED };

struct rcpt {
	char *addr;
	unsigned char status;      /* enum rcpt_status */
	unsigned char local;       /* delivered by pochta-local; else remote */
	unsigned char dirty;       /* result known but not yet in the journal */
	unsigned attempts;         /* failed attempts so far */
	long long when;            /* time of the last attempt */
	long long next;            /* R_DEFERRED: time of the next attempt */
	char dsn[16];              /* last result's status code (while dirty) */
	char *text;                /* last result's text (while dirty) */
};

struct msg {
	char qid[QID_LEN + 1];
	long long arrival;         /* T record */
	double t0;                 /* queue file mtime: for delay= */
	char *sender;
	unsigned long long msg_off;
	size_t nrcpt, nfinal, nactive, ndirty;  /* nactive: R_PENDING + R_RUNNING */
	struct rcpt *rcpt;
	int journaled;             /* state/QID exists */
	int mark;                  /* rescan bookkeeping */
	struct msg *hnext;
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
/* reread mess/: drop entries that left, load ones that came */
void msg_rescan(void);
/* startup: tmp/ cleanup, mess/, incoming/, orphan state files */
void msg_startup(void);
/* every recipient final: unlink mess/QID (and state/QID), free */
void msg_remove(struct msg *m);
/* write the unjournaled results of m to state/QID (one fdatasync) */
int msg_journal(struct msg *m);
/* journal every message with unjournaled results (at exit) */
void msg_journal_all(void);
void msg_free_all(void);
/* a ready-made path: QUEUE/sub/qid in a static buffer */
const char *msg_path(const char *sub, const char *qid);

/* qmgr_sched.c: ready queue, retry heap, results */
void sched_ready(struct msg *m, size_t idx);
void sched_defer(struct msg *m, size_t idx);
/* forget every queued job of m (it is being dropped) */
void sched_forget(struct msg *m);
/* start ready jobs while delivery slots are free */
void sched_run(void);
/* move due retries to the ready queue; ms until the next one (-1: none) */
long long sched_due(void);
/* every deferred recipient is retried now */
void sched_flush(void);
/* a delivery ended: class 'D', 'T' or 'P' (dresult.h) */
void sched_result(struct msg *m, size_t idx, int class, const char *status, const char *text);
void sched_free(void);

/* qmgr_deliver.c: the delivery launch interface. Today one fork+exec of
 * pochta-local per recipient; long-lived workers can replace this file. */
int deliver_init(size_t slots);
size_t deliver_free_slots(void);
size_t deliver_running(void);
/* start delivering recipient idx of m: 0, or -1 (the caller records a temporary failure) */
int deliver_start(struct msg *m, size_t idx);
/* fill pollfds (at most max); returns the count */
size_t deliver_pollfds(struct pollfd *p, size_t max);
/* after poll: read the pipes, reap children, report ended deliveries */
void deliver_events(struct pollfd *p, size_t n);
/* SIGCHLD arrived: reap */
void deliver_reap(void);
/* kill deliveries past their time limit; ms until the next limit (-1: none) */
long long deliver_timeouts(void);
/* m is being dropped: its running deliveries report nothing */
void deliver_forget(struct msg *m);
/* SIGKILL every running delivery and wait for it (results are lost: at-least-once) */
void deliver_kill_all(void);
void deliver_free(void);

#endif
