/* passcheck: the client side of pochta-checkpass (passcheck.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "log.h"
#include "lreq.h"
#include "passcheck.h"
#include "passreq.h"
#include "paths.h"

int passcheck_service_fd(void)
{
	const char *v = getenv(PASSCHECK_ENV);
	struct stat st;
	char *end;
	long fd;

	if (!v || !*v)
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno || *end || fd < 3 || fd > 1024 || fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return -1;
	(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

/* the exit status's meaning */
static int passcheck_status(int code, char *why, size_t whysz)
{
	switch (code) {
	case 0:
		return PASSCHECK_OK;
	case 1:
		return PASSCHECK_FAIL;
	case 2:
		return PASSCHECK_OK_SYSTEM;
	default:
		snprintf(why, whysz, "pochta-checkpass exited %d", code);
		return PASSCHECK_TEMP;
	}
}

static int passcheck_service(int svc, const char *req, size_t len, char *why, size_t whysz)
{
	int sv[2], r = PASSCHECK_TEMP;
	struct pollfd p;
	unsigned char ans;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(why, whysz, "socketpair: %s", strerror(errno));
		return PASSCHECK_TEMP;
	}
	if (lreq_send(svc, "C", 1, sv[1]) < 0) {
		snprintf(why, whysz, "the checker service: %s", strerror(errno));
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	if (send(sv[0], req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		snprintf(why, whysz, "the checker service: %s", strerror(errno));
		goto out;
	}
	p.fd = sv[0];
	p.events = POLLIN;
	for (;;) {
		int k = poll(&p, 1, PASSCHECK_TIMEOUT_MS);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(why, whysz, "the checker service: %s", k ? strerror(errno) : "no answer in time");
			goto out;
		}
		break;
	}
	n = recv(sv[0], &ans, 1, 0);
	if (n != 1) {
		snprintf(why, whysz, "the checker service: %s",
		         n < 0 ? strerror(errno) : "closed without an answer");
		goto out;
	}
	r = passcheck_status(ans, why, whysz);
out:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return r;
}

/* run pochta-checkpass with the request on a pipe as its standard input (and
 * /dev/null as its output: the client's connection is not its business) */
static int passcheck_exec(const char *req, size_t len, char *why, size_t whysz)
{
	const char *prog = paths_prog("pochta-checkpass");
	int p[2], st;
	ssize_t w;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(why, whysz, "pipe: %s", strerror(errno));
		return PASSCHECK_TEMP;
	}
	/* len < PIPE_BUF: written whole into the empty pipe, never blocks */
	w = write(p[1], req, len);
	close(p[1]);
	if (w != (ssize_t)len) {
		snprintf(why, whysz, "write to the checker's pipe: %s", w < 0 ? strerror(errno) : "short");
		close(p[0]);
		return PASSCHECK_TEMP;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		char *argv[] = { "pochta-checkpass", NULL };
		if (null < 0 || dup2(p[0], 0) < 0 || dup2(null, 1) < 0)
			_exit(111);
		execv(prog, argv);
		log_warn(NULL, "cannot run %s: %s", prog, strerror(errno));
		_exit(111);
	}
	close(p[0]);
	if (pid < 0) {
		snprintf(why, whysz, "fork: %s", strerror(errno));
		return PASSCHECK_TEMP;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			snprintf(why, whysz, "waitpid: %s", strerror(errno));
			return PASSCHECK_TEMP;
		}
	}
	if (WIFEXITED(st))
		return passcheck_status(WEXITSTATUS(st), why, whysz);
	snprintf(why, whysz, "%s killed by signal %d", prog, WTERMSIG(st));
	return PASSCHECK_TEMP;
}

int passcheck_run(const char *req, size_t len, char *why, size_t whysz)
{
	int svc = passcheck_service_fd();

	if (svc >= 0)
		return passcheck_service(svc, req, len, why, whysz);
	return passcheck_exec(req, len, why, whysz);
}

int passcheck_login(const char *name, size_t namelen, const char *pass, size_t passlen,
                    char user[USER_MAILBOX_MAX + 1], char *why, size_t whysz)
{
	char req[PASSREQ_MAX];
	int n, r;

	if (namelen == 0 || namelen > USER_MAILBOX_MAX)
		return PASSCHECK_FAIL;
	for (size_t i = 0; i < namelen; i++)
		user[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
	user[namelen] = '\0';
	/* a bad name, an empty or too long password (no such one can be set) */
	n = passreq_build(req, user, namelen, pass, passlen);
	if (n < 0)
		return PASSCHECK_FAIL;
	r = passcheck_run(req, (size_t)n, why, whysz);
	explicit_bzero(req, sizeof req);
	return r;
}
