/* smtpd_msg: one message, from DATA to the final reply. The envelope goes to
 * pochta-enqueue first, then our Received: header and the message as the DATA
 * state machine (smtpd_data.c) produces it. A message that must be refused is
 * still read to its real end (CRLF.CRLF), then abandoned: nothing is queued,
 * and no byte of it is ever taken for a command. 250 only after enqueue's K. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "smtpd.h"
#include "smtpd_bdat.h"
#include "smtpd_data.h"
#include "enqproto.h"
#include "log.h"
#include "received.h"
#include "rec.h"
#include "smtpcmd.h"

static char chunk[4096]; /* one D record at most */

static const char *body_name(int body)
{
	switch (body) {
	case SMTP_BODY_7BIT:
		return "7BIT";
	case SMTP_BODY_8BITMIME:
		return "8BITMIME";
	case SMTP_BODY_BINARYMIME:
		return "BINARYMIME";
	default:
		return "";
	}
}

/* envelope records: [U] S B P H C [N] R [O]... ; -1 when the child broke */
static int send_envelope(struct session *s)
{
	struct enq *q = &s->enq;
	const char *p = s->rcpts.s, *d = s->rcpt_dsn.s;
	size_t i;

	if ((s->smtputf8 && enq_put(q, QFILE_SMTPUTF8, "", 0) < 0) ||
	    enq_put(q, 'S', s->sender.s, s->sender.len) < 0 ||
	    enq_put(q, 'B', body_name(s->body), strlen(body_name(s->body))) < 0 ||
	    enq_put(q, 'P', smtpd_proto(s), strlen(smtpd_proto(s))) < 0 ||
	    enq_put(q, 'H', s->helo, strlen(s->helo)) < 0 ||
	    enq_put(q, 'C', s->ip_known ? s->ip : "", s->ip_known ? strlen(s->ip) : 0) < 0)
		return -1;
	/* RFC 3461 parameters, when given */
	if (s->mail_dsn.len && enq_put(q, 'N', s->mail_dsn.s, s->mail_dsn.len) < 0)
		return -1;
	for (i = 0; i < s->nrcpt; i++) {
		size_t n = strlen(p), dn = strlen(d);
		if (enq_put(q, 'R', p, n) < 0 || (dn && enq_put(q, 'O', d, dn) < 0))
			return -1;
		p += n + 1;
		d += dn + 1;
	}
	return 0;
}

/* every LF of t becomes CRLF; 0 or -1 */
static int crlf_lines(sa_t *t)
{
	sa_t o = SA_INIT;

	for (size_t i = 0; i < t->len; i++)
		if ((t->s[i] == '\n' && sa_catc(&o, '\r') < 0) || sa_catc(&o, t->s[i]) < 0) {
			sa_free(&o);
			return -1;
		}
	sa_free(t);
	*t = o;
	return 0;
}

static int send_received(struct session *s, const char *qid)
{
	sa_t h = SA_INIT;
	int r;

	struct received rv = {
		.helo = s->helo,
		.ip = s->ip_known ? s->ip : NULL,
		.uid = s->local_uid,
		.smtp = 1,
		.host = s->host,
		.proto = smtpd_proto(s),
		.qid = qid,
		.rcpt = s->nrcpt == 1 ? s->rcpts.s : NULL,
		.tls_version = s->tls_on ? s->tls.info.version : NULL,
		.tls_cipher = s->tls.info.cipher,
		.tls_bits = s->tls.info.bits,
	};

	r = received_make(&h, &rv, time(NULL));
	if (r == 0 && s->body == SMTP_BODY_BINARYMIME)
		r = crlf_lines(&h); /* stored as received: the header's lines end in CRLF */
	if (r == 0)
		r = enq_put(&s->enq, ENQ_DATA, h.s, h.len);
	sa_free(&h);
	return r;
}

