/* fileread: a whole, bounded regular file into memory; the one reader of the
 * tables and configuration files (users, passwd, aliases, .forward,
 * :include: lists, pochta.conf for pochtactl). */
#ifndef POCHTA_FILEREAD_H
#define POCHTA_FILEREAD_H
#include <stddef.h>
#include <sys/stat.h>
#include "sa.h"

/* read the regular file path, at most max bytes, into out (replacing it,
 * NUL-terminated); its stat in st (may be NULL). flags are added to
 * open(2)'s O_RDONLY|O_CLOEXEC|O_NOCTTY (O_NOFOLLOW, O_NONBLOCK for a file
 * that could be a FIFO). 0, or -1 with errno: ENOENT missing, EFBIG larger
 * than max (also when it grew past max while read), EINVAL not a regular
 * file, or open's or read's. */
int file_read_all(const char *path, size_t max, int flags, sa_t *out, struct stat *st);

#endif
