/* sasl: the SMTP side of SASL (RFC 4954): the AUTH command's argument and
 * each client response line, bounded and strict. The base64 is pop3cmd.h's
 * (RFC 4648 §4, no spaces, canonical); PLAIN's message is split by
 * pop3_plain_split (RFC 4616). Pure: no I/O.
 *   AUTH argument:  MECHANISM [SP INITIAL-RESPONSE]
 * MECHANISM 1..20 of A-Z 0-9 - _ (any case, RFC 4422 §3.1); the initial
 * response is base64, or "=" for an empty one (RFC 4954 §4). A response line
 * is base64, "=" (empty), or "*" (the client cancels). */
#ifndef POCHTA_SASL_H
#define POCHTA_SASL_H
#include <stddef.h>
#include "sa.h"

/* a response line's length at most (without CRLF): the longest PLAIN message
 * (3 fields of 255 octets, 2 NULs) in base64 is 1028 characters */
#define SASL_LINE_MAX 2048

enum sasl_mech { SASL_OTHER, SASL_PLAIN, SASL_LOGIN };

struct sasl_auth {
	enum sasl_mech mech;
	const char *initial;   /* into the argument; NULL: no initial response */
	size_t initiallen;
};

/* the AUTH argument (len bytes): 0, or -1 when it is not the syntax above
 * (no mechanism, a bad character, more than one space, an empty or too long
 * initial response) */
int sasl_auth_parse(const char *arg, size_t len, struct sasl_auth *a);

enum { SASL_BAD = -1, SASL_OK = 0, SASL_CANCEL = 1 };
/* one response (line, len bytes): SASL_OK with the decoded bytes appended
 * to out (none for "="), SASL_CANCEL for "*", SASL_BAD (errno EINVAL: not
 * base64 or longer than SASL_LINE_MAX; ENOMEM) */
int sasl_response(const char *line, size_t len, sa_t *out);

#endif
