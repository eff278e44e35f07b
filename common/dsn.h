/* dsn: delivery status notifications (bounces and delay warnings), RFC 3464
 * inside a multipart/report (RFC 6522). The result has LF line ends (the
 * queue's storage format) and is queued by the caller with the null sender.
 *
 *   From: MAILER-DAEMON@HOST (Mail Delivery System)   To: <sender>
 *   Subject: Undelivered Mail Returned to Sender  |  Delayed Mail (still being retried)
 *            |  Successful Mail Delivery Report
 *   Date, Message-ID, Auto-Submitted: auto-replied, MIME-Version: 1.0
 *   multipart/report; report-type=delivery-status:
 *     1. text/plain: what happened, for people
 *     2. message/delivery-status: Original-Envelope-Id, Reporting-MTA, Arrival-Date;
 *        then per recipient Original-Recipient, Final-Recipient,
 *        Action (failed|delayed|delivered|relayed), Status, Remote-MTA,
 *        Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until
 *     3. message/rfc822 (the whole original, when orig_size <= limit) or
 *        text/rfc822-headers (its header section only); absent when orig_fd < 0 */
#ifndef POCHTA_DSN_H
#define POCHTA_DSN_H
#include <stddef.h>
#include "sa.h"

#define DSN_HEADERS_MAX (256 * 1024)  /* header bytes returned, at most */

struct dsn_info {
	const char *reporting_mta;   /* this host's name (conf_hostname()) */
	const char *sender;          /* the original envelope sender: To: (never "") */
	const char *qid;             /* the original queue ID, or NULL */
	long long arrival;           /* the original's arrival, Unix seconds */
	long long now;               /* Date: and Message-ID; 0: time(NULL) */
	int delayed;                 /* 1: a delay warning, 0: a failure report */
	int success;                 /* 1: a success report (RFC 3461 NOTIFY=SUCCESS) */
	const char *envid;           /* Original-Envelope-Id (ENVID, decoded), or NULL */
};

struct dsn_rcpt {
	const char *addr;            /* Final-Recipient */
	const char *orig;            /* Original-Recipient when known and different; or NULL */
	const char *orcpt;           /* ORCPT as "rfc822;address" (decoded): Original-Recipient
	                              * always (RFC 3461 §6.3); or NULL */
	const char *action;          /* "delivered", "relayed"...; NULL: failed or delayed */
	const char *status;          /* "x.y.z" */
	const char *diag;            /* "smtp; 550 5.1.1 ..." (used as is) or other text
	                              * (given as "X-Pochta; text"); NULL: none */
	const char *remote_mta;      /* host name of the server that answered; or NULL */
	long long last_attempt;      /* Unix seconds; 0: omitted */
	long long will_retry_until;  /* delay warnings; 0: omitted */
};

/* Append the whole notification message to out. The original message is read
 * with pread() from orig_fd at orig_off (orig_size bytes, LF line ends): all of
 * it when orig_size <= limit, else only its header section (at most
 * DSN_HEADERS_MAX bytes, whole lines). 0, or -1 with errno (EINVAL for a
 * missing field or an empty sender, EIO/... for a read error, ENOMEM). */
int dsn_build(sa_t *out, const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n,
              int orig_fd, unsigned long long orig_off, unsigned long long orig_size,
              long long limit);

/* 1 when s (n bytes) has a byte >= 0x80: queue the notification as 8BITMIME then */
int dsn_8bit(const char *s, size_t n);
/* the length of an RFC 3463 status "class.subject.detail" (1 digit, then 1 to
 * 3 digits twice) at the start of s, or 0 when there is none; what follows is
 * the caller's business, and so is which class digit it accepts */
size_t dsn_status_len(const char *s, size_t len);

#endif
