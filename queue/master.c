/* pochta-master: the foreground supervisor of an instance (the jobs of
 * tcpserver and of s6-supervise for one tree of programs; Postfix's master).
 * `pochtactl start` execs it.
 *   - listens on smtp_listen, submission_listen and pop3_listen and runs one
 *     pochta-smtpd (-s for submission) or pochta-pop3d per connection, the
 *     connection on fds 0 and 1, UCSPI variables (PROTO, TCPREMOTEIP, ...)
 *     in the environment;
 *   - when AUTH may be used (submission_listen, smtp_auth_enable) keeps the
 *     checker service `pochta-checkpass -w` (as root when it runs the
 *     programs as their users) and gives its socket to each pochta-smtpd as
 *     fd CHECKPASS_FD, named by POCHTA_CHECKPASS_FD (common/passcheck.h);
 *   - enforces max_connections and max_connections_per_ip per listener (not
 *     for clients in connection_limit_exempt); a session counts until its
 *     process has exited: children are reaped right before each count, and
 *     one over max_connections_per_ip only is held briefly, as its client's
 *     last session may not have exited yet;
 *   - keeps pochta-qmgr running (restarted at most once a second);
 *   - started as root without instance_user, runs each program as its own
 *     user and starts the delivery workers pochta-qmgr asks for on the spawn
 *     channel (common/spawnreq.h): the manager, as qmgr_user, could not;
 *   - runs the configuration it checked, copied to ETC/pochta.conf.running
 *     (confrun.h) for every program it starts; on SIGHUP (pochtactl reload)
 *     checks pochta.conf again and only when it is valid replaces that copy,
 *     wakes pochta-qmgr and reopens its logs; a broken file is logged and the
 *     last valid configuration stays. Keys in CONF_RESTART_KEYS keep their
 *     running values until a restart;
 *   - on SIGTERM/SIGINT stops every process it started, removes the copy and
 *     exits 0.
 * Signals only write a byte to a self-pipe; all work happens in the poll() loop.
 * The supervisor is a child subreaper, so processes orphaned by its children
 * (an enqueue left by a dying smtpd) are reaped here and stopped at shutdown.
 * Each child leads its own process group so a whole subtree can be signalled. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
#include "confcheck.h"
#include "confrun.h"
#include "io.h"
#include "listen.h"
#include "log.h"
#include "lreq.h"
#include "passcheck.h"
#include "paths.h"
#include "priv.h"
#include "rreq.h"
#include "spawnreq.h"
#include "sysuser.h"

static void master_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void master_die_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define STOP_GRACE_MS 10000   /* SIGTERM to SIGKILL */
#define KILL_WAIT_MS 3000     /* after SIGKILL, before giving up */
#define ACCEPT_PAUSE_MS 100   /* after EMFILE and the like */
#define QMGR_QUICK_MS 10000   /* a qmgr that dies sooner is "crashing" */
#define QMGR_DELAY_MAX_MS 30000
#define ZYGOTE_WAIT_MS 2000   /* for a zygote's hello or reply */
#define ZYGOTE_RETRY_MS 1000  /* after a zygote ended */
#define SPAWN_FD 3            /* pochta-qmgr's end of the spawn channel */
#define CHECKPASS_FD 3        /* pochta-smtpd's socket to the checker service */
#define SPAWN_BURST 16        /* requests served per wakeup: the listeners go on */
/* a connection over max_connections_per_ip is held this long before it is
 * refused: a client that got its 221 may reconnect before its ended session
 * is reaped (a session's exit took up to 400 ms on a loaded 2-core host under
 * ASan). Up to one per session just ended may race so: enough slots for a
 * client at the default limit (50) */
#define HOLD_MS 1000
#define HOLD_MAX 64

struct master_lsn {
	const char *svc;          /* "smtp", "submission", "pop3", "smtps" or "pop3s" */
	int smtpd;                /* runs pochta-smtpd (-s for submission and smtps) */
	int tls;                  /* smtps, pop3s: the program runs with -T (implicit TLS) */
	char addr[320];
	char prog[4300];
	int fd;
	long long nconn;
	long long paused_until;   /* ms, monotonic */
	const char *busy;         /* reply when over a limit */
	const struct priv_user *user; /* the session's user; NULL: ours */
	/* smtp: an exec'd `pochta-smtpd -z` that forks the sessions */
	pid_t zpid;               /* 0: none */
	int zsock;                /* its control socket; -1: none */
	long long znext;          /* ms: no new one before */
	int zno;                  /* the program has no -z: one exec per connection */
	int submission;           /* pochta-smtpd -s */
};

struct master_child {
	pid_t pid;
	int lsn;
	int family;
	unsigned char ip[16];
};

struct master_held {
	int fd;                   /* -1: free */
	int lsn;
	long long until;          /* ms, monotonic */
	struct sockaddr_storage peer;
};

/* smtp, pop3, smtps, pop3s, and room for more */
#define MASTER_LSN_MAX 6
static struct master_lsn master_lsns[MASTER_LSN_MAX];
static struct master_held master_held[HOLD_MAX];
static int master_nlsn;
static struct master_child *master_kids;
static size_t master_nkids, master_kids_cap;
static long long master_max_conn, master_max_per_ip;
static struct cidr *master_exempt;   /* connection_limit_exempt */
static size_t master_nexempt;
static pid_t master_qmgr_pid;
static long long master_qmgr_started, master_qmgr_next, master_qmgr_delay = 1000;
static int master_qmgr_quick;
static char master_qmgr_prog[4300];
/* the checker service: its pid, the sessions' end of its socket */
static int master_cp_want, master_cp_fd = -1;
static pid_t master_cp_pid;
static long long master_cp_next;
static char master_cp_prog[4300];
static pid_t master_self_pid;
/* started as root with no instance_user: who each program runs as */
static struct priv_user master_smtpd_user, master_qmgr_user, master_remote_user, master_virtual_user;
static const struct priv_user *master_local_user; /* NULL: root */
static int master_separate;
/* separate: the delivery workers we started for pochta-qmgr */
struct master_worker {
	pid_t pid;                /* 0: free */
	enum spawnreq_op kind;
};
static struct master_worker *master_workers;
static size_t master_workers_cap;     /* per kind */
static int master_spawn_fd = -1;      /* our end of the running qmgr's channel */
static char master_local_prog[4300], master_remote_prog[4300];

static int master_sigpipe_fd[2] = { -1, -1 };
static volatile sig_atomic_t master_got_stop;
static int master_got_hup;            /* a SIGHUP came: reload */
static struct conf master_conf;       /* what runs: the snapshot's values */

static long long master_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void master_on_signal(int sig)
{
	int e = errno;
	if (sig == SIGTERM || sig == SIGINT)
		master_got_stop = 1;
	char c = (char)sig;
	(void)!write(master_sigpipe_fd[1], &c, 1);
	errno = e;
}

