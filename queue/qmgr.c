/* pochta-qmgr: the queue manager (man/pochta-qmgr.8). The only reader and
 * scheduler of the queue: takes incoming/ into mess/, runs deliveries, records
 * results, retries. Runs in the foreground under a supervisor; all its state
 * can be rebuilt from the queue directories, so any exit is safe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "paths.h"
#include "qdir.h"
#include "qmgr.h"
#include "qmgr_pool.h"

struct qmgr Q;

static int selfpipe[2] = { -1, -1 };
static volatile sig_atomic_t got_term;

static void on_signal(int sig)
{
	int e = errno;
	char c = (char)sig;

	if (sig == SIGTERM || sig == SIGINT)
		got_term = 1;
	(void)!write(selfpipe[1], &c, 1); /* full pipe: a wakeup is pending anyway */
	errno = e;
}

static void signals_init(void)
{
	struct sigaction sa;

	if (pipe2(selfpipe, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal("pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* pochta-master's reload: wake up and read the configuration now */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct wakes {
	int new, flush, rescan;
};

static void on_wake(char what, const char *domain, void *arg)
{
	struct wakes *w = arg;

	if (what == QDIR_WAKE_FLUSH)
		w->flush = 1;
	else if (what == QDIR_WAKE_RESCAN)
		w->rescan = 1;
	else if (what == QDIR_WAKE_DOMAIN && !domain)
		log_warn(NULL, "flush: a domain record that is no domain name was ignored");
	else if (what == QDIR_WAKE_DOMAIN && !Q.stopping)
		log_info(NULL, "flush: domain=%s recipients=%zu", domain, sched_flush_domain(domain));
	else if (what != QDIR_WAKE_DOMAIN)
		w->new = 1; /* QDIR_WAKE_NEW, and anything unknown */
}

/* the trigger FIFO: its records may be split across reads */
static void drain_trigger(int fd, struct wakes *w)
{
	static struct qdir_trig t = QDIR_TRIG_INIT;
	char buf[512];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			qdir_trig_feed(&t, buf, (size_t)r, on_wake, w);
}

static void drain(int fd)
{
	char buf[512];
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
		;
}

static long long min_timeout(long long a, long long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void usage(void)
{
	fprintf(stderr, "usage: pochta-qmgr [-r ROOT]\n");
	exit(100);
}

/* One manager per queue: two would deliver every message twice and race on
 * the journals. The lock lives as long as the process (an fd kept open). */
static void lock_queue(void)
{
	char path[sizeof paths.queue + 16];
	int fd;

	snprintf(path, sizeof path, "%s/qmgr.lock", paths.queue);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		log_fatal("cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			log_fatal("another pochta-qmgr is running on %s", paths.queue);
		log_fatal("cannot lock %s: %s", path, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	sa_t err = SA_INIT;
	char trigger[4400];
	struct pollfd *pfd;
	long long stop_at = 0, next_scan, next_sweep;
	size_t npfd;
	int c, trig_r, trig_w;

	log_init("pochta-qmgr", LOG_DEST_AUTO);
	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c == 'r')
			root = optarg;
		else
			usage();
	}
	if (optind != argc)
		usage();
	if (paths_init(root) < 0)
		log_fatal("cannot set up paths: %s", strerror(errno));
	if (qmgr_conf_load(&err) < 0)
		log_fatal("%s", err.s ? err.s : "cannot load configuration");
	log_configure(Q.conf.log_destination, Q.conf.log_format, paths.log);
	sa_free(&err);
	umask(077);
	if (qdir_make(paths.queue) < 0)
		log_fatal("cannot set up %s: %s", paths.queue, strerror(errno));
	lock_queue();
	signals_init();
	snprintf(trigger, sizeof trigger, "%s/trigger", paths.queue);
	trig_r = open(trigger, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (trig_r < 0)
		log_fatal("cannot open %s: %s", trigger, strerror(errno));
	/* our own writer: the FIFO never reports EOF when the last client closes */
	trig_w = open(trigger, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (trig_w < 0)
		log_fatal("cannot open %s for writing: %s", trigger, strerror(errno));
	qmgr_pool_channel();
	if (deliver_init((size_t)Q.conf.delivery_concurrency) < 0)
		log_fatal("out of memory");
	/* at most delivery_concurrency local and as many remote workers */
	npfd = 2 + 2 * (size_t)Q.conf.delivery_concurrency;
	pfd = calloc(npfd, sizeof *pfd);
	if (!pfd)
		log_fatal("out of memory");

	Q.now = time(NULL);
	msg_startup();
	next_scan = Q.now + QMGR_SCAN_INTERVAL;
	next_sweep = Q.now + QMGR_JOURNAL_DELAY;
	for (;;) {
		long long t;
		size_t n;
		struct wakes w = { 0, 0, 0 };

		Q.now = time(NULL);
		if (got_term && !Q.stopping) {
			Q.stopping = 1;
			stop_at = Q.now + QMGR_STOP_WAIT;
			log_info(NULL, "stopping: waiting for %zu deliveries", deliver_running());
		}
		if (Q.stopping) {
			if (deliver_running() == 0)
				break;
			if (Q.now >= stop_at) {
				log_warn(NULL, "killing %zu deliveries that did not finish", deliver_running());
				deliver_kill_all();
				break;
			}
		} else {
			if (Q.now >= next_scan) {
				qmgr_conf_check();
				msg_take_incoming();
				next_scan = Q.now + QMGR_SCAN_INTERVAL;
			}
			if (Q.now >= next_sweep) {
				msg_journal_stale();
				next_sweep = Q.now + QMGR_JOURNAL_DELAY;
			}
		}
		sched_due();
		sched_run();
		/* after the run: it may have deferred work (a backed-off domain, a
		 * delivery that could not start) whose retry time must bound the wait */
		t = sched_due();
		t = min_timeout(t, deliver_timeouts());
		t = min_timeout(t, Q.stopping ? (stop_at - Q.now) * 1000 : (next_scan - Q.now) * 1000);
		if (!Q.stopping && deliver_running())
			t = min_timeout(t, (next_sweep - Q.now) * 1000);
		if (t < 0)
			t = 0;
		if (t > 60000)
			t = 60000;

		pfd[0].fd = trig_r;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = selfpipe[0];
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = 2 + deliver_pollfds(pfd + 2, npfd - 2);
		if (poll(pfd, n, (int)t) < 0 && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		Q.now = time(NULL);
		if (pfd[1].revents)
			drain(selfpipe[0]);
		if (pfd[0].revents)
			drain_trigger(trig_r, &w);
		deliver_events(pfd + 2, n - 2);
		if (Q.stopping)
			continue;
		/* before new mail is routed: smtpd may have taken it under a newer file */
		qmgr_conf_check();
		if (w.rescan)
			msg_rescan();
		else if (w.new)
			msg_take_incoming();
		if (w.flush) {
			log_info(NULL, "flush: retrying every deferred recipient and backed-off domain");
			sched_flush();
		}
	}
	/* results of finished deliveries whose messages are not complete */
	msg_journal_all();
	log_info(NULL, "stopped");
	sched_free();
	msg_free_all();
	dest_free_all();
	deliver_free();
	free(pfd);
	conf_free(&Q.conf);
	close(trig_r);
	close(trig_w);
	return 0;
}
