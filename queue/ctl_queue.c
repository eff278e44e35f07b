/* pochtactl queue list|stats|show|delete|hold|release|flush.
 * Reads queue files (qfile.h) and state journals (qstate.h) without locking:
 * pochta-qmgr may move or remove an entry at any time, so a file that vanished
 * between readdir() and open() is simply skipped. Changes are renames and
 * unlinks followed by a RESCAN trigger; IDs are checked with qid_valid before
 * any path is built from them. delete, hold and release act on named IDs (from
 * the command line or standard input), ALL, or the entries that selectors pick
 * (struct sel); flush asks the running pochta-qmgr, and says when there is none. */
#include <ctype.h>
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

#define ID_LINE_MAX 256 /* one line of "queue delete -" input */

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
	s->type = r->type == QSTATE_SENT_TOLD ? QSTATE_SENT : r->type;
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

static void trigger(char what)
{
	if (qdir_trigger(paths.queue, what) < 0)
		ctl_warn("cannot wake the queue manager: %s", strerror(errno));
}

/* The one size `queue list` and `queue stats` print for an entry: the
 * message's size as the queue file records it; a file that cannot be read has
 * only its file size. */
static unsigned long long queue_entry_size(const struct entry *e)
{
	return e->ok ? e->q.msg_size : (unsigned long long)e->fsize;
}

/* selectors: which entries a bulk command or a listing takes */
struct sel {
	const char *domain;    /* --domain: some recipient at this domain (any case) */
	const char *sender;    /* --sender: this envelope sender ("" or "<>": the null sender) */
	int deferred, held;    /* --deferred, --held: either state (both: either one) */
};

static int sel_any(const struct sel *s)
{
	return s->domain || s->sender || s->deferred || s->held;
}

static int rcpt_at(const sa_t *r, const char *domain)
{
	const char *at = r->s ? memrchr(r->s, '@', r->len) : NULL;
	return at && strcasecmp(at + 1, domain) == 0;
}

static int sel_match(const struct sel *s, const struct entry *e)
{
	if ((s->deferred || s->held) &&
	    !(s->held && e->where == Q_HOLD) && !(s->deferred && e->where == Q_MESS && e->deferred))
		return 0;
	if (!s->domain && !s->sender)
		return 1;
	if (!e->ok)
		return 0; /* unreadable: neither sender nor recipients known */
	if (s->sender) {
		const char *want = s->sender;
		size_t wl = strlen(want);
		if (wl >= 2 && want[0] == '<' && want[wl - 1] == '>') {
			want++;
			wl -= 2;
		}
		if (e->q.sender.len != wl || (wl && strncasecmp(e->q.sender.s, want, wl) != 0))
			return 0;
	}
	if (s->domain) {
		size_t i;
		for (i = 0; i < e->q.nrcpt; i++)
			if (rcpt_at(&e->q.rcpt[i], s->domain))
				break;
		if (i == e->q.nrcpt)
			return 0;
	}
	return 1;
}

/* a selector option at argv[*i] (with its value): 1 and *i past it, 0 when
 * argv[*i] is none, exit 2 when its value is missing */
static int sel_option(struct sel *s, int argc, char **argv, int *i, const char *sub)
{
	const char *a = argv[*i];
	if (strcmp(a, "--deferred") == 0) {
		s->deferred = 1;
	} else if (strcmp(a, "--held") == 0) {
		s->held = 1;
	} else if (strcmp(a, "--domain") == 0 || strcmp(a, "--sender") == 0) {
		if (*i + 1 >= argc)
			ctl_missing("queue", sub, a[2] == 'd' ? "the DOMAIN of --domain" : "the ADDRESS of --sender");
		if (a[2] == 'd') {
			s->domain = argv[++*i];
			if (!*s->domain)
				ctl_die("queue %s: empty --domain", sub);
		} else {
			s->sender = argv[++*i];
		}
	} else {
		return 0;
	}
	++*i;
	return 1;
}

struct list_ctx {
	int json;
	const struct sel *sel;
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
	ctx->bytes += queue_entry_size(e);
	if (!e->ok) {
		printf("%s%c (unreadable: %s)\n", e->qid, mark, e->err);
		return;
	}
	fmt_time(e->q.arrival, t, sizeof t);
	printf("%s%c %10llu  %-19s  <", e->qid, mark, queue_entry_size(e), t);
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
	printf(",\"size\":%llu,\"arrival\":%lld,\"sender\":", queue_entry_size(e), e->q.arrival);
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
	if (!sel_match(ctx->sel, e))
		return;
	if (ctx->json) {
		ctx->count++;
		list_json(e);
	} else {
		list_human(e, ctx);
	}
}