static const int master_handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

static void master_signals_setup(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = master_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < sizeof master_handled / sizeof master_handled[0]; i++)
		if (sigaction(master_handled[i], &sa, NULL) < 0)
			master_die_sys("sigaction");
	/* a client that goes away before our busy reply must not kill us */
	signal(SIGPIPE, SIG_IGN);
}

static void master_signals_block(int how)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof master_handled / sizeof master_handled[0]; i++)
		sigaddset(&set, master_handled[i]);
	sigprocmask(how, &set, NULL);
}

/* in a new child, before exec: clean signal state, own process group, the
 * user it runs as (u; NULL: ours), and SIGTERM if the supervisor dies (even
 * by SIGKILL; set after the drop, which clears it) */
static void master_child_setup(const struct priv_user *u)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof master_handled / sizeof master_handled[0]; i++)
		sigaction(master_handled[i], &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (u) {
		sa_t err = SA_INIT;
		if (priv_drop(u, &err) < 0) {
			log_warn(NULL, "cannot run as %s: %s", u->name, err.s ? err.s : "?");
			_exit(111);
		}
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != master_self_pid)
		_exit(111);
}

/* in a pochta-smtpd child: the checker service's socket as CHECKPASS_FD */
static void master_child_checkpass(const struct master_lsn *l)
{
	if (!l->smtpd || master_cp_fd < 0)
		return;
	if (master_cp_fd == CHECKPASS_FD ? fcntl(CHECKPASS_FD, F_SETFD, 0) < 0
	                                 : dup2(master_cp_fd, CHECKPASS_FD) < 0)
		_exit(111);
	char num[16];
	snprintf(num, sizeof num, "%d", CHECKPASS_FD);
	if (setenv(PASSCHECK_ENV, num, 1) < 0)
		_exit(111);
}

static void master_status_text(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "status=%d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal=%d", WTERMSIG(st));
	else
		snprintf(buf, len, "wstatus=%d", st);
}

static void master_spawn_close(void)
{
	if (master_spawn_fd >= 0)
		close(master_spawn_fd);
	master_spawn_fd = -1;
}

/* separate, pochta-qmgr runs as qmgr_user and asks us for its workers on the
 * spawn channel, its end on fd SPAWN_FD, named by POCHTA_SPAWN_FD */
static void master_qmgr_start(void)
{
	int sv[2] = { -1, -1 };
	master_spawn_close(); /* the last qmgr's: its workers see their sockets close */
	master_qmgr_started = master_now_ms();
	if (master_separate && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn(NULL, "cannot create the spawn channel: %s", strerror(errno));
		master_qmgr_next = master_qmgr_started + 1000;
		return;
	}
	master_signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		master_child_setup(master_separate ? &master_qmgr_user : NULL);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0)
			_exit(111);
		if (sv[1] >= 0) {
			/* dup2 onto itself would keep close-on-exec */
			if (sv[1] == SPAWN_FD ? fcntl(SPAWN_FD, F_SETFD, 0) < 0 : dup2(sv[1], SPAWN_FD) < 0)
				_exit(111);
			char num[16];
			snprintf(num, sizeof num, "%d", SPAWN_FD);
			if (setenv(SPAWNREQ_ENV, num, 1) < 0)
				_exit(111);
		}
		char *argv[] = { "pochta-qmgr", NULL };
		execv(master_qmgr_prog, argv);
		log_warn(NULL, "cannot run %s: %s", master_qmgr_prog, strerror(errno));
		_exit(111);
	}
	master_signals_block(SIG_UNBLOCK);
	if (sv[1] >= 0)
		close(sv[1]);
	if (pid < 0) {
		log_warn(NULL, "cannot fork for qmgr: %s", strerror(errno));
		if (sv[0] >= 0)
			close(sv[0]);
		master_qmgr_next = master_qmgr_started + 1000;
		return;
	}
	if (sv[0] >= 0) {
		fcntl(sv[0], F_SETFL, O_NONBLOCK); /* a qmgr that reads nothing never stalls us */
		master_spawn_fd = sv[0];
	}
	master_qmgr_pid = pid;
	log_info(NULL, "qmgr started pid=%d", (int)pid);
}

static const char *master_kind_name(enum spawnreq_op kind)
{
	return kind == SPAWNREQ_REMOTE ? "remote" : "local";
}

static struct master_worker *master_worker_find(pid_t pid)
{
	for (size_t i = 0; i < 2 * master_workers_cap; i++)
		if (master_workers[i].pid == pid)
			return &master_workers[i];
	return NULL;
}

/* a free entry for a worker of kind, while fewer than master_workers_cap of
 * it live; else NULL */
static struct master_worker *master_worker_slot(enum spawnreq_op kind)
{
	size_t n = 0;
	struct master_worker *free_ent = NULL;
	for (size_t i = 0; i < 2 * master_workers_cap; i++) {
		if (!master_workers[i].pid)
			free_ent = free_ent ? free_ent : &master_workers[i];
		else if (master_workers[i].kind == kind)
			n++;
	}
	return n < master_workers_cap ? free_ent : NULL;
}

/* start `PROG -w` of kind as its user, its end of a new socket pair on fd 0;
 * its pid with the other end in *sock, or 0 (logged) */
static pid_t master_worker_start(enum spawnreq_op kind, int *sock)
{
	struct master_worker *w = master_worker_slot(kind);
	int sv[2];
	const char *prog = kind == SPAWNREQ_REMOTE ? master_remote_prog : master_local_prog;
	const struct priv_user *u = kind == SPAWNREQ_REMOTE ? &master_remote_user : master_local_user;

	if (!w) {
		log_warn(NULL, "spawn: %zu %s workers running already: refused", master_workers_cap,
		         master_kind_name(kind));
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn(NULL, "spawn: socketpair: %s", strerror(errno));
		return 0;
	}
	if (kind == SPAWNREQ_REMOTE) {
		/* a batch and its reply are one packet each (qmgr_remote.c) */
		int sz = RREQ_MAX + 4096;
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	master_signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		master_child_setup(u);
		if (dup2(sv[1], 0) < 0 || dup2(2, 1) < 0)
			_exit(111);
		char *argv[] = { kind == SPAWNREQ_REMOTE ? "pochta-remote" : "pochta-local", "-w", NULL };
		execv(prog, argv);
		log_warn(NULL, "cannot run %s: %s", prog, strerror(errno));
		_exit(111);
	}
	master_signals_block(SIG_UNBLOCK);
	close(sv[1]);
	if (pid < 0) {
		log_warn(NULL, "spawn: cannot fork for a %s worker: %s", master_kind_name(kind), strerror(errno));
		close(sv[0]);
		return 0;
	}
	w->pid = pid;
	w->kind = kind;
	*sock = sv[0];
	log_info(NULL, "spawned %s worker pid=%d user=%s", master_kind_name(kind), (int)pid,
	         u ? u->name : "root");
	return pid;
}

