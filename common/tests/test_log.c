#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "sa.h"
#include "test.h"

/* run fn in a child with stderr captured; returns the exit status */
static int capture(void (*fn)(void), sa_t *out)
{
	int p[2], st;
	char buf[4096];
	ssize_t r;
	pid_t pid;

	sa_trunc(out, 0);
	if (pipe(p) < 0)
		return -1;
	fflush(stdout); /* log_fatal's exit() would print our buffer again */
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		close(p[1]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while ((r = read(p[0], buf, sizeof buf)) > 0)
		sa_catb(out, buf, (size_t)r);
	close(p[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* 1 when s starts with an RFC 3339 time with milliseconds and an offset */
static int is_stamp(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddd+dd:dd";
	for (size_t i = 0; i < sizeof pat - 1; i++) {
		if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
		                  : pat[i] == '+' ? s[i] != '+' && s[i] != '-' : s[i] != pat[i])
			return 0;
	}
	return 1;
}

/* take the time off each line of out; -1 when a line has none */
static int strip_stamps(sa_t *out)
{
	sa_t o = SA_INIT;
	const char *p = out->s ? out->s : "";
	int bad = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (len < 30 || !is_stamp(p) || p[29] != ' ')
			bad = 1;
		else
			sa_catb(&o, p + 30, len - 30);
		p += len;
	}
	sa_trunc(out, 0);
	if (o.len)
		sa_catb(out, o.s, o.len);
	sa_free(&o);
	return bad ? -1 : 0;
}


static void do_basic(void)
{
	log_init("/usr/libexec/pochta-smtpd", LOG_DEST_STDERR);
	errno = EACCES;
	log_info("0ABC", "from=<%s> size=%d", "a@b", 12);
	if (errno != EACCES) /* logging keeps errno */
		log_info(NULL, "errno clobbered");
	log_info(NULL, "starting");
	log_warn(NULL, "odd thing");
	log_warn("Q1", "x=%s", "y");
}

static void test_basic(void)
{
	sa_t out = SA_INIT;
	sa_t want = SA_INIT;
	int st = capture(do_basic, &out);
	T_INTEQ(strip_stamps(&out), 0);
	long pid;
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT(out.s != NULL);
	/* the pid is the child's; take it from the first line */
	pid = strtol(out.s ? out.s + strlen("pochta-smtpd[") : "0", NULL, 10);
	T_ASSERT(pid > 0);
	sa_catf(&want, "pochta-smtpd[%ld]: 0ABC from=<a@b> size=12\n"
		"pochta-smtpd[%ld]: starting\n"
		"pochta-smtpd[%ld]: warning: odd thing\n"
		"pochta-smtpd[%ld]: Q1 warning: x=y\n", pid, pid, pid, pid);
	T_STREQ(out.s, want.s);
	sa_free(&out);
	sa_free(&want);
}

static void do_control(void)
{
	log_init("t", LOG_DEST_STDERR);
	log_info("Q\n2", "helo=%s", "evil\r\nt[1]: forged\x7f\x01 ok \xc3\xa9");
}

static void test_control_chars(void)
{
	sa_t out = SA_INIT;
	const char *p;
	int st = capture(do_control, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* exactly one line; CR, LF, DEL and ^A replaced; UTF-8 kept */
	p = out.s ? strchr(out.s, ' ') : NULL;
	T_ASSERT(p != NULL);
	T_STREQ(p, " Q?2 helo=evil??t[1]: forged?? ok \xc3\xa9\n");
	T_ASSERT(out.s && strchr(out.s, '\n') == out.s + out.len - 1);
	sa_free(&out);
}

static void do_c1(void)
{
	log_init("t", LOG_DEST_STDERR);
	/* 8-bit CSI, NEL, lone continuation bytes, UTF-8 C1 (U+009B, U+0085),
	 * bad lead bytes, an overlong, a surrogate; then good UTF-8 of 2, 3 and 4
	 * bytes whose continuation bytes lie in 0x80..0x9f (must stay) */
	log_info(NULL, "r=%s|%s|%s", "a\x9b[31mb\x85" "c\x80\xbf",
	         "\xc2\x9b[2J\xc2\x85\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xff\xc3",
	         "\xd0\x9f\xd1\x80 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
}

static void test_c1_controls(void)
{
	sa_t out = SA_INIT;
	const char *p;
	int st = capture(do_c1, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	p = out.s ? strchr(out.s, ' ') : NULL;
	T_ASSERT(p != NULL);
	T_STREQ(p, " r=a?[31mb?c??|?[2J???????????|"
	        "\xd0\x9f\xd1\x80 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0\n");
	sa_free(&out);
}

static void do_cut_utf8(void)
{
	static char big[3000];
	size_t i;
	log_init("t", LOG_DEST_STDERR);
	for (i = 0; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xd0\x9f", 2); /* a 2-byte letter, over and over */
	log_info(NULL, "x%s", big);
}

static void test_cut_keeps_utf8_whole(void)
{
	sa_t out = SA_INIT;
	const char *p, *end;
	int st = capture(do_cut_utf8, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	p = out.s ? strstr(out.s, ": x") : NULL;
	T_ASSERT(p != NULL);
	end = out.s ? out.s + out.len : NULL;
	T_ASSERT(end && end - out.s <= 2001);
	T_ASSERT(end && end - 4 > p && memcmp(end - 4, "...\n", 4) == 0);
	if (p && end) {
		/* whole letters only up to the "..." */
		p += 3;
		T_ASSERT((end - 4 - p) % 2 == 0);
		for (; p < end - 4; p += 2)
			if (memcmp(p, "\xd0\x9f", 2) != 0)
				break;
		T_ASSERT(p == end - 4);
	}
	sa_free(&out);
}

static void do_long(void)
{
	static char big[10000];
	memset(big, 'a', sizeof big - 1);
	log_init("t", LOG_DEST_STDERR);
	log_info(NULL, "v=%s", big);
	log_info(NULL, "after");
}

static void test_line_cap(void)
{
	sa_t out = SA_INIT;
	char *nl;
	int st = capture(do_long, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	nl = out.s ? strchr(out.s, '\n') : NULL;
	T_ASSERT(nl != NULL);
	if (nl) {
		T_ASSERT(nl - out.s <= 2000);
		T_ASSERT(nl - out.s >= 1900);
		T_ASSERT(memcmp(nl - 3, "...", 3) == 0);
		T_ASSERT(strstr(nl + 1, "]: after\n") != NULL);
	}
	sa_free(&out);
}

static void do_fatal(void)
{
	log_init("t", LOG_DEST_STDERR);
	log_fatal("cannot open %s", "queue");
}

static void test_fatal(void)
{
	sa_t out = SA_INIT;
	int st = capture(do_fatal, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st));
	T_INTEQ(WEXITSTATUS(st), 111);
	T_ASSERT(out.s && strstr(out.s, "]: fatal: cannot open queue\n") != NULL);
	sa_free(&out);
}

static void do_auto_stderr(void)
{
	setenv("POCHTA_LOG", "stderr", 1);
	log_init("autoprog", LOG_DEST_AUTO);
	log_info(NULL, "hello");
}

static void do_auto_syslog(void)
{
	unsetenv("POCHTA_LOG");
	log_init("autoprog", LOG_DEST_AUTO);
	log_info(NULL, "hello");
}

static void do_uninit_stderr(void)
{
	setenv("POCHTA_LOG", "stderr", 1);
	log_warn(NULL, "no init");
}

static void test_auto(void)
{
	sa_t out = SA_INIT;
	int st = capture(do_auto_stderr, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT(out.s && strncmp(out.s, "autoprog[", 9) == 0 && strstr(out.s, "]: hello\n"));
	/* syslog: nothing on stderr */
	st = capture(do_auto_syslog, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_INTEQ(out.len, 0);
	/* logging before log_init works, with a default name */
	st = capture(do_uninit_stderr, &out);
	T_INTEQ(strip_stamps(&out), 0);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_ASSERT(out.s && strstr(out.s, "]: warning: no init\n"));
	sa_free(&out);
}

static void do_json(void)
{
	setenv("POCHTA_LOG", "stderr", 1);
	log_init("t", LOG_DEST_AUTO);
	T_INTEQ(log_configure("stderr", "json", "/nonexistent"), 0);
	const struct log_field f[] = { { "from", "<a b@c>" }, { "to", "<d@e>\r\n" }, { "helo", "<h\"x>" } };
	log_info_fields("Q1", f, 3, "reject: 550 \"q\\ <x y>: bad\x01 \xc3\xa9;");
	log_info(NULL, "plain");
}

static void test_json(void)
{
	sa_t out = SA_INIT, want = SA_INIT;
	int st = capture(do_json, &out);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	const char *p = out.s ? out.s : "";
	T_ASSERT(strncmp(p, "{\"time\":\"", 9) == 0 && is_stamp(p + 9));
	T_ASSERT(strncmp(p + 9 + 29, "\",\"program\":\"t\",\"pid\":", 22) == 0);
	long pid = strtol(p + 9 + 29 + 22, NULL, 10);
	const char *rest = strchr(p + 9 + 29 + 22, ',');
	sa_catf(&want, ",\"level\":\"info\",\"qid\":\"Q1\",\"message\":\"reject: 550 \\\"q\\\\ <x y>: "
	        "bad? \xc3\xa9; from=<a b@c> to=<d@e>?? helo=<h\\\"x>\","
	        "\"from\":\"<a b@c>\",\"to\":\"<d@e>??\",\"helo\":\"<h\\\"x>\"}\n"
	        "{\"time\":\"");
	T_ASSERT(pid > 0);
	T_ASSERT(rest && strncmp(rest, want.s, want.len) == 0);
	if (rest && strncmp(rest, want.s, want.len) != 0)
		fprintf(stderr, "got:  %s\nwant: %s\n", rest, want.s);
	T_ASSERT(strstr(p, ",\"level\":\"info\",\"message\":\"plain\"}\n") != NULL);
	sa_free(&out);
	sa_free(&want);
}

static void do_json_long(void)
{
	static char big[6000];
	memset(big, '"', sizeof big - 1);
	log_init("t", LOG_DEST_STDERR);
	log_configure(NULL, "json", NULL);
	log_info(NULL, "v=%s", big);
}

static void test_json_cut(void)
{
	sa_t out = SA_INIT;
	int st = capture(do_json_long, &out);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* one line, bounded, still closed: "...", the quote and the brace */
	T_ASSERT(out.len > 1000 && out.len <= LOG_LINE_MAX);
	T_ASSERT(out.s && strchr(out.s, '\n') == out.s + out.len - 1);
	T_ASSERT(out.len > 6 && memcmp(out.s + out.len - 6, "...\"}\n", 6) == 0);
	sa_free(&out);
}

static char file_dir[64];

static int read_whole(sa_t *out, const char *path)
{
	char buf[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY);
	sa_trunc(out, 0);
	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		sa_catb(out, buf, (size_t)r);
	close(fd);
	return r < 0 ? -1 : 0;
}

static void do_file(void)
{
	log_init("t", LOG_DEST_STDERR);
	unsetenv("POCHTA_LOG");
	T_INTEQ(log_configure("file", "text", file_dir), 0);
	log_info("Q", "one");
	char a[128], b[128];
	snprintf(a, sizeof a, "%s/pochta.log", file_dir);
	snprintf(b, sizeof b, "%s/pochta.log.1", file_dir);
	rename(a, b);
	log_info(NULL, "two"); /* still the renamed file */
	log_reopen();
	log_info(NULL, "three");
}

static void test_file(void)
{
	sa_t out = SA_INIT, f = SA_INIT;
	char path[128];
	snprintf(file_dir, sizeof file_dir, "/tmp/test_log.XXXXXX");
	T_ASSERT(mkdtemp(file_dir) != NULL);
	int st = capture(do_file, &out);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	T_INTEQ(out.len, 0); /* nothing on stderr */
	snprintf(path, sizeof path, "%s/pochta.log.1", file_dir);
	T_INTEQ(read_whole(&f, path), 0);
	T_INTEQ(strip_stamps(&f), 0);
	T_ASSERT(f.s && strstr(f.s, "]: Q one\n") && strstr(f.s, "]: two\n") && !strstr(f.s, "three"));
	unlink(path);
	snprintf(path, sizeof path, "%s/pochta.log", file_dir);
	T_INTEQ(read_whole(&f, path), 0);
	T_INTEQ(strip_stamps(&f), 0);
	T_ASSERT(f.s && strncmp(f.s, "t[", 2) == 0 && strstr(f.s, "]: three\n") && !strstr(f.s, "two"));
	unlink(path);
	rmdir(file_dir);
	sa_free(&out);
	sa_free(&f);
}

int main(void)
{
	T_RUN(test_basic);
	T_RUN(test_control_chars);
	T_RUN(test_c1_controls);
	T_RUN(test_cut_keeps_utf8_whole);
	T_RUN(test_line_cap);
	T_RUN(test_fatal);
	T_RUN(test_auto);
	T_RUN(test_json);
	T_RUN(test_json_cut);
	T_RUN(test_file);
	return t_done();
}
