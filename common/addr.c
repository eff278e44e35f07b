/* addr: RFC 5321 §4.1.2 Path / Mailbox parsing.
 *
 * Grammar accepted (RFC 5321 §4.1.2, §4.1.3):
 *   Path     = "<" [ A-d-l ":" ] Mailbox ">"     (the source route is parsed, then ignored)
 *   Mailbox  = Local-part "@" ( Domain / address-literal )
 *   Local    = Dot-string / Quoted-string         (stored decoded)
 *   Domain   = LDH labels of 1..63, total <= 255  (stored lowercased)
 *   literal  = "[" IPv4 "]" / "[IPv6:" IPv6 "]"   (checked with inet_pton; the
 *              General-address-literal form is refused: we could not route to it)
 * Choices the RFC leaves open:
 *   - lengths are counted on the wire form: the local part as sent (quotes and
 *     backslashes included) <= 64, the domain <= 255, the whole path from '<' to
 *     '>' inclusive (source route included) <= 256. The decoded local part is never
 *     longer than the wire form, and addr_format() never writes more than the
 *     sender did, so a parsed address always formats back within the limits.
 *   - an IPv6 literal is stored as "[IPv6:" + the address text lowercased; the tag
 *     keeps the RFC's spelling so it reads the same in logs and headers.
 *   - an empty quoted local part (""@example.org) is valid by the grammar and kept;
 *     a bare local part (no domain) must not be empty.
 *   - any byte >= 0x80 met while parsing gives ADDR_E8BIT; other
 *     control characters, spaces outside quotes and trailing dots give ADDR_ESYNTAX.
 *   - with utf8 (the _u functions: SMTPUTF8, RFC 6531 §3.3): atext, qtextSMTP and
 *     domain labels (U-labels) also take UTF8-non-ascii characters, each a valid
 *     and shortest sequence of U+00A0..U+10FFFF without surrogates, C1 controls,
 *     U+2028/2029, U+FEFF or noncharacters; any other byte >= 0x80 gives
 *     ADDR_EUTF8. Lengths stay in octets; only ASCII is lowercased; the
 *     quoted-pair stays ASCII. IDNA rules for U-labels are not checked: the
 *     domain is routed as its bytes (a local domain must be listed so). */
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "addr.h"

