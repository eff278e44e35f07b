/* pochtactl start: the foreground supervisor of an instance (the jobs of
 * tcpserver and of s6-supervise for one tree of programs):
 *   - listens on smtp_listen and pop3_listen and runs one pochta-smtpd or
 *     pochta-pop3d per connection, the connection on fds 0 and 1, UCSPI
 *     variables (PROTO, TCPREMOTEIP, ...) in the environment;
 *   - enforces max_connections and max_connections_per_ip per listener (not
 *     for clients in connection_limit_exempt); a session counts until its
 *     process has exited: children are reaped right before each count;
 *   - keeps pochta-qmgr running (restarted at most once a second);
 *   - on SIGTERM/SIGINT stops every process it started and exits 0.
 * Signals only write a byte to a self-pipe; all work happens in the poll() loop.
 * The supervisor is a child subreaper, so processes orphaned by its children
 * (an enqueue left by a dying smtpd) are reaped here and stopped at shutdown.
 * Each child leads its own process group so a whole subtree can be signalled. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cidr.h"
#include "conf.h"
#include "ctl.h"
#include "io.h"
#include "log.h"
#include "paths.h"

#define STOP_GRACE_MS 10000   /* SIGTERM to SIGKILL */
#define KILL_WAIT_MS 3000     /* after SIGKILL, before giving up */
#define ACCEPT_PAUSE_MS 100   /* after EMFILE and the like */
#define QMGR_QUICK_MS 10000   /* a qmgr that dies sooner is "crashing" */
#define QMGR_DELAY_MAX_MS 30000

struct lsn {
	const char *svc;          /* "smtp" or "pop3" */
	char addr[320];
	char prog[4300];
	int fd;
	long long nconn;
	long long paused_until;   /* ms, monotonic */
	const char *busy;         /* reply when over a limit */
};

struct child {
	pid_t pid;
	int lsn;
	int family;
	unsigned char ip[16];
};

static struct lsn lsns[2];
static int nlsn;
static struct child *kids;
static size_t nkids, kids_cap;
static long long max_conn, max_per_ip;
static struct cidr *exempt;   /* connection_limit_exempt */
static size_t nexempt;
static pid_t qmgr_pid;
static long long qmgr_started, qmgr_next, qmgr_delay = 1000;
static int qmgr_quick;
static char qmgr_prog[4300];
static pid_t self_pid;

static int sigpipe_fd[2] = { -1, -1 };
static volatile sig_atomic_t got_stop;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	int e = errno;
	if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
	char c = (char)sig;
	(void)!write(sigpipe_fd[1], &c, 1);
	errno = e;
}

static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

static void signals_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
		if (sigaction(handled[i], &sa, NULL) < 0)
			ctl_die_sys("sigaction");
	/* a client that goes away before our busy reply must not kill us */
	signal(SIGPIPE, SIG_IGN);
}

static void signals_block(int how)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
		sigaddset(&set, handled[i]);
	sigprocmask(how, &set, NULL);
}

/* in a new child, before exec: clean signal state, own process group, and
 * SIGTERM if the supervisor dies (even by SIGKILL) */
static void child_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
		sigaction(handled[i], &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != self_pid)
		_exit(111);
}

static void status_text(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "status=%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal=%d", WTERMSIG(st));
	else
		snprintf(buf, len, "wstatus=%d", st);
}

static void qmgr_start(void)
{
	signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		child_setup();
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0)
			_exit(111);
		if (null > 1)
			close(null);
		char *argv[] = { "pochta-qmgr", NULL };
		execv(qmgr_prog, argv);
		log_warn(NULL, "cannot run %s: %s", qmgr_prog, strerror(errno));
		_exit(111);
	}
	signals_block(SIG_UNBLOCK);
	qmgr_started = now_ms();
	if (pid < 0) {
		log_warn(NULL, "cannot fork for qmgr: %s", strerror(errno));
		qmgr_next = qmgr_started + 1000;
		return;
	}
	qmgr_pid = pid;
	log_info(NULL, "qmgr started pid=%d", (int)pid);
}

static void qmgr_exited(int st)
{
	char s[40];
	status_text(st, s, sizeof s);
	long long t = now_ms();
	/* at most one restart a second; a qmgr that keeps dying right away
	 * (missing, bad config) is retried less and less often */
	if (t - qmgr_started < QMGR_QUICK_MS) {
		if (++qmgr_quick > 3 && qmgr_delay < QMGR_DELAY_MAX_MS)
			qmgr_delay *= 2;
	} else {
		qmgr_quick = 0;
		qmgr_delay = 1000;
	}
	if (qmgr_delay > QMGR_DELAY_MAX_MS)
		qmgr_delay = QMGR_DELAY_MAX_MS;
	qmgr_next = qmgr_started + qmgr_delay;
	if (qmgr_next < t)
		qmgr_next = t;
	qmgr_pid = 0;
	if (got_stop)
		log_info(NULL, "qmgr exited %s", s);
	else
		log_info(NULL, "qmgr exited %s, restarting in %lldms", s, qmgr_next - t);
}

