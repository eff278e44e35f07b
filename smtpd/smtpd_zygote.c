/* smtpd_zygote: pochta-smtpd -z, kept by the supervisor (man/pochta-master.8)
 * so that a connection costs a fork of a small process, not a fork and an
 * exec. It says "Z1" on its control socket (stdin, an AF_UNIX packet socket),
 * then takes one packet per accepted connection: the connection as a
 * descriptor and "REMOTEIP REMOTEPORT". For each it makes a child with
 * CLONE_PARENT, so that the session is the supervisor's own child (counted,
 * reaped and stopped there exactly like an exec'd one), and replies with the
 * child's pid ("0": none was made). The child returns from smtpd_zygote to
 * run main's session, with the connection as its stdin and stdout and a
 * fresh process image's state: the zygote itself never runs a session, reads
 * no configuration and holds nothing. The zygote ends at EOF. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "listen.h"
#include "lreq.h"
#include "smtpd.h"

#define ZYGOTE_REQ_MAX 128

/* "IP PORT" from the supervisor: the IP as numeric text, nothing else */
static int zygote_parse(char *buf, const char **ip, unsigned *port)
{
	char *sp = strchr(buf, ' '), *end;
	unsigned long v;

	if (!sp || sp == buf || sp - buf >= 64)
		return -1;
	*sp = '\0';
	for (const char *p = buf; *p; p++)
		if (!strchr("0123456789abcdefABCDEF.:", *p))
			return -1;
	errno = 0;
	v = strtoul(sp + 1, &end, 10);
	if (errno || *end || end == sp + 1 || v > 65535)
		return -1;
	*ip = buf;
	*port = (unsigned)v;
	return 0;
}

/* the session child: the connection on 0 and 1, as the supervisor would set it */
static void zygote_child(int fd, const char *ip, unsigned port, pid_t super, char *zarg)
{
	/* ps and /proc/PID/cmdline: "pochta-smtpd" is a session, "pochta-smtpd -z"
	 * the zygote */
	memset(zarg, 0, strlen(zarg));
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) /* 0 was the control socket */
		_exit(111);
	if (fd > 1)
		close(fd);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != super || listen_ucspi_env(0, ip, port) < 0)
		_exit(111);
}

void smtpd_zygote(char *zarg)
{
	char buf[ZYGOTE_REQ_MAX + 1], reply[32];
	pid_t super = getppid();

	if (send(0, "Z1", 2, MSG_NOSIGNAL) != 2)
		_exit(111);
	for (;;) {
		const char *ip;
		unsigned port;
		long pid = 0;
		int fd, len;
		ssize_t n = lreq_recv(0, buf, ZYGOTE_REQ_MAX, &fd);

		if (n == 0)
			_exit(0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EMSGSIZE)
			_exit(111);
		if (n > 0 && fd >= 0) {
			buf[n] = '\0';
			if (zygote_parse(buf, &ip, &port) == 0) {
				/* not fork(): the child's parent is the supervisor */
				pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL,
				              NULL, 0);
				if (pid == 0) {
					zygote_child(fd, ip, port, super, zarg);
					return;
				}
				if (pid < 0)
					pid = 0;
			}
		}
		if (fd >= 0)
			close(fd);
		len = snprintf(reply, sizeof reply, "%ld", pid);
		if (send(0, reply, (size_t)len, MSG_NOSIGNAL) != len)
			_exit(111);
	}
}
