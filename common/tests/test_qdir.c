#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gcommit.h"
#include "qdir.h"
#include "test.h"

static char base[64];

static int kind(const char *q, const char *sub, mode_t *mode)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", q, sub);
	if (lstat(p, &st) < 0)
		return -1;
	if (mode)
		*mode = st.st_mode & 07777;
	return S_ISDIR(st.st_mode) ? 'd' : S_ISFIFO(st.st_mode) ? 'p' : 'f';
}

static void test_make(void)
{
	char q[128];
	mode_t m = 0;
	static const char *const subs[] = { "tmp", "incoming", "mess", "state", "hold" };
	size_t i;

	snprintf(q, sizeof q, "%s/a/b/queue/", base); /* parents are created */
	T_ASSERT(qdir_make(q) == 0);
	snprintf(q, sizeof q, "%s/a/b/queue", base);
	T_INTEQ(kind(q, ".", &m), 'd');
	T_INTEQ(m, 0700);
	for (i = 0; i < 5; i++) {
		T_INTEQ(kind(q, subs[i], &m), 'd');
		T_INTEQ(m, 0700);
	}
	T_INTEQ(kind(q, "trigger", &m), 'p');
	T_INTEQ(m, 0600);
	T_INTEQ(kind(q, "commit", &m), 'f');
	T_INTEQ(m, 0600);
	T_ASSERT(qdir_make(q) == 0); /* idempotent */

	/* a damaged commit file is rewritten, its mode kept */
	char cp[256];
	snprintf(cp, sizeof cp, "%s/commit", q);
	T_ASSERT(truncate(cp, 10) == 0 && chmod(cp, 0660) == 0);
	T_ASSERT(gcommit_check(cp) == -1);
	T_ASSERT(qdir_make(q) == 0);
	T_INTEQ(gcommit_check(cp), 0);
	T_INTEQ(kind(q, "commit", &m), 'f');
	T_INTEQ(m, 0660);

	/* a regular file where the FIFO belongs is an error */
	char p[256];
	snprintf(p, sizeof p, "%s/trigger", q);
	T_ASSERT(unlink(p) == 0);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	errno = 0;
	T_ASSERT(qdir_make(q) == -1);
	T_INTEQ(errno, EEXIST);
	T_ASSERT(unlink(p) == 0);
	/* a file where a directory belongs */
	snprintf(p, sizeof p, "%s/hold", q);
	T_ASSERT(rmdir(p) == 0);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	errno = 0;
	T_ASSERT(qdir_make(q) == -1);
	T_INTEQ(errno, ENOTDIR);
	T_ASSERT(qdir_make("") == -1);
}

static void test_trigger(void)
{
	char q[128], p[256], c[4];
	int rfd;

	snprintf(q, sizeof q, "%s/q2", base);
	T_ASSERT(qdir_make(q) == 0);
	/* no reader: not an error, nothing blocks; qdir_wake says so */
	T_ASSERT(qdir_trigger(q, QDIR_WAKE_NEW) == 0);
	errno = 0;
	T_ASSERT(qdir_wake(q, QDIR_WAKE_FLUSH) == -1);
	T_INTEQ(errno, ENXIO);
	/* with a reader the byte arrives */
	snprintf(p, sizeof p, "%s/trigger", q);
	rfd = open(p, O_RDONLY | O_NONBLOCK);
	T_ASSERT(rfd >= 0);
	T_ASSERT(qdir_trigger(q, QDIR_WAKE_NEW) == 0);
	T_ASSERT(qdir_wake(q, QDIR_WAKE_FLUSH) == 0);
	T_INTEQ(read(rfd, c, sizeof c), 2);
	T_ASSERT(c[0] == 'n' && c[1] == 'f');
	/* a full FIFO is not an error either (shrunk to one page to fill fast) */
	int i, bad = 0;
	T_ASSERT(fcntl(rfd, F_SETPIPE_SZ, 4096) > 0);
	for (i = 0; i < 5000; i++)
		if (qdir_trigger(q, QDIR_WAKE_RESCAN) != 0)
			bad++;
	T_INTEQ(bad, 0);
	close(rfd);
	/* no queue at all: the manager is not there, fine */
	snprintf(p, sizeof p, "%s/none", base);
	T_ASSERT(qdir_trigger(p, QDIR_WAKE_NEW) == 0);
	T_ASSERT(qdir_wake(p, QDIR_WAKE_NEW) == -1 && errno == ENOENT);
	/* a regular file in place of the FIFO is unexpected */
	snprintf(p, sizeof p, "%s/trigger", q);
	T_ASSERT(unlink(p) == 0);
	int fd = open(p, O_WRONLY | O_CREAT, 0600);
	close(fd);
	T_ASSERT(qdir_trigger(q, QDIR_WAKE_NEW) == -1);
	struct stat st;
	T_ASSERT(stat(p, &st) == 0 && st.st_size == 0);
}

