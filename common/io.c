/* io: buffered fd I/O with per-wait timeouts, hard line limits and
 * flush-before-blocking-read (RFC 2920 pipelining). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "io.h"

void io_init(io_t *io, int fd, char *buf, size_t cap, int timeout_ms)
{
	io->fd = fd;
	io->buf = buf;
	io->cap = cap;
	io->start = 0;
	io->end = 0;
	io->timeout_ms = timeout_ms;
	io->flush = NULL;
	io->pos = 0;
	io->deadline = 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void io_deadline(io_t *io, int ms)
{
	io->deadline = ms < 0 ? 0 : now_ms() + ms;
	if (ms >= 0 && io->deadline == 0)
		io->deadline = 1;
}

void io_deadline_extend(io_t *io, long long ms, int cap_ms)
{
	long long cap;

	if (!io->deadline || ms <= 0)
		return;
	cap = now_ms() + cap_ms;
	io->deadline = ms > cap - io->deadline ? cap : io->deadline + ms;
	if (io->deadline < 1)
		io->deadline = 1;
}

/* the wait allowed now: timeout_ms, shortened by the deadline; -2 when the
 * deadline has passed */
static int io_wait_ms(const io_t *io)
{
	long long left;

	if (!io->deadline)
		return io->timeout_ms;
	left = io->deadline - now_ms();
	if (left <= 0)
		return -2;
	if (io->timeout_ms >= 0 && io->timeout_ms < left)
		return io->timeout_ms;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* wait until fd is ready for ev: 0, or -1 (ETIMEDOUT, or poll's error).
 * Signals do not extend the wait: EINTR resumes with the time left. */
static int io_wait(int fd, short ev, int timeout_ms)
{
	struct pollfd p;
	long long deadline = 0;
	int t = timeout_ms, r;

	if (timeout_ms >= 0)
		deadline = now_ms() + timeout_ms;
	for (;;) {
		p.fd = fd;
		p.events = ev;
		p.revents = 0;
		r = poll(&p, 1, t);
		if (r > 0)
			return 0; /* ready, or POLLHUP/POLLERR: the read or write reports it */
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
		if (timeout_ms >= 0) {
			long long left = deadline - now_ms();
			t = left > 0 ? (int)left : 0;
		}
	}
}

/* is input ready right now, without blocking? 1 yes, 0 no, -1 error */
static int io_ready_now(int fd)
{
	struct pollfd p;
	int r;

	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, 0);
		if (r >= 0)
			return r > 0;
		if (errno != EINTR)
			return -1;
	}
}

int io_input_ready(io_t *io)
{
	ssize_t r;

	if (io->start < io->end)
		return 1;
	io->start = io->end = 0;
	if (io->cap == 0)
		return 0;
	do
		r = recv(io->fd, io->buf, io->cap, MSG_DONTWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ENOTSOCK) {
		if (io_ready_now(io->fd) <= 0)
			return 0;
		do
			r = read(io->fd, io->buf, io->cap);
		while (r < 0 && errno == EINTR);
	}
	if (r <= 0)
		return 0;
	io->end = (size_t)r;
	return 1;
}

static int io_pending(const io_t *out)
{
	return out && out->end > out->start;
}

/* one read into buf[0..cap): bytes read (0 = EOF) or -1.
 * Sockets are tried with MSG_DONTWAIT so that the common case (data already
 * there) costs one system call; before any wait the paired output is flushed. */
static ssize_t io_read_some(io_t *io)
{
	ssize_t r;
	int sock = 1, wait;

	for (;;) {
		/* checked before every read: data that is always ready (a trickle)
		 * must not escape the deadline */
		wait = io_wait_ms(io);
		if (wait == -2) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (sock) {
			r = recv(io->fd, io->buf, io->cap, MSG_DONTWAIT);
			if (r >= 0)
				return r;
			if (errno == EINTR)
				continue;
			if (errno == ENOTSOCK) {
				sock = 0;
				/* not a socket: peek with poll whether a read would block */
				if (io_pending(io->flush)) {
					int ready = io_ready_now(io->fd);
					if (ready < 0)
						return -1;
					if (ready)
						goto do_read;
				}
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				return -1;
			}
		}
		/* the read would block: send the replies first, then wait */
		if (io_pending(io->flush) && io_flush(io->flush) < 0)
			return -1;
		if ((sock || wait >= 0) && io_wait(io->fd, POLLIN, wait) < 0)
			return -1;
		if (sock)
			continue;
	do_read:
		r = read(io->fd, io->buf, io->cap);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* a non-blocking fd: wait (forever when timeout_ms < 0) and retry */
		if (io_pending(io->flush) && io_flush(io->flush) < 0)
			return -1;
		if (io_wait(io->fd, POLLIN, io->timeout_ms) < 0)
			return -1;
		goto do_read;
	}
}

int io_fill(io_t *io)
{
	ssize_t r;

	if (io->start < io->end)
		return IO_OK;
	io->start = io->end = 0;
	if (io->cap == 0) {
		errno = EINVAL;
		return IO_ERR;
	}
	r = io_read_some(io);
	if (r < 0)
		return IO_ERR;
	if (r == 0)
		return IO_EOF;
	io->end = (size_t)r;
	return IO_OK;
}

