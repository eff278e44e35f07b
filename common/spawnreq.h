/* spawnreq: the spawn channel between pochta-master and pochta-qmgr
 * (pochta-master(8), SPAWN CHANNEL). Started as root without instance_user,
 * the supervisor starts the delivery workers, each as its own user, for a
 * queue manager that runs as qmgr_user and could not. The channel is an
 * AF_UNIX SOCK_SEQPACKET socket, the manager's end on the descriptor named by
 * POCHTA_SPAWN_FD; one short text packet per request or reply:
 *     qmgr -> master   "local SEQ", "remote SEQ"   start a worker of that kind
 *                      "kill PID"                  SIGKILL that worker (a delivery
 *                                                  timeout), no reply
 *     master -> qmgr   "SEQ PID"                   with the manager's end of the
 *                                                  worker's socket (SCM_RIGHTS)
 *                      "SEQ 0"                     refused, no descriptor
 * SEQ is the manager's request number (1 to 4294967295), so a late reply is
 * never taken for the next request's; PID is 1 to INT_MAX. Numbers are
 * decimal without leading zeros; nothing else is accepted. */
#ifndef POCHTA_SPAWNREQ_H
#define POCHTA_SPAWNREQ_H
#include <stddef.h>

#define SPAWNREQ_MAX 32              /* longest packet either way */
#define SPAWNREQ_ENV "POCHTA_SPAWN_FD"

enum spawnreq_op { SPAWNREQ_LOCAL, SPAWNREQ_REMOTE, SPAWNREQ_KILL };

struct spawnreq {
	enum spawnreq_op op;
	unsigned long n;                 /* SEQ, or the PID for SPAWNREQ_KILL */
};

/* a request into buf (cap bytes); its length, or -1 (EINVAL: n out of range
 * or a bad op, or buf too small) */
int spawnreq_build(char *buf, size_t cap, enum spawnreq_op op, unsigned long n);
/* a request packet; 0, or -1 (EPROTO) when it is not exactly one of the forms */
int spawnreq_parse(const char *buf, size_t len, struct spawnreq *r);
/* a reply (pid 0: refused); its length, or -1 (EINVAL) */
int spawnreq_reply_build(char *buf, size_t cap, unsigned long seq, unsigned long pid);
/* a reply packet; 0, or -1 (EPROTO) */
int spawnreq_reply_parse(const char *buf, size_t len, unsigned long *seq, unsigned long *pid);

#endif
