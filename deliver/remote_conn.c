/* remote_conn: a TCP connection with a time limit. The socket stays
 * non-blocking: io.h waits with poll() and its own timeouts. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "remote.h"

long long conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int conn_open(const struct dns_addr *a, unsigned port, int timeout_s)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	long long deadline = conn_now_ms() + (long long)timeout_s * 1000;
	int fd, e, soerr = 0;
	socklen_t elen = sizeof soerr;

	memset(&ss, 0, sizeof ss);
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		memcpy(&sin->sin_addr, a->a, 4);
		slen = sizeof *sin;
	} else if (a->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		memcpy(&sin6->sin6_addr, a->a, 16);
		slen = sizeof *sin6;
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, slen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT, .revents = 0 };
		long long left = deadline - conn_now_ms();
		int r;
		if (left <= 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0)
		goto fail;
	if (soerr) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
