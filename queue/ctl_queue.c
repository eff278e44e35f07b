/* pochtactl queue list|stats|show|delete|hold|release|flush.
 * Reads queue files (qfile.h) and state journals (qstate.h) without locking:
 * pochta-qmgr may move or remove an entry at any time, so a file that vanished
 * between readdir() and open() is simply skipped. Changes are renames and
 * unlinks followed by a RESCAN trigger; IDs are checked with qid_valid before
 * any path is built from them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ctl.h"
#include "durable.h"
#include "hdr.h"
#include "paths.h"
#include "qdir.h"
#include "qfile.h"
#include "qid.h"
#include "qstate.h"

#define HEADER_MAX (64 * 1024)

enum qwhere { Q_INCOMING, Q_MESS, Q_HOLD };
static const char *const qdirs[] = { "incoming", "mess", "hold" };

/* the latest state of one recipient */
struct rstate {
	int type;              /* 0 (never tried), QSTATE_SENT, _FAILED, _DEFERRED */
	unsigned attempts;
	long long when, next;
	char status[16];
	char text[QSTATE_TEXT_MAX + 1];
};

struct entry {
	char qid[QID_LEN + 1];
	enum qwhere where;
	long long fsize;
	int ok;                /* envelope read */
	char err[200];
	struct qfile q;
	struct rstate *rs;     /* q.nrcpt of them, or NULL */
	int deferred;          /* some recipient's latest state is deferred */
	long long warned;      /* when a delay notice was queued (0: never) */
};

static void qpath(sa_t *p, const char *sub, const char *qid)
{
	sa_trunc(p, 0);
	if (sa_catf(p, "%s/%s/%s", paths.queue, sub, qid) < 0)
		ctl_die_sys("out of memory");
}

static int state_rec(const struct qstate_rec *r, void *arg)
{
	struct entry *e = arg;
	if (r->type == QSTATE_WARNED) {
		e->warned = r->when; /* a message-level record: no recipient */
		return 0;
	}
	if (r->index >= e->q.nrcpt)
		return 0; /* not a recipient of this file: ignored, as qmgr does */
	struct rstate *s = &e->rs[r->index];
	s->type = r->type;
	s->attempts = r->attempts;
	s->when = r->when;
	s->next = r->next;
	snprintf(s->status, sizeof s->status, "%s", r->status);
	size_t n = r->textlen < QSTATE_TEXT_MAX ? r->textlen : QSTATE_TEXT_MAX;
	memcpy(s->text, r->text, n);
	s->text[n] = '\0';
	return 0;
}

/* read one entry; 0, or -1 when the file is gone (moved or removed meanwhile) */
static int entry_load(struct entry *e, const char *qid, enum qwhere w)
{
	sa_t p = SA_INIT, err = SA_INIT;
	memset(e, 0, sizeof *e);
	snprintf(e->qid, sizeof e->qid, "%s", qid);
	e->where = w;
	qpath(&p, qdirs[w], qid);
	int fd = open(p.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int gone = errno == ENOENT;
		snprintf(e->err, sizeof e->err, "%s", strerror(errno));
		sa_free(&p);
		return gone ? -1 : 0;
	}
	struct stat st;
	if (fstat(fd, &st) == 0)
		e->fsize = st.st_size;
	if (qfile_read(fd, &e->q, &err) < 0) {
		snprintf(e->err, sizeof e->err, "%s", err.len ? err.s : strerror(errno));
		close(fd);
		sa_free(&p);
		sa_free(&err);
		return 0;
	}
	close(fd);
	e->ok = 1;
	e->rs = calloc(e->q.nrcpt ? e->q.nrcpt : 1, sizeof *e->rs);
	if (!e->rs)
		ctl_die_sys("out of memory");
	qpath(&p, "state", qid);
	off_t good, size;
	if (qstate_load(p.s, state_rec, e, &good, &size) < 0)
		snprintf(e->err, sizeof e->err, "state journal: %s", strerror(errno));
	for (size_t i = 0; i < e->q.nrcpt; i++)
		if (e->rs[i].type == QSTATE_DEFERRED)
			e->deferred = 1;
	sa_free(&p);
	sa_free(&err);
	return 0;
}

