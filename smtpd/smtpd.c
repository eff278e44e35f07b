/* pochta-smtpd: the SMTP server, one process per connection on stdin/stdout
 * (UCSPI: TCPREMOTEIP etc. in the environment). Reads commands with a hard
 * line limit, decides recipients at RCPT time, hands each message to one
 * pochta-enqueue child per session (smtpd_msg.c, smtpd_queue.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "confrun.h"
#include "smtpd.h"
#include "tcpenv.h"
#include "log.h"
#include "localaddr.h"
#include "passcheck.h"
#include "paths.h"
#include "priv.h"
#include "rlimits.h"
#include "smtpcmd.h"

static struct session sess;

/* the reason word of a refusal, from its reply code and enhanced code */
static const char *reject_reason(const char *r)
{
	static const struct {
		const char *prefix, *reason;
	} map[] = {
		{ "550 5.1.1", "user_unknown" }, { "554 5.7.1", "relay_denied" }, { "552", "size" },
		{ "500", "syntax" }, { "501", "syntax" }, { "502", "not_implemented" },
		{ "503", "sequence" }, { "452", "limit" }, { "421 4.7.0", "limit" },
		{ "421 4.4.2", "timeout" }, { "451", "temporary" }, { "550 5.6.0", "content" },
		{ "554 5.4.6", "loop" }, { "554 5.5.0", "pipelining" },
		{ "530", "auth_required" }, { "535", "auth_failed" }, { "538", "encryption_required" },
		{ "504", "not_implemented" }, { "454", "temporary" }, { "553 5.7.1", "sender_mismatch" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strncmp(r, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].reason;
	return "refused";
}

/* every reply of 400 and over is logged, as Postfix's "NOQUEUE: reject:" */
static void reply_log(struct session *s, const char *r, size_t len)
{
	sa_t from = SA_INIT, to = SA_INIT, helo = SA_INIT;
	const char *sender = s->rej_sender ? s->rej_sender : s->have_mail ? s->sender.s : NULL;
	struct log_field f[6];
	size_t n = 0;

	f[n++] = (struct log_field){ "reason", reject_reason(r) };
	f[n++] = (struct log_field){ "client", s->ip };
	if (sender && sa_catf(&from, "<%s>", sender) == 0)
		f[n++] = (struct log_field){ "from", from.s };
	if (s->rej_rcpt && sa_catf(&to, "<%s>", s->rej_rcpt) == 0)
		f[n++] = (struct log_field){ "to", to.s };
	if (s->helo_verb && sa_catf(&helo, "<%s>", s->helo) == 0) {
		f[n++] = (struct log_field){ "proto", s->helo_verb == SMTP_EHLO ? "ESMTP" : "SMTP" };
		f[n++] = (struct log_field){ "helo", helo.s };
	}
	log_info_fields(s->qid, f, n, "%sreject: %s from %s: %.*s;", s->qid ? "" : "NOQUEUE: ",
	                s->stage ? s->stage : "CONNECT", s->ip, (int)len, r);
	sa_free(&from);
	sa_free(&to);
	sa_free(&helo);
}

void reply(struct session *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	sa_trunc(&s->scratch, 0);
	va_start(ap, fmt);
	r = sa_vcatf(&s->scratch, fmt, ap);
	va_end(ap);
	if (r < 0 || sa_cats(&s->scratch, "\r\n") < 0) {
		log_warn(NULL, "out of memory formatting a reply");
		session_exit(s, 111, "out of memory");
	}
	if (s->scratch.len > 5 && s->scratch.s[0] >= '4' && s->scratch.s[3] == ' ')
		reply_log(s, s->scratch.s, s->scratch.len - 2);
	if (io_put(&s->out, s->scratch.s, s->scratch.len) < 0) {
		s->out_dead = 1;
		session_exit(s, 0, "write error");
	}
}

void session_exit(struct session *s, int code, const char *why)
{
	if (!s->out_dead)
		io_flush(&s->out);
	log_info(NULL, "disconnect from %s helo=%s commands=%lu errors=%lu messages=%lu%s%s",
	         s->ip, s->helo[0] ? s->helo : "none", s->commands, s->errors, s->messages,
	         why ? " reason=" : "", why ? why : "");
	/* closing our end makes an enqueue child with an open message abort it */
	enq_close(&s->enq);
	smtpd_tls_end(s);
	exit(code);
}

void tx_reset(struct session *s)
{
	s->have_mail = 0;
	sa_trunc(&s->sender, 0);
	s->body = SMTP_BODY_NONE;
	s->smtputf8 = 0;
	msg_bdat_abort(s);
	sa_trunc(&s->rcpts, 0);
	sa_trunc(&s->mail_dsn, 0);
	sa_trunc(&s->rcpt_dsn, 0);
	s->nrcpt = 0;
}

/* Before closing on a client with unread input: half-close and read what is in
 * flight (briefly, bounded), so that the kernel does not answer it with a reset
 * that could destroy our last reply before the client reads it. */
static void linger_close(void)
{
	char buf[4096];
	size_t total = 0;
	int left = 1000;
	struct pollfd p;

	if (shutdown(1, SHUT_WR) < 0)
		close(1);
	while (left > 0 && total < 65536) {
		ssize_t r;
		p.fd = 0;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return;
		left -= 100;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(0, buf, sizeof buf);
		if (r <= 0)
			return;
		total += (size_t)r;
	}
}

/* a bad command: the reply, then 421 and close once the limit is reached
 * (the check Postfix makes before reading the next command) */
static void bad(struct session *s, const char *text)
{
	s->errors++;
	reply(s, "%s", text);
	if (s->errors >= (unsigned long long)s->conf.smtp_error_limit) {
		reply(s, "421 4.7.0 %s Error: too many errors", s->host);
		io_flush(&s->out);
		linger_close();
		session_exit(s, 0, "too many errors");
	}
}

void smtpd_bad(struct session *s, const char *text)
{
	bad(s, text);
}

/* config trouble before the session could start: tell the client, then exit */
static void fatal_config(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal_config(const char *fmt, ...)
{
	static const char msg[] = "421 4.3.0 Service not available: configuration error\r\n";
	sa_t why = SA_INIT;
	va_list ap;

	va_start(ap, fmt);
	if (sa_vcatf(&why, fmt, ap) < 0)
		sa_copys(&why, "configuration error");
	va_end(ap);
	fd_write_all(1, msg, sizeof msg - 1);
	linger_close();
	log_fatal("%s", why.s ? why.s : "configuration error");
}

static void client_init(struct session *s, int local)
{
	s->local_uid = -1;
	if (!local) {
		s->ip_known = tcpenv_remote_ip(s->ip, sizeof s->ip);
		return;
	}
	/* a local user on a pipe (pochta-sendmail -bs): named by the real uid,
	 * which the user cannot choose; never a network address */
	s->local_uid = (long)getuid();
	s->ip_known = 0;
	snprintf(s->ip, sizeof s->ip, "uid=%ld", s->local_uid);
}

static void cmd_helo(struct session *s, const struct smtp_cmd *c)
{
	size_t n = c->arglen < sizeof s->helo - 1 ? c->arglen : sizeof s->helo - 1, i;

	tx_reset(s);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c->arg[i];
		s->helo[i] = (ch > ' ' && ch < 0x7f) ? (char)ch : '?';
	}
	s->helo[n] = '\0';
	s->helo_verb = c->verb;
	if (c->verb == SMTP_HELO) {
		reply(s, "250 %s", s->host);
		return;
	}
	reply(s, "250-%s", s->host);
	reply(s, "250-PIPELINING");
	reply(s, "250-SIZE %lld", s->conf.message_size_limit);
	reply(s, "250-8BITMIME");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-CHUNKING");
	reply(s, "250-BINARYMIME");
	reply(s, "250-DSN");
	if (smtpd_tls_offered(s))
		reply(s, "250-STARTTLS");
	if (smtpd_auth_offered(s))
		reply(s, "250-AUTH PLAIN LOGIN");
	reply(s, "250 HELP");
}

/* an authenticated client's sender that is not its own: the refusal sent */
static int smtpd_mail_sender_refused(struct session *s, const struct addr *a)
{
	const char *msg = smtpd_sender_refusal(s, a);
	sa_t shown = SA_INIT, text = SA_INIT;

	if (!msg)
		return 0;
	if (addr_format(a, &shown) < 0 || sa_catf(&text, msg, shown.s) < 0) {
		reply(s, "451 4.3.0 Error: out of memory");
	} else {
		s->rej_sender = shown.s;
		if (msg[0] == '5')
			bad(s, text.s); /* may not return */
		else
			reply(s, "%s", text.s);
		s->rej_sender = NULL;
	}
	sa_free(&shown);
	sa_free(&text);
	return 1;
}

static void cmd_mail(struct session *s, const struct smtp_cmd *c)
{
	if (!s->helo_verb) {
		bad(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->have_mail) {
		bad(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	/* RFC 6409 §4.3: no submission without authentication */
	if (s->submission && !s->authed) {
		bad(s, "530 5.7.0 Authentication required");
		return;
	}
	if (smtpd_mail_sender_refused(s, &c->addr))
		return;
	if (c->size_given && c->size > (unsigned long long)s->conf.message_size_limit) {
		sa_t shown = SA_INIT;
		if (addr_format(&c->addr, &shown) == 0)
			s->rej_sender = shown.s;
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		s->rej_sender = NULL;
		sa_free(&shown);
		return;
	}
	sa_trunc(&s->sender, 0);
	sa_trunc(&s->mail_dsn, 0);
	if (addr_format(&c->addr, &s->sender) < 0 || dsnp_mail_format(&c->dsn_mail, &s->mail_dsn) < 0) {
		reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	s->have_mail = 1;
	s->body = c->body;
	s->smtputf8 = c->smtputf8;
	reply(s, "250 2.1.0 Ok");
}

/* the envelope form of an accepted recipient: a bare <Postmaster> becomes the
 * postmaster address pochta-qmgr uses too (common/localaddr.h) */
static int rcpt_text(struct session *s, const struct addr *a, sa_t *out)
{
	if (a->has_domain)
		return addr_format(a, out);
	return localaddr_postmaster(&s->conf, out);
}

static void cmd_rcpt(struct session *s, const struct smtp_cmd *c)
{
	sa_t shown = SA_INIT;
	const char *msg = NULL;

	if (!s->have_mail) {
		bad(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (addr_format(&c->addr, &shown) < 0) {
		reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	s->rej_rcpt = shown.s;
	if (s->nrcpt >= (unsigned long long)s->conf.max_recipients) {
		reply(s, "452 4.5.3 Error: too many recipients");
		s->rej_rcpt = NULL;
		sa_free(&shown);
		return;
	}
	switch (rcpt_check(&s->pol, &c->addr)) {
	case RCPT_OK: {
		size_t old = s->rcpts.len, dold = s->rcpt_dsn.len;
		if (rcpt_text(s, &c->addr, &s->rcpts) < 0 || sa_catc(&s->rcpts, '\0') < 0 ||
		    dsnp_rcpt_format(&c->dsn_rcpt, &s->rcpt_dsn) < 0 || sa_catc(&s->rcpt_dsn, '\0') < 0) {
			sa_trunc(&s->rcpts, old);
			sa_trunc(&s->rcpt_dsn, dold);
			reply(s, "451 4.3.0 Error: out of memory");
		} else {
			s->nrcpt++;
			reply(s, "250 2.1.5 Ok");
		}
		break;
	}
	case RCPT_UNKNOWN:
		msg = "550 5.1.1 <%s>: Recipient address rejected: User unknown";
		break;
	case RCPT_RELAY:
		msg = "554 5.7.1 <%s>: Relay access denied";
		break;
	case RCPT_TEMPFAIL:
	default:
		log_warn(NULL, "cannot read %s: %s", s->pol.users_path, strerror(errno));
		msg = "451 4.3.0 <%s>: Temporary lookup failure";
		break;
	}
	if (msg) {
		sa_t text = SA_INIT;

		if (sa_catf(&text, msg, shown.s) < 0) {
			reply(s, "451 4.3.0 Error: out of memory");
		} else if (msg[0] == '5') {
			/* refused recipients count as errors (as in Postfix), so one session
			 * cannot probe for user names or relaying without limit */
			bad(s, text.s); /* may not return */
		} else {
			reply(s, "%s", text.s);
		}
		sa_free(&text);
	}
	s->rej_rcpt = NULL;
	sa_free(&shown);
}

/* RFC 2920 3.1: these may only end a pipelined group; the client must wait
 * for their reply (354 for DATA) before it sends more */
static const char *group_end_name(int verb)
{
	switch (verb) {
	case SMTP_HELO:
		return "HELO";
	case SMTP_EHLO:
		return "EHLO";
	case SMTP_DATA:
		return "DATA";
	case SMTP_NOOP:
		return "NOOP";
	case SMTP_VRFY:
		return "VRFY";
	case SMTP_EXPN:
		return "EXPN";
	case SMTP_STARTTLS:
		return "STARTTLS";
	default:
		return NULL;
	}
}

/* input already there when a group-ending command is about to be answered was
 * sent without waiting for the reply (message content before the 354, say):
 * refused, as Postfix's smtpd_forbid_unauth_pipelining */
static void sync_check(struct session *s, int verb)
{
	const char *name = group_end_name(verb);
	sa_t seen = SA_INIT;

	/* after STARTTLS always: input from before the handshake would be taken
	 * as sent under TLS (the command injection of CVE-2011-0411) */
	if (!name || (!s->conf.smtp_forbid_unauth_pipelining && verb != SMTP_STARTTLS) ||
	    !io_input_ready(&s->in))
		return;
	if (sa_catb(&seen, s->in.buf + s->in.start, s->in.end - s->in.start) == 0)
		smtpd_clean_text(&seen, 60);
	log_info(NULL, "improper pipelining after %s from %s: %s", name, s->ip, seen.s ? seen.s : "");
	sa_free(&seen);
	reply(s, "554 5.5.0 Error: SMTP protocol synchronization error"
	         " (input sent before the reply to %s)", name);
	io_flush(&s->out);
	linger_close();
	session_exit(s, 0, "protocol synchronization error");
}

static void command(struct session *s)
{
	struct smtp_cmd c;

	s->commands++;
	int pr = smtp_cmd_parse_u(s->line.s, s->line.len, s->have_mail && s->smtputf8, &c);
	s->stage = c.verb == SMTP_UNKNOWN ? "UNKNOWN" : smtp_verb_name(c.verb);
	if (pr < 0) {
		if (c.verb == SMTP_BDAT) {
			/* no size: the chunk that follows cannot be told from commands */
			reply(s, "%s", c.err);
			reply(s, "421 4.7.0 %s Error: cannot find the end of the BDAT chunk", s->host);
			io_flush(&s->out);
			linger_close();
			session_exit(s, 0, "bad BDAT");
		}
		bad(s, c.err ? c.err : "500 5.5.2 Error: bad syntax");
		return;
	}
	sync_check(s, c.verb);
	switch (c.verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		cmd_helo(s, &c);
		break;
	case SMTP_MAIL:
		cmd_mail(s, &c);
		break;
	case SMTP_RCPT:
		cmd_rcpt(s, &c);
		break;
	case SMTP_DATA:
		if (!s->have_mail)
			bad(s, "503 5.5.1 Error: need MAIL command");
		else if (s->nrcpt == 0)
			bad(s, "503 5.5.1 Error: need RCPT command");
		else if (s->bdat_open)
			bad(s, "503 5.5.1 Error: DATA after BDAT in one transaction");
		else if (s->body == SMTP_BODY_BINARYMIME)
			bad(s, "503 5.5.1 Error: BODY=BINARYMIME requires BDAT");
		else
			msg_data(s);
		break;
	case SMTP_BDAT:
		msg_bdat(s, c.bdat_size, c.bdat_last);
		break;
	case SMTP_RSET:
		tx_reset(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_QUIT:
		/* the enqueue child goes first: once the client has its 221 we only
		 * exit, so a client that reconnects at once finds our slot free */
		enq_close(&s->enq);
		reply(s, "221 2.0.0 Bye");
		session_exit(s, 0, NULL);
	case SMTP_VRFY:
		/* never tells whether a user exists */
		reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
		break;
	case SMTP_EXPN:
		reply(s, "502 5.5.1 Error: command not implemented");
		break;
	case SMTP_AUTH:
		smtpd_auth(s, &c);
		break;
	case SMTP_HELP:
		reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP");
		break;
	case SMTP_STARTTLS: {
		const char *refused = smtpd_starttls(s, &c);
		if (refused)
			bad(s, refused);
		break;
	}
	default:
		bad(s, "502 5.5.1 Error: command not implemented");
		break;
	}
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fatal_config("usage: pochta-smtpd [-l | -s] [-T] [-r ROOT]");
}

/* -r ROOT, -l: a local submission on a pipe (pochta-sendmail -bs), -s: the
 * submission service (RFC 6409), -T: implicit TLS (smtps_listen) */
static int smtpd_args(int argc, char **argv, const char **root, int *local, int *submission,
                      int *tls)
{
	int c;

	*root = NULL;
	*local = 0;
	*submission = 0;
	*tls = 0;
	while ((c = getopt(argc, argv, "lsTr:")) != -1) {
		if (c == 'l')
			*local = 1;
		else if (c == 's')
			*submission = 1;
		else if (c == 'T')
			*tls = 1;
		else if (c == 'r')
			*root = optarg;
		else
			return -1;
	}
	return optind == argc && !(*local && *submission) ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct session *s = &sess;
	const char *root = NULL;
	sa_t err = SA_INIT;
	int tmo, local;

	/* the checker service's socket stays out of what we exec (enqueue) */
	(void)passcheck_service_fd();
	if (argc > 1 && strcmp(argv[1], "-z") == 0) {
		smtpd_zygote(argv[1]); /* here in a connection's child: on as if exec'd for it */
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL); /* exit at once; an open message dies with the pipe */
	tlsc_init(&s->tls);
	log_init("pochta-smtpd", LOG_DEST_AUTO);
	if (smtpd_args(argc, argv, &root, &local, &s->submission, &s->tls_implicit) < 0)
		usage();
	if (paths_init(root) < 0)
		fatal_config("cannot set up paths: %s", strerror(errno));
	/* installed it runs as smtpd_user; only an instance that root runs with
	 * no instance_user still runs it as root (pochta-master(8)) */
	if (!paths.root[0] && priv_is_root())
		fatal_config("refusing to run as root: start pochta-smtpd as smtpd_user (pochtad)");
	if (confrun_load(&s->conf, &err) < 0)
		fatal_config("%s", err.s ? err.s : "cannot load the configuration");
	log_configure(s->conf.log_destination, s->conf.log_format, paths.log);
	if (rlimits_session(&s->conf, &err) < 0)
		fatal_config("cannot set resource limits: %s", err.s);
	if (cidr_list_parse(s->conf.relay_networks, &s->relay, &s->nrelay, &err) < 0)
		fatal_config("relay_networks: %s", err.s ? err.s : "bad value");
	sa_free(&err);

	s->host = conf_hostname(&s->conf);
	client_init(s, local);
	if (sa_copys(&s->sender, "") < 0 || sa_ready(&s->rcpts, 0) < 0 ||
	    sa_ready(&s->line, SMTPD_LINE_MAX) < 0 || sa_ready(&s->scratch, 512) < 0)
		fatal_config("out of memory");
	if (sa_copys(&s->scratch, paths.etc) < 0 || sa_cats(&s->scratch, "/users") < 0)
		fatal_config("out of memory");
	s->pol.users_path = strdup(s->scratch.s);
	if (!s->pol.users_path)
		fatal_config("out of memory");
	s->pol.conf = &s->conf;
	/* local submission never needs relay_networks (as sendmail -bm) */
	s->pol.relay_client = local || (s->ip_known && cidr_match(s->relay, s->nrelay, s->ip));

	tmo = (int)s->conf.smtp_timeout * 1000;
	io_init(&s->in, 0, s->inbuf, sizeof s->inbuf, tmo);
	io_init(&s->out, 1, s->outbuf, sizeof s->outbuf, tmo);
	s->in.flush = &s->out; /* replies go out when pipelined input runs dry */
	/* the enqueue child may take its time to fsync; never less than a minute */
	enq_init(&s->enq, (s->conf.smtp_timeout < 60 ? 60 : (int)s->conf.smtp_timeout) * 1000);

	log_info(NULL, "connect from %s%s", s->ip, s->pol.relay_client ? " relay=yes" : "");
	if (s->tls_implicit)
		smtpd_tls_implicit(s);
	reply(s, "220 %s ESMTP pochta", s->host);
	for (;;) {
		int r;

		/* a whole command line within smtp_timeout: a drip cannot stretch it */
		io_deadline(&s->in, tmo);
		r = io_getline(&s->in, &s->line, SMTPD_LINE_MAX, NULL);

		if (r == IO_OK) {
			command(s);
		} else if (r == IO_TOOLONG) {
			s->commands++;
			s->stage = "UNKNOWN";
			bad(s, "500 5.5.6 Line too long");
		} else if (r == IO_EOF) {
			session_exit(s, 0, "lost connection");
		} else if (errno == ETIMEDOUT) {
			reply(s, "421 4.4.2 %s Error: timeout exceeded", s->host);
			session_exit(s, 0, "timeout");
		} else {
			session_exit(s, 0, "read error");
		}
	}
}
