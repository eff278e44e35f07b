/* pochtactl user add|passwd|del|list: etc/users, etc/passwd and the Maildirs.
 * The password comes from the first line of standard input (never from argv,
 * which other users can read in /proc) and only its crypt(3) hash is stored. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "ctl.h"
#include "dir.h"
#include "localaddr.h"
#include "maildir.h"
#include "paths.h"
#include "users.h"

static void path_of(sa_t *p, const char *dir, const char *name)
{
	sa_trunc(p, 0);
	if (sa_catf(p, "%s/%s", dir, name) < 0)
		ctl_die_sys("out of memory");
}

/* the first line of stdin, CR/LF stripped; echo off when it is a terminal */
static void read_password(char *buf, size_t cap)
{
	struct termios old, quiet;
	int tty = isatty(0) && tcgetattr(0, &old) == 0;
	if (tty) {
		fputs("Password: ", stderr);
		fflush(stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	size_t n = 0;
	int toolong = 0, rerr = 0;
	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rerr = errno;
			break;
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= cap) {
			toolong = 1;
			continue; /* drain the rest of the line */
		}
		buf[n++] = c;
	}
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (rerr) {
		errno = rerr;
		ctl_die_sys("cannot read the password from standard input");
	}
	if (toolong || n > USER_PASS_MAX)
		ctl_die("password longer than %d bytes, the most a POP3 client can send"
		        " (PASS in a command line of %d octets)", USER_PASS_MAX, POP3_LINE_MAX);
	if (n == 0)
		ctl_die("empty password (give it as the first line of standard input)");
	if (memchr(buf, '\0', n))
		ctl_die("password contains a NUL byte");
}

/* a Maildir (and a domain's directory above it) made by root belongs to the
 * owner of the mail directory (the virtual_user after `pochtactl setup`), who
 * delivers to it */
static void maildir_own(const char *md, const char *domdir)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	struct stat st;
	sa_t p = SA_INIT;
	if (geteuid() != 0 || stat(paths.mail, &st) < 0 || st.st_uid == 0)
		return;
	if (domdir && lchown(domdir, st.st_uid, st.st_gid) < 0)
		ctl_die_sys("cannot give %s to the owner of %s", domdir, paths.mail);
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		sa_trunc(&p, 0);
		if (sa_catf(&p, "%s%s", md, sub[i]) < 0)
			ctl_die_sys("out of memory");
		if (lchown(p.s, st.st_uid, st.st_gid) < 0)
			ctl_die_sys("cannot give %s to the owner of %s", p.s, paths.mail);
	}
	sa_free(&p);
}

static void name_or_die(const char *name)
{
	if (!user_mailbox_valid(name, strlen(name)))
		ctl_die("bad user name \"%s\": NAME or NAME@DOMAIN, NAME 1 to %d of a-z 0-9 . _ -,"
		        " not starting with . or -, DOMAIN a lowercase domain name",
		        name, USER_NAME_MAX);
}

/* ROOT/mail/NAME is a bare user's Maildir and ROOT/mail/DOMAIN holds the
 * domain's: a name may not be both. -1 when name would take the other's
 * place (the conflicting one in other) */
static int maildir_conflict(const char *users_path, const char *name, sa_t *other)
{
	sa_t all = SA_INIT;
	size_t n = 0;
	const char *dom = user_mailbox_domain(name), *p;
	int r = 0;

	if (users_list(users_path, &all, &n) < 0)
		ctl_die_sys("cannot read %s", users_path);
	p = all.s;
	for (size_t i = 0; i < n && r == 0; p += strlen(p) + 1, i++) {
		const char *pd = user_mailbox_domain(p);
		if ((dom && !pd && strcmp(p, dom) == 0) || (!dom && pd && strcmp(pd, name) == 0)) {
			sa_copys(other, p);
			r = -1;
		}
	}
	sa_free(&all);
	return r;
}

/* a user of a domain that is neither local nor virtual gets no mail: said,
 * not refused (the domain may be added to the configuration next) */
static void domain_warn(const char *name)
{
	const char *dom = user_mailbox_domain(name);
	struct conf c;
	if (!dom)
		return;
	ctl_conf_load(&c);
	if (!localaddr_domain_is_local(&c, dom, strlen(dom)))
		ctl_warn("warning: %s is in neither local_domains nor virtual_domains:"
		         " %s gets no mail until it is", dom, name);
	conf_free(&c);
}