/* reap every child that has exited; 1 when there are no children left at all */
static int reap(int stopping)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0)
			return errno == ECHILD;
		if (pid == 0)
			return 0;
		if (pid == qmgr_pid) {
			qmgr_exited(st);
			continue;
		}
		for (size_t i = 0; i < nkids; i++) {
			if (kids[i].pid != pid)
				continue;
			struct lsn *l = &lsns[kids[i].lsn];
			l->nconn--;
			if (stopping || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				char s[40];
				status_text(st, s, sizeof s);
				log_info(NULL, "end %s pid=%d %s", l->svc, (int)pid, s);
			}
			if (stopping)
				kill(-pid, SIGTERM); /* what it leaves behind in its group */
			kids[i] = kids[--nkids];
			break;
		}
		/* others: descendants orphaned to us (we are their subreaper) */
	}
}

static void addr_key(const struct sockaddr_storage *ss, int *family, unsigned char ip[16])
{
	memset(ip, 0, 16);
	*family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(ip, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static void refuse(int fd, struct lsn *l, const char *ip, const char *why)
{
	/* one non-blocking write: a slow client must never stall the supervisor */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)!write(fd, l->busy, strlen(l->busy));
	close(fd);
	log_warn(NULL, "refused %s from=%s reason=%s", l->svc, ip, why);
}

static void conn_exec(int fd, struct lsn *l, const char *rip, unsigned rport)
{
	char lip[64] = "", num[16];
	unsigned lport = 0;
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
		ctl_sockaddr_text((struct sockaddr *)&me, lip, sizeof lip, &lport);
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(111);
	if (fd > 1)
		close(fd);
	setenv("PROTO", "TCP", 1);
	setenv("TCPREMOTEIP", rip, 1);
	snprintf(num, sizeof num, "%u", rport);
	setenv("TCPREMOTEPORT", num, 1);
	setenv("TCPLOCALIP", lip, 1);
	snprintf(num, sizeof num, "%u", lport);
	setenv("TCPLOCALPORT", num, 1);
	/* names we do not look up must not be inherited from our own environment */
	unsetenv("TCPREMOTEHOST");
	unsetenv("TCPREMOTEINFO");
	unsetenv("TCPLOCALHOST");
	char *argv[] = { l->svc[0] == 's' ? "pochta-smtpd" : "pochta-pop3d", NULL };
	execv(l->prog, argv);
	log_warn(NULL, "cannot run %s: %s", l->prog, strerror(errno));
	_exit(111);
}

static void conn_new(int li, int fd, const struct sockaddr_storage *peer)
{
	struct lsn *l = &lsns[li];
	char ip[64] = "?";
	unsigned port = 0;
	ctl_sockaddr_text((const struct sockaddr *)peer, ip, sizeof ip, &port);
	int fam;
	unsigned char key[16];
	addr_key(peer, &fam, key);
	/* a session that has ended must not count: its SIGCHLD may still be on
	 * its way (or come in the middle of a burst of accepts) */
	reap(0);
	if (l->nconn >= max_conn || nkids >= kids_cap) {
		refuse(fd, l, ip, "max_connections");
		return;
	}
	if (!cidr_match(exempt, nexempt, ip)) {
		long long same = 0;
		for (size_t i = 0; i < nkids; i++)
			if (kids[i].lsn == li && kids[i].family == fam && memcmp(kids[i].ip, key, 16) == 0)
				same++;
		if (same >= max_per_ip) {
			refuse(fd, l, ip, "max_connections_per_ip");
			return;
		}
	}
	signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		child_setup();
		conn_exec(fd, l, ip, port);
	}
	signals_block(SIG_UNBLOCK);
	close(fd);
	if (pid < 0) {
		log_warn(NULL, "cannot fork for %s from=%s: %s", l->svc, ip, strerror(errno));
		l->paused_until = now_ms() + ACCEPT_PAUSE_MS;
		return;
	}
	kids[nkids].pid = pid;
	kids[nkids].lsn = li;
	kids[nkids].family = fam;
	memcpy(kids[nkids].ip, key, 16);
	nkids++;
	l->nconn++;
	log_info(NULL, "connection %s from=%s pid=%d", l->svc, ip, (int)pid);
}

