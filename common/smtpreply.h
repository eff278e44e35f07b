/* smtpreply: the replies of an SMTP server (RFC 5321 §4.2), for clients.
 * A pure parser: the lines of a reply go in one at a time (as read, without
 * their CRLF), the reply comes out; and the extension keywords of a reply to
 * EHLO (RFC 5321 §4.1.1.1). No I/O: the caller reads the lines with its limits
 * and deadlines.
 *
 *   reply-line = code ( "-" / " " ) text CRLF   (code: [2-5][0-5][0-9])
 *   every line but the last has "-", every line has the same code; a line of
 *   just the code ends the reply too. */
#ifndef POCHTA_SMTPREPLY_H
#define POCHTA_SMTPREPLY_H
#include <stddef.h>
#include "sa.h"

#define SMTPREPLY_LINE_MAX 2048   /* one line on the wire, CRLF included */
#define SMTPREPLY_LINES_MAX 100   /* lines of one reply */
#define SMTPREPLY_TEXT_MAX 1000   /* the joined text kept for diagnostics */

struct smtpreply {
	int code;                 /* 200..559 once a line was fed, else 0 */
	char status[16];          /* the first line's enhanced status (RFC 3463) when
	                           * its class is the code's, else "c.0.0" */
	int enhanced;             /* 1: status came from the reply */
	size_t nlines;
	int done;                 /* the last line was fed */
	sa_t text;                /* "550 5.1.1 first line second line": the code, then
	                           * each line's text (repeated enhanced codes dropped),
	                           * joined by spaces, cut at SMTPREPLY_TEXT_MAX */
	sa_t lines;               /* each line's text after "NNN-" / "NNN ", LF-separated */
};

#define SMTPREPLY_INIT { 0, "", 0, 0, 0, SA_INIT, SA_INIT }

/* forget the reply, keep the buffers: ready for the next one */
void smtpreply_reset(struct smtpreply *r);
void smtpreply_free(struct smtpreply *r);

/* Feed one line (len bytes, without CR LF). 1: the reply is complete; 0: more
 * lines follow; -1 with errno: EPROTO for a malformed line (no code, a bad
 * separator, a code that changes, a line over SMTPREPLY_LINE_MAX - 2 bytes, more
 * than SMTPREPLY_LINES_MAX lines), EINVAL after the reply was complete, ENOMEM.
 * After -1 the reply is unusable until smtpreply_reset(). */
int smtpreply_line(struct smtpreply *r, const char *l, size_t len);

/* the extensions of a 250 reply to EHLO that a client may use */
struct smtpreply_ehlo {
	int pipelining;           /* RFC 2920 */
	int eightbitmime;         /* RFC 6152 */
	int enhancedstatuscodes;  /* RFC 2034 */
	int smtputf8;             /* RFC 6531 */
	int chunking;             /* RFC 3030 */
	int binarymime;           /* RFC 3030 */
	int dsn;                  /* RFC 3461 */
	int starttls;             /* RFC 3207 */
	int size;                 /* SIZE offered (RFC 1870) */
	unsigned long long size_max; /* its limit; 0: none announced ("SIZE", "SIZE 0"
	                              * or a parameter that is not a number) */
};

/* The keywords of a complete reply: its first line is the server's name, each
 * later line a keyword (any case) and its parameters. Unknown keywords are
 * ignored. */
void smtpreply_ehlo(const struct smtpreply *r, struct smtpreply_ehlo *e);

#endif