static int cmd_add(const char *name, int replace, int must_exist)
{
	sa_t users = SA_INIT, passwd = SA_INIT, md = SA_INIT, hash = SA_INIT;
	name_or_die(name);
	path_of(&users, paths.etc, "users");
	path_of(&passwd, paths.etc, "passwd");
	if (access(paths.conf, F_OK) < 0)
		ctl_die_sys("%s: not a pochta instance (run pochtactl init)", paths.conf);
	int ex = users_exists(users.s, name);
	if (ex < 0)
		ctl_die_sys("cannot read %s", users.s);
	if (ex && !replace)
		ctl_die("user %s exists already (use user passwd to change the password)", name);
	if (!ex && must_exist)
		ctl_die("no such user %s", name);
	sa_t other = SA_INIT;
	if (!ex && maildir_conflict(users.s, name, &other) < 0)
		ctl_die("user %s would share its Maildir's place in %s with user %s", name, paths.mail,
		        other.s);
	sa_free(&other);
	domain_warn(name);

	char pass[USER_PASS_MAX + 2]; /* and a CR to strip */
	read_password(pass, sizeof pass);
	int r = pass_hash(pass, &hash);
	explicit_bzero(pass, sizeof pass);
	if (r < 0)
		ctl_die_sys("cannot hash the password");

	/* the Maildir first: a listed user always has somewhere to receive mail;
	 * NAME@DOMAIN's is mail/DOMAIN/NAME */
	sa_t domdir = SA_INIT;
	const char *dom = user_mailbox_domain(name);
	if (dom) {
		path_of(&domdir, paths.mail, dom);
		if (dir_make(domdir.s, 0700) < 0)
			ctl_die_sys("cannot create the directory %s", domdir.s);
	}
	sa_trunc(&md, 0);
	if (user_maildir(paths.mail, name, &md) < 0)
		ctl_die_sys("out of memory");
	if (maildir_make(md.s, 0700) < 0)
		ctl_die_sys("cannot create the Maildir %s", md.s);
	maildir_own(md.s, dom ? domdir.s : NULL);
	sa_free(&domdir);
	if (users_add(users.s, passwd.s, name, hash.s, replace) < 0) {
		if (errno == EEXIST)
			ctl_die("user %s exists already", name);
		ctl_die_sys("cannot add user %s", name);
	}
	explicit_bzero(hash.s, hash.len);
	sa_free(&hash);
	sa_free(&users);
	sa_free(&passwd);
	sa_free(&md);
	return 0;
}

static int cmd_del(const char *name)
{
	sa_t users = SA_INIT, passwd = SA_INIT, md = SA_INIT;
	name_or_die(name);
	path_of(&users, paths.etc, "users");
	path_of(&passwd, paths.etc, "passwd");
	if (users_del(users.s, passwd.s, name) < 0) {
		if (errno == ENOENT)
			ctl_die("no such user %s", name);
		ctl_die_sys("cannot remove user %s", name);
	}
	if (user_maildir(paths.mail, name, &md) < 0)
		ctl_die_sys("out of memory");
	printf("user %s removed; the Maildir %s was kept\n", name, md.s);
	sa_free(&users);
	sa_free(&passwd);
	sa_free(&md);
	return 0;
}

static int cmd_list(void)
{
	sa_t users = SA_INIT, out = SA_INIT;
	size_t n = 0;
	path_of(&users, paths.etc, "users");
	if (access(paths.conf, F_OK) < 0)
		ctl_die_sys("%s: not a pochta instance (run pochtactl init)", paths.conf);
	if (users_list(users.s, &out, &n) < 0)
		ctl_die_sys("cannot read %s", users.s);
	const char *p = out.s;
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", p);
		p += strlen(p) + 1;
	}
	sa_free(&users);
	sa_free(&out);
	return 0;
}

int ctl_cmd_user(int argc, char **argv)
{
	if (argc < 2)
		ctl_missing("user", NULL, "a subcommand (add, passwd, del, list)");
	const char *sub = argv[1];
	if (strcmp(sub, "add") == 0) {
		int force = argc > 2 && strcmp(argv[2], "--force") == 0;
		ctl_nargs("user", sub, argc - 2 - force, "NAME");
		return cmd_add(argv[2 + force], force, 0);
	}
	if (strcmp(sub, "passwd") == 0) {
		ctl_nargs("user", sub, argc - 2, "NAME");
		return cmd_add(argv[2], 1, 1);
	}
	if (strcmp(sub, "del") == 0) {
		ctl_nargs("user", sub, argc - 2, "NAME");
		return cmd_del(argv[2]);
	}
	if (strcmp(sub, "list") == 0) {
		ctl_nargs("user", sub, argc - 2, "");
		return cmd_list();
	}
	ctl_warn("user: unknown subcommand %s", sub);
	ctl_usage_of("user", NULL);
}
