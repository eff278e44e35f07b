/* remote_smtp: one SMTP client session (RFC 5321 §3, §4; PIPELINING RFC 2920,
 * SIZE RFC 1870, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531, CHUNKING and BINARYMIME
 * RFC 3030) for the recipients still pending, and the
 * connection cache of a worker: a session whose transaction the server
 * accepted may be kept open, idle, for the next message to the same domain
 * (smtp_cached), which starts with RSET. A kept connection that turns out dead
 * (no reply to RSET, a lost connection or a 421 before the reply to MAIL) is
 * dropped without a result for anyone: the caller delivers over a new one. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <poll.h>
#include <sys/socket.h>
#include "log.h"
#include "remote.h"
#include "tlsc.h"
#include "rreq.h"
#include "smtpreply.h"

#define QUIT_TIMEOUT_MS 5000
#define RSET_TIMEOUT 20             /* seconds a kept connection has to answer RSET */

/* what we wait for: the replies RFC 5321 §4.3.2 allows besides 4xx and 5xx */
enum step { ST_GREETING, ST_EHLO, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_DOT, ST_RSET, ST_STARTTLS };

static const struct {
	const char *name;           /* what the reply answers, for messages */
	const char *doing;          /* what we were doing when the reply did not come */
} steps[] = {
	[ST_GREETING] = { "the greeting", "waiting for the greeting" },
	[ST_EHLO] = { "EHLO", "sending EHLO" },
	[ST_HELO] = { "HELO", "sending HELO" },
	[ST_MAIL] = { "MAIL FROM", "sending MAIL FROM" },
	[ST_RCPT] = { "RCPT TO", "sending RCPT TO" },
	[ST_DATA] = { "DATA", "sending DATA" },
	[ST_DOT] = { "the end of data", "waiting for the reply to the end of data" },
	[ST_RSET] = { "RSET", "sending RSET" },
	[ST_STARTTLS] = { "STARTTLS", "sending STARTTLS" },
};

struct sess {
	struct remote *rm;
	struct peer *p;             /* &peer */
	struct peer peer;
	int fd;
	io_t in, out;
	char ibuf[8192];
	char obuf[16384];
	int closed;                 /* the peer closed, said 421 or lost step: no QUIT */
	struct smtpreply_ehlo ext;  /* what EHLO offered */
	struct smtpreply rep;
	sa_t line;
	int wait_s;                 /* the limit of the reply being read, for messages */
	unsigned uses;              /* transactions begun on this connection */
	int accepted;               /* the server accepted the last transaction's data */
	int probing;                /* a kept connection, before the reply to MAIL */
	int stale;                  /* ... that failed then: nobody's result */
	struct tlsc tls;            /* pochta-tls after STARTTLS; pid 0: none */
};

/* the kept connection of a worker */
static struct {
	struct sess *s;
	char domain[RREQ_DOMAIN_MAX + 1];
	long long until;            /* CLOCK_MONOTONIC ms: closed then */
} cache;

/* read one reply, every line bounded; 0, or -1 (errno: ETIMEDOUT, ECONNRESET at
 * EOF, EPROTO for a malformed reply) */
static int reply_lines(struct sess *s)
{
	int r = 0;

	smtpreply_reset(&s->rep);
	while (r == 0) {
		int rc = io_getline(&s->in, &s->line, SMTPREPLY_LINE_MAX, NULL);

		if (rc != IO_OK) {
			if (rc == IO_EOF)
				errno = ECONNRESET;
			else if (rc == IO_TOOLONG)
				errno = EPROTO;
			return -1;
		}
		r = smtpreply_line(&s->rep, s->line.s, s->line.len);
	}
	return r < 0 ? -1 : 0;
}

/* One reply, multi-line ones included, within secs in all: the per-read
 * timeout alone would let a server that trickles bytes (an endless line,
 * endless continuation lines) hold a delivery slot forever. */
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
	if (s->tls.pid > 0)
		tlsc_end(&s->tls, 2000);
}

