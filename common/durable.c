/* durable: fsync data, rename into place, fsync the directory (the commit point). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "durable.h"
#include "io.h"

int durable_fsync_dir(const char *dir)
{
	int fd, r, e;

	do
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r < 0 ? -1 : 0;
}

/* the directory part of path into dir ("." when none); 0 or -1 ENAMETOOLONG */
static int durable_dirname(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash) {
		snprintf(dir, cap, ".");
		return 0;
	}
	n = slash == path ? 1 : (size_t)(slash - path); /* "/x" -> "/" */
	if (n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int durable_commit_via(int fd, const char *from, const char *to,
                       int (*dirsync)(const char *dir, void *arg), void *arg)
{
	char dir[PATH_MAX];

	if (durable_dirname(to, dir, sizeof dir) < 0)
		return -1;
	if (fsync(fd) < 0)
		return -1;
	if (rename(from, to) < 0)
		return -1;
	return dirsync ? dirsync(dir, arg) : durable_fsync_dir(dir);
}

int durable_commit(int fd, const char *from, const char *to)
{
	return durable_commit_via(fd, from, to, NULL, NULL);
}

int durable_replace(const char *path, const void *data, size_t len, int mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base = strrchr(path, '/');
	int fd, n, e;

	base = base ? base + 1 : path;
	if (*base == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (durable_dirname(path, dir, sizeof dir) < 0)
		return -1;
	n = snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_NOFOLLOW: never write through a planted symlink; a stale file of a
	 * dead process with our pid is simply overwritten */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, (mode_t)mode) < 0 || fd_write_all(fd, data, len) < 0 ||
	    durable_commit(fd, tmp, path) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	return 0;
}
