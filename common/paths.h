/* paths: where an instance or an installed system keeps its files.
 * An instance (pochtactl -r ROOT init) keeps everything under ROOT:
 *   ROOT/etc/pochta.conf  ROOT/etc/users  ROOT/etc/passwd
 *   ROOT/queue/  ROOT/mail/USER/ (Maildir)  ROOT/log/
 * Without a root (no -r, no POCHTA_ROOT) the installed paths are used. */
#ifndef POCHTA_PATHS_H
#define POCHTA_PATHS_H

#ifndef POCHTA_ETCDIR
#define POCHTA_ETCDIR "/etc/pochta"
/* an executable file name in the directory of this executable itself (for
 * pochta-sendmail, which runs pochtactl beside it in sbin or build/); NULL
 * (ENOENT) when there is none. Static buffer. */
const char *paths_beside(const char *name);

#endif
#ifndef POCHTA_QUEUEDIR
#define POCHTA_QUEUEDIR "/var/spool/pochta"
/* an executable file name in the directory of this executable itself (for
 * pochta-sendmail, which runs pochtactl beside it in sbin or build/); NULL
 * (ENOENT) when there is none. Static buffer. */
const char *paths_beside(const char *name);

#endif
#ifndef POCHTA_MAILDIR
#define POCHTA_MAILDIR "/var/mail/pochta"
/* an executable file name in the directory of this executable itself (for
 * pochta-sendmail, which runs pochtactl beside it in sbin or build/); NULL
 * (ENOENT) when there is none. Static buffer. */
const char *paths_beside(const char *name);

#endif
#ifndef POCHTA_LIBEXECDIR
#define POCHTA_LIBEXECDIR "/usr/local/libexec/pochta"
/* an executable file name in the directory of this executable itself (for
 * pochta-sendmail, which runs pochtactl beside it in sbin or build/); NULL
 * (ENOENT) when there is none. Static buffer. */
const char *paths_beside(const char *name);

#endif

/* Bounded well below PATH_MAX: every pochta process has one of these, and an
 * instance root longer than 1 KiB is refused (ENAMETOOLONG) rather than paid
 * for in every SMTP session. */
#define PATHS_ROOT_MAX 1024
struct paths {
	char root[PATHS_ROOT_MAX];  /* "" in installed mode */
	char etc[PATHS_ROOT_MAX + 16];
	char conf[PATHS_ROOT_MAX + 32];
	char queue[PATHS_ROOT_MAX + 16];
	char mail[PATHS_ROOT_MAX + 16];
	char log[PATHS_ROOT_MAX + 16];
	char libexec[PATHS_ROOT_MAX + 16]; /* where the other pochta programs are */
};

extern struct paths paths;

/* root: the -r argument or NULL; then POCHTA_ROOT; then installed paths.
 * A relative root is made absolute. Sets POCHTA_ROOT in the environment so
 * children find the same instance. 0 or -1 (ENAMETOOLONG, ...). */
int paths_init(const char *root);

/* the command line of a program whose only option is -r ROOT: sets *root
 * (NULL when absent); 0, or -1 when anything else is on the line (usage) */
int paths_args(int argc, char **argv, const char **root);

/* the full path of a sibling program, e.g. paths_prog("pochta-enqueue"):
 * POCHTA_LIBEXEC from the environment, else the directory of this executable
 * (/proc/self/exe; for one in PREFIX/sbin or PREFIX/bin, PREFIX/libexec/pochta
 * when that directory exists), else POCHTA_LIBEXECDIR. Static buffer. */
const char *paths_prog(const char *name);

/* the first executable regular file name in POCHTA_LIBEXEC, in the directory
 * paths_prog would use without it (PREFIX/libexec/pochta for a program in
 * PREFIX/sbin, else this executable's own), in POCHTA_LIBEXECDIR; NULL (ENOENT) when none is.
 * For a program run from outside libexec (pochtactl in sbin). Static buffer. */
const char *paths_prog_find(const char *name);

/* an executable file name in the directory of this executable itself (for
 * pochta-sendmail, which runs pochtactl beside it in sbin or build/); NULL
 * (ENOENT) when there is none. Static buffer. */
const char *paths_beside(const char *name);

#endif
