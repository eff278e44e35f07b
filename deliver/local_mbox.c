/* local_mbox: delivery to a file of an alias or a .forward, in mbox format
 * (local.h): a "From SENDER DATE" line, Return-Path: and Delivered-To:, the
 * message with every line that starts with "From " quoted as ">From ", and
 * an empty line. The file is locked with fcntl(2) and flock(2) (mail readers
 * use one or the other), appended, synced; a failed append is cut off, so
 * the file never keeps half a message. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "local.h"

#define MBOX_LOCK_TRIES 300 /* 100 ms apart: 30 s */

static int lock_file(int fd)
{
	struct flock fl;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	for (int i = 0; i < MBOX_LOCK_TRIES; i++) {
		if (fcntl(fd, F_SETLK, &fl) == 0) {
			for (; i < MBOX_LOCK_TRIES; i++) {
				if (flock(fd, LOCK_EX | LOCK_NB) == 0)
					return 0;
				if (errno != EWOULDBLOCK)
					return -1;
				usleep(100000);
			}
			return -1;
		}
		if (errno != EAGAIN && errno != EACCES)
			return -1;
		usleep(100000);
	}
	errno = EWOULDBLOCK;
	return -1;
}

/* the message with its From_ line and quoting, into out */
static int mbox_format(const sa_t *msg, const char *sender, sa_t *out)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t i = 0;

	if (!localtime_r(&now, &tm) || !strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm))
		return -1;
	if (sa_catf(out, "From %s %s\n", sender[0] ? sender : "MAILER-DAEMON", date) < 0)
		return -1;
	while (i < msg->len) {
		const char *nl = memchr(msg->s + i, '\n', msg->len - i);
		size_t n = nl ? (size_t)(nl - (msg->s + i)) + 1 : msg->len - i;
		if (n >= 5 && memcmp(msg->s + i, "From ", 5) == 0 && sa_catc(out, '>') < 0)
			return -1;
		if (sa_catb(out, msg->s + i, n) < 0)
			return -1;
		i += n;
	}
	return sa_catc(out, '\n');
}

void local_mbox(const char *path, const struct local_env *e, int in, struct local_result *r)
{
	sa_t msg = SA_INIT, out = SA_INIT, pre = SA_INIT;
	struct stat st;
	off_t size0;
	int fd = -1;

	if (strcmp(path, "/dev/null") == 0) {
		local_set(r, 'D', "2.0.0", "delivered to /dev/null", NULL);
		return;
	}
	if (sa_catf(&pre, "Return-Path: <%s>\nDelivered-To: %s\n", e->sender, e->rcpt) < 0 ||
	    local_read_msg(in, pre.s, e->max, &msg, r) < 0 || mbox_format(&msg, e->sender, &out) < 0) {
		if (!r->class || r->class == 'D')
			local_set(r, 'T', "4.3.0", "out of memory", NULL);
		goto done;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
	          0600);
	if (fd < 0) {
		local_set(r, 'T', "4.2.0", "cannot open the file", strerror(errno));
		goto done;
	}
	/* not a device, a FIFO, or a hard link to someone else's file */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		local_set(r, 'T', "4.2.0", "cannot deliver to the file",
		          "not a regular file with one link");
		goto done;
	}
	if (lock_file(fd) < 0) {
		local_set(r, 'T', "4.2.0", "cannot lock the file", strerror(errno));
		goto done;
	}
	size0 = lseek(fd, 0, SEEK_END);
	if (size0 < 0 || write(fd, out.s, out.len) != (ssize_t)out.len || fsync(fd) < 0) {
		int err = errno;
		if (size0 >= 0 && ftruncate(fd, size0) == 0)
			fsync(fd);
		local_set(r, 'T', err == ENOSPC || err == EDQUOT ? "4.2.2" : "4.2.0",
		          "cannot write the file", strerror(err));
		goto done;
	}
	local_set(r, 'D', "2.0.0", "delivered to file", NULL);
done:
	if (fd >= 0)
		close(fd);
	sa_free(&msg);
	sa_free(&out);
	sa_free(&pre);
}
