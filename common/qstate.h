/* qstate: the per-recipient state journal, QUEUE/state/QID (man/pochta-queue.5).
 * Written only by pochta-qmgr, only when some recipient of a message is not final
 * after a delivery round; read by pochta-qmgr at start and by `pochtactl queue`.
 * Append-only records (rec.h); a later record for a recipient overrides earlier
 * ones. Data of every record, fields separated by one space:
 *     INDEX WHEN ATTEMPTS NEXT STATUS TEXT
 *   INDEX     0-based recipient index in the queue file (its R records)
 *   WHEN      time of the attempt, Unix seconds
 *   ATTEMPTS  delivery attempts that failed so far (this one included)
 *   NEXT      deferred: earliest time of the next attempt; otherwise 0
 *   STATUS    RFC 3463 code, e.g. 2.0.0, 4.2.0, 5.1.1
 *   TEXT      diagnostic (no control characters; may contain spaces)
 * Record types: D delivered (final; a success notice may be due: NOTIFY=SUCCESS),
 * N delivered and that notice queued (or passed on to a DSN-capable peer), F failed permanently (final; the sender is
 * still to be told), B failed permanently and the sender told (a bounce was
 * queued, or a double bounce dropped: nothing left to do), Z deferred (temporary
 * failure; retried at NEXT), W a delay notice was queued for the message (a
 * message-level record: INDEX, ATTEMPTS and NEXT are 0, TEXT names the notice).
 * A crash during an append leaves at most one torn record at the end: it was never
 * relied on (the append had not been fdatasync'd) and is cut off when loaded. */
#ifndef POCHTA_QSTATE_H
#define POCHTA_QSTATE_H
#include <stddef.h>
#include <sys/types.h>
#include "sa.h"

#define QSTATE_SENT 'D'
#define QSTATE_FAILED 'F'
#define QSTATE_DEFERRED 'Z'
#define QSTATE_BOUNCED 'B'
#define QSTATE_WARNED 'W'
#define QSTATE_SENT_TOLD 'N'      /* delivered, and no success notice (DSN) left to send */
#define QSTATE_TEXT_MAX 1000      /* longer texts are cut */
#define QSTATE_REC_MAX 1200       /* largest record data accepted when reading */

struct qstate_rec {
	int type;                 /* QSTATE_SENT, _FAILED, _BOUNCED, _DEFERRED or _WARNED */
	size_t index;
	long long when;
	unsigned attempts;
	long long next;
	char status[16];          /* "x.y.z", NUL-terminated */
	const char *text;         /* not NUL-terminated; points into the caller's data */
	size_t textlen;
};

/* append one whole record (type, length, data, LF) to out; control characters
 * in the text become '?' and it is cut to QSTATE_TEXT_MAX. 0 or -1 */
int qstate_format(sa_t *out, const struct qstate_rec *r);
/* parse the data of one record of the given type; 0, or -1 (EPROTO) */
int qstate_parse(int type, const char *data, size_t len, struct qstate_rec *r);

/* read the journal at path, calling fn for every well-formed record in order
 * (fn returns 0 to go on, -1 to stop: qstate_load then fails with fn's errno).
 * *good is set to the length of the well-formed prefix: when it is less than the
 * file size the rest is a torn or damaged tail (cut it with qstate_truncate).
 * A missing file is an empty journal. 0, or -1 with errno. */
int qstate_load(const char *path, int (*fn)(const struct qstate_rec *r, void *arg),
                void *arg, off_t *good, off_t *size);
/* cut the journal to len bytes, durably; 0 or -1 */
int qstate_truncate(const char *path, off_t len);
/* append the formatted records in buf to path and fdatasync; when this created
 * the file, its directory is fsync'd too. On a failed write the file is cut back
 * to its old length. 0, or -1 with errno. */
int qstate_append(const char *path, const void *buf, size_t len);

#endif
