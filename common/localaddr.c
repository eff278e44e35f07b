/* localaddr: local recipients and their mailboxes (localaddr.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "sysuser.h"

#define PM "postmaster"
#define PM_LEN 10

int localaddr_domain_is_local(const struct conf *c, const char *dom, size_t len)
{
	if (len == 0 || dom[0] == '[')
		return 0;
	return conf_list_has(c->local_domains, dom, len) || conf_list_has(c->virtual_domains, dom, len);
}

int localaddr_domain_is_virtual(const struct conf *c, const char *dom, size_t len)
{
	if (len == 0 || dom[0] == '[')
		return 0;
	return conf_list_has(c->virtual_domains, dom, len);
}

int localaddr_catchall_parse(const char *item, size_t len, const char **dom, size_t *domlen,
                             const char **mbox, size_t *mboxlen)
{
	const char *colon = len > 0 ? memchr(item, ':', len) : NULL;

	if (!colon || item[0] != '@')
		return -1;
	*dom = item + 1;
	*domlen = (size_t)(colon - item) - 1;
	*mbox = colon + 1;
	*mboxlen = len - (size_t)(colon - item) - 1;
	if (*domlen == 0 || **dom == '[' || !addr_domain_valid(*dom, *domlen) ||
	    !user_mailbox_valid(*mbox, *mboxlen))
		return -1;
	return 0;
}

int localaddr_text_is_local(const struct conf *c, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (!at)
		return strcasecmp(addr, PM) == 0;
	return localaddr_domain_is_local(c, at + 1, strlen(at + 1));
}

int localaddr_parse(const char *s, size_t len, struct addr *a)
{
	if (len == PM_LEN && strncasecmp(s, PM, PM_LEN) == 0) {
		memset(a, 0, sizeof *a);
		memcpy(a->local, s, PM_LEN);
		return ADDR_OK;
	}
	return addr_parse_u(s, len, a, 1); /* SMTPUTF8 recipients included */
}

int localaddr_map(const struct conf *c, const struct addr *a, char *user)
{
	char delim = c->recipient_delimiter ? c->recipient_delimiter[0] : '\0';
	size_t n = 0;

	user[0] = '\0';
	if (a->null)
		return LOCALADDR_UNKNOWN;
	if (a->has_domain && !localaddr_domain_is_local(c, a->domain, strlen(a->domain)))
		return LOCALADDR_REMOTE;
	if (!a->has_domain) {
		/* only <Postmaster> lives without a domain (RFC 5321 §4.5.1) */
		if (strcasecmp(a->local, PM) != 0)
			return LOCALADDR_UNKNOWN;
	} else {
		for (const char *p = a->local; *p && *p != delim; p++) {
			if (n == USER_NAME_MAX) {
				user[0] = '\0';
				return LOCALADDR_UNKNOWN;   /* no user name is that long */
			}
			user[n++] = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		}
		user[n] = '\0';
		if (strcmp(user, PM) != 0) {
			if (!user_name_valid_u(user, n)) {
				user[0] = '\0';
				return LOCALADDR_UNKNOWN;
			}
			return LOCALADDR_USER;
		}
	}
	/* pochtactl checks the key; a hand-edited file may still be wrong */
	n = c->postmaster ? strlen(c->postmaster) : 0;
	if (!user_name_valid(c->postmaster ? c->postmaster : "", n)) {
		user[0] = '\0';
		errno = EINVAL;
		return LOCALADDR_TEMPFAIL;
	}
	memcpy(user, c->postmaster, n + 1);
	return LOCALADDR_POSTMASTER;
}

/* the lowercased whole local part into whole when it is longer than the
 * user part already in user and may be a user name: 1, else 0 */
static int whole_local(const struct addr *a, const char *user, char *whole)
{
	size_t n = strlen(a->local), i;

	if (n <= strlen(user) || n > USER_NAME_MAX)
		return 0;
	for (i = 0; i <= n; i++)
		whole[i] = (a->local[i] >= 'A' && a->local[i] <= 'Z') ? (char)(a->local[i] - 'A' + 'a')
		                                                    : a->local[i];
	return user_name_valid_u(whole, n);
}

/* NAME@DOMAIN into out (USER_MAILBOX_MAX + 1 bytes); the domain lowercased */
static void qualify(const char *name, const char *dom, char *out)
{
	size_t n = strlen(name), i;

	memcpy(out, name, n);
	out[n++] = '@';
	for (i = 0; dom[i]; i++)
		out[n + i] = (dom[i] >= 'A' && dom[i] <= 'Z') ? (char)(dom[i] - 'A' + 'a') : dom[i];
	out[n + i] = '\0';
}

/* a mailbox name in etc/users: USER with d->user set, UNKNOWN, TEMPFAIL */
static int lookup_listed(const char *users_path, const char *name, struct localaddr_dest *d)
{
	int ex = users_exists(users_path, name);

	if (ex < 0)
		return LOCALADDR_TEMPFAIL;
	if (ex == 0)
		return LOCALADDR_UNKNOWN;
	memmove(d->user, name, strlen(name) + 1);
	return LOCALADDR_USER;
}

