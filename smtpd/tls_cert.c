/* tls_cert: pochta-tls --make-cert, the self-signed pair `pochtactl init`
 * makes in a TLS build so that an instance offers TLS at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include "io.h"
#include "tls.h"

#define TLS_CERT_DAYS 825

/* what BIO b holds, into a new file of that mode */
static int tls_cert_write(const char *path, BIO *b, int mode, sa_t *err)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0) {
		sa_catf(err, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (n <= 0 || fd_write_all(fd, p, (size_t)n) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		sa_catf(err, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

int tls_make_cert(const char *cert_file, const char *key_file, const char *name, sa_t *err)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *ext = NULL;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	unsigned char serial[16], ip[16];
	BIGNUM *bn = NULL;
	char san[300];
	int rc = -1, isip = inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1;

	if (!*name || strlen(name) > 255) {
		sa_cats(err, "bad name");
		goto out;
	}
	snprintf(san, sizeof san, "%s:%s", isip ? "IP" : "DNS", name);
	if (!pk || !x || !kb || !cb || RAND_bytes(serial, sizeof serial) != 1)
		goto ssl_fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * TLS_CERT_DAYS) || !X509_set_pubkey(x, pk) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	                                (const unsigned char *)name, -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)))
		goto ssl_fail;
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, pk, EVP_sha256()))
		goto ssl_fail;
	if (!PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(cb, x))
		goto ssl_fail;
	if (tls_cert_write(key_file, kb, 0600, err) < 0)
		goto out;
	if (tls_cert_write(cert_file, cb, 0644, err) < 0) {
		unlink(key_file);
		goto out;
	}
	rc = 0;
	goto out;
ssl_fail:
	sa_catf(err, "cannot make the certificate: %s", ERR_reason_error_string(ERR_get_error()));
out:
	X509_EXTENSION_free(ext);
	BN_free(bn);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pk);
	return rc;
}
