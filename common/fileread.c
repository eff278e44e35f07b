#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "fileread.h"

int file_read_all(const char *path, size_t max, int flags, sa_t *out, struct stat *stp)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | flags), e;

	sa_trunc(out, 0);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (st.st_size > (off_t)max) {
		errno = EFBIG;
		goto fail;
	}
	for (;;) {
		ssize_t r;
		if (sa_ready(out, 65536) < 0)
			goto fail;
		r = read(fd, out->s + out->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->s[out->len] = '\0';
		if (out->len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (sa_ready(out, 0) < 0)
		goto fail;
	out->s[out->len] = '\0';
	if (stp)
		*stp = st;
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
