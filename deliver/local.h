/* pochta-local internals (man/pochta-local.8). */
#ifndef POCHTA_LOCAL_H
#define POCHTA_LOCAL_H
#include <stddef.h>
#include "hdr.h"
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
};

struct conf;

/* set r: class, status, and the text "what: detail" (detail may be NULL) */
void local_set(struct local_result *r, char class, const char *status, const char *what,
               const char *detail);

/* write the message read from fd in (to EOF) into the Maildir dir as a new
 * message, with Return-Path: and Delivered-To: added; loops are refused.
 * Sets r; 0 delivered, -1 not. */
int local_maildir(const char *dir, const char *host, const char *sender, const char *rcpt,
                  int in, struct local_result *r);

/* the same on the Maildir open as md (not closed) */
int local_maildir_at(int md, const char *host, const char *sender, const char *rcpt, int in,
                     struct local_result *r);

/* where one recipient's mail goes, and as whom it is written */
struct local_dest {
	int system;                /* 1: a host account's Maildir in its home */
	sa_t dir;                  /* virtual: the Maildir under the mail directory */
	struct sysuser su;         /* system: the account, checked by the root worker */
	struct priv_user pu;       /* system: its groups, gid and uid to become */
};
#define LOCAL_DEST_INIT { 0, SA_INIT, { "", 0, 0, "" }, { "", 0, 0, 0, { 0 } } }

/* local_deliver.c: check the envelope and find the recipient's Maildir (the
 * mapping pochta-smtpd accepted it with); for a system user, check the
 * account now (it exists, uid not 0 and not below local_uid_minimum, an
 * absolute home) and look up whom to become. 0 with d set, or -1 with the
 * failure in r */
int local_route(const struct conf *conf, const char *sender, const char *rcpt,
                struct local_dest *d, struct local_result *r);
/* in the process that writes (a child of the worker, or the one-shot
 * process), after local_route: become the mailbox's owner for good and
 * write the message. 0 delivered, -1 not (r says why) */
int local_write(const struct conf *conf, const struct local_dest *d, const char *sender,
                const char *rcpt, int in, struct local_result *r);
/* in the process that writes the Maildir, just before it does: become the
 * mailbox owner (see local_deliver.c). 0, or -1 with the failure in r */
int local_become_owner(const char *dir, struct local_result *r);
/* 1 when writing dir means becoming another user (local_become_owner would
 * change uid), 0 when the process may write it as it is */
int local_owner_change(const char *dir);
/* route, become the owner and write: the whole delivery of the message on in
 * (the one-shot mode; a worker forks between routing and writing) */
void local_deliver(const struct conf *conf, const char *sender, const char *rcpt, int in,
                   struct local_result *r);

/* local_worker.c: serve delivery requests (lreq.h) from pochta-qmgr on the
 * packet socket sock until it closes; the exit code */
int local_worker(int sock);

#endif
