/* pochta-remote: one remote delivery attempt (man/pochta-remote.8).
 *   pochta-remote [-r ROOT] -q QID -f SENDER [-b BODY] -- DOMAIN RCPT...
 * The message is on stdin (LF line ends); one dresult record per recipient
 * goes to stdout. With -w: a long-lived worker of pochta-qmgr serving
 * requests on stdin (remote_worker.c). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "confrun.h"
#include "addr.h"
#include "dresult.h"
#include "dsn.h"
#include "log.h"
#include "paths.h"
#include "priv.h"
#include "qfile.h"
#include "remote.h"

#define QID_ARG_MAX 64

static void usage(const char *why)
{
	static const char u[] =
		"usage: pochta-remote [-r ROOT] -q QID -f SENDER [-b 8BITMIME|7BIT|\"\"] -- DOMAIN RCPT...\n"
		"       pochta-remote [-r ROOT] -w\n";
	if (why)
		fprintf(stderr, "pochta-remote: %s\n", why);
	fputs(u, stderr);
	exit(100);
}

/* status "x.y.z" with class digit c; "c.0.0" when malformed */
static void status_fix(char *dst, size_t cap, char c, const char *status)
{
	size_t n = status ? strlen(status) : 0;

	if (n && n < cap && dsn_status_len(status, n) == n) {
		/* the subject and detail stay; the class is ours (a 5.7.1 greeting
		 * that only makes us try another host is a 4.7.1 for the recipient) */
		memcpy(dst, status, n + 1);
		dst[0] = c;
	} else {
		snprintf(dst, cap, "%c.0.0", c);
	}
}

static char class_digit(char class)
{
	return class == 'D' ? '2' : class == 'P' ? '5' : '4';
}

void rcpt_set(struct remote *rm, size_t i, char class, const char *status, const char *text,
              const char *relay)
{
	struct rcpt *r = &rm->r[i];

	if (r->final)
		return;
	r->class = class;
	status_fix(r->status, sizeof r->status, class_digit(class), status);
	sa_trunc(&r->text, 0);
	if (sa_cats(&r->text, text) < 0)
		sa_trunc(&r->text, 0);
	snprintf(r->relay, sizeof r->relay, "%s", relay ? relay : "none");
	if (class == 'D' || class == 'P')
		r->final = 1;
}

void session_error(struct remote *rm, char class, const char *status, const char *relay,
                   const char *fmt, ...)
{
	sa_t t = SA_INIT;
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	if (sa_vcatf(&t, fmt, ap) < 0)
		sa_trunc(&t, 0);
	va_end(ap);
	for (i = 0; i < rm->n; i++)
		rcpt_set(rm, i, class, status, t.s ? t.s : "", relay);
	sa_free(&t);
}

size_t rcpt_pending(const struct remote *rm)
{
	size_t i, n = 0;

	for (i = 0; i < rm->n; i++)
		if (!rm->r[i].final)
			n++;
	return n;
}

static int qid_ok(const char *q)
{
	size_t i, n = strlen(q);

	if (n == 0 || n > QID_ARG_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'A' && q[i] <= 'Z') ||
		      (q[i] >= 'a' && q[i] <= 'z')))
			return 0;
	return 1;
}

/* Installed and started as root (by a pochta-qmgr that still runs as root):
 * become remote_user before anything else. pochta-remote needs no file of
 * the queue (the message comes as a descriptor) and talks to the network,
 * so it never keeps root. An instance keeps the identity it was given
 * (pochta-master(8)). 0, or -1 logged. */
static int remote_drop_root(void)
{
	struct conf c;
	struct priv_user u;
	sa_t err = SA_INIT;
	int r = -1;

	if (paths.root[0] || !priv_is_root())
		return 0;
	if (confrun_load(&c, &err) < 0)
		log_warn(NULL, "%s", err.s ? err.s : "cannot load the configuration");
	else if (priv_lookup(c.remote_user, &u, &err) < 0 || priv_drop(&u, &err) < 0)
		log_warn(NULL, "refusing to run as root: remote_user %s: %s", c.remote_user, err.s);
	else
		r = 0;
	conf_free(&c);
	sa_free(&err);
	return r;
}

int main(int argc, char **argv)
{
	struct remote rm;
	const char *root = NULL, *body = "";
	sa_t err = SA_INIT, out = SA_INIT;
	struct addr a;
	size_t i;
	int c, fatal = 0, worker = 0;

	memset(&rm, 0, sizeof rm);
	/* a vanished reader (peer or pochta-qmgr) is a write error, not death */
	signal(SIGPIPE, SIG_IGN);
	log_init("pochta-remote", LOG_DEST_AUTO);
	while ((c = getopt(argc, argv, "r:q:f:b:Uw")) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'q': rm.qid = optarg; break;
		case 'f': rm.sender = optarg; break;
		case 'b': body = optarg; break;
		case 'U': rm.smtputf8 = 1; break;
		case 'w': worker = 1; break;
		default: usage(NULL);
		}
	}
	if (worker) {
		if (argc != optind || rm.qid || rm.sender)
			usage("-w takes no other arguments but -r");
		if (paths_init(root) < 0) {
			log_warn(NULL, "bad instance root: %s", strerror(errno));
			return 111;
		}
		if (remote_drop_root() < 0)
			return 111;
		return remote_worker(0);
	}
	if (!rm.qid || !qid_ok(rm.qid))
		usage("-q QID missing or malformed");
	if (!rm.sender)
		usage("-f SENDER missing");
	if (*rm.sender && addr_parse_u(rm.sender, strlen(rm.sender), &a, 1) != ADDR_OK)
		usage("bad sender address");
	if (!qfile_body_ok(body, strlen(body)))
		usage("-b takes 8BITMIME, 7BIT, BINARYMIME or \"\"");
	if (argc - optind < 2)
		usage("DOMAIN and at least one RCPT needed");
	rm.domain = argv[optind];
	if (!remote_domain_ok(rm.domain))
		usage("bad destination domain");
	rm.n = (size_t)(argc - optind - 1);
	rm.r = calloc(rm.n, sizeof *rm.r);
	if (!rm.r) {
		fprintf(stderr, "pochta-remote: out of memory\n");
		return 111;
	}
	for (i = 0; i < rm.n; i++)
		rm.r[i].addr = argv[optind + 1 + i];

	if (paths_init(root) < 0) {
		session_error(&rm, 'T', "4.3.5", "none", "bad instance root: %s", strerror(errno));
		fatal = 1;
	} else if (remote_drop_root() < 0) {
		session_error(&rm, 'T', "4.3.5", "none", "refusing to run as root");
		fatal = 1;
	} else if (confrun_load(&rm.conf, &err) < 0) {
		session_error(&rm, 'T', "4.3.5", "none", "configuration error: %s",
		              err.s ? err.s : "cannot load");
		fatal = 1;
	} else {
		log_configure(rm.conf.log_destination, rm.conf.log_format, paths.log);
		if (remote_run(&rm, 0, body) < 0)
			fatal = 1;
	}
	if (fatal && rm.r[0].text.s)
		log_warn(rm.qid, "%s", rm.r[0].text.s);
	if (remote_results(&rm, &out) < 0 || fd_write_all(1, out.s, out.len) < 0) {
		log_warn(rm.qid, "cannot write the results: %s", strerror(errno));
		fatal = 1;
	}
	for (i = 0; i < rm.n; i++)
		sa_free(&rm.r[i].text);
	free(rm.r);
	sa_free(&err);
	sa_free(&out);
	conf_free(&rm.conf);
	return fatal ? 111 : 0;
}
