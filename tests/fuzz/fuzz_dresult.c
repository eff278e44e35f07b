/* libFuzzer harness: dresult_parse on arbitrary record data; what it accepts
 * is written again by dresult_put to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dresult.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dresult r;
	char buf[4096], back[4096];
	io_t out;
	const char *d;
	size_t pos = 0, dlen;
	int type, fd;
	ssize_t n;

	memset(&r, 0, sizeof r);
	if (dresult_parse((const char *)data, size, &r) == 0) {
		if (r.class != 'D' && r.class != 'T' && r.class != 'P')
			abort();
		fd = memfd_create("fuzz_dresult", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		io_init(&out, fd, buf, sizeof buf, -1);
		if (dresult_put(&out, r.index, r.class, r.status, r.text.s) < 0 || io_flush(&out) < 0)
			abort();
		n = pread(fd, back, sizeof back, 0);
		if (n <= 0 || rec_next(back, (size_t)n, &pos, &type, &d, &dlen) != 1 || type != DRESULT_REC)
			abort();
		/* "1 D 2.0.0" and "1 D 2.0.0 " both mean an empty text */
		if (!(dlen == size || (dlen == size + 1 && d[dlen - 1] == ' ')) || memcmp(d, data, size) != 0)
			abort();
		close(fd);
	}
	sa_free(&r.text);
	return 0;
}
