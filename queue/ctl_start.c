/* pochtactl start [-d]: exec pochta-master, the supervisor, for this instance
 * (-d: in the background, ctl_run.c).
 * The supervisor is a program of its own (as Postfix's master) so that an
 * init system can run it directly and pochtactl stays an admin command. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "conf.h"
#include "confcheck.h"
#include "ctl.h"
#include "log.h"
#include "paths.h"

int ctl_cmd_start(int argc, char **argv)
{
	int bg = argc == 2 && (strcmp(argv[1], "-d") == 0 || strcmp(argv[1], "--background") == 0);
	if (!bg)
		ctl_nargs("start", NULL, argc - 1, "");
	const char *prog = paths_prog_find("pochta-master");
	if (!prog)
		ctl_die("pochta-master not found (looked in POCHTA_LIBEXEC, beside pochtactl and in %s)",
		        POCHTA_LIBEXECDIR);
	/* same PID, same stderr: the operator sees one foreground process */
	log_init("pochtactl", LOG_DEST_STDERR);
	/* in the format pochta-master will log in (it reports a bad file itself) */
	struct conf c;
	sa_t err = SA_INIT;
	if (conf_load(&c, paths.conf, &err) == 0) {
		if (confcheck_all(&c, &err, NULL) == 0)
			log_configure(NULL, c.log_format, NULL);
		conf_free(&c);
	}
	sa_free(&err);
	log_info(NULL, "starting %s", prog);
	char *args[] = { "pochta-master", "-r", paths.root, NULL };
	if (!paths.root[0])
		args[1] = NULL;
	if (bg)
		return ctl_start_background(prog, args);
	execv(prog, args);
	ctl_die_sys("cannot run %s", prog);
}
