/* qdir: the queue directory layout (man/pochta-queue.5).
 *   QUEUE/tmp/       pochta-enqueue writes new queue files here
 *   QUEUE/incoming/  committed, not yet seen by pochta-qmgr (the commit point is
 *                    the rename tmp/ -> incoming/ plus fsync of incoming/)
 *   QUEUE/mess/      queue files pochta-qmgr has taken in
 *   QUEUE/state/     per-recipient state journals, QUEUE/state/QID (fsync'd appends)
 *   QUEUE/hold/      held queue files (pochtactl queue hold)
 *   QUEUE/trigger    FIFO: one byte wakes pochta-qmgr (its meaning: QDIR_WAKE_*)
 *   QUEUE/commit     pochta-enqueue's shared fsync of incoming/ (common/gcommit.h) */
#ifndef POCHTA_QDIR_H
#define POCHTA_QDIR_H

#define QDIR_WAKE_NEW 'n'    /* something arrived in incoming/ */
#define QDIR_WAKE_FLUSH 'f'  /* retry every deferred recipient now */
#define QDIR_WAKE_RESCAN 'r' /* rescan mess/ and hold/ (after hold/release/delete) */

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

#endif