static void accept_all(int li)
{
	struct lsn *l = &lsns[li];
	for (int n = 0; n < 64; n++) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof peer;
		memset(&peer, 0, sizeof peer);
		int fd = accept4(l->fd, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_warn(NULL, "accept %s: %s", l->svc, strerror(errno));
			l->paused_until = now_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		conn_new(li, fd, &peer);
		if (got_stop)
			return;
	}
}

static int lsn_open(const char *svc, const char *addr, const char *prog, const char *busy)
{
	struct ctl_listen cl;
	sa_t err = SA_INIT;
	if (ctl_listen_parse(addr, &cl, &err) < 0)
		ctl_die("%s_listen %s: %s", svc, addr, err.s);
	sa_free(&err);
	int fd = socket(cl.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		ctl_die_sys("socket for %s %s", svc, addr);
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		ctl_die_sys("SO_REUSEADDR");
	if (cl.ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		ctl_die_sys("IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&cl.ss, cl.sslen) < 0)
		ctl_die_sys("cannot listen for %s on %s", svc, addr);
	if (listen(fd, 128) < 0)
		ctl_die_sys("listen %s", addr);
	struct lsn *l = &lsns[nlsn++];
	l->svc = svc;
	snprintf(l->addr, sizeof l->addr, "%s", addr);
	snprintf(l->prog, sizeof l->prog, "%s", prog);
	l->fd = fd;
	l->busy = busy;
	log_info(NULL, "listening %s=%s", svc, addr);
	return 0;
}

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* the children of this process, from /proc; appends up to cap PIDs */
static size_t proc_children(pid_t *out, size_t cap)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)self_pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	size_t cnt = 0;
	char *p = buf;
	while (*p && cnt < cap) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v > 0)
			out[cnt++] = (pid_t)v;
		p = end;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	return cnt;
}

static void signal_rest(int sig, const pid_t *groups, size_t ngroups)
{
	pid_t ch[1024];
	size_t n = proc_children(ch, 1024);
	for (size_t i = 0; i < n; i++)
		kill(ch[i], sig);
	for (size_t i = 0; i < ngroups; i++)
		kill(-groups[i], sig);
}

