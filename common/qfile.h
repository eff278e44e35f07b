/* qfile: a queue file, queue/{incoming,mess}/QID (see man/pochta-queue.5).
 * Records (rec.h) then the raw message:
 *   V "1"        format version
 *   I qid        queue ID
 *   T time       arrival, decimal Unix seconds
 *   S sender     envelope sender, "" for the null path
 *   B body       "7BIT", "8BITMIME", "BINARYMIME" or "" (not declared); with
 *                BINARYMIME the message is stored as received (CRLF, any byte)
 *   P proto      "SMTP", "ESMTP", "LOCAL" ...
 *   H helo       client's HELO/EHLO argument ("" if none)
 *   C client     client IP address ("" for local submission)
 *   U ""         optional, once, before the first R: SMTPUTF8 (RFC 6531); also
 *                set on reading when an address is not ASCII
 *   N dsn        optional, once: the DSN parameters of MAIL (RFC 3461), as
 *                dsnparam.h writes them: "RET=HDRS ENVID=xtext"
 *   R rcpt       one per recipient; their order gives the recipient index
 *   O dsn        optional, right after its R: that recipient's DSN parameters,
 *                "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;xtext"
 *   M ""         end of envelope: the message follows, LF line ends, to EOF
 * Files written before N and O existed read as "no DSN parameters".
 * A queue file is written once (by pochta-enqueue) and never changed. */
#ifndef POCHTA_QFILE_H
#define POCHTA_QFILE_H
#include <stddef.h>
#include "qid.h"
#include "sa.h"
#include "io.h"

#define QFILE_MAX_RCPT 100000
#define QFILE_MAX_FIELD 4096

struct qfile {
	char qid[QID_LEN + 1];
	long long arrival;
	sa_t sender, body, proto, helo, client;
	int smtputf8;                   /* U record (or a non-ASCII address) */
	size_t nrcpt;
	sa_t *rcpt;                     /* nrcpt strings */
	sa_t *rcpt_dsn;                 /* nrcpt O records ("" when none) */
	sa_t dsn;                       /* the N record ("" when none) */
	unsigned long long msg_off;     /* where the message starts in the file */
	unsigned long long msg_size;    /* file size - msg_off: THE size of a message (header and body,
	                                 * our Received: included), as size= in every log line and
	                                 * pochtactl queue list/stats give it */
};

/* read and validate the envelope from fd (read from its current offset, which is
 * taken as 0); 0, or -1 with a reason in err (errno EPROTO for a bad file) */
int qfile_read(int fd, struct qfile *q, sa_t *err);
/* write the envelope records, up to and including M */
int qfile_write_env(io_t *out, const struct qfile *q);
void qfile_free(struct qfile *q);
/* append a recipient (copied) with no DSN parameters; *cap is the room of
 * q->rcpt (0 at first). 0, or -1 (ENOMEM, or E2BIG past QFILE_MAX_RCPT) */
int qfile_rcpt_add(struct qfile *q, const char *s, size_t len, size_t *cap);
/* the checks of envelope fields, for every writer too: 1 good, 0 not.
 * Text: no control characters (0x00-0x1f, 0x7f). A sender: "" (the null
 * path) or a mailbox. A recipient: a mailbox or the bare "postmaster". */
int qfile_text_ok(const char *s, size_t len);
int qfile_sender_ok(const char *s, size_t len);
int qfile_rcpt_ok(const char *s, size_t len);
/* a B value: "", "7BIT", "8BITMIME" or "BINARYMIME" (len bytes, exactly) */
int qfile_body_ok(const char *s, size_t len);
/* the U record (SMTPUTF8) */
#define QFILE_SMTPUTF8 'U'

#endif
