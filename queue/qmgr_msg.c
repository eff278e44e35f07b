/* qmgr_msg: the messages pochta-qmgr knows, rebuilt from the directories.
 * Everything here can be lost at any instant: mess/, incoming/ and state/ hold
 * the truth, and a restart rebuilds this table from them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dsnparam.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "qfile.h"
#include "qmgr.h"
#include "qstate.h"

#define NBUCKETS 16384

static struct msg *buckets[NBUCKETS];

typedef char qid_t[QID_LEN + 1];

const char *msg_path(const char *sub, const char *qid)
{
	static char buf[3][4400];
	static int n;
	char *p = buf[n++ % 3]; /* a few paths may be in use at once (rename) */

	snprintf(p, sizeof buf[0], "%s/%s/%s", paths.queue, sub, qid);
	return p;
}

static unsigned hash(const char *qid)
{
	unsigned h = 5381;

	for (; *qid; qid++)
		h = h * 33 + (unsigned char)*qid;
	return h % NBUCKETS;
}

struct msg *msg_find(const char *qid)
{
	for (struct msg *m = buckets[hash(qid)]; m; m = m->hnext)
		if (strcmp(m->qid, qid) == 0)
			return m;
	return NULL;
}

static void msg_unhash(struct msg *m)
{
	struct msg **pp = &buckets[hash(m->qid)];

	while (*pp && *pp != m)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = m->hnext;
	Q.nmsg--;
}

static void msg_free(struct msg *m)
{
	for (size_t i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i].addr);
		free(m->rcpt[i].text);
		free(m->rcpt[i].dsnp);
		if (m->rcpt[i].dest)
			dest_unref(m->rcpt[i].dest);
	}
	free(m->rcpt);
	free(m->sender);
	free(m->dsnp);
	free(m);
}

/* sorted names in QUEUE/sub that are queue IDs (the order is arrival order) */
static int qid_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static qid_t *dir_qids(const char *sub, size_t *n)
{
	char path[4400];
	qid_t *v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*n = 0;
	snprintf(path, sizeof path, "%s/%s", paths.queue, sub);
	d = opendir(path);
	if (!d) {
		log_warn(NULL, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		if (!qid_valid(de->d_name))
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 64, bytes;
			qid_t *nv;
			if (size_mul(ncap, sizeof *nv, &bytes) < 0 || !(nv = realloc(v, bytes)))
				log_fatal("out of memory reading %s", path);
			v = nv;
			cap = ncap;
		}
		memcpy(v[(*n)++], de->d_name, QID_LEN + 1);
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, qid_cmp);
	return v;
}

static void rcpt_text(struct rcpt *r, const char *status, const char *text, size_t len)
{
	char *t = malloc(len + 1);

	snprintf(r->dsn, sizeof r->dsn, "%s", status);
	if (!t)
		return; /* the text is for people: the state does not depend on it */
	memcpy(t, text, len);
	t[len] = '\0';
	free(r->text);
	r->text = t;
}

void msg_set_result(struct msg *m, size_t i, const char *status, const char *text)
{
	struct rcpt *r = &m->rcpt[i];

	rcpt_text(r, status, text, strlen(text));
	if (!m->ndirty)
		m->dirty_since = Q.now;
	if (!r->dirty)
		m->ndirty++;
	r->dirty = 1;
}

static int journal_apply(const struct qstate_rec *rec, void *arg)
{
	struct msg *m = arg;
	struct rcpt *r;

	if (rec->type == QSTATE_WARNED) {
		m->warned = 1;
		return 0;
	}
	if (rec->index >= m->nrcpt) {
		log_warn(m->qid, "journal names recipient %zu of %zu: ignored", rec->index, m->nrcpt);
		return 0;
	}
	r = &m->rcpt[rec->index];
	r->attempts = rec->attempts;
	r->when = rec->when;
	r->next = rec->next;
	r->notified = 0;
	rcpt_text(r, rec->status, rec->text, rec->textlen);
	switch (rec->type) {
	case QSTATE_SENT_TOLD:
		r->notified = 1;
		/* fall through */
	case QSTATE_SENT:
		r->status = R_SENT;
		break;
	case QSTATE_BOUNCED:
		r->notified = 1;
		/* fall through */
	case QSTATE_FAILED:
		r->status = R_FAILED;
		break;
	default:
		r->status = R_DEFERRED;
		break;
	}
	return 0;
}

