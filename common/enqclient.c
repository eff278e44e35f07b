/* enqclient: a pochta-enqueue client (enqclient.h, enqproto.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "enqclient.h"
#include "enqproto.h"
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

void enqc_attach(struct enqc *c, int fd, int timeout_ms)
{
	c->pid = 0;
	enqc_setup(c, fd, timeout_ms);
}

int enqc_open(struct enqc *c, const char *prog, int timeout_ms)
{
	int sv[2], e;
	pid_t pid;

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
	if (pid == 0) {
		char *argv[2] = { (char *)"pochta-enqueue", NULL };
		sigset_t none;

		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(111);
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

int enqc_send(struct enqc *c, const struct enqc_env *env, const char *data, size_t len,
              sa_t *reply)
{
	int type;

	if (c->fd < 0 || c->broken || !env || !env->sender || !env->rcpt || env->nrcpt == 0) {
		errno = c->fd < 0 || c->broken ? EPIPE : EINVAL;
		return -1;
	}
	if (rec_put(&c->out, ENQ_BEGIN, "", 0) < 0 || enqc_reply(c, &type, reply) < 0)
		return enqc_fail(c);
	if (type == ENQ_R_TEMP)
		return 'Z'; /* no queue file: this message is over */
	if (type != ENQ_R_ID || !qid_valid(reply->s)) {
		errno = EPROTO;
		return enqc_fail(c);
	}
	if (rec_puts(&c->out, 'S', env->sender) < 0 ||
	    (env->body && rec_puts(&c->out, 'B', env->body) < 0) ||
	    (env->proto && rec_puts(&c->out, 'P', env->proto) < 0))
		return enqc_fail(c);
	for (size_t i = 0; i < env->nrcpt; i++)
		if (rec_puts(&c->out, 'R', env->rcpt[i]) < 0)
			return enqc_fail(c);
	for (size_t off = 0; off < len;) {
		size_t n = len - off > ENQ_DATA_MAX ? ENQ_DATA_MAX : len - off;
		if (rec_put(&c->out, ENQ_DATA, data + off, n) < 0)
			return enqc_fail(c);
		off += n;
	}
	if (rec_put(&c->out, ENQ_END, "", 0) < 0 || enqc_reply(c, &type, reply) < 0)
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