/* an I/O failure or a malformed reply: the session is over, try the next host */
static void io_failed(struct sess *s, const char *doing)
{
	int e = errno;

	if (s->probing) {
		log_info(s->rm->qid, "cached connection to %s failed while %s: %s", s->p->label, doing,
		         e == ETIMEDOUT ? "timeout" : e == EPROTO ? "malformed reply" : strerror(e));
		s->stale = 1;
		s->closed = 1;
		return;
	}

	if (e == ETIMEDOUT)
		session_error(s->rm, 'T', "4.4.2", s->p->label, "timeout after %ds with %s while %s",
		              s->wait_s, s->p->label, doing);
	else if (e == EPROTO)
		session_error(s->rm, 'T', "4.5.0", s->p->label, "malformed reply from %s while %s",
		              s->p->label, doing);
	else
		session_error(s->rm, 'T', "4.4.2", s->p->label, "lost connection with %s while %s: %s",
		              s->p->label, doing, strerror(e));
	s->closed = 1;
}

/* The server is out of step with us (RFC 5321 §4.3.2, RFC 2920 §3.1): no reply
 * of this session can be matched to a command any more, so none counts. Every
 * pending recipient is deferred (the next host may do better), the connection
 * is dropped without a word: the server may be reading message content, and
 * content that ends without the final dot is never delivered. */
static void out_of_step(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out_of_step(struct sess *s, const char *fmt, ...)
{
	sa_t t = SA_INIT;
	va_list ap;

	va_start(ap, fmt);
	if (sa_catf(&t, "protocol error with %s: ", s->p->label) < 0 || sa_vcatf(&t, fmt, ap) < 0)
		sa_trunc(&t, 0);
	va_end(ap);
	log_warn(s->rm->qid, "%s", t.s ? t.s : "protocol error");
	if (s->probing) {
		/* a kept connection: nobody's result, a new connection instead */
		s->stale = 1;
		s->closed = 1;
		sa_free(&t);
		return;
	}
	session_error(s->rm, 'T', "4.5.0", s->p->label, "%s", t.s ? t.s : "protocol error");
	sa_free(&t);
	s->closed = 1;
}

/* 1 when code is a reply the step can get: 4xx and 5xx always, else only the
 * positive replies RFC 5321 §4.3.2 lists for it */
static int reply_fits(int code, enum step st)
{
	if (code >= 400)
		return 1;
	switch (st) {
	case ST_GREETING:
	case ST_STARTTLS: return code == 220;
	case ST_EHLO:
	case ST_HELO: return code == 250;
	case ST_RCPT: return code == 250 || code == 251;
	case ST_DATA: return code == 354;
	case ST_MAIL:
	case ST_RSET:
	case ST_DOT: return code / 100 == 2;
	}
	return 0;
}

/* read the reply to step within secs: 0, or -1 when the session failed (recorded) */
static int expect_within(struct sess *s, enum step st, int secs)
{
	if (reply_within(s, secs) < 0) {
		io_failed(s, steps[st].doing);
		return -1;
	}
	if (!reply_fits(s->rep.code, st)) {
		out_of_step(s, "%d reply to %s: %s", s->rep.code, steps[st].name, s->rep.text.s);
		return -1;
	}
	return 0;
}

static int expect(struct sess *s, enum step st)
{
	return expect_within(s, st, (int)s->rm->conf.remote_timeout);
}

/* Before a command (or a pipelined group) goes out every reply so far must
 * have been read: bytes already waiting answer nothing we sent (RFC 2920 §3.1:
 * replies are counted against commands). 0, or -1 (out of step, recorded). */
static int in_step(struct sess *s, const char *next)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN, .revents = 0 };
	char c;

	if (s->in.start == s->in.end &&
	    (poll(&pfd, 1, 0) <= 0 || recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0))
		return 0; /* nothing, or the end: the next read tells */
	out_of_step(s, "a reply came before %s was sent", next);
	return -1;
}

static void smtp_text(sa_t *out, const struct smtpreply *r)
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

/* send a command when every reply so far is in, and read its reply; 0, or -1
 * (session failed and recorded) */
