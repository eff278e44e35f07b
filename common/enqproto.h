/* The pochta-enqueue protocol (man/pochta-enqueue.8): records (rec.h) over one
 * bidirectional descriptor (stdin and stdout of pochta-enqueue). One process
 * serves a whole session: any number of messages, one after the other.
 *
 *   client -> enqueue                      enqueue -> client
 *   M ""        begin a message            I qid   (or Z text: temporary failure)
 *   S/B/P/H/C/R envelope (as in qfile.h), with N (DSN parameters of the
 *               message, before the first R) and O (of the R just before)
 *   D bytes     message data, LF line ends, any number of records
 *   E ""        end: commit                K qid   queued durably
 *                                          Z text  temporary failure (4xx)
 *                                          X text  permanent failure (5xx)
 *   Q ""        abort this message         (no reply)
 * EOF from the client aborts an open message; enqueue then exits 0. */
#ifndef POCHTA_ENQPROTO_H
#define POCHTA_ENQPROTO_H

#define ENQ_BEGIN 'M'
#define ENQ_DATA 'D'
#define ENQ_END 'E'
#define ENQ_ABORT 'Q'
#define ENQ_R_ID 'I'
#define ENQ_R_OK 'K'
#define ENQ_R_TEMP 'Z'
#define ENQ_R_PERM 'X'
#define ENQ_DATA_MAX 65536       /* largest D record */

/* The parser of what pochta-enqueue reads, one record (rec.h) at a time: it
 * keeps the state of the message being received and its envelope (checked as
 * man/pochta-enqueue.8 says) and tells the caller what to do. Pure: no I/O. */
#include <stddef.h>
#include "qfile.h"
#include "sa.h"

enum { ENQP_IDLE, ENQP_ENV, ENQP_DATA, ENQP_BAD };

/* what enqp_record asks for, in this order (an OR of them) */
#define ENQP_DROP   1   /* drop the message file, if one is open */
#define ENQP_LOG    2   /* the message was just refused: log fail_text */
#define ENQP_OPEN   4   /* open a new message file; the caller sets q.qid and q.arrival,
                         * replies I qid, or, when it cannot, calls enqp_idle and replies Z */
#define ENQP_WRITE  8   /* write the envelope (once) and then the record's data */
#define ENQP_COMMIT 16  /* commit the message and reply K qid; the state is idle */
#define ENQP_REPLY  32  /* reply fail_type fail_text (fail_text NULL: a 4.3.0 failure) */

struct enqp {
	int st;                        /* ENQP_IDLE, _ENV (after M), _DATA (after the first
	                                * D), _BAD (refused: records dropped until E or Q) */
	unsigned seen;                 /* envelope records seen (bit per letter) */
	int last;                      /* the last envelope record's type */
	int last_dup;                  /* that R was a duplicate, dropped */
	struct qfile q;                /* the envelope as received */
	size_t rcpt_cap;
	unsigned long long size;       /* message bytes accepted */
	unsigned long long size_max;
	int fail_type;                 /* ENQ_R_TEMP or ENQ_R_PERM when refused */
	sa_t fail_text;
};

void enqp_init(struct enqp *p, unsigned long long size_max);
/* one record of type with len bytes of data; returns the ENQP_* to do */
int enqp_record(struct enqp *p, int type, const char *data, size_t len);
/* the caller failed the open message (type, text): returns ENQP_DROP|ENQP_LOG */
int enqp_fail(struct enqp *p, int type, const char *text);
/* no message is open any more */
void enqp_idle(struct enqp *p);
void enqp_free(struct enqp *p);

#endif
