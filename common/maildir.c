/* maildir: layout and unique names (cr.yp.to/proto/maildir.html). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "dir.h"
#include "maildir.h"

int maildir_make(const char *path, int mode)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	sa_t p = SA_INIT;
	size_t i;
	int e;

	if (dir_make(path, mode) < 0)
		return -1;
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		if (sa_copys(&p, path) < 0 || sa_catc(&p, '/') < 0 || sa_cats(&p, sub[i]) < 0 ||
		    dir_make(p.s, mode) < 0) {
			e = errno;
			sa_free(&p);
			errno = e;
			return -1;
		}
	}
	sa_free(&p);
	return 0;
}

int maildir_uniq(sa_t *out, const char *host)
{
	/* per process; with the pid and the microsecond it tells our own
	 * deliveries within one microsecond apart */
	static unsigned long long seq;
	char hbuf[256];
	struct timeval tv;
	size_t old = out->len;
	const char *h;

	if (!host || !*host) {
		if (gethostname(hbuf, sizeof hbuf) < 0)
			hbuf[0] = '\0';
		hbuf[sizeof hbuf - 1] = '\0';
		host = hbuf[0] ? hbuf : "localhost";
	}
	gettimeofday(&tv, NULL);
	if (sa_catu(out, (unsigned long long)tv.tv_sec) < 0 || sa_cats(out, ".M") < 0 ||
	    sa_catu(out, (unsigned long long)tv.tv_usec) < 0 || sa_catc(out, 'P') < 0 ||
	    sa_catu(out, (unsigned long long)getpid()) < 0 || sa_catc(out, 'Q') < 0 ||
	    sa_catu(out, ++seq) < 0 || sa_catc(out, '.') < 0)
		goto fail;
	for (h = host; *h; h++) {
		int r;
		if (*h == '/')
			r = sa_cats(out, "\\057");
		else if (*h == ':')
			r = sa_cats(out, "\\072");
		else
			r = sa_catc(out, *h);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	sa_trunc(out, old);
	return -1;
}

int maildir_name_uniq(const char *name, size_t *len)
{
	const char *colon;

	if (!name || name[0] == '\0' || name[0] == '.')
		return 0;
	colon = strchr(name, ':');
	*len = colon ? (size_t)(colon - name) : strlen(name);
	return *len > 0;
}

int maildir_folder_name(const char *ext, char out[MAILDIR_FOLDER_MAX + 1])
{
	size_t n = strlen(ext), i;

	out[0] = '\0';
	if (n == 0 || n > MAILDIR_FOLDER_MAX || ext[0] == '.' || ext[n - 1] == '.' ||
	    strstr(ext, ".."))
		return 0;
	for (i = 0; i < n; i++) {
		char c = ext[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-')) {
			out[0] = '\0';
			return 0;
		}
		out[i] = c;
	}
	out[n] = '\0';
	return 1;
}

/* a directory at dirfd (made when missing), never through a link; fd or -1 */
static int subdir_at(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

int maildir_folder_open(int md, const char *name)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char dot[MAILDIR_FOLDER_MAX + 2];
	int fd, s, mk, e;

	if (strlen(name) > MAILDIR_FOLDER_MAX || strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	dot[0] = '.';
	strcpy(dot + 1, name);
	fd = subdir_at(md, dot);
	if (fd < 0)
		return -1;
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		s = subdir_at(fd, sub[i]);
		if (s < 0)
			goto fail;
		close(s);
	}
	/* Maildir++: marks a folder, for IMAP servers and MUAs */
	mk = openat(fd, "maildirfolder", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (mk < 0)
		goto fail;
	close(mk);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
