/* qdir: create the queue directories; wake the queue manager. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dir.h"
#include "gcommit.h"
#include "qdir.h"
#include "sa.h"

/* mkdir -p: missing parents 0755, the queue itself 0700 */
static int qdir_mkdir_p(sa_t *p)
{
	size_t i;

	for (i = 1; i < p->len; i++) {
		if (p->s[i] != '/' || p->s[i - 1] == '/')
			continue;
		p->s[i] = '\0';
		if (dir_make(p->s, 0755) < 0) {
			p->s[i] = '/';
			return -1;
		}
		p->s[i] = '/';
	}
	return dir_make(p->s, 0700);
}

int qdir_make(const char *queuedir)
{
	static const char *const sub[] = { "tmp", "incoming", "mess", "state", "hold" };
	sa_t p = SA_INIT;
	struct stat st;
	size_t i, base;
	int e;

	if (sa_copys(&p, queuedir) < 0)
		return -1;
	while (p.len > 1 && p.s[p.len - 1] == '/')
		sa_trunc(&p, p.len - 1);
	if (p.len == 0) {
		errno = EINVAL;
		goto fail;
	}
	if (qdir_mkdir_p(&p) < 0 || sa_catc(&p, '/') < 0)
		goto fail;
	base = p.len;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		sa_trunc(&p, base);
		if (sa_cats(&p, sub[i]) < 0 || dir_make(p.s, 0700) < 0)
			goto fail;
	}
	sa_trunc(&p, base);
	if (sa_cats(&p, "trigger") < 0)
		goto fail;
	if (mkfifo(p.s, 0600) < 0) {
		if (errno != EEXIST || lstat(p.s, &st) < 0)
			goto fail;
		if (!S_ISFIFO(st.st_mode)) {
			errno = EEXIST;
			goto fail;
		}
	}
	/* pochta-enqueue's shared sync of incoming/; a damaged one is rewritten */
	sa_trunc(&p, base);
	if (sa_cats(&p, "commit") < 0 || gcommit_make(p.s) < 0)
		goto fail;
	sa_free(&p);
	return 0;
fail:
	e = errno;
	sa_free(&p);
	errno = e;
	return -1;
}

/* write buf (at most PIPE_BUF: all or nothing) without dying of SIGPIPE when
 * the reader just went away */
static ssize_t qdir_write_buf(int fd, const char *buf, size_t len)
{
	sigset_t pipe_set, old;
	struct timespec zero = { 0, 0 };
	int was_pending, e;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &pipe_set, &old) < 0)
		return -1;
	{
		sigset_t pend;
		sigpending(&pend);
		was_pending = sigismember(&pend, SIGPIPE) == 1;
	}
	do
		w = write(fd, buf, len);
	while (w < 0 && errno == EINTR);
	e = errno;
	if (w < 0 && e == EPIPE && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

int qdir_trigger(const char *queuedir, char what)
{
	if (qdir_wake(queuedir, what) < 0 && errno != ENXIO && errno != ENOENT)
		return -1;
	return 0;
}

/* one write of buf[0..len) to the FIFO; tries: how many times a full FIFO
 * is tried again (10 ms apart) before EAGAIN */
static int qdir_send(const char *queuedir, const char *buf, size_t len, int tries)
{
	sa_t p = SA_INIT;
	struct stat st;
	int fd, e;
	ssize_t w;

	if (sa_copys(&p, queuedir) < 0 || sa_cats(&p, "/trigger") < 0) {
		e = errno;
		sa_free(&p);
		errno = e;
		return -1;
	}
	do
		fd = open(p.s, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	while (fd < 0 && errno == EINTR);
	e = errno;
	sa_free(&p);
	if (fd < 0) {
		/* ENXIO: no reader, the manager is not running */
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		e = fstat(fd, &st) < 0 ? errno : EINVAL;
		close(fd);
		errno = e;
		return -1;
	}
	for (;;) {
		struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
		w = qdir_write_buf(fd, buf, len);
		e = errno;
		if (w >= 0 || (e != EAGAIN && e != EWOULDBLOCK) || tries-- <= 0)
			break;
		nanosleep(&ten_ms, NULL);
	}
	close(fd);
	if (w < 0) {
		errno = e == EPIPE ? ENXIO : e;
		return -1;
	}
	return 0;
}

int qdir_wake(const char *queuedir, char what)
{
	/* a full FIFO holds wake-ups already: this one is not needed */
	if (qdir_send(queuedir, &what, 1, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	return 0;
}

int qdir_domain_ok(const char *s, size_t len)
{
	if (len == 0 || len > QDIR_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']'))
			return 0;
	}
	return 1;
}

int qdir_wake_domain(const char *queuedir, const char *domain)
{
	char rec[QDIR_DOMAIN_MAX + 2];
	size_t n = strlen(domain);

	if (!qdir_domain_ok(domain, n)) {
		errno = EINVAL;
		return -1;
	}
	rec[0] = QDIR_WAKE_DOMAIN;
	memcpy(rec + 1, domain, n);
	rec[n + 1] = '\n';
	/* unlike a lone wake-up byte, this one says something new: it must get in */
	return qdir_send(queuedir, rec, n + 2, 200);
}

void qdir_trig_feed(struct qdir_trig *t, const char *buf, size_t n,
                    void (*fn)(char what, const char *domain, void *arg), void *arg)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (t->in_domain) {
			if (c != '\n') {
				if (t->len < QDIR_DOMAIN_MAX)
					t->domain[t->len++] = c;
				else
					t->bad = 1;
				continue;
			}
			t->domain[t->len] = '\0';
			fn(QDIR_WAKE_DOMAIN, t->bad || !qdir_domain_ok(t->domain, t->len) ? NULL : t->domain,
			   arg);
			t->in_domain = t->bad = 0;
			t->len = 0;
		} else if (c == QDIR_WAKE_DOMAIN) {
			t->in_domain = 1;
			t->bad = 0;
			t->len = 0;
		} else if (c == QDIR_WAKE_FLUSH || c == QDIR_WAKE_RESCAN) {
			fn(c, NULL, arg);
		} else {
			fn(QDIR_WAKE_NEW, NULL, arg);
		}
	}
}