static int cmd_list(int json, const struct sel *sel)
{
	struct list_ctx ctx = { json, sel, 0, 0 };
	queue_each(list_one, &ctx);
	if (!json) {
		if (ctx.count == 0)
			printf(sel_any(sel) ? "no message matches\n" : "queue is empty\n");
		else
			printf("-- %llu bytes in %zu message%s\n", ctx.bytes, ctx.count, ctx.count == 1 ? "" : "s");
	}
	return 0;
}

/* queue stats: counts, and the queue's shape as qshape(1) shows it: pending
 * recipients per domain and age bucket, one table per state */
#define STAT_BUCKETS 10
static const int bucket_minutes[STAT_BUCKETS - 1] = { 5, 10, 20, 40, 80, 160, 320, 640, 1280 };
enum { SH_INCOMING, SH_ACTIVE, SH_DEFERRED, SH_HOLD, SH_N };
static const char *const shape_names[SH_N] = { "incoming", "active", "deferred", "hold" };

struct shape_row {
	char *domain;
	unsigned long long total, n[STAT_BUCKETS];
};

struct shape {
	struct shape_row sum;
	struct shape_row *rows;
	size_t nrows, cap;
};

struct stats {
	unsigned long long incoming, active, held, deferred, bytes, bad;
	long long now;
	struct shape sh[SH_N];
};

static int age_bucket(long long now, long long arrival)
{
	long long minutes = now > arrival ? (now - arrival) / 60 : 0;
	int b = 0;
	while (b < STAT_BUCKETS - 1 && minutes >= bucket_minutes[b])
		b++;
	return b;
}

static struct shape_row *shape_row(struct shape *sh, const char *dom, size_t len)
{
	for (size_t i = 0; i < sh->nrows; i++)
		if (strlen(sh->rows[i].domain) == len && strncasecmp(sh->rows[i].domain, dom, len) == 0)
			return &sh->rows[i];
	if (sh->nrows == sh->cap) {
		size_t nc = sh->cap ? sh->cap * 2 : 16, bytes;
		if (size_mul(nc, sizeof *sh->rows, &bytes) < 0)
			ctl_die_sys("too many domains");
		struct shape_row *n = realloc(sh->rows, bytes);
		if (!n)
			ctl_die_sys("out of memory");
		sh->rows = n;
		sh->cap = nc;
	}
	struct shape_row *r = &sh->rows[sh->nrows++];
	memset(r, 0, sizeof *r);
	r->domain = strndup(dom, len);
	if (!r->domain)
		ctl_die_sys("out of memory");
	for (size_t i = 0; i < len; i++)
		r->domain[i] = (char)tolower((unsigned char)r->domain[i]);
	return r;
}

static void stats_one(struct entry *e, void *arg)
{
	struct stats *s = arg;
	int w;
	if (e->where == Q_INCOMING) {
		s->incoming++;
		w = SH_INCOMING;
	} else if (e->where == Q_MESS) {
		s->active++;
		w = e->deferred ? SH_DEFERRED : SH_ACTIVE;
	} else {
		s->held++;
		w = SH_HOLD;
	}
	if (e->deferred && e->where == Q_MESS)
		s->deferred++;
	s->bytes += queue_entry_size(e);
	if (!e->ok) {
		s->bad++;
		return;
	}
	int b = age_bucket(s->now, e->q.arrival);
	for (size_t i = 0; i < e->q.nrcpt; i++) {
		int t = e->rs[i].type;
		if (t == QSTATE_SENT || t == QSTATE_FAILED || t == QSTATE_BOUNCED)
			continue; /* final: no longer waiting in the queue */
		const sa_t *r = &e->q.rcpt[i];
		const char *at = r->s ? memrchr(r->s, '@', r->len) : NULL;
		const char *dom = at ? at + 1 : "";
		size_t dl = at ? r->len - (size_t)(at + 1 - r->s) : 0;
		struct shape_row *row = shape_row(&s->sh[w], dom, dl);
		row->total++;
		row->n[b]++;
		s->sh[w].sum.total++;
		s->sh[w].sum.n[b]++;
	}
}

