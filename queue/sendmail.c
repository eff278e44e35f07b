/* pochta-sendmail: the sendmail command line of local programs (man
 * pochta-sendmail(8)). Not set-uid or set-gid: it runs as its caller and
 * reaches the queue through pochta-enqueue (setgid to the queue group when
 * installed). -bm is sendmail_msg.c; -bp runs `pochtactl queue list`, -bs runs
 * `pochta-smtpd -l`, -q wakes pochta-qmgr, -bi compiles the aliases. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "confrun.h"
#include "sendmail.h"
#include "aliases.h"
#include "log.h"
#include "paths.h"
#include "priv.h"
#include "qdir.h"

void sm_die(int code, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, sizeof buf, fmt, ap) < 0)
		buf[0] = '\0';
	va_end(ap);
	fprintf(stderr, "pochta-sendmail: %s\n", buf);
	exit(code);
}

static void sm_usage(const char *why)
{
	sm_die(EX_USAGE, "%s\nusage: pochta-sendmail [-r ROOT] [-t] [-i] [-f SENDER] [-F NAME] "
	                 "[-v] [RCPT ...]\n       pochta-sendmail [-r ROOT] -bp | -bs | -q | -bi", why);
}

/* who ran us, from the real uid (never from the environment) */
static void sm_caller(struct sm_caller *who, const struct smopt *o)
{
	struct passwd *pw;

	who->uid = getuid();
	pw = getpwuid(who->uid);
	if (!pw || !pw->pw_name || !*pw->pw_name)
		sm_die(EX_OSERR, "no login name for user ID %lu", (unsigned long)who->uid);
	if (strlen(pw->pw_name) >= sizeof who->login)
		sm_die(EX_OSERR, "login name of user ID %lu too long", (unsigned long)who->uid);
	strcpy(who->login, pw->pw_name);
	if (o->fullname) {
		snprintf(who->fullname, sizeof who->fullname, "%s", o->fullname);
	} else {
		const char *g = pw->pw_gecos ? pw->pw_gecos : "";
		size_t n = strcspn(g, ",");
		if (n >= sizeof who->fullname)
			n = sizeof who->fullname - 1;
		memcpy(who->fullname, g, n);
		who->fullname[n] = '\0';
	}
}

/* descriptors 0, 1, 2 are open before anything else is (a closed stdout must
 * not become the queue file or a pipe) */
static void sm_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			sm_die(EX_OSERR, "cannot open /dev/null: %s", strerror(errno));
}

/* -bp: `pochtactl queue list`, after a check that gives a plain answer to a
 * user who may not read the queue */
static void sm_mailq(void)
{
	static const char *const sub[] = { "incoming", "mess", "hold" };
	char dir[sizeof paths.queue + 16];
	const char *ctl;

	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		snprintf(dir, sizeof dir, "%s/%s", paths.queue, sub[i]);
		if (access(dir, R_OK | X_OK) < 0) {
			if (errno == EACCES || errno == EPERM)
				sm_die(EX_NOPERM, "cannot read the queue (%s): %s; only root and the queue "
				       "group may list it", dir, strerror(errno));
			sm_die(EX_UNAVAILABLE, "cannot read the queue (%s): %s", dir, strerror(errno));
		}
	}
	ctl = paths_beside("pochtactl");
	if (!ctl)
		sm_die(EX_UNAVAILABLE, "cannot find pochtactl beside pochta-sendmail");
	fflush(NULL);
	execl(ctl, "pochtactl", "queue", "list", (char *)NULL);
	sm_die(EX_UNAVAILABLE, "cannot run %s: %s", ctl, strerror(errno));
}

/* -q: wake pochta-qmgr to retry every deferred recipient now */
static void sm_flush(int verbose)
{
	if (qdir_wake(paths.queue, QDIR_WAKE_FLUSH) == 0) {
		if (verbose)
			fprintf(stderr, "pochta-sendmail: the queue manager retries deferred mail now\n");
		exit(EX_OK);
	}
	if (errno == ENXIO || errno == ENOENT)
		sm_die(EX_UNAVAILABLE, "no queue manager is running for %s (start it: pochtactl start); "
		       "nothing was flushed", paths.queue);
	if (errno == EACCES || errno == EPERM)
		sm_die(EX_NOPERM, "cannot wake the queue manager (%s/trigger): %s; only root and the "
		       "queue group may flush the queue", paths.queue, strerror(errno));
	sm_die(EX_UNAVAILABLE, "cannot wake the queue manager: %s", strerror(errno));
}

