#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "paths.h"
#include "test.h"

static void test_root_absolute(void)
{
	unsetenv("POCHTA_ROOT");
	T_ASSERT(paths_init("/srv/inst/") == 0);
	T_STREQ(paths.root, "/srv/inst");
	T_STREQ(paths.etc, "/srv/inst/etc");
	T_STREQ(paths.conf, "/srv/inst/etc/pochta.conf");
	T_STREQ(paths.queue, "/srv/inst/queue");
	T_STREQ(paths.mail, "/srv/inst/mail");
	T_STREQ(paths.log, "/srv/inst/log");
	T_STREQ(getenv("POCHTA_ROOT"), "/srv/inst");
}

static void test_root_relative(void)
{
	char cwd[4096], want[4200];
	T_ASSERT(getcwd(cwd, sizeof cwd) != NULL);
	unsetenv("POCHTA_ROOT");
	T_ASSERT(paths_init("./run") == 0);
	snprintf(want, sizeof want, "%s/run", cwd);
	T_STREQ(paths.root, want);
	T_STREQ(getenv("POCHTA_ROOT"), want);
	T_ASSERT(paths_init("a/b//") == 0);
	snprintf(want, sizeof want, "%s/a/b", cwd);
	T_STREQ(paths.root, want);
	T_ASSERT(paths_init(".") == 0);
	T_STREQ(paths.root, cwd);
	/* from / */
	T_ASSERT(chdir("/") == 0);
	T_ASSERT(paths_init("x") == 0);
	T_STREQ(paths.root, "/x");
	T_ASSERT(chdir(cwd) == 0);
}

static void test_env_root(void)
{
	setenv("POCHTA_ROOT", "/from/env", 1);
	T_ASSERT(paths_init(NULL) == 0);
	T_STREQ(paths.root, "/from/env");
	T_STREQ(paths.queue, "/from/env/queue");
	/* -r wins over the environment, and replaces it */
	T_ASSERT(paths_init("/from/arg") == 0);
	T_STREQ(paths.root, "/from/arg");
	T_STREQ(getenv("POCHTA_ROOT"), "/from/arg");
}

static void test_installed(void)
{
	unsetenv("POCHTA_ROOT");
	T_ASSERT(paths_init(NULL) == 0);
	T_STREQ(paths.root, "");
	T_STREQ(paths.etc, POCHTA_ETCDIR);
	T_STREQ(paths.conf, POCHTA_ETCDIR "/pochta.conf");
	T_STREQ(paths.queue, POCHTA_QUEUEDIR);
	T_STREQ(paths.mail, POCHTA_MAILDIR);
	T_ASSERT(getenv("POCHTA_ROOT") == NULL);
	setenv("POCHTA_ROOT", "", 1); /* empty counts as unset */
	T_ASSERT(paths_init(NULL) == 0);
	T_STREQ(paths.root, "");
}

static void test_too_long(void)
{
	static char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[0] = '/';
	errno = 0;
	T_ASSERT(paths_init(big) == -1);
	T_INTEQ(errno, ENAMETOOLONG);
	unsetenv("POCHTA_ROOT");
}

static void test_prog(void)
{
	char exe[4096], want[4200];
	ssize_t n;
	char *slash;

	unsetenv("POCHTA_LIBEXEC");
	T_ASSERT(paths_init("/r") == 0);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	T_ASSERT(n > 0);
	exe[n > 0 ? n : 0] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(want, sizeof want, "%s/pochta-enqueue", exe);
	T_STREQ(paths_prog("pochta-enqueue"), want);
	T_STREQ(paths.libexec, exe);
	setenv("POCHTA_LIBEXEC", "/opt/pochta/bin", 1);
	T_ASSERT(paths_init("/r") == 0);
	T_STREQ(paths_prog("pochta-local"), "/opt/pochta/bin/pochta-local");
	unsetenv("POCHTA_LIBEXEC");
}

/* an executable file name in dir; 0 or -1 */
static int make_file(const char *dir, const char *name, int mode)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	close(fd);
	return chmod(p, (mode_t)mode);
}

static void test_prog_find(void)
{
	char dir[] = "/tmp/pochta-paths-XXXXXX", want[4200], exe[4096];
	T_ASSERT(mkdtemp(dir) != NULL);
	T_ASSERT(make_file(dir, "pochta-x", 0755) == 0);
	T_ASSERT(make_file(dir, "pochta-y", 0644) == 0);
	T_ASSERT(mkdir(strcat(strcpy(want, dir), "/pochta-d"), 0755) == 0);
	setenv("POCHTA_LIBEXEC", dir, 1);
	snprintf(want, sizeof want, "%s/pochta-x", dir);
	T_STREQ(paths_prog_find("pochta-x"), want);
	/* not executable, a directory, missing: looked for elsewhere, not found */
	errno = 0;
	T_ASSERT(paths_prog_find("pochta-y") == NULL);
	T_INTEQ(errno, ENOENT);
	T_ASSERT(paths_prog_find("pochta-d") == NULL);
	T_ASSERT(paths_prog_find("pochta-none") == NULL);
	/* not in POCHTA_LIBEXEC: beside this executable */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	T_ASSERT(n > 0);
	exe[n > 0 ? n : 0] = '\0';
	const char *base = strrchr(exe, '/');
	T_ASSERT(base != NULL);
	T_STREQ(paths_prog_find(base ? base + 1 : exe), exe);
	unsetenv("POCHTA_LIBEXEC");
	T_STREQ(paths_prog_find(base ? base + 1 : exe), exe);
	snprintf(want, sizeof want, "%s/pochta-x", dir);
	unlink(want);
	snprintf(want, sizeof want, "%s/pochta-y", dir);
	unlink(want);
	snprintf(want, sizeof want, "%s/pochta-d", dir);
	rmdir(want);
	rmdir(dir);
}

static void test_args(void)
{
	const char *root = "x";
	char *a1[] = { "prog", NULL };
	char *a2[] = { "prog", "-r", "/srv/mx", NULL };
	char *a3[] = { "prog", "-x", NULL };
	char *a4[] = { "prog", "-r", "/srv/mx", "extra", NULL };

	optind = 1;
	T_INTEQ(paths_args(1, a1, &root), 0);
	T_ASSERT(root == NULL);
	optind = 1;
	T_INTEQ(paths_args(3, a2, &root), 0);
	T_STREQ(root, "/srv/mx");
	optind = 1;
	opterr = 0;
	T_INTEQ(paths_args(2, a3, &root), -1);
	optind = 1;
	T_INTEQ(paths_args(4, a4, &root), -1);
}

int main(void)
{
	T_RUN(test_root_absolute);
	T_RUN(test_root_relative);
	T_RUN(test_env_root);
	T_RUN(test_installed);
	T_RUN(test_too_long);
	T_RUN(test_prog);
	T_RUN(test_prog_find);
	T_RUN(test_args);
	return t_done();
}
