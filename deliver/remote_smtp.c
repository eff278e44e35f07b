/* remote_smtp: one SMTP client session (RFC 5321 §3, §4; PIPELINING RFC 2920,
 * SIZE RFC 1870, 8BITMIME RFC 6152) for the recipients still pending. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "dresult.h"
#include "dsn.h"
#include "remote.h"

#define QUIT_TIMEOUT_MS 5000

struct reply {
	int code;                   /* 200..599 */
	char status[16];            /* enhanced status (from the text, or x.0.0) */
	sa_t text;                  /* "550 5.1.1 text of all lines", for diagnostics */
	sa_t lines;                 /* the text after the code of each line, LF-separated */
};

struct sess {
	struct remote *rm;
	struct peer *p;
	int fd;
	io_t in, out;
	char ibuf[8192];
	char obuf[16384];
	int closed;                 /* the peer closed or said 421: no QUIT */
	int pipelining;
	int eightbitmime;
	int size_offered;
	unsigned long long size_max; /* 0: no SIZE limit announced */
	struct reply rep;
	sa_t line;
	int wait_s;                 /* the limit of the reply being read, for messages */
};

/* an enhanced status at the start of a reply text, followed by a space or the
 * end: its length, or 0 */
static size_t enh_len(const char *s, size_t len)
{
	size_t k = dsn_status_len(s, len);

	return k && (k == len || s[k] == ' ') ? k : 0;
}

/* read one reply, every line bounded; 0, or -1 (errno: ETIMEDOUT, ECONNRESET at
 * EOF, EPROTO for a malformed reply) */
static int reply_lines(struct sess *s);

/* One reply, multi-line ones included, within remote_timeout in all: the
 * per-read timeout alone would let a server that trickles bytes (an endless
 * line, endless continuation lines) hold a delivery slot forever. */
static int reply_within(struct sess *s, int secs)
{
	int r, per_read = s->in.timeout_ms;

	s->wait_s = secs;
	s->in.timeout_ms = secs * 1000;
	io_deadline(&s->in, secs * 1000);
	r = reply_lines(s);
	io_deadline(&s->in, -1);
	s->in.timeout_ms = per_read;
	return r;
}

static int reply_read(struct sess *s)
{
	return reply_within(s, (int)s->rm->conf.remote_timeout);
}

static int reply_lines(struct sess *s)
{
	struct reply *r = &s->rep;
	size_t nlines = 0;

	r->code = 0;
	sa_trunc(&r->text, 0);
	sa_trunc(&r->lines, 0);
	for (;;) {
		const char *l;
		size_t len, k, skip = 4;
		int code, rc = io_getline(&s->in, &s->line, REMOTE_REPLY_LINE, NULL);

		if (rc == IO_EOF) {
			errno = ECONNRESET;
			return -1;
		}
		if (rc == IO_TOOLONG) {
			errno = EPROTO;
			return -1;
		}
		if (rc != IO_OK)
			return -1;
		l = s->line.s;
		len = s->line.len;
		if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
		    l[2] > '9' || (len > 3 && l[3] != ' ' && l[3] != '-')) {
			errno = EPROTO;
			return -1;
		}
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (nlines > 0 && code != r->code) {
			errno = EPROTO;
			return -1;
		}
		r->code = code;
		if (len < 4)
			skip = 3;
		if (nlines == 0) {
			if (sa_catb(&r->text, l, 3) < 0)
				return -1;
			k = enh_len(l + skip, len - skip);
			if (k && k < sizeof r->status && l[skip] == l[0]) {
				memcpy(r->status, l + skip, k);
				r->status[k] = '\0';
			} else {
				snprintf(r->status, sizeof r->status, "%c.0.0", l[0]);
			}
		} else {
			/* continuation lines repeat the enhanced code: keep it once */
			k = enh_len(l + skip, len - skip);
			if (k)
				skip += k + (skip + k < len ? 1 : 0);
		}
		if (skip < len && r->text.len < DRESULT_TEXT_MAX) {
			if (sa_catc(&r->text, ' ') < 0 || sa_catb(&r->text, l + skip, len - skip) < 0)
				return -1;
		}
		if ((nlines > 0 && sa_catc(&r->lines, '\n') < 0) ||
		    sa_catb(&r->lines, l + (len < 4 ? 3 : 4), len < 4 ? 0 : len - 4) < 0)
			return -1;
		nlines++;
		if (len == 3 || l[3] == ' ')
			break;
		if (nlines >= REMOTE_REPLY_LINES) {
			errno = EPROTO;
			return -1;
		}
	}
	if (r->text.len > DRESULT_TEXT_MAX)
		sa_trunc(&r->text, DRESULT_TEXT_MAX);
	return 0;
}