static int command(struct sess *s, enum step st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int command(struct sess *s, enum step st, const char *fmt, ...)
{
	sa_t cmd = SA_INIT;
	va_list ap;
	int r;

	if (in_step(s, steps[st].name) < 0)
		return -1;
	va_start(ap, fmt);
	r = sa_vcatf(&cmd, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = io_put(&s->out, cmd.s, cmd.len);
	sa_free(&cmd);
	if (r < 0) {
		io_failed(s, steps[st].doing);
		return -1;
	}
	return expect(s, st);
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

/* the reply to MAIL: 0 when accepted; 1 when refused (recorded); -1 when the
 * session is over */
static int mail_result(struct sess *s, const size_t *idx, size_t n)
{
	size_t k;

	if (s->probing && s->rep.code == 421) {
		/* a kept connection the server is closing: as good as dead */
		log_info(s->rm->qid, "cached connection to %s: 421 to MAIL", s->p->label);
		s->stale = 1;
		s->closed = 1;
		return -1;
	}
	s->probing = 0;
	if (s->rep.code / 100 == 2)
		return 0;
	if (s->rep.code / 100 == 5) {
		for (k = 0; k < n; k++)
			rcpt_reply(s, idx[k], 'P');
	} else {
		reply_failed(s);
	}
	return s->closed ? -1 : 1;
}

/* the reply to RCPT for recipient i: 0, or -1 when the session is over */
static int rcpt_result(struct sess *s, size_t i, size_t *accepted)
{
	if (s->rep.code == 421) {
		reply_failed(s);
		return -1;
	}
	if (s->rep.code / 100 == 2) {
		s->rm->r[i].accepted = 1;
		(*accepted)++;
	} else {
		rcpt_reply(s, i, s->rep.code / 100 == 5 ? 'P' : 'T');
	}
	return 0;
}

/* RFC 3461 NOTIFY= ORCPT= on RCPT, only to a peer that offers DSN */
static const char *rcpt_dsn(const struct sess *s, size_t i)
{
	const char *d = s->rm->r[i].dsn;

	return s->ext.dsn && d ? d : "";
}

static const char *rcpt_dsn_sep(const struct sess *s, size_t i)
{
	return *rcpt_dsn(s, i) ? " " : "";
}

/* a refusal of DATA or the reply to the end of data, for every accepted recipient */
static void data_result(struct sess *s, const size_t *idx, size_t n)
{
	size_t k;
	char class = s->rep.code / 100 == 2 ? 'D' : s->rep.code / 100 == 5 ? 'P' : 'T';

	for (k = 0; k < n; k++)
		if (s->rm->r[idx[k]].accepted) {
			rcpt_reply(s, idx[k], class);
			/* the peer reports from now on (RFC 3461 §5.2.2: not "relayed") */
			s->rm->r[idx[k]].passed = class == 'D' && s->ext.dsn;
		}
	if (s->rep.code == 421)
		s->closed = 1;
}

/* RFC 2920: MAIL, every RCPT and DATA in one group, then their replies in
 * order, one each. 1 when DATA got its 354 with recipients to send to; 0 when
 * the transaction is over (results recorded). bdat: no DATA in the group
 * (RFC 3030); 1 when some recipient was accepted. */
static int pipelined(struct sess *s, const sa_t *mail, const size_t *idx, size_t n, int bdat)
{
	size_t k, accepted = 0;
	int bad, mail_ok;

	if (in_step(s, steps[ST_MAIL].name) < 0)
		return 0;
	bad = io_put(&s->out, mail->s, mail->len) < 0;
	for (k = 0; k < n && !bad; k++)
		bad = io_printf(&s->out, "RCPT TO:<%s>%s%s\r\n", s->rm->r[idx[k]].addr,
		                rcpt_dsn_sep(s, idx[k]), rcpt_dsn(s, idx[k])) < 0;
	if (bad || (!bdat && io_puts(&s->out, "DATA\r\n") < 0)) {
		io_failed(s, steps[ST_MAIL].doing);
		return 0;
	}
	if (expect(s, ST_MAIL) < 0)
		return 0;
	mail_ok = mail_result(s, idx, n);
	if (mail_ok < 0)
		return 0;
	mail_ok = mail_ok == 0;
	for (k = 0; k < n; k++) {
		/* every RCPT gets its reply read, MAIL refused or not: counting keeps step */
		if (expect(s, ST_RCPT) < 0)
			return 0;
		if (mail_ok && rcpt_result(s, idx[k], &accepted) < 0)
			return 0;
	}
	if (bdat)
		return mail_ok && accepted > 0;
	if (expect(s, ST_DATA) < 0)
		return 0;
	if (s->rep.code != 354) {
		data_result(s, idx, n);
		return 0;
	}
	if (mail_ok && accepted > 0)
		return 1;
	/* DATA went through with nobody to send to: RFC 2920 §3.1 ends it with a
	 * single dot, and the server delivers nothing */
	if (in_step(s, "the empty message") < 0)
		return 0;
	if (io_puts(&s->out, ".\r\n") < 0 || reply_within(s, (int)s->rm->conf.remote_timeout) < 0 ||
	    s->rep.code == 421)
		s->closed = 1;
	return 0;
}

/* one command at a time; the same results as pipelined() */
static int lockstep(struct sess *s, const sa_t *mail, const size_t *idx, size_t n, int bdat)
{
	size_t k, accepted = 0;

	if (command(s, ST_MAIL, "%s", mail->s) < 0 || mail_result(s, idx, n) != 0)
		return 0;
	for (k = 0; k < n; k++)
		if (command(s, ST_RCPT, "RCPT TO:<%s>%s%s\r\n", s->rm->r[idx[k]].addr,
		            rcpt_dsn_sep(s, idx[k]), rcpt_dsn(s, idx[k])) < 0 ||
		    rcpt_result(s, idx[k], &accepted) < 0)
			return 0;
	if (bdat)
		return accepted > 0;
	if (accepted == 0 || command(s, ST_DATA, "DATA\r\n") < 0)
		return 0;
	if (s->rep.code != 354) {
		data_result(s, idx, n);
		return 0;
	}
	return 1;
}

static void transaction(struct sess *s)
{
	struct remote *rm = s->rm;
	size_t *idx, n = 0, k;
	const char *body = "";
	sa_t mail = SA_INIT;
	int go, bdat = s->ext.chunking; /* BDAT whenever offered (RFC 3030) */

	idx = calloc(rm->n ? rm->n : 1, sizeof *idx);
	if (!idx) {
		session_error(rm, 'T', "4.3.0", s->p->label, "out of memory");
		return;
	}
	s->uses++;
	s->accepted = 0;
	for (k = 0; k < rm->n; k++) {
		rm->r[k].accepted = 0;
		if (!rm->r[k].final)
			idx[n++] = k;
	}
	if (s->ext.eightbitmime && (strcmp(rm->msg.body, "8BITMIME") == 0 || rm->msg.eightbit))
		body = " BODY=8BITMIME";
	if (rm->msg.binary)
		body = " BODY=BINARYMIME"; /* offered: ext_refused() checked */
	if (sa_catf(&mail, "MAIL FROM:<%s>", rm->sender) < 0 ||
	    (s->ext.size && sa_catf(&mail, " SIZE=%llu", rm->msg.wire) < 0) ||
	    sa_cats(&mail, body) < 0 || (rm->smtputf8 && sa_cats(&mail, " SMTPUTF8") < 0) ||
	    (s->ext.dsn && rm->mail_dsn && *rm->mail_dsn &&
	     (sa_catc(&mail, ' ') < 0 || sa_cats(&mail, rm->mail_dsn) < 0)) ||
	    sa_cats(&mail, "\r\n") < 0) {
		session_error(rm, 'T', "4.3.0", s->p->label, "out of memory");
		goto out;
	}
	go = s->ext.pipelining ? pipelined(s, &mail, idx, n, bdat) : lockstep(s, &mail, idx, n, bdat);
	/* the content goes only after the 354 (or every RCPT reply, for BDAT),
	 * and only when nothing else came with it (RFC 2920 §3.1, RFC 5321 §4.3.2) */
	if (!go || in_step(s, "the message") < 0)
		goto out;
	if ((bdat ? msg_send_bdat(&rm->msg, &s->out) : msg_send(&rm->msg, &s->out)) < 0 ||
	    io_flush(&s->out) < 0) {
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
	if (expect_within(s, ST_DOT, (int)rm->conf.remote_data_timeout) < 0)
		goto out;
	data_result(s, idx, n);
	s->accepted = s->rep.code / 100 == 2;
out:
	sa_free(&mail);
	free(idx);
}

/* the message is larger than the server's SIZE: every pending recipient
 * fails (RFC 1870); 1 then, else 0 */
static int size_refused(struct sess *s)
{
	struct remote *rm = s->rm;
	sa_t t = SA_INIT;

	if (!s->ext.size_max || rm->msg.wire <= s->ext.size_max)
		return 0;
	sa_catf(&t, "message size %llu exceeds size limit %llu of server %s", rm->msg.wire,
	        s->ext.size_max, s->p->label);
	for (size_t k = 0; k < rm->n; k++)
		if (!rm->r[k].final)
			rcpt_set(rm, k, 'P', "5.3.4", t.s ? t.s : "message too big", s->p->label);
	sa_free(&t);
	return 1;
}

/* a message the server cannot take as it is: SMTPUTF8 without SMTPUTF8
 * (RFC 6531 §3.2: never downgraded), binary without CHUNKING and BINARYMIME
 * (RFC 3030 §3: never converted); every pending recipient fails; 1 then */
static int ext_refused(struct sess *s)
{
	struct remote *rm = s->rm;
	const char *status = NULL, *what = NULL;
	sa_t t = SA_INIT;

	if (rm->smtputf8 && !s->ext.smtputf8) {
		status = "5.6.7";
		what = "an SMTPUTF8 message: server %s does not offer SMTPUTF8";
	} else if (rm->msg.binary && !(s->ext.chunking && s->ext.binarymime)) {
		status = "5.6.3";
		what = "a BINARYMIME message: server %s does not offer CHUNKING and BINARYMIME";
	}
	if (!status)
		return 0;
	sa_catf(&t, what, s->p->label);
	for (size_t k = 0; k < rm->n; k++)
		if (!rm->r[k].final)
			rcpt_set(rm, k, 'P', status, t.s ? t.s : "cannot send", s->p->label);
	sa_free(&t);
	return 1;
}

static void sess_free(struct sess *s)
{
	sess_close(s);
	smtpreply_free(&s->rep);
	sa_free(&s->line);
	free(s);
}

/* the end of a session: kept for the next message to the domain when the
 * server accepted this one and the limits allow, else QUIT */
static void sess_end(struct sess *s)
{
	const struct conf *c = &s->rm->conf;

	if (s->rm->cache && s->accepted && !s->closed && c->remote_connection_cache_time > 0 &&
	    s->uses < (unsigned long long)c->remote_connection_reuse_limit &&
	    strlen(s->rm->domain) < sizeof cache.domain) {
		smtp_cache_close();
		cache.s = s;
		snprintf(cache.domain, sizeof cache.domain, "%s", s->rm->domain);
		cache.until = conn_now_ms() + c->remote_connection_cache_time * 1000;
		s->rm = NULL; /* the request ends before the next use */
		return;
	}
	quit(s);
	sess_free(s);
}

/* after EHLO: STARTTLS when offered (and pochta-tls is there), then EHLO
 * again (RFC 3207 4.2); a tls=verify route takes nothing less than a
 * verified certificate. 0 to go on, -1 when the session is over (recorded) */
static int starttls(struct sess *s)
{
	struct remote *rm = s->rm;

	if (!s->ext.starttls || !remote_tls_available()) {
		if (remote_tls_available())
			log_info(rm->qid, "TLS to %s: none (STARTTLS not offered)", s->p->label);
		if (!rm->tls_verify)
			return 0;
		session_error(rm, 'T', "4.7.4", s->p->label, "TLS required for %s, but %s", rm->domain,
		              s->ext.starttls ? "pochta-tls is not installed" : "the server does not offer STARTTLS");
		quit(s);
		return -1;
	}
	if (command(s, ST_STARTTLS, "STARTTLS\r\n") < 0)
		return -1;
	if (s->rep.code != 220) {
		if (!rm->tls_verify)
			return 0; /* opportunistic: on in plain text */
		reply_failed(s);
		return -1;
	}
	if (remote_tls_start(rm, s->p, &s->tls, &s->in, &s->out) < 0) {
		session_error(rm, 'T', "4.7.5", s->p->label, "TLS with %s failed: %s", s->p->label, s->tls.err);
		s->closed = 1;
		sess_close(s);
		return -1;
	}
	if (rm->tls_verify && strcmp(s->tls.info.verify, "verified") != 0) {
		session_error(rm, 'T', "4.7.5", s->p->label, "TLS certificate of %s not verified: %s",
		              s->p->label, s->tls.info.verify_error[0] ? s->tls.info.verify_error : "none");
		quit(s);
		return -1;
	}
	memset(&s->ext, 0, sizeof s->ext);
	if (command(s, ST_EHLO, "EHLO %s\r\n", conf_hostname(&rm->conf)) < 0)
		return -1;
	if (s->rep.code != 250) {
		reply_failed(s);
		return -1;
	}
	smtpreply_ehlo(&s->rep, &s->ext);
	return 0;
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
	tlsc_init(&s->tls);
	s->rm = rm;
	s->peer = *p;
	s->p = &s->peer;
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

	if (expect(s, ST_GREETING) < 0)
		goto done;
	if (s->rep.code != 220) {
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
	if (command(s, ST_EHLO, "EHLO %s\r\n", conf_hostname(&rm->conf)) < 0)
		goto done;
	if (s->rep.code == 250) {
		smtpreply_ehlo(&s->rep, &s->ext);
		if (starttls(s) < 0)
			goto done;
	} else if (s->rep.code == 421) {
		reply_failed(s);
		goto done;
	} else {
		if (command(s, ST_HELO, "HELO %s\r\n", conf_hostname(&rm->conf)) < 0)
			goto done;
		if (s->rep.code != 250) {
			reply_failed(s);
			goto done;
		}
		if (starttls(s) < 0) /* no EHLO, no STARTTLS: a tls=verify route fails */
			goto done;
	}
	if (!size_refused(s) && !ext_refused(s))
		transaction(s);
done:
	sess_end(s);
}

int smtp_cached(struct remote *rm)
{
	struct sess *s = cache.s;
	int tmo = (int)rm->conf.remote_timeout * 1000, rset = (int)rm->conf.remote_timeout;

	if (!s)
		return 0;
	if (strcasecmp(cache.domain, rm->domain) != 0 || conn_now_ms() >= cache.until) {
		smtp_cache_close();
		return 0;
	}
	cache.s = NULL;
	s->rm = rm;
	s->in.timeout_ms = s->out.timeout_ms = tmo;
	/* the server may have gone while the connection idled: RSET finds out
	 * before anything counts (RFC 5321 §4.1.1.5) */
	s->probing = 1;
	s->stale = 0;
	if (rset > RSET_TIMEOUT)
		rset = RSET_TIMEOUT;
	if (in_step(s, steps[ST_RSET].name) == 0) {
		if (io_puts(&s->out, "RSET\r\n") < 0)
			io_failed(s, steps[ST_RSET].doing);
		else
			(void)expect_within(s, ST_RSET, rset);
	}
	if (!s->stale && s->rep.code != 250) {
		log_info(rm->qid, "cached connection to %s: %d reply to RSET", s->p->label, s->rep.code);
		s->stale = 1;
	}
	if (!s->stale) {
		rm->attempts++;
		log_info(rm->qid, "reusing the connection to %s (message %u on it)", s->p->label,
		         s->uses + 1);
		if (!size_refused(s) && !ext_refused(s))
			transaction(s);
	}
	if (s->stale) {
		/* nobody's result: the caller tries a new connection */
		if (!s->closed)
			quit(s);
		sess_free(s);
		return 0;
	}
	sess_end(s);
	return 1;
}

long long smtp_cache_expire(void)
{
	long long left;

	if (!cache.s)
		return -1;
	left = cache.until - conn_now_ms();
	if (left > 0)
		return left;
	smtp_cache_close();
	return -1;
}

const char *smtp_cache_domain(void)
{
	return cache.s ? cache.domain : NULL;
}

void smtp_cache_close(void)
{
	struct sess *s = cache.s;

	if (!s)
		return;
	cache.s = NULL;
	log_info(NULL, "closing the cached connection to %s after %u message%s", s->p->label,
	         s->uses, s->uses == 1 ? "" : "s");
	quit(s);
	sess_free(s);
}
