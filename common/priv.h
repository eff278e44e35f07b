/* priv: giving up root for good. Order matters: supplementary groups first
 * (setgroups needs root), then the gid (setgid needs root), then the uid.
 * Afterwards setuid(0) and setgid(0) must fail and no ID may be 0; when that
 * does not hold the process aborts, since going on would run as root unawares.
 * Look the user up before forking (errors are then the parent's to report),
 * drop in the child. */
#ifndef POCHTA_PRIV_H
#define POCHTA_PRIV_H
#include <sys/types.h>
#include "sa.h"

#define PRIV_GROUPS_MAX 64

struct priv_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	int ngroups;                     /* supplementary groups, gid included */
	gid_t groups[PRIV_GROUPS_MAX];
};

/* the user name from the passwd database with its groups (getgrouplist);
 * 0, or -1 with a reason in err: no such user, uid, gid or a group is 0
 * (that would not be a drop), more than PRIV_GROUPS_MAX groups. */
int priv_lookup(const char *name, struct priv_user *u, sa_t *err);
/* uid:gid with no supplementary groups; -1 with a reason when either is 0 */
int priv_ids(uid_t uid, gid_t gid, struct priv_user *u, sa_t *err);
/* the owner of a file, uid:gid from stat: the account of that uid with its
 * groups (priv_lookup) when it has a passwd entry, else uid:gid alone */
int priv_owner(uid_t uid, gid_t gid, struct priv_user *u, sa_t *err);
/* root working on an instance that belongs to an account (init --user) acts
 * as that account, so that nothing it writes there is owned by root: when the
 * effective uid is 0 and dir (the instance's etc/) is owned by another uid,
 * become that owner (priv_owner, priv_drop; *owner is its uid). 0 when done or
 * when there is nothing to do (*owner 0); -1 with a reason in err. */
int priv_become_owner(const char *dir, uid_t *owner, sa_t *err);
/* become u: setgroups, setgid, setuid, then the proof (abort on failure).
 * 0, or -1 with a reason in err when a call failed (not running as root);
 * the process must then exit, its IDs being half changed. */
int priv_drop(const struct priv_user *u, sa_t *err);
/* 1 when a real, effective or saved uid or gid is 0 (or they cannot be read) */
int priv_is_root(void);
/* for a program that must never run as root: when a real, effective or saved
 * uid or gid is 0, "PROG: refusing to run as root" on stderr and exit 111 */
void priv_refuse_root(const char *prog);

#endif
