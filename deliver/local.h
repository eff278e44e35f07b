/* pochta-local internals (man/pochta-local.8). */
#ifndef POCHTA_LOCAL_H
#define POCHTA_LOCAL_H
#include <stddef.h>
#include "aliases.h"
#include "hdr.h"
#include "maildir.h"
#include "priv.h"
#include "sa.h"
#include "sysuser.h"

#define LOCAL_FIELD_MAX 2048   /* longest header field examined for loops */

/* the header-section scan for Delivered-To: loops, fed the message in pieces */
struct hdrscan {
	struct hdr h;
	const char *rcpt;
	size_t rcptlen;
	int loop;                  /* found Delivered-To: <rcpt> */
	char field[LOCAL_FIELD_MAX];
};

void hdrscan_init(struct hdrscan *h, const char *rcpt);
void hdrscan_feed(struct hdrscan *h, const char *p, size_t n);
/* end of the message: the last field is checked */
void hdrscan_end(struct hdrscan *h);

/* the result of one delivery: the text and the exit code */
struct local_result {
	char class;                /* 'D', 'T', 'P' (dresult.h) */
	const char *status;        /* e.g. "2.0.0" */
	sa_t text;
	char st[16];               /* status when it came from a child's report */
};
#define LOCAL_RESULT_INIT { 0, NULL, SA_INIT, "" }

struct conf;

/* set r: class, status, and the text "what: detail" (detail may be NULL) */
void local_set(struct local_result *r, char class, const char *status, const char *what,
               const char *detail);

/* write the message read from fd in (to EOF) into the Maildir dir as a new
 * message, with Return-Path: and Delivered-To: added; loops are refused.
 * binary: a BINARYMIME message (CRLF lines, any byte), written exactly as
 * read with the added lines in CRLF; else the added lines end in LF and a
 * last line without its LF gets one. Sets r; 0 delivered, -1 not. */
int local_maildir(const char *dir, const char *host, const char *sender, const char *rcpt,
                  int binary, int in, struct local_result *r);

/* the same on the Maildir open as md (not closed) */
int local_maildir_at(int md, const char *host, const char *sender, const char *rcpt,
                     int binary, int in, struct local_result *r);

/* where one recipient's mail goes, and as whom it is written */
struct local_dest {
	int system;                /* 1: a host account's Maildir in its home */
	sa_t dir;                  /* virtual: the Maildir under the mail directory */
	struct sysuser su;         /* system: the account, checked by the root worker */
	struct priv_user pu;       /* system: its groups, gid and uid to become */
	char folder[MAILDIR_FOLDER_MAX + 1]; /* extension_folders: the Maildir++ folder, or "" */
	int expand;                /* 1: an alias, or a system user with a ~/.forward */
	char alias[ALIASES_NAME_MAX + 1]; /* the alias ("" for a .forward) */
	int binary;                /* the message is BINARYMIME (set by the caller of local_route) */
};
#define LOCAL_DEST_INIT { 0, SA_INIT, { "", 0, 0, "" }, { "", 0, 0, 0, { 0 } }, "", 0, "", 0 }

/* local_deliver.c: check the envelope and find the recipient's Maildir (the
 * mapping pochta-smtpd accepted it with); for a system user, check the
 * account now (it exists, uid not 0 and not below local_uid_minimum, an
 * absolute home) and look up whom to become. 0 with d set, or -1 with the
 * failure in r */
int local_route(const struct conf *conf, const char *sender, const char *rcpt,
                struct local_dest *d, struct local_result *r);
/* the second half of local_route: d for a recipient the mapping (localaddr.h)
 * gave kind and ld (not ALIAS); 0, or -1 with the failure in r */
struct localaddr_dest;
int local_route_mailbox(const struct conf *conf, int kind, const struct localaddr_dest *ld,
                        struct local_dest *d, struct local_result *r);
