/* qmgr_remote: the remote delivery workers of pochta-qmgr. Up to
 * delivery_concurrency long-lived `pochta-remote -w` processes, each on its
 * own AF_UNIX packet socket: a request is a batch (one message, one
 * destination, up to 100 recipients; common/rreq.h) with the message as a
 * descriptor, a reply one dresult record per recipient and, when the worker
 * keeps its SMTP connection, the domain it leads to. A batch goes to the idle
 * worker that holds a connection to its domain when there is one. Workers are
 * replaced after worker_max_use batches and stopped after worker_idle_timeout
 * seconds without work, by closing their socket between requests; one that
 * dies with a batch leaves its recipients temporary failures
 * (qmgr_deliver.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "lreq.h"
#include "paths.h"
#include "qmgr.h"
#include "rreq.h"

struct rworker {
	pid_t pid;                 /* 0: free entry */
	int sock;                  /* -1: died or retired, waits to be reaped */
	unsigned long uses;
	long long idle_since;
	void *slot;                /* the batch it works on; NULL: idle */
	char kept[RREQ_DOMAIN_MAX + 1]; /* the domain of its kept connection, "" none */
	long long kept_until;
};

static struct rworker *rw;
static size_t rw_max;
static char *rbuf;             /* a reply */

int remotew_init(size_t max)
{
	/* as the local workers: max alive, the rest of the table for dead ones */
	rw = calloc(2 * max, sizeof *rw);
	rbuf = malloc(RREQ_REPLY_MAX);
	if (!rw || !rbuf)
		return -1;
	rw_max = 2 * max;
	for (size_t i = 0; i < rw_max; i++)
		rw[i].sock = -1;
	return 0;
}

static void entry_free(struct rworker *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	w->pid = 0;
	w->slot = NULL;
	w->kept[0] = '\0';
}

/* close an idle worker's socket: it closes its connection with QUIT and
 * exits, and is reaped */
static void retire(struct rworker *w, const char *why)
{
	log_info(NULL, "remote worker pid=%ld %s after %lu batches", (long)w->pid, why, w->uses);
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
}

static struct rworker *spawn(void)
{
	struct rworker *w = NULL;
	int sv[2], sz = RREQ_MAX + 4096;
	pid_t pid;

	for (size_t i = 0; i < rw_max; i++)
		if (!rw[i].pid) {
			w = &rw[i];
			break;
		}
	if (!w) {
		errno = EAGAIN;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return NULL;
	/* a batch and its reply are up to about 100 KiB, one packet each */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return NULL;
	}
	if (pid == 0) {
		char *argv[] = { (char *)"pochta-remote", (char *)"-w", NULL };
		if (dup2(sv[1], 0) < 0)
			_exit(111);
		deliver_child_signals();
		execv(paths_prog("pochta-remote"), argv);
		_exit(111);
	}
	close(sv[1]);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->sock = sv[0];
	w->uses = 0;
	w->idle_since = Q.now;
	w->slot = NULL;
	w->kept[0] = '\0';
	log_info(NULL, "remote worker pid=%ld started", (long)pid);
	return w;
}

static int idle(const struct rworker *w)
{
	return w->pid && w->sock >= 0 && !w->slot;
}

/* the idle worker with a connection to the domain; else an idle one without
 * a connection; else a new one while fewer than delivery_concurrency live;
 * else the idle one used last (its connection is closed for this batch) */
static struct rworker *pick(const struct dest *d)
{
	struct rworker *bare = NULL, *any = NULL;
	size_t live = 0;

	for (size_t i = 0; i < rw_max; i++) {
		struct rworker *w = &rw[i];
		if (w->pid && w->sock >= 0)
			live++;
		if (!idle(w))
			continue;
		if (w->kept[0] && w->kept_until >= Q.now && strcasecmp(w->kept, d->name) == 0)
			return w;
		if (!w->kept[0] || w->kept_until < Q.now) {
			if (!bare || w->idle_since >= bare->idle_since)
				bare = w;
		} else if (!any || w->idle_since >= any->idle_since) {
			any = w;
		}
	}
	if (bare)
		return bare;
	if (live < (size_t)Q.conf.delivery_concurrency || !any)
		return spawn();
	return any;
}