/* one request from pochta-qmgr (a process of qmgr_user: validated) */
static void master_spawn_request(const char *buf, size_t len)
{
	struct spawnreq r;
	char reply[SPAWNREQ_MAX];

	if (spawnreq_parse(buf, len, &r) < 0) {
		log_warn(NULL, "spawn: malformed request from qmgr");
		return;
	}
	if (r.op == SPAWNREQ_KILL) {
		/* only a worker of ours: a reaped one's pid is no longer in the table */
		if (!master_worker_find((pid_t)r.n)) {
			log_warn(NULL, "spawn: kill %lu: not a running worker", r.n);
			return;
		}
		log_warn(NULL, "killing worker pid=%lu for qmgr (delivery timeout)", r.n);
		kill(-(pid_t)r.n, SIGKILL); /* a local worker's delivery process with it */
		kill((pid_t)r.n, SIGKILL);
		return;
	}
	int sock = -1;
	pid_t pid = master_worker_start(r.op, &sock);
	int n = spawnreq_reply_build(reply, sizeof reply, r.n, (unsigned long)pid);
	if (n < 0 || lreq_send(master_spawn_fd, reply, (size_t)n, sock) < 0)
		log_warn(NULL, "spawn: cannot answer qmgr: %s", strerror(errno));
	/* ours closed: the worker's only peer is qmgr (none: it exits) */
	if (sock >= 0)
		close(sock);
}

static void master_spawn_serve(void)
{
	char buf[SPAWNREQ_MAX + 1];
	for (int i = 0; i < SPAWN_BURST && master_spawn_fd >= 0; i++) {
		int fd;
		ssize_t n = lreq_recv(master_spawn_fd, buf, SPAWNREQ_MAX, &fd);
		if (fd >= 0)
			close(fd);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0 && errno == EMSGSIZE) {
			log_warn(NULL, "spawn: malformed request from qmgr");
			continue;
		}
		if (n <= 0) {
			master_spawn_close(); /* qmgr is gone: reaped and restarted */
			return;
		}
		master_spawn_request(buf, (size_t)n);
	}
}

/* a worker reaped: 1 when it was one */
static int master_worker_exited(pid_t pid, int st)
{
	struct master_worker *w = master_worker_find(pid);
	if (!w)
		return 0;
	/* the wording of pochta-qmgr's, who cannot wait for these */
	if (WIFSIGNALED(st))
		log_warn(NULL, "%s worker pid=%d killed by signal %d", master_kind_name(w->kind),
		         (int)pid, WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		log_warn(NULL, "%s worker pid=%d exited %d", master_kind_name(w->kind), (int)pid,
		         WEXITSTATUS(st));
	w->pid = 0;
	return 1;
}

static void master_qmgr_exited(int st)
{
	char s[40];
	master_status_text(st, s, sizeof s);
	long long t = master_now_ms();
	/* at most one restart a second; a qmgr that keeps dying right away
	 * (missing, bad config) is retried less and less often */
	if (t - master_qmgr_started < QMGR_QUICK_MS) {
		if (++master_qmgr_quick > 3 && master_qmgr_delay < QMGR_DELAY_MAX_MS)
			master_qmgr_delay *= 2;
	} else {
		master_qmgr_quick = 0;
		master_qmgr_delay = 1000;
	}
	if (master_qmgr_delay > QMGR_DELAY_MAX_MS)
		master_qmgr_delay = QMGR_DELAY_MAX_MS;
	master_qmgr_next = master_qmgr_started + master_qmgr_delay;
	if (master_qmgr_next < t)
		master_qmgr_next = t;
	master_qmgr_pid = 0;
	master_spawn_close();
	if (master_got_stop)
		log_info(NULL, "qmgr exited %s", s);
	else
		log_info(NULL, "qmgr exited %s, restarting in %lldms", s, master_qmgr_next - t);
}

/* master_reap every child that has exited; 1 when there are no children left at all */
static void master_zygote_close(struct master_lsn *l)
{
	if (l->zsock >= 0)
		close(l->zsock);
	l->zsock = -1;
	l->zpid = 0; /* reaped as any orphan from now on */
	l->znext = master_now_ms() + ZYGOTE_RETRY_MS;
}

static int master_zygote_exited(pid_t pid, int st)
{
	for (int i = 0; i < master_nlsn; i++) {
		struct master_lsn *l = &master_lsns[i];
		if (l->zpid != pid)
			continue;
		char s[40];
		master_status_text(st, s, sizeof s);
		if (!master_got_stop)
			log_warn(NULL, "%s zygote pid=%d ended %s", l->svc, (int)pid, s);
		master_zygote_close(l);
		return 1;
	}
	return 0;
}

/* one packet from a zygote within ZYGOTE_WAIT_MS: its length, or -1 */
static ssize_t master_zygote_read(struct master_lsn *l, char *buf, size_t max)
{
	struct pollfd p = { .fd = l->zsock, .events = POLLIN };
	long long end = master_now_ms() + ZYGOTE_WAIT_MS;
	for (;;) {
		long long w = end - master_now_ms();
		if (w <= 0)
			return -1;
		int r = poll(&p, 1, (int)w);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t n = recv(l->zsock, buf, max, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return n;
	}
}

/* start l's zygote; it is there when it said hello. A program that does not
 * (no -z: any UCSPI server may be configured) gets one exec per connection */
static void master_zygote_start(struct master_lsn *l)
{
	int sv[2];
	char buf[16];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		l->znext = master_now_ms() + ZYGOTE_RETRY_MS;
		return;
	}
	master_signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		master_child_setup(l->user);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(111);
		master_child_checkpass(l);
		char *argv[] = { "pochta-smtpd", "-z", l->submission ? "-s" : NULL, NULL };
		execv(l->prog, argv);
		_exit(111);
	}
	master_signals_block(SIG_UNBLOCK);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		l->znext = master_now_ms() + ZYGOTE_RETRY_MS;
		return;
	}
	l->zpid = pid;
	l->zsock = sv[0];
	ssize_t n = master_zygote_read(l, buf, sizeof buf);
	if (n == 2 && memcmp(buf, "Z1", 2) == 0) {
		log_info(NULL, "%s zygote pid=%d started", l->svc, (int)pid);
		return;
	}
	kill(pid, SIGKILL);
	master_zygote_close(l);
	if (n != 0) { /* not a crash at start: a program without -z */
		log_info(NULL, "%s: %s has no zygote mode: one exec per connection", l->svc, l->prog);
		l->zno = 1;
	}
}

/* the session for fd made by l's zygote: its pid; 0 when the zygote did not
 * take fd (the caller execs one), -1 when it is unknown whether it did (fd is
 * then left to a session that may exist, never served twice) */
