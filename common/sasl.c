/* sasl: the AUTH argument and the response lines (sasl.h). */
#include <errno.h>
#include <string.h>
#include "pop3cmd.h"
#include "sasl.h"

#define SASL_MECH_MAX 20

static int sasl_mech_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int sasl_mech_is(const char *m, size_t n, const char *name)
{
	if (n != strlen(name))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = m[i] >= 'a' && m[i] <= 'z' ? (char)(m[i] - 'a' + 'A') : m[i];
		if (c != name[i])
			return 0;
	}
	return 1;
}

int sasl_auth_parse(const char *arg, size_t len, struct sasl_auth *a)
{
	size_t n = 0;

	memset(a, 0, sizeof *a);
	while (n < len && sasl_mech_char(arg[n]))
		n++;
	if (n == 0 || n > SASL_MECH_MAX || (n < len && arg[n] != ' '))
		goto bad;
	if (sasl_mech_is(arg, n, "PLAIN"))
		a->mech = SASL_PLAIN;
	else if (sasl_mech_is(arg, n, "LOGIN"))
		a->mech = SASL_LOGIN;
	else
		a->mech = SASL_OTHER;
	if (n == len)
		return 0;
	/* one space, then a response that is not empty and has no space */
	a->initial = arg + n + 1;
	a->initiallen = len - n - 1;
	if (a->initiallen == 0 || a->initiallen > SASL_LINE_MAX ||
	    memchr(a->initial, ' ', a->initiallen))
		goto bad;
	return 0;
bad:
	memset(a, 0, sizeof *a);
	errno = EINVAL;
	return -1;
}

int sasl_response(const char *line, size_t len, sa_t *out)
{
	if (len == 1 && line[0] == '*')
		return SASL_CANCEL;
	if (len == 1 && line[0] == '=')
		return SASL_OK;
	if (len == 0 || len > SASL_LINE_MAX) {
		errno = EINVAL;
		return SASL_BAD;
	}
	return pop3_b64_decode(line, len, out) < 0 ? SASL_BAD : SASL_OK;
}
