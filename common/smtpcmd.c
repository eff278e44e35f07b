/* smtpcmd: one SMTP command line -> verb, arguments, or the exact error reply.
 *
 * Rules (RFC 5321 §4.1, RFC 1870, RFC 6152, RFC 3463 codes):
 *   - The verb is the first word, case-insensitive, followed by the end of the
 *     line or a space ("MAILFROM:" is unknown). Unknown verb or empty line:
 *     "500 5.5.1 Command unrecognized".
 *   - Any control character (NUL, TAB, bare CR, DEL, ...) anywhere in the line:
 *     "500 5.5.2 Syntax error: control characters not allowed". The verb is still
 *     reported when it was recognized.
 *   - c->arg is the text after the verb and one space (never NULL; "" when none).
 *     For HELO/EHLO it is trimmed of spaces to the hostname itself.
 *   - HELO/EHLO: like Postfix, any single token of printable ASCII is accepted
 *     (clients send bare names, literals, even garbage); empty, several tokens or
 *     8-bit bytes: "501 5.5.4 Syntax: EHLO hostname".
 *   - DATA, RSET, QUIT, STARTTLS take no argument (trailing spaces are ignored):
 *     "501 5.5.4 Syntax: DATA" etc. NOOP, HELP, VRFY, EXPN, AUTH: anything.
 *   - MAIL: "FROM:" (any case), at most one space (a common client bug), then
 *     "<path>"; otherwise "501 5.5.4 Syntax: MAIL FROM:<address>".
 *     RCPT likewise with "TO:" and "501 5.5.4 Syntax: RCPT TO:<address>".
 *   - Address errors, sender (5.1.7) / recipient (5.1.3):
 *       syntax                "501 5.1.7 Bad sender address syntax"
 *       local part > 64       "501 5.1.7 Sender local part too long"
 *       domain > 255          "501 5.1.7 Sender domain too long"
 *       path > 256            "501 5.1.7 Sender path too long"
 *       8-bit byte            "553 5.6.7 Non-ASCII sender address not supported"
 *     501 for the lengths follows RFC 5321 §4.5.3.1.10 ("501 Path too long");
 *     553 5.6.7 for 8-bit follows RFC 6531 §3.5: a MAIL without the SMTPUTF8
 *     parameter, or an RCPT in such a transaction, holds a byte >= 0x80.
 *   - SMTPUTF8 (RFC 6531 §3.4, no value): the MAIL path and the transaction's
 *     RCPT paths may hold UTF-8 (addr.h). A sender with bytes >= 0x80 that are
 *     not allowed UTF-8 gets the 8-bit reply above (its parameters are not
 *     reached); a recipient "553 5.6.7 Recipient address is not valid UTF-8".
 *     RCPT TO:<> and a bare local part other than Postmaster are syntax errors.
 *   - MAIL parameters (one or more spaces between them, trailing spaces ignored):
 *     SIZE=1*DIGIT (saturating at ULLONG_MAX), BODY=7BIT|8BITMIME|BINARYMIME
 *     (any case), SMTPUTF8.
 *     Unknown keyword "555 5.5.4 Unsupported MAIL parameter", repeated
 *     "555 5.5.4 Duplicate MAIL parameter", bad syntax or value
 *     "555 5.5.4 Malformed MAIL parameter". DSN's RET= and ENVID= (RFC 3461) on
 *     MAIL and NOTIFY= and ORCPT= on RCPT are parsed by dsnparam.c: a bad value
 *     or a repeated one gets 501 5.5.4; any other RCPT parameter
 *     "555 5.5.4 Unsupported RCPT parameter".
 *   - BDAT (RFC 3030 §3): "BDAT" SP 1*DIGIT [ SP "LAST" ] (LAST in any case,
 *     at most 20 digits, saturating); otherwise "501 5.5.4 Syntax: BDAT size [LAST]". */
#include <limits.h>
#include <string.h>
#include <strings.h>
#include "dsnparam.h"
#include "smtpcmd.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT }, { "VRFY", SMTP_VRFY },
	{ "EXPN", SMTP_EXPN }, { "HELP", SMTP_HELP }, { "STARTTLS", SMTP_STARTTLS },
	{ "AUTH", SMTP_AUTH }, { "BDAT", SMTP_BDAT },
};

const char *smtp_verb_name(enum smtp_verb v)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (verbs[i].verb == v)
			return verbs[i].name;
	return "UNKNOWN";
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* error replies for address parse results, indexed by -err */
static const char *const mail_addr_err[] = {
	NULL,
	"501 5.1.7 Bad sender address syntax",
	"501 5.1.7 Sender local part too long",
	"501 5.1.7 Sender domain too long",
	"501 5.1.7 Sender path too long",
	"553 5.6.7 Non-ASCII sender address not supported",
	"553 5.6.7 Sender address is not valid UTF-8",
};
static const char *const rcpt_addr_err[] = {
	NULL,
	"501 5.1.3 Bad recipient address syntax",
	"501 5.1.3 Recipient local part too long",
	"501 5.1.3 Recipient domain too long",
	"501 5.1.3 Recipient path too long",
	"553 5.6.7 Non-ASCII recipient address not supported",
	"553 5.6.7 Recipient address is not valid UTF-8",
};

