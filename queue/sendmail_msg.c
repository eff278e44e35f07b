/* sendmail_msg: -bm, one message from standard input into the queue.
 * The envelope (sender, recipients from the arguments and with -t from
 * To/Cc/Bcc) is checked before anything is queued; the message is read whole
 * (at most message_size_limit bytes, LF line ends: common/msgin.h) and fixed
 * up as RFC 6409 §8 says a submission server may: our Received: line first,
 * Bcc: removed, From:, Date: and Message-ID: added when missing. Then it goes
 * to pochta-enqueue; exit 0 only after its K (the message is durable). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "confrun.h"
#include "sendmail.h"
#include "addrlist.h"
#include "enqclient.h"
#include "enqproto.h"
#include "hdr.h"
#include "localaddr.h"
#include "log.h"
#include "msgin.h"
#include "paths.h"
#include "received.h"

struct sm_msg {
	struct conf conf;
	const struct smopt *o;
	const struct sm_caller *who;
	sa_t origin;          /* the domain of login@ and of bare names */
	sa_t users;           /* etc/users */
	sa_t sender;          /* the envelope sender, "" for <> */
	sa_t rcpts;           /* accepted recipients, each NUL-terminated */
	size_t nrcpt;
	const char *where;    /* what the recipients come from, for messages */
	int where_code;       /* EX_USAGE (arguments) or EX_DATAERR (headers) */
	sa_t msg;             /* the message as read */
	size_t queued;        /* its size as queued: our header fields added */
	int has_from, has_date, has_msgid;
};

static void sm_nomem(void) __attribute__((noreturn));
static void sm_nomem(void)
{
	sm_die(EX_OSERR, "out of memory");
}

/* a bare name gets the origin domain, as sendmail does */
static void sm_qualify(struct sm_msg *m, struct addr *a)
{
	if (a->has_domain)
		return;
	if (m->origin.len >= sizeof a->domain)
		sm_die(EX_CONFIG, "local domain too long");
	memcpy(a->domain, m->origin.s, m->origin.len + 1);
	a->has_domain = 1;
}

/* one recipient: its syntax was checked by addrlist; local ones must exist
 * (the rule pochta-smtpd answers RCPT with); remote ones are fine: a local
 * user never needs relay_networks */
static int sm_rcpt(const struct addr *in, void *arg)
{
	struct sm_msg *m = arg;
	struct addr a = *in;
	struct localaddr_dest d;
	sa_t text = SA_INIT;

	sm_qualify(m, &a);
	if (addr_format(&a, &text) < 0)
		sm_nomem();
	switch (localaddr_lookup(&m->conf, m->users.s, &a, &d)) {
	case LOCALADDR_REMOTE:
	case LOCALADDR_USER:
	case LOCALADDR_POSTMASTER:
	case LOCALADDR_SYSTEM:
	case LOCALADDR_ALIAS:
		break;
	case LOCALADDR_UNKNOWN:
		sm_die(EX_NOUSER, "<%s>: user unknown (no such local user); nothing was sent", text.s);
	default:
		sm_die(EX_TEMPFAIL, "<%s>: cannot look the user up (%s): %s", text.s, m->users.s,
		       strerror(errno));
	}
	if (m->nrcpt >= (size_t)m->conf.max_recipients)
		sm_die(m->where_code, "too many recipients (max_recipients is %lld)",
		       m->conf.max_recipients);
	if (sa_catb(&m->rcpts, text.s, text.len + 1) < 0)
		sm_nomem();
	m->nrcpt++;
	sa_free(&text);
	return 0;
}

static void sm_rcpt_list(struct sm_msg *m, const char *s, size_t len)
{
	sa_t err = SA_INIT;

	if (addrlist_parse(s, len, sm_rcpt, m, &err) < 0)
		sm_die(m->where_code, "bad recipient in %s: %s", m->where, err.s ? err.s : "?");
	sa_free(&err);
}

