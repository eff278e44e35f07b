/* durable: the write-fsync-rename-fsync(dir) sequence every commit point uses.
 * Results: 0 success, -1 failure with errno set. */
#ifndef POCHTA_DURABLE_H
#define POCHTA_DURABLE_H
#include <stddef.h>

int durable_fsync_dir(const char *dir);
/* fsync(fd), rename(from, to), fsync(directory of to). fd stays open. */
int durable_commit(int fd, const char *from, const char *to);
/* the same, with dirsync(directory of to, arg) in place of the fsync of the
 * directory (a shared one: common/gcommit.h); NULL: durable_fsync_dir */
int durable_commit_via(int fd, const char *from, const char *to,
                       int (*dirsync)(const char *dir, void *arg), void *arg);
/* replace path's contents atomically: write dir/.name.tmp.PID, fsync, rename, fsync dir.
 * mode applies to the new file. */
int durable_replace(const char *path, const void *data, size_t len, int mode);

#endif
