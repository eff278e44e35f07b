/* pochtactl reload|status|stop|restart and start -d: the running supervisor,
 * found by its pid file ROOT/log/pochtactl.pid, which it holds locked
 * (flock) while it runs: a pid file nobody locks is stale. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "confcheck.h"
#include "confrun.h"
#include "ctl.h"
#include "log.h"
#include "paths.h"

#define RUN_RELOAD_WAIT_MS 15000  /* for the supervisor to confirm a reload */
#define RUN_STOP_WAIT_MS 30000    /* its own bound is 10 s + 3 s (pochta-master(8)) */
#define RUN_START_WAIT_MS 15000   /* start -d: for the supervisor to hold its lock */

/* LSB init-script status codes, as `postfix status` */
#define RUN_ST_RUNNING 0
#define RUN_ST_STALE 1            /* dead, with a pid file left */
#define RUN_ST_STOPPED 3

void ctl_print_lines(const sa_t *lines)
{
	for (size_t i = 0; i < lines->len;) {
		const char *nl = memchr(lines->s + i, '\n', lines->len - i);
		size_t n = nl ? (size_t)(nl - (lines->s + i)) : lines->len - i;
		ctl_warn("%.*s", (int)n, lines->s + i);
		i += n + 1;
	}
}

static long long run_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static const char *run_pidfile(void)
{
	static char p[sizeof paths.log + 32];
	snprintf(p, sizeof p, "%s/pochtactl.pid", paths.log);
	return p;
}

/* the supervisor's pid when it runs (its pid file is locked); 0 when not,
 * with *stale the pid a left-over pid file names (0: none) */
