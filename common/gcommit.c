/* gcommit: group commit of a directory's fsync across processes.
 *
 * Why a sync may be skipped. A writer renames its file into the directory,
 * and only after rename() has returned takes ticket t (an atomic increment of
 * the shared counter). A syncer, holding the lock, reads the counter (T) and
 * only then starts fsync() of the directory: every rename whose ticket is
 * <= T had returned before T was read (the increment that produced it comes
 * after the rename in its writer, and the load that saw it synchronizes with
 * it), so the kernel had that rename in the directory when the fsync started,
 * and the fsync's success makes it durable. The syncer then publishes T as
 * covered. A writer that, under the lock, finds covered >= t owns a durable
 * rename without a sync of its own; any other writer syncs. covered is only
 * written under the lock, after a sync that began after T was read.
 *
 * In doubt, sync: a file that is missing or not ours, no lock, a counter
 * that wrapped (t == 0, or a stored value beyond the counter), all make the
 * writer run its own fsync (and, the lock held, publish its T: that is true
 * whatever the file said before). A sync that failed marks every ticket it
 * could have been meant for as failed (up to the counter once it returned):
 * the kernel reports a writeback error once, so a later sync's success
 * says nothing about those renames. Killed writers release the flock
 * with their descriptor; a ticket taken by a dead writer is just never asked
 * for. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "durable.h"
#include "gcommit.h"

#define GCOMMIT_MAGIC "pochtagc"
#define GCOMMIT_VERSION 1

/* the file's layout, native byte order: the queue is local to its host */
struct gcommit_shm {
	char magic[8];         /* GCOMMIT_MAGIC */
	uint32_t version;      /* GCOMMIT_VERSION */
	uint32_t size;         /* GCOMMIT_FILE_SIZE */
	atomic_ullong ticket;  /* tickets taken so far: the last one's number */
	atomic_ullong covered; /* every ticket up to this one is durable */
	atomic_ullong failed;  /* a failed sync was to cover tickets up to this one */
	char pad[GCOMMIT_FILE_SIZE - 40];
};

_Static_assert(sizeof(struct gcommit_shm) == GCOMMIT_FILE_SIZE, "commit file layout");
_Static_assert(offsetof(struct gcommit_shm, ticket) == 16, "commit file layout");
_Static_assert(sizeof(atomic_ullong) == 8, "64-bit counters");

static int gcommit_header_ok(const unsigned char *p)
{
	uint32_t v, n;

	memcpy(&v, p + offsetof(struct gcommit_shm, version), sizeof v);
	memcpy(&n, p + offsetof(struct gcommit_shm, size), sizeof n);
	return memcmp(p, GCOMMIT_MAGIC, 8) == 0 && v == GCOMMIT_VERSION && n == GCOMMIT_FILE_SIZE;
}

static int gcommit_stat_ok(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_size != GCOMMIT_FILE_SIZE) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void gcommit_init(struct gcommit *g)
{
	g->fd = -1;
	g->shm = NULL;
}

