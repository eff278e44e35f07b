/* pochta-checkpass: the one program that reads password hashes. pochta-pop3d
 * (and pochta-smtpd run without pochta-master) runs it once per login attempt
 * with "NAME\0PASSWORD\0" on standard input (common/passreq.h) and learns the
 * answer from the exit status alone, as with checkpassword: 0 the password is
 * right, 1 it is not (unknown users included), 111 it could not be checked,
 * 100 bad usage or a malformed request; 2 the password is right and NAME is
 * an account of the host (a system user, common/sysuser.h) rather than a user
 * of etc/passwd. The users of etc/passwd come first: a name found there is
 * decided there. It never writes to its standard output.
 * With -w it is the checker service pochta-master keeps for pochta-smtpd
 * (checkpass_serve.c, common/passcheck.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checkpass.h"
#include "log.h"
#include "passreq.h"
#include "paths.h"

/* a check that takes longer than this is killed: the caller sees a signal */
#define CHECKPASS_TIMEOUT_SEC 20

int main(int argc, char **argv)
{
	const char *root = NULL;
	char buf[PASSREQ_MAX + 1];
	int serve = 0;
	long len;

	log_init("pochta-checkpass", LOG_DEST_AUTO);
	if (argc > 1 && strcmp(argv[1], "-w") == 0) {
		serve = 1;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (paths_args(argc, argv, &root) < 0) {
		fprintf(stderr, "usage: pochta-checkpass [-w] [-r ROOT] < request\n");
		return 100;
	}
	if (serve) {
		if (paths_init(root) < 0) {
			log_warn(NULL, "cannot find the instance: %s", strerror(errno));
			return 111;
		}
		return checkpass_serve(0);
	}
	signal(SIGALRM, SIG_DFL);
	alarm(CHECKPASS_TIMEOUT_SEC);
	len = checkpass_read(0, buf, PASSREQ_MAX);
	if (len < 0) {
		log_warn(NULL, "cannot read the request: %s", strerror(errno));
		return 111;
	}
	if (paths_init(root) < 0) {
		explicit_bzero(buf, sizeof buf);
		log_warn(NULL, "cannot find the instance: %s", strerror(errno));
		return 111;
	}
	return checkpass_check(buf, (size_t)len);
}
