/* maildir: layout and unique names (cr.yp.to/proto/maildir.html). */
#include <errno.h>
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
