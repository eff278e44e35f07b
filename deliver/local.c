/* pochta-local: deliver the message on stdin to one local recipient's Maildir
 * (man/pochta-local.8). Started by pochta-qmgr; reports one result record
 * (common/dresult.h) on stdout and exits 0, 100 or 111. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "dresult.h"
#include "io.h"
#include "local.h"
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

/* the mailbox of a local recipient: the local part lowercased, its +extension
 * removed; postmaster (bare or @ any local domain) is the postmaster key */
static int rcpt_user(const struct conf *c, const char *rcpt, char *user, size_t size)
{
	const char *at = strrchr(rcpt, '@');
	size_t n = at ? (size_t)(at - rcpt) : strlen(rcpt);
	const char *delim = c->recipient_delimiter;

	if (!at && strcasecmp(rcpt, "postmaster") != 0)
		return -1;
	if (n == 0 || n >= size)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = rcpt[i];
		user[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	user[n] = '\0';
	if (delim && delim[0]) {
		char *d = strchr(user, delim[0]);
		if (d && d != user)
			*d = '\0';
	}
	if (strcmp(user, "postmaster") == 0) {
		if (strlen(c->postmaster) >= size)
			return -1;
		strcpy(user, c->postmaster);
	}
	return 0;
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
	char user[USER_NAME_MAX + 2];
	int c, ex;

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
	if (!text_ok(rcpt) || (strcasecmp(rcpt, "postmaster") != 0 &&
	    addr_parse(rcpt, strlen(rcpt), &a) != ADDR_OK))
		result('P', "5.1.3", "bad recipient address");
	if (rcpt_user(&conf, rcpt, user, sizeof user) < 0 || !user_name_valid(user, strlen(user)))
		result('P', "5.1.1", "user unknown");
	if (strcmp(user, conf.postmaster) != 0) {
		if (sa_catf(&users, "%s/users", paths.etc) < 0)
			result('T', "4.3.0", "out of memory");
		ex = users_exists(users.s, user);
		if (ex < 0)
			result('T', "4.3.0", "cannot read the users file");
		if (ex == 0)
			result('P', "5.1.1", "user unknown");
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
