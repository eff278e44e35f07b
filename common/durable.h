/* durable: the write-fsync-rename-fsync(dir) sequence every commit point uses.
 * Results: 0 success, -1 failure with errno set. */
#ifndef POCHTA_DURABLE_H
#define POCHTA_DURABLE_H
#include <stddef.h>

int durable_fsync_dir(const char *dir);
/* fsync(fd), rename(from, to), fsync(directory of to). fd stays open. */
int durable_commit(int fd, const char *from, const char *to);
/* replace path's contents atomically: write dir/.name.tmp.PID, fsync, rename, fsync dir.
 * mode applies to the new file. */
int durable_replace(const char *path, const void *data, size_t len, int mode);

#endif
