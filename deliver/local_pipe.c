/* local_pipe: delivery to a command of an alias or a .forward (local.h).
 * The message is put into a memory file first, so the command reads it at
 * its own pace while we only read its output: no deadlock on two pipes. The
 * command runs in its own process group, killed whole at the time limit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "local.h"
#include "text.h"

#define PIPE_OUT_KEEP 1024  /* output bytes kept for the first line */
#define PIPE_LINE_SHOWN 200 /* of it, at most this much in the result */
#define PIPE_ENV_MAX 12

int local_read_msg(int in, const char *prefix, size_t max, sa_t *out, struct local_result *r)
{
	if (sa_cats(out, prefix) < 0)
		goto nomem;
	for (;;) {
		ssize_t n;
		if (sa_ready(out, 65536) < 0)
			goto nomem;
		n = read(in, out->s + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			local_set(r, 'T', "4.3.0", "cannot read the message", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->s[out->len] = '\0';
		if (out->len > max) {
			local_set(r, 'P', "5.3.4", "message too large to deliver", NULL);
			return -1;
		}
	}
	/* a last line without its LF would run into what follows */
	if (out->len && out->s[out->len - 1] != '\n' && sa_catc(out, '\n') < 0)
		goto nomem;
	return 0;
nomem:
	local_set(r, 'T', "4.3.0", "out of memory", NULL);
	return -1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the kept output's first line, safe to show (text.h), into r's text */
static void first_line(const char *out, size_t n, sa_t *t)
{
	const unsigned char *u = (const unsigned char *)out;
	size_t i = 0, shown = 0, k;

	while (i < n && shown < PIPE_LINE_SHOWN && out[i] != '\n' && out[i] != '\r') {
		k = text_safe_len(u + i, n - i);
		if (k == 0) {
			if (sa_catc(t, '?') < 0)
				return;
			i += text_unsafe_len(u + i, n - i);
		} else {
			if (sa_catb(t, out + i, k) < 0)
				return;
			i += k;
		}
		shown++;
	}
}

static int env_add(char **env, int *n, sa_t *buf, const char *name, const char *v)
{
	size_t off = buf->len;

	if (*n >= PIPE_ENV_MAX || sa_catf(buf, "%s=%s", name, v ? v : "") < 0 || sa_catc(buf, '\0') < 0)
		return -1;
	env[(*n)++] = (char *)(uintptr_t)off; /* an offset until buf stops growing */
	return 0;
}

static void run_child(const char *cmd, const struct local_env *e, int msg, int out, pid_t parent)
{
	char *env[PIPE_ENV_MAX + 1];
	sa_t buf = SA_INIT;
	int n = 0;

	/* dies with the delivery process, which dies with its worker: a worker
	 * killed (its deadline, a stop) takes the command along. Kept across
	 * the exec of /bin/sh (no set-ID program) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(111);
	setsid();
	/* moved up first: either may be 0, 1 or 2 already (a worker's stdin is
	 * its socket, closed in the child), where dup2 would keep close-on-exec */
	msg = fcntl(msg, F_DUPFD_CLOEXEC, 10);
	out = fcntl(out, F_DUPFD_CLOEXEC, 10);
	if (msg < 0 || out < 0 || dup2(msg, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(111);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if ((!e->home || chdir(e->home) < 0) && chdir("/") < 0)
		_exit(111);
	if (env_add(env, &n, &buf, "PATH", "/usr/bin:/bin") < 0 ||
	    env_add(env, &n, &buf, "SHELL", "/bin/sh") < 0 ||
	    env_add(env, &n, &buf, "HOME", e->home ? e->home : "/") < 0 ||
	    env_add(env, &n, &buf, "USER", e->user) < 0 ||
	    env_add(env, &n, &buf, "LOGNAME", e->user) < 0 ||
	    env_add(env, &n, &buf, "SENDER", e->sender) < 0 ||
	    env_add(env, &n, &buf, "RECIPIENT", e->rcpt) < 0 ||
	    env_add(env, &n, &buf, "LOCAL", e->local) < 0 ||
	    env_add(env, &n, &buf, "EXTENSION", e->ext) < 0 ||
	    env_add(env, &n, &buf, "DOMAIN", e->domain) < 0)
		_exit(111);
	for (int i = 0; i < n; i++)
		env[i] = buf.s + (uintptr_t)env[i];
	env[n] = NULL;
	signal(SIGPIPE, SIG_DFL);
	execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
	_exit(126);
}

void local_pipe(const char *cmd, const struct local_env *e, int in, struct local_result *r)
{
	char keep[PIPE_OUT_KEEP], buf[4096];
	size_t kept = 0;
	sa_t msg = SA_INIT;
	long long deadline;
	int mfd = -1, p[2] = { -1, -1 }, st = 0, timed_out = 0, done = 0;
	pid_t pid, self;

	if (sa_catf(&msg, "Return-Path: <%s>\nDelivered-To: %s\n", e->sender, e->rcpt) < 0) {
		local_set(r, 'T', "4.3.0", "out of memory", NULL);
		return;
	}
	{
		sa_t all = SA_INIT;
		int rc = local_read_msg(in, msg.s, e->max, &all, r);
		sa_free(&msg);
		msg = all;
		if (rc < 0)
			goto out;
	}
	mfd = memfd_create("pochta-pipe", MFD_CLOEXEC);
	if (mfd < 0 || write(mfd, msg.s, msg.len) != (ssize_t)msg.len || lseek(mfd, 0, SEEK_SET) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0) {
		local_set(r, 'T', "4.3.0", "cannot prepare the command's input", strerror(errno));
		goto out;
	}
	sa_free(&msg);
	self = getpid();
	pid = fork();
	if (pid < 0) {
		local_set(r, 'T', "4.3.0", "cannot fork", strerror(errno));
		goto out;
	}
	if (pid == 0)
		run_child(cmd, e, mfd, p[1], self);
	close(p[1]);
	p[1] = -1;
	deadline = now_ms() + e->time_limit * 1000;
	/* its output until EOF (the first PIPE_OUT_KEEP bytes kept), then its end */
	while (!done) {
		long long left = deadline - now_ms();
		struct pollfd pf = { p[0], POLLIN, 0 };
		int k;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (p[0] < 0) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid)
				done = 1;
			else if (w < 0 && errno != EINTR)
				break;
			else
				poll(NULL, 0, left < 50 ? (int)left : 50);
			continue;
		}
		k = poll(&pf, 1, left > 1000 ? 1000 : (int)left);
		if (k <= 0)
			continue;
		ssize_t n = read(p[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(p[0]);
			p[0] = -1;
			continue;
		}
		if (kept < sizeof keep) {
			size_t c = (size_t)n < sizeof keep - kept ? (size_t)n : sizeof keep - kept;
			memcpy(keep + kept, buf, c);
			kept += c;
		}
	}
	if (!done) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	if (timed_out) {
		char t[64];
		snprintf(t, sizeof t, "command timed out after %lld s", e->time_limit);
		local_set(r, 'T', "4.3.0", t, NULL);
	} else if (!done) {
		local_set(r, 'T', "4.3.0", "cannot wait for the command", NULL);
	} else if (WIFSIGNALED(st)) {
		char t[64];
		snprintf(t, sizeof t, "command killed by signal %d", WTERMSIG(st));
		local_set(r, 'T', "4.3.0", t, NULL);
	} else if (WEXITSTATUS(st) == 0) {
		local_set(r, 'D', "2.0.0", "delivered to command", NULL);
	} else {
		char t[64];
		int x = WEXITSTATUS(st);
		snprintf(t, sizeof t, "command failed with exit status %d", x);
		/* sendmail's mapping: EX_TEMPFAIL is worth a retry, the rest is not */
		local_set(r, x == 75 ? 'T' : 'P', x == 75 ? "4.3.0" : "5.3.0", t, NULL);
		if (kept && (sa_cats(&r->text, ": ") < 0 || (first_line(keep, kept, &r->text), 0)))
			sa_trunc(&r->text, 0);
	}
out:
	sa_free(&msg);
	if (mfd >= 0)
		close(mfd);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}
