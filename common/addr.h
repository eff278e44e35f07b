/* addr: RFC 5321 mailbox and path parsing (§4.1.2, limits §4.5.3.1).
 * Local part: dot-atom or quoted string (stored decoded, case kept).
 * Domain: dot-separated LDH labels (stored lowercased) or an address literal
 * [1.2.3.4] / [IPv6:...]. Limits: local part 64, domain 255, path 256 octets.
 * 8-bit bytes are refused, except by the _u functions with utf8 set: SMTPUTF8
 * (RFC 6531 §3.3) UTF-8 in the local part and the domain (see addr.c). */
#ifndef POCHTA_ADDR_H
#define POCHTA_ADDR_H
#include <stddef.h>
#include "sa.h"

#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 255
#define ADDR_PATH_MAX 256

struct addr {
	int null;                           /* the null path <> */
	int has_domain;                     /* 0 only for a bare local part (e.g. <Postmaster>) */
	char local[ADDR_LOCAL_MAX + 1];     /* decoded: quotes and backslashes removed */
	char domain[ADDR_DOMAIN_MAX + 1];   /* lowercased; a literal keeps its brackets */
};

enum addr_err {
	ADDR_OK = 0,
	ADDR_ESYNTAX = -1,      /* malformed */
	ADDR_ELOCALLEN = -2,    /* local part over 64 octets */
	ADDR_EDOMAINLEN = -3,   /* domain over 255 octets */
	ADDR_EPATHLEN = -4,     /* path over 256 octets */
	ADDR_E8BIT = -5,        /* non-ASCII byte */
	ADDR_EUTF8 = -6,        /* utf8: a byte >= 0x80 that is not a UTF-8 character allowed */
};

/* "<...>" at s (len bytes; need not be NUL-terminated), with an optional
 * source route (<@a,@b:user@d>, ignored per RFC 5321 §3.3). allow_null accepts <>.
 * allow_nodomain accepts a bare local part (only "postmaster" is meaningful, the
 * caller decides). On success *used is the count of bytes up to and including '>'. */
int addr_parse_path(const char *s, size_t len, struct addr *a, int allow_null,
                    int allow_nodomain, size_t *used);
/* the same; utf8: SMTPUTF8 addresses (UTF-8 in the local part and domain) */
int addr_parse_path_u(const char *s, size_t len, struct addr *a, int allow_null,
                      int allow_nodomain, int utf8, size_t *used);
/* a bare mailbox "local@domain" filling all of s (command lines, config) */
int addr_parse(const char *s, size_t len, struct addr *a);
int addr_parse_u(const char *s, size_t len, struct addr *a, int utf8);
/* the length (2..4) of the UTF-8 character at s (len bytes) that an SMTPUTF8
 * address may hold (addr.c), or 0: ASCII, malformed, overlong, a control... */
int addr_utf8_len(const char *s, size_t len);
/* 1 when no byte of s is >= 0x80 */
int addr_is_ascii(const char *s, size_t len);
/* the canonical text: local part quoted only when it is not a dot-atom;
 * "" for the null path. Appends to out; 0 or -1. */
int addr_format(const struct addr *a, sa_t *out);
/* a domain name (not a literal): LDH labels of 1..63, total <= 255; 1 valid, 0 not */
int addr_domain_valid(const char *d, size_t len);
/* short English text for an error code */
const char *addr_strerror(int err);

#endif
