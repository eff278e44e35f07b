/* priv: the drop itself needs root (CI runs as root); without root those
 * tests are skipped with a message and the rest still run. Each drop happens
 * in a child, which reports by its exit status: the test process keeps root. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "priv.h"
#include "test.h"

static int skipped;

/* the numbers after "Key:" in /proc/self/status, space separated */
static int status_line(const char *key, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[1024];
	size_t kl = strlen(key);
	int found = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, kl) != 0 || line[kl] != ':')
			continue;
		size_t o = 0;
		int sp = 0;
		for (char *p = line + kl + 1; *p && *p != '\n' && o + 1 < len; p++) {
			if (*p == ' ' || *p == '\t') {
				sp = o > 0;
				continue;
			}
			if (sp && o + 2 < len)
				out[o++] = ' ';
			sp = 0;
			out[o++] = *p;
		}
		out[o] = '\0';
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* run fn in a child; its exit status */
static int in_child(int (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int expect(const char *key, const char *want)
{
	char got[512];
	if (status_line(key, got, sizeof got) < 0 || strcmp(got, want) != 0) {
		printf("FAIL %s: \"%s\", expected \"%s\"\n", key, got, want);
		return 0;
	}
	return 1;
}

static int drop_nobody(void)
{
	struct priv_user u;
	sa_t err = SA_INIT;
	if (priv_lookup("nobody", &u, &err) < 0) {
		printf("FAIL lookup nobody: %s\n", err.s);
		return 1;
	}
	/* what the kernel should show afterwards, from the databases */
	struct passwd *pw = getpwnam("nobody");
	gid_t g[PRIV_GROUPS_MAX];
	int n = PRIV_GROUPS_MAX;
	if (!pw || getgrouplist("nobody", pw->pw_gid, g, &n) < 0)
		return 2;
	char uids[128], gids[128], groups[512] = "";
	snprintf(uids, sizeof uids, "%u %u %u %u", pw->pw_uid, pw->pw_uid, pw->pw_uid, pw->pw_uid);
	snprintf(gids, sizeof gids, "%u %u %u %u", pw->pw_gid, pw->pw_gid, pw->pw_gid, pw->pw_gid);
	/* the kernel lists groups sorted */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (g[j] < g[i]) {
				gid_t t = g[i];
				g[i] = g[j];
				g[j] = t;
			}
	for (int i = 0; i < n; i++)
		snprintf(groups + strlen(groups), sizeof groups - strlen(groups), "%s%u", i ? " " : "", g[i]);
	/* root's own supplementary groups must not survive */
	gid_t mine[] = { 0, 4, 27 };
	if (setgroups(3, mine) < 0)
		return 3;
	if (priv_drop(&u, &err) < 0) {
		printf("FAIL drop: %s\n", err.s);
		return 4;
	}
	if (!expect("Uid", uids) || !expect("Gid", gids) || !expect("Groups", groups))
		return 5;
	if (setuid(0) == 0 || errno != EPERM || setgid(0) == 0 || seteuid(0) == 0)
		return 6;
	if (setgroups(1, mine) == 0)
		return 7;
	/* a second drop cannot work any more, and says so */
	if (priv_drop(&u, &err) != -1 || err.len == 0)
		return 8;
	/* no longer root: the guard lets us run */
	priv_refuse_root("test_priv");
	return 0;
}

static int drop_ids(void)
{
	struct priv_user u;
	sa_t err = SA_INIT;
	if (priv_ids(65534, 65534, &u, &err) < 0 || priv_drop(&u, &err) < 0)
		return 1;
	if (!expect("Uid", "65534 65534 65534 65534") || !expect("Gid", "65534 65534 65534 65534") ||
	    !expect("Groups", "65534"))
		return 2;
	return setuid(0) == 0 ? 3 : 0;
}

static int refuse_root(void)
{
	if (!freopen("/dev/null", "w", stderr))
		return 1;
	priv_refuse_root("test_priv");
	return 0;
}

static int drop_unprivileged(void)
{
	struct priv_user u;
	sa_t err = SA_INIT;
	if (priv_ids(65534, 65534, &u, &err) < 0 || priv_drop(&u, &err) < 0)
		return 1;
	/* now unprivileged: dropping to another user fails cleanly */
	if (priv_ids(65533, 65533, &u, &err) < 0)
		return 2;
	if (priv_drop(&u, &err) != -1 || errno != EPERM || !err.s || !strstr(err.s, "setgroups"))
		return 3;
	return 0;
}

static int root_only(const char *what)
{
	if (geteuid() == 0)
		return 1;
	printf("skipped %s: needs root\n", what);
	skipped++;
	return 0;
}

static void test_drop_user(void)
{
	if (!root_only("test_drop_user"))
		return;
	T_INTEQ(in_child(drop_nobody), 0);
}

static void test_drop_ids(void)
{
	if (!root_only("test_drop_ids"))
		return;
	T_INTEQ(in_child(drop_ids), 0);
}

static void test_refuse_root(void)
{
	if (!root_only("test_refuse_root"))
		return;
	T_INTEQ(in_child(refuse_root), 111);
}

static void test_drop_fails_unprivileged(void)
{
	if (!root_only("test_drop_fails_unprivileged"))
		return;
	T_INTEQ(in_child(drop_unprivileged), 0);
}

static void test_lookup_refusals(void)
{
	struct priv_user u;
	sa_t err = SA_INIT;
	T_INTEQ(priv_lookup("pochta-no-such-user", &u, &err), -1);
	T_ASSERT(err.s && strstr(err.s, "no such user: pochta-no-such-user"));
	T_INTEQ(priv_lookup("root", &u, &err), -1);
	T_ASSERT(err.s && strstr(err.s, "uid 0"));
	T_INTEQ(priv_ids(0, 100, &u, &err), -1);
	T_INTEQ(priv_ids(100, 0, &u, &err), -1);
	T_INTEQ(priv_ids(100, 100, &u, &err), 0);
	T_INTEQ(u.ngroups, 0);
	char longname[100];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	T_INTEQ(priv_lookup(longname, &u, &err), -1);
	/* a user whose uid is not 0 but whose group is: no drop either */
	struct priv_user r = { .uid = 5, .gid = 0 };
	T_INTEQ(priv_drop(&r, &err), -1);
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_lookup_refusals);
	T_RUN(test_drop_user);
	T_RUN(test_drop_ids);
	T_RUN(test_refuse_root);
	T_RUN(test_drop_fails_unprivileged);
	printf("%d passed, %d failed, %d skipped\n", t_pass - skipped, t_fail, skipped);
	return t_fail ? 1 : 0;
}