static pid_t run_master(pid_t *stale)
{
	char buf[32];
	*stale = 0;
	int fd = open(run_pidfile(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		ctl_die_sys("cannot open %s", run_pidfile());
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	long v = strtol(buf, NULL, 10);
	int locked = flock(fd, LOCK_SH | LOCK_NB) < 0;
	if (locked && errno != EWOULDBLOCK)
		ctl_die_sys("cannot test the lock of %s", run_pidfile());
	close(fd); /* our shared lock, if we got it, goes with it */
	if (!locked) {
		*stale = v > 0 ? (pid_t)v : 0;
		return 0;
	}
	if (v <= 0) /* locked while it is being written: a supervisor starting */
		ctl_die("%s is locked but names no pid yet: the supervisor is starting", run_pidfile());
	return (pid_t)v;
}

static pid_t run_master_or_die(const char *what)
{
	pid_t stale;
	pid_t pid = run_master(&stale);
	if (!pid)
		ctl_die("pochta is not running (%s): nothing to %s", paths.root[0] ? paths.root : paths.etc, what);
	return pid;
}

static int run_same_stat(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* the keys that differ between a and b, restart (1) or not (0) ones, as
 * "k1 k2" in out */
static void run_diff(const struct conf *a, const struct conf *b, int restart, sa_t *out)
{
	sa_t x = SA_INIT, y = SA_INIT;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (conf_key_restart(k) != restart)
			continue;
		sa_trunc(&x, 0);
		sa_trunc(&y, 0);
		if (conf_format(a, k, &x) < 0 || conf_format(b, k, &y) < 0)
			ctl_die_sys("out of memory");
		if (x.len != y.len || memcmp(x.s, y.s, x.len) != 0)
			if (sa_catf(out, "%s%s", out->len ? " " : "", k->name) < 0)
				ctl_die_sys("out of memory");
	}
	sa_free(&x);
	sa_free(&y);
}

int ctl_cmd_reload(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		ctl_usage();
	/* checked here first, so the problems are told to who asked; the
	 * supervisor checks again before it applies anything */
	struct conf want, got;
	sa_t text = SA_INIT, problems = SA_INIT, warn = SA_INIT, err = SA_INIT, diff = SA_INIT;
	if (conf_read_file(paths.conf, &text, &err) < 0)
		ctl_die("not reloaded: %s", err.s);
	int n = confcheck_text(&want, paths.conf, text.s ? text.s : "", text.len, &problems, &warn);
	if (n < 0)
		ctl_die_sys("out of memory");
	ctl_print_lines(&warn);
	if (n > 0) {
		ctl_print_lines(&problems);
		ctl_die("not reloaded: %d problem%s in %s; a running instance keeps its last valid configuration",
		        n, n == 1 ? "" : "s", paths.conf);
	}
	pid_t pid = run_master_or_die("reload");
	struct stat before, st;
	int had = stat(confrun_snapshot(), &before) == 0;
	if (kill(pid, SIGHUP) < 0)
		ctl_die_sys("cannot signal pochta-master (pid %ld)", (long)pid);
	/* done when it replaced its copy (a new file, durable_replace) */
	long long end = run_now_ms() + RUN_RELOAD_WAIT_MS;
	for (;;) {
		if (stat(confrun_snapshot(), &st) == 0 && (!had || !run_same_stat(&st, &before)))
			break;
		if (run_now_ms() >= end)
			ctl_die("pochta-master (pid %ld) did not confirm the reload within %d s: see its log",
			        (long)pid, RUN_RELOAD_WAIT_MS / 1000);
		run_sleep_ms(50);
	}
	if (conf_load(&got, confrun_snapshot(), &err) < 0)
		ctl_die("cannot read %s: %s", confrun_snapshot(), err.s);
	run_diff(&want, &got, 0, &diff);
	if (diff.len)
		ctl_die("reloaded, but not what was checked (%s changed meanwhile?): %s differ; see the log",
		        paths.conf, diff.s);
	printf("reloaded %s\n", paths.conf);
	run_diff(&want, &got, 1, &diff);
	if (diff.len)
		printf("changed, effective at the next restart (pochtactl restart): %s\n", diff.s);
	conf_free(&want);
	conf_free(&got);
	sa_free(&text);
	sa_free(&problems);
	sa_free(&warn);
	sa_free(&err);
	sa_free(&diff);
	return 0;
}

/* seconds since pid started, or -1 */
static long run_uptime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* field 22, starttime, counted after the ")" that ends the name */
	char *p = strrchr(buf, ')');
	unsigned long long start = 0;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	double up;
	f = fopen("/proc/uptime", "re");
	if (!f)
		return -1;
	int ok = fscanf(f, "%lf", &up) == 1;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (!ok || hz <= 0)
		return -1;
	double s = up - (double)start / (double)hz;
	return s < 0 ? 0 : (long)s;
}

/* argv[0]'s base name and its first argument, of a process */
static int run_cmdline(pid_t pid, char *out, size_t len)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	size_t a0 = strlen(buf);
	const char *arg = (ssize_t)a0 + 1 < n ? buf + a0 + 1 : "";
	for (char *c = buf + a0 + 1; c < buf + n; c++)
		if (*c == '\0' && c + 1 < buf + n)
			*c = ' ';
	snprintf(out, len, "%s%s%s", base, *arg ? " " : "", arg);
	for (char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return 0;
}

/* the processes the supervisor started, one line each */
static void run_children(pid_t pid)
{
	char path[96], buf[8192], cmd[256];
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", (long)pid, (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	for (char *p = buf, *end; *p; p = end) {
		long c = strtol(p, &end, 10);
		if (end == p)
			break;
		if (c > 0 && run_cmdline((pid_t)c, cmd, sizeof cmd) == 0)
			printf("  pid %ld %s\n", c, cmd);
	}
}

