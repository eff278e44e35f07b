/* sysuser: the host's accounts as local recipients (local_system_users), with
 * a Maildir in their home (home_mailbox), as Postfix's local(8) delivers with
 * home_mailbox = Maildir/. Who may be one is decided here once, for
 * pochta-smtpd's RCPT (through localaddr.c), pochta-local, pochta-checkpass and
 * pochta-pop3d:
 *   - local_system_users is 1 and pochta.conf belongs to root: only root can
 *     write mail as another account, and an ordinary user's instance (its
 *     pochta.conf is that user's) has no system users whatever the key says;
 *   - the account exists (getpwnam: /etc/passwd is world-readable, so an
 *     unprivileged pochta-smtpd can ask), its uid is not 0 and not below
 *     local_uid_minimum;
 *   - its home is an absolute path.
 * The Maildir is opened below the home without following a symbolic link:
 * the home itself and every directory of home_mailbox must be real
 * directories. */
#ifndef POCHTA_SYSUSER_H
#define POCHTA_SYSUSER_H
#include <sys/types.h>
#include "conf.h"
#include "sa.h"
#include "users.h"

#define SYSUSER_HOME_MAX 1024

struct sysuser {
	char name[USER_NAME_MAX + 1];
	uid_t uid;
	gid_t gid;
	char home[SYSUSER_HOME_MAX];
};

/* 1 when system users are recipients here: local_system_users on and the
 * file paths.conf owned by root; 0 otherwise */
int sysuser_enabled(const struct conf *c);
/* name (a valid user name, users.h) as a mail recipient: 1 an account that
 * receives mail (u filled), 0 none (no such account, uid 0 or below
 * local_uid_minimum, a home that is not an absolute path), -1 the passwd
 * database could not be read (errno). Does not look at sysuser_enabled. */
int sysuser_get(const struct conf *c, const char *name, struct sysuser *u);
/* name's system password, from the shadow database (pochta-checkpass only,
 * as root): 1 right, 0 not (no account that receives mail, no shadow entry,
 * an empty or locked hash "!..." "*", an account past its sp_expire day),
 * -1 the shadow database could not be read (errno). Every "no" costs one
 * crypt, as a "yes" does. */
int sysuser_pass_check(const struct conf *c, const char *name, const char *pass);
/* a home_mailbox value: relative, ending with '/', no empty, "." or ".."
 * component; 0, or -1 with the reason in err */
int sysuser_mailbox_check(const char *v, sa_t *err);
/* open the Maildir home/rel (rel a valid home_mailbox) as a directory,
 * following no symbolic link from home down (home itself included); with
 * create, its missing directories and tmp/ new/ cur/ are made, mode 0700.
 * The descriptor, or -1 with errno (ELOOP or ENOTDIR for a link or non-
 * directory on the way) and what failed in err. Run it as the account. */
int sysuser_maildir_open(const char *home, const char *rel, int create, sa_t *err);

#endif
