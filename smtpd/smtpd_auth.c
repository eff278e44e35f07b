/* smtpd_auth: AUTH PLAIN and LOGIN (RFC 4954, RFC 4616), the envelope sender
 * rule for authenticated clients, and the Received: protocol name (RFC 3848).
 * Passwords are checked by pochta-checkpass (common/passcheck.h): through the
 * checker service pochta-master keeps, or run by us when there is none, so
 * this process never reads a password hash. A failed AUTH waits
 * smtp_auth_failure_delay seconds before its 535, and counts as an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include "smtpd.h"
#include "localaddr.h"
#include "log.h"
#include "passcheck.h"
#include "pop3cmd.h"
#include "sasl.h"

/* "Username:" and "Password:" in base64: the LOGIN challenges */
#define LOGIN_USER_CHALLENGE "334 VXNlcm5hbWU6"
#define LOGIN_PASS_CHALLENGE "334 UGFzc3dvcmQ6"

enum { AUTHR_OK, AUTHR_FAIL, AUTHR_TEMP, AUTHR_CANCEL, AUTHR_UNDECODABLE };

/* 127.0.0.0/8, ::1, or ::ffff:127.x.y.z */
static int smtpd_loopback(const char *ip)
{
	unsigned char a[16];
	static const unsigned char v6lo[16] = { [15] = 1 };
	static const unsigned char v4map[12] = { [10] = 0xff, [11] = 0xff };

	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, ip, a) != 1)
		return 0;
	return memcmp(a, v6lo, 16) == 0 || (memcmp(a, v4map, 12) == 0 && a[12] == 127);
}

int smtpd_auth_enabled(const struct session *s)
{
	return s->local_uid < 0 && (s->submission || s->conf.smtp_auth_enable);
}

int smtpd_auth_offered(const struct session *s)
{
	if (!smtpd_auth_enabled(s))
		return 0;
	return smtpd_tls_active(s) ||
	       (s->conf.smtp_auth_plaintext_loopback && s->ip_known && smtpd_loopback(s->ip));
}

const char *smtpd_proto(const struct session *s)
{
	/* RFC 3848 and RFC 6531 3.7.4.3: [utf8][tls][authenticated] */
	static const char *const names[2][2][2] = {
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};

	if (s->helo_verb != SMTP_EHLO)
		return "SMTP";
	return names[!!s->smtputf8][!!smtpd_tls_active(s)][!!s->authed];
}

const char *smtpd_sender_refusal(struct session *s, const struct addr *a)
{
	struct localaddr_dest d;
	int k;

	/* <> names no one: bounces and receipts (RFC 8098) may use it */
	if (!s->authed || !s->conf.submission_sender_check || a->null)
		return NULL;
	if (!a->has_domain)
		return "553 5.7.1 <%s>: Sender address rejected: not owned by the authenticated user";
	k = localaddr_lookup(&s->conf, s->pol.users_path, a, &d);
	if (k == LOCALADDR_TEMPFAIL) {
		log_warn(NULL, "cannot map a sender: %s", strerror(errno));
		return "451 4.3.0 <%s>: Temporary lookup failure";
	}
	/* the address must lead to the user's own mailbox, as delivery maps it */
	if ((k == LOCALADDR_USER || k == LOCALADDR_SYSTEM || k == LOCALADDR_POSTMASTER) &&
	    strcmp(d.user, s->auth_user) == 0)
		return NULL;
	return "553 5.7.1 <%s>: Sender address rejected: not owned by the authenticated user";
}

/* a user name fit for the log */
static void auth_log_name(const char *name, size_t n, sa_t *out)
{
	sa_trunc(out, 0);
	if (sa_catb(out, name, n) == 0)
		smtpd_clean_text(out, 64);
}