pid_t remotew_start(struct msg *m, struct dest *d, const size_t *idx, size_t n, void *slot)
{
	const char *rcpt[RREQ_RCPT_MAX];
	sa_t req = SA_INIT;
	int msgfd = -1, e;

	if (n > RREQ_RCPT_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		rcpt[i] = m->rcpt[idx[i]].addr;
	if (rreq_build(&req, m->qid, m->sender, m->body, d->name, rcpt, n) < 0)
		return -1;
	msgfd = open(msg_path("mess", m->qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (msgfd < 0 || lseek(msgfd, (off_t)m->msg_off, SEEK_SET) < 0)
		goto fail;
	/* a worker that died while idle is noticed here: try the next one */
	for (int tries = 0; tries < 3; tries++) {
		struct rworker *w = pick(d);
		if (!w)
			goto fail;
		if (lreq_send(w->sock, req.s, req.len, msgfd) == 0) {
			close(msgfd);
			sa_free(&req);
			w->slot = slot;
			w->uses++;
			w->kept[0] = '\0'; /* its reply tells */
			return w->pid;
		}
		log_warn(m->qid, "remote worker pid=%ld: cannot send a request: %s", (long)w->pid,
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

size_t remotew_pollfds(struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rw_max && n < max; i++)
		if (rw[i].pid && rw[i].sock >= 0) {
			p[n].fd = rw[i].sock;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	return n;
}

/* read what the worker sent: its reply, or its end */
static void drain(struct rworker *w)
{
	while (w->sock >= 0) {
		int fd;
		ssize_t n = lreq_recv(w->sock, rbuf, RREQ_REPLY_MAX, &fd);
		if (fd >= 0)
			close(fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n > 0 && w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			w->idle_since = Q.now;
			if (!rreq_kept(rbuf, (size_t)n, w->kept, sizeof w->kept))
				w->kept[0] = '\0';
			w->kept_until = Q.now + Q.conf.remote_connection_cache_time;
			deliver_local_result(slot, rbuf, (size_t)n, 0);
			if (w->uses >= (unsigned long long)Q.conf.worker_max_use)
				retire(w, "replaced");
			continue;
		}
		if (n > 0) {
			log_warn(NULL, "remote worker pid=%ld: reply without a request", (long)w->pid);
			continue;
		}
		/* EOF or an error: the worker is gone; reaped (and its batch settled) later */
		close(w->sock);
		w->sock = -1;
	}
}

int remotew_event(int fd)
{
	for (size_t i = 0; i < rw_max; i++)
		if (rw[i].pid && rw[i].sock == fd) {
			drain(&rw[i]);
			return 1;
		}
	return 0;
}

int remotew_reaped(pid_t pid, int st)
{
	for (size_t i = 0; i < rw_max; i++) {
		struct rworker *w = &rw[i];
		if (w->pid != pid)
			continue;
		drain(w); /* a reply sent before it ended still counts */
		if (w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			deliver_local_result(slot, NULL, 0, st);
		}
		if (WIFSIGNALED(st))
			log_warn(NULL, "remote worker pid=%ld killed by signal %d", (long)pid, WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn(NULL, "remote worker pid=%ld exited %d", (long)pid, WEXITSTATUS(st));
		entry_free(w);
		return 1;
	}
	return 0;
}

long long remotew_timeouts(void)
{
	long long next = -1;

	for (size_t i = 0; i < rw_max; i++) {
		struct rworker *w = &rw[i];
		long long ms;
		if (!idle(w))
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

void remotew_stop_all(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (size_t i = 0; i < rw_max; i++)
		if (rw[i].pid && rw[i].sock >= 0) {
			close(rw[i].sock); /* an idle worker QUITs and exits on EOF */
			rw[i].sock = -1;
		}
	/* up to QMGR_STOP_WAIT seconds, then SIGKILL */
	for (int t = 0; t <= QMGR_STOP_WAIT * 100; t++) {
		int left = 0;
		for (size_t i = 0; i < rw_max; i++) {
			pid_t r;
			if (!rw[i].pid)
				continue;
			if (t == QMGR_STOP_WAIT * 100)
				kill(rw[i].pid, SIGKILL);
			r = waitpid(rw[i].pid, NULL, t == QMGR_STOP_WAIT * 100 ? 0 : WNOHANG);
			if (r == rw[i].pid || (r < 0 && errno != EINTR))
				rw[i].pid = 0;
			else
				left++;
		}
		if (!left)
			break;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < rw_max; i++)
		entry_free(&rw[i]);
}

void remotew_free(void)
{
	free(rw);
	free(rbuf);
	rw = NULL;
	rbuf = NULL;
	rw_max = 0;
}
