/* pochtactl setup [--check]: the system users and groups, and the owners and
 * modes of the configuration, queue and mail directories (installed paths or
 * an instance root). setup creates what is missing and corrects what is wrong,
 * so it can be run again at any time; --check changes nothing and prints one
 * line per problem, as `postfix check` does. Accounts are made with Debian's
 * groupadd/useradd, run with execv and an argv (never a shell). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "conf.h"
#include "confcheck.h"
#include "ctl.h"
#include "durable.h"
#include "gcommit.h"
#include "maildir.h"
#include "paths.h"
#include "users.h"

enum setup_kind { SETUP_DIR, SETUP_FILE, SETUP_FIFO, SETUP_COMMIT };

/* who owns a path: one of the configured accounts, or root */
enum setup_owner { OWN_ROOT, OWN_QMGR, OWN_VIRTUAL };

struct setup_ent {
	const char *dir;     /* paths.etc, paths.queue, ... */
	const char *name;    /* under dir; "" for dir itself */
	enum setup_kind kind;
	enum setup_owner user;
	int qgroup;          /* group: the queue group, else the user's primary group */
	mode_t mode;         /* with S_ISGID on queue directories: new files get the queue group */
	int create;          /* setup makes it when missing (pochta.conf it only checks) */
};

struct setup_ctx {
	int check;       /* report only */
	int problems;    /* lines printed by --check, or what setup could not fix */
	struct conf conf;
	uid_t uid[3];    /* by enum setup_owner */
	gid_t gid[3];
	gid_t qgid;
	int have_ids;    /* every account exists */
};

static const char *const sh_paths[] = { "/usr/sbin/nologin", "/sbin/nologin", "/bin/false" };

static void problem(struct setup_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct setup_ctx *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	x->problems++;
}