int msg_load(const char *qid)
{
	struct qfile q;
	struct msg *m;
	struct stat st;
	sa_t err = SA_INIT;
	off_t good, size;
	const char *spath;
	int fd;

	if (msg_find(qid))
		return 0;
	fd = open(msg_path("mess", qid), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn(qid, "cannot open queue file: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || qfile_read(fd, &q, &err) < 0) {
		/* left in place for the operator (pochtactl queue show/delete) */
		log_warn(qid, "unusable queue file: %s", err.len ? err.s : strerror(errno));
		sa_free(&err);
		close(fd);
		return -1;
	}
	close(fd);
	sa_free(&err);
	if (strcmp(q.qid, qid) != 0) {
		log_warn(qid, "queue file names another ID (%s): skipped", q.qid);
		qfile_free(&q);
		return -1;
	}
	m = calloc(1, sizeof *m);
	if (!m || !(m->rcpt = calloc(q.nrcpt, sizeof *m->rcpt)))
		log_fatal("out of memory loading %s", qid);
	memcpy(m->qid, qid, sizeof m->qid);
	m->arrival = q.arrival;
	m->t0 = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
	m->msg_off = q.msg_off;
	m->nrcpt = q.nrcpt;
	/* take the strings over from the qfile */
	m->sender = q.sender.s ? q.sender.s : strdup("");
	q.sender.s = NULL;
	q.sender.len = q.sender.cap = 0;
	if (q.dsn.len) {
		m->dsnp = q.dsn.s;
		q.dsn.s = NULL;
		q.dsn.len = q.dsn.cap = 0;
	}
	if (!m->sender)
		log_fatal("out of memory");
	for (size_t i = 0; i < q.nrcpt; i++) {
		m->rcpt[i].addr = q.rcpt[i].s;
		q.rcpt[i].s = NULL;
		q.rcpt[i].len = q.rcpt[i].cap = 0;
		m->rcpt[i].status = R_PENDING;
		if (q.rcpt_dsn[i].len) {
			struct dsnp_rcpt dp;
			/* qfile_read checked it */
			if (dsnp_rcpt_parse(q.rcpt_dsn[i].s, q.rcpt_dsn[i].len, &dp) == 0)
				m->rcpt[i].notify = (unsigned char)dp.notify;
			m->rcpt[i].dsnp = q.rcpt_dsn[i].s;
			q.rcpt_dsn[i].s = NULL;
			q.rcpt_dsn[i].len = q.rcpt_dsn[i].cap = 0;
		}
		if (!localaddr_text_is_local(&Q.conf, m->rcpt[i].addr)) {
			const char *at = strrchr(m->rcpt[i].addr, '@');
			/* the enqueuer accepts only mailboxes and the bare postmaster */
			const char *dom = at ? at + 1 : "";
			m->rcpt[i].dest = dest_get(dom, strlen(dom));
			if (!m->rcpt[i].dest)
				log_fatal("out of memory loading %s", qid);
		}
	}
	/* the size of the message: the queue file's (qfile.h), as everywhere */
	log_info(qid, "from=<%s> size=%llu nrcpt=%zu (queue active)", m->sender, q.msg_size, q.nrcpt);
	snprintf(m->body, sizeof m->body, "%s", q.body.s ? q.body.s : ""); /* checked by qfile_read */
	m->smtputf8 = q.smtputf8;
	qfile_free(&q);

	spath = msg_path("state", qid);
	if (qstate_load(spath, journal_apply, m, &good, &size) < 0) {
		log_warn(qid, "cannot read %s: %s: recipients retried", spath, strerror(errno));
	} else if (size > 0) {
		m->journaled = 1;
		if (good < size) {
			/* a torn append from a crash: never relied on, cut it */
			log_warn(qid, "journal: cutting %lld damaged bytes", (long long)(size - good));
			if (qstate_truncate(spath, good) < 0)
				log_warn(qid, "cannot cut journal: %s", strerror(errno));
		}
	}
	m->hnext = buckets[hash(qid)];
	buckets[hash(qid)] = m;
	Q.nmsg++;
	deliver_adopt(m);
	for (size_t i = 0; i < m->nrcpt; i++) {
		struct rcpt *r = &m->rcpt[i];
		if (r->status == R_SENT || r->status == R_FAILED)
			m->nfinal++;
		else if (r->status == R_RUNNING)
			m->nactive++;
		else if (r->status == R_DEFERRED && r->next > Q.now)
			sched_defer(m, i);
		else
			sched_ready(m, i);
	}
	/* a crash after the last result, before the unlink, or before a bounce */
	if (m->nactive == 0)
		msg_settle(m);
	return 0;
}

void msg_take_incoming(void)
{
	size_t n;
	qid_t *v = dir_qids("incoming", &n);

	for (size_t i = 0; i < n; i++) {
		const char *from = msg_path("incoming", v[i]), *to = msg_path("mess", v[i]);
		/* no sync needed: a crash leaves it in one of the two, both are scanned */
		if (rename(from, to) < 0) {
			if (errno != ENOENT)
				log_warn(v[i], "cannot move to mess/: %s", strerror(errno));
			continue;
		}
		msg_load(v[i]);
	}
	free(v);
}

static void msg_drop(struct msg *m)
{
	struct stat st;

	/* held: what is known goes with it, for when it is released */
	if ((m->ndirty || m->warn_dirty) && stat(msg_path("hold", m->qid), &st) == 0)
		msg_journal(m);
	sched_forget(m);
	deliver_forget(m);
	msg_unhash(m);
	msg_free(m);
}

/* hold/ as last seen: what pochtactl queue hold, release and delete changed
 * shows as a difference to it after they wake us */
static qid_t *msg_held;
static size_t msg_nheld;

static int qid_in(const qid_t *v, size_t n, const char *qid)
{
	return v && n && bsearch(qid, v, n, sizeof *v, qid_cmp) != NULL;
}

/* one line per admin action (held by admin, released, deleted by admin and
 * removed) from hold/ before and after, what was dropped from mess/ (gone)
 * and what appeared in mess/ (came) */
static void msg_admin_lines(const qid_t *gone, size_t ngone, const qid_t *came, size_t ncame)
{
	size_t n;
	struct stat st;
	qid_t *now = dir_qids("hold", &n);

	if (!now && n == 0 && stat(msg_path("hold", ""), &st) < 0)
		return; /* unreadable: keep the old picture */
	for (size_t i = 0; i < n; i++)
		if (!qid_in(msg_held, msg_nheld, now[i]))
			log_info(now[i], "held by admin");
	for (size_t i = 0; i < msg_nheld; i++) {
		if (qid_in(now, n, msg_held[i]))
			continue;
		if (qid_in(came, ncame, msg_held[i]))
			log_info(msg_held[i], "released");
		else if (stat(msg_path("mess", msg_held[i]), &st) < 0 && errno == ENOENT) {
			log_info(msg_held[i], "deleted by admin");
			log_info(msg_held[i], "removed");
		}
	}
	for (size_t i = 0; i < ngone; i++)
		if (!qid_in(now, n, gone[i]) && stat(msg_path("mess", gone[i]), &st) < 0 && errno == ENOENT) {
			log_info(gone[i], "deleted by admin");
			log_info(gone[i], "removed");
		}
	free(msg_held);
	msg_held = now;
	msg_nheld = n;
}

void msg_rescan(void)
{
	size_t n, ngone = 0, ncame = 0;
	qid_t *v, *gone = NULL, *came = NULL;

	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct msg *m = buckets[b]; m; m = m->hnext)
			m->mark = 0;
	v = dir_qids("mess", &n);
	if (!v && n == 0) {
		/* unreadable mess/ says nothing about what was removed */
		char path[4400];
		struct stat st;
		snprintf(path, sizeof path, "%s/mess", paths.queue);
		if (stat(path, &st) < 0)
			return;
	}
	if (n && !(came = calloc(n, sizeof *came)))
		log_fatal("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct msg *m = msg_find(v[i]);
		if (!m && msg_load(v[i]) == 0) {
			m = msg_find(v[i]);
			memcpy(came[ncame++], v[i], sizeof *came);
		}
		if (m)
			m->mark = 1;
	}
	free(v);
	if (Q.nmsg && !(gone = calloc(Q.nmsg, sizeof *gone)))
		log_fatal("out of memory");
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct msg *m = buckets[b], *next;
		for (; m; m = next) {
			next = m->hnext;
			if (!m->mark) {
				memcpy(gone[ngone++], m->qid, sizeof *gone);
				msg_drop(m);
			}
		}
	}
	/* came is in dir_qids' order (sorted) already */
	msg_admin_lines(gone, ngone, came, ncame);
	free(gone);
	free(came);
	msg_take_incoming();
}

