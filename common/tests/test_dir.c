#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dir.h"
#include "test.h"

static void test_dir_make(void)
{
	char base[] = "/tmp/pochta-test-dir-XXXXXX", p[128];
	struct stat st;
	FILE *f;

	T_ASSERT(mkdtemp(base) != NULL);
	snprintf(p, sizeof p, "%s/d", base);
	T_INTEQ(dir_make(p, 0700), 0);
	T_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	T_INTEQ(dir_make(p, 0700), 0); /* exists: fine */
	snprintf(p, sizeof p, "%s/f", base);
	f = fopen(p, "w");
	T_ASSERT(f != NULL);
	if (f)
		fclose(f);
	errno = 0;
	T_INTEQ(dir_make(p, 0700), -1); /* a file in its place */
	T_INTEQ(errno, ENOTDIR);
	unlink(p);
	snprintf(p, sizeof p, "%s/missing/d", base);
	T_INTEQ(dir_make(p, 0700), -1);
	T_INTEQ(errno, ENOENT);
	snprintf(p, sizeof p, "%s/d", base);
	rmdir(p);
	rmdir(base);
}

int main(void)
{
	T_RUN(test_dir_make);
	return t_done();
}
