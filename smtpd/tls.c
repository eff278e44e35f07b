/* pochta-tls: one connection's TLS session, started by pochta-smtpd,
 * pochta-pop3d or pochta-remote on its connection (common/tlsc.h, man
 * pochta-tls(8)): it loads the certificate and key (or the CA file), drops
 * root if it has it, says R, waits for G, does the handshake, reports the
 * session with T and then relays plain text between the program's pipes and
 * the TLS session until either side ends. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include "confrun.h"
#include "log.h"
#include "paths.h"
#include "priv.h"
#include "tls.h"

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fprintf(stderr, "usage: pochta-tls -s [-t SECONDS]\n"
	                "       pochta-tls -c SERVERNAME [-t SECONDS]\n"
	                "       pochta-tls --make-cert CERTFILE KEYFILE NAME\n");
	exit(100);
}

/* say why there is no TLS on the control socket, log it, and end */
static void give_up(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void give_up(const char *fmt, ...)
{
	sa_t m = SA_INIT;
	va_list ap;

	va_start(ap, fmt);
	if (sa_cats(&m, "E ") < 0 || sa_vcatf(&m, fmt, ap) < 0)
		sa_copys(&m, "E out of memory");
	va_end(ap);
	log_warn(NULL, "%s", m.s + 2);
	(void)send(TLS_FD_CTL, m.s, m.len > 1024 ? 1024 : m.len, MSG_NOSIGNAL);
	exit(1);
}

/* a configured file name: relative ones are under ETC */
static const char *etc_file(const char *name, sa_t *buf)
{
	if (name[0] == '/')
		return name;
	if (sa_copys(buf, paths.etc) < 0 || sa_catc(buf, '/') < 0 || sa_cats(buf, name) < 0)
		give_up("out of memory");
	return buf->s;
}

/* the program's G within timeout_ms; it may also just end (EOF): then so do we */
static void wait_go(int timeout_ms)
{
	struct pollfd p = { .fd = TLS_FD_CTL, .events = POLLIN, .revents = 0 };
	char c[16];
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		exit(0);
	ssize_t n = recv(TLS_FD_CTL, c, sizeof c, 0);
	if (n != 1 || c[0] != 'G')
		exit(0);
}

int main(int argc, char **argv)
{
	struct conf conf;
	sa_t err = SA_INIT, p1 = SA_INIT, p2 = SA_INIT, rep = SA_INIT;
	const char *name = NULL, *peer;
	int client = -1, secs = 300, c;
	SSL_CTX *ctx;
	SSL *ssl;

	signal(SIGPIPE, SIG_IGN);
	log_init("pochta-tls", LOG_DEST_AUTO);
	if (argc == 5 && strcmp(argv[1], "--make-cert") == 0) {
		if (tls_make_cert(argv[2], argv[3], argv[4], &err) < 0) {
			fprintf(stderr, "pochta-tls: %s\n", err.s ? err.s : "cannot make a certificate");
			sa_free(&err);
			return 1;
		}
		return 0;
	}
	while ((c = getopt(argc, argv, "sc:t:")) != -1) {
		if (c == 's' && client < 0) {
			client = 0;
		} else if (c == 'c' && client < 0) {
			client = 1;
			name = optarg;
		} else if (c == 't') {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 86400)
				usage();
			secs = (int)v;
		} else {
			usage();
		}
	}
	if (client < 0 || optind != argc)
		usage();
	if (paths_init(NULL) < 0)
		give_up("cannot set up paths: %s", strerror(errno));
	if (confrun_load(&conf, &err) < 0)
		give_up("%s", err.s ? err.s : "cannot load the configuration");
	log_configure(conf.log_destination, conf.log_format, paths.log);

	if (client) {
		ctx = tls_client_ctx(conf.tls_ca_file[0] ? etc_file(conf.tls_ca_file, &p1) : NULL, &err);
	} else {
		if (!conf.tls_cert_file[0] || !conf.tls_key_file[0])
			give_up("tls_cert_file or tls_key_file is not set");
		ctx = tls_server_ctx(etc_file(conf.tls_cert_file, &p1), etc_file(conf.tls_key_file, &p2), &err);
	}
	if (!ctx)
		give_up("%s", err.s ? err.s : "cannot set up TLS");
	/* the key is in memory, its file closed: from here on nothing of root's.
	 * pochta-pop3d starts us as root before its login */
	if (priv_is_root()) {
		struct priv_user u;
		if (priv_lookup(conf.smtpd_user, &u, &err) < 0 || priv_drop(&u, &err) < 0)
			give_up("smtpd_user %s: %s", conf.smtpd_user, err.s ? err.s : "cannot drop privileges");
	}
	if (send(TLS_FD_CTL, "R", 1, MSG_NOSIGNAL) != 1)
		exit(0);
	wait_go(secs * 1000);

	peer = client ? name : getenv("TCPREMOTEIP");
	if (!peer || !*peer)
		peer = "unknown";
	sa_trunc(&err, 0);
	ssl = tls_handshake(ctx, TLS_FD_NET, name, secs * 1000, &err);
	if (!ssl)
		give_up("TLS handshake with %.100s failed: %s", peer, err.s ? err.s : "unknown error");
	if (tls_report(ssl, client, &rep) < 0 ||
	    send(TLS_FD_CTL, rep.s, rep.len > 2000 ? 2000 : rep.len, MSG_NOSIGNAL) < 0)
		exit(1); /* the program is gone */
	close(TLS_FD_CTL);
	sa_trunc(&err, 0);
	if (tls_relay(ssl, TLS_FD_NET, TLS_FD_TOAPP, TLS_FD_FROMAPP, secs * 1000, &err) < 0)
		log_info(NULL, "TLS session with %.100s ended: %s", peer, err.s ? err.s : "error");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	conf_free(&conf);
	sa_free(&err);
	sa_free(&p1);
	sa_free(&p2);
	sa_free(&rep);
	return 0;
}
