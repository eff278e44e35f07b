/* Unit tests for common/fileread.c: the one bounded whole-file reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileread.h"
#include "test.h"

static char dir[64];

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
}

static void test_read(void)
{
	char p[128];
	sa_t out = SA_INIT;
	struct stat st;

	path_of(p, sizeof p, "f");
	put(p, "hello\n");
	T_INTEQ(file_read_all(p, 6, 0, &out, &st), 0);      /* exactly max */
	T_INTEQ(out.len, 6);
	T_STREQ(out.s, "hello\n");
	T_INTEQ(st.st_size, 6);
	errno = 0;
	T_INTEQ(file_read_all(p, 5, 0, &out, NULL), -1);    /* one byte over */
	T_INTEQ(errno, EFBIG);
	put(p, "");
	T_INTEQ(file_read_all(p, 5, 0, &out, NULL), 0);     /* empty: "" */
	T_ASSERT(out.s != NULL && out.len == 0 && out.s[0] == '\0');
	sa_free(&out);
}

static void test_refusals(void)
{
	char p[128], l[128];
	sa_t out = SA_INIT;

	path_of(p, sizeof p, "missing");
	errno = 0;
	T_INTEQ(file_read_all(p, 100, 0, &out, NULL), -1);
	T_INTEQ(errno, ENOENT);
	errno = 0;
	T_INTEQ(file_read_all(dir, 100, 0, &out, NULL), -1); /* a directory */
	T_INTEQ(errno, EINVAL);
	/* a FIFO is not read (and O_NONBLOCK keeps the open from waiting) */
	path_of(p, sizeof p, "fifo");
	T_INTEQ(mkfifo(p, 0600), 0);
	errno = 0;
	T_INTEQ(file_read_all(p, 100, O_NONBLOCK, &out, NULL), -1);
	T_INTEQ(errno, EINVAL);
	unlink(p);
	/* a symbolic link with O_NOFOLLOW */
	path_of(p, sizeof p, "f");
	put(p, "x");
	path_of(l, sizeof l, "link");
	T_INTEQ(symlink(p, l), 0);
	T_INTEQ(file_read_all(l, 100, 0, &out, NULL), 0);
	errno = 0;
	T_INTEQ(file_read_all(l, 100, O_NOFOLLOW, &out, NULL), -1);
	T_INTEQ(errno, ELOOP);
	unlink(l);
	unlink(p);
	sa_free(&out);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_fileread.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_read);
	T_RUN(test_refusals);
	rmdir(dir);
	return t_done();
}
