/* libFuzzer harness: the state journal. The first byte is a record type, the
 * rest the data of one record: qstate_parse either refuses it (EPROTO) or gives
 * a record that qstate_format writes back and that parses to the same thing.
 * Then the whole input as a journal file: qstate_load calls back only for
 * records that parse alone, and its well-formed prefix ends on a record
 * boundary within the file. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "qstate.h"
#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct qstate_rec *a, const struct qstate_rec *b)
{
	return a->type == b->type && a->index == b->index && a->when == b->when &&
	       a->attempts == b->attempts && a->next == b->next &&
	       strcmp(a->status, b->status) == 0 && a->textlen == b->textlen &&
	       memcmp(a->text, b->text, a->textlen) == 0;
}

struct loaded {
	const char *buf;
	size_t len, pos;   /* where the next record must start */
};

/* every record handed out is the next record of the file, and parses alone */
static int check_one(const struct qstate_rec *r, void *arg)
{
	struct loaded *l = arg;
	const char *d;
	size_t dlen;
	int type;
	struct qstate_rec again;

	if (rec_next(l->buf, l->len, &l->pos, &type, &d, &dlen) != 1)
		abort();
	if (qstate_parse(type, d, dlen, &again) < 0 || !same(r, &again))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct qstate_rec r, back;
	struct loaded l;
	sa_t out = SA_INIT;
	const char *d;
	size_t dlen, pos = 0;
	off_t good, fsize;
	int type;

	if (size == 0)
		return 0;
	if (qstate_parse(data[0], (const char *)data + 1, size - 1, &r) == 0) {
		if (r.textlen > QSTATE_TEXT_MAX || r.when < 0 || r.next < 0 ||
		    (r.type != QSTATE_DEFERRED && r.next != 0))
			abort();
		if (qstate_format(&out, &r) < 0)
			abort();
		if (rec_next(out.s, out.len, &pos, &type, &d, &dlen) != 1 || pos != out.len ||
		    dlen > QSTATE_REC_MAX || qstate_parse(type, d, dlen, &back) < 0 || !same(&r, &back))
			abort();
	} else if (errno != EPROTO) {
		abort();
	}
	sa_free(&out);

	if (!path[0])
		snprintf(path, sizeof path, "/dev/shm/fuzz_qstate.%ld", (long)getpid());
	FILE *f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	l.buf = (const char *)data;
	l.len = size;
	l.pos = 0;
	if (qstate_load(path, check_one, &l, &good, &fsize) < 0)
		abort();
	if (fsize != (off_t)size || good != (off_t)l.pos || good > fsize)
		abort();
	unlink(path);
	return 0;
}