/* the first of the candidates that is executable, or NULL */
static const char *find_prog(const char *const *cand, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

/* run argv[0] with argv and a fixed environment; 0 when it exited 0 */
static int run_prog(char *const argv[])
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		ctl_die_sys("fork");
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != 0) {
			dup2(fd, 0);
			close(fd);
		}
		execve(argv[0], argv, envp);
		fprintf(stderr, "pochtactl: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			ctl_die_sys("waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void ensure_group(struct setup_ctx *x, const char *name)
{
	if (getgrnam(name))
		return;
	if (x->check) {
		problem(x, "missing group %s", name);
		return;
	}
	static const char *const cand[] = { "/usr/sbin/groupadd", "/sbin/groupadd" };
	const char *tool = find_prog(cand, 2);
	if (!tool)
		ctl_die("groupadd not found (Debian: apt-get install passwd)");
	char *argv[] = { (char *)tool, "--system", (char *)name, NULL };
	if (run_prog(argv) < 0 || !getgrnam(name))
		ctl_die("cannot create group %s with %s", name, tool);
	printf("created group %s\n", name);
}

static int in_group(const struct passwd *pw, const char *group)
{
	struct group *gr = getgrnam(group);
	if (!gr)
		return 0;
	if (pw->pw_gid == gr->gr_gid)
		return 1;
	for (char **m = gr->gr_mem; *m; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return 1;
	return 0;
}

/* the user with its own group of the same name as primary group, and a
 * member of also (when not NULL) */
static void ensure_user(struct setup_ctx *x, const char *name, const char *home, const char *also)
{
	struct passwd *pw = getpwnam(name);
	if (pw) {
		if (pw->pw_uid == 0)
			problem(x, "user %s has uid 0: it must be an unprivileged account", name);
		if (!also || in_group(pw, also))
			return;
		if (x->check || !getgrnam(also)) {
			problem(x, "user %s is not a member of the group %s", name, also);
			return;
		}
		static const char *const ucand[] = { "/usr/sbin/usermod", "/sbin/usermod" };
		const char *mod = find_prog(ucand, 2);
		if (!mod)
			ctl_die("usermod not found (Debian: apt-get install passwd)");
		char *margv[] = { (char *)mod, "--append", "--groups", (char *)also, (char *)name, NULL };
		if (run_prog(margv) < 0)
			ctl_die("cannot add user %s to the group %s with %s", name, also, mod);
		printf("added user %s to the group %s\n", name, also);
		return;
	}
	if (x->check) {
		problem(x, "missing user %s", name);
		return;
	}
	ensure_group(x, name);
	static const char *const cand[] = { "/usr/sbin/useradd", "/sbin/useradd" };
	const char *tool = find_prog(cand, 2);
	if (!tool)
		ctl_die("useradd not found (Debian: apt-get install passwd)");
	const char *shell = find_prog(sh_paths, sizeof sh_paths / sizeof sh_paths[0]);
	char *argv[16];
	int n = 0;
	argv[n++] = (char *)tool;
	argv[n++] = "--system";
	argv[n++] = "--no-create-home";
	argv[n++] = "--home-dir";
	argv[n++] = (char *)home;
	argv[n++] = "--shell";
	argv[n++] = (char *)(shell ? shell : "/usr/sbin/nologin");
	argv[n++] = "--gid";
	argv[n++] = (char *)name;
	argv[n++] = "--comment";
	argv[n++] = "pochta mail system";
	if (also) {
		argv[n++] = "--groups";
		argv[n++] = (char *)also;
	}
	argv[n++] = (char *)name;
	argv[n] = NULL;
	if (run_prog(argv) < 0 || !(pw = getpwnam(name)))
		ctl_die("cannot create user %s with %s", name, tool);
	printf("created user %s (uid %lu)\n", name, (unsigned long)pw->pw_uid);
}

/* the queue group's members, and smtpd_user's primary group, must not give
 * pochta-smtpd a way into the queue */
static void check_smtpd_outside(struct setup_ctx *x)
{
	const char *su = x->conf.smtpd_user, *qg = x->conf.queue_group;
	struct passwd *pw = getpwnam(su);
	struct group *gr = getgrnam(qg);
	if (!pw || !gr)
		return;
	if (pw->pw_gid == gr->gr_gid)
		problem(x, "user %s has the queue group %s as primary group: it could read the queue", su, qg);
	for (char **m = gr->gr_mem; *m; m++)
		if (strcmp(*m, su) == 0)
			problem(x, "user %s is a member of the queue group %s: it could read the queue", su, qg);
}

static int lookup_ids(struct setup_ctx *x)
{
	const char *names[3] = { "root", x->conf.qmgr_user, x->conf.virtual_user };
	for (int i = 0; i < 3; i++) {
		struct passwd *pw = getpwnam(names[i]);
		if (!pw)
			return -1;
		x->uid[i] = pw->pw_uid;
		x->gid[i] = pw->pw_gid;
	}
	struct group *gr = getgrnam(x->conf.queue_group);
	if (!gr)
		return -1;
	x->qgid = gr->gr_gid;
	return 0;
}

static const char *kind_name(enum setup_kind k)
{
	return k == SETUP_DIR ? "directory" : k == SETUP_FIFO ? "FIFO" : "file";
}

static int kind_ok(enum setup_kind k, mode_t m)
{
	return k == SETUP_DIR ? S_ISDIR(m) : k == SETUP_FIFO ? S_ISFIFO(m) : S_ISREG(m);
}

/* "user:group", by name where there is one (getpwuid's buffer is static) */
static void owner_text(char *buf, size_t cap, uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	int n = pw ? snprintf(buf, cap, "%s:", pw->pw_name)
	           : snprintf(buf, cap, "%lu:", (unsigned long)uid);
	if (n < 0 || (size_t)n >= cap)
		n = 0;
	struct group *gr = getgrgid(gid);
	if (gr)
		snprintf(buf + n, cap - (size_t)n, "%s", gr->gr_name);
	else
		snprintf(buf + n, cap - (size_t)n, "%lu", (unsigned long)gid);
}

static int make_one(const char *path, enum setup_kind kind, mode_t mode)
{
	if (kind == SETUP_DIR)
		return mkdir(path, mode);
	if (kind == SETUP_FIFO)
		return mkfifo(path, mode);
	if (kind == SETUP_COMMIT)
		return gcommit_make(path) < 0 ? -1 : 0;
	return durable_replace(path, "", 0, (int)mode);
}

/* one path: its type, owner and mode; created or corrected unless checking */
static void fix_path(struct setup_ctx *x, const char *path, enum setup_kind kind,
                     uid_t uid, gid_t gid, mode_t mode, int create)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT) {
			problem(x, "%s: %s", path, strerror(errno));
			return;
		}
		if (x->check || !create) {
			problem(x, "missing %s %s", kind_name(kind), path);
			return;
		}
		if (make_one(path, kind, mode) < 0)
			ctl_die_sys("cannot create %s", path);
		printf("created %s %s\n", kind_name(kind), path);
		if (lstat(path, &st) < 0)
			ctl_die_sys("%s", path);
	}
	if (!kind_ok(kind, st.st_mode)) {
		/* a symlink or anything else in its place is never followed or replaced */
		problem(x, "%s: not a %s", path, kind_name(kind));
		return;
	}
	mode_t have = st.st_mode & 07777;
	if (x->check) {
		if (st.st_uid != uid || st.st_gid != gid) {
			char have_o[80], want_o[80];
			owner_text(have_o, sizeof have_o, st.st_uid, st.st_gid);
			owner_text(want_o, sizeof want_o, uid, gid);
			problem(x, "%s: owner %s, should be %s", path, have_o, want_o);
		}
		if (have != mode)
			problem(x, "%s: mode %04o, should be %04o", path, (unsigned)have, (unsigned)mode);
		return;
	}
	/* chown first: it clears the setgid bit that chmod then sets */
	if ((st.st_uid != uid || st.st_gid != gid) && lchown(path, uid, gid) < 0)
		ctl_die_sys("cannot change the owner of %s", path);
	if ((have != mode || st.st_uid != uid || st.st_gid != gid) && chmod(path, mode) < 0)
		ctl_die_sys("cannot change the mode of %s", path);
}

