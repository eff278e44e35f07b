/* pochta-enqueue: the only writer of new queue entries (man/pochta-enqueue.8).
 * Speaks the record protocol of common/enqproto.h on stdin/stdout and serves a
 * whole session: any number of messages, one after the other. The parsing is
 * common/enqproto.c's; this is the I/O around it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "confrun.h"
#include "enqproto.h"
#include "enqueue.h"
#include "log.h"
#include "paths.h"
#include "qdir.h"
#include "rec.h"
#include "rlimits.h"

#define ENQ_SIZE_MARGIN 65536 /* room for the headers smtpd adds (Received:) */
#define ENQ_REC_MAX (ENQ_DATA_MAX > QFILE_MAX_FIELD ? ENQ_DATA_MAX : QFILE_MAX_FIELD)

static struct {
	struct conf conf;
	io_t in, out;
	char inbuf[ENQ_REC_MAX + 64], outbuf[4096];
	struct enqfile f;
	struct enqp p;
} E;

static void reply(int type, const char *text)
{
	if (rec_puts(&E.out, type, text) < 0 || io_flush(&E.out) < 0) {
		/* the client is gone: nothing left to serve */
		enqfile_abort(&E.f);
		exit(0);
	}
}

static void act(int a, const sa_t *d);

/* an I/O failure fails the message: drop it now, tell the client at E */
static void fail_errno(const char *what)
{
	char buf[256];

	snprintf(buf, sizeof buf, "4.3.0 %s: %s", what, strerror(errno));
	act(enqp_fail(&E.p, ENQ_R_TEMP, buf), NULL);
}

static void msg_open(void)
{
	char buf[256];

	if (enqfile_create(&E.f, paths.queue, &E.p.q) == 0) {
		reply(ENQ_R_ID, E.p.q.qid);
		return;
	}
	log_warn(NULL, "cannot create queue file: %s", strerror(errno));
	snprintf(buf, sizeof buf, "4.3.0 cannot create queue file: %s", strerror(errno));
	enqp_idle(&E.p);
	reply(ENQ_R_TEMP, buf);
}

static void msg_commit(void)
{
	const char *qid = E.p.q.qid;

	if (enqfile_commit(&E.f, &E.p.q, paths.queue) < 0) {
		fail_errno("queue file commit failed");
		act(enqp_record(&E.p, ENQ_END, "", 0), NULL);
		return;
	}
	log_info(qid, "queued from=<%s> nrcpt=%zu size=%llu", E.p.q.sender.s ? E.p.q.sender.s : "",
	         E.p.q.nrcpt, E.p.size);
	reply(ENQ_R_OK, qid);
	/* a manager that is not running finds the file when it starts */
	if (qdir_trigger(paths.queue, QDIR_WAKE_NEW) < 0)
		log_warn(qid, "cannot wake pochta-qmgr: %s", strerror(errno));
}

/* do what the parser asks, in its order; d is the record's data */
static void act(int a, const sa_t *d)
{
	if (a & ENQP_DROP)
		enqfile_abort(&E.f);
	if (a & ENQP_LOG)
		log_warn(E.p.q.qid[0] ? E.p.q.qid : NULL, "rejected: %s",
		         E.p.fail_text.s ? E.p.fail_text.s : "4.3.0 failed");
	if (a & ENQP_OPEN)
		msg_open();
	if ((a & ENQP_WRITE) && enqfile_data(&E.f, &E.p.q, d->s, d->len) < 0)
		fail_errno("queue file write error");
	if (a & ENQP_COMMIT)
		msg_commit();
	if (a & ENQP_REPLY)
		reply(E.p.fail_type, E.p.fail_text.s ? E.p.fail_text.s : "4.3.0 failed");
}

static void usage(void)
{
	fprintf(stderr, "usage: pochta-enqueue [-r ROOT]\n");
	exit(100);
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	sa_t err = SA_INIT, d = SA_INIT;
	int type, r;

	if (argc > 1 && strcmp(argv[1], "-z") == 0) {
		enqueue_zygote(argv[1]); /* here in a session's child */
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	log_init("pochta-enqueue", LOG_DEST_AUTO);
	if (paths_args(argc, argv, &root) < 0)
		usage();
	if (paths_init(root) < 0)
		log_fatal("cannot set up paths: %s", strerror(errno));
	if (confrun_load(&E.conf, &err) < 0)
		log_fatal("%s", err.s ? err.s : "cannot load configuration");
	log_configure(E.conf.log_destination, E.conf.log_format, paths.log);
	/* a session's writer, forked by the enqueue zygote or exec'd: the same
	 * limits as the session it serves */
	if (rlimits_session(&E.conf, &err) < 0)
		log_fatal("cannot set resource limits: %s", err.s);
	enqp_init(&E.p, (unsigned long long)E.conf.message_size_limit + ENQ_SIZE_MARGIN);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	E.f.fd = -1;
	gcommit_init(&E.f.gc);
	io_init(&E.in, 0, E.inbuf, sizeof E.inbuf, -1);
	io_init(&E.out, 1, E.outbuf, sizeof E.outbuf, -1);
	E.in.flush = &E.out;
	for (;;) {
		r = rec_get(&E.in, &type, &d, ENQ_REC_MAX);
		if (r == IO_EOF)
			break;
		if (r != IO_OK) {
			/* a malformed stream cannot be resynchronised: refuse and end */
			if (errno == EPROTO || errno == E2BIG) {
				log_warn(E.p.st != ENQP_IDLE ? E.p.q.qid : NULL, "protocol error: %s",
				         errno == E2BIG ? "record too long" : "malformed record");
				enqfile_abort(&E.f);
				if (E.p.st != ENQP_IDLE)
					reply(ENQ_R_PERM, "5.5.0 protocol error on the queue pipe");
			} else if (E.p.st != ENQP_IDLE) {
				log_warn(E.p.q.qid, "read error: %s", strerror(errno));
			}
			break;
		}
		act(enqp_record(&E.p, type, d.s, d.len), &d);
	}
	/* EOF (or a broken stream) aborts an open message */
	enqfile_free(&E.f);
	enqp_free(&E.p);
	sa_free(&d);
	sa_free(&err);
	conf_free(&E.conf);
	return 0;
}
