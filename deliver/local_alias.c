/* local_alias: expansion of an alias or a ~/.forward into deliveries, and
 * the deliveries (local.h, man/pochta-aliases.5).
 *
 * Expansion comes first and is whole: a list of Maildirs, commands, files
 * and other domains' addresses. A temporary problem on the way (an
 * unreadable :include:, the passwd database) delivers nothing and asks for
 * a retry; a permanent one (an unknown user, a loop) is kept and the rest is
 * delivered. Then each delivery in turn, from the message's start. There is
 * no per-target state: a retried recipient is expanded and delivered whole
 * again, so targets delivered before get a second copy (as Postfix's local(8)
 * without duplicate suppression).
 *
 * Who runs commands and writes files: the owner of the file that named them
 * (the aliases file, an :include: file, the .forward's user); an aliases or
 * :include: file of root's gives them to default_privs. Only a root worker
 * can become another account; a worker that is not root runs them as itself
 * when the instance is its own (an ordinary user's instance, instance_user),
 * and otherwise fails temporarily. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "fileread.h"
#include "aliases.h"
#include "conf.h"
#include "enqclient.h"
#include "local.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "users.h"

#define ALIAS_DEPTH 10            /* aliases, includes and .forwards within each other */
#define ALIAS_DELIVERIES 1000     /* deliveries one recipient may expand to */
#define FORWARD_MAX 65536         /* bytes of a ~/.forward */
#define ENQ_TIMEOUT_MS 60000

enum { LI_MAILDIR = 1, LI_PIPE, LI_FILE, LI_REMOTE };

/* who runs a command or writes a file */
struct who {
	int self;                 /* as the worker is */
	const char *refuse;       /* set: cannot be done here (why) */
	struct priv_user pu;
	char home[SYSUSER_HOME_MAX];
};

struct item {
	int kind;
	sa_t v;                   /* command, path, address, or a Maildir's Delivered-To */
	struct local_dest d;      /* LI_MAILDIR */
	struct who who;           /* LI_PIPE, LI_FILE */
};

struct exp {
	const struct conf *conf;
	const struct aliases_tab *tab;
	const char *qid, *rcpt;
	char domain[ADDR_DOMAIN_MAX + 1]; /* for names without one: the recipient's */
	sa_t users;
	struct item *it;
	size_t n, cap;
	char chain[ALIAS_DEPTH][ALIASES_NAME_MAX + 1];
	int depth;
	struct local_result fail; /* the first problem of the expansion; T wins */
	int binary;               /* a BINARYMIME message: forwarded as one, Maildirs keep it */
};

static void fail(struct exp *x, char class, const char *status, const char *what,
                 const char *detail)
{
	if (x->fail.class == 'T' || (x->fail.class == 'P' && class == 'P'))
		return;
	local_set(&x->fail, class, status, what, detail);
	log_info(x->qid, "<%s>: %s%s%s", x->rcpt, what, detail ? ": " : "", detail ? detail : "");
}

static struct item *item_add(struct exp *x, int kind, const char *v)
{
	struct item *i;

	if (x->n >= ALIAS_DELIVERIES) {
		fail(x, 'P', "5.4.6", "alias expansion too large", NULL);
		return NULL;
	}
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 8;
		struct item *p = realloc(x->it, nc * sizeof *p);
		if (!p) {
			fail(x, 'T', "4.3.0", "out of memory", NULL);
			return NULL;
		}
		x->it = p;
		x->cap = nc;
	}
	i = &x->it[x->n];
	memset(i, 0, sizeof *i);
	i->kind = kind;
	i->d = (struct local_dest)LOCAL_DEST_INIT;
	if (sa_cats(&i->v, v) < 0) {
		sa_free(&i->v);
		fail(x, 'T', "4.3.0", "out of memory", NULL);
		return NULL;
	}
	x->n++;
	return i;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* the account of uid (0: default_privs) as who runs a file's commands */
