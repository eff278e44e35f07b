/* enqclient: a pochta-enqueue client (enqclient.h, enqproto.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "enqclient.h"
#include "enqproto.h"
#include "lreq.h"
#include "qid.h"
#include "rec.h"

static void enqc_setup(struct enqc *c, int fd, int timeout_ms)
{
	c->fd = fd;
	c->broken = 0;
	io_init(&c->out, fd, c->outbuf, sizeof c->outbuf, timeout_ms);
	io_init(&c->in, fd, c->inbuf, sizeof c->inbuf, timeout_ms);
	c->in.flush = &c->out; /* reading a reply first sends what was written */
}

void enqc_init(struct enqc *c)
{
	c->zygote = 0;
	c->pid = 0;
	c->fd = -1;
	c->broken = 0;
}

void enqc_attach(struct enqc *c, int fd, int timeout_ms)
{
	c->zygote = 0;
	c->pid = 0;
	enqc_setup(c, fd, timeout_ms);
}

void enqc_exec(int fd, const char *prog, const char *arg)
{
	char *argv[3] = { (char *)"pochta-enqueue", (char *)arg, NULL };
	sigset_t none;

	const char *logto = getenv("POCHTA_LOG");

	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(111);
	if (!logto || strcmp(logto, "stderr") != 0) {
		int dn = open("/dev/null", O_WRONLY);
		if (dn < 0 || dup2(dn, 2) < 0)
			_exit(111);
	}
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(prog, argv);
	_exit(111);
}

int enqc_open(struct enqc *c, const char *prog, int timeout_ms)
{
	int sv[2], e;
	pid_t pid;

	c->zygote = 0;
	c->pid = 0;
	c->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(sv[0]);
		close(sv[1]);
		errno = e;
		return -1;
	}
	if (pid == 0)
		enqc_exec(sv[1], prog, NULL);
	close(sv[1]);
	enqc_setup(c, sv[0], timeout_ms);
	c->pid = pid;
	return 0;
}

static int enqc_fail(struct enqc *c)
{
	c->broken = 1;
	return -1;
}

/* one reply record; -1 on EOF, I/O or format errors */
static int enqc_reply(struct enqc *c, int *type, sa_t *text)
{
	int r;

	if (io_flush(&c->out) < 0)
		return enqc_fail(c);
	r = rec_get(&c->in, type, text, ENQC_REPLY_MAX);
	if (r == IO_EOF)
		errno = EPIPE;
	if (r != IO_OK)
		return enqc_fail(c);
	return 0;
}

/* a peer that is not our child (from a zygote): gone when its end is closed;
 * between messages it never sends anything */
static int enqc_peer_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
	char b;

	if (poll(&p, 1, 0) == 0)
		return 1;
	return !(p.revents & (POLLHUP | POLLERR)) && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

int enqc_ready_z(struct enqc *c, int zfd, const char *prog, int timeout_ms)
{
	int sv[2];

	if (c->fd >= 0 && !c->broken && c->pid > 0) {
		/* a child that exited since the last message: reap it, start anew */
		pid_t r = waitpid(c->pid, NULL, WNOHANG);
		if (r == c->pid || (r < 0 && errno == ECHILD))
			c->pid = 0;
		else
			return 0;
	} else if (c->fd >= 0 && !c->broken && c->zygote && enqc_peer_alive(c->fd)) {
		return 0;
	}
	if (c->fd >= 0 || c->pid > 0)
		enqc_close(c);
	c->zygote = 0;
	if (zfd >= 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0) {
		/* one packet, no reply: the zygote forks a pochta-enqueue on sv[1] */
		if (lreq_send(zfd, "E", 1, sv[1]) == 0) {
			close(sv[1]);
			enqc_setup(c, sv[0], timeout_ms);
			c->pid = 0;
			c->zygote = 1;
			return 0;
		}
		close(sv[0]);
		close(sv[1]);
	}
	return enqc_open(c, prog, timeout_ms);
}

int enqc_ready(struct enqc *c, const char *prog, int timeout_ms)
{
	return enqc_ready_z(c, -1, prog, timeout_ms);
}

int enqc_begin(struct enqc *c, sa_t *qid)
{
	int type;

	if (c->fd < 0 || c->broken) {
		errno = EPIPE;
		return -1;
	}
	if (rec_put(&c->out, ENQ_BEGIN, "", 0) < 0 || enqc_reply(c, &type, qid) < 0)
		return enqc_fail(c);
	if (type == ENQ_R_TEMP)
		return 'Z'; /* no queue file: nothing is open */
	if (type != ENQ_R_ID || !qid_valid(qid->s)) {
		errno = EPROTO;
		return enqc_fail(c);
	}
	return 0;
}

int enqc_put(struct enqc *c, int type, const void *p, size_t n)
{
	if (c->fd < 0 || c->broken) {
		errno = EPIPE;
		return -1;
	}
	if (rec_put(&c->out, type, p, n) < 0)
		return enqc_fail(c);
	return 0;
}

int enqc_end(struct enqc *c, sa_t *reply)
{
	int type;

	if (enqc_put(c, ENQ_END, "", 0) < 0 || enqc_reply(c, &type, reply) < 0)
		return enqc_fail(c);
	switch (type) {
	case ENQ_R_OK:
		if (!qid_valid(reply->s))
			break;
		return 'K';
	case ENQ_R_TEMP:
		return 'Z';
	case ENQ_R_PERM:
		return 'X';
	default:
		break;
	}
	errno = EPROTO;
	return enqc_fail(c);
}

void enqc_abort(struct enqc *c)
{
	if (enqc_put(c, ENQ_ABORT, "", 0) < 0 || io_flush(&c->out) < 0)
		enqc_fail(c);
}

int enqc_send(struct enqc *c, const struct enqc_env *env, const char *data, size_t len,
              sa_t *reply)
{
	int r;

	if (!env || !env->sender || !env->rcpt || env->nrcpt == 0) {
		errno = EINVAL;
		return -1;
	}
	r = enqc_begin(c, reply);
	if (r != 0)
		return r;
	if (enqc_put(c, 'S', env->sender, strlen(env->sender)) < 0 ||
	    (env->body && enqc_put(c, 'B', env->body, strlen(env->body)) < 0) ||
	    (env->proto && enqc_put(c, 'P', env->proto, strlen(env->proto)) < 0))
		return -1;
	for (size_t i = 0; i < env->nrcpt; i++)
		if (enqc_put(c, 'R', env->rcpt[i], strlen(env->rcpt[i])) < 0)
			return -1;
	for (size_t off = 0; off < len;) {
		size_t n = len - off > ENQ_DATA_MAX ? ENQ_DATA_MAX : len - off;
		if (enqc_put(c, ENQ_DATA, data + off, n) < 0)
			return -1;
		off += n;
	}
	return enqc_end(c, reply);
}

void enqc_close(struct enqc *c)
{
	int e = errno;

	if (c->fd >= 0) {
		close(c->fd); /* EOF: pochta-enqueue exits */
		c->fd = -1;
	}
	if (c->pid > 0) {
		/* a broken peer may be hung: do not wait on it */
		if (c->broken)
			kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	errno = e;
}
