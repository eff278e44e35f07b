/* pochta-tls (built with `make TLS=openssl` only): the TLS session of one
 * connection for a protocol program that stays libc-only (man/pochta-tls.8,
 * common/tlsc.h for the descriptors and the control messages).
 *   tls.c       main: the arguments, the configuration, the control socket
 *   tls_ssl.c   the OpenSSL context, the handshake and the relay
 *   tls_cert.c  --make-cert: a self-signed pair for `pochtactl init` */
#ifndef POCHTA_TLS_H
#define POCHTA_TLS_H
#include <openssl/ssl.h>
#include "sa.h"

#define TLS_FD_NET 0
#define TLS_FD_CTL 3
#define TLS_FD_TOAPP 4
#define TLS_FD_FROMAPP 5
#define TLS_FILE_MAX (1024 * 1024) /* a certificate chain or key file */

/* tls_ssl.c. A server context from the PEM files (the key file must not be
 * world-readable; both are read whole, then closed), or a client context
 * verifying against ca_file (NULL: the system's store). NULL with err. */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, sa_t *err);
SSL_CTX *tls_client_ctx(const char *ca_file, sa_t *err);
/* the handshake on fd within timeout_ms; name: the server's name (client
 * mode: SNI and the name its certificate must carry). The session, or NULL
 * with err */
SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *name, int timeout_ms, sa_t *err);
/* the T message for the session (common/tlsc.h) */
int tls_report(SSL *ssl, int client, sa_t *out);
/* relay until one side ends or nothing moves for idle_ms: 0 at a clean end,
 * -1 with err */
int tls_relay(SSL *ssl, int net, int toapp, int fromapp, int idle_ms, sa_t *err);

/* tls_cert.c: a new EC P-256 key (mode 0600) and a self-signed certificate
 * for name (mode 0644), neither file existing before; 0 or -1 with err */
int tls_make_cert(const char *cert_file, const char *key_file, const char *name, sa_t *err);

#endif
