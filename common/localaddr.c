/* localaddr: local recipients and their mailboxes (localaddr.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "localaddr.h"
#include "sysuser.h"

#define PM "postmaster"
#define PM_LEN 10

int localaddr_domain_is_local(const struct conf *c, const char *dom, size_t len)
{
	if (len == 0 || dom[0] == '[')
		return 0;
	return conf_list_has(c->local_domains, dom, len);
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
	return addr_parse(s, len, a);
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
			if (!user_name_valid(user, n)) {
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
	return user_name_valid(whole, n);
}

int localaddr_lookup(const struct conf *c, const char *users_path, const struct addr *a,
                     struct localaddr_dest *d)
{
	char *user = d->user, whole[USER_NAME_MAX + 1];
	const char *try[2];
	int r = localaddr_map(c, a, user), ex, nt = 0;
	struct sysuser su;

	d->uid = 0;
	if (r != LOCALADDR_USER)
		return r;
	/* As Postfix does, the whole local part first: with recipient_delimiter
	 * '-', mary-jane is a user, not mary with extension "jane". */
	if (whole_local(a, user, whole))
		try[nt++] = whole;
	try[nt++] = user;
	for (int i = 0; i < nt; i++) {
		ex = users_exists(users_path, try[i]);
		if (ex < 0)
			goto tempfail;
		if (ex == 1) {
			memmove(user, try[i], strlen(try[i]) + 1);
			return LOCALADDR_USER;
		}
	}
	if (sysuser_enabled(c)) {
		for (int i = 0; i < nt; i++) {
			ex = sysuser_get(c, try[i], &su);
			if (ex < 0)
				goto tempfail;
			if (ex == 1) {
				memmove(user, try[i], strlen(try[i]) + 1);
				d->uid = su.uid;
				return LOCALADDR_SYSTEM;
			}
		}
	}
	user[0] = '\0';
	return LOCALADDR_UNKNOWN;
tempfail:
	user[0] = '\0';
	return LOCALADDR_TEMPFAIL;
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
