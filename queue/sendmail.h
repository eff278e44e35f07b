/* pochta-sendmail internals: the caller, and one message from standard input
 * to pochta-enqueue (sendmail_msg.c). */
#ifndef POCHTA_SENDMAIL_H
#define POCHTA_SENDMAIL_H
#include <stddef.h>
#include <sys/types.h>
#include <sysexits.h>
#include "conf.h"
#include "smopt.h"

struct sm_caller {
	uid_t uid;               /* the real uid of whoever ran us (before any drop) */
	char login[64];          /* its login name (the passwd entry of uid) */
	char fullname[256];      /* -F, else the first field of its GECOS; may be "" */
};

/* "pochta-sendmail: MESSAGE" on stderr, then exit(code) */
void sm_die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* sendmail_msg.c: -bm, read the message, fix it up, queue it; exits */
void sm_deliver(const struct smopt *o, char *const *argv, const struct sm_caller *who)
	__attribute__((noreturn));

#endif