static void fix_ent(struct setup_ctx *x, const struct setup_ent *e)
{
	sa_t p = SA_INIT;
	if (sa_catf(&p, "%s%s%s", e->dir, *e->name ? "/" : "", e->name) < 0)
		ctl_die_sys("out of memory");
	/* the commit file's contents too: a damaged one is rewritten (its
	 * owner and mode kept, then corrected below) */
	if (e->kind == SETUP_COMMIT && gcommit_check(p.s) < 0 && errno == EINVAL) {
		if (x->check)
			problem(x, "%s: not a valid commit file", p.s);
		else if (gcommit_make(p.s) < 0)
			ctl_die_sys("cannot rewrite %s", p.s);
		else
			printf("rewrote file %s\n", p.s);
	}
	fix_path(x, p.s, e->kind, x->uid[e->user], e->qgroup ? x->qgid : x->gid[e->user],
	         e->mode, e->create);
	sa_free(&p);
}

/* every mailbox in the mail directory belongs to the virtual owner: its
 * directories and the messages in tmp/ new/ cur/ (mail written by a program
 * running as root is corrected here) */
/* one Maildir, mail/NAME or mail/DOMAIN/NAME (p holds it): it, tmp, new and
 * cur, and the messages in them, to the virtual_user */
static void fix_maildir(struct setup_ctx *x, sa_t *p)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	uid_t u = x->uid[OWN_VIRTUAL];
	gid_t g = x->gid[OWN_VIRTUAL];
	size_t top = p->len;
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		sa_trunc(p, top);
		if (sa_cats(p, sub[i]) < 0)
			ctl_die_sys("out of memory");
		fix_path(x, p->s, SETUP_DIR, u, g, 0700, i > 0);
		if (i == 0) {
			struct stat st;
			if (lstat(p->s, &st) < 0 || !S_ISDIR(st.st_mode))
				break;
			continue;
		}
		DIR *m = opendir(p->s);
		if (!m)
			continue;
		struct dirent *fe;
		size_t base = p->len;
		while ((fe = readdir(m)) != NULL) {
			if (strcmp(fe->d_name, ".") == 0 || strcmp(fe->d_name, "..") == 0)
				continue;
			struct stat st;
			sa_trunc(p, base);
			if (sa_catf(p, "/%s", fe->d_name) < 0)
				ctl_die_sys("out of memory");
			if (lstat(p->s, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			if (st.st_uid == u && st.st_gid == g)
				continue;
			if (x->check)
				problem(x, "%s: not owned by %s", p->s, x->conf.virtual_user);
			else if (lchown(p->s, u, g) < 0)
				ctl_die_sys("cannot change the owner of %s", p->s);
		}
		closedir(m);
	}
}

/* 1 when some NAME@DOMAIN user in the list (users_list's form) has dom */
static int user_domain_listed(const sa_t *all, size_t n, const char *dom)
{
	const char *p = all->s;
	for (size_t i = 0; i < n; p += strlen(p) + 1, i++) {
		const char *d = user_mailbox_domain(p);
		if (d && strcmp(d, dom) == 0)
			return 1;
	}
	return 0;
}

/* mail/DOMAIN (p holds it), a domain's directory: it and each Maildir in it */
static void fix_domain_dir(struct setup_ctx *x, sa_t *p)
{
	fix_path(x, p->s, SETUP_DIR, x->uid[OWN_VIRTUAL], x->gid[OWN_VIRTUAL], 0700, 0);
	DIR *d = opendir(p->s);
	if (!d)
		return;
	size_t base = p->len;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sa_trunc(p, base);
		if (sa_catf(p, "/%s", de->d_name) < 0)
			ctl_die_sys("out of memory");
		fix_maildir(x, p);
	}
	closedir(d);
}

