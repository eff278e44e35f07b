/* libFuzzer harness: smtpreply_line on the lines of arbitrary server output
 * (split at LF, one CR before it dropped, as io_getline does), one reply after
 * another, and smtpreply_ehlo on each complete one. Checks what the parser
 * promises: codes in range, every line of a reply with that code, the bounds,
 * a status that is a valid enhanced code of the reply's class. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dsn.h"
#include "smtpreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct smtpreply *r, int rc)
{
	struct smtpreply_ehlo e;
	size_t n = strlen(r->status);

	if (r->code < 200 || r->code > 559 || r->nlines == 0 || r->nlines > SMTPREPLY_LINES_MAX)
		abort();
	if (r->done != (rc == 1) || r->text.len > SMTPREPLY_TEXT_MAX || r->text.len < 3)
		abort();
	if (n == 0 || dsn_status_len(r->status, n) != n || r->status[0] != '0' + r->code / 100)
		abort();
	if (r->text.s[0] != '0' + r->code / 100 || r->text.s[1] != '0' + r->code / 10 % 10 ||
	    r->text.s[2] != '0' + r->code % 10)
		abort();
	smtpreply_ehlo(r, &e);
	if (!rc && (e.pipelining || e.size || e.size_max))
		abort();
	if (e.size_max && !e.size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpreply r = SMTPREPLY_INIT;
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		int rc;

		if (len > 0 && p[len - 1] == '\r')
			len--;
		errno = 0;
		rc = smtpreply_line(&r, p, len);
		if (rc < 0) {
			if (errno != EPROTO)
				abort();
			smtpreply_reset(&r);
		} else {
			check(&r, rc);
			if (rc == 1)
				smtpreply_reset(&r);
		}
		p = nl ? nl + 1 : end;
	}
	smtpreply_free(&r);
	return 0;
}
