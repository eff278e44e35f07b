/* gcommit: group commit of one directory's fsync across independent processes
 * (pochta-enqueue's sessions and incoming/, man/pochta-queue.5). A small
 * shared file, QUEUE/commit, mapped by every writer, holds a ticket counter
 * and the highest ticket a completed sync covered; an flock on it orders the
 * syncs. A writer that takes its ticket after its rename returned, and finds
 * it covered, has its rename on disk without a sync of its own.
 * Whenever the file cannot be trusted the writer syncs itself.
 * Results: 0 success, -1 failure with errno set. */
#ifndef POCHTA_GCOMMIT_H
#define POCHTA_GCOMMIT_H

#define GCOMMIT_FILE_SIZE 64 /* the whole file, header and counters */

struct gcommit_shm;

struct gcommit {
	int fd;                  /* the shared file, -1 when not open */
	struct gcommit_shm *shm; /* its mapping, NULL when not open: every sync is one's own */
};

/* not open (fd -1): gcommit_sync then just syncs */
void gcommit_init(struct gcommit *g);
/* open and map path; -1 with EINVAL when it is not a valid commit file (short,
 * long, wrong magic or version), ENOTSUP when this build has no lock-free
 * 64-bit atomics. g stays usable (not open) on failure. */
int gcommit_open(struct gcommit *g, const char *path);
void gcommit_close(struct gcommit *g);
/* 0 when path is a valid commit file; -1 with ENOENT, EINVAL (not valid) or
 * another errno */
int gcommit_check(const char *path);
/* create path (mode 0600) when missing, rewrite it when not valid (keeping its
 * owner and mode); 0 when it was valid, 1 when created or rewritten, -1 */
int gcommit_make(const char *path);

/* after the rename it is to cover has returned: a ticket (0: none, the
 * counter wrapped; gcommit_cover then syncs) */
unsigned long long gcommit_take(struct gcommit *g);
/* make ticket t durable: 0 when a sync that started after t was taken has
 * completed (someone else's, or sync(dir) run now, under the lock); -1 with
 * sync's errno when it failed, or EIO when a failed sync was to cover t */
int gcommit_cover(struct gcommit *g, unsigned long long t, int (*sync)(const char *dir),
                  const char *dir);
/* gcommit_take then gcommit_cover */
int gcommit_sync(struct gcommit *g, int (*sync)(const char *dir), const char *dir);
/* for durable_commit_via: gcommit_sync(g, durable_fsync_dir, dir) */
int gcommit_dirsync(const char *dir, void *g);

#endif
