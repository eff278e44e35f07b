/* pochta-pop3d: a POP3 server (RFC 1939, RFC 2449, RFC 5034) for one
 * connection on stdin/stdout, serving one Maildir. States:
 *   AUTHORIZATION  USER/PASS or AUTH PLAIN; 3 failures close the connection
 *   TRANSACTION    a locked snapshot of the maildrop; DELE only marks
 *   UPDATE         QUIT removes the marked files; EOF or timeout removes nothing */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "conf.h"
#include "confrun.h"
#include "rlimits.h"
#include "log.h"
#include "paths.h"
#include "pop3d.h"
#include "tcpenv.h"

#define AUTH_TRIES 3

static struct conf conf;
static struct sess S;
static char inbuf[4096], outbuf[16384];

static void usage(void)
{
	static const char m[] = "usage: pochta-pop3d [-T] [-r ROOT]\n";
	(void)!write(2, m, sizeof m - 1);
	exit(100);
}

/* the session is over without UPDATE: nothing is removed */
static void __attribute__((noreturn)) leave(int code)
{
	io_flush(&S.out);
	box_close(&S.box);
	if (S.tls.pid > 0)
		tlsc_end(&S.tls, 2000); /* its close_notify goes out first */
	exit(code);
}

static void reply(const char *s)
{
	if (io_puts(&S.out, s) < 0 || io_puts(&S.out, "\r\n") < 0)
		leave(0);
}

static void replyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void replyf(const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b)
		leave(111);
	reply(b);
}

/* read one command line: 1 got one, 0 too long (already answered);
 * ends the session at EOF, on errors and at the deadline */
static int read_cmd(sa_t *line, const char *state)
{
	int r = pop3d_line(&S, line, POP3_LINE_MAX, state);

	if (r == IO_OK)
		return 1;
	if (r == IO_TOOLONG) {
		reply("-ERR line too long");
		return 0;
	}
	leave(0);
}

static void capa(int authorized)
{
	reply("+OK capability list follows");
	if (!authorized && pop3d_tls_offered(&S, &conf))
		reply("STLS");
	if (!authorized)
		reply("USER");
	reply("TOP");
	reply("UIDL");
	reply("RESP-CODES");
	reply("PIPELINING");
	reply("AUTH-RESP-CODE");
	if (!authorized)
		reply("SASL PLAIN");
	reply("IMPLEMENTATION pochta");
	reply(".");
}

/* after good credentials: become the owner, lock and snapshot, +OK */
static void login(void)
{
	sa_t path = SA_INIT;
	size_t count;
	unsigned long long octets;
	int r;

	sa_t err = SA_INIT;

	if (S.system) {
		/* a host account's Maildir in its home, as that account */
		int fd = auth_system_box(&conf, S.user, &err);
		if (fd < 0) {
			log_warn(NULL, "cannot open the system user's maildrop user=%s: %s", S.user,
			         err.s ? err.s : "?");
			reply("-ERR [SYS/PERM] cannot serve this maildrop");
			leave(111);
		}
		sa_free(&err);
		r = box_open_fd(&S.box, fd);
		goto opened;
	}
	/* NAME@DOMAIN: mail/DOMAIN/NAME */
	if (user_maildir(paths.mail, S.user, &path) < 0) {
		reply("-ERR [SYS/TEMP] out of memory");
		leave(111);
	}
	if (S.drop && auth_become_owner(&S.owner, path.s, &err) < 0) {
		log_warn(NULL, "cannot switch to the mailbox owner user=%s: %s", S.user,
		         err.s ? err.s : "?");
		reply("-ERR [SYS/PERM] cannot serve this maildrop");
		leave(111);
	}
	sa_free(&err);
	r = box_open(&S.box, path.s);
	sa_free(&path);
opened:
	if (r == BOX_IN_USE) {
		log_info(NULL, "in use user=%s client=%s", S.user, S.client);
		reply("-ERR [IN-USE] maildrop already locked");
		leave(0);
	}
	if (r != BOX_OK) {
		log_warn(NULL, "cannot open maildrop user=%s: %s", S.user, strerror(errno));
		reply("-ERR [SYS/TEMP] cannot open the maildrop");
		leave(111);
	}
	log_info(NULL, "login user=%s client=%s", S.user, S.client);
	box_stat(&S.box, &count, &octets);
	replyf("+OK maildrop has %zu message%s (%llu octets)", count, count == 1 ? "" : "s", octets);
}

/* a failed attempt: delay, answer, and close after the last one */
static void auth_failed(int *fails, const char *err)
{
	auth_delay();
	reply(err);
	if (++*fails >= AUTH_TRIES) {
		log_info(NULL, "too many authentication failures client=%s", S.client);
		leave(0);
	}
}

