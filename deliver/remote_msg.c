/* remote_msg: the message to send. It is read again for every host tried, so
 * it must be seekable: a regular file is used in place (from its current
 * offset), anything else is first copied into an unlinked temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "remote.h"

#define MSG_CHUNK 65536
#define MSG_SPOOL_MAX (4ULL << 30)   /* bytes copied from a pipe, at most */

static int spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char tmpl[4200];
	int fd;

	if (!dir || !*dir || strlen(dir) > 4000)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* a file system without O_TMPFILE: a named file, unlinked at once */
	memcpy(tmpl, dir, strlen(dir));
	memcpy(tmpl + strlen(dir), "/pochta-remote.XXXXXX", sizeof "/pochta-remote.XXXXXX");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

/* copy all of in (a pipe) to a new temporary file; the file fd or -1 */
static int spool(int in, sa_t *err)
{
	char *buf = malloc(MSG_CHUNK);
	unsigned long long total = 0;
	int fd;

	if (!buf) {
		sa_cats(err, "out of memory");
		return -1;
	}
	fd = spool_open();
	if (fd < 0) {
		sa_catf(err, "temporary file: %s", strerror(errno));
		free(buf);
		return -1;
	}
	for (;;) {
		ssize_t r = read(in, buf, MSG_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sa_catf(err, "reading the message: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		total += (unsigned long long)r;
		if (total > MSG_SPOOL_MAX) {
			sa_cats(err, "message too large to spool");
			goto fail;
		}
		if (fd_write_all(fd, buf, (size_t)r) < 0) {
			sa_catf(err, "temporary file: %s", strerror(errno));
			goto fail;
		}
	}
	free(buf);
	return fd;
fail:
	free(buf);
	close(fd);
	return -1;
}

int msg_open(struct msg *m, int fd, const char *body, sa_t *err)
{
	struct stat st;
	unsigned long long lfs = 0, done = 0;
	char *buf, last = '\n';
	off_t cur;

	memset(m, 0, sizeof *m);
	m->body = body;
	m->binary = strcmp(body, "BINARYMIME") == 0;
	if (fstat(fd, &st) < 0) {
		sa_catf(err, "message: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fd = spool(fd, err);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) < 0) {
			sa_catf(err, "message: %s", strerror(errno));
			close(fd);
			return -1;
		}
		cur = 0;
	} else {
		cur = lseek(fd, 0, SEEK_CUR);
		if (cur < 0 || cur > st.st_size) {
			sa_catf(err, "message: bad offset: %s", strerror(errno));
			return -1;
		}
	}
	m->fd = fd;
	m->start = cur;
	m->size = (unsigned long long)(st.st_size - cur);
	/* one pass to know the SIZE= value (LF becomes CRLF) and whether 8-bit */
	buf = malloc(MSG_CHUNK);
	if (!buf) {
		sa_cats(err, "out of memory");
		return -1;
	}
	while (done < m->size) {
		size_t want = m->size - done > MSG_CHUNK ? MSG_CHUNK : (size_t)(m->size - done);
		ssize_t r = pread(fd, buf, want, m->start + (off_t)done);
		size_t i;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			sa_catf(err, "reading the message: %s", r < 0 ? strerror(errno) : "file shrank");
			free(buf);
			return -1;
		}
		for (i = 0; i < (size_t)r; i++) {
			if (buf[i] == '\n')
				lfs++;
			else if ((unsigned char)buf[i] >= 0x80)
				m->eightbit = 1;
		}
		last = buf[r - 1];
		done += (unsigned long long)r;
	}
	free(buf);
	m->wire = m->binary ? m->size : m->size + lfs + (last != '\n' ? 2 : 0);
	return 0;
}

/* the stored message on out: raw, or LF made CRLF (stuff: and a leading dot
 * doubled) with a CRLF after a last line without LF; 0 or -1 */
static int msg_copy(const struct msg *m, io_t *out, int raw, int stuff)
{
	char *buf = malloc(MSG_CHUNK);
	unsigned long long done = 0;
	int bol = 1;

	if (!buf)
		return -1;
	while (done < m->size) {
		size_t want = m->size - done > MSG_CHUNK ? MSG_CHUNK : (size_t)(m->size - done);
		ssize_t r = pread(m->fd, buf, want, m->start + (off_t)done);
		size_t pos = 0, n;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the file shrank under us */
			goto fail;
		}
		n = (size_t)r;
		done += n;
		if (raw) {
			if (io_put(out, buf, n) < 0)
				goto fail;
			continue;
		}
		while (pos < n) {
			char *lf;
			size_t seg;
			/* RFC 5321 §4.5.2: a line starting with "." gets one more */
			if (stuff && bol && buf[pos] == '.' && io_put(out, ".", 1) < 0)
				goto fail;
			lf = memchr(buf + pos, '\n', n - pos);
			seg = lf ? (size_t)(lf - (buf + pos)) : n - pos;
			if (io_put(out, buf + pos, seg) < 0)
				goto fail;
			pos += seg;
			if (lf) {
				if (io_put(out, "\r\n", 2) < 0)
					goto fail;
				pos++;
				bol = 1;
			} else {
				bol = 0;
			}
		}
	}
	free(buf);
	/* a last line without LF still ends before the final dot */
	if (!raw && !bol && io_put(out, "\r\n", 2) < 0)
		return -1;
	return 0;
fail:
	free(buf);
	return -1;
}

int msg_send(const struct msg *m, io_t *out)
{
	if (msg_copy(m, out, 0, 1) < 0)
		return -1;
	return io_put(out, ".\r\n", 3);
}

int msg_send_bdat(const struct msg *m, io_t *out)
{
	if (io_printf(out, "BDAT %llu LAST\r\n", m->wire) < 0)
		return -1;
	return msg_copy(m, out, m->binary, 0);
}
