/* pochtactl: option parsing, command dispatch and small shared helpers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ctl.h"
#include "paths.h"
#include "priv.h"

#ifndef POCHTA_VERSION
#error "POCHTA_VERSION comes from the file VERSION (Makefile)"
#endif

static void vmsg(const char *fmt, va_list ap, int err)
{
	/* one fputs of the whole line so concurrent writers do not interleave */
	char buf[2048];
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	if (err)
		fprintf(stderr, "pochtactl: %s: %s\n", buf, strerror(err));
	else
		fprintf(stderr, "pochtactl: %s\n", buf);
}

void ctl_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void ctl_die_sys(const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, e ? e : EIO);
	va_end(ap);
	exit(1);
}

void ctl_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap, 0);
	va_end(ap);
}

/* Every command's usage, in the order `pochtactl --help` prints them: the
 * command, its subcommand (NULL: none), its arguments, and what it does. */
struct ctl_help {
	const char *cmd, *sub, *args, *what;
};

static const struct ctl_help ctl_helps[] = {
	{ "init", NULL, "--domain DOMAIN [--smtp ADDR:PORT] [--submission ADDR:PORT] [--pop3 ADDR:PORT] [--user NAME] [--no-setup]",
	  "create an instance under ROOT (as root: for the account NAME, or set up for separate users)" },
	{ "user", "add", "[--force] NAME", "add a user NAME or NAME@DOMAIN (password: first line of stdin)" },
	{ "user", "passwd", "NAME", "set NAME's password (first line of stdin)" },
	{ "user", "del", "NAME", "remove a user (the Maildir stays)" },
	{ "user", "list", "", "list the users" },
	{ "config", "get", "KEY", "print the value of KEY" },
	{ "config", "set", "KEY VALUE", "set KEY (checked first)" },
	{ "config", "check", "", "check pochta.conf; exit 1 when it is not valid" },
	{ "config", "list", "[-n] [-v]", "every key and value (-n: only those set; -v: with their descriptions)" },
	{ "setup", NULL, "[--check]", "system users, owners and modes (as root); --check lists what is wrong" },
	{ "start", NULL, "[-d]", "run the instance in the foreground (pochta-master; SIGTERM stops it);"
	  " -d: in the background, output to log/pochta.log" },
	{ "stop", NULL, "", "stop the running instance (SIGTERM, waits up to 30 s)" },
	{ "restart", NULL, "", "stop, then start -d" },
	{ "reload", NULL, "", "check pochta.conf and, only when valid, apply it to the running instance" },
	{ "status", NULL, "", "running or not (exit 0, 1 dead with a pid file, 3 not running), pids, listeners, queue" },
	{ "queue", "list", "[--json] [SELECTORS]", "the queue, oldest first (+ incoming, ! held)" },
	{ "queue", "stats", "[--json]", "counts, and recipients per domain by age in minutes, as qshape" },
	{ "queue", "show", "[--header] [--body] ID", "envelope, header and body of one message" },
	{ "queue", "delete", "[SELECTORS] ID...|ALL|-", "delete messages" },
	{ "queue", "hold", "[SELECTORS] ID...|ALL|-", "put messages on hold" },
	{ "queue", "release", "[SELECTORS] ID...|ALL|-", "release held messages" },
	{ "queue", "flush", "[DOMAIN]", "retry deferred mail now (only DOMAIN's); the instance must run" },
	{ "aliases", NULL, "", "check etc/aliases, compile etc/aliases.idx" },
	{ "help", NULL, "[COMMAND [SUBCOMMAND]]", "this text, or one command's" },
};
#define CTL_NHELP (sizeof ctl_helps / sizeof ctl_helps[0])

static const char ctl_selectors_help[] =
	"SELECTORS (they combine; --deferred and --held together take either):\n"
	"  --domain DOMAIN    a recipient at DOMAIN (any case)\n"
	"  --sender ADDRESS   the envelope sender ('' or '<>': bounces)\n"
	"  --deferred         some recipient is deferred (not held)\n"
	"  --held             held\n"
	"ID...: queue IDs; ALL: every message (the selectors still apply);\n"
	"-: queue IDs on standard input, one per line (as postsuper -d -)\n";