/* the greeting names the server first: is that our own name? */
static int greets_as_us(const struct sess *s)
{
	const char *me = conf_hostname(&s->rm->conf), *g = s->rep.lines.s;
	size_t n = 0, len = strlen(me);

	if (!g)
		return 0;
	while (g[n] && g[n] != ' ' && g[n] != '\n')
		n++;
	return n == len && strncasecmp(g, me, n) == 0;
}

static void sess_close(struct sess *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* an I/O failure or a malformed reply: the session is over, try the next host */
static void io_failed(struct sess *s, const char *while_doing)
{
	int e = errno;

	if (e == ETIMEDOUT)
		session_error(s->rm, 'T', "4.4.2", s->p->label, "timeout after %ds with %s while %s",
		              s->wait_s, s->p->label, while_doing);
	else if (e == EPROTO)
		session_error(s->rm, 'T', "4.5.0", s->p->label, "malformed reply from %s while %s",
		              s->p->label, while_doing);
	else
		session_error(s->rm, 'T', "4.4.2", s->p->label, "lost connection with %s while %s: %s",
		              s->p->label, while_doing, strerror(e));
	s->closed = 1;
}

static void smtp_text(sa_t *out, const struct reply *r)
{
	sa_trunc(out, 0);
	sa_cats(out, "smtp; ");
	sa_catb(out, r->text.s, r->text.len);
}

/* a reply that ends the session with this host for every pending recipient */
static void reply_failed(struct sess *s)
{
	sa_t t = SA_INIT;

	smtp_text(&t, &s->rep);
	session_error(s->rm, 'T', s->rep.status, s->p->label, "%s", t.s ? t.s : "");
	sa_free(&t);
	if (s->rep.code == 421)
		s->closed = 1;
}

static void rcpt_reply(struct sess *s, size_t i, char class)
{
	sa_t t = SA_INIT;

	smtp_text(&t, &s->rep);
	rcpt_set(s->rm, i, class, s->rep.status, t.s ? t.s : "", s->p->label);
	sa_free(&t);
}

/* send a command and read its reply; 0, or -1 (session failed and recorded) */
static int command(struct sess *s, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int command(struct sess *s, const char *what, const char *fmt, ...)
{
	sa_t cmd = SA_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = sa_vcatf(&cmd, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = io_put(&s->out, cmd.s, cmd.len);
	sa_free(&cmd);
	if (r < 0 || reply_read(s) < 0) {
		io_failed(s, what);
		return -1;
	}
	return 0;
}

static void ehlo_parse(struct sess *s)
{
	const char *p = s->rep.lines.s, *end = p + s->rep.lines.len;

	/* the first line is the greeting text; then one keyword per line */
	p = memchr(p, '\n', (size_t)(end - p));
	while (p && p < end) {
		const char *l = p + 1, *nl = memchr(l, '\n', (size_t)(end - l));
		size_t len = nl ? (size_t)(nl - l) : (size_t)(end - l);
		if (len == 10 && strncasecmp(l, "PIPELINING", 10) == 0)
			s->pipelining = 1;
		else if (len == 8 && strncasecmp(l, "8BITMIME", 8) == 0)
			s->eightbitmime = 1;
		else if (len >= 4 && strncasecmp(l, "SIZE", 4) == 0 && (len == 4 || l[4] == ' ')) {
			unsigned long long v = 0;
			size_t i;
			for (i = 5; i < len && l[i] >= '0' && l[i] <= '9'; i++) {
				if (v > (~0ULL - 9) / 10) {
					v = 0; /* absurd: treat as no limit */
					break;
				}
				v = v * 10 + (unsigned long long)(l[i] - '0');
			}
			s->size_offered = 1;
			s->size_max = v; /* "SIZE" or "SIZE 0": no fixed limit */
		}
		p = nl;
	}
}

static void quit(struct sess *s)
{
	if (!s->closed) {
		s->out.timeout_ms = QUIT_TIMEOUT_MS;
		if (io_puts(&s->out, "QUIT\r\n") == 0 && io_flush(&s->out) == 0)
			(void)reply_within(s, QUIT_TIMEOUT_MS / 1000);
	}
	sess_close(s);
}

/* the RCPT replies; returns 0, or -1 when the session broke */
static int rcpt_replies_pipelined(struct sess *s, const size_t *idx, size_t n, int mail_ok,
                                  size_t *accepted)
{
	size_t k;

	for (k = 0; k < n; k++) {
		if (reply_read(s) < 0) {
			io_failed(s, "reading RCPT TO replies");
			return -1;
		}
		if (!mail_ok)
			continue;
		if (s->rep.code == 421) {
			reply_failed(s);
			return -1;
		}
		if (s->rep.code / 100 == 2) {
			s->rm->r[idx[k]].accepted = 1;
			(*accepted)++;
		} else {
			rcpt_reply(s, idx[k], s->rep.code / 100 == 5 ? 'P' : 'T');
		}
	}
	return 0;
}

static void data_result(struct sess *s, const size_t *idx, size_t n)
{
	size_t k;
	char class = s->rep.code / 100 == 2 ? 'D' : s->rep.code / 100 == 5 ? 'P' : 'T';

	for (k = 0; k < n; k++)
		if (s->rm->r[idx[k]].accepted)
			rcpt_reply(s, idx[k], class);
	if (s->rep.code == 421)
		s->closed = 1;
}

static void transaction(struct sess *s)
{
	struct remote *rm = s->rm;
	size_t *idx, n = 0, k, accepted = 0;
	const char *body = "";
	sa_t mail = SA_INIT;
	int mail_ok;

	idx = calloc(rm->n ? rm->n : 1, sizeof *idx);
	if (!idx) {
		session_error(rm, 'T', "4.3.0", s->p->label, "out of memory");
		return;
	}
	for (k = 0; k < rm->n; k++) {
		rm->r[k].accepted = 0;
		if (!rm->r[k].final)
			idx[n++] = k;
	}
	if (s->eightbitmime && (strcmp(rm->msg.body, "8BITMIME") == 0 || rm->msg.eightbit))
		body = " BODY=8BITMIME";
	if (sa_catf(&mail, "MAIL FROM:<%s>", rm->sender) < 0 ||
	    (s->size_offered && sa_catf(&mail, " SIZE=%llu", rm->msg.wire) < 0) ||
	    sa_cats(&mail, body) < 0 || sa_cats(&mail, "\r\n") < 0) {
		session_error(rm, 'T', "4.3.0", s->p->label, "out of memory");
		goto out;
	}

	if (s->pipelining) {
		/* RFC 2920: MAIL, every RCPT and DATA in one go, then the replies in order */
		int bad = io_put(&s->out, mail.s, mail.len) < 0;
		for (k = 0; k < n && !bad; k++)
			bad = io_printf(&s->out, "RCPT TO:<%s>\r\n", rm->r[idx[k]].addr) < 0;
		if (bad || io_puts(&s->out, "DATA\r\n") < 0 || reply_read(s) < 0) {
			io_failed(s, "sending MAIL FROM");
			goto out;
		}
		mail_ok = s->rep.code / 100 == 2;
		if (!mail_ok) {
			if (s->rep.code / 100 == 5) {
				for (k = 0; k < n; k++)
					rcpt_reply(s, idx[k], 'P');
			} else {
				reply_failed(s);
			}
			if (s->closed)
				goto out;
		}
		if (rcpt_replies_pipelined(s, idx, n, mail_ok, &accepted) < 0)
			goto out;
		if (reply_read(s) < 0) {
			io_failed(s, "reading the DATA reply");
			goto out;
		}
		if (!mail_ok || accepted == 0) {
			if (s->rep.code == 354) {
				/* DATA went through with nobody to send to: an empty message ends it */
				if (io_puts(&s->out, ".\r\n") < 0 || reply_read(s) < 0)
					io_failed(s, "ending an empty DATA");
			}
			if (s->rep.code == 421)
				s->closed = 1;
			goto out;
		}
	} else {
		if (command(s, "sending MAIL FROM", "%s", mail.s) < 0)
			goto out;
		if (s->rep.code / 100 != 2) {
			if (s->rep.code / 100 == 5) {
				for (k = 0; k < n; k++)
					rcpt_reply(s, idx[k], 'P');
			} else {
				reply_failed(s);
			}
			goto out;
		}
		for (k = 0; k < n; k++) {
			if (command(s, "sending RCPT TO", "RCPT TO:<%s>\r\n", rm->r[idx[k]].addr) < 0)
				goto out;
			if (s->rep.code == 421) {
				reply_failed(s);
				goto out;
			}
			if (s->rep.code / 100 == 2) {
				rm->r[idx[k]].accepted = 1;
				accepted++;
			} else {
				rcpt_reply(s, idx[k], s->rep.code / 100 == 5 ? 'P' : 'T');
			}
		}
		if (accepted == 0)
			goto out;
		if (command(s, "sending DATA", "DATA\r\n") < 0)
			goto out;
	}
	if (s->rep.code != 354) {
		data_result(s, idx, n);
		goto out;
	}
	if (msg_send(&rm->msg, &s->out) < 0 || io_flush(&s->out) < 0) {
		if (errno == EIO || errno == ENOMEM)
			session_error(rm, 'T', "4.3.0", s->p->label, "reading the queued message: %s",
			              strerror(errno));
		else
			io_failed(s, "sending the message");
		s->closed = 1;
		goto out;
	}
	/* the server may be scanning the message: RFC 5321 §4.5.3.2.6 asks for
	 * 10 minutes here; giving up sooner means the same message twice */
	if (reply_within(s, (int)rm->conf.remote_data_timeout) < 0) {
		io_failed(s, "waiting for the reply to the end of data");
		goto out;
	}
	data_result(s, idx, n);
out:
	sa_free(&mail);
	free(idx);
}

void smtp_session(struct remote *rm, struct peer *p)
{
	struct sess *s;
	int tmo = (int)rm->conf.remote_timeout * 1000;

	s = calloc(1, sizeof *s);
	if (!s) {
		session_error(rm, 'T', "4.3.0", p->label, "out of memory");
		return;
	}
	s->rm = rm;
	s->p = p;
	s->fd = conn_open(&p->addr, p->port, (int)rm->conf.remote_connect_timeout);
	if (s->fd < 0) {
		session_error(rm, 'T', "4.4.1", p->label, "connect to %s: %s", p->label,
		              errno == ETIMEDOUT ? "Connection timed out" : strerror(errno));
		free(s);
		return;
	}
	io_init(&s->in, s->fd, s->ibuf, sizeof s->ibuf, tmo);
	io_init(&s->out, s->fd, s->obuf, sizeof s->obuf, tmo);
	s->in.flush = &s->out;   /* a read that would block sends our commands first */

	if (reply_read(s) < 0) {
		io_failed(s, "waiting for the greeting");
		goto done;
	}
	if (s->rep.code / 100 != 2) {
		/* RFC 5321 §5.1: a host that will not talk to us: try the next one */
		reply_failed(s);
		goto done;
	}
	if (greets_as_us(s)) {
		/* a route, relayhost or MX that leads back here: every copy would come
		 * back until the Received: limit, so fail at once (RFC 5321 §5.1) */
		session_error(s->rm, 'P', "5.4.6", s->p->label,
		              "mail for %s loops back to myself: %s greets as %s", s->rm->domain,
		              s->p->label, conf_hostname(&s->rm->conf));
		goto done;
	}
	if (command(s, "sending EHLO", "EHLO %s\r\n", conf_hostname(&rm->conf)) < 0)
		goto done;
	if (s->rep.code / 100 == 2) {
		ehlo_parse(s);
	} else if (s->rep.code == 421) {
		reply_failed(s);
		goto done;
	} else {
		if (command(s, "sending HELO", "HELO %s\r\n", conf_hostname(&rm->conf)) < 0)
			goto done;
		if (s->rep.code / 100 != 2) {
			reply_failed(s);
			goto done;
		}
	}
	if (s->size_max && rm->msg.wire > s->size_max) {
		size_t k;
		sa_t t = SA_INIT;
		sa_catf(&t, "message size %llu exceeds size limit %llu of server %s", rm->msg.wire,
		        s->size_max, p->label);
		for (k = 0; k < rm->n; k++)
			if (!rm->r[k].final)
				rcpt_set(rm, k, 'P', "5.3.4", t.s ? t.s : "message too big", p->label);
		sa_free(&t);
		goto done;
	}
	transaction(s);
done:
	quit(s);
	sa_free(&s->rep.text);
	sa_free(&s->rep.lines);
	sa_free(&s->line);
	free(s);
}
