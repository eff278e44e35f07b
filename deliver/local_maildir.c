/* local_maildir: one message into a Maildir (cr.yp.to/proto/maildir.html).
 * tmp/NAME is written and fsync'd, then linked into new/NAME and new/ is
 * fsync'd: a reader of new/ never sees a partial file, and once we report
 * success the message survives a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "io.h"
#include "local.h"
#include "log.h"
#include "maildir.h"

#define LOCAL_BUF 65536

void local_set(struct local_result *r, char class, const char *status, const char *what,
                const char *detail)
{
	r->class = class;
	r->status = status;
	sa_trunc(&r->text, 0);
	if (sa_cats(&r->text, what) < 0 || (detail && (sa_cats(&r->text, ": ") < 0 ||
	    sa_cats(&r->text, detail) < 0)))
		sa_trunc(&r->text, 0);
}

static int tmp_fail(struct local_result *r, int tmpd, const char *name, int fd, const char *what)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	unlinkat(tmpd, name, 0);
	local_set(r, 'T', e == ENOSPC || e == EDQUOT ? "4.2.2" : "4.3.0", what, strerror(e));
	errno = e;
	return -1;
}

int local_maildir_at(int md, const char *host, const char *sender, const char *rcpt,
                     int binary, int in, struct local_result *r)
{
	sa_t name = SA_INIT;
	struct hdrscan hs;
	io_t out;
	char *inbuf = NULL, *outbuf = NULL, last = '\n';
	int fd = -1, tmpd = -1, newd = -1, rc = -1;

	inbuf = malloc(LOCAL_BUF);
	outbuf = malloc(LOCAL_BUF);
	if (!inbuf || !outbuf || maildir_uniq(&name, host) < 0) {
		local_set(r, 'T', "4.3.0", "out of memory", NULL);
		goto out;
	}
	/* tmp/ and new/ held open: the file is made, linked and synced in the
	 * directories checked here, never through a link swapped in later */
	tmpd = openat(md, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	newd = tmpd < 0 ? -1 : openat(md, "new", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (newd >= 0)
		fd = openat(tmpd, name.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		local_set(r, 'T', "4.2.0", "mailbox unavailable", strerror(e));
		goto out;
	}
	io_init(&out, fd, outbuf, LOCAL_BUF, -1);
	/* a BINARYMIME message keeps its CRLF: the lines added match it */
	if (io_printf(&out, "Return-Path: <%s>%s\nDelivered-To: %s%s\n", sender, binary ? "\r" : "",
	              rcpt, binary ? "\r" : "") < 0) {
		tmp_fail(r, tmpd, name.s, fd, "write error");
		fd = -1;
		goto out;
	}
	hdrscan_init(&hs, rcpt);
	for (;;) {
		ssize_t n = read(in, inbuf, LOCAL_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tmp_fail(r, tmpd, name.s, fd, "cannot read the message");
			fd = -1;
			goto out;
		}
		if (n == 0)
			break;
		hdrscan_feed(&hs, inbuf, (size_t)n);
		if (hs.loop)
			break;
		if (io_put(&out, inbuf, (size_t)n) < 0) {
			tmp_fail(r, tmpd, name.s, fd, "write error");
			fd = -1;
			goto out;
		}
		last = inbuf[n - 1];
	}
	hdrscan_end(&hs);
	if (hs.loop) {
		close(fd);
		fd = -1;
		unlinkat(tmpd, name.s, 0);
		local_set(r, 'P', "5.4.6", "mail loop: already delivered to", NULL);
		if (sa_catf(&r->text, " <%s>", rcpt) < 0)
			sa_trunc(&r->text, 0);
		goto out;
	}
	/* a last line without its LF would run into the next reader's idea of
	 * the end; a BINARYMIME message is kept byte for byte (RFC 3030) */
	if ((!binary && last != '\n' && io_put(&out, "\n", 1) < 0) || io_flush(&out) < 0 || fsync(fd) < 0) {
		tmp_fail(r, tmpd, name.s, fd, "write error");
		fd = -1;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		tmp_fail(r, tmpd, name.s, -1, "write error");
		goto out;
	}
	fd = -1;
	/* link, not rename: an existing new/NAME is never replaced */
	if (linkat(tmpd, name.s, newd, name.s, 0) < 0) {
		if (errno != EPERM && errno != ENOTSUP && errno != EXDEV) {
			tmp_fail(r, tmpd, name.s, -1, "cannot move into new/");
			goto out;
		}
		if (renameat(tmpd, name.s, newd, name.s) < 0) { /* a file system without hard links */
			tmp_fail(r, tmpd, name.s, -1, "cannot move into new/");
			goto out;
		}
	} else {
		unlinkat(tmpd, name.s, 0);
	}
	if (fsync(newd) < 0) {
		/* the file may or may not survive a crash: ask for a retry (a
		 * duplicate is better than a loss) */
		int e = errno;
		unlinkat(newd, name.s, 0);
		local_set(r, 'T', "4.3.0", "cannot sync new/", strerror(e));
		goto out;
	}
	local_set(r, 'D', "2.0.0", "delivered to maildir", name.s);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmpd >= 0)
		close(tmpd);
	if (newd >= 0)
		close(newd);
	free(inbuf);
	free(outbuf);
	sa_free(&name);
	return rc;
}

int local_maildir(const char *dir, const char *host, const char *sender, const char *rcpt,
                  int binary, int in, struct local_result *r)
{
	int md = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (md < 0) {
		local_set(r, 'T', "4.2.0", "mailbox unavailable", strerror(errno));
		return -1;
	}
	rc = local_maildir_at(md, host, sender, rcpt, binary, in, r);
	close(md);
	return rc;
}
