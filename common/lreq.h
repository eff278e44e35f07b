/* lreq: a local delivery request, pochta-qmgr -> a pochta-local worker, and
 * the channel both talk over (man/pochta-local.8).
 *
 * The channel is an AF_UNIX SOCK_SEQPACKET socket: one packet per request,
 * one per reply, so a reply can never be mistaken for part of another.
 * A request packet carries the message as a file descriptor (SCM_RIGHTS, read
 * from its current offset to EOF: the worker opens no queue file) and these
 * records (rec.h), each exactly once, in any order:
 *     q<len>:QID         the queue ID for logs ("" when there is none)
 *     f<len>:SENDER      the envelope sender ("" for the null sender)
 *     a<len>:RECIPIENT   the recipient, as the queue holds it
 * and, at most once, optionally:
 *     b<len>:BODY        the queue's body type (qfile.h: "7BIT", "8BITMIME",
 *                        "BINARYMIME"); absent means "" (not declared)
 * Fields hold no control characters. The reply packet is one dresult record
 * (dresult.h) with index 0. */
#ifndef POCHTA_LREQ_H
#define POCHTA_LREQ_H
#include <stddef.h>
#include <sys/types.h>
#include "qid.h"
#include "sa.h"

#define LREQ_ADDR_MAX 1000         /* longest sender or recipient */
#define LREQ_MAX 2200              /* longest request packet */
#define LREQ_REPLY_MAX 1100        /* longest reply packet (a dresult record) */

struct lreq {
	char qid[QID_LEN + 1];
	char sender[LREQ_ADDR_MAX + 1];
	char rcpt[LREQ_ADDR_MAX + 1];
	char body[16];             /* "" when the request has no b record */
};

/* append a request's records to out (body "" sends no b record); 0, or -1
 * (EINVAL: a field too long or with control characters, a bad body type;
 * ENOMEM) with out unchanged */
int lreq_build(sa_t *out, const char *qid, const char *sender, const char *body,
               const char *rcpt);
/* parse a request packet; 0, or -1 (EPROTO) when malformed */
int lreq_parse(const char *buf, size_t len, struct lreq *r);

/* 1 when s (len bytes) is at most max bytes without control characters */
int lreq_field_ok(const char *s, size_t len, size_t max);
/* a request record that comes once: its type, where its value goes (NUL
 * terminated, max + 1 bytes), its longest value */
struct lreq_field {
	int type;
	char *dst;
	size_t max;
};
/* a record (type, d of dlen bytes) into its field among f[0..n), bit i of
 * *got telling f[i] came; 0, or -1 when no field has that type, it came
 * before, or the value fails lreq_field_ok */
int lreq_field_take(const struct lreq_field *f, size_t n, unsigned *got, int type,
                    const char *d, size_t dlen);

/* send one packet with fd attached (fd < 0: none); 0, or -1 with errno */
int lreq_send(int sock, const void *buf, size_t len, int fd);
/* receive one packet of at most max bytes; its length (0: the peer closed),
 * or -1 with errno (EMSGSIZE: longer than max, or more descriptors than one;
 * nothing received is kept open then). *fd: the descriptor it carried, or -1 */
ssize_t lreq_recv(int sock, void *buf, size_t max, int *fd);
/* a zygote's next request: the next packet that carries a descriptor, into
 * buf (NUL-terminated: buf holds max + 1 bytes) with its length in *len;
 * packets without one, or too long, are dropped. The descriptor, or -1 at
 * EOF (errno 0) or on an error */
int lreq_next_fd(int sock, char *buf, size_t max, size_t *len);

#endif
