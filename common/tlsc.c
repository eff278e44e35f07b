/* tlsc: starting pochta-tls and its control messages (tlsc.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tlsc.h"

static int field_set(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

int tlsc_parse(const char *msg, size_t len, struct tlsc_info *info)
{
	size_t i = 1;

	memset(info, 0, sizeof *info);
	if (len < 1 || msg[0] != 'T')
		return -1;
	while (i < len) {
		const char *k, *v, *eq;
		size_t klen, vlen, j;
		char *dst = NULL;
		size_t cap = 0;

		if (msg[i] != '\t')
			return -1;
		k = msg + ++i;
		while (i < len && msg[i] != '\t')
			i++;
		eq = memchr(k, '=', (size_t)(msg + i - k));
		if (!eq || eq == k)
			return -1;
		klen = (size_t)(eq - k);
		v = eq + 1;
		vlen = (size_t)(msg + i - v);
		for (j = 0; j < vlen; j++)
			if ((unsigned char)v[j] < 0x20 || (unsigned char)v[j] > 0x7e)
				return -1;
#define KEY(name) (klen == sizeof name - 1 && memcmp(k, name, klen) == 0)
		if (KEY("version"))
			dst = info->version, cap = sizeof info->version;
		else if (KEY("cipher"))
			dst = info->cipher, cap = sizeof info->cipher;
		else if (KEY("verify"))
			dst = info->verify, cap = sizeof info->verify;
		else if (KEY("verify_error"))
			dst = info->verify_error, cap = sizeof info->verify_error;
		else if (KEY("subject"))
			dst = info->subject, cap = sizeof info->subject;
		else if (KEY("issuer"))
			dst = info->issuer, cap = sizeof info->issuer;
		else if (KEY("bits")) {
			unsigned long b = 0;
			if (vlen == 0 || vlen > 5)
				return -1;
			for (j = 0; j < vlen; j++) {
				if (v[j] < '0' || v[j] > '9')
					return -1;
				b = b * 10 + (unsigned long)(v[j] - '0');
			}
			if (b > 65535)
				return -1;
			info->bits = (unsigned)b;
		}
#undef KEY
		if (dst && field_set(dst, cap, v, vlen) < 0)
			return -1;
	}
	if (!info->version[0] || !info->cipher[0])
		return -1;
	if (!info->verify[0])
		strcpy(info->verify, "none");
	return 0;
}

void tlsc_init(struct tlsc *t)
{
	memset(t, 0, sizeof *t);
	t->ctl = t->rd = t->wr = -1;
}

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one control message within timeout_ms: its length (NUL-terminated in
 * buf), or -1 with t->err */
static ssize_t ctl_read(struct tlsc *t, char *buf, size_t cap, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = t->ctl, .events = POLLIN, .revents = 0 };
		long long left = end - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(t->err, sizeof t->err, "poll: %s", strerror(errno));
			return -1;
		}
		if (r == 0) {
			snprintf(t->err, sizeof t->err, "pochta-tls did not answer in time");
			return -1;
		}
		ssize_t n = recv(t->ctl, buf, cap - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(t->err, sizeof t->err, "pochta-tls ended%s%s", n < 0 ? ": " : "",
			         n < 0 ? strerror(errno) : "");
			return -1;
		}
		buf[n] = '\0';
		if (buf[0] == 'E') {
			/* its reason, made printable */
			size_t i, o = 0;
			for (i = 1; i < (size_t)n && buf[i] == ' '; i++)
				;
			for (; i < (size_t)n && o + 1 < sizeof t->err; i++)
				t->err[o++] = (buf[i] >= ' ' && buf[i] < 0x7f) ? buf[i] : '?';
			t->err[o] = '\0';
			if (!o)
				snprintf(t->err, sizeof t->err, "pochta-tls failed");
			return -1;
		}
		return n;
	}
}

