/* smtpcmd: parsing of one SMTP command line (RFC 5321 §4.1, RFC 1870, RFC 6152).
 * The line is given without its CRLF. Verbs are case-insensitive. The parser
 * also decides the error reply, so every program answers bad syntax the same way. */
#ifndef POCHTA_SMTPCMD_H
#define POCHTA_SMTPCMD_H
#include <stddef.h>
#include "addr.h"
#include "dsnparam.h"

enum smtp_verb {
	SMTP_UNKNOWN = 0,
	SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_RSET,
	SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_EXPN, SMTP_HELP,
	SMTP_STARTTLS, SMTP_AUTH, SMTP_BDAT,
};

enum smtp_body { SMTP_BODY_NONE = 0, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME, SMTP_BODY_BINARYMIME };

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;        /* text after the verb and one space (points into line) */
	size_t arglen;
	/* MAIL and RCPT */
	struct addr addr;
	/* MAIL parameters */
	int size_given;
	unsigned long long size; /* SIZE=, saturated at ULLONG_MAX */
	enum smtp_body body;
	int smtputf8;            /* SMTPUTF8 (RFC 6531): UTF-8 addresses allowed */
	/* BDAT (RFC 3030) */
	unsigned long long bdat_size; /* the chunk's octets, saturated at ULLONG_MAX */
	int bdat_last;
	struct dsnp_mail dsn_mail;      /* RET=, ENVID= (RFC 3461) */
	/* RCPT parameters */
	struct dsnp_rcpt dsn_rcpt;      /* NOTIFY=, ORCPT= */
	/* when parsing fails: the whole reply to send, e.g.
	 * "501 5.5.4 Syntax: MAIL FROM:<address>" (no CRLF) */
	const char *err;
};

/* 0 on success; -1 with c->err set. Unknown verbs: -1 with verb SMTP_UNKNOWN and
 * err "500 5.5.1 Command unrecognized". HELO/EHLO need a domain or address literal
 * argument; DATA/RSET/QUIT take none; NOOP/HELP/VRFY/EXPN take anything.
 * MAIL: FROM:<path> (null allowed) + SIZE= / BODY= / SMTPUTF8 / RET= / ENVID=
 * parameters; others get 555 5.5.4. RCPT: TO:<path>, <Postmaster> without
 * domain allowed; NOTIFY= / ORCPT= (dsnparam.h for DSN's replies); others get
 * 555 5.5.4. UTF-8 addresses only in a MAIL with SMTPUTF8; an RCPT's UTF-8 is
 * checked by smtp_cmd_parse_u with the transaction's flag.
 * BDAT: a size (1*DIGIT) and an optional LAST. */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *c);
/* the same; utf8: the transaction's MAIL had SMTPUTF8, so RCPT may be UTF-8 */
int smtp_cmd_parse_u(const char *line, size_t len, int utf8, struct smtp_cmd *c);
const char *smtp_verb_name(enum smtp_verb v);

#endif