static void who_for(struct exp *x, uid_t uid, struct who *w)
{
	struct passwd *pw;
	sa_t err = SA_INIT;
	struct stat st;

	memset(w, 0, sizeof *w);
	if (geteuid() != 0) {
		/* the instance's own account: it runs everything of the instance */
		if ((uid != 0 && uid == geteuid()) ||
		    (paths.root[0] && stat(paths.etc, &st) == 0 && st.st_uid == geteuid())) {
			w->self = 1;
			pw = getpwuid(geteuid());
			snprintf(w->home, sizeof w->home, "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
			snprintf(w->pu.name, sizeof w->pu.name, "%s", pw ? pw->pw_name : "");
		} else {
			w->refuse = "commands and files need pochta-local to run as root or as the "
			            "instance's account";
		}
		return;
	}
	if (uid == 0) {
		if (priv_lookup(x->conf->default_privs, &w->pu, &err) < 0)
			w->refuse = "default_privs is not an account to run commands as";
	} else {
		pw = getpwuid(uid);
		if (priv_owner(uid, pw ? pw->pw_gid : (gid_t)uid, &w->pu, &err) < 0)
			w->refuse = "the file's owner is not an account to run commands as";
	}
	sa_free(&err);
	pw = w->refuse ? NULL : getpwuid(w->pu.uid);
	snprintf(w->home, sizeof w->home, "%s", pw && pw->pw_dir ? pw->pw_dir : "/");
}

static void expand_alias(struct exp *x, const char *name);
static void expand_name(struct exp *x, const char *name, const char *domain, const char *self,
                        const struct who *w);

/* a mailbox the mapping found (d filled by localaddr): a Maildir, or a
 * system user's .forward */
static void add_mailbox(struct exp *x, int kind, const struct localaddr_dest *ld,
                        const char *name, const char *domain, int no_forward);

/* name's own mailbox at domain, never its alias or .forward */
static void own_mailbox(struct exp *x, const char *name, const char *domain)
{
	struct localaddr_dest ld;
	struct addr a;

	memset(&a, 0, sizeof a);
	snprintf(a.local, sizeof a.local, "%s", name);
	snprintf(a.domain, sizeof a.domain, "%s", domain);
	a.has_domain = 1;
	add_mailbox(x, localaddr_lookup_mailbox(x->conf, x->users.s, &a, &ld), &ld, name, domain, 1);
}

static int push(struct exp *x, const char *name)
{
	if (x->depth >= ALIAS_DEPTH) {
		fail(x, 'P', "5.4.6", "aliases nested too deep (a loop?) at", name);
		return -1;
	}
	snprintf(x->chain[x->depth++], sizeof x->chain[0], "%s", name);
	return 0;
}

/* the loop a name makes with the names being expanded, for the text */
static void loop_fail(struct exp *x, const char *name)
{
	sa_t t = SA_INIT;

	for (int i = 0; i < x->depth; i++)
		if (x->chain[i][0])
			sa_catf(&t, "%s -> ", x->chain[i]);
	sa_cats(&t, name);
	fail(x, 'P', "5.4.6", "alias loop", t.s);
	sa_free(&t);
}

/* :include:path, named by a file whose commands run as w */
static void expand_include(struct exp *x, const char *path, const struct who *w, uid_t owner,
                           const char *self)
{
	sa_t buf = SA_INIT, list = SA_INIT, err = SA_INIT;
	struct stat st;
	struct who iw;
	size_t n;

	if (push(x, "") < 0)
		return;
	if (file_read_all(path, ALIASES_FILE_MAX, O_NOFOLLOW | O_NONBLOCK, &buf, &st) < 0) {
		fail(x, 'T', "4.3.5", "cannot read an :include: file", path);
		log_warn(x->qid, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((st.st_uid != 0 && st.st_uid != owner) || (st.st_mode & 022)) {
		fail(x, 'T', "4.3.5", "an :include: file not owned by root or the including file's "
		     "owner, or writable by others", path);
		goto out;
	}
	if (aliases_list_parse(buf.s, buf.len, path, &list, &n, &err) < 0) {
		fail(x, 'T', "4.3.5", "a bad :include: file (see the log)", path);
		log_warn(x->qid, "%s", err.s ? err.s : "out of memory");
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != owner)
		who_for(x, st.st_uid, &iw);
	else
		iw = *w;
	for (size_t i = 0, pos = 0; i < n; i++) {
		const char *t = list.s + pos;
		pos += strlen(t) + 1;
		expand_name(x, t, NULL, self, &iw);
	}
out:
	x->depth--;
	sa_free(&buf);
	sa_free(&list);
	sa_free(&err);
}

/* one target t (aliases.h) of a file whose commands run as w (its owner
 * owner); self: the name being expanded, which means its own mailbox */
static void expand_target(struct exp *x, const char *t, const struct who *w, uid_t owner,
                          const char *self)
{
	const char *v;
	struct item *i;
	struct addr a;

	switch (aliases_target_kind(t, &v)) {
	case ALIASES_T_INCLUDE:
		expand_include(x, v, w, owner, self);
		return;
	case ALIASES_T_PIPE:
	case ALIASES_T_FILE:
		if (w->refuse) {
			fail(x, 'T', "4.3.5", w->refuse, NULL);
			return;
		}
		i = item_add(x, t[0] == '|' ? LI_PIPE : LI_FILE, v);
		if (i)
			i->who = *w;
		return;
	case ALIASES_T_SELF: {
		char nm[ALIASES_NAME_MAX + 1];
		snprintf(nm, sizeof nm, "%s", v);
		lower(nm);
		own_mailbox(x, nm, x->domain);
		return;
	}
	case ALIASES_T_ADDR:
		if (addr_parse(t, strlen(t), &a) != ADDR_OK) {
			fail(x, 'P', "5.1.3", "bad address in an alias", t);
			return;
		}
		if (!localaddr_domain_is_local(x->conf, a.domain, strlen(a.domain))) {
			sa_t text = SA_INIT;
			if (addr_format(&a, &text) == 0)
				item_add(x, LI_REMOTE, text.s);
			else
				fail(x, 'T', "4.3.0", "out of memory", NULL);
			sa_free(&text);
			return;
		}
		expand_name(x, a.local, a.domain, self, w);
		return;
	case ALIASES_T_NAME:
		expand_name(x, t, NULL, self, w);
		return;
	default:
		fail(x, 'P', "5.3.5", "bad alias target", NULL);
	}
}

/* a name or local address in a target list (an include's targets come here
 * unclassified: expand_target for those that are not plain names) */
static void expand_name(struct exp *x, const char *t, const char *domain, const char *self,
                        const struct who *w)
{
	char nm[ALIASES_NAME_MAX + 1];
	struct localaddr_dest ld;
	struct addr a;
	const char *v;
	int k;

	if (!domain) {
		k = aliases_target_kind(t, &v);
		if (k != ALIASES_T_NAME) {
			expand_target(x, t, w, w->self ? geteuid() : w->pu.uid, self);
			return;
		}
		domain = x->domain;
	}
	if (strlen(t) > ALIASES_NAME_MAX) {
		fail(x, 'P', "5.1.1", "user unknown", t);
		return;
	}
	snprintf(nm, sizeof nm, "%s", t);
	lower(nm);
	memset(&a, 0, sizeof a);
	snprintf(a.local, sizeof a.local, "%s", t);
	snprintf(a.domain, sizeof a.domain, "%s", domain);
	a.has_domain = 1;
	/* Postfix's rule: a name in its own expansion is the user itself */
	if (self && strcmp(nm, self) == 0) {
		own_mailbox(x, nm, domain);
		return;
	}
	for (int i = 0; i < x->depth; i++) {
		if (strcmp(x->chain[i], nm) == 0) {
			loop_fail(x, nm);
			return;
		}
	}
	k = localaddr_lookup(x->conf, x->users.s, &a, &ld);
	if (k == LOCALADDR_ALIAS)
		expand_alias(x, ld.alias);
	else
		add_mailbox(x, k, &ld, nm, domain, 0);
}

/* a system user's ~/.forward, d routed for it; 0 when expanded, -1 when it
 * is ignored (missing, empty, unsafe: logged) and the Maildir gets the mail */
static int expand_forward(struct exp *x, const struct local_dest *d)
{
	sa_t path = SA_INIT, buf = SA_INIT, list = SA_INIT, err = SA_INIT;
	struct stat st;
	struct who w;
	size_t n = 0;
	int rc = -1;

	if (sa_catf(&path, "%s/.forward", d->su.home) < 0) {
		fail(x, 'T', "4.3.0", "out of memory", NULL);
		return 0;
	}
	if (file_read_all(path.s, FORWARD_MAX, O_NOFOLLOW | O_NONBLOCK, &buf, &st) < 0) {
		if (errno != ENOENT)
			log_warn(x->qid, "%s: ignored: %s", path.s, strerror(errno));
		goto out;
	}
	if ((st.st_uid != d->su.uid && st.st_uid != 0) || (st.st_mode & 022)) {
		log_warn(x->qid, "%s: ignored: not owned by %s or root, or writable by group or others",
		         path.s, d->su.name);
		goto out;
	}
	if (aliases_list_parse(buf.s, buf.len, path.s, &list, &n, &err) < 0) {
		log_warn(x->qid, "%s: ignored: %s", path.s, err.s ? err.s : "out of memory");
		goto out;
	}
	if (n == 0)
		goto out;
	if (push(x, d->su.name) < 0) {
		rc = 0;
		goto out;
	}
	memset(&w, 0, sizeof w);
	w.pu = d->pu;
	snprintf(w.home, sizeof w.home, "%s", d->su.home);
	for (size_t i = 0, pos = 0; i < n; i++) {
		const char *t = list.s + pos;
		pos += strlen(t) + 1;
		/* a .forward's :include: files must be the user's own */
		expand_name(x, t, NULL, d->su.name, &w);
	}
	x->depth--;
	rc = 0;
out:
	sa_free(&path);
	sa_free(&buf);
	sa_free(&list);
	sa_free(&err);
	return rc;
}

static void add_mailbox(struct exp *x, int kind, const struct localaddr_dest *ld,
                        const char *name, const char *domain, int no_forward)
{
	struct local_result r = LOCAL_RESULT_INIT;
	struct local_dest d = LOCAL_DEST_INIT;
	struct item *i;
	sa_t to = SA_INIT;

	if (kind == LOCALADDR_UNKNOWN || kind == LOCALADDR_REMOTE) {
		fail(x, 'P', "5.1.1", "user unknown", name);
		return;
	}
	if (kind == LOCALADDR_TEMPFAIL || kind == LOCALADDR_ALIAS) {
		fail(x, 'T', "4.3.0", "cannot look up", name);
		return;
	}
	if (local_route_mailbox(x->conf, kind, ld, &d, &r) < 0) {
		fail(x, r.class, r.status, r.text.s ? r.text.s : "cannot deliver", name);
		goto out;
	}
	if (d.expand && !no_forward && expand_forward(x, &d) == 0)
		goto out;
	if (sa_catf(&to, "%s@%s", kind == LOCALADDR_POSTMASTER ? name : ld->user, domain) < 0 ||
	    !(i = item_add(x, LI_MAILDIR, to.s)))
		goto out;
	i->d = d;
	d = (struct local_dest)LOCAL_DEST_INIT; /* the item owns its dir now */
out:
	sa_free(&to);
	sa_free(&d.dir);
	sa_free(&r.text);
}

static void expand_alias(struct exp *x, const char *name)
{
	const char *tg;
	struct who w;

	if (push(x, name) < 0)
		return;
	switch (aliases_resolve(x->tab, x->conf->admin_alias, name, &tg)) {
	case ALIASES_LISTED:
		who_for(x, x->tab->owner, &w);
		for (; tg; tg = aliases_next(tg))
			expand_target(x, tg, &w, x->tab->owner, name);
		break;
	case ALIASES_ADMIN:
		memset(&w, 0, sizeof w);
		w.refuse = "no commands here";
		expand_name(x, tg, x->domain, name, &w);
		break;
	case ALIASES_POSTMASTER: {
		struct localaddr_dest ld;
		memset(&ld, 0, sizeof ld);
		snprintf(ld.user, sizeof ld.user, "%s", x->conf->postmaster);
		add_mailbox(x, LOCALADDR_POSTMASTER, &ld, name, x->domain, 1);
		break;
	}
	default:
		/* the file changed since the lookup: the name's own mailbox */
		own_mailbox(x, name, x->domain);
	}
	x->depth--;
}

/* the headers' Delivered-To: rcpt, from where in is now (restored) */
static int seen_before(int in, off_t off, const char *rcpt)
{
	struct hdrscan hs;
	char buf[8192];
	ssize_t n;

	hdrscan_init(&hs, rcpt);
	while (!hs.loop && (n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		hdrscan_feed(&hs, buf, (size_t)n);
	}
	hdrscan_end(&hs);
	lseek(in, off, SEEK_SET);
	return hs.loop;
}

/* the remote addresses, in one new message with Delivered-To: rcpt first */
static void reinject(struct exp *x, const char *sender, int in, struct local_result *r)
{
	const char **rc = calloc(x->n, sizeof *rc);
	sa_t pre = SA_INIT, msg = SA_INIT, reply = SA_INIT;
	struct enqc_env env;
	struct enqc c;
	size_t n = 0;
	int k;

	if (!rc || sa_catf(&pre, "Delivered-To: %s%s\n", x->rcpt, x->binary ? "\r" : "") < 0) {
		local_set(r, 'T', "4.3.0", "out of memory", NULL);
		goto out;
	}
	for (size_t i = 0; i < x->n; i++)
		if (x->it[i].kind == LI_REMOTE)
			rc[n++] = x->it[i].v.s;
	if (local_read_msg(in, pre.s, (size_t)x->conf->message_size_limit * 2 + 65536, &msg, r) < 0)
		goto out;
	memset(&env, 0, sizeof env);
	env.sender = sender;
	env.body = x->binary ? "BINARYMIME" : "";
	for (size_t i = 0; !x->binary && i < msg.len; i++)
		if ((unsigned char)msg.s[i] >= 0x80) {
			env.body = "8BITMIME";
			break;
		}
	env.proto = "LOCAL";
	env.rcpt = rc;
	env.nrcpt = n;
	enqc_init(&c);
	if (enqc_open(&c, paths_prog("pochta-enqueue"), ENQ_TIMEOUT_MS) < 0) {
		local_set(r, 'T', "4.3.0", "cannot start pochta-enqueue", strerror(errno));
		goto out;
	}
	k = enqc_send(&c, &env, msg.s, msg.len, &reply);
	enqc_close(&c);
	if (k == 'K') {
		local_set(r, 'D', "2.0.0", "forwarded as", reply.s);
		log_info(x->qid, "<%s>: forwarded to %zu address%s as %s", x->rcpt, n,
		         n == 1 ? "" : "es", reply.s ? reply.s : "?");
	} else if (k == 'X') {
		local_set(r, 'P', "5.3.0", "forwarding refused", reply.s);
	} else {
		local_set(r, 'T', "4.3.0", "cannot forward now", k < 0 ? strerror(errno) : reply.s);
	}
out:
	free(rc);
	sa_free(&pre);
	sa_free(&msg);
	sa_free(&reply);
}

struct job {
	const struct item *i;
	struct local_env e;
	int in;
};

static void run_job(const struct conf *conf, void *arg, struct local_result *r)
{
	struct job *j = arg;
	sa_t err = SA_INIT;

	(void)conf;
	if (!j->i->who.self && priv_drop(&j->i->who.pu, &err) < 0) {
		local_set(r, 'T', "4.3.0", "cannot become the account", err.s);
		sa_free(&err);
		return;
	}
	if (j->i->kind == LI_PIPE)
		local_pipe(j->i->v.s, &j->e, j->in, r);
	else
		local_mbox(j->i->v.s, &j->e, j->in, r);
}

/* the first T, else the first P, else D, with the target's description */
static void tally(struct local_result *agg, const struct item *i, const struct local_result *r)
{
	sa_t t = SA_INIT;

	if (r->class == 'D' || agg->class == 'T' || (agg->class == 'P' && r->class == 'P'))
		return;
	sa_catf(&t, "%s%s: %s", i->kind == LI_PIPE ? "|" : "", i->v.s, r->text.s ? r->text.s : "");
	local_set(agg, r->class, r->status, t.s ? t.s : "", NULL);
	if (r->status == r->st) {
		memcpy(agg->st, r->st, sizeof agg->st);
		agg->status = agg->st;
	}
	sa_free(&t);
}

void local_alias_deliver(const struct conf *conf, const char *qid, const struct local_dest *d,
                         const char *sender, const char *rcpt, int in, int sock,
                         struct local_result *r)
{
	struct exp x;
	struct local_result agg = LOCAL_RESULT_INIT;
	sa_t err = SA_INIT, path = SA_INIT, dom = SA_INIT;
	char local[ADDR_LOCAL_MAX + 1] = "", ext[ADDR_LOCAL_MAX + 1] = "";
	char delim = conf->recipient_delimiter ? conf->recipient_delimiter[0] : '\0';
	size_t delivered = 0, nremote = 0;
	struct addr a;
	off_t off0;

	memset(&a, 0, sizeof a);
	memset(&x, 0, sizeof x);
	x.conf = conf;
	x.qid = qid && qid[0] ? qid : NULL;
	x.rcpt = rcpt;
	x.binary = d->binary;
	off0 = lseek(in, 0, SEEK_CUR);
	if (off0 < 0) {
		local_set(r, 'T', "4.3.0", "cannot seek in the message", strerror(errno));
		return;
	}
	if (seen_before(in, off0, rcpt)) {
		local_set(r, 'P', "5.4.6", "mail forwarding loop: already delivered to", NULL);
		sa_catf(&r->text, " <%s>", rcpt);
		return;
	}
	if (sa_catf(&path, "%s/aliases", paths.etc) < 0 || sa_catf(&x.users, "%s/users", paths.etc) < 0 ||
	    !(x.tab = aliases_load(path.s, &err))) {
		log_warn(x.qid, "aliases: %s", err.s ? err.s : "out of memory");
		local_set(r, 'T', "4.3.5", "configuration error: the aliases file (see the log)", NULL);
		goto out;
	}
	/* the recipient's domain for the names in its expansion; the bare
	 * postmaster's is the origin */
	if (localaddr_parse(rcpt, strlen(rcpt), &a) == ADDR_OK && a.has_domain) {
		snprintf(x.domain, sizeof x.domain, "%s", a.domain);
	} else {
		if (localaddr_origin(conf, &dom) < 0) {
			local_set(r, 'T', "4.3.0", "out of memory", NULL);
			goto out;
		}
		snprintf(x.domain, sizeof x.domain, "%s", dom.s);
	}
	snprintf(local, sizeof local, "%s", a.local);
	if (delim && strchr(local, delim)) {
		snprintf(ext, sizeof ext, "%s", strchr(local, delim) + 1);
		*strchr(local, delim) = '\0';
	}
	if (d->alias[0]) {
		expand_alias(&x, d->alias);
	} else if (expand_forward(&x, d) < 0) {
		/* an ignored .forward: the user's Maildir */
		local_deliver_dest(conf, d, sender, rcpt, in, sock, r);
		goto out;
	}
	if (x.fail.class == 'T') {
		local_set(r, 'T', x.fail.status, x.fail.text.s ? x.fail.text.s : "", NULL);
		goto out;
	}
	for (size_t k = 0; k < x.n; k++) {
		struct item *i = &x.it[k];
		struct local_result ir = LOCAL_RESULT_INIT;
		struct job j;

		if (i->kind == LI_REMOTE) {
			nremote++;
			continue;
		}
		if (lseek(in, off0, SEEK_SET) < 0) {
			local_set(&ir, 'T', "4.3.0", "cannot seek in the message", strerror(errno));
		} else if (i->kind == LI_MAILDIR) {
			i->d.binary = x.binary;
			local_deliver_dest(conf, &i->d, sender, i->v.s, in, sock, &ir);
		} else {
			memset(&j, 0, sizeof j);
			j.i = i;
			j.in = in;
			j.e.sender = sender;
			j.e.rcpt = rcpt;
			j.e.local = local;
			j.e.ext = ext;
			j.e.domain = x.domain;
			j.e.home = i->who.home[0] ? i->who.home : "/";
			j.e.user = i->who.pu.name;
			j.e.time_limit = conf->command_time_limit;
			j.e.max = (size_t)conf->message_size_limit * 2 + 65536;
			local_fork(conf, run_job, &j, sock, &ir);
		}
		log_info(x.qid, "<%s>: %s%s: status=%s %s", rcpt, i->kind == LI_PIPE ? "|" : "", i->v.s,
		         ir.status ? ir.status : "?", ir.text.s ? ir.text.s : "");
		if (ir.class == 'D')
			delivered++;
		tally(&agg, i, &ir);
		sa_free(&ir.text);
	}
	if (nremote) {
		struct local_result ir = LOCAL_RESULT_INIT;
		struct item ri;
		memset(&ri, 0, sizeof ri);
		ri.v.s = (char *)"forwarding";
		if (lseek(in, off0, SEEK_SET) < 0)
			local_set(&ir, 'T', "4.3.0", "cannot seek in the message", strerror(errno));
		else
			reinject(&x, sender, in, &ir);
		if (ir.class == 'D')
			delivered += nremote;
		tally(&agg, &ri, &ir);
		sa_free(&ir.text);
	}
	if (agg.class == 'T' || (agg.class == 'P' && x.fail.class != 'P')) {
		local_set(r, agg.class, agg.status, agg.text.s ? agg.text.s : "", NULL);
		if (agg.status == agg.st) {
			memcpy(r->st, agg.st, sizeof r->st);
			r->status = r->st;
		}
	} else if (x.fail.class == 'P') {
		local_set(r, 'P', x.fail.status, x.fail.text.s ? x.fail.text.s : "", NULL);
	} else {
		char t[96];
		snprintf(t, sizeof t, "delivered to %zu target%s", delivered, delivered == 1 ? "" : "s");
		local_set(r, 'D', "2.0.0", t, NULL);
	}
out:
	for (size_t k = 0; k < x.n; k++) {
		sa_free(&x.it[k].v);
		sa_free(&x.it[k].d.dir);
	}
	free(x.it);
	sa_free(&x.users);
	sa_free(&x.fail.text);
	sa_free(&agg.text);
	sa_free(&err);
	sa_free(&path);
	sa_free(&dom);
}