static void tmp_cleanup(void)
{
	char dir[4400], path[4700];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/tmp", paths.queue);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		/* a file being written is touched at least every smtp_timeout: 36 hours
		 * old means its writer is gone (the Maildir rule) */
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < Q.now - QMGR_TMP_MAX_AGE) {
			if (unlink(path) == 0)
				log_info(NULL, "removed stale tmp/%s", de->d_name);
		}
	}
	closedir(d);
}

static void orphan_cleanup(void)
{
	struct stat st;
	size_t n;
	qid_t *v = dir_qids("state", &n);

	for (size_t i = 0; i < n; i++) {
		if (msg_find(v[i]) || stat(msg_path("mess", v[i]), &st) == 0 ||
		    stat(msg_path("hold", v[i]), &st) == 0 || stat(msg_path("incoming", v[i]), &st) == 0)
			continue;
		if (unlink(msg_path("state", v[i])) == 0)
			log_info(v[i], "removed orphan state file");
	}
	free(v);
}

void msg_startup(void)
{
	size_t n;
	qid_t *v;

	tmp_cleanup();
	v = dir_qids("mess", &n);
	for (size_t i = 0; i < n; i++)
		msg_load(v[i]);
	free(v);
	msg_take_incoming();
	orphan_cleanup();
	msg_held = dir_qids("hold", &msg_nheld);
	log_info(NULL, "started: %zu message(s) in the queue", Q.nmsg);
}

