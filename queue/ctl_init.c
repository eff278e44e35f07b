/* pochtactl init: make a new instance (or the installed directories).
 * Everything is validated before anything is created, and pochta.conf, the
 * file that marks an instance, is written last: a failed init never leaves
 * something that looks like a working instance. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "ctl.h"
#include "dir.h"
#include "durable.h"
#include "listen.h"
#include "maildir.h"
#include "paths.h"
#include "qdir.h"

/* 1 empty, 0 not, -1 error */
static int dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	int empty = 1;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	int err = errno;
	closedir(d);
	if (empty && err) {
		errno = err;
		return -1;
	}
	return empty;
}

static void mkdir_or_die(const char *path, mode_t mode)
{
	if (dir_make(path, (int)mode) < 0)
		ctl_die_sys("cannot create %s", path);
}

/* an empty file, unless one exists already */
static void empty_file(const char *path, int mode)
{
	if (access(path, F_OK) == 0)
		return;
	if (durable_replace(path, "", 0, mode) < 0)
		ctl_die_sys("cannot create %s", path);
}

static void listen_opt(const char *opt, const char *v)
{
	struct listen_addr l;
	sa_t err = SA_INIT;
	if (*v && listen_parse(v, &l, &err) < 0)
		ctl_die("%s %s: %s", opt, v, err.s);
	sa_free(&err);
}

int ctl_cmd_init(int argc, char **argv)
{
	const char *domain = NULL, *smtp = NULL, *pop3 = NULL;
	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;
		if (strcmp(argv[i], "--domain") == 0)
			dst = &domain;
		else if (strcmp(argv[i], "--smtp") == 0)
			dst = &smtp;
		else if (strcmp(argv[i], "--pop3") == 0)
			dst = &pop3;
		else {
			ctl_warn("init: unknown argument %s", argv[i]);
			ctl_usage();
		}
		if (i + 1 >= argc)
			ctl_usage();
		*dst = argv[++i];
	}
	if (!domain) {
		ctl_warn("init: --domain is required");
		ctl_usage();
	}
	if (!addr_domain_valid(domain, strlen(domain)))
		ctl_die("init: --domain %s: not a valid domain name", domain);

	/* smtp: the given address, else the key's default; pop3: only when asked
	 * for (an instance has no POP3 listener unless --pop3 is given) */
	if (!smtp)
		smtp = conf_key_find("smtp_listen")->def;
	if (!pop3)
		pop3 = "";
	listen_opt("--smtp", smtp);
	listen_opt("--pop3", pop3);

	sa_t conf = SA_INIT, err = SA_INIT;
	sa_catf(&conf,
	        "# pochta.conf: written by pochtactl init; see pochta.conf(5).\n"
	        "# Only settings that differ from the defaults are listed here;\n"
	        "# `pochtactl config list -v` shows every key, its default and its meaning.\n"
	        "\n"
	        "# domains whose mail is delivered to the users of this instance\n"
	        "local_domains = %s\n"
	        "\n"
	        "# where `pochtactl start` accepts connections (empty: no listener)\n"
	        "smtp_listen = %s\n"
	        "pop3_listen = %s\n",
	        domain, smtp, pop3);
	if (conf.len == 0)
		ctl_die_sys("out of memory");
	struct conf c;
	if (conf_parse(&c, paths.conf, conf.s, conf.len, &err) < 0)
		ctl_die("init: %s", err.s);
	conf_free(&c);

	if (paths.root[0]) {
		struct stat st;
		if (stat(paths.conf, &st) == 0)
			ctl_die("%s is already a pochta instance", paths.root);
		if (mkdir(paths.root, 0755) < 0) {
			if (errno != EEXIST)
				ctl_die_sys("cannot create %s", paths.root);
			if (stat(paths.root, &st) < 0)
				ctl_die_sys("%s", paths.root);
			if (!S_ISDIR(st.st_mode))
				ctl_die("%s exists and is not a directory", paths.root);
			int e = dir_empty(paths.root);
			if (e < 0)
				ctl_die_sys("cannot read %s", paths.root);
			if (!e)
				ctl_die("%s is not empty and is not a pochta instance; refusing to init it", paths.root);
		}
	} else if (access(paths.conf, F_OK) == 0) {
		ctl_die("%s exists already: the installed configuration is initialised", paths.conf);
	}

	mkdir_or_die(paths.etc, 0755);
	sa_t p = SA_INIT;
	sa_catf(&p, "%s/users", paths.etc);
	empty_file(p.s, 0644);
	sa_trunc(&p, 0);
	sa_catf(&p, "%s/passwd", paths.etc);
	empty_file(p.s, 0600);
	if (chmod(p.s, 0600) < 0)
		ctl_die_sys("%s", p.s);
	if (qdir_make(paths.queue) < 0)
		ctl_die_sys("cannot create the queue %s", paths.queue);
	mkdir_or_die(paths.mail, 0755);
	sa_trunc(&p, 0);
	sa_catf(&p, "%s/%s", paths.mail, conf_key_find("postmaster")->def);
	if (p.len == 0 || maildir_make(p.s, 0700) < 0)
		ctl_die_sys("cannot create the Maildir %s", p.s);
	mkdir_or_die(paths.log, 0755);

	/* last: the file that makes this an instance */
	if (durable_replace(paths.conf, conf.s, conf.len, 0644) < 0)
		ctl_die_sys("cannot write %s", paths.conf);
	if (paths.root[0])
		printf("pochta instance created in %s (domain %s)\n", paths.root, domain);
	else
		printf("pochta configured (domain %s)\n", domain);
	sa_free(&p);
	sa_free(&conf);
	sa_free(&err);
	return 0;
}
