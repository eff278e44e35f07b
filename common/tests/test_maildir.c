#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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

int main(void)
{
	T_RUN(test_make);
	T_RUN(test_uniq);
	T_RUN(test_name_uniq);
	return t_done();
}
