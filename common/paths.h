/* paths: where an instance or an installed system keeps its files.
 * An instance (pochtactl -r ROOT init) keeps everything under ROOT:
 *   ROOT/etc/pochta.conf  ROOT/etc/users  ROOT/etc/passwd
 *   ROOT/queue/  ROOT/mail/USER/ (Maildir)  ROOT/log/
 * Without a root (no -r, no POCHTA_ROOT) the installed paths are used. */
#ifndef POCHTA_PATHS_H
#define POCHTA_PATHS_H

#ifndef POCHTA_ETCDIR
#define POCHTA_ETCDIR "/etc/pochta"
#endif
#ifndef POCHTA_QUEUEDIR
#define POCHTA_QUEUEDIR "/var/spool/pochta"
#endif
#ifndef POCHTA_MAILDIR
#define POCHTA_MAILDIR "/var/mail/pochta"
#endif
#ifndef POCHTA_LIBEXECDIR
#define POCHTA_LIBEXECDIR "/usr/local/libexec/pochta"
#endif

struct paths {
	char root[4096];   /* "" in installed mode */
	char etc[4200];
	char conf[4300];
	char queue[4200];
	char mail[4200];
	char log[4200];
	char libexec[4200]; /* where the other pochta programs are */
};

extern struct paths paths;

/* root: the -r argument or NULL; then POCHTA_ROOT; then installed paths.
 * A relative root is made absolute. Sets POCHTA_ROOT in the environment so
 * children find the same instance. 0 or -1 (ENAMETOOLONG, ...). */
int paths_init(const char *root);

/* the full path of a sibling program, e.g. paths_prog("pochta-enqueue"):
 * POCHTA_LIBEXEC from the environment, else the directory of this executable
 * (/proc/self/exe), else POCHTA_LIBEXECDIR. Static buffer. */
const char *paths_prog(const char *name);

#endif
