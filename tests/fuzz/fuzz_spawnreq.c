/* libFuzzer harness: the spawn channel's parsers (pochta-master reads what a
 * queue manager running as qmgr_user sends). What they accept is built again
 * and parses to the same request or reply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "spawnreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[SPAWNREQ_MAX];
	struct spawnreq r, back;
	unsigned long seq, pid, seq2, pid2;
	int len;

	if (spawnreq_parse((const char *)data, size, &r) == 0) {
		len = spawnreq_build(buf, sizeof buf, r.op, r.n);
		if (len < 0 || (size_t)len != size || memcmp(buf, data, size) != 0 ||
		    spawnreq_parse(buf, (size_t)len, &back) < 0 || back.op != r.op || back.n != r.n)
			abort();
	}
	if (spawnreq_reply_parse((const char *)data, size, &seq, &pid) == 0) {
		len = spawnreq_reply_build(buf, sizeof buf, seq, pid);
		if (len < 0 || (size_t)len != size || memcmp(buf, data, size) != 0 ||
		    spawnreq_reply_parse(buf, (size_t)len, &seq2, &pid2) < 0 || seq2 != seq || pid2 != pid)
			abort();
	}
	return 0;
}
