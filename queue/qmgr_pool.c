/* qmgr_pool: the long-lived delivery workers of pochta-qmgr (qmgr_pool.h).
 * Up to delivery_concurrency of a kind, each on its own AF_UNIX packet socket:
 * a request goes with the message as a descriptor (mess/QID opened here and
 * positioned at the message), a reply comes as one packet. A worker is
 * replaced after worker_max_use requests and stopped after
 * worker_idle_timeout seconds without work, both by closing its socket
 * between requests, so no request is ever sent to a worker that is leaving. A
 * worker that dies with a request leaves its recipients temporary failures
 * (qmgr_deliver.c).
 * Workers are our children, or, given the spawn channel (pochta-master
 * started as root: we run as qmgr_user and could not start them as their
 * users), the supervisor's: it starts them on request and passes our end of
 * each socket (common/spawnreq.h). Those we cannot wait for or signal: one
 * has ended when its socket reports EOF, and a hung one is killed by the
 * supervisor when asked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "lreq.h"
#include "paths.h"
#include "qmgr_pool.h"
#include "spawnreq.h"

#define SPAWN_WAIT_MS 5000 /* for the supervisor to start a worker */

static int chan = -1;            /* the spawn channel; -1: we start our workers */
static unsigned long chan_seq;   /* the last request number */