static void ctl_help_line(FILE *f, const struct ctl_help *h, int what)
{
	fprintf(f, "  %s%s%s%s%s%s\n", what ? "pochtactl [-r ROOT] " : "", h->cmd, h->sub ? " " : "",
	        h->sub ? h->sub : "", *h->args ? " " : "", h->args);
	if (what)
		fprintf(f, "      %s\n", h->what);
}

/* the usage of cmd (NULL: all), of its subcommand sub (NULL: all of them);
 * -1 when there is no such command */
static int ctl_help_print(FILE *f, const char *cmd, const char *sub)
{
	int n = 0, selectors = 0;
	for (size_t i = 0; i < CTL_NHELP; i++) {
		const struct ctl_help *h = &ctl_helps[i];
		if (cmd && strcmp(cmd, h->cmd) != 0)
			continue;
		if (cmd && sub && (!h->sub || strcmp(sub, h->sub) != 0))
			continue;
		if (n++ == 0)
			fputs(cmd ? "usage:\n" : "usage: pochtactl [-r ROOT] COMMAND ...\n"
			            "       pochtactl --help | --version | help COMMAND [SUBCOMMAND]\n", f);
		ctl_help_line(f, h, cmd != NULL);
		if (strstr(h->args, "SELECTORS"))
			selectors = 1;
	}
	if (!n)
		return -1;
	if (selectors && cmd)
		fputs(ctl_selectors_help, f);
	if (!cmd)
		fputs("pochtactl help COMMAND (or pochtactl COMMAND --help) says more; man pochtactl\n", f);
	return 0;
}

void ctl_usage(void)
{
	ctl_help_print(stderr, NULL, NULL);
	exit(2);
}

void ctl_usage_of(const char *cmd, const char *sub)
{
	if (ctl_help_print(stderr, cmd, sub) < 0)
		ctl_help_print(stderr, cmd, NULL);
	exit(2);
}

void ctl_missing(const char *cmd, const char *sub, const char *what)
{
	ctl_warn("%s%s%s: missing %s", cmd, sub ? " " : "", sub ? sub : "", what);
	ctl_usage_of(cmd, sub);
}

/* cmd is a command (sub NULL), or sub one of its subcommands */
static int ctl_has_sub(const char *cmd, const char *sub)
{
	for (size_t i = 0; i < CTL_NHELP; i++)
		if (strcmp(cmd, ctl_helps[i].cmd) == 0 && (!sub || (ctl_helps[i].sub && strcmp(sub, ctl_helps[i].sub) == 0)))
			return 1;
	return 0;
}

void ctl_nargs(const char *cmd, const char *sub, int have, const char *names)
{
	int want = 0;
	const char *p = names, *missing = NULL;
	size_t mlen = 0;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (want == have) {
			missing = p;
			mlen = n;
		}
		want++;
		p += n;
		p += strspn(p, " ");
	}
	if (have == want)
		return;
	if (have < want)
		ctl_warn("%s%s%s: missing %.*s", cmd, sub ? " " : "", sub ? sub : "", (int)mlen, missing);
	else
		ctl_warn("%s%s%s: too many arguments", cmd, sub ? " " : "", sub ? sub : "");
	ctl_usage_of(cmd, sub);
}

/* pochtactl help [COMMAND [SUBCOMMAND]], pochtactl COMMAND [SUB] --help: on
 * standard output, exit 0 */
static int ctl_help(const char *cmd, const char *sub)
{
	if (ctl_help_print(stdout, cmd, sub) == 0)
		return 0;
	if (cmd && sub && ctl_has_sub(cmd, NULL)) {
		ctl_warn("help: %s has no subcommand %s", cmd, sub);
		ctl_usage_of(cmd, NULL);
	}
	ctl_warn("help: unknown command %s", cmd);
	ctl_usage();
}

static void ctl_version(void)
{
	printf("pochtactl (pochta) %s\n", POCHTA_VERSION);
}

