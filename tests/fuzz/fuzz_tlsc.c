/* libFuzzer harness: the T message pochta-tls sends the protocol programs:
 * no crash; what it accepts is NUL-terminated, printable and complete. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tlsc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsc_info i;
	sa_t d = SA_INIT;

	if (tlsc_parse((const char *)data, size, &i) == 0) {
		check(i.version, sizeof i.version);
		check(i.cipher, sizeof i.cipher);
		check(i.verify, sizeof i.verify);
		check(i.verify_error, sizeof i.verify_error);
		check(i.subject, sizeof i.subject);
		check(i.issuer, sizeof i.issuer);
		if (!i.version[0] || !i.cipher[0] || !i.verify[0] || i.bits > 65535)
			abort();
		if (tlsc_describe(&i, &d) < 0)
			abort();
	}
	sa_free(&d);
	return 0;
}
