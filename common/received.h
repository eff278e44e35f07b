/* received: the Received: trace header (RFC 5321 §4.4, RFC 5322 §3.6.7) that
 * pochta-smtpd and pochta-sendmail put first in each message, and the
 * RFC 5322 §3.3 date-time it ends with (also sendmail's Date: field). */
#ifndef POCHTA_RECEIVED_H
#define POCHTA_RECEIVED_H
#include <time.h>
#include "sa.h"

struct received {
	const char *helo;    /* the client's HELO/EHLO name ("" or NULL: unknown);
	                      * ignored for a local submission without SMTP */
	const char *ip;      /* the client's IP address; NULL or "": not known */
	long uid;            /* >= 0: a local user's submission, named instead of an IP */
	int smtp;            /* with uid: it came over SMTP (sendmail -bs), so a helo */
	const char *host;    /* myhostname */
	const char *proto;   /* "with" PROTO; NULL: none */
	const char *qid;
	const char *rcpt;    /* "for <RCPT>" (one recipient only); NULL: none */
	const char *tls_version; /* the session was under TLS: "(using VERSION with
	                          * cipher CIPHER (BITS/BITS bits))"; NULL: it was not */
	const char *tls_cipher;
	unsigned tls_bits;
};

/* appended to out, LF line ends, every field text made safe ('?' for what
 * could break the header):
 *   Received: from HELO ([IP])            (SMTP; "(unknown)" without an IP)
 *   Received: from HELO (userid UID)      (local, over SMTP: sendmail -bs)
 *   Received: from userid UID             (local: sendmail)
 *   	(using TLSv1.3 with cipher NAME (256/256 bits))   (under TLS)
 *   	by HOST (pochta)[ with PROTO] id QID[
 *   	for <RCPT>]; DATE
 * 0 or -1 */
int received_make(sa_t *out, const struct received *r, time_t now);
/* the fields a submission server adds when the message lacks them (RFC 6409
 * §8.2, §8.3), appended with LF ends: "Date: DATE" when need_date,
 * "Message-ID: <YYYYMMDDHHMMSS.QID@HOST>" when need_msgid; 0 or -1 */
int received_fixups(sa_t *out, int need_date, int need_msgid, const char *qid,
                    const char *host, time_t now);
/* RFC 5322 date-time in local time with a numeric zone, appended; 0 or -1 */
int received_date(sa_t *out, time_t t);

#endif
