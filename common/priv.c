/* priv: drop supplementary groups, gid and uid, and prove it worked. */
#include <errno.h>
#include <signal.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "priv.h"

static int priv_err(sa_t *err, const char *what, const char *name, int e)
{
	sa_copys(err, what);
	if (name) {
		sa_cats(err, ": ");
		sa_cats(err, name);
	}
	if (e) {
		sa_cats(err, ": ");
		sa_cats(err, strerror(e));
	}
	errno = e ? e : EPERM;
	return -1;
}

int priv_ids(uid_t uid, gid_t gid, struct priv_user *u, sa_t *err)
{
	memset(u, 0, sizeof *u);
	if (uid == 0 || gid == 0)
		return priv_err(err, "refusing to drop privileges to uid 0 or gid 0", NULL, 0);
	snprintf(u->name, sizeof u->name, "%lu", (unsigned long)uid);
	u->uid = uid;
	u->gid = gid;
	return 0;
}

int priv_lookup(const char *name, struct priv_user *u, sa_t *err)
{
	memset(u, 0, sizeof *u);
	if (strlen(name) >= sizeof u->name)
		return priv_err(err, "user name too long", NULL, 0);
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return priv_err(err, "no such user", name, errno == ENOENT || errno == ESRCH ? 0 : errno);
	if (priv_ids(pw->pw_uid, pw->pw_gid, u, err) < 0)
		return priv_err(err, "refusing to run as a user with uid 0 or gid 0", name, 0);
	snprintf(u->name, sizeof u->name, "%s", name);
	int n = PRIV_GROUPS_MAX;
	if (getgrouplist(name, u->gid, u->groups, &n) < 0)
		return priv_err(err, "the user is in too many groups", name, 0);
	for (int i = 0; i < n; i++)
		if (u->groups[i] == 0)
			return priv_err(err, "refusing to run as a member of group 0", name, 0);
	u->ngroups = n;
	return 0;
}

int priv_owner(uid_t uid, gid_t gid, struct priv_user *u, sa_t *err)
{
	struct passwd *pw = getpwuid(uid);
	return pw ? priv_lookup(pw->pw_name, u, err) : priv_ids(uid, gid, u, err);
}

int priv_become_owner(const char *dir, uid_t *owner, sa_t *err)
{
	struct stat st;
	struct priv_user u;

	*owner = 0;
	if (geteuid() != 0 || stat(dir, &st) < 0 || st.st_uid == 0)
		return 0;
	*owner = st.st_uid;
	if (priv_owner(st.st_uid, st.st_gid, &u, err) < 0 || priv_drop(&u, err) < 0)
		return -1;
	return 0;
}

/* after the drop: no way back to root (not through a saved ID either) and
 * no user, group or supplementary group ID of root left */
static void priv_verify(const struct priv_user *u)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0)
		abort();
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		abort();
	if (ru != u->uid || eu != u->uid || su != u->uid ||
	    rg != u->gid || eg != u->gid || sg != u->gid)
		abort();
	gid_t g[PRIV_GROUPS_MAX + 1];
	int n = getgroups(PRIV_GROUPS_MAX + 1, g);
	if (n < 0 || n > (u->ngroups ? u->ngroups : 1))
		abort();
	for (int i = 0; i < n; i++)
		if (g[i] == 0)
			abort();
}

int priv_drop(const struct priv_user *u, sa_t *err)
{
	/* the kernel clears a parent-death signal when the IDs change: a child
	 * meant to die with its parent (a delivery killed for its timeout) gets
	 * it back, and dies now when the parent is already gone */
	int deathsig = 0;
	pid_t parent = getppid();
	if (prctl(PR_GET_PDEATHSIG, &deathsig) < 0)
		deathsig = 0;
	if (u->uid == 0 || u->gid == 0)
		return priv_err(err, "refusing to drop privileges to uid 0 or gid 0", NULL, 0);
	/* no supplementary groups means only the primary one */
	if (setgroups(u->ngroups ? (size_t)u->ngroups : 1, u->ngroups ? u->groups : &u->gid) < 0)
		return priv_err(err, "setgroups", u->name, errno);
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return priv_err(err, "setgid", u->name, errno);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return priv_err(err, "setuid", u->name, errno);
	priv_verify(u);
	if (deathsig > 0) {
		if (prctl(PR_SET_PDEATHSIG, deathsig) < 0)
			abort();
		if (getppid() != parent)
			kill(getpid(), deathsig);
	}
	return 0;
}

int priv_is_root(void)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	return getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	       ru == 0 || eu == 0 || su == 0 || rg == 0 || eg == 0 || sg == 0;
}

void priv_refuse_root(const char *prog)
{
	if (priv_is_root()) {
		fprintf(stderr, "%s: refusing to run as root\n", prog);
		exit(111);
	}
}
