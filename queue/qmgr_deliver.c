/* qmgr_deliver: the delivery launch interface of pochta-qmgr.
 * Today: one fork+exec of pochta-local per recipient, the message on its stdin
 * (mess/QID opened and positioned at the message), its result on a pipe.
 * A delivery ends when its pipe is at EOF and the process has been reaped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dresult.h"
#include "log.h"
#include "paths.h"
#include "qmgr.h"
#include "rec.h"

#define OUT_MAX 2048 /* result text kept from a delivery's stdout */

struct child {
	pid_t pid;           /* 0: free slot */
	int fd;              /* its stdout; -1 once at EOF */
	int exited, wstatus;
	struct msg *m;       /* NULL: the message was dropped, report nothing */
	size_t idx;
	long long deadline;
	size_t outlen;
	char out[OUT_MAX];
};

static struct child *kids;
static size_t nslots, nrunning;

int deliver_init(size_t slots)
{
	kids = calloc(slots, sizeof *kids);
	if (!kids)
		return -1;
	nslots = slots;
	for (size_t i = 0; i < slots; i++)
		kids[i].fd = -1;
	return 0;
}

size_t deliver_free_slots(void)
{
	return nslots - nrunning;
}

size_t deliver_running(void)
{
	return nrunning;
}

static void child_exec(int msgfd, int outfd, struct msg *m, size_t idx)
{
	const char *prog = paths_prog("pochta-local");
	char *argv[8];
	sigset_t all;

	if (dup2(msgfd, 0) < 0 || dup2(outfd, 1) < 0)
		_exit(111);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* argv only, never a shell: addresses are data */
	argv[0] = (char *)"pochta-local";
	argv[1] = (char *)"-q";
	argv[2] = m->qid;
	argv[3] = (char *)"-f";
	argv[4] = m->sender;
	argv[5] = (char *)"--";
	argv[6] = m->rcpt[idx].addr;
	argv[7] = NULL;
	execv(prog, argv);
	_exit(111);
}

int deliver_start(struct msg *m, size_t idx)
{
	struct child *c = NULL;
	int msgfd, p[2], e;
	pid_t pid;

	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid == 0) {
			c = &kids[i];
			break;
		}
	if (!c) {
		errno = EAGAIN;
		return -1;
	}
	msgfd = open(msg_path("mess", m->qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (msgfd < 0)
		return -1;
	if (lseek(msgfd, (off_t)m->msg_off, SEEK_SET) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		e = errno;
		close(msgfd);
		errno = e;
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(msgfd);
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0)
		child_exec(msgfd, p[1], m, idx);
	close(msgfd);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->pid = pid;
	c->fd = p[0];
	c->exited = 0;
	c->wstatus = 0;
	c->m = m;
	c->idx = idx;
	c->deadline = Q.now + QMGR_DELIVERY_TIMEOUT;
	c->outlen = 0;
	nrunning++;
	return 0;
}

size_t deliver_pollfds(struct pollfd *p, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < nslots && n < max; i++)
		if (kids[i].pid && kids[i].fd >= 0) {
			p[n].fd = kids[i].fd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			n++;
		}
	return n;
}

static void child_read(struct child *c)
{
	char buf[4096];

	for (;;) {
		ssize_t r = read(c->fd, buf, sizeof buf);
		if (r > 0) {
			size_t room = OUT_MAX - c->outlen, n = (size_t)r < room ? (size_t)r : room;
			memcpy(c->out + c->outlen, buf, n); /* beyond OUT_MAX: dropped */
			c->outlen += n;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		close(c->fd); /* EOF or a read error: the output is complete */
		c->fd = -1;
		return;
	}
}

/* the result: the agent's dresult record if it wrote one, else its exit code */
static void child_done(struct child *c)
{
	struct dresult dr = { 0, 0, "", SA_INIT };
	const char *data;
	size_t pos = 0, dlen;
	int type, have = 0, class;
	const char *status, *text;
	char buf[64];

	while (rec_next(c->out, c->outlen, &pos, &type, &data, &dlen) == 1) {
		if (type == DRESULT_REC && dresult_parse(data, dlen, &dr) == 0 && dr.index == 0) {
			have = 1;
			break;
		}
	}
	if (have) {
		class = dr.class;
		status = dr.status;
		text = dr.text.s ? dr.text.s : "";
	} else if (WIFEXITED(c->wstatus) && WEXITSTATUS(c->wstatus) == 0) {
		class = 'D', status = "2.0.0", text = "delivered";
	} else if (WIFEXITED(c->wstatus) && WEXITSTATUS(c->wstatus) == 100) {
		class = 'P', status = "5.3.0", text = "delivery agent failed permanently";
	} else {
		if (WIFSIGNALED(c->wstatus))
			snprintf(buf, sizeof buf, "delivery agent killed by signal %d", WTERMSIG(c->wstatus));
		else
			snprintf(buf, sizeof buf, "delivery agent exited %d", WEXITSTATUS(c->wstatus));
		class = 'T', status = "4.3.0", text = buf;
	}
	struct msg *m = c->m;
	size_t idx = c->idx;
	c->pid = 0;
	c->m = NULL;
	nrunning--;
	if (m)
		sched_result(m, idx, class, status, text);
	sa_free(&dr.text);
}

static void check_done(void)
{
	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid && kids[i].exited && kids[i].fd < 0)
			child_done(&kids[i]);
}

void deliver_reap(void)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (size_t i = 0; i < nslots; i++)
			if (kids[i].pid == pid && !kids[i].exited) {
				kids[i].exited = 1;
				kids[i].wstatus = st;
				break;
			}
	}
	check_done();
}

void deliver_events(struct pollfd *p, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (!p[j].revents)
			continue;
		for (size_t i = 0; i < nslots; i++)
			if (kids[i].pid && kids[i].fd == p[j].fd) {
				child_read(&kids[i]);
				break;
			}
	}
	deliver_reap();
}

long long deliver_timeouts(void)
{
	long long next = -1;

	for (size_t i = 0; i < nslots; i++) {
		struct child *c = &kids[i];
		if (!c->pid || c->exited)
			continue;
		if (c->deadline <= Q.now) {
			log_warn(c->m ? c->m->qid : NULL, "delivery pid %ld timed out: killed", (long)c->pid);
			kill(c->pid, SIGKILL);
			c->deadline = Q.now + 5;
		}
		long long ms = (c->deadline - Q.now) * 1000;
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

void deliver_forget(struct msg *m)
{
	for (size_t i = 0; i < nslots; i++)
		if (kids[i].pid && kids[i].m == m)
			kids[i].m = NULL;
}

void deliver_kill_all(void)
{
	for (size_t i = 0; i < nslots; i++) {
		struct child *c = &kids[i];
		if (!c->pid)
			continue;
		if (!c->exited) {
			kill(c->pid, SIGKILL);
			while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->pid = 0;
		c->m = NULL;
		nrunning--;
	}
}

void deliver_free(void)
{
	free(kids);
	kids = NULL;
	nslots = 0;
}
