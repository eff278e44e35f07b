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
 * no configuration and holds nothing. The zygote ends at EOF.
 * It keeps a `pochta-enqueue -z` of its own (queue/enqueue_zygote.c), on a
 * packet socket that the sessions inherit: a session's pochta-enqueue is then
 * a fork of it, not an exec. One that ended is replaced before the next
 * session, at most once a second; meanwhile sessions exec their own. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "enqclient.h"
#include "listen.h"
#include "lreq.h"
#include "paths.h"
#include "smtpd.h"

#define ZYGOTE_REQ_MAX 128

int smtpd_enqz_fd = -1;
static pid_t enqz_pid;
static time_t enqz_next;

/* the enqueue zygote: started when there is none (at most once a second) */
static void zygote_enqueue(void)
{
	int sv[2];
	pid_t pid;

	if (enqz_pid > 0 && waitpid(enqz_pid, NULL, WNOHANG) == 0)
		return;
	if (smtpd_enqz_fd >= 0)
		close(smtpd_enqz_fd);
	smtpd_enqz_fd = -1;
	enqz_pid = 0;
	if (time(NULL) < enqz_next)
		return;
	enqz_next = time(NULL) + 1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	pid = fork();
	if (pid == 0)
		enqc_exec(sv[1], paths_prog("pochta-enqueue"), "-z");
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return;
	}
	enqz_pid = pid;
	smtpd_enqz_fd = sv[0];
}

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

	if (paths_init(NULL) < 0)
		_exit(111);
	if (send(0, "Z1", 2, MSG_NOSIGNAL) != 2)
		_exit(111);
	for (;;) {
		const char *ip;
		unsigned port;
		long pid = 0;
		size_t n;
		int len, fd = lreq_next_fd(0, buf, ZYGOTE_REQ_MAX, &n);

		if (fd < 0)
			_exit(errno ? 111 : 0);
		if (zygote_parse(buf, &ip, &port) == 0) {
			zygote_enqueue();
			/* not fork(): the child's parent is the supervisor */
			pid = syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD), NULL, NULL, NULL, 0);
			if (pid == 0) {
				zygote_child(fd, ip, port, super, zarg);
				return;
			}
			if (pid < 0)
				pid = 0;
		}
		close(fd);
		len = snprintf(reply, sizeof reply, "%ld", pid);
		if (send(0, reply, (size_t)len, MSG_NOSIGNAL) != len)
			_exit(111);
	}
}
