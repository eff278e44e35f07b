/* dsn: RFC 3464 delivery status notifications (see dsn.h). The three body
 * parts are built first so that the boundary can be checked against them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dsn.h"
#include "hdr.h"

#define DSN_FOLD 76          /* fold header-style lines at a space past this column */
#define DSN_HARD 900         /* and break a word that long anyway (limit is 998) */
#define DSN_READ 65536

int dsn_8bit(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* RFC 5322 §3.3 date, in UTC */
static int date_cat(sa_t *out, long long t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return sa_cats(out, "Thu, 01 Jan 1970 00:00:00 +0000");
	return sa_cats(out, buf);
}

/* text from elsewhere (SMTP replies, addresses) made safe for a header line:
 * printable ASCII only */
static int clean_cat(sa_t *out, const char *s)
{
	size_t i, n = strlen(s);

	if (sa_ready(out, n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out->s[out->len++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out->s[out->len] = '\0';
	return 0;
}

/* "Name: value" folded at spaces (continuation lines start with a space),
 * long words broken; ends with LF */
static int field_cat(sa_t *out, const char *name, const char *value, const char *indent)
{
	sa_t v = SA_INIT;
	size_t col, i, ilen = strlen(indent);
	int r = -1;

	if (clean_cat(&v, value) < 0)
		goto out;
	if (sa_cats(out, name) < 0)
		goto out;
	col = strlen(name);
	i = 0;
	while (i < v.len) {
		/* the next word with the spaces before it */
		size_t j = i, w;
		while (j < v.len && v.s[j] == ' ')
			j++;
		while (j < v.len && v.s[j] != ' ')
			j++;
		w = j - i;
		if (col + w > DSN_FOLD && col > ilen + 1 && i > 0) {
			/* fold before this word: drop its leading spaces */
			while (i < j && v.s[i] == ' ')
				i++;
			w = j - i;
			if (sa_catc(out, '\n') < 0 || sa_cats(out, indent) < 0)
				goto out;
			col = ilen;
		}
		while (w > DSN_HARD) {
			if (sa_catb(out, v.s + i, DSN_HARD) < 0 || sa_catc(out, '\n') < 0 ||
			    sa_cats(out, indent) < 0)
				goto out;
			i += DSN_HARD;
			w -= DSN_HARD;
			col = ilen;
		}
		if (sa_catb(out, v.s + i, w) < 0)
			goto out;
		col += w;
		i = j;
	}
	r = sa_catc(out, '\n');
out:
	sa_free(&v);
	return r;
}

/* a diagnostic with its type: "smtp; ..." stays, anything else gets X-Pochta */
static int diag_typed(sa_t *out, const char *diag)
{
	size_t i = 0;

	while ((diag[i] >= 'a' && diag[i] <= 'z') || (diag[i] >= 'A' && diag[i] <= 'Z') ||
	       (diag[i] >= '0' && diag[i] <= '9') || diag[i] == '-')
		i++;
	if (i > 0 && diag[i] == ';')
		return sa_cats(out, diag);
	return sa_catf(out, "X-Pochta; %s", diag);
}

static int valid_status(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && (s[0] == '2' || s[0] == '4' || s[0] == '5') && dsn_status_len(s, n) == n;
}

static int part_text(sa_t *p, const struct dsn_info *in, const struct dsn_rcpt *r, size_t n)
{
	size_t i;

	if (sa_cats(p, "Content-Description: Notification\n"
	               "Content-Type: text/plain; charset=us-ascii\n\n") < 0 ||
	    sa_cats(p, "This is the mail system at host ") < 0 || clean_cat(p, in->reporting_mta) < 0 ||
	    sa_cats(p, ".\n\n") < 0)
		return -1;
	if (in->success) {
		if (sa_cats(p, "Your message was successfully delivered to the destination(s)\n"
		               "listed below. If the message was delivered to a mailbox you will\n"
		               "receive no further notifications. Otherwise you may still receive\n"
		               "notifications of mail delivery errors from other systems.\n\n") < 0)
			return -1;
	} else if (in->delayed) {
		if (sa_cats(p, "This is a warning only: you do not need to send your message again.\n\n"
		               "Your message could not yet be delivered to the recipients below.\n"
		               "The mail system will keep trying to deliver it.\n\n") < 0)
			return -1;
	} else {
		if (sa_cats(p, "I'm sorry to have to inform you that your message could not\n"
		               "be delivered to one or more recipients. It's attached below.\n\n"
		               "For further assistance, please send mail to postmaster.\n\n") < 0)
			return -1;
	}
	for (i = 0; i < n; i++) {
		sa_t line = SA_INIT;
		int rc;
		rc = sa_catc(&line, '<') < 0 || clean_cat(&line, r[i].addr) < 0 ||
		     sa_cats(&line, ">: ") < 0 ||
		     clean_cat(&line, r[i].diag && *r[i].diag ? r[i].diag : r[i].status) < 0;
		if (!rc)
			rc = field_cat(p, "", line.s, "    ") < 0 || sa_catc(p, '\n') < 0;
		sa_free(&line);
		if (rc)
			return -1;
	}
	return 0;
}

static int part_status(sa_t *p, const struct dsn_info *in, const struct dsn_rcpt *r, size_t n)
{
	size_t i;

	if (sa_cats(p, "Content-Description: Delivery report\n"
	               "Content-Type: message/delivery-status\n\n") < 0 ||
	    (in->envid && (sa_cats(p, "Original-Envelope-Id: ") < 0 || clean_cat(p, in->envid) < 0 ||
	                   sa_catc(p, '\n') < 0)) ||
	    sa_cats(p, "Reporting-MTA: dns; ") < 0 || clean_cat(p, in->reporting_mta) < 0 ||
	    sa_catc(p, '\n') < 0)
		return -1;
	if (in->qid && (sa_cats(p, "X-Pochta-Queue-ID: ") < 0 || clean_cat(p, in->qid) < 0 ||
	                sa_catc(p, '\n') < 0))
		return -1;
	if (in->arrival > 0 && (sa_cats(p, "Arrival-Date: ") < 0 || date_cat(p, in->arrival) < 0 ||
	                        sa_catc(p, '\n') < 0))
		return -1;
	for (i = 0; i < n; i++) {
		sa_t v = SA_INIT;
		int bad = 0;
		bad |= sa_catc(p, '\n') < 0;
		bad |= sa_catf(&v, "rfc822; %s", r[i].addr) < 0 ||
		       field_cat(p, "Final-Recipient: ", v.s, " ") < 0;
		if (r[i].orcpt && *r[i].orcpt) {
			const char *semi = strchr(r[i].orcpt, ';');
			sa_trunc(&v, 0);
			bad |= !semi || sa_catb(&v, r[i].orcpt, (size_t)(semi - r[i].orcpt)) < 0 ||
			       sa_catf(&v, "; %s", semi + 1) < 0 ||
			       field_cat(p, "Original-Recipient: ", v.s, " ") < 0;
		} else if (r[i].orig && *r[i].orig && strcmp(r[i].orig, r[i].addr) != 0) {
			sa_trunc(&v, 0);
			bad |= sa_catf(&v, "rfc822; %s", r[i].orig) < 0 ||
			       field_cat(p, "Original-Recipient: ", v.s, " ") < 0;
		}
		bad |= sa_catf(p, "Action: %s\n", r[i].action ? r[i].action
		                                   : in->delayed ? "delayed" : "failed") < 0;
		bad |= sa_catf(p, "Status: %s\n", r[i].status) < 0;
		if (r[i].remote_mta && *r[i].remote_mta) {
			sa_trunc(&v, 0);
			bad |= sa_catf(&v, "dns; %s", r[i].remote_mta) < 0 ||
			       field_cat(p, "Remote-MTA: ", v.s, " ") < 0;
		}
		if (r[i].diag && *r[i].diag) {
			sa_trunc(&v, 0);
			bad |= diag_typed(&v, r[i].diag) < 0 ||
			       field_cat(p, "Diagnostic-Code: ", v.s, " ") < 0;
		}
		if (r[i].last_attempt > 0)
			bad |= sa_cats(p, "Last-Attempt-Date: ") < 0 || date_cat(p, r[i].last_attempt) < 0 ||
			       sa_catc(p, '\n') < 0;
		if (in->delayed && r[i].will_retry_until > 0)
			bad |= sa_cats(p, "Will-Retry-Until: ") < 0 ||
			       date_cat(p, r[i].will_retry_until) < 0 || sa_catc(p, '\n') < 0;
		sa_free(&v);
		if (bad)
			return -1;
	}
	return 0;
}

/* the original: all of it, or its header section; appended to p */
static int orig_read(sa_t *p, int fd, unsigned long long off, unsigned long long size, int whole)
{
	unsigned long long done = 0, want = whole ? size : (size < DSN_HEADERS_MAX ? size : DSN_HEADERS_MAX);
	size_t base = p->len;
	struct hdr hs;

	hdr_init(&hs, NULL, 0, NULL, NULL);
	while (done < want) {
		size_t chunk = want - done > DSN_READ ? DSN_READ : (size_t)(want - done);
		ssize_t r;
		if (sa_ready(p, chunk) < 0)
			return -1;
		r = pread(fd, p->s + p->len, chunk, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO; /* shorter than said */
			return -1;
		}
		p->len += (size_t)r;
		p->s[p->len] = '\0';
		done += (unsigned long long)r;
		/* stop at the empty line that ends the header section */
		if (!whole) {
			hdr_feed(&hs, p->s + p->len - (size_t)r, (size_t)r);
			if (hs.done) {
				sa_trunc(p, base + (size_t)hs.hlen);
				return 0;
			}
		}
	}
	if (!whole && done < size) {
		/* headers longer than we return: keep whole lines only */
		const char *h = p->s + base;
		size_t k = p->len - base;
		while (k > 0 && h[k - 1] != '\n')
			k--;
		sa_trunc(p, base + k);
	}
	return 0;
}

static int part_orig(sa_t *p, int fd, unsigned long long off, unsigned long long size,
                     long long limit)
{
	int whole = limit >= 0 && size <= (unsigned long long)limit;
	size_t start;

	if (sa_cats(p, whole ? "Content-Description: Undelivered Message\n"
	                       "Content-Type: message/rfc822\n"
	                     : "Content-Description: Undelivered Message Headers\n"
	                       "Content-Type: text/rfc822-headers\n") < 0)
		return -1;
	start = p->len;
	/* the encoding line is decided after reading: leave room by building in order */
	if (sa_cats(p, "\n") < 0)
		return -1;
	if (orig_read(p, fd, off, size, whole) < 0)
		return -1;
	if (p->len > start + 1 && p->s[p->len - 1] != '\n' && sa_catc(p, '\n') < 0)
		return -1;
	if (dsn_8bit(p->s + start, p->len - start)) {
		/* insert the header before the blank line at start */
		const char *cte = "Content-Transfer-Encoding: 8bit\n";
		size_t cl = strlen(cte);
		if (sa_ready(p, cl) < 0)
			return -1;
		memmove(p->s + start + cl, p->s + start, p->len - start + 1);
		memcpy(p->s + start, cte, cl);
		p->len += cl;
	}
	return 0;
}

/* a boundary that occurs nowhere in the parts */
static int boundary_pick(char *b, size_t cap, const struct dsn_info *in, long long now,
                         const sa_t *parts, size_t nparts)
{
	unsigned attempt;
	size_t i;

	for (attempt = 0; attempt < 100; attempt++) {
		int clash = 0;
		snprintf(b, cap, "=_pochta_%lld_%08x%08x_%u", now, arc4random(), arc4random(), attempt);
		(void)in;
		for (i = 0; i < nparts && !clash; i++)
			if (parts[i].len && memmem(parts[i].s, parts[i].len, b, strlen(b)))
				clash = 1;
		if (!clash)
			return 0;
	}
	errno = EAGAIN;
	return -1;
}

int dsn_build(sa_t *out, const struct dsn_info *in, const struct dsn_rcpt *r, size_t n,
              int orig_fd, unsigned long long orig_off, unsigned long long orig_size,
              long long limit)
{
	sa_t parts[3] = { SA_INIT, SA_INIT, SA_INIT };
	size_t nparts = 2, i, start = out->len;
	long long now;
	char boundary[80];
	int eight = 0, rc = -1;

	if (!in || !in->reporting_mta || !*in->reporting_mta || !in->sender || !*in->sender ||
	    n == 0 || !r) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!r[i].addr || !*r[i].addr || !valid_status(r[i].status)) {
			errno = EINVAL;
			return -1;
		}
	}
	now = in->now ? in->now : (long long)time(NULL);
	if (part_text(&parts[0], in, r, n) < 0 || part_status(&parts[1], in, r, n) < 0)
		goto out;
	if (orig_fd >= 0) {
		if (part_orig(&parts[2], orig_fd, orig_off, orig_size, limit) < 0)
			goto out;
		nparts = 3;
		eight = dsn_8bit(parts[2].s, parts[2].len);
	}
	if (boundary_pick(boundary, sizeof boundary, in, now, parts, nparts) < 0)
		goto out;

	if (sa_cats(out, "From: MAILER-DAEMON@") < 0 || clean_cat(out, in->reporting_mta) < 0 ||
	    sa_cats(out, " (Mail Delivery System)\n") < 0 ||
	    sa_cats(out, "To: <") < 0 || clean_cat(out, in->sender) < 0 || sa_cats(out, ">\n") < 0 ||
	    sa_cats(out, in->success ? "Subject: Successful Mail Delivery Report\n"
	                 : in->delayed ? "Subject: Delayed Mail (still being retried)\n"
	                             : "Subject: Undelivered Mail Returned to Sender\n") < 0 ||
	    sa_cats(out, "Date: ") < 0 || date_cat(out, now) < 0 || sa_catc(out, '\n') < 0 ||
	    sa_catf(out, "Message-ID: <%lld.%08x%08x.%s@", now, arc4random(), arc4random(),
	            in->success ? "success" : in->delayed ? "delay" : "bounce") < 0 ||
	    clean_cat(out, in->reporting_mta) < 0 || sa_cats(out, ">\n") < 0 ||
	    sa_cats(out, "Auto-Submitted: auto-replied\n"
	                 "MIME-Version: 1.0\n"
	                 "Content-Type: multipart/report; report-type=delivery-status;\n") < 0 ||
	    sa_catf(out, "\tboundary=\"%s\"\n", boundary) < 0 ||
	    sa_catf(out, "Content-Transfer-Encoding: %s\n\n", eight ? "8bit" : "7bit") < 0 ||
	    sa_cats(out, "This is a MIME-encapsulated message.\n\n") < 0)
		goto out;
	for (i = 0; i < nparts; i++) {
		if (sa_catf(out, "--%s\n", boundary) < 0 || sa_catb(out, parts[i].s, parts[i].len) < 0)
			goto out;
		/* the line break before a boundary belongs to it (RFC 2046 §5.1.1) */
		if (sa_catc(out, '\n') < 0)
			goto out;
	}
	if (sa_catf(out, "--%s--\n", boundary) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		int e = errno;
		sa_trunc(out, start);
		errno = e;
	}
	for (i = 0; i < 3; i++)
		sa_free(&parts[i]);
	return rc;
}

size_t dsn_status_len(const char *s, size_t len)
{
	size_t i = 0, part, d;

	for (part = 0; part < 3; part++) {
		for (d = 0; i < len && s[i] >= '0' && s[i] <= '9' && d < 4; d++)
			i++;
		if (d == 0 || d > (part ? 3u : 1u))
			return 0;
		if (part < 2) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
	}
	return i;
}
