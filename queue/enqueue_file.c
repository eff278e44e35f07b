/* enqueue_file: write one queue file in QUEUE/tmp/ and commit it to incoming/.
 * The commit point (man/pochta-queue.5): the data is fsync'd, the file renamed
 * to incoming/QID, and incoming/ fsync'd; only then is K sent. The fsync of
 * incoming/ is shared by concurrent sessions through QUEUE/commit
 * (common/gcommit.c); the data's fsync is each file's own. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "durable.h"
#include "enqueue.h"
#include "log.h"
#include "qid.h"

static unsigned long enqfile_seq;

static void enqfile_reset(struct enqfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	sa_trunc(&f->tmppath, 0);
	f->env_written = 0;
}

int enqfile_create(struct enqfile *f, const char *queuedir, struct qfile *q)
{
	struct timeval tv;
	struct stat st;
	int tries;

	enqfile_abort(f);
	if (!f->buf) {
		f->buf = malloc(ENQ_FILEBUF);
		if (!f->buf)
			return -1;
	}
	/* a name left by a crashed process with our PID is skipped, never reused */
	for (tries = 0; tries < 100; tries++) {
		sa_trunc(&f->tmppath, 0);
		if (sa_catf(&f->tmppath, "%s/tmp/%ld.%lu", queuedir, (long)getpid(), enqfile_seq++) < 0)
			return -1;
		f->fd = open(f->tmppath.s, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0)
		return -1;
	/* readable by the queue group, whatever our umask: pochta-qmgr runs as
	 * qmgr_user, a member of it, and we may run as smtpd_user (the setgid
	 * queue directories give the file that group; man/pochta-queue.5) */
	if (fchmod(f->fd, 0640) < 0 || fstat(f->fd, &st) < 0 || gettimeofday(&tv, NULL) < 0) {
		enqfile_abort(f);
		return -1;
	}
	qid_make(q->qid, &tv, (unsigned long long)st.st_ino);
	q->arrival = tv.tv_sec;
	io_init(&f->out, f->fd, f->buf, ENQ_FILEBUF, -1);
	return 0;
}

/* the envelope records, once */
static int enqfile_env(struct enqfile *f, const struct qfile *q)
{
	if (f->env_written)
		return 0;
	if (qfile_write_env(&f->out, q) < 0)
		return -1;
	f->env_written = 1;
	return 0;
}

int enqfile_data(struct enqfile *f, const struct qfile *q, const void *p, size_t n)
{
	if (enqfile_env(f, q) < 0)
		return -1;
	return io_put(&f->out, p, n);
}

/* the shared commit file, once per session; unusable: every sync our own */
static void enqfile_gc_open(struct enqfile *f, const char *queuedir)
{
	sa_t p = SA_INIT;

	f->gc_tried = 1;
	if (sa_catf(&p, "%s/commit", queuedir) < 0 || gcommit_open(&f->gc, p.s) < 0)
		log_warn(NULL, "%s: %s: incoming/ is synced by each session alone (pochtactl setup, or a"
		         " restart of pochta-qmgr, rewrites it)", p.s ? p.s : "commit",
		         errno == EINVAL ? "not a valid commit file" : strerror(errno));
	sa_free(&p);
}

int enqfile_commit(struct enqfile *f, const struct qfile *q, const char *queuedir)
{
	sa_t dst = SA_INIT;
	int e;

	if (!f->gc_tried)
		enqfile_gc_open(f, queuedir);
	if (enqfile_env(f, q) < 0 || io_flush(&f->out) < 0)
		goto fail;
	if (sa_catf(&dst, "%s/incoming/%s", queuedir, q->qid) < 0)
		goto fail;
	if (durable_commit_via(f->fd, f->tmppath.s, dst.s, gcommit_dirsync, &f->gc) < 0) {
		e = errno;
		/* the rename may have happened with the directory sync failing: the
		 * client is told 4xx, so the copy must not be delivered either */
		unlink(dst.s);
		errno = e;
		goto fail;
	}
	sa_free(&dst);
	close(f->fd);
	f->fd = -1;
	sa_trunc(&f->tmppath, 0);
	return 0;
fail:
	e = errno;
	sa_free(&dst);
	enqfile_abort(f);
	errno = e;
	return -1;
}

void enqfile_abort(struct enqfile *f)
{
	if (f->fd >= 0 && f->tmppath.len)
		unlink(f->tmppath.s);
	enqfile_reset(f);
}

void enqfile_free(struct enqfile *f)
{
	enqfile_abort(f);
	free(f->buf);
	f->buf = NULL;
	sa_free(&f->tmppath);
	gcommit_close(&f->gc);
}
