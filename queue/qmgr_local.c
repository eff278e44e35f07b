/* qmgr_local: the local delivery workers of pochta-qmgr. Up to
 * delivery_concurrency long-lived `pochta-local -w` processes, each on its own
 * AF_UNIX packet socket (common/lreq.h): a request carries one recipient and
 * the message as a descriptor (mess/QID opened here and positioned at the
 * message), a reply one dresult record. A worker is replaced after
 * worker_max_use deliveries and stopped after worker_idle_timeout seconds
 * without work, both by closing its socket between requests, so no request is
 * ever sent to a worker that is leaving. A worker that dies with a request
 * leaves its recipient a temporary failure (qmgr_deliver.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "lreq.h"
#include "paths.h"
#include "qmgr.h"

struct lworker {
	pid_t pid;                 /* 0: free entry */
	int sock;                  /* -1: died, waits to be reaped */
	unsigned long uses;
	long long idle_since;
	void *slot;                /* the delivery it works on; NULL: idle */
};

static struct lworker *lw;
static size_t lw_max;

int localw_init(size_t max)
{
	/* at most max are alive (one per delivery slot: a worker is started
	 * only when every live one is busy); the rest of the table holds dead
	 * ones until they are reaped */
	lw = calloc(2 * max, sizeof *lw);
	if (!lw)
		return -1;
	lw_max = 2 * max;
	for (size_t i = 0; i < lw_max; i++)
		lw[i].sock = -1;
	return 0;
}

static void entry_free(struct lworker *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	w->pid = 0;
	w->slot = NULL;
}

/* close an idle worker's socket: it exits, and is reaped as an unknown child */
static void retire(struct lworker *w, const char *why)
{
	log_info(NULL, "local worker pid=%ld %s after %lu deliveries", (long)w->pid, why, w->uses);
	entry_free(w);
}

static struct lworker *spawn(void)
{
	struct lworker *w = NULL;
	int sv[2];
	pid_t pid;

	for (size_t i = 0; i < lw_max; i++)
		if (!lw[i].pid) {
			w = &lw[i];
			break;
		}
	if (!w) {
		errno = EAGAIN;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return NULL;
	}
	if (pid == 0) {
		char *argv[] = { (char *)"pochta-local", (char *)"-w", NULL };
		if (dup2(sv[1], 0) < 0)
			_exit(111);
		deliver_child_signals();
		execv(paths_prog("pochta-local"), argv);
		_exit(111);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->sock = sv[0];
	w->uses = 0;
	w->idle_since = Q.now;
	w->slot = NULL;
	log_info(NULL, "local worker pid=%ld started", (long)pid);
	return w;
}

/* the idle worker used last (the others can idle out), else a new one */
static struct lworker *pick(void)
{
	struct lworker *w = NULL;

