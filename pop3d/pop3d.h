/* pochta-pop3d: internal interfaces between the server's files.
 *   pop3d.c       main, the AUTHORIZATION / TRANSACTION / UPDATE loops
 *   pop3d_auth.c  USER/PASS and AUTH PLAIN (pochta-checkpass), the failure
 *                 delay, the switch to the maildrop's owner
 *   pop3d_box.c   the maildrop: lock, snapshot, new/ -> cur/, sizes, removal
 *   pop3d_send.c  RETR and TOP output
 *   pop3d_line.c  command lines under the pop3_timeout deadline
 *   pop3d_tls.c   STLS and implicit TLS through pochta-tls */
#ifndef POCHTA_POP3D_H
#define POCHTA_POP3D_H
#include <stddef.h>
#include "conf.h"
#include "io.h"
#include "pop3cmd.h"
#include "priv.h"
#include "sa.h"
#include "tlsc.h"
#include "users.h"

/* the oldest messages beyond this many wait for a later session */
#define BOX_MAX_MSGS 100000

struct msg {
	char *file;                 /* relative to the Maildir: "cur/NAME" (or "new/NAME") */
	char uid[POP3_UID_MAX + 1];
	unsigned long long octets;  /* what RETR sends, without dot-stuffing and ".CRLF" */
	int deleted;
};

struct box {
	int dirfd;                  /* the Maildir */
	int lockfd;                 /* pop3.lock, flock()ed for the session */
	struct msg *m;
	size_t n;
};

/* session-wide state shared by the files */
struct sess {
	io_t in, out;
	const char *client;         /* TCPREMOTEIP, or "unknown" */
	char user[USER_MAILBOX_MAX + 1];
	struct box box;
	unsigned long retr;
	int timeout_ms;             /* pop3_timeout */
	int drop;                   /* started as root: become owner at login */
	struct priv_user owner;     /* see auth_owner_init */
	int system;                 /* s->user is an account of the host (checker said 2) */
	struct tlsc tls;            /* pochta-tls once TLS began; pid 0 before */
	int tls_on;                 /* in and out are pochta-tls's pipes */
	int tls_implicit;           /* -T: TLS from the first byte (pop3s_listen) */
};

/* pop3d_tls.c. 1 when STLS is offered: configured, pochta-tls there, not on */
int pop3d_tls_offered(const struct sess *s, const struct conf *c);
/* start pochta-tls up to its R: 0, or -1 (logged) */
int pop3d_tls_start(struct sess *s, const struct conf *c);
/* our last plain reply is out: the handshake, then the pipes; 0, or -1
 * (logged; the connection is of no more use). how: "STLS" or "TLS" */
int pop3d_tls_go(struct sess *s, const char *how);

/* One line from the client (up to max octets with its CRLF), which must arrive
 * whole within pop3_timeout from the previous reply: a deadline that a client
 * trickling bytes cannot extend (each read alone would wait pop3_timeout
 * again). IO_OK, IO_TOOLONG (the line was discarded), or IO_EOF: the session
 * is over (EOF, an error, or the deadline: then the -ERR is queued in s->out
 * and logged); the caller ends it without UPDATE. state is for the log. */
int pop3d_line(struct sess *s, sa_t *line, size_t max, const char *state);

/* results of box_open */
#define BOX_OK 0
#define BOX_ERR (-1)     /* errno set */
#define BOX_IN_USE (-2)  /* another session holds the lock */

/* Create the Maildir if needed, lock it, move new/ to cur/ and take the
 * snapshot (sorted by delivery time), scanning every file once for its size. */
int box_open(struct box *b, const char *path);
/* the same on a Maildir already open as fd (tmp/ new/ cur/ there), which
 * the box then owns (closed by box_close, or here on failure) */
int box_open_fd(struct box *b, int fd);
/* the message numbered num (1-based), or NULL when there is none; deleted
 * messages are returned too (the caller decides) */
struct msg *box_get(struct box *b, unsigned long num);
/* count and octets of the messages not marked deleted */
void box_stat(const struct box *b, size_t *count, unsigned long long *octets);
/* remove every marked file; 0, or -1 when at least one removal failed.
 * *removed gets the number removed. */
int box_update(struct box *b, unsigned long *removed);
void box_close(struct box *b);
/* the sort order of the snapshot: delivery time (seconds, then microseconds
 * of the Maildir name), then the name itself */
int box_name_cmp(const char *a, const char *b);

/* Send "+OK..." then the message (all of it, or TOP's part) then ".CRLF".
 * 0 sent; 1 could not open the message (an -ERR was sent, the session goes
 * on); -1 the connection or the file failed midway (the session must end). */
int send_msg(struct sess *s, const struct msg *m, unsigned long long top);

/* results of auth_* */
#define AUTH_OK 1
#define AUTH_FAIL 0
#define AUTH_TEMP (-1)
/* check NAME/PASS with pochta-checkpass; on AUTH_OK the normalised (lowercase)
 * name is in s->user, and s->system says whether it is a host account */
int auth_check(struct sess *s, const char *name, size_t namelen, const char *pass, size_t passlen);
/* the SASL PLAIN exchange after "AUTH PLAIN [resp]": AUTH_OK, AUTH_FAIL (the
 * -ERR still to be sent is in *err), AUTH_TEMP; 2 when the client cancelled
 * (err set) and -2 when the connection ended */
#define AUTH_CANCEL 2
#define AUTH_EOF (-2)
int auth_plain(struct sess *s, const char *resp, size_t resplen, const char **err);
/* the fixed delay after a failed attempt */
void auth_delay(void);
/* Who serves the maildrop, decided at start: 0 not started as root (nobody
 * to become); 1 started as root, u is instance_user (when set) or, installed,
 * virtual_user; or u->uid is 0 for an instance run by root with no
 * instance_user, whose Maildir's owner is taken at login when it is not root.
 * -1 (err) when that account is unknown or is root: the server must refuse. */
int auth_owner_init(const struct conf *conf, struct priv_user *u, sa_t *err);
/* after the password check, before the Maildir is opened: become u (for good,
 * common/priv.h); 0, or -1 with the reason in err (the process must exit) */
int auth_become_owner(struct priv_user *u, const char *maildir, sa_t *err);
/* a system user's maildrop, as root after the password check: check the
 * account again (sysuser.h), become it for good (groups, gid, uid) and open
 * HOME/home_mailbox following no link. The Maildir's descriptor, or -1 with
 * the reason in err (the process must exit) */
int auth_system_box(const struct conf *conf, const char *name, sa_t *err);
/* a user name made safe for a log line */
void log_name(const char *in, size_t n, char out[65]);

#endif