static int sm_set_sender(const struct addr *in, void *arg)
{
	struct sm_msg *m = arg;
	struct addr a = *in;

	if (m->sender.len)
		sm_die(EX_USAGE, "-f: more than one sender address");
	sm_qualify(m, &a);
	if (addr_format(&a, &m->sender) < 0)
		sm_nomem();
	return 0;
}

/* -f SENDER (any user may set one, as with Postfix; it is logged), else
 * login@origin */
static void sm_sender(struct sm_msg *m)
{
	const char *f = m->o->sender;
	sa_t err = SA_INIT;

	if (!f) {
		if (sa_catf(&m->sender, "%s@%s", m->who->login, m->origin.s) < 0)
			sm_nomem();
		return;
	}
	if (!*f || strcmp(f, "<>") == 0) {
		if (sa_copys(&m->sender, "") < 0)
			sm_nomem();
		return;
	}
	if (addrlist_parse(f, strlen(f), sm_set_sender, m, &err) < 0 || !m->sender.len)
		sm_die(EX_USAGE, "-f %s: bad sender address%s%s", f, err.len ? ": " : "",
		       err.len ? err.s : "");
	sa_free(&err);
}

/* standard input to m->msg, made LF-only; refused as pochta-smtpd would */
static void sm_read(struct sm_msg *m)
{
	static char in[65536], out[3 * 4096];
	unsigned long long limit = (unsigned long long)m->conf.message_size_limit;
	struct msgin mi;
	size_t n;

	msgin_init(&mi, m->o->dot_ends);
	while (!mi.done) {
		ssize_t r = read(0, in, sizeof in);
		size_t pos = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			sm_die(EX_DATAERR, "error reading the message: %s", strerror(errno));
		if (r == 0) {
			n = msgin_end(&mi, out);
			if (sa_catb(&m->msg, out, n) < 0)
				sm_nomem();
			break;
		}
		while (pos < (size_t)r && !mi.done) {
			pos += msgin_feed(&mi, in + pos, (size_t)r - pos, out, sizeof out, &n);
			if (sa_catb(&m->msg, out, n) < 0)
				sm_nomem();
		}
		if (mi.size > limit)
			sm_die(EX_DATAERR, "message too big: over message_size_limit (%llu bytes); "
			       "nothing was sent", limit);
	}
	if (mi.size > limit)
		sm_die(EX_DATAERR, "message too big: over message_size_limit (%llu bytes); "
		       "nothing was sent", limit);
	if (mi.nul)
		sm_die(EX_DATAERR, "message contains NUL characters (RFC 5322 section 2.1); "
		       "nothing was sent");
	if (mi.bare_cr)
		sm_die(EX_DATAERR, "message contains a CR that does not end a line (RFC 5321 "
		       "section 2.3.8); nothing was sent");
	if (mi.longline && !m->conf.smtp_allow_long_lines)
		sm_die(EX_DATAERR, "message contains a line longer than 998 octets (RFC 5321 "
		       "section 4.5.3.1.6; see smtp_allow_long_lines); nothing was sent");
}

static int sm_is(const char *f, size_t len, const char *name, size_t *value)
{
	return hdr_name_is(f, len, name, value);
}

/* pass 1 over the header fields: what is there, and the -t recipients */
static int sm_scan_field(const char *msg, size_t off, size_t len, void *arg)
{
	struct sm_msg *m = arg;
	const char *f = msg + off;
	size_t v;

	if (sm_is(f, len, "from", NULL))
		m->has_from = 1;
	else if (sm_is(f, len, "date", NULL))
		m->has_date = 1;
	else if (sm_is(f, len, "message-id", NULL))
		m->has_msgid = 1;
	if (!m->o->extract)
		return 0;
	if (sm_is(f, len, "to", &v))
		m->where = "the To: field";
	else if (sm_is(f, len, "cc", &v))
		m->where = "the Cc: field";
	else if (sm_is(f, len, "bcc", &v))
		m->where = "the Bcc: field";
	else
		return 0;
	sm_rcpt_list(m, f + v, len - v);
	return 0;
}