static pid_t master_zygote_conn(struct master_lsn *l, int fd, const char *ip, unsigned port)
{
	char req[96], buf[32];
	if (l->zno)
		return 0;
	if (l->zsock < 0 && master_now_ms() >= l->znext)
		master_zygote_start(l);
	if (l->zsock < 0)
		return 0;
	int len = snprintf(req, sizeof req, "%s %u", ip, port);
	if (lreq_send(l->zsock, req, (size_t)len, fd) < 0) {
		log_warn(NULL, "%s zygote pid=%d: cannot send a connection: %s", l->svc, (int)l->zpid,
		         strerror(errno));
		kill(l->zpid, SIGKILL);
		master_zygote_close(l);
		return 0;
	}
	ssize_t n = master_zygote_read(l, buf, sizeof buf - 1);
	if (n <= 0) {
		log_warn(NULL, "%s zygote pid=%d did not answer: killed", l->svc, (int)l->zpid);
		kill(l->zpid, SIGKILL);
		master_zygote_close(l);
		return -1;
	}
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (*end || end == buf || v < 0 || v > INT_MAX) {
		log_warn(NULL, "%s zygote pid=%d: bad reply: killed", l->svc, (int)l->zpid);
		kill(l->zpid, SIGKILL);
		master_zygote_close(l);
		return -1;
	}
	return (pid_t)v; /* 0: it made none (its clone failed): exec one */
}

/* the checker service, with a new socket pair: the zygotes of the old one go
 * (their sessions would ask a checker that is gone) */
static void master_checkpass_start(void)
{
	int sv[2];
	master_cp_next = master_now_ms() + 1000;
	if (master_cp_fd >= 0)
		close(master_cp_fd);
	master_cp_fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn(NULL, "cannot create the checker's socket: %s", strerror(errno));
		return;
	}
	master_signals_block(SIG_BLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		master_child_setup(NULL); /* root when separate: it reads the hashes */
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(sv[1], 0) < 0 || dup2(null, 1) < 0)
			_exit(111);
		char *argv[] = { "pochta-checkpass", "-w", NULL };
		execv(master_cp_prog, argv);
		log_warn(NULL, "cannot run %s: %s", master_cp_prog, strerror(errno));
		_exit(111);
	}
	master_signals_block(SIG_UNBLOCK);
	close(sv[1]);
	if (pid < 0) {
		log_warn(NULL, "cannot fork for the checker: %s", strerror(errno));
		close(sv[0]);
		return;
	}
	master_cp_pid = pid;
	master_cp_fd = sv[0];
	for (int i = 0; i < master_nlsn; i++)
		if (master_lsns[i].smtpd && master_lsns[i].zpid) {
			kill(master_lsns[i].zpid, SIGTERM);
			master_zygote_close(&master_lsns[i]);
			master_lsns[i].znext = 0;
		}
	log_info(NULL, "checkpass service pid=%d started", (int)pid);
}

static void master_checkpass_exited(int st)
{
	char s[40];
	master_status_text(st, s, sizeof s);
	if (!master_got_stop)
		log_warn(NULL, "checkpass service pid=%d ended %s", (int)master_cp_pid, s);
	master_cp_pid = 0;
}

static int master_reap(int stopping)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid < 0)
			return errno == ECHILD;
		if (pid == 0)
			return 0;
		if (pid == master_qmgr_pid) {
			master_qmgr_exited(st);
			continue;
		}
		if (pid == master_cp_pid) {
			master_checkpass_exited(st);
			continue;
		}
		if (master_zygote_exited(pid, st) || master_worker_exited(pid, st))
			continue;
		for (size_t i = 0; i < master_nkids; i++) {
			if (master_kids[i].pid != pid)
				continue;
			struct master_lsn *l = &master_lsns[master_kids[i].lsn];
			l->nconn--;
			if (stopping || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				char s[40];
				master_status_text(st, s, sizeof s);
				log_info(NULL, "end %s pid=%d %s", l->svc, (int)pid, s);
			}
			if (stopping)
				kill(-pid, SIGTERM); /* what it leaves behind in its group */
			master_kids[i] = master_kids[--master_nkids];
			break;
		}
		/* others: descendants orphaned to us (we are their subreaper) */
	}
}

