/* smtpd_tls: STARTTLS (RFC 3207) and implicit TLS (RFC 8314, -T) through
 * pochta-tls (common/tlsc.h): pochta-smtpd stays libc-only and learns only
 * that TLS is on and what pochta-tls reports of the session. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "paths.h"
#include "smtpcmd.h"
#include "smtpd.h"

int smtpd_tls_active(const struct session *s)
{
	return s->tls_on;
}

int smtpd_tls_offered(const struct session *s)
{
	return !s->tls_on && s->local_uid < 0 && s->conf.tls_cert_file[0] && s->conf.tls_key_file[0] &&
	       access(paths_prog("pochta-tls"), X_OK) == 0;
}

/* pochta-tls on the connection (fd 0), up to its R; 0 or -1 (logged) */
static int tls_start(struct session *s)
{
	char secs[16];
	char *args[] = { "pochta-tls", "-s", "-t", secs, NULL };

	snprintf(secs, sizeof secs, "%lld", s->conf.smtp_timeout);
	if (tlsc_start(&s->tls, 0, paths_prog("pochta-tls"), args, 30000) < 0) {
		log_warn(NULL, "cannot start TLS for %s: %s", s->ip, s->tls.err);
		return -1;
	}
	return 0;
}

/* G, the handshake, then the pipes instead of the connection; on failure the
 * connection is of no more use: the session ends */
static void tls_go(struct session *s, const char *how)
{
	sa_t d = SA_INIT;

	if (tlsc_handshake(&s->tls, (int)s->conf.smtp_timeout * 1000 + 5000) < 0) {
		log_info(NULL, "%s from %s failed: %s", how, s->ip, s->tls.err);
		s->out_dead = 1;
		session_exit(s, 0, "TLS handshake failed");
	}
	/* the connection is pochta-tls's alone now: no plain text can leak */
	if (tlsc_take_over(&s->tls, &s->in, &s->out) < 0) {
		log_warn(NULL, "cannot close the connection to %s: %s", s->ip, strerror(errno));
		session_exit(s, 111, "internal error");
	}
	s->tls_on = 1;
	if (tlsc_describe(&s->tls.info, &d) == 0)
		log_info(NULL, "%s from %s: %s%s%s", how, s->ip, d.s,
		         s->tls.info.subject[0] ? " client=" : "", s->tls.info.subject);
	sa_free(&d);
}

const char *smtpd_starttls(struct session *s, const struct smtp_cmd *c)
{
	if (s->tls_on)
		return "554 5.5.1 Error: TLS already active";
	if (!smtpd_tls_offered(s))
		return "502 5.5.1 Error: command not implemented";
	if (c->arglen)
		return "501 5.5.4 Syntax: STARTTLS";
	if (tls_start(s) < 0) {
		reply(s, "454 4.7.0 TLS not available due to local problem");
		return NULL;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	if (io_flush(&s->out) < 0) {
		s->out_dead = 1;
		session_exit(s, 0, "write error");
	}
	tls_go(s, "STARTTLS");
	/* RFC 3207 4.2: nothing learnt before counts; the client starts over */
	tx_reset(s);
	s->helo_verb = 0;
	s->helo[0] = '\0';
	return NULL;
}

void smtpd_tls_implicit(struct session *s)
{
	if (!smtpd_tls_offered(s)) {
		log_warn(NULL, "implicit TLS from %s: TLS is not set up (tls_cert_file, tls_key_file, pochta-tls)",
		         s->ip);
		s->out_dead = 1;
		session_exit(s, 0, "no TLS");
	}
	if (tls_start(s) < 0) {
		s->out_dead = 1;
		session_exit(s, 0, "no TLS");
	}
	tls_go(s, "TLS");
}

void smtpd_tls_end(struct session *s)
{
	if (s->tls.pid > 0)
		tlsc_end(&s->tls, 2000);
}