void io_consume(io_t *io, size_t n)
{
	size_t avail = io->end - io->start;

	if (n > avail)
		n = avail;
	io->start += n;
	io->pos += n;
}

int io_readn(io_t *io, void *p, size_t n)
{
	char *d = p;

	while (n > 0) {
		size_t k;
		int r = io_fill(io);
		if (r != IO_OK)
			return r;
		k = io->end - io->start;
		if (k > n)
			k = n;
		memcpy(d, io->buf + io->start, k);
		io_consume(io, k);
		d += k;
		n -= k;
	}
	return IO_OK;
}

int io_getline(io_t *io, sa_t *line, size_t max, int *had_cr)
{
	size_t seen = 0; /* bytes of this line on the wire so far */
	int toolong = 0;

	if (had_cr)
		*had_cr = 0;
	sa_trunc(line, 0);
	if (sa_ready(line, 0) < 0)
		return IO_ERR;
	for (;;) {
		char *b, *lf;
		size_t n, take;
		int r = io_fill(io);

		if (r != IO_OK) {
			sa_trunc(line, 0); /* a partial line at EOF is dropped */
			return r;
		}
		b = io->buf + io->start;
		n = io->end - io->start;
		lf = memchr(b, '\n', n);
		take = lf ? (size_t)(lf - b) + 1 : n;
		if (!toolong && take > max - seen) /* seen <= max always */
			toolong = 1;
		if (toolong) {
			sa_trunc(line, 0);
		} else {
			if (sa_catb(line, b, take) < 0)
				return IO_ERR;
			seen += take;
		}
		io_consume(io, take);
		if (lf)
			break;
	}
	if (toolong)
		return IO_TOOLONG;
	sa_trunc(line, line->len - 1); /* the LF */
	if (line->len > 0 && line->s[line->len - 1] == '\r') {
		sa_trunc(line, line->len - 1);
		if (had_cr)
			*had_cr = 1;
	}
	return IO_OK;
}

/* write some of p: bytes written (> 0) or -1.
 * Sockets use MSG_DONTWAIT|MSG_NOSIGNAL so that a peer that stops reading is a
 * timeout, not a hang, and a closed peer is EPIPE, not SIGPIPE. Pipes wait for
 * POLLOUT first and write at most PIPE_BUF, which a writable pipe accepts
 * without blocking (a pipe whose reader left still raises SIGPIPE: programs
 * that write to pipes ignore it). */
static ssize_t io_write_some(io_t *io, const char *p, size_t n)
{
	struct stat st;
	ssize_t r;

	for (;;) {
		r = send(io->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (io_wait(io->fd, POLLOUT, io->timeout_ms) < 0)
				return -1;
			continue;
		}
		if (errno != ENOTSOCK)
			return -1;
		break;
	}
	/* regular files never block: no poll, no small chunks for queue files */
	if (io->timeout_ms >= 0 && (fstat(io->fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		if (io_wait(io->fd, POLLOUT, io->timeout_ms) < 0)
			return -1;
		if (n > PIPE_BUF)
			n = PIPE_BUF;
	}
	for (;;) {
		r = write(io->fd, p, n);
		if (r > 0)
			return r;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (io_wait(io->fd, POLLOUT, io->timeout_ms) < 0)
			return -1;
		if (n > PIPE_BUF)
			n = PIPE_BUF;
	}
}

int io_flush(io_t *io)
{
	while (io->start < io->end) {
		ssize_t w = io_write_some(io, io->buf + io->start, io->end - io->start);
		if (w < 0)
			return -1;
		io->start += (size_t)w;
	}
	io->start = io->end = 0;
	return 0;
}

int io_put(io_t *io, const void *p, size_t n)
{
	const char *s = p;

	if (n <= io->cap - io->end) {
		if (n)
			memcpy(io->buf + io->end, s, n);
		io->end += n;
		return 0;
	}
	if (io_flush(io) < 0)
		return -1;
	if (n < io->cap) {
		memcpy(io->buf, s, n);
		io->end = n;
		return 0;
	}
	/* larger than the buffer: write it straight through */
	while (n > 0) {
		ssize_t w = io_write_some(io, s, n);
		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int io_puts(io_t *io, const char *s)
{
	return io_put(io, s, strlen(s));
}

int io_printf(io_t *io, const char *fmt, ...)
{
	va_list ap;
	size_t room = io->cap - io->end;
	int n, r;
	char *tmp;

	/* format straight into the buffer when it fits */
	va_start(ap, fmt);
	n = vsnprintf(io->buf ? io->buf + io->end : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)n < room) {
		io->end += (size_t)n;
		return 0;
	}
	if ((size_t)n < io->cap) {
		if (io_flush(io) < 0)
			return -1;
		va_start(ap, fmt);
		n = vsnprintf(io->buf, io->cap, fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= io->cap) {
			errno = EINVAL;
			return -1;
		}
		io->end = (size_t)n;
		return 0;
	}
	tmp = malloc((size_t)n + 1);
	if (!tmp) {
		errno = ENOMEM;
		return -1;
	}
	va_start(ap, fmt);
	r = vsnprintf(tmp, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (r != n) {
		free(tmp);
		errno = EINVAL;
		return -1;
	}
	r = io_put(io, tmp, (size_t)n);
	free(tmp);
	return r;
}

int fd_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (io_wait(fd, POLLOUT, -1) < 0)
					return -1;
				continue;
			}
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
