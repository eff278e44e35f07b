/* pop3cmd: the POP3 protocol's parsers and encoders (RFC 1939, RFC 2449,
 * RFC 5034, RFC 4616), kept apart from the server so that each piece that
 * touches network bytes has its own unit tests and fuzz harness:
 *   pop3_cmd_parse    one command line
 *   pop3_b64_decode   strict base64 (RFC 4648 §4, as RFC 5034 demands)
 *   pop3_plain_split  a SASL PLAIN message (authzid NUL authcid NUL passwd)
 *   pop3_uid_make     a Maildir unique name -> a valid UIDL (0x21..0x7E, <= 70)
 *   pop3_wire_*       a message file -> its POP3 form (CRLF, dot-stuffing, TOP)
 * Results: 0 success, -1 failure (pop3_cmd_parse sets c->err, the others errno). */
#ifndef POCHTA_POP3CMD_H
#define POCHTA_POP3CMD_H
#include <stddef.h>
#include "hdr.h"
#include "sa.h"

/* RFC 2449 §4: a command line is at most 255 octets, CRLF included */
#define POP3_LINE_MAX 255
/* a SASL continuation line (RFC 5034 lifts the 255 limit there); bounded anyway */
#define POP3_SASL_LINE_MAX 1024
/* RFC 1939 §7: a unique-id is 1 to 70 characters in 0x21..0x7E */
#define POP3_UID_MAX 70
/* the largest message number the parser accepts; beyond it: "no such message" */
#define POP3_MSGNUM_MAX 4000000000UL

enum pop3_verb {
	POP3_UNKNOWN = 0,
	POP3_USER, POP3_PASS, POP3_APOP, POP3_AUTH, POP3_CAPA, POP3_QUIT,
	POP3_STAT, POP3_LIST, POP3_RETR, POP3_DELE, POP3_NOOP, POP3_RSET,
	POP3_TOP, POP3_UIDL, POP3_STLS,
};

struct pop3_cmd {
	enum pop3_verb verb;
	/* USER: the name; PASS: the rest of the line (spaces included, RFC 1939 §7);
	 * AUTH: the mechanism (may be empty: bare AUTH lists the mechanisms) */
	const char *arg;
	size_t arglen;
	/* AUTH: the initial response when given ("=" stays "="), else NULL */
	const char *resp;
	size_t resplen;
	/* LIST/UIDL: 0 or 1 numbers; RETR/DELE: 1; TOP: 2 */
	int nnum;
	unsigned long msg;        /* the message number, 1..POP3_MSGNUM_MAX */
	unsigned long long lines; /* TOP: body lines, saturated at ULLONG_MAX */
	/* when parsing fails: the whole reply to send, e.g. "-ERR syntax: RETR msg" */
	const char *err;
};

/* Parse one line given without its CRLF. Verbs are case-insensitive; arguments
 * are separated by one or more spaces (trailing spaces are ignored except in
 * PASS). Message numbers are decimal digits only, 1..POP3_MSGNUM_MAX: 0, a sign,
 * a non-digit or a larger value is an error. Unknown verbs: -1, POP3_UNKNOWN,
 * err "-ERR unknown command". A NUL byte anywhere is a syntax error. */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *c);
const char *pop3_verb_name(enum pop3_verb v);

/* Strict base64: alphabet A-Z a-z 0-9 + /, length a multiple of 4, '=' only as
 * the last one or two characters, unused bits zero, no spaces. Appends the
 * decoded bytes to out. 0, or -1 with errno EINVAL (bad input) / ENOMEM. */
int pop3_b64_decode(const char *in, size_t n, sa_t *out);
/* base64 encode (used by tests and harnesses); appends to out; 0 or -1 */
int pop3_b64_encode(const void *in, size_t n, sa_t *out);

/* RFC 4616: msg is authzid NUL authcid NUL passwd (n bytes). Exactly two NULs,
 * authcid and passwd non-empty, each at most 255 bytes, no NUL elsewhere; the
 * authzid must be empty or equal to the authcid. On success the pointers point
 * into msg and are NUL-terminated when msg[n] is NUL (as sa_t guarantees).
 * 0, or -1 with errno EINVAL (malformed) or EPERM (authzid differs). */
struct pop3_plain {
	const char *authzid, *authcid, *passwd;
	size_t authzidlen, authcidlen, passwdlen;
};
int pop3_plain_split(const char *msg, size_t n, struct pop3_plain *p);

/* The UIDL for a Maildir unique name (uniq, len bytes): the name itself when it
 * is 1..70 characters of 0x21..0x7E, otherwise "~" and 32 hex digits of a fixed
 * hash of the name (deterministic: the same name always maps to the same UID).
 * Writes a NUL-terminated string into out (room for POP3_UID_MAX + 1) and
 * returns its length. */
size_t pop3_uid_make(const char *uniq, size_t len, char out[POP3_UID_MAX + 1]);

/* Message encoder: the file's bytes become what the client receives.
 * Every LF not already preceded by CR becomes CRLF; with stuff, a line that
 * begins with '.' gets another '.' in front; a last line without LF gets CRLF
 * (pop3_wire_end). With top != POP3_WIRE_ALL only the header lines, the blank
 * line that ends them, and `top` body lines are sent (a line that is empty or a
 * lone CR ends the headers: hdr.h). The terminating ".CRLF" is the caller's. */
#define POP3_WIRE_ALL (~0ULL)
struct pop3_wire {
	int stuff;
	unsigned long long top;
	/* private state */
	int bol;                 /* at the beginning of a line */
	int prev_cr;             /* the last byte was CR */
	struct hdr hdr;          /* where the header section ends (TOP) */
	int in_body;
	int done;                /* TOP limit reached: the rest is skipped */
	unsigned long long body_lines;
	unsigned long long octets; /* output produced so far, stuffing included */
};
void pop3_wire_init(struct pop3_wire *w, int stuff, unsigned long long top);
/* Encode in[0..n) into out (room for 2*n bytes; NULL only counts). Returns the
 * number of bytes written (or counted). Input after the TOP limit is ignored. */
size_t pop3_wire_put(struct pop3_wire *w, const char *in, size_t n, char *out);
/* Finish: CRLF when the last line had no LF (out: room for 2, or NULL);
 * returns the bytes written. */
size_t pop3_wire_end(struct pop3_wire *w, char *out);
/* 1 when the TOP limit has been reached (nothing more will be produced) */
int pop3_wire_done(const struct pop3_wire *w);

#endif
