/* pochta-local: deliver a message into one local recipient's Maildir
 * (man/pochta-local.8). One-shot: the message on stdin, one result record
 * (common/dresult.h) on stdout, exit 0, 100 or 111. With -w: a long-lived
 * worker of pochta-qmgr serving requests on stdin (local_worker.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "confrun.h"
#include "dresult.h"
#include "io.h"
#include "local.h"
#include "log.h"
#include "paths.h"
#include "qfile.h"
#include "qid.h"

static const char *qid;

/* report the result on stdout and exit with the matching code */
static void finish(struct local_result *r)
{
	char buf[2048];
	io_t out;
	int code = r->class == 'D' ? 0 : r->class == 'P' ? 100 : 111;

	io_init(&out, 1, buf, sizeof buf, 10000);
	if (dresult_put(&out, 0, r->class, r->status, r->text.s ? r->text.s : "") < 0 ||
	    io_flush(&out) < 0)
		log_warn(qid, "cannot report the result: %s", strerror(errno));
	if (r->class != 'D')
		log_info(qid, "status=%s %s", r->status, r->text.s ? r->text.s : "");
	sa_free(&r->text);
	exit(code);
}

static void usage(void)
{
	fprintf(stderr, "usage: pochta-local [-r ROOT] [-q QID] [-f SENDER] [-b BODY] [--] RECIPIENT\n"
	                "       pochta-local [-r ROOT] -w\n");
	exit(111);
}

int main(int argc, char **argv)
{
	const char *root = NULL, *sender = "", *body = "";
	struct conf conf;
	struct local_result r = LOCAL_RESULT_INIT;
	sa_t err = SA_INIT;
	int c, worker = 0;

	log_init("pochta-local", LOG_DEST_AUTO);
	while ((c = getopt(argc, argv, "r:q:f:b:w")) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'q': qid = optarg; break;
		case 'f': sender = optarg; break;
		case 'b': body = optarg; break;
		case 'w': worker = 1; break;
		default: usage();
		}
	}
	if (worker ? argc != optind : argc - optind != 1)
		usage();
	if (!qfile_body_ok(body, strlen(body))) {
		fprintf(stderr, "pochta-local: -b takes 7BIT, 8BITMIME, BINARYMIME or \"\"\n");
		exit(111);
	}
	if (qid && !qid_valid(qid))
		qid = NULL;
	if (paths_init(root) < 0) {
		local_set(&r, 'T', "4.3.5", "cannot set up paths", NULL);
		finish(&r);
	}
	if (worker)
		return local_worker(0);
	if (confrun_load(&conf, &err) < 0) {
		log_warn(qid, "%s", err.s ? err.s : "cannot load configuration");
		local_set(&r, 'T', "4.3.5", "configuration error", NULL);
		finish(&r);
	}
	log_configure(conf.log_destination, conf.log_format, paths.log);
	local_deliver(&conf, sender, argv[optind], strcmp(body, "BINARYMIME") == 0, 0, &r);
	sa_free(&err);
	conf_free(&conf);
	finish(&r);
}