void msg_remove(struct msg *m)
{
	if (unlink(msg_path("mess", m->qid)) < 0 && errno != ENOENT)
		log_warn(m->qid, "cannot remove queue file: %s", strerror(errno));
	/* a crash here leaves an orphan journal: removed at the next start */
	if (m->journaled && unlink(msg_path("state", m->qid)) < 0 && errno != ENOENT)
		log_warn(m->qid, "cannot remove state file: %s", strerror(errno));
	log_info(m->qid, "removed");
	sched_forget(m);
	deliver_forget(m);
	msg_unhash(m);
	msg_free(m);
}

static int journal_type(const struct rcpt *r)
{
	switch (r->status) {
	case R_SENT:
		return r->notified ? QSTATE_SENT_TOLD : QSTATE_SENT;
	case R_FAILED:
		return r->notified ? QSTATE_BOUNCED : QSTATE_FAILED;
	default:
		return QSTATE_DEFERRED;
	}
}

int msg_journal(struct msg *m)
{
	sa_t buf = SA_INIT;
	int rc = -1;

	if (!m->ndirty && !m->warn_dirty)
		return 0;
	for (size_t i = 0; i < m->nrcpt; i++) {
		struct rcpt *r = &m->rcpt[i];
		struct qstate_rec rec;
		if (!r->dirty)
			continue;
		memset(&rec, 0, sizeof rec);
		rec.type = journal_type(r);
		rec.index = i;
		rec.when = r->when;
		rec.attempts = r->attempts;
		rec.next = rec.type == QSTATE_DEFERRED ? r->next : 0;
		snprintf(rec.status, sizeof rec.status, "%s", r->dsn[0] ? r->dsn : "4.0.0");
		rec.text = r->text ? r->text : "";
		rec.textlen = strlen(rec.text);
		if (qstate_format(&buf, &rec) < 0) {
			/* a status code the journal refuses: record a generic one */
			snprintf(rec.status, sizeof rec.status, "%s", (rec.type == QSTATE_SENT || rec.type == QSTATE_SENT_TOLD) ? "2.0.0"
			         : rec.type == QSTATE_DEFERRED ? "4.0.0" : "5.0.0");
			if (qstate_format(&buf, &rec) < 0)
				goto out;
		}
	}
	if (m->warn_dirty) {
		struct qstate_rec rec;
		memset(&rec, 0, sizeof rec);
		rec.type = QSTATE_WARNED;
		rec.when = Q.now;
		snprintf(rec.status, sizeof rec.status, "4.0.0");
		rec.text = "delay notice queued";
		rec.textlen = strlen(rec.text);
		if (qstate_format(&buf, &rec) < 0)
			goto out;
	}
	if (qstate_append(msg_path("state", m->qid), buf.s, buf.len) < 0) {
		/* the results stay in memory; a crash now means a redelivery */
		log_warn(m->qid, "cannot write state journal: %s", strerror(errno));
		goto out;
	}
	m->journaled = 1;
	for (size_t i = 0; i < m->nrcpt; i++)
		m->rcpt[i].dirty = 0;
	m->ndirty = 0;
	m->warn_dirty = 0;
	rc = 0;
out:
	sa_free(&buf);
	return rc;
}