/* an authenticated submission's fix-ups (RFC 6409 §8, as pochta-sendmail
 * makes them): Date: and Message-ID: when the header section has none, put
 * at its end (then the empty line that ended it, when one did) */
static int send_fixups(struct session *s, const struct data_sm *d, const char *qid, int blank)
{
	sa_t h = SA_INIT;
	int r = received_fixups(&h, !d->has_date, !d->has_msgid, qid, s->host, time(NULL));

	if (r == 0 && blank)
		r = sa_catc(&h, '\n');
	if (r == 0 && h.len > 0)
		r = enq_put(&s->enq, ENQ_DATA, h.s, h.len);
	sa_free(&h);
	return r;
}

void smtpd_clean_text(sa_t *t, size_t max)
{
	size_t i;

	if (t->len > max)
		sa_trunc(t, max);
	for (i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c < ' ' || c >= 0x7f)
			t->s[i] = '?';
	}
}

static int digits(const char **p)
{
	int n = 0;

	while (**p >= '0' && **p <= '9' && n < 4) {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= 3;
}

/* 1 when t starts with "5.X.Y " (RFC 3463 permanent status code) */
static int has_perm_code(const char *t)
{
	if (t[0] != '5' || t[1] != '.')
		return 0;
	t += 2;
	if (!digits(&t) || *t++ != '.' || !digits(&t))
		return 0;
	return *t == ' ';
}

/* what the content checks found (DATA and BDAT alike) */
struct marks {
	int bare, nul, longline;
	unsigned long received;
};

/* why a message is refused: its reply and log text, or NULL */
static const char *refusal(const struct session *s, const struct marks *d, int oversize,
                           const char **why)
{
	if (d->bare) {
		*why = "bare CR or LF";
		return "550 5.6.0 Message contains bare CR or LF (see RFC 5321 section 2.3.8)";
	}
	if (d->nul) {
		*why = "NUL character";
		return "550 5.6.0 Message contains NUL characters (see RFC 5322 section 2.1)";
	}
	if (d->longline && !s->conf.smtp_allow_long_lines) {
		*why = "line over 998 octets";
		return "550 5.6.0 Message contains a line longer than 998 octets"
		       " (see RFC 5321 section 4.5.3.1.6)";
	}
	if (oversize) {
		*why = "message too big";
		return "552 5.3.4 Error: message file too big";
	}
	if (d->received > DATA_RECEIVED_MAX) {
		*why = "mail loop";
		return "554 5.4.6 Too many Received headers: mail loop";
	}
	return NULL;
}

static void msg_commit(struct session *s, const sa_t *qid);

void msg_data(struct session *s)
{
	struct data_sm d;
	struct marks m;
	sa_t qid = SA_INIT, text = SA_INIT;
	int oversize = 0, r, tmo = (int)s->conf.smtp_timeout * 1000;
	unsigned long long limit = (unsigned long long)s->conf.message_size_limit;
	long long rate = s->conf.smtp_min_data_rate;
	const char *refuse, *why = NULL;

	if (enq_begin(&s->enq, &qid) < 0 || send_envelope(s) < 0 || send_received(s, qid.s) < 0) {
		enq_abort(&s->enq); /* a message may be open; a broken child is reaped */
		reply(s, "451 4.3.0 Error: queue file write error");
		tx_reset(s);
		goto out;
	}
	s->qid = qid.s;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");

	/* a drip cannot stretch DATA: smtp_timeout to start with, then each byte
	 * buys 1/smtp_min_data_rate s, never more than smtp_timeout ahead */
	io_deadline(&s->in, tmo);
	data_init(&d);
	d.pause_at_hdr_end = s->authed;
	while (!d.done) {
		size_t used, n;

		r = io_fill(&s->in);
		if (r == IO_EOF) {
			session_exit(s, 0, "lost connection after DATA");
		} else if (r != IO_OK) {
			if (errno == ETIMEDOUT) {
				reply(s, "421 4.4.2 %s Error: timeout exceeded", s->host);
				session_exit(s, 0, "timeout after DATA");
			}
			session_exit(s, 0, "read error after DATA");
		}
		used = data_feed(&d, s->in.buf + s->in.start, s->in.end - s->in.start,
		                 chunk, sizeof chunk, &n);
		io_consume(&s->in, used);
		if (d.size > limit)
			oversize = 1;
		/* a message that will be refused is not passed on; a failed write
		 * leaves the child broken and the rest of the data is only read */
		m = (struct marks){ d.bare, d.nul, d.longline, d.received };
		if (d.paused) {
			/* the empty line after the header section: the fix-ups before it */
			if (n > 1 && !refusal(s, &m, oversize, &why))
				(void)enq_put(&s->enq, ENQ_DATA, chunk, n - 1);
			if (!refusal(s, &m, oversize, &why))
				(void)send_fixups(s, &d, qid.s, 1);
			d.paused = d.pause_at_hdr_end = 0;
		} else if (n > 0 && !refusal(s, &m, oversize, &why)) {
			(void)enq_put(&s->enq, ENQ_DATA, chunk, n);
		}
		/* after our own write: a slow queue disk is not the client's delay;
		 * data past message_size_limit buys no time, so DATA stays bounded */
		if (!oversize)
			io_deadline_extend(&s->in, (long long)used * 1000 / rate, tmo);
	}

	s->stage = "END-OF-MESSAGE";
	m = (struct marks){ d.bare, d.nul, d.longline, d.received };
	refuse = refusal(s, &m, oversize, &why);
	/* no empty line ended the header section: the fix-ups end it */
	if (!refuse && d.pause_at_hdr_end)
		(void)send_fixups(s, &d, qid.s, 0);
	if (refuse) {
		enq_abort(&s->enq);
		reply(s, "%s", refuse);
		tx_reset(s);
		goto out;
	}

	msg_commit(s, &qid);
	tx_reset(s);
out:
	s->qid = NULL;
	sa_free(&qid);
	sa_free(&text);
}

/* the end of a message read whole and not refused: commit it, the reply */
static void msg_commit(struct session *s, const sa_t *qid)
{
	sa_t text = SA_INIT;
	int r = enq_end(&s->enq, &text);

	if (r == 'K') {
		s->messages++;
		reply(s, "250 2.0.0 Ok: queued as %s", text.s);
		/* the size the queue file holds (our Received: included), as
		 * pochta-enqueue, pochta-qmgr and pochtactl queue list give it */
		log_info(text.s, "from=<%s> size=%llu nrcpt=%zu client=%s helo=%s",
		         s->sender.s, s->enq.size, s->nrcpt, s->ip, s->helo);
	} else if (r == 'X') {
		smtpd_clean_text(&text, 200);
		/* enqueue's reason may start with its own enhanced code: keep it */
		if (has_perm_code(text.s))
			reply(s, "554 %s", text.s);
		else
			reply(s, "554 5.3.0 %s", text.len ? text.s : "Error: message refused by the queue");
		log_warn(qid->s, "queue refused the message: %s", text.len ? text.s : "(no reason)");
	} else {
		if (r == 'Z') {
			smtpd_clean_text(&text, 200);
			log_warn(qid->s, "queue temporary failure: %s", text.len ? text.s : "(no reason)");
		}
		reply(s, "451 4.3.0 Error: queue file write error");
	}
	sa_free(&text);
}

/* ---- BDAT (RFC 3030) ---- */

static struct bdat_sm bdat; /* the message BDAT is building (s->bdat_open) */
static sa_t bdat_qid;       /* its queue ID */

void msg_bdat_abort(struct session *s)
{
	if (!s->bdat_open)
		return;
	s->bdat_open = 0;
	enq_abort(&s->enq);
}

/* read the chunk of b->left octets, within smtp_timeout and at the minimum
 * data rate as DATA; keep: pass the bytes on to enqueue while nothing is
 * wrong. *oversize is set once the message passes message_size_limit. */
static void bdat_read(struct session *s, struct bdat_sm *b, int keep, int *oversize)
{
	int tmo = (int)s->conf.smtp_timeout * 1000;
	unsigned long long limit = (unsigned long long)s->conf.message_size_limit;
	long long rate = s->conf.smtp_min_data_rate;
	const char *why;

	io_deadline(&s->in, tmo);
	while (b->left > 0) {
		size_t used, n;
		struct marks m;
		int r = io_fill(&s->in);

		if (r == IO_EOF) {
			session_exit(s, 0, "lost connection after BDAT");
		} else if (r != IO_OK) {
			if (errno == ETIMEDOUT) {
				reply(s, "421 4.4.2 %s Error: timeout exceeded", s->host);
				session_exit(s, 0, "timeout after BDAT");
			}
			session_exit(s, 0, "read error after BDAT");
		}
		used = bdat_feed(b, s->in.buf + s->in.start, s->in.end - s->in.start, chunk,
		                 sizeof chunk, &n);
		io_consume(&s->in, used);
		if (b->size > limit)
			*oversize = 1;
		m = (struct marks){ b->bare, b->nul, b->longline, b->received };
		if (keep && n > 0 && !refusal(s, &m, *oversize, &why))
			(void)enq_put(&s->enq, ENQ_DATA, chunk, n);
		if (!*oversize)
			io_deadline_extend(&s->in, (long long)used * 1000 / rate, tmo);
	}
}

/* a chunk nobody takes: read and dropped, then the reply */
static void bdat_discard(struct session *s, unsigned long long size, const char *why)
{
	struct bdat_sm b;
	int over = 0;

	bdat_init(&b, 1);
	bdat_chunk(&b, size);
	bdat_read(s, &b, 0, &over);
	s->errors++;
	reply(s, "%s", why);
}

void msg_bdat(struct session *s, unsigned long long size, int last)
{
	struct marks m;
	const char *refuse, *why = NULL;
	int oversize = 0;
	size_t n;

	if (!s->have_mail) {
		bdat_discard(s, size, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->nrcpt == 0) {
		bdat_discard(s, size, "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (!s->bdat_open) {
		sa_trunc(&bdat_qid, 0);
		if (enq_begin(&s->enq, &bdat_qid) < 0 || send_envelope(s) < 0 ||
		    send_received(s, bdat_qid.s) < 0) {
			enq_abort(&s->enq);
			tx_reset(s);
			bdat_discard(s, size, "451 4.3.0 Error: queue file write error");
			return;
		}
		s->bdat_open = 1;
		bdat_init(&bdat, s->body == SMTP_BODY_BINARYMIME);
	}
	s->qid = bdat_qid.s;
	bdat_chunk(&bdat, size);
	bdat_read(s, &bdat, 1, &oversize);
	if (last && (n = bdat_end(&bdat, chunk)) > 0) {
		m = (struct marks){ bdat.bare, bdat.nul, bdat.longline, bdat.received };
		if (!refusal(s, &m, oversize, &why))
			(void)enq_put(&s->enq, ENQ_DATA, chunk, n);
	}
	/* every mark is final once set: a refusal need not wait for LAST */
	m = (struct marks){ bdat.bare, bdat.nul, bdat.longline, bdat.received };
	refuse = refusal(s, &m, oversize, &why);
	if (last || refuse)
		s->stage = "END-OF-MESSAGE";
	if (refuse) {
		reply(s, "%s", refuse);
		tx_reset(s); /* aborts the message: later chunks get 503 */
	} else if (!last) {
		reply(s, "250 2.0.0 Ok: %llu octets received", size);
	} else {
		s->bdat_open = 0;
		msg_commit(s, &bdat_qid);
		tx_reset(s);
	}
	s->qid = NULL;
}
