/* enqclient: the client side of the pochta-enqueue protocol (enqproto.h), for
 * programs that queue messages of their own (pochta-qmgr's bounces and delay
 * notices). pochta-enqueue runs as a child on one socketpair (its stdin and
 * stdout) and may take any number of messages before enqc_close().
 *
 *   struct enqc c;
 *   if (enqc_open(&c, paths_prog("pochta-enqueue"), 30000) == 0) {
 *       r = enqc_send(&c, &env, data, len, &reply);   'K': reply holds the qid
 *       enqc_close(&c);
 *   } */
#ifndef POCHTA_ENQCLIENT_H
#define POCHTA_ENQCLIENT_H
#include <stddef.h>
#include <sys/types.h>
#include "io.h"
#include "sa.h"

#define ENQC_REPLY_MAX 4096

struct enqc {
	pid_t pid;                  /* 0: not a child of ours (enqc_attach) */
	int fd;                     /* -1: closed */
	int broken;                 /* a protocol or I/O error: the peer is not trusted */
	io_t in, out;
	char inbuf[ENQC_REPLY_MAX + 64];
	char outbuf[8192];
};

struct enqc_env {
	const char *sender;         /* "" for the null reverse-path */
	const char *body;           /* "8BITMIME", "7BIT" or "" */
	const char *proto;          /* e.g. "LOCAL"; NULL: no P record */
	const char *const *rcpt;    /* nrcpt addresses, at least one */
	size_t nrcpt;
};

/* start prog (argv[0] only, no shell) with a socketpair as its stdin and
 * stdout; other descriptors are closed in the child, stderr is kept.
 * Every read and write waits at most timeout_ms. 0, or -1 with errno */
int enqc_open(struct enqc *c, const char *prog, int timeout_ms);
/* use an already connected descriptor instead (tests); c owns fd */
void enqc_attach(struct enqc *c, int fd, int timeout_ms);
/* queue one message: envelope, data (LF line ends, len bytes), commit.
 * Returns 'K' (queued durably; reply holds the queue ID), 'Z' (temporary
 * refusal) or 'X' (permanent refusal) with the peer's text in reply, or -1
 * with errno on an I/O or protocol error (then c is broken: close it). */
int enqc_send(struct enqc *c, const struct enqc_env *env, const char *data, size_t len,
              sa_t *reply);
/* close the connection and reap the child (killed first when broken) */
void enqc_close(struct enqc *c);

#endif