/* most recipients first, then by name: as qshape */
static int cmp_rows(const void *a, const void *b)
{
	const struct shape_row *x = a, *y = b;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

static void shape_row_human(const char *name, const struct shape_row *r, int width)
{
	printf("%*s", width, "");
	put_safe(stdout, name, strlen(name));
	printf("%*s %6llu", (int)(strlen(name) < 30 ? 30 - strlen(name) : 0), "", r->total);
	for (int b = 0; b < STAT_BUCKETS; b++)
		printf(" %5llu", r->n[b]);
	putchar('\n');
}

static void shape_row_json(const char *name, const struct shape_row *r)
{
	ctl_json_str(stdout, name, strlen(name));
	printf(":{\"total\":%llu,\"ages\":[", r->total);
	for (int b = 0; b < STAT_BUCKETS; b++)
		printf("%s%llu", b ? "," : "", r->n[b]);
	fputs("]}", stdout);
}

static int cmd_stats(int json)
{
	struct stats s;
	memset(&s, 0, sizeof s);
	s.now = time(NULL);
	queue_each(stats_one, &s);
	for (int w = 0; w < SH_N; w++)
		if (s.sh[w].nrows)
			qsort(s.sh[w].rows, s.sh[w].nrows, sizeof *s.sh[w].rows, cmp_rows);
	unsigned long long total = s.incoming + s.active + s.held;
	if (json) {
		printf("{\"incoming\":%llu,\"active\":%llu,\"deferred\":%llu,\"held\":%llu,"
		       "\"messages\":%llu,\"bytes\":%llu,\"unreadable\":%llu,\"buckets\":[",
		       s.incoming, s.active, s.deferred, s.held, total, s.bytes, s.bad);
		for (int b = 0; b < STAT_BUCKETS - 1; b++)
			printf("%s%d", b ? "," : "", bucket_minutes[b]);
		fputs("],\"shape\":{", stdout);
		for (int w = 0; w < SH_N; w++) {
			printf("%s\"%s\":{", w ? "," : "", shape_names[w]);
			shape_row_json("TOTAL", &s.sh[w].sum);
			for (size_t i = 0; i < s.sh[w].nrows; i++) {
				putchar(',');
				shape_row_json(s.sh[w].rows[i].domain, &s.sh[w].rows[i]);
			}
			putchar('}');
		}
		fputs("}}\n", stdout);
	} else {
		printf("incoming: %llu\nactive: %llu\ndeferred: %llu\nheld: %llu\n"
		       "messages: %llu\nbytes: %llu\nunreadable: %llu\n",
		       s.incoming, s.active, s.deferred, s.held, total, s.bytes, s.bad);
		for (int w = 0; w < SH_N; w++) {
			if (!s.sh[w].sum.total)
				continue;
			printf("\n%s: recipients by domain and age (minutes)\n%32s %6s", shape_names[w], "", "T");
			for (int b = 0; b < STAT_BUCKETS - 1; b++)
				printf(" %5d", bucket_minutes[b]);
			printf(" %5d+\n", bucket_minutes[STAT_BUCKETS - 2]);
			shape_row_human("TOTAL", &s.sh[w].sum, 2);
			for (size_t i = 0; i < s.sh[w].nrows; i++)
				shape_row_human(s.sh[w].rows[i].domain, &s.sh[w].rows[i], 2);
		}
	}
	for (int w = 0; w < SH_N; w++) {
		for (size_t i = 0; i < s.sh[w].nrows; i++)
			free(s.sh[w].rows[i].domain);
		free(s.sh[w].rows);
	}
	return 0;
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

/* load id wherever it is; 0, or -1 when there is no such entry */
static int load_id(struct entry *e, const char *id)
{
	/* an entry can move (incoming -> mess) between the lookup and the open */
	for (int tries = 0; tries < 3; tries++) {
		int w = find_entry(id);
		if (w < 0)
			return -1;
		if (entry_load(e, id, (enum qwhere)w) == 0)
			return 0;
		entry_free(e);
	}
	return -1;
}

/* message text to a terminal: lines kept (CRLF shown as LF), anything else
 * that is not printable ASCII as '?' */
struct textout {
	int cr;    /* a CR waits for its LF */
};

static void text_put(struct textout *o, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o->cr && c != '\n')
			putchar('?');
		o->cr = c == '\r';
		if (c == '\n')
			putchar('\n');
		else if (c != '\r')
			putchar(c == '\t' || (c >= 0x20 && c != 0x7f && c < 0x80) ? c : '?');
	}
}

