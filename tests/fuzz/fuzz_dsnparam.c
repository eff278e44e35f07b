/* libFuzzer harness: the RFC 3461 parameters (common/dsnparam.c).
 * The first byte picks what is parsed: MAIL parameters, RCPT parameters (the
 * SMTP reply path), or raw xtext. Properties: no crash; what is accepted is
 * written back (dsnp_*_format) to text that parses to the same thing and
 * formats the same again; every refusal has a complete 501/555 reply; decoded
 * xtext is printable ASCII and encodes back to xtext that decodes the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dsnparam.h"
#include "smtpcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reply_ok(const char *e)
{
	if (!e || strlen(e) < 10 || (strncmp(e, "501 5.5.4 ", 10) != 0 && strncmp(e, "555 5.5.4 ", 10) != 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	sa_t a = SA_INIT, b = SA_INIT, c = SA_INIT;

	if (size == 0)
		return 0;
	if (data[0] % 3 == 0) {
		struct dsnp_mail m, m2;
		if (dsnp_mail_parse(p, n, &m) == 0) {
			if (dsnp_mail_format(&m, &a) < 0 || dsnp_mail_parse(a.s ? a.s : "", a.len, &m2) < 0 ||
			    dsnp_mail_format(&m2, &b) < 0 || a.len != b.len ||
			    (a.len && memcmp(a.s, b.s, a.len) != 0) || strlen(m.envid) > DSNP_ENVID_MAX)
				abort();
		}
	} else if (data[0] % 3 == 1) {
		struct dsnp_rcpt r, r2;
		const char *err = NULL;
		memset(&r, 0, sizeof r);
		if (dsnp_rcpt_params(p, n, &r, &err) == 0) {
			if (dsnp_rcpt_format(&r, &a) < 0 || dsnp_rcpt_parse(a.s ? a.s : "", a.len, &r2) < 0 ||
			    r2.notify != r.notify || strcmp(r2.orcpt, r.orcpt) != 0 ||
			    strlen(r.orcpt) > DSNP_ORCPT_MAX)
				abort();
			if ((r.notify & DSNP_NOTIFY_NEVER) && r.notify != DSNP_NOTIFY_NEVER)
				abort();
		} else {
			reply_ok(err);
		}
	} else {
		if (dsnp_xtext_decode(p, n, &a) == 0) {
			for (size_t i = 0; i < a.len; i++)
				if ((unsigned char)a.s[i] < 0x20 || (unsigned char)a.s[i] > 0x7e)
					abort();
			if (dsnp_xtext_encode(a.s ? a.s : "", a.len, &b) < 0 ||
			    dsnp_xtext_decode(b.s ? b.s : "", b.len, &c) < 0 || c.len != a.len ||
			    (a.len && memcmp(a.s, c.s, a.len) != 0))
				abort();
		}
	}
	sa_free(&a);
	sa_free(&b);
	sa_free(&c);
	return 0;
}
