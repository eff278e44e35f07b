/* remote_tls: opportunistic STARTTLS (RFC 3207) through pochta-tls -c;
 * pochta-remote stays libc-only. The certificate is checked against the
 * host's name and tls_ca_file, and the result logged: verified, unverified
 * (with the reason) or, from remote_smtp.c, none. */
#include <stdio.h>
#include <unistd.h>
#include "log.h"
#include "paths.h"
#include "remote.h"
#include "tlsc.h"

int remote_tls_available(void)
{
	return access(paths_prog("pochta-tls"), X_OK) == 0;
}

int remote_tls_start(struct remote *rm, const struct peer *p, struct tlsc *t, io_t *in, io_t *out)
{
	char secs[16];
	char *args[] = { "pochta-tls", "-c", (char *)p->name, "-t", secs, NULL };
	sa_t d = SA_INIT;
	int tmo = (int)rm->conf.remote_timeout * 1000 + 5000;

	snprintf(secs, sizeof secs, "%lld", rm->conf.remote_timeout);
	if (tlsc_start(t, in->fd, paths_prog("pochta-tls"), args, tmo) < 0)
		return -1;
	if (tlsc_handshake(t, tmo) < 0 || tlsc_take_over(t, in, out) < 0) {
		tlsc_end(t, 1000);
		return -1;
	}
	(void)tlsc_describe(&t->info, &d);
	log_info(rm->qid, "TLS to %s: %s, certificate %s%s%s", p->label, d.s ? d.s : "?", t->info.verify,
	         t->info.verify_error[0] ? ": " : "", t->info.verify_error);
	sa_free(&d);
	return 0;
}
