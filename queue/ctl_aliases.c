/* pochtactl aliases: check ROOT/etc/aliases and compile it into
 * ROOT/etc/aliases.idx (aliases.h, man/pochta-aliases.5), as newaliases. */
#include <stdio.h>
#include "aliases.h"
#include "ctl.h"
#include "paths.h"

int ctl_cmd_aliases(int argc, char **argv)
{
	sa_t path = SA_INIT, err = SA_INIT;
	long n;

	(void)argv;
	ctl_nargs("aliases", NULL, argc - 1, "");
	if (sa_catf(&path, "%s/aliases", paths.etc) < 0)
		ctl_die("out of memory");
	n = aliases_compile(path.s, &err);
	if (n < 0)
		ctl_die("%s", err.s ? err.s : "cannot compile the aliases");
	printf("%s: %ld alias%s, compiled into %s.idx\n", path.s, n, n == 1 ? "" : "es", path.s);
	sa_free(&path);
	sa_free(&err);
	return 0;
}
