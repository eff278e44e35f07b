/* pochta-remote: one delivery attempt of one message to the recipients of one
 * destination domain over SMTP (man/pochta-remote.8). Internal interfaces. */
#ifndef POCHTA_REMOTE_H
#define POCHTA_REMOTE_H
#include <stddef.h>
#include <sys/types.h>
#include "conf.h"
#include "dns.h"
#include "io.h"
#include "sa.h"

#define REMOTE_MAX_ADDRS 20         /* connection attempts per delivery */

struct rcpt {
	const char *addr;               /* as given on the command line */
	int final;                      /* 'D' or 'P' decided: not tried again */
	int accepted;                   /* RCPT got 2xx in the current transaction */
	char class;                     /* 'D', 'T', 'P'; 0: no result yet */
	char status[16];
	sa_t text;                      /* "smtp; 550 5.1.1 ..." or a local diagnostic */
	char relay[640];                /* "host[ip]:port" the result came from, or "none" */
	const char *dsn;                /* NOTIFY= ORCPT= for a peer with DSN, or NULL */
	int passed;                     /* delivered to a peer that offered DSN */
};

struct msg {
	int fd;                         /* the message: a regular file (stdin or a spool copy) */
	off_t start;                    /* where the message starts in fd */
	unsigned long long size;        /* bytes as stored (LF line ends) */
	unsigned long long wire;        /* with CRLF line ends: the SIZE= value */
	int eightbit;                   /* has bytes >= 0x80 */
	int binary;                     /* BINARYMIME: stored as received, sent as it is */
	const char *body;               /* -b: "8BITMIME", "7BIT", "BINARYMIME" or "" */
};

struct remote {
	struct conf conf;
	const char *qid;
	const char *sender;             /* "" for the null path */
	const char *domain;
	const char *mail_dsn;           /* RET= ENVID= for a peer with DSN, or NULL */
	struct rcpt *r;
	size_t n;
	struct msg msg;
	int attempts;                   /* connections tried */
	int cache;                      /* a worker: connections may be kept (remote_smtp.c) */
	int smtputf8;                   /* the message is SMTPUTF8 (RFC 6531) */
	int tls_verify;                 /* the route says tls=verify (remote_tls.c) */
};

/* a host to connect to: an address of a target */
struct peer {
	const char *name;               /* host name (or the IP text) */
	struct dns_addr addr;
	unsigned port;
	char label[640];                /* "name[ip]:port" for logs */
};

/* remote_msg.c */
int msg_open(struct msg *m, int fd, const char *body, sa_t *err);
/* send the message (CRLF, dot-stuffed) and the final "." on out; 0 or -1 */
int msg_send(const struct msg *m, io_t *out);
/* send it as one "BDAT <wire> LAST" chunk (RFC 3030): CRLF line ends without
 * stuffing, or, binary, the stored bytes as they are; 0 or -1 */
int msg_send_bdat(const struct msg *m, io_t *out);

/* remote_conn.c: a connected stream socket, or -1 with errno */
int conn_open(const struct dns_addr *a, unsigned port, int timeout_s);
/* CLOCK_MONOTONIC in ms */
long long conn_now_ms(void);

/* remote_tls.c: STARTTLS through pochta-tls in client mode. 1 when
 * pochta-tls is there to be used */
int remote_tls_available(void);
/* on the connection of in/out (after the server's 220 to STARTTLS): the
 * handshake, the certificate checked against p->name and tls_ca_file, the
 * result logged; in and out become the pipes. 0, or -1 with t->err (the
 * connection is lost) */
struct tlsc;
int remote_tls_start(struct remote *rm, const struct peer *p, struct tlsc *t, io_t *in, io_t *out);

/* remote_route.c: route rm->domain and try its hosts until nothing is pending */
void route_deliver(struct remote *rm);

/* remote_smtp.c: one SMTP session with peer for the recipients still pending:
 * records each recipient's result (rcpt_set) or a session-level failure
 * (session_error) */
void smtp_session(struct remote *rm, struct peer *p);
/* deliver over the kept connection when it leads to rm->domain: 1 when it was
 * used (results recorded); 0 when there is none, or it was dead (nothing
 * recorded: deliver over a new one) */
int smtp_cached(struct remote *rm);
/* close the kept connection when its time is up; ms until then (-1: none kept) */
long long smtp_cache_expire(void);
/* the domain of the kept connection, or NULL */
const char *smtp_cache_domain(void);
/* QUIT and close the kept connection, if any */
void smtp_cache_close(void);

/* remote_worker.c: pochta-remote -w, serving pochta-qmgr on sock */
/* 1 when d is a domain or an address literal in brackets */
int remote_domain_ok(const char *d);
int remote_worker(int sock);
/* check the recipients, open the message (fd, at the message) and deliver;
 * every recipient has a result after it. 0, or -1 when the message could not
 * be read (recorded) */
int remote_run(struct remote *rm, int fd, const char *body);
/* log each recipient's result and append its dresult record to out; 0 or -1 */
int remote_results(struct remote *rm, sa_t *out);

/* remote.c: record results. D and P are final; T leaves the recipient pending
 * for the next host. session_error applies to every pending recipient. */
void rcpt_set(struct remote *rm, size_t i, char class, const char *status, const char *text,
              const char *relay);
void session_error(struct remote *rm, char class, const char *status, const char *relay,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
size_t rcpt_pending(const struct remote *rm);

#endif
