/* libFuzzer harness: sasl_auth_parse and sasl_response on arbitrary bytes.
 * What the AUTH parser accepts starts with a mechanism and holds an initial
 * response inside the input, without a space; a response that decodes is
 * base64 that encodes back to the very same bytes ("=" and "*" aside). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "pop3cmd.h"
#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	struct sasl_auth a;
	sa_t out = SA_INIT, back = SA_INIT;
	int r;

	if (sasl_auth_parse(d, size, &a) == 0) {
		if (a.initial && (a.initial <= d || a.initial + a.initiallen != d + size ||
		                  a.initiallen == 0 || memchr(a.initial, ' ', a.initiallen)))
			abort();
		if (!a.initial && memchr(d, ' ', size))
			abort();
	}
	r = sasl_response(d, size, &out);
	if (r == SASL_CANCEL && !(size == 1 && d[0] == '*'))
		abort();
	if (r == SASL_OK && !(size == 1 && d[0] == '=')) {
		if (size > SASL_LINE_MAX || pop3_b64_encode(out.s ? out.s : "", out.len, &back) < 0 ||
		    back.len != size || memcmp(back.s, d, size) != 0)
			abort();
	}
	if (r == SASL_BAD && out.len != 0)
		abort();
	sa_free(&out);
	sa_free(&back);
	return 0;
}
