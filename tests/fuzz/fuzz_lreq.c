/* libFuzzer harness: lreq_parse on arbitrary packets; what it accepts is built
 * again by lreq_build and parses to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lreq r, back;
	sa_t s = SA_INIT;

	if (lreq_parse((const char *)data, size, &r) < 0)
		return 0;
	if (!r.rcpt[0] || strlen(r.sender) > LREQ_ADDR_MAX || strlen(r.rcpt) > LREQ_ADDR_MAX ||
	    strlen(r.body) >= sizeof r.body)
		abort();
	if (lreq_build(&s, r.qid, r.sender, r.body, r.rcpt) < 0 || s.len > LREQ_MAX ||
	    lreq_parse(s.s, s.len, &back) < 0 || memcmp(&r, &back, sizeof r) != 0)
		abort();
	sa_free(&s);
	return 0;
}