/* a host account: SYSTEM with d->user and d->uid set, UNKNOWN, TEMPFAIL */
static int lookup_system(const struct conf *c, const char *name, struct localaddr_dest *d)
{
	struct sysuser su;
	int ex = sysuser_get(c, name, &su);

	if (ex < 0)
		return LOCALADDR_TEMPFAIL;
	if (ex == 0)
		return LOCALADDR_UNKNOWN;
	memmove(d->user, name, strlen(name) + 1);
	d->uid = su.uid;
	return LOCALADDR_SYSTEM;
}

struct catchall_find {
	const char *dom;
	char *mbox;       /* USER_MAILBOX_MAX + 1 bytes */
};

static int catchall_item(const char *item, size_t len, void *arg)
{
	struct catchall_find *f = arg;
	const char *dom, *mb;
	size_t dl, ml;

	/* pochtactl checks the key; a hand-edited bad item is skipped */
	if (localaddr_catchall_parse(item, len, &dom, &dl, &mb, &ml) < 0 ||
	    strlen(f->dom) != dl || strncasecmp(dom, f->dom, dl) != 0)
		return 0;
	memcpy(f->mbox, mb, ml);
	f->mbox[ml] = '\0';
	return 1;
}

/* the recipient's mailbox among the users: whole and user part (try[],
 * nt of them) as the domain's own users, then, outside virtual domains, as
 * bare users, then as host accounts. ext is the extension when the user
 * part (the last try) found it. */
static int lookup_users(const struct conf *c, const char *users_path, const struct addr *a,
                        const char *const *try, int nt, const char *ext,
                        struct localaddr_dest *d)
{
	char name[USER_MAILBOX_MAX + 1];
	int virt = localaddr_domain_is_virtual(c, a->domain, strlen(a->domain));
	int passes = virt ? 1 : sysuser_enabled(c) ? 3 : 2, r = LOCALADDR_UNKNOWN, pass, i;

	/* pass 0: NAME@DOMAIN; 1: bare NAME in etc/users; 2: host accounts */
	for (pass = 0; pass < passes && r == LOCALADDR_UNKNOWN; pass++) {
		for (i = 0; i < nt && r == LOCALADDR_UNKNOWN; i++) {
			if (pass == 0) {
				qualify(try[i], a->domain, name);
				r = lookup_listed(users_path, name, d);
			} else if (pass == 1) {
				r = lookup_listed(users_path, try[i], d);
			} else {
				r = lookup_system(c, try[i], d);
			}
			if (r != LOCALADDR_UNKNOWN && r != LOCALADDR_TEMPFAIL && i == nt - 1 && ext)
				memcpy(d->ext, ext, strlen(ext) + 1);
		}
	}
	return r;
}

/* the domain's catch_all mailbox, as a listed user or (bare) a host account */
static int lookup_catchall(const struct conf *c, const char *users_path, const struct addr *a,
                           struct localaddr_dest *d)
{
	char mbox[USER_MAILBOX_MAX + 1];
	struct catchall_find f = { a->domain, mbox };
	int r;

	if (conf_list_each(c->catch_all, catchall_item, &f) != 1)
		return LOCALADDR_UNKNOWN;
	r = lookup_listed(users_path, mbox, d);
	if (r == LOCALADDR_UNKNOWN && !user_mailbox_domain(mbox) && sysuser_enabled(c))
		r = lookup_system(c, mbox, d);
	return r;
}

/* the aliases step: ALIAS, POSTMASTER (a default that leads to it: the
 * mailbox in d->user), TEMPFAIL, or UNKNOWN when the address is no alias */
static int rfc2142_name(const char *n)
{
	return strcmp(n, "postmaster") == 0 || strcmp(n, "abuse") == 0 ||
	       strcmp(n, "mailer-daemon") == 0;
}

/* virtual: a virtual domain, where only the RFC 2142 names are looked up
 * (after its own users); else a local_domains domain, where every name is */