static void master_addr_key(const struct sockaddr_storage *ss, int *family, unsigned char ip[16])
{
	memset(ip, 0, 16);
	*family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(ip, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(ip, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static void master_refuse(int fd, struct master_lsn *l, const char *ip, const char *why)
{
	/* one non-blocking write: a slow client must never stall the supervisor */
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	(void)!write(fd, l->busy, strlen(l->busy));
	close(fd);
	log_warn(NULL, "refused %s from=%s reason=%s", l->svc, ip, why);
}

static void master_conn_exec(int fd, struct master_lsn *l, const char *rip, unsigned rport)
{
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(111);
	if (fd > 1)
		close(fd);
	(void)listen_ucspi_env(0, rip, rport);
	master_child_checkpass(l);
	char *argv[4];
	int k = 0;
	argv[k++] = l->smtpd ? "pochta-smtpd" : "pochta-pop3d";
	if (l->submission)
		argv[k++] = "-s";
	if (l->tls)
		argv[k++] = "-T";
	argv[k] = NULL;
	execv(l->prog, argv);
	log_warn(NULL, "cannot run %s: %s", l->prog, strerror(errno));
	_exit(111);
}

/* the sessions of listener li from the client address fam/key */
static long long master_same_ip(int li, int fam, const unsigned char key[16])
{
	long long same = 0;
	for (size_t i = 0; i < master_nkids; i++)
		if (master_kids[i].lsn == li && master_kids[i].family == fam && memcmp(master_kids[i].ip, key, 16) == 0)
			same++;
	return same;
}

/* hold fd for HOLD_MS in a free slot; 0 when none is free */
static int master_hold(int li, int fd, const struct sockaddr_storage *peer)
{
	for (int i = 0; i < HOLD_MAX; i++) {
		if (master_held[i].fd >= 0)
			continue;
		master_held[i].fd = fd;
		master_held[i].lsn = li;
		master_held[i].until = master_now_ms() + HOLD_MS;
		master_held[i].peer = *peer;
		return 1;
	}
	return 0;
}

/* serve, refuse or hold (only over max_connections_per_ip) a connection;
 * held: it is held already, and its hold is over when final. 1: a held one
 * stays held, 0: fd is served, refused or newly held */
static int master_conn_new(int li, int fd, const struct sockaddr_storage *peer, int held, int final)
{
	struct master_lsn *l = &master_lsns[li];
	char ip[64] = "?";
	unsigned port = 0;
	listen_sockaddr_text((const struct sockaddr *)peer, ip, sizeof ip, &port);
	int fam;
	unsigned char key[16];
	master_addr_key(peer, &fam, key);
	/* a session that has ended must not count: its SIGCHLD may still be on
	 * its way (or come in the middle of a burst of accepts) */
	master_reap(0);
	if (l->nconn >= master_max_conn || master_nkids >= master_kids_cap) {
		master_refuse(fd, l, ip, "max_connections");
		return 0;
	}
	if (!cidr_match(master_exempt, master_nexempt, ip) && master_same_ip(li, fam, key) >= master_max_per_ip) {
		if (held && !final)
			return 1;
		if (!held && master_hold(li, fd, peer))
			return 0;
		master_refuse(fd, l, ip, "max_connections_per_ip");
		return 0;
	}
	if (l->smtpd && master_cp_want && !master_cp_pid && master_now_ms() >= master_cp_next)
		master_checkpass_start();
	/* no reaping from here until the pid is in the table: a quick session's
	 * end must find it there */
	pid_t pid = master_zygote_conn(l, fd, ip, port);
	if (pid < 0) {
		close(fd);
		return 0;
	}
	if (pid == 0) {
		master_signals_block(SIG_BLOCK);
		pid = fork();
		if (pid == 0) {
			master_child_setup(l->user);
			master_conn_exec(fd, l, ip, port);
		}
		master_signals_block(SIG_UNBLOCK);
	}
	close(fd);
	if (pid < 0) {
		log_warn(NULL, "cannot fork for %s from=%s: %s", l->svc, ip, strerror(errno));
		l->paused_until = master_now_ms() + ACCEPT_PAUSE_MS;
		return 0;
	}
	master_kids[master_nkids].pid = pid;
	master_kids[master_nkids].lsn = li;
	master_kids[master_nkids].family = fam;
	memcpy(master_kids[master_nkids].ip, key, 16);
	master_nkids++;
	l->nconn++;
	log_info(NULL, "connection %s from=%s pid=%d", l->svc, ip, (int)pid);
	return 0;
}

static void master_accept_all(int li)
{
	struct master_lsn *l = &master_lsns[li];
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
			l->paused_until = master_now_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		(void)master_conn_new(li, fd, &peer, 0, 0);
		if (master_got_stop)
			return;
	}
}

/* decide again on each held connection (after a reap, or its hold is
 * over); the ms until the next hold ends, -1: none held */
static long long master_held_run(void)
{
	long long next = -1;
	for (int i = 0; i < HOLD_MAX; i++) {
		struct master_held *h = &master_held[i];
		if (h->fd < 0)
			continue;
		long long t = master_now_ms();
		if (master_conn_new(h->lsn, h->fd, &h->peer, 1, t >= h->until) == 0) {
			h->fd = -1;
			continue;
		}
		if (next < 0 || h->until - t < next)
			next = h->until - t;
	}
	return next;
}

static int master_lsn_open(const char *svc, const char *addr, const char *prog, const char *busy)
{
	struct listen_addr cl;
	sa_t err = SA_INIT;
	if (listen_parse(addr, &cl, &err) < 0)
		master_die("%s_listen %s: %s", svc, addr, err.s);
	sa_free(&err);
	int fd = socket(cl.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		master_die_sys("socket for %s %s", svc, addr);
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		master_die_sys("SO_REUSEADDR");
	if (cl.ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		master_die_sys("IPV6_V6ONLY");
	if (bind(fd, (struct sockaddr *)&cl.ss, cl.sslen) < 0)
		master_die_sys("cannot listen for %s on %s", svc, addr);
	if (listen(fd, 128) < 0)
		master_die_sys("listen %s", addr);
	struct master_lsn *l = &master_lsns[master_nlsn++];
	l->svc = svc;
	snprintf(l->addr, sizeof l->addr, "%s", addr);
	snprintf(l->prog, sizeof l->prog, "%s", prog);
	l->fd = fd;
	l->busy = busy;
	/* pochta-pop3d needs root to check passwords and read each maildrop as
	 * its owner until it has a checker of its own (see pochta-master(8)) */
	l->smtpd = strcmp(svc, "pop3") != 0 && strcmp(svc, "pop3s") != 0;
	/* smtps is submission with implicit TLS (RFC 8314 3.3: port 465) */
	l->submission = strcmp(svc, "submission") == 0 || strcmp(svc, "smtps") == 0;
	l->tls = strcmp(svc, "smtps") == 0 || strcmp(svc, "pop3s") == 0;
	l->user = master_separate && l->smtpd ? &master_smtpd_user : NULL;
	l->zpid = 0;
	l->zsock = -1;
	l->znext = 0;
	/* a zygote serves plain SMTP and submission; TLS from the first byte
	 * and POP3 are one exec per connection */
	l->zno = !l->smtpd || l->tls;
	log_info(NULL, "listening %s=%s", svc, addr);
	return 0;
}

static int master_executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* the children of this process, from /proc; appends up to cap PIDs */
static size_t master_proc_children(pid_t *out, size_t cap)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)master_self_pid);
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

static void master_signal_rest(int sig, const pid_t *groups, size_t ngroups)
{
	pid_t ch[1024];
	size_t n = master_proc_children(ch, 1024);
	for (size_t i = 0; i < n; i++)
		kill(ch[i], sig);
	for (size_t i = 0; i < ngroups; i++)
		kill(-groups[i], sig);
}

static void master_drain_pipe(void)
{
	char buf[64];
	ssize_t n;
	while ((n = read(master_sigpipe_fd[0], buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == SIGHUP)
				master_got_hup = 1;
}

/* wait for children up to deadline; 1 when none is left */
static int master_wait_all(long long deadline, const pid_t *groups, size_t ngroups, int *rest_told)
{
	for (;;) {
		if (master_reap(1))
			return 1;
		if (master_nkids == 0 && master_qmgr_pid == 0 && !*rest_told) {
			/* the processes we started are gone: what remains are their
			 * descendants, orphaned to us */
			master_signal_rest(SIGTERM, groups, ngroups);
			*rest_told = 1;
		}
		long long t = master_now_ms();
		if (t >= deadline)
			return 0;
		long long w = deadline - t;
		struct pollfd p = { .fd = master_sigpipe_fd[0], .events = POLLIN };
		poll(&p, 1, (int)(w > 50 ? 50 : w));
		master_drain_pipe();
	}
}

static int master_stop_all(void)
{
	log_info(NULL, "stopping: terminating %zu connection(s)%s", master_nkids, master_qmgr_pid ? " and qmgr" : "");
	for (int i = 0; i < HOLD_MAX; i++)
		if (master_held[i].fd >= 0) {
			close(master_held[i].fd);
			master_held[i].fd = -1;
		}
	for (int i = 0; i < master_nlsn; i++) {
		close(master_lsns[i].fd);
		if (master_lsns[i].zpid) {
			kill(master_lsns[i].zpid, SIGTERM);
			master_zygote_close(&master_lsns[i]);
		}
	}
	if (master_cp_pid)
		kill(master_cp_pid, SIGTERM);
	size_t ng = master_nkids + 1;
	pid_t *groups = calloc(ng, sizeof *groups);
	size_t n = 0;
	for (size_t i = 0; i < master_nkids; i++) {
		kill(master_kids[i].pid, SIGTERM);
		if (groups)
			groups[n++] = master_kids[i].pid;
	}
	if (master_qmgr_pid) {
		kill(master_qmgr_pid, SIGTERM);
		if (groups)
			groups[n++] = master_qmgr_pid;
	}
	int told = 0;
	if (!master_wait_all(master_now_ms() + STOP_GRACE_MS, groups, n, &told)) {
		log_warn(NULL, "children still running after %ds: killing them", STOP_GRACE_MS / 1000);
		for (size_t i = 0; i < master_nkids; i++)
			kill(master_kids[i].pid, SIGKILL);
		if (master_qmgr_pid)
			kill(master_qmgr_pid, SIGKILL);
		master_signal_rest(SIGKILL, groups, n);
		told = 1;
		if (!master_wait_all(master_now_ms() + KILL_WAIT_MS, groups, n, &told))
			log_warn(NULL, "some children did not exit");
	}
	free(groups);
	log_info(NULL, "stopped");
	return 0;
}

static void master_vdie(int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0), noreturn));

/* before the log is set up as after: one line on stderr, exit 1 */
static void master_vdie(int err, const char *fmt, va_list ap)
{
	char buf[2048];
	if (vsnprintf(buf, sizeof buf, fmt, ap) < 0)
		buf[0] = '\0';
	if (err)
		fprintf(stderr, "pochta-master: %s: %s\n", buf, strerror(err));
	else
		fprintf(stderr, "pochta-master: %s\n", buf);
	exit(1);
}

static void master_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	master_vdie(0, fmt, ap);
}

static void master_die_sys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	master_vdie(e ? e : EIO, fmt, ap);
}

