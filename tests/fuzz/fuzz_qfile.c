/* libFuzzer harness: qfile_read on arbitrary bytes. Either it refuses them
 * (errno EPROTO, nothing left allocated) or the envelope it returns is valid,
 * the message offset lies inside the input, and writing that envelope again
 * with qfile_write_env and reading it back gives the same envelope. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "qfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_with(const void *p, size_t n)
{
	int fd = memfd_create("fuzz_qfile", MFD_CLOEXEC);

	if (fd < 0 || (n && fd_write_all(fd, p, n) < 0) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static int sa_same(const sa_t *a, const sa_t *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

static int text_ok(const sa_t *s)
{
	for (size_t i = 0; i < s->len; i++)
		if ((unsigned char)s->s[i] < 0x20 || s->s[i] == 0x7f)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qfile q, again;
	sa_t err = SA_INIT;
	char obuf[512];
	io_t out;
	int fd = memfd_with(data, size), fd2;

	if (qfile_read(fd, &q, &err) < 0) {
		if (errno != EPROTO || err.len == 0 || q.rcpt != NULL || q.nrcpt != 0)
			abort();
		close(fd);
		sa_free(&err);
		return 0;
	}
	/* the message starts inside the input, and the offset is left there */
	if (q.msg_off > size || q.msg_size != size - q.msg_off ||
	    lseek(fd, 0, SEEK_CUR) != (off_t)q.msg_off || data[q.msg_off - 1] != '\n')
		abort();
	if (q.nrcpt == 0 || !qid_valid(q.qid) || q.arrival < 0)
		abort();
	if (!text_ok(&q.sender) || !text_ok(&q.body) || !text_ok(&q.proto) ||
	    !text_ok(&q.helo) || !text_ok(&q.client))
		abort();
	for (size_t i = 0; i < q.nrcpt; i++)
		if (q.rcpt[i].len == 0 || !text_ok(&q.rcpt[i]))
			abort();
	close(fd);

	/* written again, it reads back the same */
	fd2 = memfd_create("fuzz_qfile2", MFD_CLOEXEC);
	if (fd2 < 0)
		abort();
	io_init(&out, fd2, obuf, sizeof obuf, -1);
	if (qfile_write_env(&out, &q) < 0 || io_flush(&out) < 0 || lseek(fd2, 0, SEEK_SET) != 0)
		abort();
	if (qfile_read(fd2, &again, &err) < 0)
		abort();
	if (strcmp(q.qid, again.qid) != 0 || q.arrival != again.arrival ||
	    !sa_same(&q.sender, &again.sender) || !sa_same(&q.body, &again.body) ||
	    !sa_same(&q.proto, &again.proto) || !sa_same(&q.helo, &again.helo) ||
	    !sa_same(&q.client, &again.client) || q.nrcpt != again.nrcpt || again.msg_size != 0)
		abort();
	for (size_t i = 0; i < q.nrcpt; i++)
		if (!sa_same(&q.rcpt[i], &again.rcpt[i]))
			abort();
	close(fd2);
	qfile_free(&q);
	qfile_free(&again);
	sa_free(&err);
	return 0;
}