/* -bs: pochta-smtpd's session on our stdin/stdout, as a local submission
 * (-l: the client is named by its uid, relaying allowed). pochta-smtpd never
 * runs as root when installed: root gives the session to smtpd_user first. */
static void sm_smtp(void)
{
	struct conf c;
	struct priv_user u;
	sa_t err = SA_INIT;
	const char *smtpd;

	if (!paths.root[0] && priv_is_root()) {
		if (confrun_load(&c, &err) < 0)
			sm_die(EX_CONFIG, "%s", err.s ? err.s : "cannot read the configuration");
		if (priv_lookup(c.smtpd_user, &u, &err) < 0 || priv_drop(&u, &err) < 0)
			sm_die(EX_OSERR, "cannot become smtpd_user %s: %s", c.smtpd_user,
			       err.s ? err.s : "?");
	}
	smtpd = paths_prog("pochta-smtpd");
	if (!smtpd)
		sm_die(EX_UNAVAILABLE, "cannot find pochta-smtpd: %s", strerror(errno));
	fflush(NULL);
	execl(smtpd, "pochta-smtpd", "-l", (char *)NULL);
	sm_die(EX_UNAVAILABLE, "cannot run %s: %s", smtpd, strerror(errno));
}

/* -bi, newaliases: `pochtactl aliases` in-process, with sendmail's exit codes */
static void sm_newaliases(void)
{
	sa_t path = SA_INIT, err = SA_INIT;
	long n;

	if (sa_catf(&path, "%s/aliases", paths.etc) < 0)
		sm_die(EX_OSERR, "out of memory");
	errno = 0;
	n = aliases_compile(path.s, &err);
	if (n < 0) {
		int e = errno;
		sm_die(e == EINVAL ? EX_DATAERR : e == ENOENT ? EX_NOINPUT
		       : e == EACCES || e == EPERM ? EX_NOPERM : EX_CANTCREAT,
		       "%s", err.s ? err.s : "cannot compile the aliases");
	}
	printf("%s: %ld alias%s\n", path.s, n, n == 1 ? "" : "es");
	exit(fflush(stdout) == 0 ? EX_OK : EX_IOERR);
}

int main(int argc, char **argv)
{
	struct smopt o;
	struct sm_caller who;
	sa_t err = SA_INIT;
	uid_t owner;

	sm_fds();
	signal(SIGPIPE, SIG_IGN);
	log_init("pochta-sendmail", LOG_DEST_AUTO);
	if (smopt_parse(argc, argv, &o, &err) < 0)
		sm_usage(err.s ? err.s : "bad arguments");
	if (o.mode == SMOPT_NOTHING)
		return EX_OK; /* -qNUMBER: the queue manager has its own schedule */
	sm_caller(&who, &o);
	if (paths_init(o.root) < 0)
		sm_die(EX_CONFIG, "cannot use root %s: %s", o.root ? o.root : "(installed paths)",
		       strerror(errno));
	/* root on an instance that belongs to an account acts as that account,
	 * so that the queue files are the manager's to read */
	if (paths.root[0] && priv_become_owner(paths.etc, &owner, &err) < 0)
		sm_die(EX_OSERR, "cannot act as the owner (uid %lu) of %s: %s", (unsigned long)owner,
		       paths.root, err.s ? err.s : "?");
	switch (o.mode) {
	case SMOPT_MAILQ:
		sm_mailq();
		break;
	case SMOPT_FLUSH:
		sm_flush(o.verbose);
		break;
	case SMOPT_SMTP:
		sm_smtp();
		break;
	case SMOPT_NEWALIASES:
		sm_newaliases();
		break;
	default:
		sm_deliver(&o, argv, &who);
	}
	return EX_SOFTWARE;
}