void ctl_conf_load(struct conf *c)
{
	sa_t err = SA_INIT;
	if (conf_load(c, paths.conf, &err) < 0)
		ctl_die("%s", err.len ? err.s : strerror(errno));
	sa_free(&err);
}

void ctl_json_str(FILE *f, const char *s, size_t len)
{
	putc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c >= 0x80)
			/* not necessarily UTF-8: show each byte as a Latin-1 code point
			 * so the output is always valid JSON */
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

/* root working on an instance that belongs to an account (init --user) acts
 * as that account, so that nothing it writes there is owned by root */
static void ctl_as_instance_owner(void)
{
	sa_t err = SA_INIT;
	uid_t owner;
	if (paths.root[0] && priv_become_owner(paths.etc, &owner, &err) < 0)
		ctl_die("cannot act as the owner (uid %lu) of %s: %s", (unsigned long)owner,
		        paths.root, err.s ? err.s : "?");
	sa_free(&err);
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-r") == 0 || strcmp(a, "--root") == 0) {
			if (i + 1 >= argc)
				ctl_usage();
			root = argv[i + 1];
			i += 2;
		} else if (strncmp(a, "-r", 2) == 0) {
			root = a + 2;
			i++;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			ctl_help(NULL, NULL);
			return 0;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			ctl_version();
			return 0;
		} else {
			ctl_warn("unknown option %s", a);
			ctl_usage();
		}
	}
	if (i >= argc) {
		ctl_warn("missing COMMAND");
		ctl_usage();
	}
	/* help needs no instance */
	const char *cmd = argv[i];
	int cargc = argc - i;
	char **cargv = argv + i;
	if (strcmp(cmd, "help") == 0) {
		if (cargc > 3) {
			ctl_warn("help: too many arguments");
			ctl_usage_of("help", NULL);
		}
		ctl_help(cargc > 1 ? cargv[1] : NULL, cargc > 2 ? cargv[2] : NULL);
		return 0;
	}
	for (int k = 1; k < cargc && strcmp(cargv[k], "--") != 0; k++)
		if (strcmp(cargv[k], "--help") == 0 || strcmp(cargv[k], "-h") == 0) {
			ctl_help(cmd, cargc > 2 && ctl_has_sub(cmd, cargv[1]) ? cargv[1] : NULL);
			return 0;
		}
	if (root && !*root)
		ctl_die("empty root directory name");
	if (paths_init(root) < 0)
		ctl_die_sys("cannot use root %s", root ? root : "(installed paths)");

	int rc;
	if (strcmp(cmd, "user") == 0 || strcmp(cmd, "config") == 0 || strcmp(cmd, "queue") == 0 ||
	    strcmp(cmd, "aliases") == 0)
		ctl_as_instance_owner();
	if (strcmp(cmd, "init") == 0)
		rc = ctl_cmd_init(cargc, cargv);
	else if (strcmp(cmd, "user") == 0)
		rc = ctl_cmd_user(cargc, cargv);
	else if (strcmp(cmd, "config") == 0)
		rc = ctl_cmd_config(cargc, cargv);
	else if (strcmp(cmd, "setup") == 0)
		rc = ctl_cmd_setup(cargc, cargv);
	else if (strcmp(cmd, "start") == 0)
		rc = ctl_cmd_start(cargc, cargv);
	else if (strcmp(cmd, "queue") == 0)
		rc = ctl_cmd_queue(cargc, cargv);
	else if (strcmp(cmd, "aliases") == 0)
		rc = ctl_cmd_aliases(cargc, cargv);
	else if (strcmp(cmd, "reload") == 0)
		rc = ctl_cmd_reload(cargc, cargv);
	else if (strcmp(cmd, "status") == 0)
		rc = ctl_cmd_status(cargc, cargv);
	else if (strcmp(cmd, "stop") == 0)
		rc = ctl_cmd_stop(cargc, cargv);
	else if (strcmp(cmd, "restart") == 0)
		rc = ctl_cmd_restart(cargc, cargv);
	else {
		ctl_warn("unknown command %s", cmd);
		ctl_usage();
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		ctl_die_sys("write error on standard output");
	return rc;
}
