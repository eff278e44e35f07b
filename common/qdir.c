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

/* write one byte without dying of SIGPIPE when the reader just went away */
static ssize_t qdir_write_byte(int fd, char c)
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
		w = write(fd, &c, 1);
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

int qdir_wake(const char *queuedir, char what)
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
	w = qdir_write_byte(fd, what);
	e = errno;
	close(fd);
	/* EAGAIN: the FIFO is full of wake-ups already; EPIPE: the reader left */
	if (w < 0 && e != EAGAIN && e != EWOULDBLOCK) {
		errno = e == EPIPE ? ENXIO : e;
		return -1;
	}
	return 0;
}