static void drain_pipe(void)
{
	char buf[64];
	ssize_t n;
	while ((n = read(sigpipe_fd[0], buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == SIGHUP)
				log_info(NULL, "SIGHUP ignored: each new process reads pochta.conf itself;"
				         " restart to change listeners or limits");
}

/* wait for children up to deadline; 1 when none is left */
static int wait_all(long long deadline, const pid_t *groups, size_t ngroups, int *rest_told)
{
	for (;;) {
		if (reap(1))
			return 1;
		if (nkids == 0 && qmgr_pid == 0 && !*rest_told) {
			/* the processes we started are gone: what remains are their
			 * descendants, orphaned to us */
			signal_rest(SIGTERM, groups, ngroups);
			*rest_told = 1;
		}
		long long t = now_ms();
		if (t >= deadline)
			return 0;
		long long w = deadline - t;
		struct pollfd p = { .fd = sigpipe_fd[0], .events = POLLIN };
		poll(&p, 1, (int)(w > 50 ? 50 : w));
		drain_pipe();
	}
}

static int stop_all(void)
{
	log_info(NULL, "stopping: terminating %zu connection(s)%s", nkids, qmgr_pid ? " and qmgr" : "");
	for (int i = 0; i < nlsn; i++)
		close(lsns[i].fd);
	size_t ng = nkids + 1;
	pid_t *groups = calloc(ng, sizeof *groups);
	size_t n = 0;
	for (size_t i = 0; i < nkids; i++) {
		kill(kids[i].pid, SIGTERM);
		if (groups)
			groups[n++] = kids[i].pid;
	}
	if (qmgr_pid) {
		kill(qmgr_pid, SIGTERM);
		if (groups)
			groups[n++] = qmgr_pid;
	}
	int told = 0;
	if (!wait_all(now_ms() + STOP_GRACE_MS, groups, n, &told)) {
		log_warn(NULL, "children still running after %ds: killing them", STOP_GRACE_MS / 1000);
		for (size_t i = 0; i < nkids; i++)
			kill(kids[i].pid, SIGKILL);
		if (qmgr_pid)
			kill(qmgr_pid, SIGKILL);
		signal_rest(SIGKILL, groups, n);
		told = 1;
		if (!wait_all(now_ms() + KILL_WAIT_MS, groups, n, &told))
			log_warn(NULL, "some children did not exit");
	}
	free(groups);
	log_info(NULL, "stopped");
	return 0;
}

int ctl_cmd_start(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		ctl_usage();
	struct conf c;
	ctl_conf_load(&c);
	sa_t err = SA_INIT;
	if (ctl_conf_semantic_all(&c, &err) < 0)
		ctl_die("%s: %s (see pochtactl config check)", paths.conf, err.s);
	sa_free(&err);

	/* one supervisor per instance: two would run two queue managers on one
	 * queue. The lock file holds our PID for the operator; the flock goes
	 * away with this process, and children never inherit it (O_CLOEXEC). */
	sa_t lockpath = SA_INIT;
	if (sa_catf(&lockpath, "%s/pochtactl.pid", paths.log) < 0)
		ctl_die_sys("out of memory");
	int lockfd = open(lockpath.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lockfd < 0)
		ctl_die_sys("cannot open %s", lockpath.s);
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			ctl_die("another pochtactl start is running for %s (see %s)",
			        paths.root[0] ? paths.root : paths.etc, lockpath.s);
		ctl_die_sys("lock %s", lockpath.s);
	}
	char pidbuf[32];
	int pl = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
	if (ftruncate(lockfd, 0) < 0 || fd_write_all(lockfd, pidbuf, (size_t)pl) < 0)
		ctl_die_sys("cannot write %s", lockpath.s);
	sa_free(&lockpath);

	/* the children log to our stderr; POCHTA_ROOT is set by paths_init */
	if (setenv("POCHTA_LOG", "stderr", 1) < 0)
		ctl_die_sys("setenv");
	log_init("pochtactl", LOG_DEST_STDERR);
	self_pid = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn(NULL, "cannot become a subreaper: %s", strerror(errno));

	if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		ctl_die_sys("pipe");
	signals_setup();

	max_conn = c.max_connections;
	max_per_ip = c.max_connections_per_ip;
	if (cidr_list_parse_ref(c.connection_limit_exempt, "relay_networks", c.relay_networks,
	                        &exempt, &nexempt, &err) < 0)
		ctl_die("connection_limit_exempt: %s", err.s ? err.s : strerror(errno));
	sa_free(&err);

	const char *p = paths_prog("pochta-smtpd");
	char smtpd[4300];
	snprintf(smtpd, sizeof smtpd, "%s", p);
	p = paths_prog("pochta-pop3d");
	char pop3d[4300];
	snprintf(pop3d, sizeof pop3d, "%s", p);
	p = paths_prog("pochta-qmgr");
	snprintf(qmgr_prog, sizeof qmgr_prog, "%s", p);

	if (c.smtp_listen[0]) {
		if (!executable(smtpd))
			ctl_die("%s is missing or not executable", smtpd);
		lsn_open("smtp", c.smtp_listen, smtpd, "421 4.7.0 too many connections, try again later\r\n");
	}
	if (c.pop3_listen[0]) {
		if (executable(pop3d))
			lsn_open("pop3", c.pop3_listen, pop3d, "-ERR [SYS/TEMP] too many connections\r\n");
		else
			log_warn(NULL, "%s is missing: no POP3 listener", pop3d);
	}
	if (!executable(qmgr_prog))
		log_warn(NULL, "%s is missing or not executable: the queue will not be run", qmgr_prog);
	if (nlsn == 0)
		log_warn(NULL, "no listener configured (smtp_listen and pop3_listen are empty)");

	size_t cap = (size_t)max_conn * (size_t)(nlsn ? nlsn : 1);
	kids = calloc(cap, sizeof *kids);
	if (!kids)
		ctl_die_sys("out of memory");
	kids_cap = cap;
	conf_free(&c);

	qmgr_start();
	while (!got_stop) {
		long long t = now_ms();
		if (!qmgr_pid && t >= qmgr_next)
			qmgr_start();
		long long timeout = -1;
		if (!qmgr_pid)
			timeout = qmgr_next > t ? qmgr_next - t : 0;
		struct pollfd pf[3];
		int map[3], np = 0;
		pf[np].fd = sigpipe_fd[0];
		pf[np].events = POLLIN;
		map[np++] = -1;
		for (int i = 0; i < nlsn; i++) {
			if (lsns[i].paused_until > t) {
				long long w = lsns[i].paused_until - t;
				if (timeout < 0 || w < timeout)
					timeout = w;
				continue;
			}
			pf[np].fd = lsns[i].fd;
			pf[np].events = POLLIN;
			map[np++] = i;
		}
		int r = poll(pf, (nfds_t)np, timeout > 60000 ? 60000 : (int)timeout);
		if (r < 0 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		if (r > 0 && (pf[0].revents & POLLIN))
			drain_pipe();
		reap(0);
		if (got_stop)
			break;
		for (int i = 1; r > 0 && i < np; i++)
			if (pf[i].revents & (POLLIN | POLLERR | POLLHUP))
				accept_all(map[i]);
	}
	return stop_all();
}
