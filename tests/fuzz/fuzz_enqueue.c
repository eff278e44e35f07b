/* libFuzzer harness: the pochta-enqueue stream parser (enqproto.h) fed the
 * records of arbitrary bytes, with a model of pochta-enqueue around it.
 * Properties: it asks only for what the state allows (data written only to an
 * open message with a complete envelope, a refusal logged once, replies only
 * with a 4xx/5xx record type); the size limit holds; and every envelope it
 * commits is one that qfile_read (the queue manager's reader) accepts and reads
 * back the same (N and O, the DSN parameters, too). A D record starting with '!' plays a failed write. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "enqproto.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIZE_MAX_FUZZ 300

static int sa_same(const sa_t *a, const sa_t *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

static void commit_check(const struct enqp *p)
{
	struct qfile r;
	char obuf[256];
	io_t out;
	sa_t err = SA_INIT;
	int fd = memfd_create("fuzz_enqueue", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (p->q.nrcpt == 0)
		abort();
	for (size_t i = 0; i < p->q.nrcpt && i < 1000; i++)
		for (size_t j = 0; j < i; j++)
			if (sa_same(&p->q.rcpt[i], &p->q.rcpt[j]))
				abort();
	io_init(&out, fd, obuf, sizeof obuf, -1);
	if (qfile_write_env(&out, &p->q) < 0 || io_flush(&out) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (qfile_read(fd, &r, &err) < 0)
		abort(); /* enqueue accepted what the queue manager would refuse */
	if (strcmp(r.qid, p->q.qid) != 0 || !sa_same(&r.sender, &p->q.sender) ||
	    !sa_same(&r.body, &p->q.body) || !sa_same(&r.proto, &p->q.proto) ||
	    !sa_same(&r.helo, &p->q.helo) || !sa_same(&r.client, &p->q.client) ||
	    r.nrcpt != p->q.nrcpt || !sa_same(&r.dsn, &p->q.dsn))
		abort();
	for (size_t i = 0; i < r.nrcpt; i++)
		if (!sa_same(&r.rcpt[i], &p->q.rcpt[i]) || !sa_same(&r.rcpt_dsn[i], &p->q.rcpt_dsn[i]))
			abort();
	qfile_free(&r);
	sa_free(&err);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct enqp p;
	size_t pos = 0, dlen;
	const char *d;
	int type, open = 0, wrote_env = 0;
	unsigned long long written = 0;

	enqp_init(&p, SIZE_MAX_FUZZ);
	while (rec_next(buf, size, &pos, &type, &d, &dlen) == 1) {
		int before = p.st;
		int a = enqp_record(&p, type, d, dlen);
		if (a & ~(ENQP_DROP | ENQP_LOG | ENQP_OPEN | ENQP_WRITE | ENQP_COMMIT | ENQP_REPLY))
			abort();
		if (a & ENQP_DROP)
			open = 0;
		if ((a & ENQP_LOG) && (before == ENQP_BAD || before == ENQP_IDLE ||
		                       (p.st != ENQP_BAD && !(a & ENQP_REPLY))))
			abort();
		if (a & ENQP_OPEN) {
			if (type != ENQ_BEGIN || p.st != ENQP_ENV || p.q.nrcpt != 0 || p.size != 0)
				abort();
			memcpy(p.q.qid, "0123456789ABCDEFGHIJKLMN", QID_LEN + 1);
			p.q.arrival = 1700000000;
			/* one message in five cannot be opened */
			if (pos % 5 == 0) {
				enqp_idle(&p);
			} else {
				open = 1;
				wrote_env = 0;
				written = 0;
			}
		}
		if (a & ENQP_WRITE) {
			if (!open || p.st != ENQP_DATA || type != ENQ_DATA || p.q.nrcpt == 0)
				abort();
			if (!wrote_env) {
				commit_check(&p); /* the envelope as it would be written */
				wrote_env = 1;
			}
			written += dlen;
			if (written != p.size || written > SIZE_MAX_FUZZ)
				abort();
			if (dlen && d[0] == '!') {
				int f = enqp_fail(&p, ENQ_R_TEMP, "4.3.0 write error");
				if (f != (ENQP_DROP | ENQP_LOG) || p.st != ENQP_BAD)
					abort();
				open = 0;
			}
		}
		if (a & ENQP_COMMIT) {
			if (!open || type != ENQ_END || p.st != ENQP_IDLE || (a & ~ENQP_COMMIT))
				abort();
			commit_check(&p);
			open = 0;
		}
		if (a & ENQP_REPLY) {
			if (type != ENQ_END || p.st != ENQP_IDLE ||
			    (p.fail_type != ENQ_R_TEMP && p.fail_type != ENQ_R_PERM) ||
			    (p.fail_text.s && p.fail_text.s[0] != (p.fail_type == ENQ_R_TEMP ? '4' : '5')))
				abort();
			open = 0;
		}
		if (p.st == ENQP_BAD && open)
			abort(); /* a refused message must have been dropped */
		if (p.st == ENQP_IDLE && open)
			abort();
	}
	enqp_free(&p);
	return 0;
}
