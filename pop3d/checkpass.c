/* pochta-checkpass: the one program that reads password hashes. pochta-pop3d
 * runs it once per login attempt with "NAME\0PASSWORD\0" on standard input
 * (common/passreq.h) and learns the answer from the exit status alone, as
 * with checkpassword: 0 the password is right, 1 it is not (unknown users
 * included), 111 it could not be checked, 100 bad usage or a malformed
 * request; 2 the password is right and NAME is an account of the host (a
 * system user, common/sysuser.h) rather than a user of etc/passwd. The
 * users of etc/passwd come first: a name found there is decided there. It
 * never writes to its standard output. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "confrun.h"
#include "log.h"
#include "passreq.h"
#include "paths.h"
#include "sysuser.h"
#include "users.h"

/* a check that takes longer than this is killed: the caller sees a signal */
#define CHECKPASS_TIMEOUT_SEC 20

int main(int argc, char **argv)
{
	const char *root = NULL;
	char buf[PASSREQ_MAX + 1], path[sizeof paths.etc + 16];
	char stored[PASS_HASH_MAX + 1];
	struct passreq req;
	struct conf conf;
	sa_t err = SA_INIT;
	size_t len = 0;
	ssize_t n;
	int r, known, ok;

	log_init("pochta-checkpass", LOG_DEST_AUTO);
	if (paths_args(argc, argv, &root) < 0) {
		fprintf(stderr, "usage: pochta-checkpass [-r ROOT] < request\n");
		return 100;
	}
	signal(SIGALRM, SIG_DFL);
	alarm(CHECKPASS_TIMEOUT_SEC);
	/* one byte more than a request may hold tells a long one from a full one */
	while (len < sizeof buf) {
		n = read(0, buf + len, sizeof buf - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_warn(NULL, "cannot read the request: %s", strerror(errno));
			return 111;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = passreq_parse(buf, len, &req);
	explicit_bzero(buf, sizeof buf);
	if (r < 0) {
		log_warn(NULL, "malformed request (%zu bytes)", len);
		return 100;
	}
	if (paths_init(root) < 0) {
		explicit_bzero(&req, sizeof req);
		log_warn(NULL, "cannot find the instance: %s", strerror(errno));
		return 111;
	}
	if (confrun_load(&conf, &err) < 0) {
		explicit_bzero(&req, sizeof req);
		log_warn(NULL, "%s", err.s ? err.s : "cannot load the configuration");
		sa_free(&err);
		return 111;
	}
	log_configure(conf.log_destination, conf.log_format, paths.log);
	snprintf(path, sizeof path, "%s/passwd", paths.etc);
	known = pass_lookup(path, req.name, stored);
	if (known < 0) {
		explicit_bzero(&req, sizeof req);
		conf_free(&conf);
		log_warn(NULL, "cannot check the password: %s: %s", path, strerror(errno));
		return 111;
	}
	if (known || !sysuser_enabled(&conf)) {
		r = pass_verify(known ? stored : NULL, req.pass);
		ok = 0;
	} else {
		r = sysuser_pass_check(&conf, req.name, req.pass);
		ok = 2;
		if (r < 0)
			log_warn(NULL, "cannot check the password: the shadow database: %s", strerror(errno));
	}
	if (r < 0 && ok == 0)
		log_warn(NULL, "cannot check the password: %s", strerror(errno));
	explicit_bzero(&req, sizeof req);
	explicit_bzero(stored, sizeof stored);
	conf_free(&conf);
	if (r < 0)
		return 111;
	return r ? ok : 1;
}
