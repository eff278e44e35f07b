/* lreq: local delivery requests and their packets (lreq.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lreq.h"
#include "qfile.h"
#include "rec.h"

int lreq_field_ok(const char *s, size_t len, size_t max)
{
	if (len > max)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int lreq_field_take(const struct lreq_field *f, size_t n, unsigned *got, int type,
                    const char *d, size_t dlen)
{
	for (size_t i = 0; i < n; i++) {
		if (f[i].type != type)
			continue;
		if ((*got & 1u << i) || !lreq_field_ok(d, dlen, f[i].max))
			return -1;
		memcpy(f[i].dst, d, dlen);
		f[i].dst[dlen] = '\0';
		*got |= 1u << i;
		return 0;
	}
	return -1;
}

int lreq_build(sa_t *out, const char *qid, const char *sender, const char *body,
               const char *rcpt)
{
	size_t old = out->len, ql = strlen(qid), sl = strlen(sender), rl = strlen(rcpt);
	size_t bl = strlen(body);

	if ((ql && (ql != QID_LEN || !qid_valid(qid))) || !lreq_field_ok(sender, sl, LREQ_ADDR_MAX) ||
	    !lreq_field_ok(rcpt, rl, LREQ_ADDR_MAX) || rl == 0 || !qfile_body_ok(body, bl)) {
		errno = EINVAL;
		return -1;
	}
	if (rec_cat(out, 'q', qid, ql) < 0 || rec_cat(out, 'f', sender, sl) < 0 ||
	    rec_cat(out, 'a', rcpt, rl) < 0 || (bl && rec_cat(out, 'b', body, bl) < 0)) {
		sa_trunc(out, old);
		return -1;
	}
	return 0;
}

int lreq_parse(const char *buf, size_t len, struct lreq *r)
{
	const struct lreq_field f[] = {
		{ 'q', r->qid, QID_LEN },
		{ 'f', r->sender, LREQ_ADDR_MAX },
		{ 'a', r->rcpt, LREQ_ADDR_MAX },
		{ 'b', r->body, sizeof r->body - 1 },
	};
	size_t pos = 0, dlen;
	const char *d;
	unsigned got = 0;
	int type, k;

	memset(r, 0, sizeof *r);
	if (len > LREQ_MAX)
		goto bad;
	while ((k = rec_next(buf, len, &pos, &type, &d, &dlen)) == 1)
		if (lreq_field_take(f, 4, &got, type, d, dlen) < 0)
			goto bad;
	/* b is optional (bit 8); a body type given is one the queue knows */
	if (k < 0 || (got & 7) != 7 || !qfile_body_ok(r->body, strlen(r->body)) || !r->rcpt[0] || (r->qid[0] && (strlen(r->qid) != QID_LEN ||
	    !qid_valid(r->qid))))
		goto bad;
	return 0;
bad:
	memset(r, 0, sizeof *r);
	errno = EPROTO;
	return -1;
}

int lreq_send(int sock, const void *buf, size_t len, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh;
	ssize_t n;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof u.b;
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != len) { /* a packet socket sends all or nothing */
		errno = EPROTO;
		return -1;
	}
	return 0;
}

ssize_t lreq_recv(int sock, void *buf, size_t max, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, max };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;
	int nfd = 0, bad = 0;

	*fd = -1;
	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof u.b;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i * sizeof(int) + CMSG_LEN(0) < c->cmsg_len; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (nfd++ == 0)
				*fd = f;
			else
				close(f);
		}
	}
	if (nfd > 1 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		bad = 1;
	if (bad) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

int lreq_next_fd(int sock, char *buf, size_t max, size_t *len)
{
	for (;;) {
		int fd;
		ssize_t n = lreq_recv(sock, buf, max, &fd);

		if (n == 0)
			errno = 0;
		if (n == 0 || (n < 0 && errno != EMSGSIZE))
			return -1;
		if (n > 0 && fd >= 0) {
			buf[n] = '\0';
			*len = (size_t)n;
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
}
