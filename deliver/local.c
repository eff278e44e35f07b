/* pochta-local: deliver the message on stdin to one local recipient's Maildir
 * (man/pochta-local.8). Started by pochta-qmgr; reports one result record
 * (common/dresult.h) on stdout and exits 0, 100 or 111. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "dresult.h"
#include "io.h"
#include "local.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "qid.h"
#include "users.h"

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

static void result(char class, const char *status, const char *text)
{
	struct local_result r = { class, status, SA_INIT };

	if (sa_cats(&r.text, text) < 0)
		sa_trunc(&r.text, 0);
	finish(&r);
}

static int text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: pochta-local [-r ROOT] [-q QID] [-f SENDER] [--] RECIPIENT\n");
	exit(111);
}

int main(int argc, char **argv)
{
	const char *root = NULL, *sender = "", *rcpt;
	struct conf conf;
	struct addr a;
	struct local_result r = { 0, NULL, SA_INIT };
	sa_t err = SA_INIT, dir = SA_INIT, users = SA_INIT;
	char user[USER_NAME_MAX + 1];
	int c;

	log_init("pochta-local", LOG_DEST_AUTO);
	while ((c = getopt(argc, argv, "r:q:f:")) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'q': qid = optarg; break;
		case 'f': sender = optarg; break;
		default: usage();
		}
	}
	if (argc - optind != 1)
		usage();
	rcpt = argv[optind];
	if (qid && !qid_valid(qid))
		qid = NULL;
	if (paths_init(root) < 0)
		result('T', "4.3.5", "cannot set up paths");
	if (conf_load(&conf, paths.conf, &err) < 0) {
		log_warn(qid, "%s", err.s ? err.s : "cannot load configuration");
		result('T', "4.3.5", "configuration error");
	}
	/* the envelope ends up in header lines: refuse anything a queue file
	 * could not have held */
	if (!text_ok(sender) || (sender[0] && addr_parse(sender, strlen(sender), &a) != ADDR_OK))
		result('P', "5.1.7", "bad sender address");
	if (!text_ok(rcpt) || localaddr_parse(rcpt, strlen(rcpt), &a) != ADDR_OK)
		result('P', "5.1.3", "bad recipient address");
	/* the mapping pochta-smtpd accepted the recipient with */
	if (sa_catf(&users, "%s/users", paths.etc) < 0)
		result('T', "4.3.0", "out of memory");
	switch (localaddr_lookup(&conf, users.s, &a, user)) {
	case LOCALADDR_USER:
	case LOCALADDR_POSTMASTER:
		break;
	case LOCALADDR_UNKNOWN:
		result('P', "5.1.1", "user unknown");
		break;
	case LOCALADDR_REMOTE:
		/* local_domains changed under a running pochta-qmgr: it routes
		 * the recipient again once restarted */
		result('T', "4.3.5", "not a local domain");
		break;
	default:
		if (errno == EINVAL)
			result('T', "4.3.5", "configuration error: postmaster");
		result('T', "4.3.0", "cannot read the users file");
	}
	if (sa_catf(&dir, "%s/%s", paths.mail, user) < 0)
		result('T', "4.3.0", "out of memory");
	local_maildir(dir.s, conf_hostname(&conf), sender, rcpt, &r);
	sa_free(&err);
	sa_free(&dir);
	sa_free(&users);
	conf_free(&conf);
	finish(&r);
}
