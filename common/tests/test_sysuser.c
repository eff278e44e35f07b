/* Unit tests for common/sysuser.c: home_mailbox values, the accounts that
 * receive mail, and the Maildir opened below a home without following links. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "confcheck.h"
#include "sysuser.h"
#include "test.h"

static char home[64];

static void test_mailbox_check(void)
{
	static const char *const good[] = { "Maildir/", "mail/box/", ".maildir/", "a/", "..x/", "x../" };
	static const char *const bad[] = { "", "/", "Maildir", "/Maildir/", "../x/", "a/../", "a//",
	                                   "./", "a/./", "..", "../", "a/..", "//" };
	sa_t err = SA_INIT;

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (sysuser_mailbox_check(good[i], &err) != 0)
			printf("good: %s\n", good[i]);
		T_INTEQ(sysuser_mailbox_check(good[i], &err), 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sa_trunc(&err, 0);
		if (sysuser_mailbox_check(bad[i], &err) != -1)
			printf("bad: %s\n", bad[i]);
		T_INTEQ(sysuser_mailbox_check(bad[i], &err), -1);
		T_ASSERT(err.len > 0);
	}
	sa_free(&err);
}

/* pochtactl config and pochta-master check the key with the same rule */
static void test_confcheck(void)
{
	const struct conf_key *k = conf_key_find("home_mailbox");
	sa_t err = SA_INIT;

	T_ASSERT(k != NULL);
	if (!k)
		return;
	T_STREQ(k->def, "Maildir/");
	T_INTEQ(confcheck_key(k, "Maildir/", &err, NULL), 0);
	T_INTEQ(confcheck_key(k, ".mail/inbox/", &err, NULL), 0);
	T_INTEQ(confcheck_key(k, "../Maildir/", &err, NULL), -1);
	T_INTEQ(confcheck_key(k, "/var/mail/", &err, NULL), -1);
	T_INTEQ(confcheck_key(k, "Maildir", &err, NULL), -1);
	sa_free(&err);
}

static void conf_with(struct conf *c, const char *text)
{
	T_INTEQ(conf_parse(c, "test", text, strlen(text), NULL), 0);
}

static void test_get(void)
{
	struct passwd *pwe = getpwnam("nobody"), pw0, *pw = pwe ? &pw0 : NULL;
	struct sysuser u;
	struct conf c;
	char dir[256];

	if (pwe) {   /* getpwnam's storage is reused by the lookups */
		pw0 = *pwe;
		snprintf(dir, sizeof dir, "%s", pwe->pw_dir);
		pw0.pw_dir = dir;
	}

	conf_with(&c, "");
	T_INTEQ(sysuser_get(&c, "root", &u), 0);
	T_INTEQ(sysuser_get(&c, "daemon", &u), 0);
	T_INTEQ(sysuser_get(&c, "no-such-account-ptsu", &u), 0);
	/* not a user name: never asked of the passwd database */
	T_INTEQ(sysuser_get(&c, "Root", &u), 0);
	T_INTEQ(sysuser_get(&c, "", &u), 0);
	T_INTEQ(sysuser_get(&c, "a/b", &u), 0);
	conf_free(&c);
	conf_with(&c, "local_uid_minimum = 1\n");
	T_INTEQ(sysuser_get(&c, "root", &u), 0);   /* root never */
	if (getpwnam("daemon") && getpwnam("daemon")->pw_uid >= 1) {
		T_INTEQ(sysuser_get(&c, "daemon", &u), 1);
		T_STREQ(u.name, "daemon");
		T_ASSERT(u.home[0] == '/');
	}
	conf_free(&c);
	if (pw && pw->pw_uid >= 1000) {
		conf_with(&c, "");
		T_INTEQ(sysuser_get(&c, "nobody", &u), 1);
		T_INTEQ(u.uid, pw->pw_uid);
		T_INTEQ(u.gid, pw->pw_gid);
		T_STREQ(u.home, pw->pw_dir);
		conf_free(&c);
	}
}