/* RFC 2595 4: STLS in the AUTHORIZATION state; the client then starts over */
static void stls(void)
{
	if (S.tls_on) {
		reply("-ERR command not permitted when TLS active");
		return;
	}
	if (!pop3d_tls_offered(&S, &conf)) {
		reply("-ERR STLS not supported");
		return;
	}
	/* input from before the handshake would be taken as sent under TLS
	 * (the command injection of CVE-2011-0411) */
	if (io_input_ready(&S.in)) {
		log_info(NULL, "input sent before the reply to STLS from %s: closed", S.client);
		reply("-ERR input sent before the reply to STLS");
		leave(0);
	}
	if (pop3d_tls_start(&S, &conf) < 0) {
		reply("-ERR [SYS/TEMP] TLS not available");
		return;
	}
	reply("+OK begin TLS negotiation");
	if (io_flush(&S.out) < 0 || pop3d_tls_go(&S, "STLS") < 0)
		_exit(0); /* the connection is gone: nothing to say, nothing to update */
}

static void authorization(void)
{
	sa_t line = SA_INIT;
	struct pop3_cmd c;
	char user[USER_MAILBOX_MAX + 2];
	size_t userlen = 0;
	int have_user = 0, fails = 0, r;
	const char *err;

	for (;;) {
		int was_user = have_user;

		if (!read_cmd(&line, "authorization"))
			continue;
		have_user = 0;
		if (pop3_cmd_parse(line.s, line.len, &c) < 0) {
			reply(c.err);
			continue;
		}
		switch (c.verb) {
		case POP3_USER:
			/* keep at most one byte too many: enough to fail the check */
			userlen = c.arglen < sizeof user - 1 ? c.arglen : sizeof user - 1;
			memcpy(user, c.arg, userlen);
			have_user = 1;
			reply("+OK send PASS");
			break;
		case POP3_PASS:
			if (!was_user) {
				reply("-ERR give USER first");
				break;
			}
			r = auth_check(&S, user, userlen, c.arg, c.arglen);
			explicit_bzero(line.s, line.cap);
			if (r == AUTH_OK)
				goto done;
			if (r == AUTH_TEMP)
				reply("-ERR [SYS/TEMP] authentication temporarily unavailable");
			else
				auth_failed(&fails, "-ERR [AUTH] invalid user name or password");
			break;
		case POP3_AUTH:
			if (c.arglen == 0) {
				reply("+OK supported mechanisms follow");
				reply("PLAIN");
				reply(".");
				break;
			}
			if (c.arglen != 5 || strncasecmp(c.arg, "PLAIN", 5) != 0) {
				reply("-ERR unsupported authentication mechanism");
				break;
			}
			r = auth_plain(&S, c.resp, c.resplen, &err);
			explicit_bzero(line.s, line.cap);
			if (r == AUTH_EOF)
				leave(0);
			if (r == AUTH_OK)
				goto done;
			if (r == AUTH_FAIL)
				auth_failed(&fails, err);
			else
				reply(err);
			break;
		case POP3_CAPA:
			capa(0);
			break;
		case POP3_QUIT:
			reply("+OK pochta POP3 server signing off");
			leave(0);
		case POP3_APOP:
			reply("-ERR APOP not supported");
			break;
		case POP3_STLS:
			stls();
			break;
		default:
			reply("-ERR command not valid before authentication");
			break;
		}
	}
done:
	sa_free(&line);
	login();
}

/* the message a command names, or NULL after answering -ERR */
static struct msg *msg_arg(const struct pop3_cmd *c)
{
	struct msg *m = box_get(&S.box, c->msg);

	if (!m) {
		reply("-ERR no such message");
		return NULL;
	}
	if (m->deleted) {
		replyf("-ERR message %lu already deleted", c->msg);
		return NULL;
	}
	return m;
}

static void update(void)
{
	unsigned long removed;
	size_t count;
	unsigned long long octets;
	int r = box_update(&S.box, &removed);

	log_info(NULL, "logout user=%s client=%s retr=%lu dele=%lu", S.user, S.client, S.retr, removed);
	if (r < 0) {
		log_warn(NULL, "some deleted messages were not removed user=%s", S.user);
		reply("-ERR [SYS/TEMP] some deleted messages were not removed");
		leave(111);
	}
	box_stat(&S.box, &count, &octets);
	replyf("+OK pochta POP3 server signing off (%zu message%s left)", count, count == 1 ? "" : "s");
	leave(0);
}