static const char *addr_err_reply(int err, int rcpt)
{
	if (err >= 0 || err < ADDR_EUTF8)
		err = ADDR_ESYNTAX;
	return (rcpt ? rcpt_addr_err : mail_addr_err)[-err];
}

static int only_spaces(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ')
			return 0;
	return 1;
}

/* SIZE= value: 1*DIGIT, saturating */
static int size_value(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d;
		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = (unsigned)(v[i] - '0');
		if (x > (ULLONG_MAX - d) / 10)
			x = ULLONG_MAX;
		else
			x = x * 10 + d;
	}
	*out = x;
	return 0;
}

static int keyword_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(k, want, n) == 0;
}

/* SMTPUTF8 (RFC 6531 §3.4): no value, once */
static int smtputf8_param(struct smtp_cmd *c, int has_value)
{
	if (c->smtputf8) {
		c->err = "555 5.5.4 Duplicate MAIL parameter";
		return -1;
	}
	if (has_value) {
		c->err = "555 5.5.4 Malformed MAIL parameter";
		return -1;
	}
	c->smtputf8 = 1;
	return 0;
}

/* MAIL parameters in p[0..n): esmtp-param *(SP esmtp-param) */
static int mail_params(const char *p, size_t n, struct smtp_cmd *c)
{
	size_t i = 0;

	while (i < n) {
		size_t k0, klen, v0, vlen;
		int has_value = 0;

		if (p[i] == ' ') {
			i++;
			continue;
		}
		/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
		k0 = i;
		if (!is_alnum((unsigned char)p[i])) {
			c->err = "555 5.5.4 Malformed MAIL parameter";
			return -1;
		}
		while (i < n && (is_alnum((unsigned char)p[i]) || p[i] == '-'))
			i++;
		klen = i - k0;
		v0 = vlen = 0;
		if (i < n && p[i] == '=') {
			/* esmtp-value = 1*(%d33-60 / %d62-126) */
			has_value = 1;
			v0 = ++i;
			while (i < n && p[i] != ' ') {
				unsigned char ch = (unsigned char)p[i];
				if (ch < 33 || ch > 126 || ch == '=') {
					c->err = "555 5.5.4 Malformed MAIL parameter";
					return -1;
				}
				i++;
			}
			vlen = i - v0;
			if (vlen == 0) {
				c->err = "555 5.5.4 Malformed MAIL parameter";
				return -1;
			}
		} else if (i < n && p[i] != ' ') {
			c->err = "555 5.5.4 Malformed MAIL parameter";
			return -1;
		}
		if (keyword_is(p + k0, klen, "SIZE")) {
			if (c->size_given) {
				c->err = "555 5.5.4 Duplicate MAIL parameter";
				return -1;
			}
			if (!has_value || size_value(p + v0, vlen, &c->size) < 0) {
				c->err = "555 5.5.4 Malformed MAIL parameter";
				return -1;
			}
			c->size_given = 1;
		} else if (keyword_is(p + k0, klen, "BODY")) {
			if (c->body != SMTP_BODY_NONE) {
				c->err = "555 5.5.4 Duplicate MAIL parameter";
				return -1;
			}
			if (has_value && keyword_is(p + v0, vlen, "7BIT")) {
				c->body = SMTP_BODY_7BIT;
			} else if (has_value && keyword_is(p + v0, vlen, "8BITMIME")) {
				c->body = SMTP_BODY_8BITMIME;
			} else if (has_value && keyword_is(p + v0, vlen, "BINARYMIME")) {
				c->body = SMTP_BODY_BINARYMIME;
			} else {
				c->err = "555 5.5.4 Malformed MAIL parameter";
				return -1;
			}
		} else if (keyword_is(p + k0, klen, "SMTPUTF8")) {
			if (smtputf8_param(c, has_value) < 0)
				return -1;
		} else {
			/* RFC 3461: RET, ENVID */
			int d = dsnp_mail_param(&c->dsn_mail, p + k0, klen, has_value ? p + v0 : NULL,
			                        vlen, &c->err);
			if (d < 0)
				return -1;
			if (d == 0) {
				c->err = "555 5.5.4 Unsupported MAIL parameter";
				return -1;
			}
		}
	}
	return 0;
}

/* MAIL FROM:<path> [params] / RCPT TO:<path>; utf8: the transaction is
 * SMTPUTF8 (RCPT). A MAIL path is parsed as UTF-8 and refused after its
 * parameters when SMTPUTF8 is not among them. */