/* pass 2: every field but Bcc: to the outgoing header section */
static int sm_copy_field(const char *msg, size_t off, size_t len, void *arg)
{
	if (sm_is(msg + off, len, "bcc", NULL))
		return 0;
	return sa_catb(arg, msg + off, len);
}

/* a display name as a quoted string (RFC 5322 §3.2.4), controls dropped */
static int sm_quoted(sa_t *out, const char *s)
{
	if (sa_catc(out, '"') < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			continue;
		if ((c == '"' || c == '\\') && sa_catc(out, '\\') < 0)
			return -1;
		if (sa_catc(out, (char)c) < 0)
			return -1;
	}
	return sa_catc(out, '"');
}

/* the header section as queued: Received:, the fields but Bcc:, what is
 * missing of From:, Date:, Message-ID:, and the empty line */
static void sm_header(struct sm_msg *m, const char *qid, sa_t *h, size_t *body)
{
	const char *host = conf_hostname(&m->conf);
	time_t now = time(NULL);
	struct received rv = { .uid = (long)m->who->uid, .host = host, .qid = qid,
	                       .rcpt = m->nrcpt == 1 ? m->rcpts.s : NULL };
	size_t hend;

	if (received_make(h, &rv, now) < 0 ||
	    msgin_headers(m->msg.s, m->msg.len, sm_copy_field, h, &hend, body) < 0)
		sm_nomem();
	if (!m->has_from) {
		if (sa_cats(h, "From: ") < 0 ||
		    (m->who->fullname[0] && (sm_quoted(h, m->who->fullname) < 0 || sa_cats(h, " <") < 0)) ||
		    sa_catf(h, "%s@%s", m->who->login, m->origin.s) < 0 ||
		    (m->who->fullname[0] && sa_catc(h, '>') < 0) || sa_catc(h, '\n') < 0)
			sm_nomem();
	}
	if (received_fixups(h, !m->has_date, !m->has_msgid, qid, host, now) < 0)
		sm_die(EX_OSERR, "cannot add Date: or Message-ID: (out of memory)");
	if (sa_catc(h, '\n') < 0)
		sm_nomem();
}

