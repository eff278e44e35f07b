/* libFuzzer harness: smtp_cmd_parse and smtp_cmd_parse_u on one line.
 * Properties: no crash; the result is either success with no error, or failure
 * with a complete reply "DDD D.D.D text"; arg always points inside the line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "smtpcmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	struct smtp_cmd c;
	int utf8 = size > 0 && (data[size - 1] & 1), r = smtp_cmd_parse_u(line, size, utf8, &c);

	if (!c.arg || c.arg < line || c.arg + c.arglen > line + size)
		abort();
	if (r == 0) {
		if (c.err || c.verb == SMTP_UNKNOWN)
			abort();
		/* every control character is refused */
		for (size_t i = 0; i < size; i++)
			if ((unsigned char)line[i] < 32 || line[i] == 127)
				abort();
		if (c.verb == SMTP_MAIL || c.verb == SMTP_RCPT) {
			sa_t out = SA_INIT;
			if (addr_format(&c.addr, &out) < 0)
				abort();
			if (c.verb == SMTP_RCPT && (c.addr.null ||
			    (!c.addr.has_domain && strcasecmp(c.addr.local, "postmaster") != 0)))
				abort();
			/* UTF-8 only in a MAIL with SMTPUTF8 or an RCPT of such a transaction */
			if (!addr_is_ascii(out.s ? out.s : "", out.len) &&
			    !(c.verb == SMTP_MAIL ? c.smtputf8 : utf8))
				abort();
			sa_free(&out);
		} else if (c.size_given || c.body != SMTP_BODY_NONE || c.smtputf8) {
			abort();
		}
		if (c.verb != SMTP_BDAT && (c.bdat_size || c.bdat_last))
			abort();
	} else {
		const char *e = c.err;
		if (r != -1 || !e || strlen(e) < 11)
			abort();
		if (!is_digit(e[0]) || !is_digit(e[1]) || !is_digit(e[2]) || e[3] != ' ' ||
		    e[4] != e[0] || e[5] != '.' || (e[0] != '5' && e[0] != '4'))
			abort();
		if (strchr(e, '\r') || strchr(e, '\n'))
			abort();
	}
	(void)smtp_verb_name(c.verb);
	return 0;
}
