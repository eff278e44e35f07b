/* sysuser: host accounts as local recipients (sysuser.h). */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "paths.h"
#include "sysuser.h"

int sysuser_enabled(const struct conf *c)
{
	struct stat st;

	return c->local_system_users && paths.conf[0] && stat(paths.conf, &st) == 0 && st.st_uid == 0;
}

int sysuser_get(const struct conf *c, const char *name, struct sysuser *u)
{
	struct passwd *pw;
	size_t n = strlen(name), h;

	memset(u, 0, sizeof *u);
	if (!user_name_valid(name, n))
		return 0;
	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		/* glibc: 0, ENOENT, ESRCH, EBADF or EPERM for "no such account" */
		if (errno == 0 || errno == ENOENT || errno == ESRCH || errno == EBADF || errno == EPERM)
			return 0;
		return -1;
	}
	if (pw->pw_uid == 0 || (long long)pw->pw_uid < c->local_uid_minimum)
		return 0;
	h = pw->pw_dir ? strlen(pw->pw_dir) : 0;
	if (h == 0 || h >= sizeof u->home || pw->pw_dir[0] != '/')
		return 0;
	memcpy(u->name, name, n + 1);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	memcpy(u->home, pw->pw_dir, h + 1);
	return 1;
}

int sysuser_pass_check(const struct conf *c, const char *name, const char *pass)
{
	char stored[PASS_HASH_MAX + 1];
	struct sysuser u;
	struct spwd *sp = NULL;
	int k = sysuser_get(c, name, &u), usable = 0, r;
	size_t n;

	if (k < 0)
		return -1;
	if (k == 1) {
		errno = 0;
		sp = getspnam(name);
		if (!sp && errno && errno != ENOENT && errno != ESRCH)
			return -1;   /* EACCES: not root */
	}
	if (sp && sp->sp_pwdp) {
		n = strlen(sp->sp_pwdp);
		long today = (long)(time(NULL) / 86400);
		/* as shadow's own isexpired(): 0 and -1 mean no expiry */
		usable = n > 0 && n <= PASS_HASH_MAX && sp->sp_pwdp[0] != '!' && sp->sp_pwdp[0] != '*' &&
		         !(sp->sp_expire > 0 && today >= sp->sp_expire);
		if (usable)
			memcpy(stored, sp->sp_pwdp, n + 1);
		explicit_bzero(sp->sp_pwdp, n);
	}
	r = pass_verify(usable ? stored : NULL, pass);
	explicit_bzero(stored, sizeof stored);
	return r;
}

int sysuser_mailbox_check(const char *v, sa_t *err)
{
	size_t n = strlen(v);
	const char *p = v;

	if (n < 2 || v[n - 1] != '/' || v[0] == '/') {
		sa_copys(err, "a directory relative to the home, ending with / (such as Maildir/)");
		return -1;
	}
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = (size_t)(e - p);   /* every component ends with '/' */
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			sa_copys(err, "no empty, . or .. component (the Maildir stays in the home)");
			return -1;
		}
		p = e + 1;
	}
	return 0;
}

/* open the directory name under fd (AT_FDCWD for a path) following no link:
 * a descriptor, or -1 with errno (ELOOP for a link, whatever O_DIRECTORY
 * made of it) and "name: why" in err */
static int sysuser_opendir(int fd, const char *name, sa_t *err)
{
	struct stat st;
	int d = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;

	if (d >= 0)
		return d;
	e = errno;
	if (e == ENOTDIR && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		e = ELOOP;
	sa_copys(err, name);
	sa_cats(err, e == ELOOP ? ": a symbolic link, not followed" : ": ");
	if (e != ELOOP)
		sa_cats(err, strerror(e));
	errno = e;
	return -1;
}

/* the directory name (len bytes) under fd, made first when create and
 * missing; never a symbolic link. A descriptor or -1. */
static int sysuser_subdir(int fd, const char *name, size_t len, int create, sa_t *err)
{
	char comp[256];

	if (len >= sizeof comp) {
		errno = ENAMETOOLONG;
		sa_copys(err, "a name too long in home_mailbox");
		return -1;
	}
	memcpy(comp, name, len);
	comp[len] = '\0';
	if (create && mkdirat(fd, comp, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		sa_copys(err, comp);
		sa_cats(err, ": ");
		sa_cats(err, strerror(e));
		errno = e;
		return -1;
	}
	return sysuser_opendir(fd, comp, err);
}

int sysuser_maildir_open(const char *home, const char *rel, int create, sa_t *err)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	const char *p = rel;
	int fd, next, e;

	if (home[0] != '/') {
		sa_copys(err, "the home is not an absolute path");
		errno = EINVAL;
		return -1;
	}
	if (sysuser_mailbox_check(rel, err) < 0) {
		errno = EINVAL;
		return -1;
	}
	fd = sysuser_opendir(AT_FDCWD, home, err);
	if (fd < 0)
		return -1;
	while (*p) {
		const char *s = strchr(p, '/');
		next = sysuser_subdir(fd, p, (size_t)(s - p), create, err);
		e = errno;
		close(fd);
		if (next < 0) {
			errno = e;
			return -1;
		}
		fd = next;
		p = s + 1;
	}
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		next = sysuser_subdir(fd, sub[i], 3, create, err);
		if (next < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		close(next);
	}
	return fd;
}
