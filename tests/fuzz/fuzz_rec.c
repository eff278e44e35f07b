/* libFuzzer harness: rec_next (memory) and rec_get (stream) on the same bytes
 * must agree record for record. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t pos = 0, dlen;
	const char *d;
	int type, r, gtype, g;
	char ib[7]; /* odd and tiny: records span many fills */
	io_t in;
	sa_t got = SA_INIT;
	int fd = memfd_create("fuzz_rec", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && fd_write_all(fd, data, size) < 0)
		abort();
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	io_init(&in, fd, ib, sizeof ib, -1);
	for (;;) {
		size_t before = pos;
		r = rec_next(buf, size, &pos, &type, &d, &dlen);
		g = rec_get(&in, &gtype, &got, SA_MAX);
		if (r == 1) {
			/* the record lies inside the input, pos moved past it */
			if (pos <= before || pos > size || d < buf + before || d + dlen != buf + pos - 1 ||
			    type < 0 || type > 255 || buf[pos - 1] != '\n')
				abort();
			if (g != IO_OK || gtype != type || got.len != dlen ||
			    memcmp(got.s, d, dlen) != 0 || got.s[got.len] != '\0')
				abort();
			if (in.pos != pos)
				abort();
			/* writing it again gives the same bytes */
			sa_t again = SA_INIT;
			if (rec_cat(&again, type, d, dlen) < 0 || again.len != pos - before ||
			    memcmp(again.s, buf + before, again.len) != 0)
				abort();
			sa_free(&again);
			continue;
		}
		if (r == 0 && g != IO_EOF)
			abort();
		/* E2BIG: a length over SA_MAX, which rec_next calls truncated */
		if (r < 0 && (g != IO_ERR || (errno != EPROTO && errno != E2BIG) || pos != before))
			abort();
		break;
	}
	sa_free(&got);
	close(fd);
	return 0;
}
