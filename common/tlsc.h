/* tlsc: the protocol programs' side of pochta-tls (man/pochta-tls.8), libc
 * only. A program that wants TLS on its connection starts pochta-tls with
 *   fd 0  the network connection
 *   fd 3  the control socket (AF_UNIX SOCK_SEQPACKET: one message a packet)
 *   fd 4  plain text toward the program (pochta-tls writes what it decrypted)
 *   fd 5  plain text from the program (pochta-tls encrypts and sends it)
 * and talks on the control socket:
 *   pochta-tls: "R"            certificate and key loaded, privileges dropped
 *           or  "E reason"     no TLS (the program says so to its peer)
 *   program:    "G"            our last plain-text reply is on the wire: go
 *   pochta-tls: "T\tversion=TLSv1.3\tcipher=NAME\tbits=256\tverify=...\t..."
 *           or  "E reason"     the handshake failed: the connection is lost
 * After T the program reads and writes plain text on the pipes and never
 * touches the network connection again; EOF on the pipe from it ends the TLS
 * session (close_notify) and pochta-tls. */
#ifndef POCHTA_TLSC_H
#define POCHTA_TLSC_H
#include <stddef.h>
#include <sys/types.h>
#include "io.h"
#include "sa.h"

#define TLSC_MSG_MAX 2048      /* one control message */
#define TLSC_FIELD_MAX 256     /* one value of a T message, NUL included */

/* what a T message says about the TLS session */
struct tlsc_info {
	char version[32];           /* "TLSv1.3" */
	char cipher[128];           /* "TLS_AES_256_GCM_SHA384" */
	unsigned bits;              /* the cipher's secret bits */
	char verify[16];            /* the peer's certificate: "verified",
	                             * "unverified" (see verify_error) or "none" */
	char verify_error[TLSC_FIELD_MAX];
	char subject[TLSC_FIELD_MAX]; /* the peer certificate's subject; "" without one */
	char issuer[TLSC_FIELD_MAX];
};

/* a T message (len bytes, no NUL needed) into info: 0, or -1 when it is not
 * one (no "T", a field without "=", a value too long or with a byte outside
 * printable ASCII, no version or cipher, bits not a number up to 65535).
 * Unknown keys are skipped: later versions may add some. */
int tlsc_parse(const char *msg, size_t len, struct tlsc_info *info);

struct tlsc {
	pid_t pid;                  /* pochta-tls; 0: none */
	int ctl, rd, wr;            /* -1: closed */
	struct tlsc_info info;      /* after tlsc_handshake */
	char err[256];              /* why the last call failed */
};

void tlsc_init(struct tlsc *t);
/* start prog (pochta-tls) on the connection net with the arguments args
 * (NULL-terminated, args[0] the name) and wait up to timeout_ms for its R.
 * 0, or -1 with t->err (pochta-tls, if it was started, is reaped) */
int tlsc_start(struct tlsc *t, int net, const char *prog, char *const args[], int timeout_ms);
/* say G and wait up to timeout_ms for T: 0 (t->info), or -1 with t->err
 * (the TLS session could not start: the connection is of no more use) */
int tlsc_handshake(struct tlsc *t, int timeout_ms);
/* after tlsc_handshake: in and out, which were the connection, become the
 * pipes (in's buffer must be empty: nothing read before TLS is kept); their
 * old descriptors are made /dev/null, so that no plain text can reach the
 * connection from here. 0 or -1 (errno) */
int tlsc_take_over(struct tlsc *t, io_t *in, io_t *out);
/* close our ends and reap pochta-tls within wait_ms (then it is killed) */
void tlsc_end(struct tlsc *t, int wait_ms);
/* "TLSv1.3 with cipher NAME (256/256 bits)", appended; 0 or -1 */
int tlsc_describe(const struct tlsc_info *info, sa_t *out);

#endif
