/* qstate: the per-recipient state journal (qstate.h, man/pochta-queue.5). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dsn.h"
#include "durable.h"
#include "io.h"
#include "qstate.h"
#include "rec.h"

static int qstate_type_ok(int type)
{
	return type == QSTATE_SENT || type == QSTATE_FAILED || type == QSTATE_DEFERRED ||
	       type == QSTATE_BOUNCED || type == QSTATE_WARNED || type == QSTATE_SENT_TOLD;
}

/* an RFC 3463 status of class 2, 4 or 5, filling s[0..len) */
static int qstate_status_ok(const char *s, size_t len)
{
	if (len == 0 || len >= sizeof ((struct qstate_rec *)0)->status)
		return 0;
	return dsn_status_len(s, len) == len && (s[0] == '2' || s[0] == '4' || s[0] == '5');
}

int qstate_format(sa_t *out, const struct qstate_rec *r)
{
	sa_t d = SA_INIT;
	size_t tl = r->textlen > QSTATE_TEXT_MAX ? QSTATE_TEXT_MAX : r->textlen;
	int rc = -1;

	if (!qstate_type_ok(r->type) || !qstate_status_ok(r->status, strlen(r->status)) ||
	    r->when < 0 || r->next < 0 || (r->type != QSTATE_DEFERRED && r->next != 0)) {
		errno = EINVAL;
		return -1;
	}
	if (sa_catu(&d, r->index) < 0 || sa_catc(&d, ' ') < 0 ||
	    sa_catu(&d, (unsigned long long)r->when) < 0 || sa_catc(&d, ' ') < 0 ||
	    sa_catu(&d, r->attempts) < 0 || sa_catc(&d, ' ') < 0 ||
	    sa_catu(&d, (unsigned long long)r->next) < 0 || sa_catc(&d, ' ') < 0 ||
	    sa_cats(&d, r->status) < 0 || sa_catc(&d, ' ') < 0 || sa_ready(&d, tl) < 0)
		goto out;
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)r->text[i];
		d.s[d.len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	d.s[d.len] = '\0';
	rc = rec_cat(out, r->type, d.s, d.len);
out:
	sa_free(&d);
	return rc;
}

/* one decimal field ending in a space at *p; advances *p past the space */
static int qstate_num(const char *s, size_t len, size_t *p, unsigned long long max,
                      unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i = *p, start = *p;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		unsigned dig = (unsigned)(s[i] - '0');
		if (v > (max - dig) / 10)
			return -1;
		v = v * 10 + dig;
		i++;
	}
	if (i == start || i - start > 20 || i >= len || s[i] != ' ')
		return -1;
	*out = v;
	*p = i + 1;
	return 0;
}

int qstate_parse(int type, const char *data, size_t len, struct qstate_rec *r)
{
	unsigned long long idx, when, att, next;
	size_t p = 0, st;

	memset(r, 0, sizeof *r);
	if (!qstate_type_ok(type))
		goto bad;
	if (qstate_num(data, len, &p, (size_t)-1, &idx) < 0 ||
	    qstate_num(data, len, &p, 0x7fffffffffffffffULL, &when) < 0 ||
	    qstate_num(data, len, &p, 0xffffffffULL, &att) < 0 ||
	    qstate_num(data, len, &p, 0x7fffffffffffffffULL, &next) < 0)
		goto bad;
	st = p;
	while (p < len && data[p] != ' ')
		p++;
	if (p >= len || !qstate_status_ok(data + st, p - st))
		goto bad;
	memcpy(r->status, data + st, p - st);
	r->status[p - st] = '\0';
	p++;
	if (len - p > QSTATE_TEXT_MAX)
		goto bad;
	for (size_t i = p; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c < 0x20 || c == 0x7f)
			goto bad;
	}
	if (type != QSTATE_DEFERRED && next != 0)
		goto bad;
	r->type = type;
	r->index = (size_t)idx;
	r->when = (long long)when;
	r->attempts = (unsigned)att;
	r->next = (long long)next;
	r->text = data + p;
	r->textlen = len - p;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

int qstate_load(const char *path, int (*fn)(const struct qstate_rec *r, void *arg),
                void *arg, off_t *good, off_t *size)
{
	char buf[8192];
	io_t in;
	sa_t data = SA_INIT;
	struct qstate_rec rec;
	struct stat sb;
	int fd, type, r, rc = -1, e = 0;

	*good = 0;
	*size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &sb) < 0)
		goto out;
	*size = sb.st_size;
	io_init(&in, fd, buf, sizeof buf, -1);
	for (;;) {
		r = rec_get(&in, &type, &data, QSTATE_REC_MAX);
		if (r == IO_EOF)
			break;
		if (r != IO_OK) {
			if (errno == EPROTO || errno == E2BIG)
				break; /* torn or damaged tail: the prefix stands */
			e = errno;
			goto out;
		}
		if (qstate_parse(type, data.s, data.len, &rec) < 0)
			break;
		if (fn(&rec, arg) < 0) {
			e = errno;
			goto out;
		}
		*good = (off_t)in.pos;
	}
	rc = 0;
out:
	if (rc < 0 && !e)
		e = errno;
	sa_free(&data);
	close(fd);
	if (rc < 0)
		errno = e;
	return rc;
}

int qstate_truncate(const char *path, off_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int e;

	if (fd < 0)
		return -1;
	if (ftruncate(fd, len) < 0 || fdatasync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* the directory part of path, for the fsync a new file needs */
static int qstate_dir_sync(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return durable_fsync_dir(".");
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return durable_fsync_dir(dir);
}

int qstate_append(const char *path, const void *buf, size_t len)
{
	struct stat sb;
	int fd, created = 0, e;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		created = 1;
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0)
		goto fail;
	if (fd_write_all(fd, buf, len) < 0) {
		e = errno;
		/* never leave a torn record that a later append would glue onto */
		if (ftruncate(fd, sb.st_size) == 0)
			fdatasync(fd);
		errno = e;
		goto fail;
	}
	if (fdatasync(fd) < 0)
		goto fail;
	if (close(fd) < 0)
		return -1;
	/* a new file's name must be durable too, or the records could vanish */
	if (created && qstate_dir_sync(path) < 0)
		return -1;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