/* each '\n'-ended line of w as a logged warning */
static void master_warn_lines(const sa_t *w)
{
	for (size_t i = 0; i < w->len;) {
		const char *nl = memchr(w->s + i, '\n', w->len - i);
		size_t n = nl ? (size_t)(nl - (w->s + i)) : w->len - i;
		log_warn(NULL, "%.*s", (int)n, w->s + i);
		i += n + 1;
	}
}

static void master_prog_path(const char *name, char *out, size_t len)
{
	const char *p = paths_prog(name);
	if (!p)
		master_die_sys("cannot name the path of %s", name);
	if ((size_t)snprintf(out, len, "%s", p) >= len)
		master_die("path of %s too long", name);
}

/* a user a program runs as when we were started as root, or die saying how
 * to provide one */
static void master_user(const char *key, const char *name, struct priv_user *u)
{
	sa_t err = SA_INIT;
	if (priv_lookup(name, u, &err) < 0)
		master_die("started as root, each program runs as its own user, but %s %s: %s;"
		           " create the system users (pochtactl setup) or give the system one"
		           " account (instance_user in %s)",
		           key, name, err.s ? err.s : "?", paths.conf);
	sa_free(&err);
}

/* pochta-local -w runs as root only where it must become system users (their
 * ~/Maildir); else as virtual_user */
static int master_local_as_root(const struct conf *c)
{
	return sysuser_enabled(c);
}

/* started as root without instance_user: each program as its own user, the
 * queue given to qmgr_user by pochtactl setup; or die saying what is missing */
static void master_users(const struct conf *c)
{
	master_user("smtpd_user", c->smtpd_user, &master_smtpd_user);
	master_user("qmgr_user", c->qmgr_user, &master_qmgr_user);
	master_user("remote_user", c->remote_user, &master_remote_user);
	if (!master_local_as_root(c)) {
		master_user("virtual_user", c->virtual_user, &master_virtual_user);
		master_local_user = &master_virtual_user;
	}
	errno = 0;
	struct group *gr = getgrnam(c->queue_group);
	if (!gr || gr->gr_gid == 0)
		master_die("started as root, each program runs as its own user, but queue_group %s: %s;"
		           " create the system users (pochtactl setup) or give the system one"
		           " account (instance_user in %s)",
		           c->queue_group, gr ? "it is group 0" : errno ? strerror(errno) : "no such group",
		           paths.conf);
	/* its own group and the queue group: it reads what pochta-enqueue
	 * (setgid to the queue group) wrote, nothing more */
	struct priv_user *q = &master_qmgr_user;
	q->groups[0] = q->gid;
	q->groups[1] = gr->gr_gid;
	q->ngroups = gr->gr_gid == q->gid ? 1 : 2;
	struct stat st;
	if (stat(paths.queue, &st) < 0)
		master_die_sys("%s", paths.queue);
	if (st.st_uid != q->uid)
		master_die("%s is not owned by qmgr_user %s: give the tree its owners with pochtactl%s%s setup",
		           paths.queue, q->name, paths.root[0] ? " -r " : "", paths.root);
}

/* pochta.conf checked whole: 0 with its values in c, or the number of
 * problems, each logged (how: "refusing to start" or "reload refused") */
static int master_conf_read(struct conf *c, const char *how)
{
	sa_t text = SA_INIT, problems = SA_INIT, warn = SA_INIT;
	int n;
	if (conf_read_file(paths.conf, &text, &problems) < 0) {
		conf_defaults(c);
		n = 1;
		if (sa_catc(&problems, '\n') < 0)
			sa_trunc(&problems, 0);
	} else {
		n = confcheck_text(c, paths.conf, text.s ? text.s : "", text.len, &problems, &warn);
		if (n < 0) {
			n = 1;
			sa_copys(&problems, "out of memory\n");
		}
	}
	master_warn_lines(&warn);
	if (n > 0) {
		log_warn(NULL, "%s: %d problem%s in %s (see pochtactl config check)%s", how, n,
		         n == 1 ? "" : "s", paths.conf,
		         master_conf.smtpd_user ? "; the last valid configuration stays in effect" : "");
		master_warn_lines(&problems);
		conf_free(c);
	}
	sa_free(&text);
	sa_free(&problems);
	sa_free(&warn);
	return n;
}

/* c as ETC/pochta.conf.running, what the programs read; 0 or -1 (logged) */
static int master_snapshot_write(const struct conf *c)
{
	sa_t text = SA_INIT;
	int r = sa_catf(&text, "# the configuration pochta-master[%ld] runs, written from %s\n"
	                "# when it was checked: edit that file, then run pochtactl reload\n",
	                (long)getpid(), paths.conf);
	if (r == 0)
		r = conf_dump(c, &text);
	if (r == 0)
		r = confrun_write(text.s, text.len);
	if (r < 0)
		log_warn(NULL, "cannot write %s: %s", confrun_snapshot(), strerror(errno));
	sa_free(&text);
	return r;
}

