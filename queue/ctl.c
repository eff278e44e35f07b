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

void ctl_usage(void)
{
	fputs("usage: pochtactl [-r ROOT] COMMAND ...\n"
	      "  init --domain DOMAIN [--smtp ADDR:PORT] [--pop3 ADDR:PORT] [--user NAME] [--no-setup]\n"
	      "  user add [--force] NAME     (password: first line of stdin)\n"
	      "  user passwd NAME | user del NAME | user list\n"
	      "  config get KEY | config set KEY VALUE | config check\n"
	      "  config list [-n] [-v]\n"
	      "  setup [--check]             (system users, owners and modes; as root)\n"
	      "  start [-d]                  (-d: in the background, output to log/pochta.log)\n"
	      "  stop | restart | reload | status\n"
	      "  queue list [--json] | queue stats [--json] | queue show ID\n"
	      "  queue delete ID | queue hold ID | queue release ID | queue flush\n"
	      "  aliases                     (check etc/aliases, compile etc/aliases.idx)\n",
	      stderr);
	exit(2);
}

int ctl_read_file(const char *path, sa_t *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	sa_trunc(out, 0);
	for (;;) {
		if (out->len >= max) {
			/* one more byte tells "exactly max" from "too large" */
			char c;
			ssize_t r = read(fd, &c, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				goto fail;
			if (r > 0) {
				errno = EFBIG;
				goto fail;
			}
			break;
		}
		size_t want = max - out->len;
		if (want > 65536)
			want = 65536;
		if (sa_ready(out, want) < 0)
			goto fail;
		ssize_t r = read(fd, out->s + out->len, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->s[out->len] = '\0';
	}
	if (sa_ready(out, 0) < 0)
		goto fail;
	out->s[out->len] = '\0';
	close(fd);
	return 0;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
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
			ctl_usage();
		} else {
			ctl_warn("unknown option %s", a);
			ctl_usage();
		}
	}
	if (i >= argc)
		ctl_usage();
	if (root && !*root)
		ctl_die("empty root directory name");
	if (paths_init(root) < 0)
		ctl_die_sys("cannot use root %s", root ? root : "(installed paths)");

	const char *cmd = argv[i];
	int cargc = argc - i;
	char **cargv = argv + i;
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
