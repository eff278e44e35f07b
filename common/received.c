/* received: the Received: trace header and the RFC 5322 date (received.h). */
#include <string.h>
#include <time.h>
#include "received.h"

static const char wday[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char month[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int received_date(sa_t *out, time_t t)
{
	struct tm tm;
	long off, h, m;
	char sign = '+';

	if (!localtime_r(&t, &tm))
		return -1;
	if (tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	h = off / 60;
	m = off % 60;
	if (h > 99)
		return -1;
	return sa_catf(out, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	               wday[tm.tm_wday], tm.tm_mday, month[tm.tm_mon], tm.tm_year + 1900,
	               tm.tm_hour, tm.tm_min, tm.tm_sec, sign, h, m);
}

/* append s with anything that could break the header replaced by '?' */
static int cat_clean(sa_t *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (sa_catc(out, (c > ' ' && c < 0x7f && c != '(' && c != ')') ? (char)c : '?') < 0)
			return -1;
	}
	return 0;
}

int received_make(sa_t *out, const struct received *r, time_t now)
{
	const char *helo = r->helo && *r->helo ? r->helo : "unknown";

	if (sa_cats(out, "Received: from ") < 0)
		return -1;
	if (r->uid >= 0 && !r->smtp) {
		if (sa_catf(out, "userid %ld", r->uid) < 0)
			return -1;
	} else if (cat_clean(out, helo) < 0) {
		return -1;
	} else if (r->uid >= 0) {
		if (sa_catf(out, " (userid %ld)", r->uid) < 0)
			return -1;
	} else if (r->ip && *r->ip) {
		/* TCP-info: an address literal (RFC 5321 §4.1.3) */
		if (sa_cats(out, strchr(r->ip, ':') ? " ([IPv6:" : " ([") < 0 ||
		    cat_clean(out, r->ip) < 0 || sa_cats(out, "])") < 0)
			return -1;
	} else if (sa_cats(out, " (unknown)") < 0) {
		return -1;
	}
	if (r->tls_version && (sa_cats(out, "\n\t(using ") < 0 || cat_clean(out, r->tls_version) < 0 ||
	                       sa_cats(out, " with cipher ") < 0 ||
	                       cat_clean(out, r->tls_cipher ? r->tls_cipher : "unknown") < 0 ||
	                       sa_catf(out, " (%u/%u bits))", r->tls_bits, r->tls_bits) < 0))
		return -1;
	if (sa_cats(out, "\n\tby ") < 0 || cat_clean(out, r->host) < 0 || sa_cats(out, " (pochta)") < 0)
		return -1;
	if (r->proto && (sa_cats(out, " with ") < 0 || cat_clean(out, r->proto) < 0))
		return -1;
	if (sa_cats(out, " id ") < 0 || cat_clean(out, r->qid) < 0)
		return -1;
	if (r->rcpt) {
		if (sa_cats(out, "\n\tfor <") < 0 || cat_clean(out, r->rcpt) < 0 || sa_catc(out, '>') < 0)
			return -1;
	}
	if (sa_cats(out, "; ") < 0 || received_date(out, now) < 0 || sa_catc(out, '\n') < 0)
		return -1;
	return 0;
}

int received_fixups(sa_t *out, int need_date, int need_msgid, const char *qid,
                    const char *host, time_t now)
{
	struct tm tm;
	char stamp[32];

	if (need_date &&
	    (sa_cats(out, "Date: ") < 0 || received_date(out, now) < 0 || sa_catc(out, '\n') < 0))
		return -1;
	if (!need_msgid)
		return 0;
	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm) == 0)
		return -1;
	return sa_catf(out, "Message-ID: <%s.%s@%s>\n", stamp, qid, host);
}