static void fix_mailboxes(struct setup_ctx *x)
{
	sa_t p = SA_INIT, users = SA_INIT, all = SA_INIT;
	size_t nusers = 0;
	struct stat pst;
	/* the postmaster's, as init makes it; the loop below gives it its owner */
	if (sa_catf(&p, "%s/%s", paths.mail, x->conf.postmaster) < 0)
		ctl_die_sys("out of memory");
	if (lstat(p.s, &pst) < 0 && errno == ENOENT) {
		if (x->check)
			problem(x, "missing directory %s", p.s);
		else if (maildir_make(p.s, 0700) < 0)
			ctl_die_sys("cannot create the Maildir %s", p.s);
		else
			printf("created directory %s\n", p.s);
	}
	/* mail/DOMAIN holds the Maildirs of DOMAIN's users (users.h): told
	 * from a bare user's Maildir by etc/users, never made into one */
	if (sa_catf(&users, "%s/users", paths.etc) < 0)
		ctl_die_sys("out of memory");
	if (users_list(users.s, &all, &nusers) < 0)
		problem(x, "%s: %s", users.s, strerror(errno));
	DIR *d = opendir(paths.mail);
	if (!d) {
		if (errno != ENOENT)
			problem(x, "%s: %s", paths.mail, strerror(errno));
		goto out;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sa_trunc(&p, 0);
		if (sa_catf(&p, "%s/%s", paths.mail, de->d_name) < 0)
			ctl_die_sys("out of memory");
		if (user_domain_listed(&all, nusers, de->d_name))
			fix_domain_dir(x, &p);
		else
			fix_maildir(x, &p);
	}
	closedir(d);
out:
	sa_free(&p);
	sa_free(&users);
	sa_free(&all);
}

/* the files in the queue: pochta-qmgr, as qmgr_user, reads, rewrites and
 * removes each one; those left by a manager or pochta-enqueue that ran as
 * another user (root, smtpd_user) are given to it */
static void fix_queue_files(struct setup_ctx *x)
{
	static const char *const sub[] = { "", "/tmp", "/incoming", "/mess", "/state", "/hold" };
	uid_t u = x->uid[OWN_QMGR];
	sa_t p = SA_INIT;
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		sa_trunc(&p, 0);
		if (sa_catf(&p, "%s%s", paths.queue, sub[i]) < 0)
			ctl_die_sys("out of memory");
		DIR *d = opendir(p.s);
		if (!d)
			continue; /* fix_ent reported it */
		size_t base = p.len;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			struct stat st;
			sa_trunc(&p, base);
			if (sa_catf(&p, "/%s", de->d_name) < 0)
				ctl_die_sys("out of memory");
			if (lstat(p.s, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid == u && st.st_gid == x->qgid))
				continue;
			if (x->check)
				problem(x, "%s: not owned by %s:%s", p.s, x->conf.qmgr_user, x->conf.queue_group);
			else if (lchown(p.s, u, x->qgid) < 0)
				ctl_die_sys("cannot change the owner of %s", p.s);
		}
		closedir(d);
	}
	sa_free(&p);
}

/* the queue's only way in for pochta-smtpd: setgid to the queue group */
/* the TLS pair (a TLS build): pochta-tls reads the key as the program it
 * serves, pochta-smtpd as smtpd_user, so the key is root's and that user's
 * group may read it (0640); the certificate is public (0644). Relative
 * names are under the configuration directory, as pochta-tls reads them. */
static void fix_tls(struct setup_ctx *x)
{
	const char *names[2] = { x->conf.tls_cert_file, x->conf.tls_key_file };
	struct passwd *pw = getpwnam(x->conf.smtpd_user);
	sa_t p = SA_INIT;
	gid_t g;

	if (!pw)
		return; /* listed as missing above */
	g = pw->pw_gid; /* fix_path's getpwuid reuses pw */
	for (int i = 0; i < 2; i++) {
		if (!names[i] || !names[i][0])
			continue;
		sa_trunc(&p, 0);
		if (names[i][0] == '/' ? sa_cats(&p, names[i]) < 0
		                       : sa_catf(&p, "%s/%s", paths.etc, names[i]) < 0)
			ctl_die_sys("out of memory");
		if (i == 1)
			fix_path(x, p.s, SETUP_FILE, 0, g, 0640, 0);
		else
			fix_path(x, p.s, SETUP_FILE, 0, 0, 0644, 0);
	}
	sa_free(&p);
}

