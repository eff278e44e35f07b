#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "maildir.h"
#include "test.h"

static int is_dir(const char *base, const char *sub, int mode)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s%s", base, sub);
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	return mode < 0 || (int)(st.st_mode & 07777) == mode;
}

static void test_make(void)
{
	char tmpl[] = "/tmp/test_maildir.XXXXXX";
	char md[300], f[600];
	char *base = mkdtemp(tmpl);
	mode_t old = umask(0);

	T_ASSERT(base != NULL);
	snprintf(md, sizeof md, "%s/alice", base);
	T_ASSERT(maildir_make(md, 0700) == 0);
	T_ASSERT(is_dir(md, "", 0700));
	T_ASSERT(is_dir(md, "/tmp", 0700));
	T_ASSERT(is_dir(md, "/new", 0700));
	T_ASSERT(is_dir(md, "/cur", 0700));
	/* again: existing directories are fine */
	T_ASSERT(maildir_make(md, 0700) == 0);
	/* a file where cur/ should be is an error */
	snprintf(md, sizeof md, "%s/bob", base);
	T_ASSERT(mkdir(md, 0700) == 0);
	snprintf(f, sizeof f, "%s/cur", md);
	int fd = open(f, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	errno = 0;
	T_ASSERT(maildir_make(md, 0700) == -1);
	T_INTEQ(errno, ENOTDIR);
	/* a missing parent is an error (no mkdir -p) */
	snprintf(md, sizeof md, "%s/no/such", base);
	T_ASSERT(maildir_make(md, 0700) == -1);
	umask(old);
	snprintf(f, sizeof f, "rm -rf '%s'", base);
	T_ASSERT(system(f) == 0);
}

static void test_uniq(void)
{
	sa_t a = SA_INIT, b = SA_INIT;
	char want[64];
	unsigned long long sec, usec, pid, seq, seq2;
	int n = 0;

	T_ASSERT(sa_cats(&a, "new/") == 0);
	T_ASSERT(maildir_uniq(&a, "mx.example.org") == 0);
	T_ASSERT(strncmp(a.s, "new/", 4) == 0); /* appended */
	T_INTEQ(sscanf(a.s + 4, "%llu.M%lluP%lluQ%llu.%n", &sec, &usec, &pid, &seq, &n), 4);
	T_ASSERT(usec < 1000000);
	T_INTEQ(pid, getpid());
	T_STREQ(a.s + 4 + n, "mx.example.org");
	snprintf(want, sizeof want, "%llu.M%lluP%lluQ%llu.", sec, usec, pid, seq);
	T_ASSERT(strncmp(a.s + 4, want, strlen(want)) == 0);

	/* two calls in a row differ (the sequence number) */
	T_ASSERT(maildir_uniq(&b, "h") == 0);
	T_INTEQ(sscanf(b.s, "%*u.M%*uP%*uQ%llu.", &seq2), 1);
	T_ASSERT(seq2 == seq + 1);
	T_ASSERT(strcmp(a.s + 4, b.s) != 0);

	/* '/' and ':' in the host are escaped */
	sa_trunc(&b, 0);
	T_ASSERT(maildir_uniq(&b, "a/b:c") == 0);
	T_ASSERT(strstr(b.s, ".a\\057b\\072c") != NULL);
	T_ASSERT(strchr(b.s, '/') == NULL && strchr(b.s, ':') == NULL);

	/* no host: gethostname, never empty */
	sa_trunc(&b, 0);
	T_ASSERT(maildir_uniq(&b, NULL) == 0);
	T_ASSERT(b.len > 0 && b.s[b.len - 1] != '.');
	T_ASSERT(strchr(b.s, '/') == NULL);
	sa_free(&a);
	sa_free(&b);
}

static void test_name_uniq(void)
{
	size_t len = 99;
	T_ASSERT(maildir_name_uniq("1700000000.M1P2Q3.host:2,S", &len) == 1);
	T_INTEQ(len, strlen("1700000000.M1P2Q3.host"));
	T_ASSERT(maildir_name_uniq("1700000000.M1P2Q3.host", &len) == 1);
	T_INTEQ(len, strlen("1700000000.M1P2Q3.host"));
	T_ASSERT(maildir_name_uniq("abc:x", &len) == 1);
	T_INTEQ(len, 3);
	T_ASSERT(maildir_name_uniq(".hidden", &len) == 0);
	T_ASSERT(maildir_name_uniq(".", &len) == 0);
	T_ASSERT(maildir_name_uniq("..", &len) == 0);
	T_ASSERT(maildir_name_uniq("", &len) == 0);
	T_ASSERT(maildir_name_uniq(":2,S", &len) == 0);
}

static void test_folder_name(void)
{
	static const char *const good[][2] = { { "lists", "lists" }, { "Lists", "lists" },
		{ "a.b", "a.b" }, { "x_y-z9", "x_y-z9" },
		{ "1234567890123456789012345678901234567890123456789012345678901234",
		  "1234567890123456789012345678901234567890123456789012345678901234" } };
	static const char *const bad[] = { "", ".hidden", "../x", "a/b", "a..b", "x.", "..", ".",
		"a b", "a+b", "a:b", "\xc3\xa4", "a\n",
		"12345678901234567890123456789012345678901234567890123456789012345" };
	char out[MAILDIR_FOLDER_MAX + 1];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		T_INTEQ(maildir_folder_name(good[i][0], out), 1);
		T_STREQ(out, good[i][1]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 'z', sizeof out);
		T_INTEQ(maildir_folder_name(bad[i], out), 0);
		T_STREQ(out, "");
	}
}

static void test_folder_open(void)
{
	char tmpl[] = "/tmp/test_maildir.XXXXXX";
	char p[600];
	char *base = mkdtemp(tmpl);
	int md, fd;

	T_ASSERT(base != NULL);
	md = open(base, O_RDONLY | O_DIRECTORY);
	T_ASSERT(md >= 0);
	fd = maildir_folder_open(md, "lists");
	T_ASSERT(fd >= 0);
	close(fd);
	T_ASSERT(is_dir(base, "/.lists", 0700));
	T_ASSERT(is_dir(base, "/.lists/tmp", 0700));
	T_ASSERT(is_dir(base, "/.lists/new", 0700));
	T_ASSERT(is_dir(base, "/.lists/cur", 0700));
	snprintf(p, sizeof p, "%s/.lists/maildirfolder", base);
	T_INTEQ(access(p, F_OK), 0);
	/* again: what exists is fine */
	fd = maildir_folder_open(md, "lists");
	T_ASSERT(fd >= 0);
	close(fd);
	/* a link in the folder's place is never followed; a file is no folder */
	snprintf(p, sizeof p, "%s/.evil", base);
	T_INTEQ(symlink("/tmp", p), 0);
	T_INTEQ(maildir_folder_open(md, "evil"), -1);
	snprintf(p, sizeof p, "%s/.file", base);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	T_ASSERT(fd >= 0);
	close(fd);
	T_INTEQ(maildir_folder_open(md, "file"), -1);
	T_INTEQ(maildir_folder_open(md, "a/b"), -1);
	T_INTEQ(errno, EINVAL);
	close(md);
	snprintf(p, sizeof p, "rm -rf '%s'", base);
	T_ASSERT(system(p) == 0);
}

int main(void)
{
	T_RUN(test_make);
	T_RUN(test_uniq);
	T_RUN(test_name_uniq);
	T_RUN(test_folder_name);
	T_RUN(test_folder_open);
	return t_done();
}
