#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "durable.h"
#include "test.h"

static char base[64];

static int slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;
	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static void test_fsync_dir(void)
{
	T_ASSERT(durable_fsync_dir(base) == 0);
	T_ASSERT(durable_fsync_dir(".") == 0);
	errno = 0;
	T_ASSERT(durable_fsync_dir("/nonexistent/dir") == -1);
	T_INTEQ(errno, ENOENT);
}

static void test_commit(void)
{
	char from[128], to[128], got[64], sub[128];
	int fd;

	snprintf(from, sizeof from, "%s/tmpfile", base);
	snprintf(to, sizeof to, "%s/sub/final", base);
	snprintf(sub, sizeof sub, "%s/sub", base);
	T_ASSERT(mkdir(sub, 0700) == 0);
	fd = open(from, O_WRONLY | O_CREAT | O_EXCL, 0600);
	T_ASSERT(fd >= 0);
	T_ASSERT(write(fd, "data", 4) == 4);
	T_ASSERT(durable_commit(fd, from, to) == 0);
	T_ASSERT(write(fd, "!", 1) == 1); /* fd stays open */
	close(fd);
	T_ASSERT(access(from, F_OK) < 0);
	T_INTEQ(slurp(to, got, sizeof got), 5);
	T_STREQ(got, "data!");
	/* a failing rename is reported */
	fd = open(to, O_RDONLY);
	errno = 0;
	T_ASSERT(durable_commit(fd, from, to) == -1);
	T_INTEQ(errno, ENOENT);
	close(fd);
}

static void test_replace(void)
{
	char path[128], got[64], cmd[160];
	struct stat st;
	mode_t old = umask(077);

	snprintf(path, sizeof path, "%s/conf", base);
	T_ASSERT(durable_replace(path, "one\n", 4, 0644) == 0);
	T_INTEQ(slurp(path, got, sizeof got), 4);
	T_STREQ(got, "one\n");
	T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644); /* not umask'd */
	T_ASSERT(durable_replace(path, "two", 3, 0600) == 0);
	T_INTEQ(slurp(path, got, sizeof got), 3);
	T_STREQ(got, "two");
	T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	T_ASSERT(durable_replace(path, "", 0, 0600) == 0);
	T_INTEQ(slurp(path, got, sizeof got), 0);
	/* no temporary file left behind */
	snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep tmp)\"", base);
	T_ASSERT(system(cmd) == 0);
	/* a missing directory fails cleanly */
	snprintf(path, sizeof path, "%s/nodir/conf", base);
	errno = 0;
	T_ASSERT(durable_replace(path, "x", 1, 0600) == -1);
	T_INTEQ(errno, ENOENT);
	errno = 0;
	T_ASSERT(durable_replace("/tmp/", "x", 1, 0600) == -1);
	T_INTEQ(errno, EINVAL);
	umask(old);
}

static void test_replace_relative(void)
{
	char cwd[4096], got[16];
	T_ASSERT(getcwd(cwd, sizeof cwd) != NULL);
	T_ASSERT(chdir(base) == 0);
	T_ASSERT(durable_replace("rel", "r", 1, 0600) == 0);
	T_INTEQ(slurp("rel", got, sizeof got), 1);
	T_ASSERT(chdir(cwd) == 0);
}

int main(void)
{
	char cmd[128];
	snprintf(base, sizeof base, "/tmp/test_durable.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	T_RUN(test_fsync_dir);
	T_RUN(test_commit);
	T_RUN(test_replace);
	T_RUN(test_replace_relative);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