/* queue files in QUEUE/sub (dot files are being written); -1 with errno */
static long run_count(const char *sub)
{
	char path[sizeof paths.queue + 16];
	snprintf(path, sizeof path, "%s/%s", paths.queue, sub);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int ctl_cmd_status(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		ctl_usage();
	pid_t stale;
	pid_t pid = run_master(&stale);
	const char *where = paths.root[0] ? paths.root : paths.etc;
	if (!pid && stale) {
		printf("pochta is not running (%s), but %s names pid %ld: it ended without stopping cleanly\n",
		       where, run_pidfile(), (long)stale);
		return RUN_ST_STALE;
	}
	if (!pid) {
		printf("pochta is not running (%s)\n", where);
		return RUN_ST_STOPPED;
	}
	long up = run_uptime(pid);
	if (up >= 0)
		printf("pochta is running (%s): pochta-master pid %ld, up %ldd %02ld:%02ld:%02ld\n", where,
		       (long)pid, up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	else
		printf("pochta is running (%s): pochta-master pid %ld\n", where, (long)pid);
	run_children(pid);
	struct conf c;
	sa_t err = SA_INIT;
	if (confrun_load(&c, &err) == 0) {
		printf("listening smtp %s\n", c.smtp_listen[0] ? c.smtp_listen : "(none)");
		printf("listening submission %s\n", c.submission_listen[0] ? c.submission_listen : "(none)");
		printf("listening pop3 %s\n", c.pop3_listen[0] ? c.pop3_listen : "(none)");
	} else {
		printf("listening: unknown (%s)\n", err.s ? err.s : strerror(errno));
	}
	conf_free(&c);
	sa_free(&err);
	long in = run_count("incoming"), act = run_count("mess"), held = run_count("hold");
	if (in < 0 || act < 0 || held < 0)
		printf("queue: cannot read %s: %s\n", paths.queue, strerror(errno));
	else
		printf("queue: %ld message%s (incoming %ld, active %ld, held %ld)\n", in + act + held,
		       in + act + held == 1 ? "" : "s", in, act, held);
	return RUN_ST_RUNNING;
}

/* SIGTERM to the supervisor and wait for it to end: 0, or 1 when it still
 * runs after RUN_STOP_WAIT_MS */
static int run_stop(pid_t pid)
{
	pid_t stale;
	if (kill(pid, SIGTERM) < 0)
		ctl_die_sys("cannot signal pochta-master (pid %ld)", (long)pid);
	long long end = run_now_ms() + RUN_STOP_WAIT_MS;
	while (run_master(&stale) == pid) {
		if (run_now_ms() >= end) {
			ctl_warn("pochta-master (pid %ld) still runs after %d s: see its log", (long)pid,
			         RUN_STOP_WAIT_MS / 1000);
			return 1;
		}
		run_sleep_ms(50);
	}
	printf("stopped (pid %ld)\n", (long)pid);
	return 0;
}

int ctl_cmd_stop(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		ctl_usage();
	return run_stop(run_master_or_die("stop"));
}

/* start -d: the supervisor in the background, its output appended to
 * ROOT/log/pochta.log; 0 once it holds its lock, 1 when it ended first */
int ctl_start_background(const char *prog, char *const args[])
{
	char logp[sizeof paths.log + 32];
	snprintf(logp, sizeof logp, "%s/%s", paths.log, LOG_FILE_NAME);
	int lfd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (lfd < 0)
		ctl_die_sys("cannot open %s", logp);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		ctl_die_sys("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0)
			_exit(111);
		if (null > 2)
			close(null);
		execv(prog, args);
		_exit(111);
	}
	close(lfd);
	long long end = run_now_ms() + RUN_START_WAIT_MS;
	for (;;) {
		pid_t running = 0;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			ctl_warn("pochta-master exited %d before it was running: see %s",
			         WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), logp);
			return 1;
		}
		int fd = open(run_pidfile(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			/* locked and naming the child: it runs (a lock without the
			 * pid yet is the moment between the two) */
			char buf[32];
			ssize_t n = read(fd, buf, sizeof buf - 1);
			buf[n > 0 ? n : 0] = '\0';
			if (strtol(buf, NULL, 10) == (long)pid && flock(fd, LOCK_SH | LOCK_NB) < 0)
				running = pid;
			close(fd);
		}
		if (running) {
			printf("started (pid %ld), logging to %s\n", (long)pid, logp);
			return 0;
		}
		if (run_now_ms() >= end) {
			ctl_warn("pochta-master (pid %ld) not running after %d s: see %s", (long)pid,
			         RUN_START_WAIT_MS / 1000, logp);
			return 1;
		}
		run_sleep_ms(50);
	}
}

int ctl_cmd_restart(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		ctl_usage();
	pid_t stale;
	pid_t pid = run_master(&stale);
	if (pid && run_stop(pid) != 0)
		return 1;
	if (!pid)
		printf("pochta was not running\n");
	char *sargv[] = { "start", "-d", NULL };
	return ctl_cmd_start(2, sargv);
}