void qmgr_pool_channel(void)
{
	const char *e = getenv(SPAWNREQ_ENV);
	char *end;
	long v;
	int type = 0, dom = 0;
	socklen_t tl = sizeof type, dl = sizeof dom;
	struct stat st;

	if (!e)
		return;
	v = strtol(e, &end, 10);
	if (end == e || *end || v < 3 || v > 1023 || fstat((int)v, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    getsockopt((int)v, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET ||
	    getsockopt((int)v, SOL_SOCKET, SO_DOMAIN, &dom, &dl) < 0 || dom != AF_UNIX)
		log_fatal("%s=%.20s is not a spawn channel (pochta-master(8))", SPAWNREQ_ENV, e);
	chan = (int)v;
	/* not for the programs we run (pochta-enqueue for notices) */
	if (fcntl(chan, F_SETFD, FD_CLOEXEC) < 0 || fcntl(chan, F_SETFL, O_NONBLOCK) < 0)
		log_fatal("spawn channel: %s", strerror(errno));
	unsetenv(SPAWNREQ_ENV);
	log_info(NULL, "delivery workers are started by pochta-master");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ask the supervisor for a worker of p's kind: its pid with our end of its
 * socket in *sock, or -1 */
static pid_t chan_spawn(struct qmgr_pool *p, int *sock)
{
	char buf[SPAWNREQ_MAX + 1];
	unsigned long seq, pid;
	long long end = now_ms() + SPAWN_WAIT_MS;
	int len;

	chan_seq = chan_seq >= 4294967295UL ? 1 : chan_seq + 1;
	len = spawnreq_build(buf, sizeof buf, p->spawn_op, chan_seq);
	if (len < 0 || lreq_send(chan, buf, (size_t)len, -1) < 0) {
		log_warn(NULL, "spawn channel: cannot ask for a %s worker: %s", p->kind, strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd pf = { .fd = chan, .events = POLLIN };
		long long w = end - now_ms();
		int fd;
		ssize_t n;

		if (w <= 0 || poll(&pf, 1, (int)w) == 0) {
			log_warn(NULL, "spawn channel: no %s worker within %d ms", p->kind, SPAWN_WAIT_MS);
			errno = ETIMEDOUT;
			return -1;
		}
		n = lreq_recv(chan, buf, SPAWNREQ_MAX, &fd);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n == 0) {
			log_warn(NULL, "spawn channel closed: pochta-master is gone");
			errno = EPIPE;
			return -1;
		}
		if (n > 0 && spawnreq_reply_parse(buf, (size_t)n, &seq, &pid) == 0 && seq == chan_seq) {
			if (pid && fd >= 0) {
				*sock = fd;
				return (pid_t)pid;
			}
			if (fd >= 0)
				close(fd);
			log_warn(NULL, "spawn channel: pochta-master started no %s worker", p->kind);
			errno = EAGAIN;
			return -1;
		}
		/* a late reply to an earlier request (its worker sees EOF and
		 * exits), or a packet not of the protocol */
		if (fd >= 0)
			close(fd);
		if (n < 0 && errno != EMSGSIZE)
			return -1;
	}
}

/* fork and exec `PROG -w`, its end of a new socket pair on fd 0 */
static pid_t self_spawn(struct qmgr_pool *p, int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (p->sndbuf)
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &p->sndbuf, sizeof p->sndbuf);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { (char *)p->prog, (char *)"-w", NULL };
		if (dup2(sv[1], 0) < 0)
			_exit(111);
		deliver_child_signals();
		execv(paths_prog(p->prog), argv);
		_exit(111);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

void qmgr_pool_kill(pid_t pid, int wait)
{
	char buf[SPAWNREQ_MAX];
	int len;

	if (chan < 0) {
		kill(pid, SIGKILL);
		while (wait && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* its socket reports the end; asked again at the next deadline if lost */
	len = spawnreq_build(buf, sizeof buf, SPAWNREQ_KILL, (unsigned long)pid);
	if (len < 0 || lreq_send(chan, buf, (size_t)len, -1) < 0)
		log_warn(NULL, "spawn channel: cannot ask to kill worker pid=%ld: %s", (long)pid,
		         strerror(errno));
}

int qmgr_pool_init(struct qmgr_pool *p, size_t max)
{
	/* at most max are alive (a worker is started only when every live one
	 * is busy, or, remote, when the idle ones keep connections elsewhere
	 * and fewer than delivery_concurrency live); the rest of the table
	 * holds dead ones until they are reaped */
	p->w = calloc(2 * max, sizeof *p->w);
	p->buf = malloc(p->reply_max);
	if (!p->w || !p->buf)
		return -1;
	p->max = 2 * max;
	for (size_t i = 0; i < p->max; i++)
		p->w[i].sock = -1;
	return 0;
}

static void entry_free(struct qmgr_worker *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	w->pid = 0;
	w->slot = NULL;
	w->kept[0] = '\0';
}

/* close an idle worker's socket: it exits (a remote one closes its
 * connection with QUIT first), and is reaped */
static void retire(struct qmgr_pool *p, struct qmgr_worker *w, const char *why)
{
	log_info(NULL, "%s worker pid=%ld %s after %lu %s", p->kind, (long)w->pid, why, w->uses,
	         p->unit);
	if (!p->keep_dead || chan >= 0) { /* the supervisor's are never reaped here */
		entry_free(w);
		return;
	}
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
}

static struct qmgr_worker *spawn(struct qmgr_pool *p)
{
	struct qmgr_worker *w = NULL;
	int sock;
	pid_t pid;

	for (size_t i = 0; i < p->max; i++)
		if (!p->w[i].pid) {
			w = &p->w[i];
			break;
		}
	if (!w) {
		errno = EAGAIN;
		return NULL;
	}
	pid = chan >= 0 ? chan_spawn(p, &sock) : self_spawn(p, &sock);
	if (pid < 0)
		return NULL;
	if (p->sndbuf)
		setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &p->sndbuf, sizeof p->sndbuf);
	fcntl(sock, F_SETFL, O_NONBLOCK);
	w->pid = pid;
	w->sock = sock;
	w->uses = 0;
	w->idle_since = Q.now;
	w->slot = NULL;
	w->kept[0] = '\0';
	log_info(NULL, "%s worker pid=%ld started", p->kind, (long)pid);
	return w;
}

static int idle(const struct qmgr_worker *w)
{
	return w->pid && w->sock >= 0 && !w->slot;
}

/* the idle worker with a connection to the domain; else the idle one without
 * a connection used last (the others can idle out); else a new one while
 * fewer than delivery_concurrency live; else the idle one used last (its
 * connection is closed for this batch). A local worker keeps no connection:
 * the idle one used last, else a new one */
static struct qmgr_worker *pick(struct qmgr_pool *p, const char *domain)
{
	struct qmgr_worker *bare = NULL, *any = NULL;
	size_t live = 0;

	for (size_t i = 0; i < p->max; i++) {
		struct qmgr_worker *w = &p->w[i];
		if (w->pid && w->sock >= 0)
			live++;
		if (!idle(w))
			continue;
		if (w->kept[0] && w->kept_until >= Q.now && domain && strcasecmp(w->kept, domain) == 0)
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
		return spawn(p);
	return any;
}

pid_t qmgr_pool_send(struct qmgr_pool *p, struct msg *m, sa_t *req, const char *domain,
                     void *slot)
{
	int msgfd, e;

	msgfd = open(msg_path("mess", m->qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (msgfd < 0 || lseek(msgfd, (off_t)m->msg_off, SEEK_SET) < 0)
		goto fail;
	/* a worker that died while idle is noticed here: try the next one */
	for (int tries = 0; tries < 3; tries++) {
		struct qmgr_worker *w = pick(p, domain);
		if (!w)
			goto fail;
		if (lreq_send(w->sock, req->s, req->len, msgfd) == 0) {
			close(msgfd);
			sa_free(req);
			w->slot = slot;
			w->uses++;
			w->kept[0] = '\0'; /* its reply tells */
			return w->pid;
		}
		log_warn(m->qid, "%s worker pid=%ld: cannot send a request: %s", p->kind,
		         (long)w->pid, strerror(errno));
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
	sa_free(req);
	errno = e;
	return -1;
}

size_t qmgr_pool_pollfds(struct qmgr_pool *p, struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->max && n < max; i++)
		if (p->w[i].pid && p->w[i].sock >= 0) {
			pfd[n].fd = p->w[i].sock;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	return n;
}

/* read what the worker sent: its reply, or its end */
static void drain(struct qmgr_pool *p, struct qmgr_worker *w)
{
	while (w->sock >= 0) {
		int fd;
		ssize_t n = lreq_recv(w->sock, p->buf, p->reply_max, &fd);
		if (fd >= 0)
			close(fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n > 0 && w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			w->idle_since = Q.now;
			if (p->reply)
				p->reply(w, p->buf, (size_t)n);
			deliver_local_result(slot, p->buf, (size_t)n, 0);
			if (w->uses >= (unsigned long long)Q.conf.worker_max_use)
				retire(p, w, "replaced");
			continue;
		}
		if (n > 0) {
			log_warn(NULL, "%s worker pid=%ld: reply without a request", p->kind,
			         (long)w->pid);
			continue;
		}
		/* EOF or an error: the worker is gone; a busy one is settled when
		 * reaped, or now when it is not our child (its end is all we learn) */
		close(w->sock);
		w->sock = -1;
		if (chan >= 0 && w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			log_warn(NULL, "%s worker pid=%ld ended with a request", p->kind, (long)w->pid);
			deliver_local_result(slot, NULL, 0, QMGR_WORKER_GONE);
		}
		if ((!p->keep_dead || chan >= 0) && !w->slot)
			entry_free(w);
	}
}

int qmgr_pool_event(struct qmgr_pool *p, int fd)
{
	for (size_t i = 0; i < p->max; i++)
		if (p->w[i].pid && p->w[i].sock == fd) {
			drain(p, &p->w[i]);
			return 1;
		}
	return 0;
}

int qmgr_pool_reaped(struct qmgr_pool *p, pid_t pid, int st)
{
	for (size_t i = 0; i < p->max; i++) {
		struct qmgr_worker *w = &p->w[i];
		if (w->pid != pid)
			continue;
		drain(p, w); /* a reply sent before it ended still counts */
		if (w->slot) {
			void *slot = w->slot;
			w->slot = NULL;
			deliver_local_result(slot, NULL, 0, st);
		}
		if (WIFSIGNALED(st))
			log_warn(NULL, "%s worker pid=%ld killed by signal %d", p->kind, (long)pid,
			         WTERMSIG(st));
		else if (WEXITSTATUS(st) != 0)
			log_warn(NULL, "%s worker pid=%ld exited %d", p->kind, (long)pid,
			         WEXITSTATUS(st));
		entry_free(w);
		return 1;
	}
	return 0;
}

long long qmgr_pool_timeouts(struct qmgr_pool *p)
{
	long long next = -1;

	for (size_t i = 0; i < p->max; i++) {
		struct qmgr_worker *w = &p->w[i];
		long long ms;
		if (!idle(w))
			continue;
		if (Q.now - w->idle_since >= Q.conf.worker_idle_timeout) {
			retire(p, w, "idle, stopped");
			continue;
		}
		ms = (w->idle_since + Q.conf.worker_idle_timeout - Q.now) * 1000;
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

void qmgr_pool_stop_all(struct qmgr_pool *p)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (size_t i = 0; i < p->max; i++)
		if (p->w[i].pid && p->w[i].sock >= 0) {
			close(p->w[i].sock); /* an idle worker exits on EOF */
			p->w[i].sock = -1;
		}
	if (chan >= 0) { /* the supervisor's: it reaps them */
		for (size_t i = 0; i < p->max; i++)
			entry_free(&p->w[i]);
		return;
	}
	/* up to QMGR_STOP_WAIT seconds, then SIGKILL */
	for (int t = 0; t <= QMGR_STOP_WAIT * 100; t++) {
		int left = 0;
		for (size_t i = 0; i < p->max; i++) {
			pid_t r;
			if (!p->w[i].pid)
				continue;
			if (t == QMGR_STOP_WAIT * 100)
				kill(p->w[i].pid, SIGKILL);
			r = waitpid(p->w[i].pid, NULL, t == QMGR_STOP_WAIT * 100 ? 0 : WNOHANG);
			if (r == p->w[i].pid || (r < 0 && errno != EINTR))
				p->w[i].pid = 0;
			else
				left++;
		}
		if (!left)
			break;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < p->max; i++)
		entry_free(&p->w[i]);
}

void qmgr_pool_free(struct qmgr_pool *p)
{
	free(p->w);
	free(p->buf);
	p->w = NULL;
	p->buf = NULL;
	p->max = 0;
}