static int path_cmd(struct smtp_cmd *c, int rcpt, int utf8)
{
	const char *kw = rcpt ? "TO:" : "FROM:";
	const char *syntax = rcpt ? "501 5.5.4 Syntax: RCPT TO:<address>"
	                          : "501 5.5.4 Syntax: MAIL FROM:<address>";
	size_t kwlen = strlen(kw), i, used = 0;
	const char *a = c->arg;
	size_t n = c->arglen;
	int r;

	if (n < kwlen || strncasecmp(a, kw, kwlen) != 0) {
		c->err = syntax;
		return -1;
	}
	i = kwlen;
	if (i < n && a[i] == ' ')
		i++;                    /* "MAIL FROM: <x>": tolerated */
	if (i >= n || a[i] != '<') {
		c->err = syntax;
		return -1;
	}
	r = addr_parse_path_u(a + i, n - i, &c->addr, !rcpt, rcpt, rcpt ? utf8 : 0, &used);
	if (!rcpt && r == ADDR_E8BIT &&
	    addr_parse_path_u(a + i, n - i, &c->addr, 1, 0, 1, &used) == ADDR_OK)
		r = ADDR_OK;    /* UTF-8: allowed when SMTPUTF8 follows (checked below) */
	if (r == ADDR_OK && rcpt && !c->addr.has_domain &&
	    strcasecmp(c->addr.local, "postmaster") != 0)
		r = ADDR_ESYNTAX;
	if (r != ADDR_OK) {
		memset(&c->addr, 0, sizeof c->addr);
		c->err = addr_err_reply(r, rcpt);
		return -1;
	}
	i += used;
	if (i < n && a[i] != ' ') {
		c->err = syntax;        /* "<a@b>x" */
		return -1;
	}
	if (!only_spaces(a + i, n - i)) {
		if (rcpt)
			return dsnp_rcpt_params(a + i, n - i, &c->dsn_rcpt, &c->err);
		if (mail_params(a + i, n - i, c) < 0)
			return -1;
	}
	if (!rcpt && !c->smtputf8 &&
	    (!addr_is_ascii(c->addr.local, strlen(c->addr.local)) ||
	     !addr_is_ascii(c->addr.domain, strlen(c->addr.domain)))) {
		memset(&c->addr, 0, sizeof c->addr);
		c->err = addr_err_reply(ADDR_E8BIT, 0);
		return -1;
	}
	return 0;
}

/* BDAT chunk-size [SP end-marker] (RFC 3030 §2) */
static int bdat_cmd(struct smtp_cmd *c)
{
	const char *a = c->arg;
	size_t n = c->arglen, i = 0;

	while (n > 0 && a[n - 1] == ' ')
		n--;
	while (i < n && a[i] >= '0' && a[i] <= '9')
		i++;
	if (i == 0 || i > 20 || size_value(a, i, &c->bdat_size) < 0 ||
	    (i < n && !(n - i == 5 && keyword_is(a + i, 5, " LAST")))) {
		c->err = "501 5.5.4 Syntax: BDAT size [LAST]";
		return -1;
	}
	c->bdat_last = i < n;
	return 0;
}

static int helo_cmd(struct smtp_cmd *c)
{
	const char *a = c->arg;
	size_t n = c->arglen, i;

	while (n > 0 && a[0] == ' ') {
		a++;
		n--;
	}
	while (n > 0 && a[n - 1] == ' ')
		n--;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] <= ' ' || (unsigned char)a[i] >= 0x7f)
			break;
	if (n == 0 || i < n) {
		c->err = c->verb == SMTP_HELO ? "501 5.5.4 Syntax: HELO hostname"
		                              : "501 5.5.4 Syntax: EHLO hostname";
		return -1;
	}
	c->arg = a;
	c->arglen = n;
	return 0;
}

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c)
{
	return smtp_cmd_parse_u(line, len, 0, c);
}

int smtp_cmd_parse_u(const char *line, size_t len, int utf8, struct smtp_cmd *c)
{
	size_t vlen = 0;

	memset(c, 0, sizeof *c);
	c->verb = SMTP_UNKNOWN;
	c->arg = line + len;
	c->arglen = 0;

	while (vlen < len && line[vlen] != ' ')
		vlen++;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (keyword_is(line, vlen, verbs[i].name)) {
			c->verb = verbs[i].verb;
			break;
		}
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch < 32 || ch == 127) {
			c->err = "500 5.5.2 Syntax error: control characters not allowed";
			return -1;
		}
	}
	if (c->verb == SMTP_UNKNOWN) {
		c->err = "500 5.5.1 Command unrecognized";
		return -1;
	}
	if (vlen < len) {
		c->arg = line + vlen + 1;
		c->arglen = len - vlen - 1;
	}

	switch (c->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		return helo_cmd(c);
	case SMTP_MAIL:
		return path_cmd(c, 0, 0);
	case SMTP_RCPT:
		return path_cmd(c, 1, utf8);
	case SMTP_BDAT:
		return bdat_cmd(c);
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		if (!only_spaces(c->arg, c->arglen)) {
			switch (c->verb) {
			case SMTP_DATA: c->err = "501 5.5.4 Syntax: DATA"; break;
			case SMTP_RSET: c->err = "501 5.5.4 Syntax: RSET"; break;
			case SMTP_QUIT: c->err = "501 5.5.4 Syntax: QUIT"; break;
			default: c->err = "501 5.5.4 Syntax: STARTTLS"; break;
			}
			return -1;
		}
		return 0;
	default:
		return 0;
	}
}