static void entry_free(struct entry *e)
{
	if (e->ok)
		qfile_free(&e->q);
	free(e->rs);
	e->rs = NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the valid queue IDs in one subdirectory, sorted (so by arrival) */
static char **dir_ids(const char *sub, size_t *n)
{
	sa_t p = SA_INIT;
	if (sa_catf(&p, "%s/%s", paths.queue, sub) < 0)
		ctl_die_sys("out of memory");
	DIR *d = opendir(p.s);
	if (!d)
		ctl_die_sys("cannot read %s", p.s);
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!qid_valid(de->d_name))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64, bytes;
			if (size_mul(nc, sizeof *v, &bytes) < 0)
				ctl_die_sys("too many queue files");
			char **nv = realloc(v, bytes);
			if (!nv)
				ctl_die_sys("out of memory");
			v = nv;
			cap = nc;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt])
			ctl_die_sys("out of memory");
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof *v, cmp_names);
	sa_free(&p);
	*n = cnt;
	return v;
}

/* calls fn for every entry of the queue: incoming, mess, hold */
static void queue_each(void (*fn)(struct entry *e, void *arg), void *arg)
{
	for (int w = Q_INCOMING; w <= Q_HOLD; w++) {
		size_t n;
		char **ids = dir_ids(qdirs[w], &n);
		for (size_t i = 0; i < n; i++) {
			struct entry e;
			if (entry_load(&e, ids[i], (enum qwhere)w) == 0)
				fn(&e, arg);
			entry_free(&e);
			free(ids[i]);
		}
		free(ids);
	}
}

static void fmt_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", t);
}

static const char *state_name(int type)
{
	switch (type) {
	case QSTATE_SENT: return "delivered";
	case QSTATE_FAILED: return "failed";
	case QSTATE_BOUNCED: return "bounced";
	case QSTATE_DEFERRED: return "deferred";
	default: return "pending";
	}
}

/* text from queue files may be anything the network sent within the rules of
 * the envelope: never let it reach a terminal raw */
static void put_safe(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		putc(c == '\t' || (c >= 0x20 && c != 0x7f && c < 0x80) ? c : '?', f);
	}
}

static void print_rstate(const struct rstate *s)
{
	char t[64];
	if (!s->type)
		return;
	printf(" (%s", state_name(s->type));
	if (s->status[0])
		printf(" %s", s->status);
	if (s->type == QSTATE_DEFERRED) {
		printf(", %u attempt%s", s->attempts, s->attempts == 1 ? "" : "s");
		if (s->next) {
			fmt_time(s->next, t, sizeof t);
			printf(", next %s", t);
		}
	}
	if (s->text[0]) {
		fputs(": ", stdout);
		put_safe(stdout, s->text, strlen(s->text));
	}
	putchar(')');
}

struct list_ctx {
	int json;
	size_t count;
	unsigned long long bytes;
};

static void list_human(struct entry *e, struct list_ctx *ctx)
{
	char t[64];
	char mark = e->where == Q_HOLD ? '!' : e->where == Q_INCOMING ? '+' : ' ';
	if (ctx->count == 0)
		printf("%-*s %10s  %-19s  %s\n", QID_LEN + 1, "QUEUE ID", "SIZE", "ARRIVAL", "SENDER/RECIPIENTS");
	ctx->count++;
	if (!e->ok) {
		printf("%s%c (unreadable: %s)\n", e->qid, mark, e->err);
		return;
	}
	ctx->bytes += e->q.msg_size;
	fmt_time(e->q.arrival, t, sizeof t);
	printf("%s%c %10llu  %-19s  <", e->qid, mark, e->q.msg_size, t);
	put_safe(stdout, e->q.sender.s ? e->q.sender.s : "", e->q.sender.len);
	printf(">\n");
	for (size_t i = 0; i < e->q.nrcpt; i++) {
		printf("%*s", QID_LEN + 1 + 1 + 10 + 2 + 19 + 2, "");
		put_safe(stdout, e->q.rcpt[i].s, e->q.rcpt[i].len);
		print_rstate(&e->rs[i]);
		putchar('\n');
	}
}

