/* rreq: a remote delivery request, pochta-qmgr -> a pochta-remote worker
 * (man/pochta-remote.8, WORKER). It travels like a local one (lreq.h): one
 * packet on an AF_UNIX SOCK_SEQPACKET socket, sent and received with
 * lreq_send/lreq_recv, the message attached as a descriptor positioned at the
 * message. Its records, q f b d once each and a 1 to RREQ_RCPT_MAX times, in
 * any order (the recipients' order is their index in the reply):
 *     q<len>:QID         the queue ID
 *     f<len>:SENDER      the envelope sender ("" for the null sender)
 *     b<len>:BODY        8BITMIME, 7BIT, BINARYMIME or ""
 *     d<len>:DOMAIN      the destination domain
 *     a<len>:RECIPIENT   a recipient
 * and, at most once, optional:
 *     u0:                the message is SMTPUTF8 (RFC 6531)
 * and, optional, the DSN parameters (RFC 3461, dsnparam.h text) to pass on
 * to a peer that offers DSN:
 *     e<len>:RET=.. ENVID=..          the message's, at most once
 *     o<len>:INDEX NOTIFY=.. ORCPT=.. recipient INDEX's, at most once each
 * The reply packet holds one dresult record (dresult.h) per recipient and,
 * when the worker keeps its SMTP connection for more mail to the domain, a
 *     k<len>:DOMAIN
 * record, and for every recipient delivered to a peer that offered DSN (so
 * that any success notice is that peer's duty now) a
 *     p<len>:INDEX
 * record. Fields hold no control characters. */
#ifndef POCHTA_RREQ_H
#define POCHTA_RREQ_H
#include <stddef.h>
#include "dresult.h"
#include "dsnparam.h"
#include "lreq.h"
#include "sa.h"

#define RREQ_RCPT_MAX 100           /* recipients per request (RFC 5321 4.5.3.1.8) */
#define RREQ_DOMAIN_MAX 300         /* a domain or an address literal */
#define RREQ_DSN_MAX (DSNP_ORCPT_MAX + 64)  /* an o record's data, at most */
#define RREQ_MAX (RREQ_RCPT_MAX * (LREQ_ADDR_MAX + 16) + 2 * LREQ_ADDR_MAX + \
                  RREQ_RCPT_MAX * (RREQ_DSN_MAX + 16) + RREQ_DSN_MAX)
#define RREQ_REPLY_MAX (RREQ_RCPT_MAX * (DRESULT_TEXT_MAX + 64 + 8) + 1024)  /* + p records */
#define RREQ_KEPT 'k'
#define RREQ_SMTPUTF8 'u'
#define RREQ_PASSED 'p'

struct rreq {
	char qid[QID_LEN + 1];
	char sender[LREQ_ADDR_MAX + 1];
	char body[16];
	int smtputf8;                     /* the u record came */
	char domain[RREQ_DOMAIN_MAX + 1];
	size_t n;
	const char *rcpt[RREQ_RCPT_MAX];  /* into store */
	char store[RREQ_RCPT_MAX * (LREQ_ADDR_MAX + 1)];
	char mail_dsn[RREQ_DSN_MAX + 1];  /* e record, "" when none */
	char rcpt_dsn[RREQ_RCPT_MAX][RREQ_DSN_MAX + 1];  /* o records, "" when none */
};

/* append a request's records to out; 0, or -1 (EINVAL: a field too long, with
 * control characters, a bad QID or body, no recipient or too many; ENOMEM)
 * with out unchanged */
int rreq_build(sa_t *out, const char *qid, const char *sender, const char *body,
               const char *domain, const char *const *rcpt, size_t n);
/* append the u record (after rreq_build); 0 or -1 */
int rreq_smtputf8(sa_t *out);
/* append the e and o records of a request: mail_dsn (NULL or "": none) and
 * rcpt_dsn[0..n) (each NULL or "": none); 0, or -1 (EINVAL: bad parameters,
 * ENOMEM) with out unchanged */
int rreq_build_dsn(sa_t *out, const char *mail_dsn, const char *const *rcpt_dsn, size_t n);
/* parse a request packet; 0, or -1 (EPROTO) when malformed */
int rreq_parse(const char *buf, size_t len, struct rreq *r);
/* the k record of a reply: 1 with its domain in dom (NUL-terminated), else 0 */
int rreq_kept(const char *buf, size_t len, char *dom, size_t cap);
/* the index of a p record's data; 0, or -1 when malformed */
int rreq_passed(const char *data, size_t len, size_t *index);

#endif
