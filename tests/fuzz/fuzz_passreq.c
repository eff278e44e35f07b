/* libFuzzer harness: passreq_parse on arbitrary bytes; what it accepts has a
 * valid mailbox name (NAME or NAME@DOMAIN) and a password of
 * 1..USER_PASS_MAX bytes without NUL, and is built again by passreq_build into the very same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "passreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passreq r;
	char b[PASSREQ_MAX];
	int n;

	if (passreq_parse((const char *)data, size, &r) < 0)
		return 0;
	if (!user_mailbox_valid(r.name, strlen(r.name)) || r.passlen == 0 ||
	    r.passlen > USER_PASS_MAX || memchr(r.pass, '\0', r.passlen))
		abort();
	n = passreq_build(b, r.name, strlen(r.name), r.pass, r.passlen);
	if (n < 0 || (size_t)n != size || memcmp(b, data, size) != 0)
		abort();
	return 0;
}