static void list_json(struct entry *e)
{
	printf("{\"id\":\"%s\",\"queue\":\"%s\",\"held\":%s", e->qid, qdirs[e->where],
	       e->where == Q_HOLD ? "true" : "false");
	if (!e->ok) {
		fputs(",\"error\":", stdout);
		ctl_json_str(stdout, e->err, strlen(e->err));
		fputs("}\n", stdout);
		return;
	}
	printf(",\"size\":%llu,\"arrival\":%lld,\"sender\":", e->q.msg_size, e->q.arrival);
	ctl_json_str(stdout, e->q.sender.s ? e->q.sender.s : "", e->q.sender.len);
	printf(",\"deferred\":%s,\"delay_notice\":%lld,\"recipients\":[", e->deferred ? "true" : "false",
	       e->warned);
	for (size_t i = 0; i < e->q.nrcpt; i++) {
		if (i)
			putchar(',');
		ctl_json_str(stdout, e->q.rcpt[i].s, e->q.rcpt[i].len);
	}
	fputs("],\"rcpt_state\":[", stdout);
	for (size_t i = 0; i < e->q.nrcpt; i++) {
		const struct rstate *s = &e->rs[i];
		if (i)
			putchar(',');
		fputs("{\"recipient\":", stdout);
		ctl_json_str(stdout, e->q.rcpt[i].s, e->q.rcpt[i].len);
		printf(",\"state\":\"%s\"", state_name(s->type));
		if (s->type) {
			fputs(",\"status\":", stdout);
			ctl_json_str(stdout, s->status, strlen(s->status));
			printf(",\"attempts\":%u,\"last\":%lld,\"next\":%lld,\"text\":", s->attempts, s->when, s->next);
			ctl_json_str(stdout, s->text, strlen(s->text));
		}
		putchar('}');
	}
	fputs("]}\n", stdout);
}

static void list_one(struct entry *e, void *arg)
{
	struct list_ctx *ctx = arg;
	if (ctx->json)
		list_json(e);
	else
		list_human(e, ctx);
}

static int cmd_list(int json)
{
	struct list_ctx ctx = { json, 0, 0 };
	queue_each(list_one, &ctx);
	if (!json) {
		if (ctx.count == 0)
			printf("queue is empty\n");
		else
			printf("-- %llu bytes in %zu message%s\n", ctx.bytes, ctx.count, ctx.count == 1 ? "" : "s");
	}
	return 0;
}

struct stats {
	unsigned long long incoming, active, held, deferred, bytes, bad;
};

static void stats_one(struct entry *e, void *arg)
{
	struct stats *s = arg;
	if (e->where == Q_INCOMING)
		s->incoming++;
	else if (e->where == Q_MESS)
		s->active++;
	else
		s->held++;
	if (e->deferred && e->where == Q_MESS)
		s->deferred++;
	if (!e->ok)
		s->bad++;
	s->bytes += (unsigned long long)e->fsize;
}

static int cmd_stats(int json)
{
	struct stats s = { 0, 0, 0, 0, 0, 0 };
	queue_each(stats_one, &s);
	unsigned long long total = s.incoming + s.active + s.held;
	if (json)
		printf("{\"incoming\":%llu,\"active\":%llu,\"deferred\":%llu,\"held\":%llu,"
		       "\"messages\":%llu,\"bytes\":%llu,\"unreadable\":%llu}\n",
		       s.incoming, s.active, s.deferred, s.held, total, s.bytes, s.bad);
	else
		printf("incoming: %llu\nactive: %llu\ndeferred: %llu\nheld: %llu\n"
		       "messages: %llu\nbytes: %llu\nunreadable: %llu\n",
		       s.incoming, s.active, s.deferred, s.held, total, s.bytes, s.bad);
	return 0;
}

static void id_or_die(const char *id)
{
	if (!qid_valid(id))
		ctl_die("bad queue ID \"%s\"", id);
}

