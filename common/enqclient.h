/* enqclient: the client side of the pochta-enqueue protocol (enqproto.h), for
 * every program that queues messages: pochta-smtpd (streaming, a whole session
 * through one child) and pochta-qmgr (bounces and delay notices, whole messages
 * from memory). pochta-enqueue runs as a child on one socketpair (its stdin and
 * stdout) and may take any number of messages before enqc_close().
 *
 *   struct enqc c;
 *   if (enqc_open(&c, paths_prog("pochta-enqueue"), 30000) == 0) {
 *       r = enqc_send(&c, &env, data, len, &reply);   'K': reply holds the qid
 *       enqc_close(&c);
 *   }
 * or, streaming: enqc_begin, enqc_put (envelope records, then ENQ_DATA), and
 * enqc_end or enqc_abort. */
#ifndef POCHTA_ENQCLIENT_H
#define POCHTA_ENQCLIENT_H
#include <stddef.h>
#include <sys/types.h>
#include "io.h"
#include "sa.h"

#define ENQC_REPLY_MAX 4096

struct enqc {
	pid_t pid;                  /* 0: not a child of ours (enqc_attach, a zygote's) */
	int zygote;                 /* made by a zygote (enqc_ready_z) */
	int fd;                     /* -1: closed */
	int broken;                 /* a protocol or I/O error: the peer is not trusted */
	io_t in, out;
	char inbuf[512];            /* replies are read into an sa_t, not kept here */
	char outbuf[8192];
};

struct enqc_env {
	const char *sender;         /* "" for the null reverse-path */
	const char *body;           /* "8BITMIME", "7BIT" or "" */
	const char *proto;          /* e.g. "LOCAL"; NULL: no P record */
	const char *const *rcpt;    /* nrcpt addresses, at least one */
	size_t nrcpt;
};

/* a client with no child yet (for enqc_ready) */
void enqc_init(struct enqc *c);
/* start prog (argv[0] only, no shell) with a socketpair as its stdin and
 * stdout; other descriptors are closed in the child. Its stderr is kept only
 * when POCHTA_LOG=stderr (under inetd fd 2 may be the client connection),
 * else it is /dev/null.
 * Every read and write waits at most timeout_ms. 0, or -1 with errno */
int enqc_open(struct enqc *c, const char *prog, int timeout_ms);
/* use an already connected descriptor instead (tests); c owns fd */
void enqc_attach(struct enqc *c, int fd, int timeout_ms);
/* Make sure c has a live child: a closed, broken or exited one is reaped and
 * a new one started (enqc_open). For long-lived clients between messages.
 * 0, or -1 with errno. */
int enqc_ready(struct enqc *c, const char *prog, int timeout_ms);
/* the same, but a new one is asked of the `pochta-enqueue -z` on packet
 * socket zfd (>= 0) first: it forks one, without exec, on a socketpair whose
 * end it is sent. When zfd is -1 or the zygote is gone: enqc_open. */
int enqc_ready_z(struct enqc *c, int zfd, const char *prog, int timeout_ms);
/* in a new child: run prog (argv[1] = arg, may be NULL) on fd as stdin and
 * stdout, stderr and descriptors as enqc_open says */
void enqc_exec(int fd, const char *prog, const char *arg) __attribute__((noreturn));
/* begin a message: 0 with the new queue ID in qid; 'Z' when pochta-enqueue
 * cannot take one now (its text in qid; nothing is open); -1 with errno on an
 * I/O or protocol error (c is broken) */
int enqc_begin(struct enqc *c, sa_t *qid);
/* one record of the open message: the envelope (S, B, P, H, C, R) then the
 * data (ENQ_DATA, at most ENQ_DATA_MAX bytes each). 0, or -1 (c is broken) */
int enqc_put(struct enqc *c, int type, const void *p, size_t n);
/* end the open message: 'K' (queued durably; reply holds the queue ID),
 * 'Z' or 'X' (refused; reply holds the reason), or -1 (c is broken) */
int enqc_end(struct enqc *c, sa_t *reply);
/* abandon the open message (no reply); a failure marks c broken */
void enqc_abort(struct enqc *c);
/* queue one message: envelope, data (LF line ends, len bytes), commit.
 * Returns 'K' (queued durably; reply holds the queue ID), 'Z' (temporary
 * refusal) or 'X' (permanent refusal) with the peer's text in reply, or -1
 * with errno on an I/O or protocol error (then c is broken: close it). */
int enqc_send(struct enqc *c, const struct enqc_env *env, const char *data, size_t len,
              sa_t *reply);
/* close the connection and reap the child (killed first when broken) */
void enqc_close(struct enqc *c);

#endif