static int sm_put_data(struct enqc *c, const char *p, size_t len)
{
	for (size_t off = 0; off < len;) {
		size_t n = len - off > ENQ_DATA_MAX ? ENQ_DATA_MAX : len - off;
		if (enqc_put(c, ENQ_DATA, p + off, n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

static void sm_enqueue_failed(struct enqc *c, const char *what) __attribute__((noreturn));
static void sm_enqueue_failed(struct enqc *c, const char *what)
{
	int e = errno;

	enqc_close(c);
	sm_die(EX_TEMPFAIL, "cannot queue the message: %s: %s; nothing was sent", what,
	       strerror(e ? e : EIO));
}

/* to pochta-enqueue; returns after its K with the queue ID in qid */
static void sm_enqueue(struct sm_msg *m, sa_t *qid)
{
	const char *prog = paths_prog("pochta-enqueue");
	const char *body = m->o->body ? m->o->body : "";
	struct enqc c;
	sa_t h = SA_INIT;
	size_t off, bodyoff;
	int r;

	errno = 0;
	if (!prog || access(prog, X_OK) < 0)
		sm_die(EX_TEMPFAIL, "cannot run pochta-enqueue (%s): %s; nothing was sent",
		       prog ? prog : "?", strerror(errno ? errno : ENOENT));
	if (enqc_open(&c, prog, 60000) < 0)
		sm_enqueue_failed(&c, "start pochta-enqueue");
	r = enqc_begin(&c, qid);
	if (r == 'Z') {
		enqc_close(&c);
		sm_die(EX_TEMPFAIL, "the queue refused the message: %s; nothing was sent", qid->s);
	}
	if (r < 0)
		sm_enqueue_failed(&c, "pochta-enqueue");
	if (enqc_put(&c, 'S', m->sender.s, m->sender.len) < 0 ||
	    enqc_put(&c, 'B', body, strlen(body)) < 0 || enqc_put(&c, 'P', "LOCAL", 5) < 0)
		sm_enqueue_failed(&c, "write to pochta-enqueue");
	for (off = 0; off < m->rcpts.len; off += strlen(m->rcpts.s + off) + 1)
		if (enqc_put(&c, 'R', m->rcpts.s + off, strlen(m->rcpts.s + off)) < 0)
			sm_enqueue_failed(&c, "write to pochta-enqueue");
	sm_header(m, qid->s, &h, &bodyoff);
	if (sm_put_data(&c, h.s, h.len) < 0 ||
	    sm_put_data(&c, m->msg.s + bodyoff, m->msg.len - bodyoff) < 0)
		sm_enqueue_failed(&c, "write to pochta-enqueue");
	m->queued = h.len + (m->msg.len - bodyoff);
	r = enqc_end(&c, qid);
	if (r < 0)
		sm_enqueue_failed(&c, "pochta-enqueue");
	enqc_close(&c);
	if (r == 'Z')
		sm_die(EX_TEMPFAIL, "the queue refused the message for now: %s; nothing was sent",
		       qid->s);
	if (r == 'X')
		sm_die(EX_DATAERR, "the queue refused the message: %s; nothing was sent", qid->s);
	sa_free(&h);
}

void sm_deliver(const struct smopt *o, char *const *argv, const struct sm_caller *who)
{
	struct sm_msg m;
	sa_t err = SA_INIT, qid = SA_INIT;
	size_t hend, body;

	memset(&m, 0, sizeof m);
	m.o = o;
	m.who = who;
	if (confrun_load(&m.conf, &err) < 0)
		sm_die(EX_CONFIG, "%s", err.s ? err.s : "cannot read the configuration");
	log_configure(m.conf.log_destination, m.conf.log_format, paths.log);
	if (localaddr_origin(&m.conf, &m.origin) < 0 ||
	    sa_catf(&m.users, "%s/users", paths.etc) < 0 || sa_copys(&m.sender, "") < 0 ||
	    sa_ready(&m.rcpts, 0) < 0 || sa_ready(&m.msg, 0) < 0)
		sm_nomem();
	sa_trunc(&m.sender, 0);
	sm_sender(&m);
	m.where = "the arguments";
	m.where_code = EX_USAGE;
	for (int i = 0; i < o->nrcpt; i++)
		sm_rcpt_list(&m, argv[o->first_rcpt + i], strlen(argv[o->first_rcpt + i]));
	if (!o->extract && m.nrcpt == 0)
		sm_die(EX_NOUSER, "no recipients given (name them, or use -t to take them from "
		       "the message)");
	sm_read(&m);
	m.where_code = EX_DATAERR;
	(void)msgin_headers(m.msg.s, m.msg.len, sm_scan_field, &m, &hend, &body);
	if (m.nrcpt == 0)
		sm_die(EX_NOUSER, "no recipients found in the To:, Cc: or Bcc: fields; nothing was sent");
	if (o->sender)
		log_info(NULL, "uid=%lu set the sender with -f: <%s>", (unsigned long)who->uid,
		         m.sender.s);
	sm_enqueue(&m, &qid);
	log_info(qid.s, "uid=%lu from=<%s> size=%zu nrcpt=%zu", (unsigned long)who->uid, m.sender.s,
	         m.queued, m.nrcpt);
	if (o->verbose)
		fprintf(stderr, "pochta-sendmail: queued as %s for %zu recipient%s\n", qid.s, m.nrcpt,
		        m.nrcpt == 1 ? "" : "s");
	exit(EX_OK);
}