/* in the process that writes (a child of the worker, or the one-shot
 * process), after local_route: become the mailbox's owner for good and
 * write the message. 0 delivered, -1 not (r says why) */
int local_write(const struct conf *conf, const struct local_dest *d, const char *sender,
                const char *rcpt, int in, struct local_result *r);
/* write the message into d's Maildir under the mail directory as the
 * process is (after local_become_owner), or into d->folder in it when set
 * (made when missing; the inbox when it cannot be). 0 delivered, -1 not */
int local_write_virtual(const struct conf *conf, const struct local_dest *d, const char *sender,
                        const char *rcpt, int in, struct local_result *r);
/* in the process that writes the Maildir, just before it does: become the
 * mailbox owner (see local_deliver.c). 0, or -1 with the failure in r */
int local_become_owner(const char *dir, struct local_result *r);
/* 1 when writing dir means becoming another user (local_become_owner would
 * change uid), 0 when the process may write it as it is */
int local_owner_change(const char *dir);
/* route, become the owner and write: the whole delivery of the message on in
 * (the one-shot mode; a worker forks between routing and writing) */
void local_deliver(const struct conf *conf, const char *sender, const char *rcpt, int binary,
                   int in, struct local_result *r);

/* local_worker.c: run fn(arg, r) in a forked child (killed with its parent;
 * sock, the worker's socket, closed in it) and take its result into r.
 * The child exits after fn. */
typedef void (*local_job)(const struct conf *conf, void *arg, struct local_result *r);
void local_fork(const struct conf *conf, local_job fn, void *arg, int sock,
                struct local_result *r);
/* one Maildir delivery (local_route's d) of in, for rcpt: here when no
 * change of uid is needed, else in a child (local_fork). r set */
void local_deliver_dest(const struct conf *conf, const struct local_dest *d, const char *sender,
                        const char *rcpt, int in, int sock, struct local_result *r);

/* local_alias.c: an alias or a .forward (d->expand): expand it (aliases.h
 * targets, recursively, with loop detection and limits) and deliver to each
 * target: Maildirs as local_deliver_dest, commands and files in a child as
 * the owner of the file that named them (local_pipe.c, local_mbox.c), other
 * domains' addresses in one new message through pochta-enqueue. One result
 * for the recipient in r: temporary when any target failed so, else
 * permanent when one did, else delivered. */
void local_alias_deliver(const struct conf *conf, const char *qid, const struct local_dest *d,
                         const char *sender, const char *rcpt, int in, int sock,
                         struct local_result *r);

/* what a command or file delivery is given */
struct local_env {
	const char *sender, *rcpt;  /* the envelope; rcpt the recipient being expanded */
	const char *local, *ext, *domain; /* rcpt's local part, its extension, domain */
	const char *home, *user;    /* the account it runs as */
	long long time_limit;       /* command_time_limit */
	size_t max;                 /* the largest message read into memory */
};
/* local_pipe.c: run /bin/sh -c cmd as this process is, the message (with
 * Return-Path: and Delivered-To: first) on its stdin; r as sendmail maps
 * exit codes: 0 delivered, 75 (EX_TEMPFAIL), a signal or the time limit
 * temporary, anything else permanent with the first line of its output */
void local_pipe(const char *cmd, const struct local_env *e, int in, struct local_result *r);
/* local_mbox.c: append the message to the mbox file path (created 0600 when
 * missing; /dev/null takes it as delivered), locked with fcntl and flock,
 * synced; a failed write is cut off again */
void local_mbox(const char *path, const struct local_env *e, int in, struct local_result *r);
/* the message of in (to EOF) appended to out after prefix, at most max
 * bytes in all; 0, or -1 with r set */
int local_read_msg(int in, const char *prefix, size_t max, sa_t *out, struct local_result *r);

/* local_worker.c: serve delivery requests (lreq.h) from pochta-qmgr on the
 * packet socket sock until it closes; the exit code */
int local_worker(int sock);

#endif
