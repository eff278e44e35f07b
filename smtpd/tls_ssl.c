/* tls_ssl: pochta-tls's OpenSSL side: contexts (TLS 1.2 at least), the
 * handshake under a deadline, the session report and the relay between the
 * network and the protocol program's pipes. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "tls.h"

static long long tls_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the reason of the last OpenSSL error, appended */
static void tls_ssl_err(sa_t *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof buf);
		sa_catf(err, "%s: %s", what, buf);
	} else {
		sa_catf(err, "%s", what);
	}
	ERR_clear_error();
}

/* a whole file in memory, the file closed again; the key file checked first */
static int tls_read_file(const char *path, int is_key, sa_t *out, sa_t *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0) {
		sa_catf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sa_catf(err, "%s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (is_key && (st.st_mode & (S_IROTH | S_IWOTH))) {
		sa_catf(err, "%s is world-readable or writable: refused (chmod o-rw)", path);
		close(fd);
		return -1;
	}
	if (st.st_size > TLS_FILE_MAX || sa_ready(out, (size_t)st.st_size + 1) < 0) {
		sa_catf(err, "%s is too large", path);
		close(fd);
		return -1;
	}
	while ((n = read(fd, out->s + out->len, out->cap - out->len - 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len + (size_t)n >= TLS_FILE_MAX) {
			sa_catf(err, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "too large");
			close(fd);
			return -1;
		}
		out->len += (size_t)n;
		if (out->len + 1 >= out->cap && sa_ready(out, 4096) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	out->s[out->len] = '\0';
	return 0;
}

static void tls_wipe(sa_t *s)
{
	if (s->s)
		OPENSSL_cleanse(s->s, s->cap);
	sa_free(s);
}

static SSL_CTX *tls_ctx_new(const SSL_METHOD *m, sa_t *err)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx) {
		tls_ssl_err(err, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		tls_ssl_err(err, "cannot require TLS 1.2");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

/* a client certificate is asked for, never required: only reported */
static int tls_accept_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file, sa_t *err)
{
	sa_t cert = SA_INIT, key = SA_INIT;
	SSL_CTX *ctx = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;

	if (tls_read_file(key_file, 1, &key, err) < 0 || tls_read_file(cert_file, 0, &cert, err) < 0)
		goto out;
	ctx = tls_ctx_new(TLS_server_method(), err);
	if (!ctx)
		goto out;
	b = BIO_new_mem_buf(key.s, (int)key.len);
	if (!b || !(pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		tls_ssl_err(err, "no private key in tls_key_file");
		goto fail;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(cert.s, (int)cert.len);
	if (!b || !(x = PEM_read_bio_X509(b, NULL, NULL, NULL)) || !SSL_CTX_use_certificate(ctx, x)) {
		tls_ssl_err(err, "no certificate in tls_cert_file");
		goto fail;
	}
	X509_free(x);
	/* the rest of the file: the chain toward the CA */
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!SSL_CTX_add0_chain_cert(ctx, x)) {
			X509_free(x);
			tls_ssl_err(err, "bad chain in tls_cert_file");
			goto fail;
		}
	}
	x = NULL;
	ERR_clear_error(); /* the end of the file */
	if (!SSL_CTX_use_PrivateKey(ctx, pk) || !SSL_CTX_check_private_key(ctx)) {
		tls_ssl_err(err, "tls_key_file does not match tls_cert_file");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_accept_any);
	goto out;
fail:
	SSL_CTX_free(ctx);
	ctx = NULL;
out:
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(pk);
	tls_wipe(&key);
	sa_free(&cert);
	return ctx;
}

SSL_CTX *tls_client_ctx(const char *ca_file, sa_t *err)
{
	SSL_CTX *ctx = tls_ctx_new(TLS_client_method(), err);

	if (!ctx)
		return NULL;
	if (ca_file ? !SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
	            : !SSL_CTX_set_default_verify_paths(ctx)) {
		tls_ssl_err(err, ca_file ? "cannot load tls_ca_file" : "cannot load the default CA store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* opportunistic: the session goes on, the result is reported */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* wait for fd as SSL_get_error(r) asks, until deadline; 0 or -1 */
static int tls_wait(SSL *ssl, int r, int fd, long long deadline, sa_t *err, const char *what)
{
	int e = SSL_get_error(ssl, r);
	struct pollfd p = { .fd = fd, .events = 0, .revents = 0 };
	long long left = deadline - tls_now_ms();

	if (e == SSL_ERROR_WANT_READ)
		p.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		p.events = POLLOUT;
	else {
		if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
			sa_catf(err, "%s: connection lost", what);
		else
			tls_ssl_err(err, what);
		return -1;
	}
	if (left <= 0) {
		sa_catf(err, "%s: timeout", what);
		return -1;
	}
	if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
		sa_catf(err, "%s: poll: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

SSL *tls_handshake(SSL_CTX *ctx, int fd, const char *name, int timeout_ms, sa_t *err)
{
	long long deadline = tls_now_ms() + timeout_ms;
	SSL *ssl = SSL_new(ctx);
	int fl = fcntl(fd, F_GETFL);

	if (!ssl || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || !SSL_set_fd(ssl, fd)) {
		tls_ssl_err(err, "cannot set up the session");
		SSL_free(ssl);
		return NULL;
	}
	if (name) {
		unsigned char ip[16];
		int isip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;
		/* a certificate names an address as an iPAddress, a host by DNS name */
		if ((!isip && (!SSL_set_tlsext_host_name(ssl, name) || !SSL_set1_host(ssl, name))) ||
		    (isip && !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name))) {
			tls_ssl_err(err, "bad server name");
			SSL_free(ssl);
			return NULL;
		}
		SSL_set_connect_state(ssl);
	} else {
		SSL_set_accept_state(ssl);
	}
	for (;;) {
		int r = SSL_do_handshake(ssl);
		if (r == 1)
			return ssl;
		if (tls_wait(ssl, r, fd, deadline, err, "handshake") < 0) {
			SSL_free(ssl);
			return NULL;
		}
	}
}

/* a certificate name as one line of printable ASCII, tabs and all else '?' */
static void tls_name_text(X509_NAME *n, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (!n || !X509_NAME_oneline(n, buf, (int)cap))
		buf[0] = '\0';
	for (char *p = buf; *p; p++)
		if (*p < ' ' || *p > '~')
			*p = '?';
}

int tls_report(SSL *ssl, int client, sa_t *out)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	X509 *peer = SSL_get1_peer_certificate(ssl);
	int bits = 0;
	int r;

	if (c)
		SSL_CIPHER_get_bits(c, &bits);
	r = sa_catf(out, "T\tversion=%s\tcipher=%s\tbits=%d", SSL_get_version(ssl),
	            c ? SSL_CIPHER_get_name(c) : "unknown", bits);
	if (r == 0 && !peer) {
		r = sa_cats(out, "\tverify=none");
	} else if (r == 0) {
		char sub[200], iss[200];
		long v = SSL_get_verify_result(ssl);
		tls_name_text(X509_get_subject_name(peer), sub, sizeof sub);
		tls_name_text(X509_get_issuer_name(peer), iss, sizeof iss);
		/* the server asks for any client certificate and checks none */
		if (!client)
			r = sa_cats(out, "\tverify=unverified\tverify_error=not checked");
		else if (v == X509_V_OK)
			r = sa_cats(out, "\tverify=verified");
		else
			r = sa_catf(out, "\tverify=unverified\tverify_error=%.200s", X509_verify_cert_error_string(v));
		if (r == 0)
			r = sa_catf(out, "\tsubject=%s\tissuer=%s", sub, iss);
	}
	X509_free(peer);
	return r;
}

/* what the network must be for the SSL call that returned r to go on:
 * POLLIN, POLLOUT, or 0 when it failed for good */
static short tls_want(SSL *ssl, int r)
{
	int e = SSL_get_error(ssl, r);
	return e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
}

int tls_relay(SSL *ssl, int net, int toapp, int fromapp, int idle_ms, sa_t *err)
{
	static char in[16384], out[16384]; /* from the network / from the program */
	size_t inlen = 0, inoff = 0, outlen = 0, outoff = 0;
	int net_eof = 0, app_eof = 0;
	long long last = tls_now_ms();

	if (fcntl(toapp, F_SETFL, O_NONBLOCK) < 0 || fcntl(fromapp, F_SETFL, O_NONBLOCK) < 0) {
		sa_catf(err, "fcntl: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		int moved = 0, app_r = 0, app_w = 0;
		short net_ev = 0;

		if (!net_eof && inlen == 0) {
			int n = SSL_read(ssl, in, sizeof in);
			if (n > 0) {
				inlen = (size_t)n;
				inoff = 0;
				moved = 1;
			} else {
				short ev = tls_want(ssl, n);
				if (ev)
					net_ev |= ev;
				else
					net_eof = moved = 1; /* close_notify, EOF or a broken session */
				ERR_clear_error();
			}
		}
		if (inoff < inlen) {
			ssize_t w = write(toapp, in + inoff, inlen - inoff);
			if (w > 0) {
				inoff += (size_t)w;
				moved = 1;
				if (inoff == inlen)
					inlen = inoff = 0;
			} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				app_w = 1;
			} else if (w < 0 && errno != EINTR) {
				return 0; /* the program is gone */
			}
		}
		if (net_eof && inlen == 0)
			return 0; /* our exit closes its input: it sees EOF */
		if (!app_eof && outlen == 0) {
			ssize_t r = read(fromapp, out, sizeof out);
			if (r > 0) {
				outlen = (size_t)r;
				outoff = 0;
				moved = 1;
			} else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
				app_eof = moved = 1;
			} else {
				app_r = 1;
			}
		}
		if (outoff < outlen) {
			int n = SSL_write(ssl, out + outoff, (int)(outlen - outoff));
			if (n > 0) {
				outoff += (size_t)n;
				moved = 1;
				if (outoff == outlen)
					outlen = outoff = 0;
			} else {
				short ev = tls_want(ssl, n);
				if (!ev) {
					tls_ssl_err(err, "write to the peer");
					return -1;
				}
				net_ev |= ev;
			}
		}
		if (app_eof && outlen == 0) {
			(void)SSL_shutdown(ssl); /* one try: close_notify, no waiting for the peer's */
			return 0;
		}
		if (moved) {
			last = tls_now_ms();
			continue;
		}
		/* an fd waited for nothing is left out: its POLLHUP would spin us */
		struct pollfd p[3] = {
			{ .fd = net_ev ? net : -1, .events = net_ev, .revents = 0 },
			{ .fd = app_r ? fromapp : -1, .events = POLLIN, .revents = 0 },
			{ .fd = app_w ? toapp : -1, .events = POLLOUT, .revents = 0 },
		};
		long long left = last + idle_ms - tls_now_ms();
		if (left <= 0) {
			sa_cats(err, "idle timeout");
			return -1;
		}
		if (poll(p, 3, (int)left) < 0 && errno != EINTR) {
			sa_catf(err, "poll: %s", strerror(errno));
			return -1;
		}
	}
}
