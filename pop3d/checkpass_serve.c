/* checkpass_serve: pochta-checkpass -w, the checker service (man/
 * pochta-checkpass.8, common/passcheck.h). pochta-master starts it with one
 * end of an AF_UNIX SOCK_SEQPACKET socket pair on standard input and gives the
 * other to the pochta-smtpd sessions. Each packet that carries a descriptor
 * asks for one check: a child made for it reads one packet, the request, from
 * that descriptor, and sends back one byte, the exit status a one-shot check
 * would have given. At most CHECKPASS_SERVE_MAX checks run at once; one more
 * waits for one to end. The service ends at the socket's EOF. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpass.h"
#include "log.h"
#include "lreq.h"
#include "passreq.h"

#define CHECKPASS_SERVE_MAX 16
#define CHECKPASS_CHILD_SEC 20   /* a check that takes longer is killed */

/* in the child: the one check asked for on fd */
static void checkpass_one(int fd) __attribute__((noreturn));
static void checkpass_one(int fd)
{
	char buf[PASSREQ_MAX + 1];
	struct stat st;
	unsigned char code;
	ssize_t n;

	signal(SIGALRM, SIG_DFL);
	alarm(CHECKPASS_CHILD_SEC);
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		_exit(100);
	do
		n = recv(fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		_exit(111);
	/* a packet longer than any request fills buf whole: malformed */
	code = (unsigned char)checkpass_check(buf, (size_t)n);
	(void)send(fd, &code, 1, MSG_NOSIGNAL);
	_exit(0);
}

int checkpass_serve(int sock)
{
	int kids = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		char buf[8];
		int fd;
		ssize_t n = lreq_recv(sock, buf, sizeof buf, &fd);
		pid_t pid;

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR || errno == EMSGSIZE)
				continue;
			log_warn(NULL, "service socket: %s", strerror(errno));
			return 111;
		}
		if (fd < 0)
			continue;
		while (kids > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			kids--;
		/* all busy: wait for one (each ends within CHECKPASS_CHILD_SEC) */
		while (kids >= CHECKPASS_SERVE_MAX && waitpid(-1, NULL, 0) > 0)
			kids--;
		pid = fork();
		if (pid == 0) {
			close(sock);
			checkpass_one(fd);
		}
		close(fd);
		if (pid < 0)
			log_warn(NULL, "cannot fork a check: %s", strerror(errno));
		else
			kids++;
	}
}
