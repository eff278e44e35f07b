/* pochta-smtpd internals: the session, the recipient policy and the
 * pochta-enqueue child (one per session, any number of messages). */
#ifndef POCHTA_SMTPD_H
#define POCHTA_SMTPD_H
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "addr.h"
#include "cidr.h"
#include "conf.h"
#include "enqclient.h"
#include "io.h"
#include "sa.h"
#include "smtpcmd.h"
#include "users.h"
#include "tlsc.h"

#define SMTPD_LINE_MAX 1000   /* RFC 5321 §4.5.3.1.4: command line, CRLF included */

/* ---- smtpd_rcpt.c: may this recipient be accepted? ---- */
enum rcpt_verdict {
	RCPT_OK,          /* local user, postmaster, or relaying allowed */
	RCPT_UNKNOWN,     /* local domain, no such user: 550 5.1.1 */
	RCPT_RELAY,       /* not local, client is not a relay client: 554 5.7.1 */
	RCPT_TEMPFAIL,    /* the user table could not be read: 451 4.3.0 */
};

struct rcpt_policy {
	const struct conf *conf;   /* local_domains, recipient_delimiter, postmaster */
	const char *users_path;    /* etc/users */
	int relay_client;          /* the client IP is in relay_networks */
	int authenticated;         /* the client has authenticated (AUTH): it may relay */
};

/* the verdict for a parsed RCPT path (common/localaddr.h maps local ones) */
enum rcpt_verdict rcpt_check(const struct rcpt_policy *p, const struct addr *a);

/* ---- smtpd_queue.c: the pochta-enqueue child ---- */
struct enq {
	struct enqc c;      /* the session's pochta-enqueue child, started lazily */
	int timeout_ms;
	unsigned long long size; /* message octets sent (the size the queue file holds) */
};

void enq_init(struct enq *q, int timeout_ms);
/* start the child when needed, send M and read the I reply; the queue ID goes
 * to qid. 0, or -1 (temporary failure; a dead child has been reaped) */
int enq_begin(struct enq *q, sa_t *qid);
/* one record of the open message; a failure marks the child broken (-1) */
int enq_put(struct enq *q, int type, const void *p, size_t n);
/* abandon the open message (Q record, no reply) */
void enq_abort(struct enq *q);
/* send E and read the verdict: 'K' (text = queue ID), 'Z' or 'X' (text =
 * the reason), or -1 when the child broke (it has been reaped) */
int enq_end(struct enq *q, sa_t *text);
/* close our end and reap the child */
void enq_close(struct enq *q);

/* ---- the session (smtpd.c), shared with smtpd_msg.c ---- */
struct session {
	struct conf conf;
	const char *host;          /* myhostname */
	char ip[64];               /* client IP, "unknown" when not given */
	int ip_known;
	long local_uid;            /* -l (sendmail -bs): the local user; else -1 */
	struct rcpt_policy pol;
	struct cidr *relay;
	size_t nrelay;
	io_t in, out;
	int out_dead;              /* a write to the client failed: do not try again */
	char inbuf[4096];
	char outbuf[2048];
	sa_t line;
	sa_t scratch;              /* reply formatting */
	int helo_verb;             /* 0 before HELO/EHLO, else SMTP_HELO or SMTP_EHLO */
	char helo[ADDR_DOMAIN_MAX + 1];
	/* the transaction */
	int have_mail;
	sa_t sender;               /* addr_format() text, "" for <> */
	int body;                  /* enum smtp_body */
	int smtputf8;              /* MAIL had SMTPUTF8 (RFC 6531) */
	int bdat_open;             /* a BDAT began the message: enqueue holds it open */
	sa_t rcpts;                /* NUL-terminated addresses one after the other */
	sa_t mail_dsn;             /* MAIL's DSN parameters (dsnparam.h text), "" if none */
	sa_t rcpt_dsn;             /* each recipient's, NUL-terminated, as rcpts */
	size_t nrcpt;
	/* counters for the log */
	unsigned long commands, errors, messages;
	/* what a refusal's log line names: the command (HELO, MAIL, RCPT, DATA,
	 * END-OF-MESSAGE, CONNECT...), the recipient or sender it refused, the message */
	const char *stage;
	const char *rej_rcpt;
	const char *rej_sender;
	const char *qid;
	struct enq enq;
	/* AUTH (smtpd_auth.c) */
	int submission;            /* -s: the submission port (RFC 6409): AUTH before MAIL */
	int authed;                /* AUTH succeeded: auth_user is the user */
	char auth_user[USER_MAILBOX_MAX + 1];
	/* TLS (smtpd_tls.c) */
	struct tlsc tls;           /* pochta-tls once STARTTLS began; pid 0 before */
	int tls_on;                /* the session is under TLS: in and out are its pipes */
	int tls_implicit;          /* -T: TLS from the first byte (smtps_listen) */
};

/* smtpd.c */
void reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* flush, log the end of the session, exit */
void session_exit(struct session *s, int code, const char *why) __attribute__((noreturn));
void tx_reset(struct session *s);
/* a bad command's reply, counted toward smtp_error_limit (421 and exit at it) */
void smtpd_bad(struct session *s, const char *text);
/* smtpd_auth.c: AUTH (RFC 4954) */
/* AUTH may be used on this port at all (submission, or smtp_auth_enable) */
int smtpd_auth_enabled(const struct session *s);
/* ... and now: under TLS, or on loopback with smtp_auth_plaintext_loopback */
int smtpd_auth_offered(const struct session *s);
void smtpd_auth(struct session *s, const struct smtp_cmd *c);
/* NULL when an authenticated client may use this envelope sender, else the
 * reply (a format with one %s: the address) */
const char *smtpd_sender_refusal(struct session *s, const struct addr *a);
/* the "with" protocol of Received: and the queue (RFC 3848) */
const char *smtpd_proto(const struct session *s);
/* smtpd_msg.c: DATA, from the checks to the final reply */
void msg_data(struct session *s);
/* smtpd_msg.c: one BDAT command (RFC 3030) and its chunk: read all of it
 * (exactly size octets, whatever the reply), then the reply */
void msg_bdat(struct session *s, unsigned long long size, int last);
/* abandon a message BDAT began (tx_reset) */
void msg_bdat_abort(struct session *s);
/* t cut to max bytes, every byte outside printable ASCII made '?' */
void smtpd_clean_text(sa_t *t, size_t max);
/* smtpd_zygote.c: -z (zarg: that argument, blanked in each child), serve
 * the supervisor's control socket on stdin; returns only in a connection's
 * child, which then runs the session */
void smtpd_zygote(char *zarg);
/* smtpd_tls.c: STARTTLS and implicit TLS through pochta-tls */
/* 1 when the session is under TLS (AUTH may be offered; ESMTPS/ESMTPSA) */
int smtpd_tls_active(const struct session *s);
/* 1 when EHLO offers STARTTLS: configured, pochta-tls there, not yet on */
int smtpd_tls_offered(const struct session *s);
/* the STARTTLS command: the reply text for bad() when refused, else NULL
 * (the session is then under TLS and reset, or got its 454) */
const char *smtpd_starttls(struct session *s, const struct smtp_cmd *c);
/* -T: TLS before the greeting; the session ends when it cannot start */
void smtpd_tls_implicit(struct session *s);
/* end pochta-tls (the close_notify goes out), bounded */
void smtpd_tls_end(struct session *s);
/* the enqueue zygote's socket in a session forked by the zygote; else -1 */
extern int smtpd_enqz_fd;

#endif
