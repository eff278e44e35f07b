/* qdir: the queue directory layout (man/pochta-queue.5).
 *   QUEUE/tmp/       pochta-enqueue writes new queue files here
 *   QUEUE/incoming/  committed, not yet seen by pochta-qmgr (the commit point is
 *                    the rename tmp/ -> incoming/ plus fsync of incoming/)
 *   QUEUE/mess/      queue files pochta-qmgr has taken in
 *   QUEUE/state/     per-recipient state journals, QUEUE/state/QID (fsync'd appends)
 *   QUEUE/hold/      held queue files (pochtactl queue hold)
 *   QUEUE/trigger    FIFO: one byte wakes pochta-qmgr (its meaning: QDIR_WAKE_*),
 *                    or a 'd' record names a domain to flush
 *   QUEUE/commit     pochta-enqueue's shared fsync of incoming/ (common/gcommit.h) */
#ifndef POCHTA_QDIR_H
#define POCHTA_QDIR_H
#include <stddef.h>

#define QDIR_WAKE_NEW 'n'    /* something arrived in incoming/ */
#define QDIR_WAKE_FLUSH 'f'  /* retry every deferred recipient now */
#define QDIR_WAKE_RESCAN 'r' /* rescan mess/ and hold/ (after hold/release/delete) */
/* 'd' DOMAIN '\n': retry now the deferred recipients at DOMAIN only (queue flush DOMAIN) */
#define QDIR_WAKE_DOMAIN 'd'
#define QDIR_DOMAIN_MAX 255

/* create QUEUE and every subdirectory, the FIFO and the commit file (existing
 * ones are fine; a commit file that is not valid is rewritten),
 * mode 0700 for directories (0750 / setgid group in installed mode, later); 0 or -1 */
int qdir_make(const char *queuedir);
/* wake pochta-qmgr: non-blocking write of one byte to QUEUE/trigger; a manager
 * that is not running is not an error (it scans everything when it starts).
 * 0, or -1 only for unexpected errors */
int qdir_trigger(const char *queuedir, char what);
/* the same for a caller that must know the manager heard it: 0, or -1 with
 * errno (ENXIO: no pochta-qmgr is running; ENOENT: no FIFO; EACCES ...) */
int qdir_wake(const char *queuedir, char what);
/* the same for one domain: a 'd' record, written whole (it waits up to about
 * two seconds when the FIFO is full); EINVAL when !qdir_domain_ok */
int qdir_wake_domain(const char *queuedir, const char *domain);
/* 1 when s[0..len) may be sent in a 'd' record: 1 to QDIR_DOMAIN_MAX bytes of
 * letters, digits and "-._:[]" (a host name or an address literal) */
int qdir_domain_ok(const char *s, size_t len);

/* The reader's side of the FIFO: bytes in any chunks, records split anywhere */
struct qdir_trig {
	int in_domain;   /* inside a 'd' record */
	int bad;         /* ... that is not a valid domain (dropped at its '\n') */
	size_t len;
	char domain[QDIR_DOMAIN_MAX + 1];
};
#define QDIR_TRIG_INIT { 0, 0, 0, { 0 } }
/* calls fn(what, domain, arg) for each wake-up in buf[0..n): what is
 * QDIR_WAKE_FLUSH, _RESCAN, _NEW (also for unknown bytes), or _DOMAIN with the
 * domain, or with NULL for a record that was not a valid domain */
void qdir_trig_feed(struct qdir_trig *t, const char *buf, size_t n,
                    void (*fn)(char what, const char *domain, void *arg), void *arg);

#endif