static void test_wake_domain(void)
{
	char q[128], p[256], buf[600];
	int rfd;

	snprintf(q, sizeof q, "%s/q3", base);
	T_ASSERT(qdir_make(q) == 0);
	errno = 0;
	T_ASSERT(qdir_wake_domain(q, "example.org") == -1 && errno == ENXIO);
	snprintf(p, sizeof p, "%s/trigger", q);
	rfd = open(p, O_RDONLY | O_NONBLOCK);
	T_ASSERT(rfd >= 0);
	T_ASSERT(qdir_wake_domain(q, "Example.ORG") == 0);
	T_ASSERT(qdir_wake_domain(q, "[192.0.2.1]") == 0);
	T_INTEQ(read(rfd, buf, sizeof buf), 26);
	T_ASSERT(memcmp(buf, "dExample.ORG\nd[192.0.2.1]\n", 26) == 0);
	/* nothing that could break the record or the log line */
	static const char *const bad[] = { "", "a b", "a\nb", "a@b", "a/b", "a\"b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		T_ASSERT(qdir_wake_domain(q, bad[i]) == -1 && errno == EINVAL);
	}
	memset(buf, 'a', 256);
	buf[256] = '\0';
	T_ASSERT(qdir_wake_domain(q, buf) == -1 && errno == EINVAL);
	buf[255] = '\0';
	T_ASSERT(qdir_wake_domain(q, buf) == 0);
	T_INTEQ(read(rfd, buf, sizeof buf), 257);
	/* a FIFO that stays full: the record is refused whole, never cut */
	T_ASSERT(fcntl(rfd, F_SETPIPE_SZ, 4096) > 0);
	memset(buf, 'b', 100);
	buf[100] = '\0';
	int sent = 0, r;
	while ((r = qdir_wake_domain(q, buf)) == 0 && sent < 1000)
		sent++;
	T_ASSERT(r == -1 && errno == EAGAIN);
	T_ASSERT(sent > 0 && sent < 1000);
	char all[8192];
	ssize_t got = read(rfd, all, sizeof all);
	T_INTEQ(got, sent * 102);
	for (int i = 0; i < sent; i++)
		T_ASSERT(all[i * 102] == 'd' && all[i * 102 + 101] == '\n');
	close(rfd);
}

struct got {
	char what[16];
	char dom[16][QDIR_DOMAIN_MAX + 1];
	int n;
};

static void got_one(char what, const char *domain, void *arg)
{
	struct got *g = arg;
	if (g->n >= 16)
		return;
	g->what[g->n] = what;
	snprintf(g->dom[g->n], sizeof g->dom[g->n], "%s", domain ? domain : "(bad)");
	g->n++;
}

static void test_trig_feed(void)
{
	struct qdir_trig t = QDIR_TRIG_INIT;
	struct got g;
	const char *in = "nfrx" "dexample.org\n" "d\n" "da b\n" "dok.test\n";
	size_t len = strlen(in);

	/* any split of the stream gives the same wake-ups */
	for (size_t cut = 0; cut <= len; cut++) {
		memset(&g, 0, sizeof g);
		memset(&t, 0, sizeof t);
		qdir_trig_feed(&t, in, cut, got_one, &g);
		qdir_trig_feed(&t, in + cut, len - cut, got_one, &g);
		T_INTEQ(g.n, 8);
		T_ASSERT(memcmp(g.what, "nfrndddd", 8) == 0);
		T_STREQ(g.dom[4], "example.org");
		T_STREQ(g.dom[5], "(bad)");
		T_STREQ(g.dom[6], "(bad)");
		T_STREQ(g.dom[7], "ok.test");
	}
	/* a record too long is dropped, and the next one is read */
	char big[700];
	memset(&g, 0, sizeof g);
	memset(&t, 0, sizeof t);
	big[0] = 'd';
	memset(big + 1, 'a', 600);
	memcpy(big + 601, "\ndz\n", 4);
	qdir_trig_feed(&t, big, 605, got_one, &g);
	T_INTEQ(g.n, 2);
	T_STREQ(g.dom[0], "(bad)");
	T_STREQ(g.dom[1], "z");
}

int main(void)
{
	char cmd[128];
	snprintf(base, sizeof base, "/tmp/test_qdir.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	umask(022);
	T_RUN(test_make);
	T_RUN(test_trigger);
	T_RUN(test_wake_domain);
	T_RUN(test_trig_feed);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