static int mode_of(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", home, rel);
	if (lstat(p, &st) < 0)
		return -1;
	return S_ISDIR(st.st_mode) ? (int)(st.st_mode & 07777) : -2;
}

static void path(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", home, rel);
}

static void test_maildir_open(void)
{
	char p[256], q[256], link[256];
	sa_t err = SA_INIT;
	int fd;

	/* made when missing, 0700 each */
	fd = sysuser_maildir_open(home, "Maildir/", 1, &err);
	T_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	T_INTEQ(mode_of("Maildir"), 0700);
	T_INTEQ(mode_of("Maildir/tmp"), 0700);
	T_INTEQ(mode_of("Maildir/new"), 0700);
	T_INTEQ(mode_of("Maildir/cur"), 0700);
	/* there already: opened as it is */
	fd = sysuser_maildir_open(home, "Maildir/", 0, &err);
	T_ASSERT(fd >= 0);
	if (fd >= 0) {
		struct stat a, b;
		path(p, sizeof p, "Maildir");
		T_INTEQ(fstat(fd, &a), 0);
		T_INTEQ(stat(p, &b), 0);
		T_ASSERT(a.st_ino == b.st_ino);
		close(fd);
	}
	/* deeper */
	fd = sysuser_maildir_open(home, "mail/box/", 1, &err);
	T_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	T_INTEQ(mode_of("mail/box/new"), 0700);
	/* missing, not to be made */
	T_INTEQ(sysuser_maildir_open(home, "none/", 0, &err), -1);
	T_INTEQ(errno, ENOENT);
	T_INTEQ(mode_of("none"), -1);
	/* a link as the Maildir, inside it or on the way: refused, nothing made
	 * where it points */
	path(p, sizeof p, "elsewhere");
	T_INTEQ(mkdir(p, 0700), 0);
	path(link, sizeof link, "Linked");
	T_INTEQ(symlink(p, link), 0);
	sa_trunc(&err, 0);
	T_INTEQ(sysuser_maildir_open(home, "Linked/", 1, &err), -1);
	T_INTEQ(errno, ELOOP);
	T_ASSERT(err.s && strstr(err.s, "symbolic link") != NULL);
	T_INTEQ(mode_of("elsewhere/new"), -1);
	T_INTEQ(sysuser_maildir_open(home, "Linked/sub/", 1, &err), -1);
	T_INTEQ(mode_of("elsewhere/sub"), -1);
	path(q, sizeof q, "Maildir/new");
	T_INTEQ(rmdir(q), 0);
	T_INTEQ(symlink(p, q), 0);
	T_INTEQ(sysuser_maildir_open(home, "Maildir/", 1, &err), -1);
	T_INTEQ(errno, ELOOP);
	T_INTEQ(unlink(q), 0);
	/* a file where a directory must be */
	fd = open(q, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	T_INTEQ(sysuser_maildir_open(home, "Maildir/", 1, &err), -1);
	T_INTEQ(errno, ENOTDIR);
	T_INTEQ(unlink(q), 0);
	/* the home itself a link; not absolute; a bad home_mailbox */
	path(p, sizeof p, "homelink");
	T_INTEQ(symlink(home, p), 0);
	T_INTEQ(sysuser_maildir_open(p, "Maildir/", 1, &err), -1);
	T_INTEQ(errno, ELOOP);
	T_INTEQ(unlink(p), 0);
	T_INTEQ(sysuser_maildir_open("relative", "Maildir/", 1, &err), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(sysuser_maildir_open(home, "../Maildir/", 1, &err), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(sysuser_maildir_open(home, "Maildir", 1, &err), -1);
	sa_free(&err);
	unlink(link);
}

int main(void)
{
	char cmd[128];
	int rc;

	snprintf(home, sizeof home, "/tmp/test_sysuserXXXXXX");
	if (!mkdtemp(home))
		return 1;
	T_RUN(test_mailbox_check);
	T_RUN(test_confcheck);
	T_RUN(test_get);
	T_RUN(test_maildir_open);
	rc = t_done();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