/* where the entry is now; -1 when nowhere */
static int find_entry(const char *id)
{
	sa_t p = SA_INIT;
	int found = -1;
	for (int w = Q_INCOMING; w <= Q_HOLD && found < 0; w++) {
		qpath(&p, qdirs[w], id);
		if (access(p.s, F_OK) == 0)
			found = w;
	}
	sa_free(&p);
	return found;
}

static void show_headers(const struct entry *e)
{
	sa_t p = SA_INIT;
	qpath(&p, qdirs[e->where], e->qid);
	int fd = open(p.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	sa_free(&p);
	if (fd < 0) {
		printf("(message gone: %s)\n", strerror(errno));
		return;
	}
	char *buf = malloc(HEADER_MAX);
	if (!buf)
		ctl_die_sys("out of memory");
	ssize_t n = pread(fd, buf, HEADER_MAX, (off_t)e->q.msg_off);
	close(fd);
	if (n < 0)
		ctl_die_sys("read %s", e->qid);
	/* the header ends at the first empty line */
	struct hdr hs;
	hdr_init(&hs, NULL, 0, NULL, NULL);
	hdr_feed(&hs, buf, (size_t)n);
	size_t end = hs.done ? (size_t)hs.hlen : (size_t)n, pos = 0;
	while (pos < end) {
		char *nl = memchr(buf + pos, '\n', end - pos);
		size_t ll = nl ? (size_t)(nl - buf - pos) : end - pos;
		put_safe(stdout, buf + pos, ll);
		putchar('\n');
		pos += ll + 1;
	}
	if (end == (size_t)n && (size_t)n == HEADER_MAX)
		printf("(header longer than %d bytes: cut)\n", HEADER_MAX);
	free(buf);
}

static int cmd_show(const char *id)
{
	id_or_die(id);
	struct entry e;
	int w, tries = 0;
	/* an entry can move (incoming -> mess) between the lookup and the open */
	do {
		w = find_entry(id);
		if (w < 0)
			ctl_die("no such message %s", id);
	} while (entry_load(&e, id, (enum qwhere)w) < 0 && ++tries < 3);
	if (tries == 3)
		ctl_die("no such message %s", id);
	if (!e.ok)
		ctl_die("%s/%s: unreadable queue file: %s", qdirs[w], id, e.err);
	char t[64];
	fmt_time(e.q.arrival, t, sizeof t);
	printf("id: %s\nqueue: %s%s\narrival: %s (%lld)\nsize: %llu\nsender: <",
	       e.qid, qdirs[w], w == Q_HOLD ? " (held)" : "", t, e.q.arrival, e.q.msg_size);
	put_safe(stdout, e.q.sender.s ? e.q.sender.s : "", e.q.sender.len);
	printf(">\nprotocol: ");
	put_safe(stdout, e.q.proto.s ? e.q.proto.s : "", e.q.proto.len);
	printf("\nhelo: ");
	put_safe(stdout, e.q.helo.s ? e.q.helo.s : "", e.q.helo.len);
	printf("\nclient: ");
	put_safe(stdout, e.q.client.s ? e.q.client.s : "", e.q.client.len);
	printf("\nbody: ");
	put_safe(stdout, e.q.body.s ? e.q.body.s : "", e.q.body.len);
	putchar('\n');
	if (e.warned) {
		fmt_time(e.warned, t, sizeof t);
		printf("delay notice: queued %s\n", t);
	}
	if (e.err[0])
		printf("warning: %s\n", e.err);
	for (size_t i = 0; i < e.q.nrcpt; i++) {
		printf("recipient: ");
		put_safe(stdout, e.q.rcpt[i].s, e.q.rcpt[i].len);
		if (!e.rs[i].type)
			printf(" (pending)");
		print_rstate(&e.rs[i]);
		putchar('\n');
	}
	printf("\n");
	show_headers(&e);
	entry_free(&e);
	return 0;
}

static void trigger(char what)
{
	if (qdir_trigger(paths.queue, what) < 0)
		ctl_warn("cannot wake the queue manager: %s", strerror(errno));
}

static int cmd_delete(const char *id)
{
	id_or_die(id);
	sa_t p = SA_INIT;
	int done = 0;
	/* incoming first: qmgr only ever moves incoming -> mess, so this order
	 * cannot miss an entry that moves while we look */
	for (int w = Q_INCOMING; w <= Q_HOLD && !done; w++) {
		qpath(&p, qdirs[w], id);
		if (unlink(p.s) == 0)
			done = 1;
		else if (errno != ENOENT)
			ctl_die_sys("cannot remove %s", p.s);
	}
	if (!done)
		ctl_die("no such message %s", id);
	qpath(&p, "state", id);
	if (unlink(p.s) < 0 && errno != ENOENT)
		ctl_die_sys("cannot remove %s", p.s);
	trigger(QDIR_WAKE_RESCAN);
	printf("%s: deleted\n", id);
	sa_free(&p);
	return 0;
}

static int move_entry(const char *id, enum qwhere from, enum qwhere to)
{
	sa_t a = SA_INIT, b = SA_INIT, d = SA_INIT;
	qpath(&a, qdirs[from], id);
	qpath(&b, qdirs[to], id);
	if (rename(a.s, b.s) < 0) {
		int e = errno;
		sa_free(&a);
		sa_free(&b);
		errno = e;
		return -1;
	}
	/* both directories changed: make the move survive a crash */
	sa_catf(&d, "%s/%s", paths.queue, qdirs[to]);
	if (durable_fsync_dir(d.s) < 0)
		ctl_die_sys("fsync %s", d.s);
	sa_trunc(&d, 0);
	sa_catf(&d, "%s/%s", paths.queue, qdirs[from]);
	if (durable_fsync_dir(d.s) < 0)
		ctl_die_sys("fsync %s", d.s);
	sa_free(&a);
	sa_free(&b);
	sa_free(&d);
	return 0;
}

static int cmd_hold(const char *id)
{
	id_or_die(id);
	sa_t p = SA_INIT;
	qpath(&p, "hold", id);
	if (access(p.s, F_OK) == 0)
		ctl_die("%s is already held", id);
	if (move_entry(id, Q_INCOMING, Q_HOLD) < 0) {
		if (errno != ENOENT)
			ctl_die_sys("cannot hold %s", id);
		if (move_entry(id, Q_MESS, Q_HOLD) < 0) {
			if (errno == ENOENT)
				ctl_die("no such message %s", id);
			ctl_die_sys("cannot hold %s", id);
		}
	}
	trigger(QDIR_WAKE_RESCAN);
	printf("%s: held\n", id);
	sa_free(&p);
	return 0;
}

static int cmd_release(const char *id)
{
	id_or_die(id);
	if (move_entry(id, Q_HOLD, Q_MESS) < 0) {
		if (errno == ENOENT)
			ctl_die("%s is not held", id);
		ctl_die_sys("cannot release %s", id);
	}
	trigger(QDIR_WAKE_RESCAN);
	printf("%s: released\n", id);
	return 0;
}

int ctl_cmd_queue(int argc, char **argv)
{
	if (argc < 2)
		ctl_usage();
	const char *sub = argv[1];
	struct stat st;
	if (stat(paths.queue, &st) < 0)
		ctl_die_sys("queue directory %s", paths.queue);
	int json = argc == 3 && strcmp(argv[2], "--json") == 0;
	if (strcmp(sub, "list") == 0 && (argc == 2 || json))
		return cmd_list(json);
	if (strcmp(sub, "stats") == 0 && (argc == 2 || json))
		return cmd_stats(json);
	if (strcmp(sub, "flush") == 0 && argc == 2) {
		trigger(QDIR_WAKE_FLUSH);
		return 0;
	}
	if (argc != 3)
		ctl_usage();
	if (strcmp(sub, "show") == 0)
		return cmd_show(argv[2]);
	if (strcmp(sub, "delete") == 0)
		return cmd_delete(argv[2]);
	if (strcmp(sub, "hold") == 0)
		return cmd_hold(argv[2]);
	if (strcmp(sub, "release") == 0)
		return cmd_release(argv[2]);
	ctl_usage();
}