void msg_journal_detached(const char *qid, size_t idx, int class, const char *status,
                          const char *text)
{
	struct qstate_rec rec;
	struct stat st;
	sa_t buf = SA_INIT;

	/* deleted: nothing to keep; held: the journal goes with it (state/ is
	 * shared by mess/ and hold/) */
	if (stat(msg_path("hold", qid), &st) < 0)
		return;
	memset(&rec, 0, sizeof rec);
	rec.type = class == 'D' ? QSTATE_SENT : QSTATE_FAILED;
	rec.index = idx;
	rec.when = Q.now;
	rec.attempts = 1;
	snprintf(rec.status, sizeof rec.status, "%s", status);
	rec.text = text ? text : "";
	rec.textlen = strlen(rec.text);
	if (qstate_format(&buf, &rec) < 0 ||
	    qstate_append(msg_path("state", qid), buf.s, buf.len) < 0)
		log_warn(qid, "cannot journal the result of a held message: %s", strerror(errno));
	else
		log_info(qid, "held during delivery: result %c %s of recipient %zu journaled",
		         class, status, idx);
	sa_free(&buf);
}

void msg_settle(struct msg *m)
{
	size_t untold = 0;

	if (m->nactive > 0) {
		/* a long round: what is known must survive a crash now and then */
		if (m->ndirty >= QMGR_JOURNAL_BATCH || Q.now - m->dirty_since >= QMGR_JOURNAL_DELAY)
			msg_journal(m);
		return;
	}
	if (!m->notify_wait && (notify_failures(m) < 0 || notify_success(m) < 0)) {
		/* pochta-enqueue refused or failed: the failures stay journaled as F
		 * (to be told) and the notice is tried again later */
		m->notify_wait = 1;
		sched_notify_later(m, Q.now + Q.conf.retry_min);
	}
	for (size_t i = 0; i < m->nrcpt; i++)
		if ((m->rcpt[i].status == R_FAILED && !m->rcpt[i].notified) ||
		    notify_success_due(&m->rcpt[i]))
			untold++;
	if (m->nfinal < m->nrcpt)
		notify_delay(m); /* a failure is retried at the next round */
	if (m->nfinal == m->nrcpt && untold == 0) {
		/* every notice is queued durably by now: the original may go */
		msg_remove(m);
		return;
	}
	if (m->ndirty || m->warn_dirty)
		msg_journal(m);
}

void msg_journal_stale(void)
{
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct msg *m = buckets[b]; m; m = m->hnext)
			if (m->ndirty && m->nactive > 0 && Q.now - m->dirty_since >= QMGR_JOURNAL_DELAY)
				msg_journal(m);
}

void msg_journal_all(void)
{
	for (size_t b = 0; b < NBUCKETS; b++)
		for (struct msg *m = buckets[b]; m; m = m->hnext)
			if (m->ndirty || m->warn_dirty)
				msg_journal(m);
}

void msg_free_all(void)
{
	for (size_t b = 0; b < NBUCKETS; b++) {
		struct msg *m = buckets[b], *next;
		for (; m; m = next) {
			next = m->hnext;
			msg_free(m);
		}
		buckets[b] = NULL;
	}
	Q.nmsg = 0;
}