static void fix_enqueue(struct setup_ctx *x)
{
	const char *prog = paths_prog("pochta-enqueue");
	if (!prog)
		ctl_die_sys("pochta-enqueue");
	struct stat st;
	if (stat(prog, &st) < 0) {
		problem(x, "missing program %s", prog);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(x, "%s: not a file", prog);
		return;
	}
	fix_path(x, prog, SETUP_FILE, 0, x->qgid, 02755, 0);
}

/* the closing "N problem(s)" line */
static void count_line(FILE *f, const struct setup_ctx *x)
{
	fprintf(f, "%d problem%s\n", x->problems, x->problems == 1 ? "" : "s");
}

int ctl_cmd_setup(int argc, char **argv)
{
	struct setup_ctx x;
	memset(&x, 0, sizeof x);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0) {
			x.check = 1;
		} else {
			ctl_warn("setup: unknown argument %s", argv[i]);
			ctl_usage_of("setup", NULL);
		}
	}
	if (!x.check && geteuid() != 0)
		ctl_die("setup: must run as root (`pochtactl setup --check` only looks)");
	if (access(paths.conf, F_OK) < 0)
		ctl_die_sys("setup: %s (make install puts a sample there; or pochtactl init)", paths.conf);
	ctl_conf_load(&x.conf);
	sa_t err = SA_INIT;
	if (confcheck_all(&x.conf, &err, NULL) < 0)
		ctl_die("%s: %s", paths.conf, err.s);
	sa_free(&err);

	/* accounts: the queue group, then each user with its own group */
	ensure_group(&x, x.conf.queue_group);
	ensure_user(&x, x.conf.smtpd_user, "/nonexistent", NULL);
	/* reads what pochta-enqueue (setgid queue group) wrote */
	ensure_user(&x, x.conf.qmgr_user, paths.queue, x.conf.queue_group);
	ensure_user(&x, x.conf.remote_user, "/nonexistent", NULL);
	ensure_user(&x, x.conf.virtual_user, paths.mail, NULL);
	check_smtpd_outside(&x);
	if (lookup_ids(&x) < 0) {
		/* only --check gets here: what is missing was listed above */
		count_line(stdout, &x);
		conf_free(&x.conf);
		return 1;
	}

	const struct setup_ent ents[] = {
		{ paths.etc, "", SETUP_DIR, OWN_ROOT, 0, 0755, 1 },
		{ paths.etc, "pochta.conf", SETUP_FILE, OWN_ROOT, 0, 0644, 0 },
		{ paths.etc, "users", SETUP_FILE, OWN_ROOT, 0, 0644, 1 },
		/* the password hashes: root only (the POP3 password check) */
		{ paths.etc, "passwd", SETUP_FILE, OWN_ROOT, 0, 0600, 1 },
		{ paths.queue, "", SETUP_DIR, OWN_QMGR, 1, 02750, 1 },
		/* pochta-enqueue (setgid queue group) writes tmp/ and renames into incoming/ */
		{ paths.queue, "tmp", SETUP_DIR, OWN_QMGR, 1, 02770, 1 },
		{ paths.queue, "incoming", SETUP_DIR, OWN_QMGR, 1, 02770, 1 },
		{ paths.queue, "mess", SETUP_DIR, OWN_QMGR, 1, 02750, 1 },
		{ paths.queue, "state", SETUP_DIR, OWN_QMGR, 1, 02700, 1 },
		{ paths.queue, "hold", SETUP_DIR, OWN_QMGR, 1, 02700, 1 },
		{ paths.queue, "trigger", SETUP_FIFO, OWN_QMGR, 1, 0620, 1 },
		/* pochta-enqueue maps it read-write: the shared fsync of incoming/ */
		{ paths.queue, "commit", SETUP_COMMIT, OWN_QMGR, 1, 0660, 1 },
		{ paths.mail, "", SETUP_DIR, OWN_VIRTUAL, 0, 0700, 1 },
		{ paths.log, "", SETUP_DIR, OWN_ROOT, 0, 0755, 1 },
	};
	for (size_t i = 0; i < sizeof ents / sizeof ents[0]; i++)
		fix_ent(&x, &ents[i]);
	fix_mailboxes(&x);
	fix_queue_files(&x);
	fix_tls(&x);
	fix_enqueue(&x);
	conf_free(&x.conf);
	if (x.check) {
		if (x.problems)
			count_line(stdout, &x);
		return x.problems ? 1 : 0;
	}
	if (x.problems) {
		fputs("pochtactl: setup: left as they are: ", stderr);
		count_line(stderr, &x);
		return 1;
	}
	printf("setup done: %s\n", paths.root[0] ? paths.root : "installed paths");
	return 0;
}
