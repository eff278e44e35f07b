/* Unit tests for common/users.c: etc/users, etc/passwd, password hashing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "users.h"
#include "test.h"

static char dir[64], upath[128], ppath[128];

static void putb(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, data, len), (long long)len);
	close(fd);
}

static void put(const char *path, const char *text)
{
	putb(path, text, strlen(text));
}

/* the file's contents, or "(missing)" */
static const char *get(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;
	if (fd < 0)
		return "(missing)";
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int mode_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static void reset(void)
{
	unlink(upath);
	unlink(ppath);
}

static void test_name_valid(void)
{
	const char *good[] = { "a", "alice", "bob.smith", "x_y", "a-b", "0", "9lives",
	                       "abcdefghijklmnopqrstuvwxyz012345" /* 32 */ };
	const char *bad[] = { "", ".a", "-a", "Alice", "a b", "a:b", "a/b", "a@b", "a+b",
	                      "a\n", "\xc3\xa4", "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */ };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		T_INTEQ(user_name_valid(good[i], strlen(good[i])), 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (user_name_valid(bad[i], strlen(bad[i])))
			printf("accepted %s\n", bad[i]);
		T_INTEQ(user_name_valid(bad[i], strlen(bad[i])), 0);
	}
	T_INTEQ(user_name_valid("ab", 1), 1);   /* len counts */
	T_INTEQ(user_name_valid("a\0b", 3), 0);
}

static void test_missing_files(void)
{
	sa_t out = SA_INIT;
	size_t n = 99;

	reset();
	T_INTEQ(users_exists(upath, "alice"), 0);
	T_INTEQ(users_list(upath, &out, &n), 0);
	T_INTEQ(n, 0);
	T_INTEQ(out.len, 0);
	T_INTEQ(pass_check(ppath, "alice", "x"), 0);
	errno = 0;
	T_INTEQ(users_del(upath, ppath, "alice"), -1);
	T_INTEQ(errno, ENOENT);
	T_STREQ(get(upath), "(missing)");   /* del of nobody writes nothing */
	/* a file that cannot be read is an error, not "no users" */
	T_INTEQ(users_exists(dir, "alice"), -1);
	T_INTEQ(pass_check(dir, "alice", "x"), -1);
	sa_free(&out);
}

static void test_add_del(void)
{
	reset();
	T_INTEQ(users_add(upath, ppath, "alice", "$6$salt$hashA", 0), 0);
	T_STREQ(get(upath), "alice\n");
	T_STREQ(get(ppath), "alice:$6$salt$hashA\n");
	T_INTEQ(mode_of(upath), 0644);
	T_INTEQ(mode_of(ppath), 0600);
	T_INTEQ(users_exists(upath, "alice"), 1);
	T_INTEQ(users_exists(upath, "bob"), 0);

	T_INTEQ(users_add(upath, ppath, "bob", "$6$salt$hashB", 0), 0);
	T_STREQ(get(upath), "alice\nbob\n");
	T_STREQ(get(ppath), "alice:$6$salt$hashA\nbob:$6$salt$hashB\n");

	errno = 0;
	T_INTEQ(users_add(upath, ppath, "alice", "$6$salt$other", 0), -1);
	T_INTEQ(errno, EEXIST);
	T_STREQ(get(ppath), "alice:$6$salt$hashA\nbob:$6$salt$hashB\n");
	T_INTEQ(users_add(upath, ppath, "alice", "$6$salt$new", 1), 0);
	T_STREQ(get(upath), "bob\nalice\n");
	T_STREQ(get(ppath), "bob:$6$salt$hashB\nalice:$6$salt$new\n");

	/* bad input is refused before any file is touched */
	const char *badhash[] = { "", "a:b", "a\nb", "a b", "a\tb", "h\xc3\xa4" };
	for (size_t i = 0; i < sizeof badhash / sizeof badhash[0]; i++) {
		errno = 0;
		T_INTEQ(users_add(upath, ppath, "carol", badhash[i], 0), -1);
		T_INTEQ(errno, EINVAL);
	}
	errno = 0;
	T_INTEQ(users_add(upath, ppath, "Carol", "h", 0), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(users_add(upath, ppath, "../x", "h", 0), -1);
	T_STREQ(get(upath), "bob\nalice\n");

	T_INTEQ(users_del(upath, ppath, "bob"), 0);
	T_STREQ(get(upath), "alice\n");
	T_STREQ(get(ppath), "alice:$6$salt$new\n");
	errno = 0;
	T_INTEQ(users_del(upath, ppath, "bob"), -1);
	T_INTEQ(errno, ENOENT);
	T_INTEQ(users_del(upath, ppath, "alice"), 0);
	T_STREQ(get(upath), "");
	T_STREQ(get(ppath), "");
	T_INTEQ(mode_of(ppath), 0600);
	T_INTEQ(users_del(upath, ppath, "Bad Name"), -1);
}

static void test_half_state(void)
{
	/* in users but not passwd (a crash between the two writes) */
	reset();
	put(upath, "dave\n");
	errno = 0;
	T_INTEQ(users_add(upath, ppath, "dave", "h1", 0), -1);
	T_INTEQ(errno, EEXIST);
	T_INTEQ(users_add(upath, ppath, "dave", "h1", 1), 0);
	T_STREQ(get(upath), "dave\n");
	T_STREQ(get(ppath), "dave:h1\n");
	/* in passwd only: del repairs it */
	reset();
	put(ppath, "erin:h2\n");
	T_INTEQ(users_del(upath, ppath, "erin"), 0);
	T_STREQ(get(ppath), "");
	T_STREQ(get(upath), "(missing)");
}

static void test_messy_files(void)
{
	sa_t out = SA_INIT;
	size_t n = 0;
	char longline[2100];

	reset();
	memset(longline, 'a', 2000);
	longline[2000] = '\0';
	sa_t text = SA_INIT;
	T_INTEQ(sa_cats(&text,
	        "# the users\n"
	        "\n"
	        "  alice  \n"
	        "Bob\n"
	        "carol\r\n"
	        "bad name\n"
	        ".hidden\n"
	        "#dave\n"), 0);
	T_INTEQ(sa_cats(&text, longline), 0);
	static const char tail[] = "\n\x01\x02\n\0\nfrank";   /* no final LF */
	T_INTEQ(sa_catb(&text, tail, sizeof tail - 1), 0);
	putb(upath, text.s, text.len);
	sa_free(&text);

	T_INTEQ(users_exists(upath, "alice"), 1);
	T_INTEQ(users_exists(upath, "carol"), 1);
	T_INTEQ(users_exists(upath, "frank"), 1);
	T_INTEQ(users_exists(upath, "Bob"), 0);
	T_INTEQ(users_exists(upath, "bob"), 0);
	T_INTEQ(users_exists(upath, "dave"), 0);
	T_INTEQ(users_exists(upath, "#dave"), 0);
	T_INTEQ(users_exists(upath, ""), 0);
	T_INTEQ(users_exists(upath, longline), 0);
	T_INTEQ(users_list(upath, &out, &n), 0);
	T_INTEQ(n, 3);
	T_INTEQ(out.len, 6 + 6 + 6);
	T_ASSERT(memcmp(out.s, "alice\0carol\0frank\0", 18) == 0);

	/* a rewrite keeps the other lines (comments, even junk) */
	T_INTEQ(users_del(upath, ppath, "carol"), 0);
	T_INTEQ(users_exists(upath, "carol"), 0);
	T_ASSERT(strncmp(get(upath), "# the users\n\n  alice  \nBob\nbad name\n", 36) == 0);
	T_INTEQ(users_exists(upath, "frank"), 1);

	/* messy passwd */
	put(ppath, "# comment\n"
	           "nocolon\n"
	           "empty:\n"
	           "Upper:$6$x$y\n"
	           ":$6$x$y\n"
	           "gina:!\n"
	           "harry:*\n");
	T_INTEQ(pass_check(ppath, "nocolon", ""), 0);
	T_INTEQ(pass_check(ppath, "empty", ""), 0);
	T_INTEQ(pass_check(ppath, "gina", "!"), 0);    /* a locked account */
	T_INTEQ(pass_check(ppath, "gina", ""), 0);
	T_INTEQ(pass_check(ppath, "harry", "*"), 0);
	T_INTEQ(users_add(upath, ppath, "gina", "h", 1), 0);
	T_ASSERT(strstr(get(ppath), "gina:!") == NULL);
	T_ASSERT(strstr(get(ppath), "# comment\nnocolon\nempty:\n") != NULL);
	sa_free(&out);
}

/* a users line of USERS_LINE_MAX (1024) bytes counts, blanks included; a
 * longer one is skipped whole, and the next line is read again */
static void test_line_bounds(void)
{
	char line[1100];
	sa_t text = SA_INIT;

	reset();
	memset(line, ' ', sizeof line);
	memcpy(line + 500, "ivan", 4);
	T_INTEQ(sa_catb(&text, line, 1024), 0);
	T_INTEQ(sa_cats(&text, "\n"), 0);
	memcpy(line + 500, "judy", 4);
	T_INTEQ(sa_catb(&text, line, 1025), 0);
	T_INTEQ(sa_cats(&text, "\nkate\n"), 0);
	putb(upath, text.s, text.len);
	T_INTEQ(users_exists(upath, "ivan"), 1);
	T_INTEQ(users_exists(upath, "judy"), 0);
	T_INTEQ(users_exists(upath, "kate"), 1);
	/* passwd: a line that long (its hash over 512 bytes) is nobody's */
	sa_trunc(&text, 0);
	T_INTEQ(sa_cats(&text, "judy:$6$"), 0);
	memset(line, 'x', sizeof line);
	T_INTEQ(sa_catb(&text, line, 1025 - 8), 0);
	T_INTEQ(sa_cats(&text, "\n"), 0);
	putb(ppath, text.s, text.len);
	T_INTEQ(users_add(upath, ppath, "judy", "h", 0), 0); /* the long line is not judy's */
	sa_free(&text);
}

static void test_hash_check(void)
{
	sa_t h1 = SA_INIT, h2 = SA_INIT;

	reset();
	T_INTEQ(pass_hash("secret", &h1), 0);
	T_ASSERT(strncmp(h1.s, "$y$", 3) == 0 || strncmp(h1.s, "$6$", 3) == 0);
	T_ASSERT(strchr(h1.s, ':') == NULL && strchr(h1.s, '\n') == NULL);
	T_INTEQ(pass_hash("secret", &h2), 0);
	T_ASSERT(strcmp(h1.s, h2.s) != 0);     /* fresh salt each time */

	T_INTEQ(users_add(upath, ppath, "alice", h1.s, 0), 0);
	T_INTEQ(pass_check(ppath, "alice", "secret"), 1);
	T_INTEQ(pass_check(ppath, "alice", "Secret"), 0);
	T_INTEQ(pass_check(ppath, "alice", ""), 0);
	T_INTEQ(pass_check(ppath, "alice", "secret "), 0);
	T_INTEQ(pass_check(ppath, "bob", "secret"), 0);     /* unknown user */
	T_INTEQ(pass_check(ppath, "Alice", "secret"), 0);   /* invalid name */
	T_INTEQ(pass_check(ppath, "", "secret"), 0);
	T_INTEQ(pass_check(ppath, "alice:x", "secret"), 0);

	/* the empty password and one of USER_PASS_MAX bytes hash and check; one
	 * byte more is refused: no POP3 client could send it */
	T_INTEQ(USER_PASS_MAX, 248);
	sa_trunc(&h2, 0);
	T_INTEQ(pass_hash("", &h2), 0);
	T_INTEQ(users_add(upath, ppath, "bob", h2.s, 0), 0);
	T_INTEQ(pass_check(ppath, "bob", ""), 1);
	T_INTEQ(pass_check(ppath, "bob", "x"), 0);
	char big[600];
	memset(big, 'p', sizeof big);
	big[USER_PASS_MAX] = '\0';
	sa_trunc(&h2, 0);
	T_INTEQ(pass_hash(big, &h2), 0);
	T_INTEQ(users_add(upath, ppath, "bob", h2.s, 1), 0);
	T_INTEQ(pass_check(ppath, "bob", big), 1);
	/* just over, and over crypt's own limit too */
	static const size_t over[] = { USER_PASS_MAX + 1, 255, 511, 512, 599 };
	for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
		memset(big, 'p', sizeof big);
		big[over[i]] = '\0';
		errno = 0;
		sa_trunc(&h2, 0);
		T_INTEQ(pass_hash(big, &h2), -1);
		T_INTEQ(errno, ERANGE);
		T_INTEQ(h2.len, 0);
	}
	T_INTEQ(pass_check(ppath, "bob", big), 0);
	/* a password with 8-bit bytes and punctuation */
	sa_trunc(&h2, 0);
	T_INTEQ(pass_hash("p\xc3\xa4ss:w\"rd", &h2), 0);
	T_INTEQ(users_add(upath, ppath, "carol", h2.s, 0), 0);
	T_INTEQ(pass_check(ppath, "carol", "p\xc3\xa4ss:w\"rd"), 1);
	T_INTEQ(pass_check(ppath, "alice", "secret"), 1);   /* others unchanged */

	/* a SHA-512 hash from elsewhere still checks */
	T_INTEQ(users_add(upath, ppath, "dave",
	        "$6$k2XAnEHBqQ1Ct2aM$LgcxfwyISlxlQfzXiSviWx7PFQ.O7/uRcwtNCppj8sRgjkkpL2fuGIVk"
	        "Sad7Upmsryeg8dtdhBo96W2S5I8dM.", 0), 0);
	T_INTEQ(pass_check(ppath, "dave", "dummy"), 1);
	T_INTEQ(pass_check(ppath, "dave", "dummY"), 0);
	sa_free(&h1);
	sa_free(&h2);
}

static void test_too_large(void)
{
	int fd;

	reset();
	fd = open(upath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_ASSERT(fd >= 0);
	T_INTEQ(ftruncate(fd, 64 * 1024 * 1024 + 1), 0);   /* sparse */
	close(fd);
	errno = 0;
	T_INTEQ(users_exists(upath, "alice"), -1);
	T_INTEQ(errno, EFBIG);
	errno = 0;
	T_INTEQ(users_add(upath, ppath, "alice", "h", 0), -1);
	T_INTEQ(errno, EFBIG);
	T_STREQ(get(ppath), "(missing)");
	reset();
}

/* concurrent adds must not lose each other's lines */
static void test_concurrent(void)
{
	enum { N = 8 };
	pid_t pids[N];
	sa_t out = SA_INIT;
	size_t n = 0;

	reset();
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		T_ASSERT(pids[i] >= 0);
		if (pids[i] == 0) {
			char name[16];
			snprintf(name, sizeof name, "user%d", i);
			for (int k = 0; k < 3; k++)
				if (users_add(upath, ppath, name, "$6$x$y", 1) < 0)
					_exit(1);
			_exit(0);
		}
	}
	for (int i = 0; i < N; i++) {
		int st = 0;
		T_INTEQ(waitpid(pids[i], &st, 0), pids[i]);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	T_INTEQ(users_list(upath, &out, &n), 0);
	T_INTEQ(n, N);
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof name, "user%d", i);
		T_INTEQ(users_exists(upath, name), 1);
		T_INTEQ(pass_check(ppath, name, "x"), 0);
	}
	T_INTEQ(strlen(get(ppath)), N * strlen("userN:$6$x$y\n"));
	sa_free(&out);
	reset();
}