static void text_end(struct textout *o)
{
	if (o->cr)
		putchar('?');
	o->cr = 0;
}

/* the message of e: its header section, and/or its body after the empty line */
static void show_message(const struct entry *e, int header, int body)
{
	sa_t p = SA_INIT;
	qpath(&p, qdirs[e->where], e->qid);
	int fd = open(p.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	sa_free(&p);
	if (fd < 0) {
		printf("(message gone: %s)\n", strerror(errno));
		return;
	}
	char *buf = malloc(65536);
	if (!buf)
		ctl_die_sys("out of memory");
	struct hdr hs;
	struct textout o = { 0 };
	hdr_init(&hs, NULL, 0, NULL, NULL);
	off_t off = (off_t)e->q.msg_off;
	int in_body = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, 65536, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ctl_die_sys("read %s", e->qid);
		if (n == 0)
			break;
		off += n;
		size_t pos = 0;
		if (!in_body) {
			unsigned long long before = hs.off;
			pos = hdr_feed(&hs, buf, (size_t)n);
			if (hs.done) {
				in_body = 1;
				/* the header without its empty line */
				size_t hpart = (size_t)(hs.hlen > before ? hs.hlen - before : 0);
				if (header)
					text_put(&o, buf, hpart);
				text_end(&o);
				if (header && body)
					putchar('\n');
			} else if (header) {
				text_put(&o, buf, pos);
			}
		}
		if (in_body && body)
			text_put(&o, buf + pos, (size_t)n - pos);
	}
	text_end(&o);
	close(fd);
	free(buf);
}

