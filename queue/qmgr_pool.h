/* qmgr_pool: a pool of long-lived delivery workers of pochta-qmgr, each on its
 * own AF_UNIX packet socket (common/lreq.h); qmgr_local.c and qmgr_remote.c
 * hold one each, with what is particular to their kind. */
#ifndef POCHTA_QMGR_POOL_H
#define POCHTA_QMGR_POOL_H
#include <poll.h>
#include <stddef.h>
#include <sys/types.h>
#include "qmgr.h"
#include "rreq.h"
#include "spawnreq.h"

struct qmgr_worker {
	pid_t pid;                 /* 0: free entry */
	int sock;                  /* -1: died or retired, waits to be reaped */
	unsigned long uses;
	long long idle_since;
	void *slot;                /* the delivery it works on; NULL: idle */
	char kept[RREQ_DOMAIN_MAX + 1]; /* remote: the domain of its kept connection, "" none */
	long long kept_until;
};

struct qmgr_pool {
	const char *kind;          /* "local", "remote": in log lines */
	const char *prog;          /* the worker program, run as PROG -w */
	enum spawnreq_op spawn_op; /* its kind on the spawn channel */
	const char *unit;          /* what a worker's uses are, in log lines */
	size_t reply_max;          /* longest reply packet */
	int sndbuf;                /* SO_SNDBUF of both socket ends; 0: the default */
	/* a retired worker, or an idle one whose socket ended, keeps its entry
	 * until it is reaped; else it is forgotten at once (reaped as an
	 * unknown child) */
	int keep_dead;
	/* a reply came for w's request, before it is reported (NULL: nothing) */
	void (*reply)(struct qmgr_worker *w, const char *buf, size_t len);
	struct qmgr_worker *w;     /* the table: max alive, the rest for dead ones */
	size_t max;
	char *buf;                 /* a reply */
};

extern struct qmgr_pool qmgr_local_pool, qmgr_remote_pool;

/* take the spawn channel pochta-master gave us (POCHTA_SPAWN_FD), if any:
 * workers are then asked of it, never forked here; dies when the variable
 * names no such socket */
void qmgr_pool_channel(void);
/* SIGKILL a worker (a delivery timeout): ours, and reaped when wait; the
 * supervisor's, asked of it (its socket then reports EOF) */
void qmgr_pool_kill(pid_t pid, int wait);
/* at most max workers alive at once (one per delivery slot); 0 or -1 */
int qmgr_pool_init(struct qmgr_pool *p, size_t max);
/* send req (freed) with m's message attached to a worker: the idle one with a
 * connection to domain (NULL: none), else as pick() in qmgr_pool.c says. The worker
 * reports to slot through deliver_local_result. Its pid, or -1 */
pid_t qmgr_pool_send(struct qmgr_pool *p, struct msg *m, sa_t *req, const char *domain,
                     void *slot);
size_t qmgr_pool_pollfds(struct qmgr_pool *p, struct pollfd *pfd, size_t max);
/* fd had an event: 1 when it is a worker's socket (read then), else 0 */
int qmgr_pool_event(struct qmgr_pool *p, int fd);
/* a reaped child: 1 when it was a worker (a request it had fails), else 0 */
int qmgr_pool_reaped(struct qmgr_pool *p, pid_t pid, int st);
/* stop workers idle for worker_idle_timeout; ms until the next (-1: none) */
long long qmgr_pool_timeouts(struct qmgr_pool *p);
/* close every worker's socket and wait for them (SIGKILL after QMGR_STOP_WAIT s) */
void qmgr_pool_stop_all(struct qmgr_pool *p);
void qmgr_pool_free(struct qmgr_pool *p);

#endif