/* the file's mtime set back by secs (its ctime becomes now: it cannot be set) */
static void set_mtime_ago(const char *path, int secs)
{
	struct timespec ts[2];
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	T_INTEQ(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_cache(void)
{
	char tmp[160];

	reset();
	/* rewritten in place, same size, within one timestamp tick: seen */
	put(upath, "alice\n");
	T_INTEQ(users_exists(upath, "alice"), 1);
	put(upath, "bobby\n");
	T_INTEQ(users_exists(upath, "bobby"), 1);
	T_INTEQ(users_exists(upath, "alice"), 0);
	/* the same size and an mtime set back to the old one: ctime differs */
	put(upath, "carol\n");
	set_mtime_ago(upath, 100);
	T_INTEQ(users_exists(upath, "carol"), 1);
	put(upath, "dave_\n");
	set_mtime_ago(upath, 100);
	T_INTEQ(users_exists(upath, "dave_"), 1);
	T_INTEQ(users_exists(upath, "carol"), 0);
	/* replaced by rename, as pochtactl does */
	snprintf(tmp, sizeof tmp, "%s/users.new", dir);
	put(tmp, "erin\n");
	T_INTEQ(rename(tmp, upath), 0);
	T_INTEQ(users_exists(upath, "erin"), 1);
	T_INTEQ(users_exists(upath, "dave_"), 0);
	/* appended to */
	int fd = open(upath, O_WRONLY | O_APPEND);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, "frank\n", 6), 6);
	close(fd);
	T_INTEQ(users_exists(upath, "frank"), 1);
	/* removed: no users; another file is not this one */
	T_INTEQ(unlink(upath), 0);
	T_INTEQ(users_exists(upath, "erin"), 0);
	put(upath, "gina\n");
	T_INTEQ(users_exists(ppath, "gina"), 0);
	T_INTEQ(users_exists(upath, "gina"), 1);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_users.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(upath, sizeof upath, "%s/users", dir);
	snprintf(ppath, sizeof ppath, "%s/passwd", dir);
	T_RUN(test_name_valid);
	T_RUN(test_missing_files);
	T_RUN(test_add_del);
	T_RUN(test_half_state);
	T_RUN(test_messy_files);
	T_RUN(test_line_bounds);
	T_RUN(test_hash_check);
	T_RUN(test_too_large);
	T_RUN(test_concurrent);
	T_RUN(test_cache);
	reset();
	rmdir(dir);
	return t_done();
}