/* the one place logs are reopened (logrotate): on reload. Our own file and
 * pochta-logger's, which holds the pipe the children write their lines to:
 * they have nothing to reopen. */
static void master_reopen_logs(void)
{
	log_reopen();
}

/* SIGHUP: check pochta.conf; only when it is valid, run it */
static void master_reload(void)
{
	struct conf c;
	sa_t a = SA_INIT, b = SA_INIT, changed = SA_INIT, later = SA_INIT;
	struct cidr *ex = NULL;
	size_t nex = 0;
	int kept = 0;
	master_reopen_logs();
	if (master_conf_read(&c, "reload refused") > 0)
		return;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		sa_trunc(&a, 0);
		sa_trunc(&b, 0);
		if (conf_format(&master_conf, k, &a) < 0 || conf_format(&c, k, &b) < 0)
			goto nomem;
		if (a.len == b.len && memcmp(a.s, b.s, a.len) == 0)
			continue;
		if (!conf_key_restart(k)) {
			if (sa_catf(&changed, "%s%s", changed.len ? " " : "", k->name) < 0)
				goto nomem;
			continue;
		}
		/* what runs keeps it: the listeners, tables and users are as started */
		if (sa_catf(&later, "%s%s", later.len ? " " : "", k->name) < 0 ||
		    conf_set(&c, k, a.s ? a.s : "", NULL) < 0)
			goto nomem;
	}
	if (cidr_list_parse_ref(c.connection_limit_exempt, "relay_networks", c.relay_networks, &ex,
	                        &nex, &a) < 0) {
		log_warn(NULL, "reload refused: connection_limit_exempt: %s", a.s ? a.s : strerror(errno));
		goto out;
	}
	if (master_snapshot_write(&c) < 0) {
		log_warn(NULL, "reload refused: the last valid configuration stays in effect");
		free(ex);
		goto out;
	}
	free(master_exempt);
	master_exempt = ex;
	master_nexempt = nex;
	master_max_per_ip = c.max_connections_per_ip;
	conf_free(&master_conf);
	master_conf = c;
	kept = 1;
	if (master_qmgr_pid)
		kill(master_qmgr_pid, SIGHUP); /* it reads the new copy now */
	log_info(NULL, "reloaded %s: changed=%s", paths.conf, changed.len ? changed.s : "none");
	if (later.len)
		log_warn(NULL, "reload: %s changed in %s: takes effect at the next restart (pochtactl restart)",
		         later.s, paths.conf);
	goto out;
nomem:
	log_warn(NULL, "reload refused: out of memory");
out:
	if (!kept)
		conf_free(&c);
	sa_free(&a);
	sa_free(&b);
	sa_free(&changed);
	sa_free(&later);
}