int gcommit_open(struct gcommit *g, const char *path)
{
	void *p;
	int fd, e;

	gcommit_init(g);
#if ATOMIC_LLONG_LOCK_FREE != 2
	/* counters behind a process-local lock would not be shared at all */
	(void)path;
	(void)p;
	(void)fd;
	(void)e;
	errno = ENOTSUP;
	return -1;
#else
	do
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	if (gcommit_stat_ok(fd) < 0)
		goto fail;
	p = mmap(NULL, GCOMMIT_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	if (!gcommit_header_ok(p) || !atomic_is_lock_free(&((struct gcommit_shm *)p)->ticket)) {
		munmap(p, GCOMMIT_FILE_SIZE);
		errno = EINVAL;
		goto fail;
	}
	g->fd = fd;
	g->shm = p;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
#endif
}

void gcommit_close(struct gcommit *g)
{
	if (g->shm)
		munmap(g->shm, GCOMMIT_FILE_SIZE);
	if (g->fd >= 0)
		close(g->fd);
	gcommit_init(g);
}

int gcommit_check(const char *path)
{
	unsigned char buf[GCOMMIT_FILE_SIZE];
	ssize_t n;
	int fd, e;

	do
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	if (gcommit_stat_ok(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	n = pread(fd, buf, sizeof buf, 0);
	e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	if (n != (ssize_t)sizeof buf || !gcommit_header_ok(buf)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* a new file's mode: 0660 in a setgid queue directory (separated users:
 * pochta-enqueue, setgid to the queue group, writes it), else 0600 (one
 * account runs the instance) */
static int gcommit_new_mode(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n == 0 || n >= sizeof dir)
		return 0600;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return stat(dir, &st) == 0 && (st.st_mode & S_ISGID) ? 0660 : 0600;
}

int gcommit_make(const char *path)
{
	unsigned char buf[GCOMMIT_FILE_SIZE];
	uint32_t v = GCOMMIT_VERSION, n = GCOMMIT_FILE_SIZE;
	struct stat st;
	int had;

	if (gcommit_check(path) == 0)
		return 0;
	if (errno != ENOENT && errno != EINVAL)
		return -1;
	had = errno == EINVAL;
	if (had && lstat(path, &st) < 0)
		return -1;
	memset(buf, 0, sizeof buf);
	memcpy(buf, GCOMMIT_MAGIC, 8);
	memcpy(buf + offsetof(struct gcommit_shm, version), &v, sizeof v);
	memcpy(buf + offsetof(struct gcommit_shm, size), &n, sizeof n);
	/* a rename, never a rewrite in place: a writer that still maps the old
	 * file keeps a consistent (if unshared) state */
	if (durable_replace(path, buf, sizeof buf, had ? (int)(st.st_mode & 07777) : gcommit_new_mode(path)) < 0)
		return -1;
	if (had && lchown(path, st.st_uid, st.st_gid) < 0)
		return -1;
	return 1;
}

static int gcommit_flock(int fd, int op)
{
	int r;

	do
		r = flock(fd, op);
	while (r < 0 && errno == EINTR);
	return r;
}

unsigned long long gcommit_take(struct gcommit *g)
{
	if (!g->shm)
		return 0;
	/* after the rename: see the top of the file */
	return atomic_fetch_add(&g->shm->ticket, 1) + 1;
}

int gcommit_cover(struct gcommit *g, unsigned long long t, int (*sync)(const char *dir),
                  const char *dir)
{
	struct gcommit_shm *s = g->shm;
	unsigned long long c, f, n, T;
	int r, e;

	if (!s || gcommit_flock(g->fd, LOCK_EX) < 0)
		return sync(dir);
	c = atomic_load(&s->covered);
	f = atomic_load(&s->failed);
	n = atomic_load(&s->ticket);
	/* covered and failed were stored from the counter, which only grows:
	 * loaded before it, they can never exceed it unless it wrapped or the
	 * file was damaged */
	if (t != 0 && t <= n && c <= n && f <= n) {
		if (t <= f || t <= c) {
			gcommit_flock(g->fd, LOCK_UN);
			if (t <= f) {
				errno = EIO;
				return -1;
			}
			return 0;
		}
	}
	T = atomic_load(&s->ticket);
	r = sync(dir);
	e = errno;
	if (r == 0) {
		atomic_store(&s->covered, T);
		if (f > T) /* a value beyond the counter: nothing it said holds */
			atomic_store(&s->failed, 0);
	} else {
		atomic_store(&s->failed, atomic_load(&s->ticket));
	}
	gcommit_flock(g->fd, LOCK_UN);
	errno = e;
	return r;
}

int gcommit_sync(struct gcommit *g, int (*sync)(const char *dir), const char *dir)
{
	return gcommit_cover(g, gcommit_take(g), sync, dir);
}

int gcommit_dirsync(const char *dir, void *g)
{
	return gcommit_sync(g, durable_fsync_dir, dir);
}