static int is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_letdig(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* RFC 5322 atext */
static int is_atext(unsigned char c)
{
	return is_letdig(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int addr_utf8_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned cp;
	size_t n, i;

	if (len == 0 || u[0] < 0xc2 || u[0] > 0xf4)
		return 0;                   /* ASCII, a continuation byte, overlong C0/C1, > U+10FFFF */
	n = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : 2;
	if (len < n)
		return 0;
	cp = u[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;                   /* overlong, or beyond Unicode */
	if (cp < 0xa0 || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;                   /* C1 controls, surrogates */
	if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || (cp & 0xfffe) == 0xfffe ||
	    (cp >= 0xfdd0 && cp <= 0xfdef))
		return 0;                   /* line separators, BOM, noncharacters */
	return (int)n;
}

/* the UTF-8 character at s[i] when utf8 allows one: its length, else 0 */
static size_t utf8_at(const char *s, size_t len, size_t i, int utf8)
{
	return utf8 ? (size_t)addr_utf8_len(s + i, len - i) : 0;
}

int addr_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* LDH labels, or with utf8 also U-label characters (RFC 6531 §3.3), bytes counted */
static int domain_valid(const char *d, size_t len, int utf8)
{
	size_t i, label = 0, u;

	if (len == 0 || len > ADDR_DOMAIN_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '.') {
			/* a label ends: not empty, not ending in '-' */
			if (label == 0 || d[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (is_letdig(c)) {
			label++;
		} else if (c >= 0x80 && (u = utf8_at(d, len, i, utf8)) > 0) {
			label += u;
			i += u - 1;
		} else if (c == '-') {
			if (label == 0) /* no leading hyphen */
				return 0;
			label++;
		} else {
			return 0;
		}
		if (label > 63)
			return 0;
	}
	/* the last label: not empty (no trailing dot), not ending in '-' */
	return label != 0 && d[len - 1] != '-';
}

int addr_domain_valid(const char *d, size_t len)
{
	return domain_valid(d, len, 0);
}

/* a UTF-8 character of u bytes at s[*i] into the local part (out, n bytes so
 * far), the wire form counted from start; 0, or -1 when over ADDR_LOCAL_MAX */
static int local_utf8(const char *s, size_t *i, size_t start, size_t u, char *out, size_t *n)
{
	if (*i - start + u > ADDR_LOCAL_MAX)
		return -1;
	memcpy(out + *n, s + *i, u);
	*n += u;
	*i += u;
	return 0;
}

/* The local part at s[*pos]: a quoted string or a dot-string, decoded into out
 * (ADDR_LOCAL_MAX + 1 bytes). Stops at the first byte that is not part of it. */
static int local_parse(const char *s, size_t len, size_t *pos, char *out, int utf8)
{
	size_t i = *pos, start = *pos, n = 0, u;

	if (i < len && s[i] == '"') {
		i++;
		for (;;) {
			unsigned char c;
			if (i >= len)
				return ADDR_ESYNTAX;            /* no closing quote */
			if (i - start >= ADDR_LOCAL_MAX)
				return ADDR_ELOCALLEN;          /* the closing quote would be octet 65+ */
			c = (unsigned char)s[i];
			if (c >= 0x80 && (u = utf8_at(s, len, i, utf8)) > 0) {
				/* qtextSMTP =/ UTF8-non-ascii (RFC 6531 §3.3) */
				if (local_utf8(s, &i, start, u, out, &n) < 0)
					return ADDR_ELOCALLEN;
				continue;
			}
			if (c >= 0x80)
				return utf8 ? ADDR_EUTF8 : ADDR_E8BIT;
			if (c == '"') {
				i++;
				break;
			}
			if (c == '\\') {
				unsigned char d;
				if (i + 1 >= len)
					return ADDR_ESYNTAX;
				d = (unsigned char)s[i + 1];
				if (d >= 0x80)
					return utf8 ? ADDR_EUTF8 : ADDR_E8BIT;
				if (d < 32 || d > 126)      /* quoted-pairSMTP: %d92 %d32-126 */
					return ADDR_ESYNTAX;
				out[n++] = (char)d;
				i += 2;
				continue;
			}
			if (c < 32 || c > 126)              /* qtextSMTP */
				return ADDR_ESYNTAX;
			out[n++] = (char)c;
			i++;
		}
	} else {
		int need_atom = 1;                          /* at start and after each dot */
		while (i < len) {
			unsigned char c = (unsigned char)s[i];
			if (c >= 0x80 && (u = utf8_at(s, len, i, utf8)) > 0) {
				/* atext =/ UTF8-non-ascii (RFC 6531 §3.3) */
				if (local_utf8(s, &i, start, u, out, &n) < 0)
					return ADDR_ELOCALLEN;
				need_atom = 0;
				continue;
			}
			if (c >= 0x80)
				return utf8 ? ADDR_EUTF8 : ADDR_E8BIT;
			if (c == '.') {
				if (need_atom)
					return ADDR_ESYNTAX;    /* leading or double dot */
				need_atom = 1;
			} else if (is_atext(c)) {
				need_atom = 0;
			} else {
				break;
			}
			if (i - start >= ADDR_LOCAL_MAX)
				return ADDR_ELOCALLEN;
			out[n++] = (char)c;
			i++;
		}
		if (need_atom)                              /* empty, or a trailing dot */
			return ADDR_ESYNTAX;
	}
	out[n] = '\0';
	*pos = i;
	return ADDR_OK;
}

/* An address literal at s[*pos] == '[', stored with its brackets into out. */
static int literal_parse(const char *s, size_t len, size_t *pos, char *out)
{
	char text[64];
	size_t i = *pos + 1, n = 0, o;
	int v6 = 0;
	unsigned char bin[16];

	while (i < len && s[i] != ']') {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			return ADDR_E8BIT;
		/* dcontent is %d33-90 / %d94-126; '[' and '\' are never valid either */
		if (c < 33 || c > 126 || c == '[' || c == '\\')
			return ADDR_ESYNTAX;
		if (n + 1 >= sizeof text)
			return ADDR_ESYNTAX;    /* longer than any IP address text */
		text[n++] = (char)c;
		i++;
	}
	if (i >= len)
		return ADDR_ESYNTAX;            /* no ']' */
	text[n] = '\0';
	if (n > 5 && strncasecmp(text, "IPv6:", 5) == 0)
		v6 = 1;
	if (v6 ? inet_pton(AF_INET6, text + 5, bin) != 1 : inet_pton(AF_INET, text, bin) != 1)
		return ADDR_ESYNTAX;
	/* n < 64, so "[" text "]" fits easily in ADDR_DOMAIN_MAX + 1 */
	o = 0;
	out[o++] = '[';
	if (v6) {
		memcpy(out + o, "IPv6:", 5);
		o += 5;
	}
	for (size_t k = v6 ? 5 : 0; k < n; k++)
		out[o++] = lower(text[k]);
	out[o++] = ']';
	out[o] = '\0';
	*pos = i + 1;
	return ADDR_OK;
}

/* A domain name (not a literal) at s[*pos]; stored lowercased into out when out
 * is not NULL. Stops at the first byte that cannot be part of a domain. */
static int domain_parse(const char *s, size_t len, size_t *pos, char *out, int utf8)
{
	size_t i = *pos, n, u;

	for (;;) {
		if (i < len && (is_letdig((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
			i++;
		else if (i < len && (unsigned char)s[i] >= 0x80 && (u = utf8_at(s, len, i, utf8)) > 0)
			i += u;
		else
			break;
	}
	n = i - *pos;
	if (i < len && (unsigned char)s[i] >= 0x80)
		return utf8 ? ADDR_EUTF8 : ADDR_E8BIT;
	if (n > ADDR_DOMAIN_MAX)
		return ADDR_EDOMAINLEN;
	if (!domain_valid(s + *pos, n, utf8))
		return ADDR_ESYNTAX;
	if (out) {
		for (size_t k = 0; k < n; k++)
			out[k] = lower(s[*pos + k]);
		out[n] = '\0';
	}
	*pos = i;
	return ADDR_OK;
}

/* Local-part ["@" domain] at s[*pos] */
static int mailbox_parse(const char *s, size_t len, size_t *pos, struct addr *a,
                         int allow_nodomain, int utf8)
{
	int r;

	r = local_parse(s, len, pos, a->local, utf8);
	if (r != ADDR_OK)
		return r;
	if (*pos < len && s[*pos] == '@') {
		(*pos)++;
		if (*pos < len && s[*pos] == '[')
			r = literal_parse(s, len, pos, a->domain);
		else
			r = domain_parse(s, len, pos, a->domain, utf8);
		if (r != ADDR_OK)
			return r;
		a->has_domain = 1;
		return ADDR_OK;
	}
	if (*pos < len && (unsigned char)s[*pos] >= 0x80)
		return utf8 ? ADDR_EUTF8 : ADDR_E8BIT;
	if (!allow_nodomain || a->local[0] == '\0')
		return ADDR_ESYNTAX;
	a->has_domain = 0;
	return ADDR_OK;
}

/* A-d-l ":" at s[*pos] == '@': "@dom,@dom:" (RFC 5321 §4.1.2), skipped */
static int route_skip(const char *s, size_t len, size_t *pos, int utf8)
{
	for (;;) {
		int r;
		if (*pos >= len || s[*pos] != '@')
			return ADDR_ESYNTAX;
		(*pos)++;
		r = domain_parse(s, len, pos, NULL, utf8);
		if (r != ADDR_OK)
			return r;
		if (*pos >= len)
			return ADDR_ESYNTAX;
		if (s[*pos] == ':') {
			(*pos)++;
			return ADDR_OK;
		}
		if (s[*pos] != ',')
			return (unsigned char)s[*pos] >= 0x80 ? (utf8 ? ADDR_EUTF8 : ADDR_E8BIT)
			                                      : ADDR_ESYNTAX;
		(*pos)++;
	}
}

int addr_parse_path(const char *s, size_t len, struct addr *a, int allow_null,
                    int allow_nodomain, size_t *used)
{
	return addr_parse_path_u(s, len, a, allow_null, allow_nodomain, 0, used);
}

int addr_parse_path_u(const char *s, size_t len, struct addr *a, int allow_null,
                      int allow_nodomain, int utf8, size_t *used)
{
	size_t pos = 1;
	int r;

	memset(a, 0, sizeof *a);
	if (len < 2 || s[0] != '<')
		return ADDR_ESYNTAX;
	if (s[1] == '>') {
		if (!allow_null)
			return ADDR_ESYNTAX;
		a->null = 1;
		if (used)
			*used = 2;
		return ADDR_OK;
	}
	if (s[1] == '@') {
		r = route_skip(s, len, &pos, utf8);
		if (r != ADDR_OK)
			goto fail;
	}
	r = mailbox_parse(s, len, &pos, a, allow_nodomain, utf8);
	if (r != ADDR_OK)
		goto fail;
	if (pos >= len || s[pos] != '>') {
		r = (pos < len && (unsigned char)s[pos] >= 0x80) ? (utf8 ? ADDR_EUTF8 : ADDR_E8BIT)
		                                                 : ADDR_ESYNTAX;
		goto fail;
	}
	pos++;
	if (pos > ADDR_PATH_MAX) {
		r = ADDR_EPATHLEN;
		goto fail;
	}
	if (used)
		*used = pos;
	return ADDR_OK;
fail:
	memset(a, 0, sizeof *a);
	return r;
}

int addr_parse(const char *s, size_t len, struct addr *a)
{
	return addr_parse_u(s, len, a, 0);
}

int addr_parse_u(const char *s, size_t len, struct addr *a, int utf8)
{
	size_t pos = 0;
	int r;

	memset(a, 0, sizeof *a);
	r = mailbox_parse(s, len, &pos, a, 0, utf8);
	if (r == ADDR_OK && pos != len)
		r = (unsigned char)s[pos] >= 0x80 ? (utf8 ? ADDR_EUTF8 : ADDR_E8BIT) : ADDR_ESYNTAX;
	/* it must fit in a path once enclosed in "<>" */
	if (r == ADDR_OK && len > ADDR_PATH_MAX - 2)
		r = ADDR_EPATHLEN;
	if (r != ADDR_OK)
		memset(a, 0, sizeof *a);
	return r;
}

/* Dot-string: atoms of atext separated by single dots */
static int is_dot_string(const char *s)
{
	int need_atom = 1;

	for (; *s; s++) {
		if (*s == '.') {
			if (need_atom)
				return 0;
			need_atom = 1;
		} else if (is_atext((unsigned char)*s) || (unsigned char)*s >= 0x80) {
			/* 8-bit bytes are only here as UTF-8 that the parser let in as atext */
			need_atom = 0;
		} else {
			return 0;
		}
	}
	return !need_atom;
}

int addr_format(const struct addr *a, sa_t *out)
{
	if (a->null)
		return 0;
	if (is_dot_string(a->local)) {
		if (sa_cats(out, a->local) < 0)
			return -1;
	} else {
		if (sa_catc(out, '"') < 0)
			return -1;
		for (const char *p = a->local; *p; p++) {
			if ((*p == '"' || *p == '\\') && sa_catc(out, '\\') < 0)
				return -1;
			if (sa_catc(out, *p) < 0)
				return -1;
		}
		if (sa_catc(out, '"') < 0)
			return -1;
	}
	if (a->has_domain) {
		if (sa_catc(out, '@') < 0 || sa_cats(out, a->domain) < 0)
			return -1;
	}
	return 0;
}

const char *addr_strerror(int err)
{
	switch (err) {
	case ADDR_OK:
		return "ok";
	case ADDR_ESYNTAX:
		return "bad address syntax";
	case ADDR_ELOCALLEN:
		return "local part too long (max 64)";
	case ADDR_EDOMAINLEN:
		return "domain too long (max 255)";
	case ADDR_EPATHLEN:
		return "address too long (max 256)";
	case ADDR_E8BIT:
		return "non-ASCII address";
	case ADDR_EUTF8:
		return "invalid UTF-8 in address";
	}
	return "unknown address error";
}
