/* pop3d_tls: STLS (RFC 2595) and implicit TLS (RFC 8314, -T) through
 * pochta-tls (common/tlsc.h): pochta-pop3d stays libc-only. Started as root,
 * pochta-pop3d starts pochta-tls as root too: it reads the key, then drops
 * to smtpd_user before it touches the network. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "paths.h"
#include "pop3d.h"

int pop3d_tls_offered(const struct sess *s, const struct conf *c)
{
	return !s->tls_on && c->tls_cert_file[0] && c->tls_key_file[0] &&
	       access(paths_prog("pochta-tls"), X_OK) == 0;
}

int pop3d_tls_start(struct sess *s, const struct conf *c)
{
	char secs[16];
	char *args[] = { "pochta-tls", "-s", "-t", secs, NULL };

	snprintf(secs, sizeof secs, "%lld", c->pop3_timeout);
	if (tlsc_start(&s->tls, 0, paths_prog("pochta-tls"), args, 30000) < 0) {
		log_warn(NULL, "cannot start TLS for %s: %s", s->client, s->tls.err);
		return -1;
	}
	return 0;
}

int pop3d_tls_go(struct sess *s, const char *how)
{
	sa_t d = SA_INIT;

	if (tlsc_handshake(&s->tls, s->timeout_ms + 5000) < 0) {
		log_info(NULL, "%s from %s failed: %s", how, s->client, s->tls.err);
		return -1;
	}
	if (tlsc_take_over(&s->tls, &s->in, &s->out) < 0) {
		log_warn(NULL, "cannot close the connection to %s: %s", s->client, strerror(errno));
		return -1;
	}
	s->tls_on = 1;
	if (tlsc_describe(&s->tls.info, &d) == 0)
		log_info(NULL, "%s from %s: %s", how, s->client, d.s);
	sa_free(&d);
	return 0;
}