static void auth_delay(const struct session *s)
{
	struct timespec ts = { (time_t)s->conf.smtp_auth_failure_delay, 0 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* one response line; SASL_OK with its bytes in out, SASL_CANCEL, SASL_BAD;
 * the session ends on EOF or timeout */
static int auth_read(struct session *s, sa_t *out)
{
	sa_t line = SA_INIT;
	int r;

	io_deadline(&s->in, (int)s->conf.smtp_timeout * 1000);
	r = io_getline(&s->in, &line, SASL_LINE_MAX + 2, NULL);
	if (r == IO_OK) {
		r = sasl_response(line.s, line.len, out);
	} else if (r == IO_TOOLONG) {
		r = SASL_BAD;
	} else {
		sa_free(&line);
		if (r == IO_EOF)
			session_exit(s, 0, "lost connection after AUTH");
		if (errno == ETIMEDOUT) {
			reply(s, "421 4.4.2 %s Error: timeout exceeded", s->host);
			session_exit(s, 0, "timeout after AUTH");
		}
		session_exit(s, 0, "read error after AUTH");
	}
	if (line.s)
		explicit_bzero(line.s, line.cap);
	sa_free(&line);
	return r;
}

/* the initial response, or a challenge and the line that answers it */
static int auth_step(struct session *s, const char *challenge, const char **initial,
                     size_t *initiallen, sa_t *out)
{
	if (*initial) {
		int r = sasl_response(*initial, *initiallen, out);
		*initial = NULL;
		return r;
	}
	reply(s, "%s", challenge);
	return auth_read(s, out);
}

/* name and password: to the checker; on success the session's user */
static int auth_verify(struct session *s, const char *name, size_t namelen, const char *pass,
                       size_t passlen, sa_t *logn)
{
	char user[USER_MAILBOX_MAX + 1], why[300];
	int r;

	auth_log_name(name, namelen, logn);
	r = passcheck_login(name, namelen, pass, passlen, user, why, sizeof why);
	if (r == PASSCHECK_TEMP) {
		log_warn(NULL, "auth error user=%s client=%s: cannot check the password: %s",
		         logn->s ? logn->s : "?", s->ip, why);
		return AUTHR_TEMP;
	}
	if (r == PASSCHECK_FAIL)
		return AUTHR_FAIL;
	memcpy(s->auth_user, user, strlen(user) + 1);
	return AUTHR_OK;
}

static int auth_plain(struct session *s, const struct sasl_auth *a, sa_t *logn)
{
	const char *init = a->initial;
	size_t initlen = a->initiallen;
	struct pop3_plain p;
	sa_t msg = SA_INIT;
	int r = auth_step(s, "334 ", &init, &initlen, &msg);

	if (r == SASL_CANCEL)
		r = AUTHR_CANCEL;
	else if (r == SASL_BAD)
		r = AUTHR_UNDECODABLE;
	else if (msg.len == 0 || pop3_plain_split(msg.s, msg.len, &p) < 0)
		r = AUTHR_FAIL; /* malformed, or an authzid not the user's own */
	else
		r = auth_verify(s, p.authcid, p.authcidlen, p.passwd, p.passwdlen, logn);
	if (msg.s)
		explicit_bzero(msg.s, msg.cap);
	sa_free(&msg);
	return r;
}

static int auth_login(struct session *s, const struct sasl_auth *a, sa_t *logn)
{
	const char *init = a->initial;
	size_t initlen = a->initiallen;
	sa_t name = SA_INIT, pass = SA_INIT;
	int r = auth_step(s, LOGIN_USER_CHALLENGE, &init, &initlen, &name);

	if (r == SASL_OK)
		r = auth_step(s, LOGIN_PASS_CHALLENGE, &init, &initlen, &pass);
	if (r == SASL_CANCEL)
		r = AUTHR_CANCEL;
	else if (r == SASL_BAD)
		r = AUTHR_UNDECODABLE;
	else if (name.len == 0 || pass.len == 0 || memchr(name.s, '\0', name.len))
		r = AUTHR_FAIL;
	else
		r = auth_verify(s, name.s, name.len, pass.s, pass.len, logn);
	if (pass.s)
		explicit_bzero(pass.s, pass.cap);
	sa_free(&name);
	sa_free(&pass);
	return r;
}

void smtpd_auth(struct session *s, const struct smtp_cmd *c)
{
	struct sasl_auth a;
	sa_t logn = SA_INIT;
	int r;

	if (!smtpd_auth_enabled(s)) {
		smtpd_bad(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->helo_verb != SMTP_EHLO) {
		smtpd_bad(s, "503 5.5.1 Error: send EHLO first");
		return;
	}
	if (s->authed) {
		smtpd_bad(s, "503 5.5.1 Error: already authenticated");
		return;
	}
	if (s->have_mail) {
		smtpd_bad(s, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (!smtpd_auth_offered(s)) {
		smtpd_bad(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return;
	}
	if (sasl_auth_parse(c->arg, c->arglen, &a) < 0) {
		smtpd_bad(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]");
		return;
	}
	if (a.mech == SASL_PLAIN)
		r = auth_plain(s, &a, &logn);
	else if (a.mech == SASL_LOGIN)
		r = auth_login(s, &a, &logn);
	else {
		smtpd_bad(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	switch (r) {
	case AUTHR_OK:
		s->authed = 1;
		s->pol.authenticated = 1;
		log_info(NULL, "auth ok user=%s client=%s mechanism=%s", s->auth_user, s->ip,
		         a.mech == SASL_PLAIN ? "PLAIN" : "LOGIN");
		reply(s, "235 2.7.0 Authentication successful");
		break;
	case AUTHR_TEMP:
		reply(s, "454 4.7.0 Temporary authentication failure");
		break;
	case AUTHR_CANCEL:
		smtpd_bad(s, "501 5.7.0 Authentication aborted");
		break;
	case AUTHR_UNDECODABLE:
		smtpd_bad(s, "501 5.5.2 Cannot decode response");
		break;
	default:
		log_info(NULL, "auth failed user=%s client=%s mechanism=%s",
		         logn.len ? logn.s : "?", s->ip, a.mech == SASL_PLAIN ? "PLAIN" : "LOGIN");
		auth_delay(s);
		smtpd_bad(s, "535 5.7.8 Error: authentication failed");
		break;
	}
	sa_free(&logn);
}