static int alias_step(const struct conf *c, const struct addr *a, struct localaddr_dest *d,
                      int virtual)
{
	char delim = c->recipient_delimiter ? c->recipient_delimiter[0] : '\0';
	char names[2][ALIASES_NAME_MAX + 1];
	const struct aliases_tab *t = NULL;
	const char *tg;
	size_t n = strlen(a->local), cut = n;
	sa_t path = SA_INIT, err = SA_INIT;
	int nn = 0;

	/* as Postfix's alias_maps: the local domains, not the virtual ones */
	if (a->null || n == 0 || (a->has_domain
	    ? !localaddr_domain_is_local(c, a->domain, strlen(a->domain)) ||
	      localaddr_domain_is_virtual(c, a->domain, strlen(a->domain)) != virtual
	    : virtual || strcasecmp(a->local, PM) != 0))
		return LOCALADDR_UNKNOWN;
	if (delim && strchr(a->local, delim))
		cut = (size_t)(strchr(a->local, delim) - a->local);
	for (size_t len = n; nn < 2 && len > 0; len = cut) {
		if (len <= ALIASES_NAME_MAX) {
			for (size_t i = 0; i < len; i++)
				names[nn][i] = (a->local[i] >= 'A' && a->local[i] <= 'Z')
				               ? (char)(a->local[i] - 'A' + 'a') : a->local[i];
			names[nn++][len] = '\0';
		}
		if (len == cut)
			break;
	}
	/* a program without paths (a unit test) has only the defaults */
	if (paths.etc[0]) {
		if (sa_catf(&path, "%s/aliases", paths.etc) < 0 || !(t = aliases_load(path.s, &err))) {
			log_warn(NULL, "aliases: %s", err.s ? err.s : "out of memory");
			sa_free(&path);
			sa_free(&err);
			errno = EBADMSG;
			return LOCALADDR_TEMPFAIL;
		}
		sa_free(&path);
	}
	for (int i = 0; i < nn; i++) {
		if (virtual && !rfc2142_name(names[i]))
			continue;
		switch (aliases_resolve(t, c->admin_alias ? c->admin_alias : "root", names[i], &tg)) {
		case ALIASES_LISTED:
		case ALIASES_ADMIN:
			memcpy(d->alias, names[i], strlen(names[i]) + 1);
			return LOCALADDR_ALIAS;
		case ALIASES_POSTMASTER:
			n = c->postmaster ? strlen(c->postmaster) : 0;
			if (!user_name_valid(c->postmaster ? c->postmaster : "", n)) {
				errno = EINVAL;
				return LOCALADDR_TEMPFAIL;
			}
			memcpy(d->user, c->postmaster, n + 1);
			return LOCALADDR_POSTMASTER;
		}
	}
	return LOCALADDR_UNKNOWN;
}

int localaddr_lookup(const struct conf *c, const char *users_path, const struct addr *a,
                     struct localaddr_dest *d)
{
	int r;

	d->uid = 0;
	d->alias[0] = '\0';
	d->user[0] = '\0';
	d->ext[0] = '\0';
	r = alias_step(c, a, d, 0);
	if (r == LOCALADDR_UNKNOWN)
		r = localaddr_lookup_mailbox(c, users_path, a, d);
	/* RFC 2142: abuse and mailer-daemon exist at a virtual domain too,
	 * when it has no user, nor catch-all, of its own for them */
	if (r == LOCALADDR_UNKNOWN)
		r = alias_step(c, a, d, 1);
	return r;
}

int localaddr_lookup_mailbox(const struct conf *c, const char *users_path, const struct addr *a,
                             struct localaddr_dest *d)
{
	char *user = d->user, whole[USER_NAME_MAX + 1], cut[USER_NAME_MAX + 1];
	const char *try[2], *ext = NULL;
	int r = localaddr_map(c, a, user), nt = 0;
	char delim = c->recipient_delimiter ? c->recipient_delimiter[0] : '\0';

	d->uid = 0;
	d->ext[0] = '\0';
	d->alias[0] = '\0';
	if (r != LOCALADDR_USER)
		return r;
	memcpy(cut, user, strlen(user) + 1);
	/* As Postfix does, the whole local part first: with recipient_delimiter
	 * '-', mary-jane is a user, not mary with extension "jane". */
	if (whole_local(a, cut, whole))
		try[nt++] = whole;
	try[nt++] = cut;
	if (delim && a->local[strlen(cut)] == delim)
		ext = a->local + strlen(cut) + 1;
	r = lookup_users(c, users_path, a, try, nt, ext, d);
	if (r == LOCALADDR_UNKNOWN)
		r = lookup_catchall(c, users_path, a, d);
	if (r != LOCALADDR_USER && r != LOCALADDR_SYSTEM) {
		user[0] = '\0';
		d->ext[0] = '\0';
		d->uid = 0;
	}
	return r;
}

int localaddr_is_postmaster(const struct conf *c, const char *addr)
{
	struct addr a;
	char user[USER_NAME_MAX + 1];

	if (localaddr_parse(addr, strlen(addr), &a) != ADDR_OK)
		return 0;
	return localaddr_map(c, &a, user) == LOCALADDR_POSTMASTER;
}

static int first_item(const char *item, size_t len, void *arg)
{
	sa_t *out = arg;

	return (sa_catc(out, '@') < 0 || sa_catb(out, item, len) < 0) ? -1 : 1;
}

int localaddr_postmaster(const struct conf *c, sa_t *out)
{
	size_t old = out->len;

	if (sa_cats(out, PM) < 0)
		return -1;
	if (conf_list_each(c->local_domains, first_item, out) < 0) {
		sa_trunc(out, old);
		return -1;
	}
	return 0;
}

static int first_domain(const char *item, size_t len, void *arg)
{
	return sa_catb(arg, item, len) < 0 ? -1 : 1;
}

int localaddr_origin(const struct conf *c, sa_t *out)
{
	size_t old = out->len;
	int r = conf_list_each(c->local_domains, first_domain, out);

	if (r < 0) {
		sa_trunc(out, old);
		return -1;
	}
	return r == 0 ? sa_cats(out, conf_hostname(c)) : 0;
}
