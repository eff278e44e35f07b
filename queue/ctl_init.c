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
#include <sys/wait.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "confcheck.h"
#include "ctl.h"
#include "dir.h"
#include "durable.h"
#include "listen.h"
#include "maildir.h"
#include "paths.h"
#include "priv.h"
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

/* a new etc/aliases: the defaults it does not list, said, and where to start */
#define INIT_ALIASES \
	"# aliases: see pochta-aliases(5); after a change run `pochtactl aliases`\n" \
	"# (or newaliases). Not listed here, postmaster, abuse and mailer-daemon\n" \
	"# are aliases of admin_alias (root), and root is the postmaster mailbox.\n" \
	"# Send root's mail to a person:\n" \
	"#root: alice\n"

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

/* 1 when the account u may pass through dir (asked of a child that has
 * become u), 0 when not, -1 when it cannot be asked */
static int init_reachable(const struct priv_user *u, const char *dir)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sa_t e = SA_INIT;
		_exit(priv_drop(u, &e) == 0 && access(dir, X_OK) == 0 ? 0 : 1);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void listen_opt(const char *opt, const char *v)
{
	struct listen_addr l;
	sa_t err = SA_INIT;
	if (*v && listen_parse(v, &l, &err) < 0)
		ctl_die("%s %s: %s", opt, v, err.s);
	sa_free(&err);
}

#define INIT_TLS_CERT "tls-cert.pem"
#define INIT_TLS_KEY "tls-key.pem"

/* a TLS build (pochta-tls beside us): a self-signed pair in ETC for this
 * host's name, so that the instance offers STARTTLS at once */
static void init_tls_pair(void)
{
	const char *tls = paths_prog_find("pochta-tls");
	char host[256];
	sa_t cert = SA_INIT, key = SA_INIT;
	pid_t pid;
	int st;

	if (gethostname(host, sizeof host - 1) < 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	if (sa_catf(&cert, "%s/" INIT_TLS_CERT, paths.etc) < 0 || sa_catf(&key, "%s/" INIT_TLS_KEY, paths.etc) < 0)
		ctl_die_sys("out of memory");
	pid = fork();
	if (pid == 0) {
		execl(tls, "pochta-tls", "--make-cert", cert.s, key.s, host, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		ctl_die("init: %s --make-cert failed: no TLS certificate", tls);
	printf("made a self-signed TLS certificate for %s: %s (key %s)\n", host, cert.s, key.s);
	sa_free(&cert);
	sa_free(&key);
}

int ctl_cmd_init(int argc, char **argv)
{
	const char *domain = NULL, *smtp = NULL, *pop3 = NULL, *user = NULL, *submission = NULL;
	int no_setup = 0;
	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;
		if (strcmp(argv[i], "--no-setup") == 0) {
			no_setup = 1;
			continue;
		}
		if (strcmp(argv[i], "--domain") == 0)
			dst = &domain;
		else if (strcmp(argv[i], "--smtp") == 0)
			dst = &smtp;
		else if (strcmp(argv[i], "--pop3") == 0)
			dst = &pop3;
		else if (strcmp(argv[i], "--submission") == 0)
			dst = &submission;
		else if (strcmp(argv[i], "--user") == 0)
			dst = &user;
		else {
			ctl_warn("init: unknown argument %s", argv[i]);
			ctl_usage_of("init", NULL);
		}
		if (i + 1 >= argc) {
			ctl_warn("init: missing the value of %s", argv[i]);
			ctl_usage_of("init", NULL);
		}
		*dst = argv[++i];
	}
	if (!domain)
		ctl_missing("init", NULL, "--domain DOMAIN");
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
	if (submission)
		listen_opt("--submission", submission);

	/* one account for the whole instance: checked before anything exists */
	struct priv_user pu;
	if (user) {
		sa_t e = SA_INIT;
		if (!paths.root[0])
			ctl_die("init --user: only for an instance (-r ROOT)");
		if (confcheck_key(conf_key_find("instance_user"), user, &e, NULL) < 0 ||
		    priv_lookup(user, &pu, &e) < 0)
			ctl_die("init --user %s: %s", user, e.s);
		if (geteuid() != 0 && pu.uid != geteuid())
			ctl_die("init --user %s: only root can make an instance for another user", user);
		/* the account must reach its tree: the parent of ROOT on the way */
		char parent[sizeof paths.root];
		snprintf(parent, sizeof parent, "%s", paths.root);
		char *slash = strrchr(parent, '/');
		if (slash)
			slash[slash == parent] = '\0';
		int r = geteuid() == 0 ? init_reachable(&pu, parent) : 1;
		if (r < 0)
			ctl_die_sys("init --user %s: cannot check %s", user, parent);
		if (r == 0)
			ctl_die("init --user %s: %s cannot reach %s (a directory on the way is closed to it)",
			        user, user, parent);
		sa_free(&e);
	}

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
	if (submission)
		sa_catf(&conf, "# message submission (RFC 6409): AUTH before MAIL\n"
		        "submission_listen = %s\n", submission);
	if (paths.root[0])
		sa_catf(&conf, "\n# an instance's users are those of its etc/users, not the host's accounts\n"
		        "local_system_users = 0\n");
	if (user)
		sa_catf(&conf, "\n# the account every program runs as when started as root\n"
		        "instance_user = %s\n", user);
	int tls = paths_prog_find("pochta-tls") != NULL;
	if (tls)
		sa_catf(&conf, "\n# made by init for STARTTLS and STLS (self-signed: replace them, see INSTALL)\n"
		        "tls_cert_file = " INIT_TLS_CERT "\ntls_key_file = " INIT_TLS_KEY "\n");
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
	/* the root directory is given to the account, and everything in it is
	 * made by the account: nothing of the instance is left owned by root */
	if (user && geteuid() == 0) {
		sa_t e = SA_INIT;
		if (chown(paths.root, pu.uid, pu.gid) < 0)
			ctl_die_sys("cannot give %s to %s", paths.root, user);
		if (priv_drop(&pu, &e) < 0)
			ctl_die("init --user %s: %s", user, e.s);
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
	sa_trunc(&p, 0);
	sa_catf(&p, "%s/aliases", paths.etc);
	if (access(p.s, F_OK) != 0 && durable_replace(p.s, INIT_ALIASES, sizeof INIT_ALIASES - 1, 0644) < 0)
		ctl_die_sys("cannot create %s", p.s);
	if (qdir_make(paths.queue) < 0)
		ctl_die_sys("cannot create the queue %s", paths.queue);
	mkdir_or_die(paths.mail, 0755);
	sa_trunc(&p, 0);
	sa_catf(&p, "%s/%s", paths.mail, conf_key_find("postmaster")->def);
	if (p.len == 0 || maildir_make(p.s, 0700) < 0)
		ctl_die_sys("cannot create the Maildir %s", p.s);
	mkdir_or_die(paths.log, 0755);
	if (tls)
		init_tls_pair();

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
	/* root with no account for the instance: started as root it runs each
	 * program as its own user, so it gets those users and owners now, as
	 * `pochtactl setup` gives them (--no-setup: later, after editing keys) */
	if (geteuid() == 0 && !user && paths.root[0] && !no_setup) {
		char *sargv[] = { "setup", NULL };
		fflush(stdout);
		return ctl_cmd_setup(1, sargv);
	}
	return 0;
}