/* the child: the descriptors as tlsc.h lists them, then pochta-tls */
static void child(int net, int ctl, int towards, int from, const char *prog, char *const args[])
{
	int fds[4] = { net, ctl, towards, from }, targets[4] = { 0, 3, 4, 5 }, high[4], null;

	/* above every target first, so that no dup2 overwrites one not yet moved */
	for (int i = 0; i < 4; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD, 10)) < 0)
			_exit(111);
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 1) < 0)
		_exit(111);
	for (int i = 0; i < 4; i++)
		if (dup2(high[i], targets[i]) < 0)
			_exit(111);
	for (int fd = 6; fd < 1024; fd++)
		close(fd);
	signal(SIGPIPE, SIG_DFL);
	execv(prog, args);
	_exit(127);
}

int tlsc_start(struct tlsc *t, int net, const char *prog, char *const args[], int timeout_ms)
{
	int sv[2] = { -1, -1 }, a[2] = { -1, -1 }, b[2] = { -1, -1 };
	char buf[TLSC_MSG_MAX + 1];

	tlsc_init(t);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(a, O_CLOEXEC) < 0 ||
	    pipe2(b, O_CLOEXEC) < 0) {
		snprintf(t->err, sizeof t->err, "cannot make pipes: %s", strerror(errno));
		goto fail;
	}
	t->pid = fork();
	if (t->pid < 0) {
		snprintf(t->err, sizeof t->err, "cannot fork: %s", strerror(errno));
		t->pid = 0;
		goto fail;
	}
	if (t->pid == 0)
		child(net, sv[1], a[1], b[0], prog, args);
	close(sv[1]);
	close(a[1]);
	close(b[0]);
	t->ctl = sv[0];
	t->rd = a[0];
	t->wr = b[1];
	if (ctl_read(t, buf, sizeof buf, timeout_ms) < 0)
		goto fail_child;
	if (strcmp(buf, "R") != 0) {
		snprintf(t->err, sizeof t->err, "pochta-tls: unexpected message");
		goto fail_child;
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		fd_close(&sv[i]);
		fd_close(&a[i]);
		fd_close(&b[i]);
	}
	return -1;
fail_child: {
	char keep[sizeof t->err];
	memcpy(keep, t->err, sizeof keep);
	tlsc_end(t, 1000);
	memcpy(t->err, keep, sizeof keep);
	return -1;
}
}

int tlsc_handshake(struct tlsc *t, int timeout_ms)
{
	char buf[TLSC_MSG_MAX + 1];
	ssize_t n;

	if (send(t->ctl, "G", 1, MSG_NOSIGNAL) != 1) {
		snprintf(t->err, sizeof t->err, "pochta-tls ended: %s", strerror(errno));
		return -1;
	}
	n = ctl_read(t, buf, sizeof buf, timeout_ms);
	if (n < 0)
		return -1;
	if (tlsc_parse(buf, (size_t)n, &t->info) < 0) {
		snprintf(t->err, sizeof t->err, "pochta-tls: bad session report");
		return -1;
	}
	return 0;
}

int tlsc_take_over(struct tlsc *t, io_t *in, io_t *out)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null < 0 || dup2(null, in->fd) < 0 || dup2(null, out->fd) < 0) {
		int e = errno;
		if (null >= 0)
			close(null);
		errno = e;
		return -1;
	}
	close(null);
	in->fd = t->rd;
	out->fd = t->wr;
	in->start = in->end = 0;
	return 0;
}

void tlsc_end(struct tlsc *t, int wait_ms)
{
	long long end = now_ms() + wait_ms;

	fd_close(&t->wr);
	fd_close(&t->rd);
	fd_close(&t->ctl);
	if (t->pid <= 0)
		return;
	for (;;) {
		pid_t r = waitpid(t->pid, NULL, WNOHANG);
		if (r == t->pid || (r < 0 && errno != EINTR))
			break;
		if (now_ms() >= end) {
			/* one of another uid (pochta-pop3d became the maildrop's
			 * owner) cannot be killed: it ends on its own at our EOF */
			if (kill(t->pid, SIGKILL) == 0)
				while (waitpid(t->pid, NULL, 0) < 0 && errno == EINTR)
					;
			break;
		}
		struct timespec ts = { 0, 10 * 1000000 };
		nanosleep(&ts, NULL);
	}
	t->pid = 0;
}

int tlsc_describe(const struct tlsc_info *info, sa_t *out)
{
	return sa_catf(out, "%s with cipher %s (%u/%u bits)", info->version, info->cipher, info->bits,
	               info->bits);
}
