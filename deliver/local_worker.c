/* local_worker: pochta-local as a long-lived worker of pochta-qmgr (-w). It
 * reads the configuration once (again when the file changes), takes one
 * request at a time from the packet socket (lreq.h) and, where the delivery
 * means becoming the mailbox owner (always for a system user, whose account
 * the root worker checks first: local_route), forks without exec a child
 * that does so and writes the Maildir; the worker waits for it. Where no change of uid is
 * needed (the worker is not root, or the Maildir is root's) the worker writes
 * the Maildir itself: a fork per message is most of a delivery's CPU. Exactly
 * one reply per request. It ends when the socket closes (pochta-qmgr retires
 * it or is gone). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conf.h"
#include "confrun.h"
#include "dresult.h"
#include "local.h"
#include "log.h"
#include "lreq.h"
#include "paths.h"
#include "rec.h"

/* the configuration as the file is now: loaded again when it changed. 0, or
 * -1 (the request fails temporarily; the next one tries again) */
static int conf_fresh(struct conf_live *lc, const char *qid)
{
	sa_t err = SA_INIT;
	int r = conf_live_load(lc, confrun_path(), &err);

	if (r < 0)
		log_warn(qid, "%s", err.s ? err.s : "cannot load configuration");
	if (r == 1)
		log_configure(lc->c.log_destination, lc->c.log_format, paths.log);
	sa_free(&err);
	return r < 0 ? -1 : 0;
}

/* the forked child: fn's result reported on out */
static void child(const struct conf *conf, local_job fn, void *arg, int out)
{
	struct local_result r = LOCAL_RESULT_INIT;
	sa_t rec = SA_INIT;

	/* killed with the worker (a delivery timeout): no orphan keeps writing */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(111);
	fn(conf, arg, &r);
	if (dresult_cat(&rec, 0, r.class, r.status, r.text.s ? r.text.s : "") < 0 ||
	    write(out, rec.s, rec.len) != (ssize_t)rec.len)
		_exit(111);
	_exit(r.class == 'D' ? 0 : r.class == 'P' ? 100 : 111);
}

void local_fork(const struct conf *conf, local_job fn, void *arg, int sock,
                struct local_result *r)
{
	char buf[LREQ_REPLY_MAX];
	size_t len = 0, pos = 0, dlen;
	struct dresult dr = { 0, 0, "", SA_INIT };
	const char *data;
	int p[2], st, type;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		local_set(r, 'T', "4.3.0", "cannot create a pipe", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		local_set(r, 'T', "4.3.0", "cannot fork", strerror(errno));
		return;
	}
	if (pid == 0) {
		if (sock >= 0)
			close(sock); /* the worker's death must reach pochta-qmgr at once */
		close(p[0]);
		child(conf, fn, arg, p[1]);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof buf)
			break;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* take one well-formed result, else say what became of the child */
	if (rec_next(buf, len, &pos, &type, &data, &dlen) == 1 && type == DRESULT_REC &&
	    pos == len && dresult_parse(data, dlen, &dr) == 0 && dr.index == 0) {
		snprintf(r->st, sizeof r->st, "%s", dr.status);
		local_set(r, dr.class, r->st, dr.text.s ? dr.text.s : "", NULL);
	} else if (WIFSIGNALED(st)) {
		char t[64];
		snprintf(t, sizeof t, "delivery process killed by signal %d", WTERMSIG(st));
		local_set(r, 'T', "4.3.0", t, NULL);
	} else {
		local_set(r, 'T', "4.3.0", "delivery process ended without a result", NULL);
	}
	sa_free(&dr.text);
}

struct write_job {
	const struct local_dest *d;
	const char *sender, *rcpt;
	int in;
};

static void write_job(const struct conf *conf, void *arg, struct local_result *r)
{
	struct write_job *j = arg;

	local_write(conf, j->d, j->sender, j->rcpt, j->in, r);
}

void local_deliver_dest(const struct conf *conf, const struct local_dest *d, const char *sender,
                        const char *rcpt, int in, int sock, struct local_result *r)
{
	struct write_job j = { d, sender, rcpt, in };

	/* a fork per message is most of a delivery's CPU: only when the uid
	 * must change */
	if (!d->system && !local_owner_change(d->dir.s)) {
		local_write_virtual(conf, d, sender, rcpt, in, r);
		return;
	}
	(void)conf_hostname(conf); /* the name is looked up once here, not in every child */
	local_fork(conf, write_job, &j, sock, r);
}

int local_worker(int sock)
{
	struct conf_live lc;
	char buf[LREQ_MAX];
	struct local_dest d = LOCAL_DEST_INIT;
	sa_t reply = SA_INIT;

	memset(&lc, 0, sizeof lc);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	for (;;) {
		struct local_result r = LOCAL_RESULT_INIT;
		struct lreq q;

		r.class = 'T';
		r.status = "4.3.0";
		int in;
		ssize_t n = lreq_recv(sock, buf, sizeof buf, &in);

		if (n == 0)
			break;
		if (n < 0 && errno != EMSGSIZE) {
			log_warn(NULL, "cannot read a request: %s", strerror(errno));
			sa_free(&reply);
			return 111;
		}
		sa_trunc(&reply, 0);
		if (n < 0 || in < 0 || lreq_parse(buf, (size_t)n, &q) < 0) {
			log_warn(NULL, "malformed delivery request");
			dresult_cat(&reply, 0, 'T', "4.3.0", "malformed delivery request");
		} else if (conf_fresh(&lc, q.qid[0] ? q.qid : NULL) < 0) {
			dresult_cat(&reply, 0, 'T', "4.3.5", "configuration error");
		} else {
			/* unknown users, bad addresses: decided before any fork */
			d.binary = strcmp(q.body, "BINARYMIME") == 0;
			if (local_route(&lc.c, q.sender, q.rcpt, &d, &r) == 0) {
				if (d.expand)
					local_alias_deliver(&lc.c, q.qid, &d, q.sender, q.rcpt, in,
					                    sock, &r);
				else
					local_deliver_dest(&lc.c, &d, q.sender, q.rcpt, in, sock, &r);
			}
			if (dresult_cat(&reply, 0, r.class, r.status, r.text.s ? r.text.s : "") < 0)
				sa_trunc(&reply, 0); /* out of memory: no reply, the worker ends */
			if (r.class != 'D')
				log_info(q.qid[0] ? q.qid : NULL, "status=%s %s", r.status,
				         r.text.s ? r.text.s : "");
		}
		sa_free(&r.text);
		if (in >= 0)
			close(in);
		if (reply.len == 0 || lreq_send(sock, reply.s, reply.len, -1) < 0) {
			/* pochta-qmgr is gone: it delivers again what it did not hear of */
			log_warn(NULL, "cannot send a result: %s", reply.len ? strerror(errno) : "out of memory");
			sa_free(&reply);
			sa_free(&d.dir);
			return 111;
		}
	}
	sa_free(&reply);
	sa_free(&d.dir);
	conf_live_free(&lc);
	return 0;
}