static int cmd_show(const char *id, int header, int body)
{
	if (!qid_valid(id))
		ctl_die("bad queue ID \"%s\"", id);
	struct entry e;
	if (load_id(&e, id) < 0)
		ctl_die("no such message %s", id);
	if (!e.ok)
		ctl_die("%s/%s: unreadable queue file: %s", qdirs[e.where], id, e.err);
	if (header || body) {
		/* as postcat -h / -b: only what was asked for */
		show_message(&e, header, body);
		entry_free(&e);
		return 0;
	}
	char t[64];
	fmt_time(e.q.arrival, t, sizeof t);
	printf("id: %s\nqueue: %s%s\narrival: %s (%lld)\nsize: %llu\nsender: <",
	       e.qid, qdirs[e.where], e.where == Q_HOLD ? " (held)" : "", t, e.q.arrival, e.q.msg_size);
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
	show_message(&e, 1, 1);
	entry_free(&e);
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

/* One action on one entry: 1 done, 0 not applicable (named: reported), -1 no
 * such message. Errors other than those end the command. */
static int act_delete(const char *id, int named)
{
	(void)named;
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
	if (done) {
		qpath(&p, "state", id);
		if (unlink(p.s) < 0 && errno != ENOENT)
			ctl_die_sys("cannot remove %s", p.s);
		printf("%s: deleted\n", id);
	}
	sa_free(&p);
	return done ? 1 : -1;
}

static int act_hold(const char *id, int named)
{
	if (move_entry(id, Q_INCOMING, Q_HOLD) == 0 || (errno == ENOENT && move_entry(id, Q_MESS, Q_HOLD) == 0)) {
		printf("%s: held\n", id);
		return 1;
	}
	if (errno != ENOENT)
		ctl_die_sys("cannot hold %s", id);
	if (find_entry(id) == Q_HOLD) {
		if (named)
			ctl_warn("%s is already held", id);
		return 0;
	}
	return -1;
}

static int act_release(const char *id, int named)
{
	if (move_entry(id, Q_HOLD, Q_MESS) == 0) {
		printf("%s: released\n", id);
		return 1;
	}
	if (errno != ENOENT)
		ctl_die_sys("cannot release %s", id);
	if (find_entry(id) >= 0) {
		if (named)
			ctl_warn("%s is not held", id);
		return 0;
	}
	return -1;
}

struct bulk {
	const char *sub;
	int (*act)(const char *id, int named);
	const char *done_word;   /* postsuper's: "Deleted", "Placed on hold", ... */
	struct sel sel;
	int selecting;           /* ALL or a selector: act on what the selection picks */
	size_t done;
	int failed;
};

/* one named ID (argument or input line) */
static void bulk_named(struct bulk *b, const char *id)
{
	if (!qid_valid(id)) {
		ctl_warn("queue %s: bad queue ID \"%s\"", b->sub, id);
		b->failed = 1;
		return;
	}
	if (sel_any(&b->sel)) {
		/* named and selected: only when it matches, silently skipped otherwise */
		struct entry e;
		if (load_id(&e, id) < 0) {
			ctl_warn("queue %s: no such message %s", b->sub, id);
			b->failed = 1;
			return;
		}
		int m = sel_match(&b->sel, &e);
		entry_free(&e);
		if (!m)
			return;
	}
	int r = b->act(id, 1);
	if (r > 0)
		b->done++;
	else
		b->failed = 1;
	if (r < 0)
		ctl_warn("queue %s: no such message %s", b->sub, id);
}

/* the IDs of standard input, one per line */
static void bulk_stdin(struct bulk *b)
{
	char line[ID_LINE_MAX + 2];
	unsigned long lineno = 0;
	while (fgets(line, sizeof line, stdin)) {
		size_t len = strlen(line);
		lineno++;
		if (len && line[len - 1] != '\n' && !feof(stdin)) {
			int c;
			while ((c = getchar()) != EOF && c != '\n')
				;
			ctl_warn("queue %s: standard input line %lu: too long for a queue ID", b->sub, lineno);
			b->failed = 1;
			continue;
		}
		while (len && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		char *id = line;
		while (isspace((unsigned char)*id))
			id++;
		if (*id)
			bulk_named(b, id);
	}
	if (ferror(stdin))
		ctl_die_sys("queue %s: reading standard input", b->sub);
}

struct idlist {
	char **v;
	size_t n, cap;
	const struct bulk *b;
};

static void bulk_pick(struct entry *e, void *arg)
{
	struct idlist *l = arg;
	if (!sel_match(&l->b->sel, e))
		return;
	/* what the action applies to: hold takes what is not held, release what is */
	if ((l->b->act == act_hold && e->where == Q_HOLD) || (l->b->act == act_release && e->where != Q_HOLD))
		return;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64, bytes;
		if (size_mul(nc, sizeof *l->v, &bytes) < 0)
			ctl_die_sys("too many queue files");
		char **nv = realloc(l->v, bytes);
		if (!nv)
			ctl_die_sys("out of memory");
		l->v = nv;
		l->cap = nc;
	}
	if (!(l->v[l->n++] = strdup(e->qid)))
		ctl_die_sys("out of memory");
}

/* queue delete|hold|release [SELECTORS] ID...|ALL|- */
static int cmd_bulk(int argc, char **argv, int (*act)(const char *, int), const char *done_word)
{
	struct bulk b;
	memset(&b, 0, sizeof b);
	b.sub = argv[1];
	b.act = act;
	b.done_word = done_word;
	int nargs = 0, all = 0, dash = 0;
	for (int i = 2; i < argc;) {
		if (sel_option(&b.sel, argc, argv, &i, b.sub))
			continue;
		if (strcmp(argv[i], "--") == 0) {
			nargs += argc - i - 1;
			break;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			ctl_warn("queue %s: unknown option %s", b.sub, argv[i]);
			ctl_usage_of("queue", b.sub);
		}
		if (strcmp(argv[i], "ALL") == 0)
			all = 1;
		else if (strcmp(argv[i], "-") == 0)
			dash = 1;
		else
			nargs++;
		i++;
	}
	if (!nargs && !all && !dash && !sel_any(&b.sel))
		ctl_missing("queue", b.sub, "ID (or ALL, -, or a selector)");
	/* ALL, or selectors and nothing named: every entry they pick */
	b.selecting = all || (!nargs && !dash);
	if (b.selecting) {
		struct idlist l = { NULL, 0, 0, &b };
		queue_each(bulk_pick, &l);
		for (size_t i = 0; i < l.n; i++) {
			/* gone meanwhile (delivered, or moved by another admin): not counted */
			if (b.act(l.v[i], 0) > 0)
				b.done++;
			free(l.v[i]);
		}
		free(l.v);
	}
	/* named ones too (each once: ALL already took them) */
	if (!all) {
		int after_dd = 0;
		for (int i = 2; i < argc; i++) {
			if (!after_dd && (strcmp(argv[i], "--domain") == 0 || strcmp(argv[i], "--sender") == 0)) {
				i++;
				continue;
			}
			if (!after_dd && strcmp(argv[i], "--") == 0) {
				after_dd = 1;
				continue;
			}
			if (!after_dd && argv[i][0] == '-')
				continue; /* --deferred, --held, and - (read below) */
			bulk_named(&b, argv[i]);
		}
		if (dash)
			bulk_stdin(&b);
	}
	if (b.done)
		trigger(QDIR_WAKE_RESCAN);
	fflush(stdout);
	fprintf(stderr, "pochtactl: %s: %zu message%s\n", b.done_word, b.done, b.done == 1 ? "" : "s");
	return b.failed ? 1 : 0;
}

/* queue flush [DOMAIN]: only a running pochta-qmgr can retry anything */
static int cmd_flush(const char *domain)
{
	if (domain && !qdir_domain_ok(domain, strlen(domain)))
		ctl_die("queue flush: bad domain \"%s\" (letters, digits and \"-._:[]\", at most %d)", domain,
		        QDIR_DOMAIN_MAX);
	char lower[QDIR_DOMAIN_MAX + 1];
	if (domain) {
		/* as the queue manager names destinations (and logs this flush) */
		size_t i;
		for (i = 0; domain[i]; i++)
			lower[i] = (char)tolower((unsigned char)domain[i]);
		lower[i] = '\0';
	}
	if ((domain ? qdir_wake_domain(paths.queue, lower) : qdir_wake(paths.queue, QDIR_WAKE_FLUSH)) < 0) {
		if (errno == ENXIO)
			ctl_die("queue flush: the mail system is not running (no pochta-qmgr reads %s/trigger):"
			        " nothing flushed", paths.queue);
		if (errno == EAGAIN)
			ctl_die("queue flush: pochta-qmgr does not read its trigger FIFO: nothing flushed");
		ctl_die_sys("queue flush: cannot wake pochta-qmgr through %s/trigger", paths.queue);
	}
	return 0;
}

int ctl_cmd_queue(int argc, char **argv)
{
	if (argc < 2)
		ctl_missing("queue", NULL, "a subcommand (list, stats, show, delete, hold, release, flush)");
	const char *sub = argv[1];
	struct stat st;
	if (strcmp(sub, "list") != 0 && strcmp(sub, "stats") != 0 && strcmp(sub, "show") != 0 &&
	    strcmp(sub, "delete") != 0 && strcmp(sub, "hold") != 0 && strcmp(sub, "release") != 0 &&
	    strcmp(sub, "flush") != 0) {
		ctl_warn("queue: unknown subcommand %s", sub);
		ctl_usage_of("queue", NULL);
	}
	if (stat(paths.queue, &st) < 0)
		ctl_die_sys("queue directory %s", paths.queue);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "stats") == 0) {
		struct sel sel = { NULL, NULL, 0, 0 };
		int json = 0, is_list = sub[0] == 'l';
		for (int i = 2; i < argc;) {
			if (strcmp(argv[i], "--json") == 0) {
				json = 1;
				i++;
			} else if (!is_list || !sel_option(&sel, argc, argv, &i, sub)) {
				ctl_warn("queue %s: unknown argument %s", sub, argv[i]);
				ctl_usage_of("queue", sub);
			}
		}
		return is_list ? cmd_list(json, &sel) : cmd_stats(json);
	}
	if (strcmp(sub, "flush") == 0) {
		if (argc > 3) {
			ctl_warn("queue flush: one DOMAIN at most");
			ctl_usage_of("queue", sub);
		}
		return cmd_flush(argc == 3 ? argv[2] : NULL);
	}
	if (strcmp(sub, "show") == 0) {
		int header = 0, body = 0;
		const char *id = NULL;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--header") == 0)
				header = 1;
			else if (strcmp(argv[i], "--body") == 0)
				body = 1;
			else if (!id && (argv[i][0] != '-' || !argv[i][1]))
				id = argv[i];
			else {
				ctl_warn("queue show: unknown argument %s", argv[i]);
				ctl_usage_of("queue", sub);
			}
		}
		if (!id)
			ctl_missing("queue", sub, "ID");
		return cmd_show(id, header, body);
	}
	if (strcmp(sub, "delete") == 0)
		return cmd_bulk(argc, argv, act_delete, "Deleted");
	if (strcmp(sub, "hold") == 0)
		return cmd_bulk(argc, argv, act_hold, "Placed on hold");
	return cmd_bulk(argc, argv, act_release, "Released from hold");
}