static void master_usage(void)
{
	fputs("usage: pochta-master [-r ROOT]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *root;
	if (paths_args(argc, argv, &root) < 0)
		master_usage();
	/* fds 0-2 taken: a socket of ours there would be clobbered by a child's dup2 */
	for (int fd; (fd = open("/dev/null", O_RDWR)) >= 0;)
		if (fd > 2) {
			close(fd);
			break;
		}
	if (root && !*root)
		master_die("empty root directory name");
	if (paths_init(root) < 0)
		master_die_sys("cannot use root %s", root ? root : "(installed paths)");
	log_init("pochta-master", LOG_DEST_STDERR);

	struct conf c;
	sa_t err = SA_INIT;
	if (master_conf_read(&c, "refusing to start") > 0)
		exit(1);
	log_configure(NULL, c.log_format, NULL); /* the destination once we are ourselves */
	/* as root: one account for the whole instance, taken on once the
	 * listeners are bound, or each program as its own user */
	struct priv_user one;
	int drop_self = 0;
	if (geteuid() == 0 && c.instance_user[0]) {
		if (priv_lookup(c.instance_user, &one, &err) < 0)
			master_die("instance_user %s: %s", c.instance_user, err.s);
		/* the account must be able to run the queue it is given */
		struct stat qst;
		if (stat(paths.queue, &qst) < 0)
			master_die_sys("%s", paths.queue);
		if (qst.st_uid != one.uid)
			master_die("%s is not owned by instance_user %s (chown -R %s %s)", paths.queue,
			           one.name, one.name, paths.root[0] ? paths.root : paths.queue);
		drop_self = 1;
	} else if (geteuid() == 0) {
		/* installed paths or an instance root alike */
		master_users(&c);
		master_separate = 1;
	}

	/* one supervisor per instance: two would run two queue managers on one
	 * queue. The lock file holds our PID for the operator; the flock goes
	 * away with this process, and children never inherit it (O_CLOEXEC). */
	sa_t lockpath = SA_INIT;
	if (sa_catf(&lockpath, "%s/pochtactl.pid", paths.log) < 0)
		master_die_sys("out of memory");
	int lockfd = open(lockpath.s, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lockfd < 0)
		master_die_sys("cannot open %s", lockpath.s);
	if (flock(lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			master_die("another pochtactl start is running for %s (see %s)",
			        paths.root[0] ? paths.root : paths.etc, lockpath.s);
		master_die_sys("lock %s", lockpath.s);
	}
	/* as root in a directory an account may write: only a file of our own
	 * (a link planted there must not make us truncate another file) */
	struct stat lst;
	if (fstat(lockfd, &lst) < 0)
		master_die_sys("%s", lockpath.s);
	if (geteuid() == 0 && (!S_ISREG(lst.st_mode) || lst.st_nlink != 1 ||
	                       (lst.st_uid != 0 && !(drop_self && lst.st_uid == one.uid))))
		master_die("%s is not a plain file owned by root%s; remove it", lockpath.s,
		           drop_self ? " or instance_user" : "");
	if (drop_self && fchown(lockfd, one.uid, one.gid) < 0)
		master_die_sys("cannot give %s to %s", lockpath.s, one.name);
	char pidbuf[32];
	int pl = snprintf(pidbuf, sizeof pidbuf, "%ld\n", (long)getpid());
	if (ftruncate(lockfd, 0) < 0 || fd_write_all(lockfd, pidbuf, (size_t)pl) < 0)
		master_die_sys("cannot write %s", lockpath.s);
	sa_free(&lockpath);

	master_self_pid = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn(NULL, "cannot become a subreaper: %s", strerror(errno));

	if (pipe2(master_sigpipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
		master_die_sys("pipe");
	master_signals_setup();

	master_max_conn = c.max_connections;
	master_max_per_ip = c.max_connections_per_ip;
	if (cidr_list_parse_ref(c.connection_limit_exempt, "relay_networks", c.relay_networks,
	                        &master_exempt, &master_nexempt, &err) < 0)
		master_die("connection_limit_exempt: %s", err.s ? err.s : strerror(errno));
	sa_free(&err);

	char smtpd[4300], pop3d[4300];
	master_prog_path("pochta-smtpd", smtpd, sizeof smtpd);
	master_prog_path("pochta-pop3d", pop3d, sizeof pop3d);
	master_prog_path("pochta-qmgr", master_qmgr_prog, sizeof master_qmgr_prog);
	master_prog_path("pochta-local", master_local_prog, sizeof master_local_prog);
	master_prog_path("pochta-remote", master_remote_prog, sizeof master_remote_prog);

	if (c.smtp_listen[0]) {
		if (!master_executable(smtpd))
			master_die("%s is missing or not executable", smtpd);
		master_lsn_open("smtp", c.smtp_listen, smtpd, "421 4.7.0 too many connections, try again later\r\n");
	}
	if (c.submission_listen[0]) {
		if (!master_executable(smtpd))
			master_die("%s is missing or not executable", smtpd);
		master_lsn_open("submission", c.submission_listen, smtpd,
		                "421 4.7.0 too many connections, try again later\r\n");
	}
	/* AUTH may be used: the checker service (started with the first session) */
	master_cp_want = c.submission_listen[0] || c.smtps_listen[0] ||
	                 (c.smtp_listen[0] && c.smtp_auth_enable);
	master_prog_path("pochta-checkpass", master_cp_prog, sizeof master_cp_prog);
	if (master_cp_want && !master_executable(master_cp_prog))
		master_die("%s is missing or not executable (AUTH needs it)", master_cp_prog);
	if (c.pop3_listen[0]) {
		if (master_executable(pop3d))
			master_lsn_open("pop3", c.pop3_listen, pop3d, "-ERR [SYS/TEMP] too many connections\r\n");
		else
			log_warn(NULL, "%s is missing: no POP3 listener", pop3d);
	}
	/* implicit TLS (RFC 8314): the same programs with -T, which start
	 * pochta-tls before their greeting */
	if (c.smtps_listen[0] && master_executable(smtpd))
		master_lsn_open("smtps", c.smtps_listen, smtpd, "");
	if (c.pop3s_listen[0] && master_executable(pop3d))
		master_lsn_open("pop3s", c.pop3s_listen, pop3d, "");
	if (!master_executable(master_qmgr_prog))
		log_warn(NULL, "%s is missing or not executable: the queue will not be run", master_qmgr_prog);
	if (master_nlsn == 0)
		log_warn(NULL, "no listener configured (smtp_listen, submission_listen and pop3_listen are empty)");

	size_t cap = (size_t)master_max_conn * (size_t)(master_nlsn ? master_nlsn : 1);
	master_kids = calloc(cap, sizeof *master_kids);
	if (!master_kids)
		master_die_sys("out of memory");
	master_kids_cap = cap;
	/* a worker counts until reaped: room for those just retired too */
	master_workers_cap = 2 * (size_t)c.delivery_concurrency + 16;
	master_workers = calloc(2 * master_workers_cap, sizeof *master_workers);
	if (!master_workers)
		master_die_sys("out of memory");
	/* what the programs read from now on; as root still, the account may
	 * not write ETC itself (it replaces the file on reload when it may) */
	if (master_snapshot_write(&c) < 0)
		master_die("cannot start without %s", confrun_snapshot());
	if (drop_self && priv_drop(&one, &err) < 0)
		master_die("instance_user %s: %s", one.name, err.s);
	/* after the drop: the log file is written as the instance's account.
	 * The children log to our stderr; POCHTA_ROOT is set by paths_init */
	if (log_supervise(c.log_destination, c.log_format, paths.log) < 0)
		master_die_sys("cannot log to %s/%s", paths.log, LOG_FILE_NAME);
	master_conf = c;
	if (drop_self) {
		log_info(NULL, "running as %s uid=%lu gid=%lu", one.name, (unsigned long)one.uid,
		         (unsigned long)one.gid);
	} else if (master_separate) {
		log_info(NULL, "running smtpd as %s, qmgr as %s, remote workers as %s, local workers as %s",
		         master_smtpd_user.name, master_qmgr_user.name, master_remote_user.name,
		         master_local_user ? master_local_user->name : "root");
	}

	for (int i = 0; i < HOLD_MAX; i++)
		master_held[i].fd = -1;
	master_qmgr_start();
	long long held_next = -1;
	while (!master_got_stop) {
		long long t = master_now_ms();
		if (!master_qmgr_pid && t >= master_qmgr_next)
			master_qmgr_start();
		long long timeout = held_next;
		if (!master_qmgr_pid) {
			long long w = master_qmgr_next > t ? master_qmgr_next - t : 0;
			if (timeout < 0 || w < timeout)
				timeout = w;
		}
		struct pollfd pf[2 + MASTER_LSN_MAX];
		int map[2 + MASTER_LSN_MAX], np = 0;
		pf[np].fd = master_sigpipe_fd[0];
		pf[np].events = POLLIN;
		map[np++] = -1;
		int spawn_at = -1;
		if (master_spawn_fd >= 0) {
			spawn_at = np;
			pf[np].fd = master_spawn_fd;
			pf[np].events = POLLIN;
			map[np++] = -2;
		}
		for (int i = 0; i < master_nlsn; i++) {
			if (master_lsns[i].paused_until > t) {
				long long w = master_lsns[i].paused_until - t;
				if (timeout < 0 || w < timeout)
					timeout = w;
				continue;
			}
			pf[np].fd = master_lsns[i].fd;
			pf[np].events = POLLIN;
			map[np++] = i;
		}
		int r = poll(pf, (nfds_t)np, timeout > 60000 ? 60000 : (int)timeout);
		if (r < 0 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		if (r > 0 && (pf[0].revents & POLLIN))
			master_drain_pipe();
		master_reap(0);
		if (master_got_stop)
			break;
		if (master_got_hup) {
			master_got_hup = 0;
			master_reload();
		}
		/* the held first: a slot a reap freed is theirs before newcomers' */
		master_held_run();
		if (r > 0 && spawn_at >= 0 && pf[spawn_at].revents)
			master_spawn_serve();
		for (int i = 1; r > 0 && i < np; i++)
			if (map[i] >= 0 && (pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
				master_accept_all(map[i]);
		held_next = master_held_run();
	}
	int rc = master_stop_all();
	/* stopped: programs run without us (inetd, sendmail) read pochta.conf */
	if (confrun_remove() < 0)
		log_warn(NULL, "cannot remove %s: %s", confrun_snapshot(), strerror(errno));
	/* an empty pid file: stopped cleanly (one naming a pid nobody locks is
	 * a supervisor that died: pochtactl status) */
	if (ftruncate(lockfd, 0) < 0)
		log_warn(NULL, "cannot empty the pid file: %s", strerror(errno));
	conf_free(&master_conf);
	return rc;
}
