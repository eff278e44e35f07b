/* paths: an instance root (-r, POCHTA_ROOT) or the installed locations. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "paths.h"

#ifndef POCHTA_LOGDIR
#define POCHTA_LOGDIR "/var/log/pochta"
#endif

struct paths paths;

/* snprintf into a fixed field; 0 or -1 ENAMETOOLONG */
#define PATHS_SET(field, ...) paths_set((field), sizeof(field), __VA_ARGS__)
static int paths_set(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int paths_set(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		dst[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* root made absolute, "./" prefixes and trailing slashes dropped */
static int paths_root(const char *root)
{
	char cwd[PATH_MAX];
	size_t n;

	while (root[0] == '.' && root[1] == '/') {
		root += 2;
		while (*root == '/')
			root++;
	}
	if (root[0] == '/') {
		if (PATHS_SET(paths.root, "%s", root) < 0)
			return -1;
	} else {
		if (!getcwd(cwd, sizeof cwd))
			return -1;
		if (strcmp(root, ".") == 0 || root[0] == '\0') {
			if (PATHS_SET(paths.root, "%s", cwd) < 0)
				return -1;
		} else if (PATHS_SET(paths.root, "%s/%s", strcmp(cwd, "/") ? cwd : "", root) < 0) {
			return -1;
		}
	}
	n = strlen(paths.root);
	while (n > 1 && paths.root[n - 1] == '/')
		paths.root[--n] = '\0';
	return 0;
}

/* Where the other programs are, found at run time so that one build works
 * under any PREFIX: a program in PREFIX/sbin or PREFIX/bin (pochtactl,
 * pochta-sendmail) uses PREFIX/libexec/pochta when it exists; any other
 * program (in libexec, or in the build tree) its own directory. Into dir
 * (PATH_MAX bytes); 0, or -1 when /proc/self/exe tells nothing. */
/* the directory of this executable into dir (PATH_MAX bytes); 0 or -1 */
static int paths_self_dir(char *dir)
{
	ssize_t n;
	char *slash;

	n = readlink("/proc/self/exe", dir, PATH_MAX - 1);
	if (n <= 0)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash || dir[0] != '/')
		return -1;
	*slash = '\0';
	if (slash == dir)
		strcpy(dir, "/");
	return 0;
}

static int paths_exe_dir(char *dir)
{
	char up[PATH_MAX + 32];
	struct stat st;
	int n;
	char *parent;

	if (paths_self_dir(dir) < 0)
		return -1;
	parent = strrchr(dir, '/');
	if (parent && (strcmp(parent, "/sbin") == 0 || strcmp(parent, "/bin") == 0)) {
		*parent = '\0';
		n = snprintf(up, sizeof up, "%s/libexec/pochta", dir);
		*parent = '/';
		if (n > 0 && (size_t)n < PATH_MAX && stat(up, &st) == 0 && S_ISDIR(st.st_mode))
			memcpy(dir, up, (size_t)n + 1);
	}
	return 0;
}

static int paths_libexec(void)
{
	const char *e = getenv("POCHTA_LIBEXEC");
	char dir[PATH_MAX];

	if (e && *e && PATHS_SET(paths.libexec, "%s", e) == 0)
		return 0;
	if (paths_exe_dir(dir) == 0)
		return PATHS_SET(paths.libexec, "%s", dir);
	return PATHS_SET(paths.libexec, "%s", POCHTA_LIBEXECDIR);
}

int paths_init(const char *root)
{
	memset(&paths, 0, sizeof paths);
	if (!root || !*root)
		root = getenv("POCHTA_ROOT");
	if (root && *root) {
		if (paths_root(root) < 0)
			return -1;
		if (PATHS_SET(paths.etc, "%s/etc", paths.root) < 0 ||
		    PATHS_SET(paths.conf, "%s/pochta.conf", paths.etc) < 0 ||
		    PATHS_SET(paths.queue, "%s/queue", paths.root) < 0 ||
		    PATHS_SET(paths.mail, "%s/mail", paths.root) < 0 ||
		    PATHS_SET(paths.log, "%s/log", paths.root) < 0)
			return -1;
		/* children (enqueue, local, ...) must find the same instance */
		if (setenv("POCHTA_ROOT", paths.root, 1) < 0)
			return -1;
	} else {
		if (PATHS_SET(paths.etc, "%s", POCHTA_ETCDIR) < 0 ||
		    PATHS_SET(paths.conf, "%s/pochta.conf", paths.etc) < 0 ||
		    PATHS_SET(paths.queue, "%s", POCHTA_QUEUEDIR) < 0 ||
		    PATHS_SET(paths.mail, "%s", POCHTA_MAILDIR) < 0 ||
		    PATHS_SET(paths.log, "%s", POCHTA_LOGDIR) < 0)
			return -1;
	}
	return paths_libexec();
}

const char *paths_prog(const char *name)
{
	static char prog[sizeof paths.libexec + 256];
	int n;

	if (!paths.libexec[0] && paths_libexec() < 0)
		return NULL;
	n = snprintf(prog, sizeof prog, "%s%s%s", paths.libexec,
		     strcmp(paths.libexec, "/") ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof prog) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return prog;
}

int paths_args(int argc, char **argv, const char **root)
{
	int c;

	*root = NULL;
	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r')
			return -1;
		*root = optarg;
	}
	return optind == argc ? 0 : -1;
}

/* dir/name into buf when it is an executable regular file */
static const char *paths_try(char *buf, size_t cap, const char *dir, const char *name)
{
	struct stat st;
	int n = snprintf(buf, cap, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	if (!*dir || n < 0 || (size_t)n >= cap)
		return NULL;
	if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
		return buf;
	return NULL;
}

const char *paths_prog_find(const char *name)
{
	static char prog[PATH_MAX + 256];
	char dir[PATH_MAX];
	const char *e = getenv("POCHTA_LIBEXEC");

	if (e && paths_try(prog, sizeof prog, e, name))
		return prog;
	if (paths_exe_dir(dir) == 0 && paths_try(prog, sizeof prog, dir, name))
		return prog;
	if (paths_try(prog, sizeof prog, POCHTA_LIBEXECDIR, name))
		return prog;
	errno = ENOENT;
	return NULL;
}

const char *paths_beside(const char *name)
{
	static char prog[PATH_MAX + 256];
	char dir[PATH_MAX];

	if (paths_self_dir(dir) == 0 && paths_try(prog, sizeof prog, dir, name))
		return prog;
	errno = ENOENT;
	return NULL;
}
