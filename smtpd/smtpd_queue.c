/* smtpd_queue: the pochta-enqueue child of a session (common/enqproto.h).
 * Started lazily at the first DATA, connected by a socketpair that is its stdin
 * and stdout, reused for every message of the session. A child that dies or
 * stops answering is reaped, and the next message starts a new one. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "smtpd.h"
#include "enqproto.h"
#include "log.h"
#include "paths.h"
#include "qid.h"
#include "rec.h"

#define ENQ_REPLY_MAX 4096

void enq_init(struct enq *q, int timeout_ms)
{
	q->pid = 0;
	q->fd = -1;
	q->broken = 0;
	q->timeout_ms = timeout_ms;
}

void enq_close(struct enq *q)
{
	int st;

	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->pid > 0) {
		/* a broken child may be hung (it stopped answering): do not wait on it */
		if (q->broken)
			kill(q->pid, SIGKILL);
		while (waitpid(q->pid, &st, 0) < 0 && errno == EINTR)
			;
		q->pid = 0;
	}
	q->broken = 0;
}

static void child_exec(int sock)
{
	const char *prog = paths_prog("pochta-enqueue");
	const char *logto = getenv("POCHTA_LOG");
	char *argv[2];

	if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0)
		_exit(111);
	/* under inetd fd 2 may be the client connection: the child logs there only
	 * when stderr logging was asked for */
	if (!logto || strcmp(logto, "stderr") != 0) {
		int dn = open("/dev/null", O_WRONLY);
		if (dn < 0 || dup2(dn, 2) < 0)
			_exit(111);
	}
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	argv[0] = (char *)"pochta-enqueue";
	argv[1] = NULL;
	execv(prog, argv);
	_exit(111);
}

static int enq_start(struct enq *q)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn(NULL, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_warn(NULL, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		child_exec(sv[1]);
	}
	close(sv[1]);
	q->pid = pid;
	q->fd = sv[0];
	q->broken = 0;
	io_init(&q->out, q->fd, q->outbuf, sizeof q->outbuf, q->timeout_ms);
	io_init(&q->in, q->fd, q->inbuf, sizeof q->inbuf, q->timeout_ms);
	q->in.flush = &q->out; /* reading a reply first sends what we wrote */
	return 0;
}

static void enq_fail(struct enq *q, const char *what)
{
	log_warn(NULL, "pochta-enqueue: %s: %s", what, errno ? strerror(errno) : "failed");
	q->broken = 1;
	enq_close(q);
}

/* read one reply record; -1 after enq_fail */
static int enq_reply(struct enq *q, int *type, sa_t *text)
{
	int r;

	if (io_flush(&q->out) < 0) {
		enq_fail(q, "write");
		return -1;
	}
	errno = 0;
	r = rec_get(&q->in, type, text, ENQ_REPLY_MAX);
	if (r != IO_OK) {
		enq_fail(q, r == IO_EOF ? "unexpected end of replies" : "read");
		return -1;
	}
	return 0;
}

int enq_begin(struct enq *q, sa_t *qid)
{
	int type;

	if (q->pid > 0 && q->broken)
		enq_close(q);
	if (q->pid > 0) {
		/* a child that exited since the last message: reap it, start anew */
		int st;
		pid_t r = waitpid(q->pid, &st, WNOHANG);
		if (r == q->pid || (r < 0 && errno == ECHILD)) {
			q->pid = 0;
			enq_close(q);
		}
	}
	if (q->pid == 0 && enq_start(q) < 0)
		return -1;
	if (rec_put(&q->out, ENQ_BEGIN, "", 0) < 0) {
		enq_fail(q, "write");
		return -1;
	}
	if (enq_reply(q, &type, qid) < 0)
		return -1;
	if (type == ENQ_R_ID && qid_valid(qid->s))
		return 0;
	if (type == ENQ_R_TEMP) {
		log_warn(NULL, "pochta-enqueue: temporary failure: %s", qid->s);
		errno = EAGAIN;
		return -1;
	}
	errno = EPROTO;
	enq_fail(q, "bad reply to M");
	return -1;
}

int enq_put(struct enq *q, int type, const void *p, size_t n)
{
	if (q->broken || q->fd < 0)
		return -1;
	if (rec_put(&q->out, type, p, n) < 0) {
		/* keep the child until the message ends: the caller reads the data to
		 * its end first, then enq_end() or enq_abort() reaps it */
		log_warn(NULL, "pochta-enqueue: write: %s", strerror(errno));
		q->broken = 1;
		return -1;
	}
	return 0;
}

void enq_abort(struct enq *q)
{
	if (q->fd < 0)
		return;
	if (q->broken || rec_put(&q->out, ENQ_ABORT, "", 0) < 0 || io_flush(&q->out) < 0) {
		q->broken = 1;
		enq_close(q);
	}
}

int enq_end(struct enq *q, sa_t *text)
{
	int type;

	if (q->fd < 0)
		return -1;
	if (q->broken) {
		enq_close(q);
		return -1;
	}
	if (rec_put(&q->out, ENQ_END, "", 0) < 0) {
		enq_fail(q, "write");
		return -1;
	}
	if (enq_reply(q, &type, text) < 0)
		return -1;
	switch (type) {
	case ENQ_R_OK:
		if (!qid_valid(text->s))
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
	enq_fail(q, "bad reply to E");
	return -1;
}
