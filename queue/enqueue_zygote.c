/* enqueue_zygote: pochta-enqueue -z, kept by the SMTP zygote (pochta-smtpd
 * -z) so that a session's pochta-enqueue costs a fork, not a fork and an
 * exec. Standard input is an AF_UNIX packet socket shared by the sessions;
 * each packet carries one end of a session's socketpair, and the zygote forks
 * a child that serves it as an exec'd pochta-enqueue would (main goes on
 * with it as stdin and stdout). Nothing is replied: a session whose packet
 * cannot be sent starts one by exec. The zygote holds no configuration and
 * serves no message itself; the kernel reaps its children. It ends with its
 * parent or when every holder of the socket is gone. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "enqueue.h"
#include "lreq.h"

void enqueue_zygote(char *zarg)
{
	pid_t parent = getppid();

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent || parent == 1)
		_exit(111);
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		char b[16];
		size_t n;
		int fd = lreq_next_fd(0, b, sizeof b - 1, &n);

		if (fd < 0)
			_exit(errno ? 111 : 0);
		if (fork() == 0) {
			/* ps: "pochta-enqueue" is a session's, "pochta-enqueue -z" the zygote */
			memset(zarg, 0, strlen(zarg));
			signal(SIGCHLD, SIG_DFL);
			prctl(PR_SET_PDEATHSIG, 0);
			if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) /* 0 was the zygote's socket */
				_exit(111);
			if (fd > 1)
				close(fd);
			return;
		}
		close(fd); /* a failed fork: the session sees EOF and reports it */
	}
}