	for (size_t i = 0; i < lw_max; i++)
		if (lw[i].pid && lw[i].sock >= 0 && !lw[i].slot &&
		    (!w || lw[i].idle_since >= w->idle_since))
			w = &lw[i];
	return w ? w : spawn();
}

pid_t localw_start(struct msg *m, size_t idx, void *slot)
{
	sa_t req = SA_INIT;
	int msgfd, e;

	if (lreq_build(&req, m->qid, m->sender, m->rcpt[idx].addr) < 0)
		return -1;
	msgfd = open(msg_path("mess", m->qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (msgfd < 0 || lseek(msgfd, (off_t)m->msg_off, SEEK_SET) < 0)
		goto fail;
	/* a worker that died while idle is noticed here: try the next one */
	for (int tries = 0; tries < 3; tries++) {
		struct lworker *w = pick();
		if (!w)
			goto fail;
		if (lreq_send(w->sock, req.s, req.len, msgfd) == 0) {
			close(msgfd);
			sa_free(&req);
			w->slot = slot;
			w->uses++;
			return w->pid;
		}
		log_warn(m->qid, "local worker pid=%ld: cannot send a request: %s", (long)w->pid,
		         strerror(errno));
		close(w->sock);
		w->sock = -1; /* reaped later */
		if (errno != EPIPE && errno != ECONNRESET)
			goto fail;
	}
	errno = EAGAIN;
fail:
	e = errno;
	if (msgfd >= 0)
		close(msgfd);
	sa_free(&req);
	errno = e;
	return -1;
}

size_t localw_pollfds(struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < lw_max && n < max; i++)
		if (lw[i].pid && lw[i].sock >= 0) {
			p[n].fd = lw[i].sock;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	return n;
}

/* read what the worker sent: its reply, or its end */
static void drain(struct lworker *w)
{
	char buf[LREQ_REPLY_MAX];

	while (w->sock >= 0) {
		int fd;
		ssize_t n = lreq_recv(w->sock, buf, sizeof buf, &fd);
		if (fd >= 0)
			close(fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n > 0 && w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			w->idle_since = Q.now;
			deliver_local_result(slot, buf, (size_t)n, 0);
			if (w->uses >= (unsigned long long)Q.conf.worker_max_use)
				retire(w, "replaced");
			continue;
		}
		if (n > 0) {
			log_warn(NULL, "local worker pid=%ld: reply without a request", (long)w->pid);
			continue;
		}
		/* EOF or an error: the worker is gone; a busy one is settled when reaped */
		close(w->sock);
		w->sock = -1;
		if (!w->slot)
			entry_free(w);
	}
}

int localw_event(int fd)
{
	for (size_t i = 0; i < lw_max; i++)
		if (lw[i].pid && lw[i].sock == fd) {
			drain(&lw[i]);
			return 1;
		}
	return 0;
}

int localw_reaped(pid_t pid, int st)
{
	for (size_t i = 0; i < lw_max; i++) {
		struct lworker *w = &lw[i];
		if (w->pid != pid)
			continue;
		drain(w); /* a reply sent before it ended still counts */
		if (w->pid && w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			deliver_local_result(slot, NULL, 0, st);
		}
		if (WIFSIGNALED(st))
			log_warn(NULL, "local worker pid=%ld killed by signal %d", (long)pid, WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn(NULL, "local worker pid=%ld exited %d", (long)pid, WEXITSTATUS(st));
		entry_free(w);
		return 1;
	}
	return 0;
}

long long localw_timeouts(void)
{
	long long next = -1;

	for (size_t i = 0; i < lw_max; i++) {
		struct lworker *w = &lw[i];
		long long ms;
		if (!w->pid || w->sock < 0 || w->slot)
			continue;
		if (Q.now - w->idle_since >= Q.conf.worker_idle_timeout) {
			retire(w, "idle, stopped");
			continue;
		}
		ms = (w->idle_since + Q.conf.worker_idle_timeout - Q.now) * 1000;
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

void localw_stop_all(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int left = 0;

	for (size_t i = 0; i < lw_max; i++)
		if (lw[i].pid && lw[i].sock >= 0) {
			close(lw[i].sock); /* an idle worker exits on EOF */
			lw[i].sock = -1;
		}
	/* up to QMGR_STOP_WAIT seconds, then SIGKILL */
	for (int t = 0; t <= QMGR_STOP_WAIT * 100; t++) {
		left = 0;
		for (size_t i = 0; i < lw_max; i++) {
			pid_t r;
			if (!lw[i].pid)
				continue;
			if (t == QMGR_STOP_WAIT * 100)
				kill(lw[i].pid, SIGKILL);
			r = waitpid(lw[i].pid, NULL, t == QMGR_STOP_WAIT * 100 ? 0 : WNOHANG);
			if (r == lw[i].pid || (r < 0 && errno != EINTR))
				lw[i].pid = 0;
			else
				left++;
		}
		if (!left)
			break;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < lw_max; i++)
		entry_free(&lw[i]);
}

void localw_free(void)
{
	free(lw);
	lw = NULL;
	lw_max = 0;
}