static void transaction(void)
{
	sa_t line = SA_INIT;
	struct pop3_cmd c;
	struct msg *m;
	size_t i, count;
	unsigned long long octets;

	for (;;) {
		if (!read_cmd(&line, "transaction"))
			continue;
		if (pop3_cmd_parse(line.s, line.len, &c) < 0) {
			reply(c.err);
			continue;
		}
		switch (c.verb) {
		case POP3_STAT:
			box_stat(&S.box, &count, &octets);
			replyf("+OK %zu %llu", count, octets);
			break;
		case POP3_LIST:
		case POP3_UIDL:
			if (c.nnum == 1) {
				if (!(m = msg_arg(&c)))
					break;
				if (c.verb == POP3_LIST)
					replyf("+OK %lu %llu", c.msg, m->octets);
				else
					replyf("+OK %lu %s", c.msg, m->uid);
				break;
			}
			if (c.verb == POP3_LIST) {
				box_stat(&S.box, &count, &octets);
				replyf("+OK %zu message%s (%llu octets)", count, count == 1 ? "" : "s", octets);
			} else {
				reply("+OK unique-id listing follows");
			}
			for (i = 0; i < S.box.n; i++) {
				m = &S.box.m[i];
				if (m->deleted)
					continue;
				if (c.verb == POP3_LIST)
					replyf("%zu %llu", i + 1, m->octets);
				else
					replyf("%zu %s", i + 1, m->uid);
			}
			reply(".");
			break;
		case POP3_RETR:
		case POP3_TOP:
			if (!(m = msg_arg(&c)))
				break;
			switch (send_msg(&S, m, c.verb == POP3_RETR ? POP3_WIRE_ALL : c.lines)) {
			case 0:
				if (c.verb == POP3_RETR)
					S.retr++;
				break;
			case 1:
				break;
			default:
				log_info(NULL, "disconnect user=%s client=%s retr=%lu dele=0", S.user,
				         S.client, S.retr);
				leave(0);
			}
			break;
		case POP3_DELE:
			if (!(m = msg_arg(&c)))
				break;
			m->deleted = 1;
			replyf("+OK message %lu deleted", c.msg);
			break;
		case POP3_NOOP:
			reply("+OK");
			break;
		case POP3_RSET:
			for (i = 0; i < S.box.n; i++)
				S.box.m[i].deleted = 0;
			box_stat(&S.box, &count, &octets);
			replyf("+OK maildrop has %zu message%s (%llu octets)", count, count == 1 ? "" : "s", octets);
			break;
		case POP3_QUIT:
			sa_free(&line);
			update();
			break;
		case POP3_CAPA:
			capa(1);
			break;
		default:
			reply("-ERR command not valid in this state");
			break;
		}
	}
}

static const char *client_ip(void)
{
	static char ip[TCPENV_IP_MAX];

	if (!ip[0])
		tcpenv_remote_ip(ip, sizeof ip); /* validated IP text or "unknown" */
	return ip;
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	sa_t err = SA_INIT;
	int tmo;

	log_init("pochta-pop3d", LOG_DEST_AUTO);
	tlsc_init(&S.tls);
	/* -T: implicit TLS (pop3s_listen), before the -r ROOT paths_args takes */
	if (argc > 1 && strcmp(argv[1], "-T") == 0) {
		S.tls_implicit = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (paths_args(argc, argv, &root) < 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	S.box.dirfd = S.box.lockfd = -1;
	S.client = client_ip();
	io_init(&S.out, 1, outbuf, sizeof outbuf, 60000);
	if (paths_init(root) < 0) {
		log_warn(NULL, "cannot find the instance: %s", strerror(errno));
		reply("-ERR [SYS/TEMP] server configuration error");
		leave(111);
	}
	if (confrun_load(&conf, &err) < 0) {
		log_warn(NULL, "%s", err.s ? err.s : "cannot load the configuration");
		reply("-ERR [SYS/TEMP] server configuration error");
		leave(111);
	}
	log_configure(conf.log_destination, conf.log_format, paths.log);
	if (rlimits_session(&conf, &err) < 0) {
		log_warn(NULL, "cannot set resource limits: %s", err.s);
		reply("-ERR [SYS/TEMP] server configuration error");
		leave(111);
	}
	/* started as root: the account to serve as must exist and not be root,
	 * or no password is even taken */
	S.drop = auth_owner_init(&conf, &S.owner, &err);
	if (S.drop < 0) {
		log_warn(NULL, "refusing to serve maildrops as root: %s", err.s ? err.s : "?");
		reply("-ERR [SYS/PERM] server misconfigured: no account to serve maildrops as");
		leave(111);
	}
	sa_free(&err);
	tmo = (int)conf.pop3_timeout * 1000;
	S.timeout_ms = tmo;
	io_init(&S.in, 0, inbuf, sizeof inbuf, tmo);
	io_init(&S.out, 1, outbuf, sizeof outbuf, tmo);
	S.in.flush = &S.out;
	if (S.tls_implicit && (!pop3d_tls_offered(&S, &conf) || pop3d_tls_start(&S, &conf) < 0 ||
	                       pop3d_tls_go(&S, "TLS") < 0)) {
		log_warn(NULL, "implicit TLS from %s: no TLS session (tls_cert_file, tls_key_file, pochta-tls)",
		         S.client);
		_exit(0);
	}
	reply("+OK pochta POP3 server ready");
	authorization();
	transaction();
	return 0;
}
