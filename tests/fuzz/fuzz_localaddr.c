/* libFuzzer harness: localaddr_map / localaddr_parse / localaddr_postmaster,
 * localaddr_lookup with system users (sysuser.c), and the home_mailbox check.
 * Input: one byte choosing recipient_delimiter, then an RCPT path.
 * Properties: no crash; a mailbox is a valid user name; what the mapping says
 * of the parsed path (pochta-smtpd at RCPT) it says again of the text the
 * queue holds for it (pochta-local at delivery), and the local-domain and
 * postmaster tests pochta-qmgr uses agree with it; with no etc/users, the
 * lookup names only host accounts that receive mail (never root, never below
 * local_uid_minimum); with a users file of bare and NAME@DOMAIN users, a
 * mailbox found is a listed mailbox name of the recipient's domain (or the
 * catch-all's), never a bare name in a virtual domain, and its extension is
 * what follows the user part and the delimiter; an extension's folder name
 * holds no '/', no leading '.' and no ".."; with no aliases file, an alias
 * (or the postmaster mailbox through one) only for root and the RFC 2142
 * names, and at a virtual domain for the latter only; a home_mailbox accepted is
 * relative, ends with '/' and holds no "." or ".." component. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "localaddr.h"
#include "maildir.h"
#include "paths.h"
#include "sysuser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char users_path[64];

static void cleanup(void)
{
	unlink(users_path);
}

static const char *const delims[] = { "+", "-", "", ".", "\"", " ", "@", "_" };

static void check_user(int kind, const char *user)
{
	size_t n = strlen(user);

	if (kind == LOCALADDR_USER || kind == LOCALADDR_POSTMASTER) {
		if (!user_name_valid(user, n))
			abort();
	} else if (n != 0) {
		abort();
	}
}

/* the input as a home_mailbox value */
static void check_mailbox(const uint8_t *data, size_t size)
{
	char v[300];
	sa_t err = SA_INIT;

	if (size >= sizeof v)
		return;
	memcpy(v, data, size);
	v[size] = '\0';
	if (sysuser_mailbox_check(v, &err) == 0) {
		size_t n = strlen(v);
		if (n < 2 || v[0] == '/' || v[n - 1] != '/' || strstr(v, "//") ||
		    strncmp(v, "./", 2) == 0 || strncmp(v, "../", 3) == 0 || strstr(v, "/./") ||
		    strstr(v, "/../"))
			abort();
	}
	sa_free(&err);
}

/* with no aliases file (paths.etc empty) only the defaults are aliases:
 * root, and the RFC 2142 names; at a virtual domain those three only. The
 * name the alias step found is the whole local part or the user part. */
static int default_alias_ok(const struct conf *c, const struct addr *a, int k,
                            const struct localaddr_dest *d)
{
	static const char *const names[] = { "root", "postmaster", "abuse", "mailer-daemon" };
	char delim = c->recipient_delimiter[0];
	size_t n = strlen(a->local), cut = n;
	int virt = a->has_domain && localaddr_domain_is_virtual(c, a->domain, strlen(a->domain));

	if (delim && strchr(a->local, delim))
		cut = (size_t)(strchr(a->local, delim) - a->local);
	for (size_t i = virt ? 1 : 0; i < sizeof names / sizeof names[0]; i++) {
		size_t l = strlen(names[i]);
		if ((l == n || l == cut) && strncasecmp(a->local, names[i], l) == 0) {
			/* postmaster, the admin alias (root): the postmaster mailbox */
			if (k == LOCALADDR_POSTMASTER)
				return strcmp(d->user, c->postmaster) == 0;
			return k == LOCALADDR_ALIAS && strcasecmp(d->alias, names[i]) == 0;
		}
	}
	return 0;
}

/* the lookup with system users on (paths.conf: a file root owns) and no
 * users file: SYSTEM only for an account sysuser_get accepts */
static void check_lookup(const struct conf *c, const struct addr *a, int kmap)
{
	struct localaddr_dest d;
	struct sysuser su;
	int k;

	snprintf(paths.conf, sizeof paths.conf, "/etc/passwd");
	k = localaddr_lookup(c, "/nonexistent/users", a, &d);
	paths.conf[0] = '\0';
	if (kmap != LOCALADDR_USER) {
		if (k != kmap)
			abort();
		return;
	}
	if (k == LOCALADDR_SYSTEM) {
		if (!user_name_valid(d.user, strlen(d.user)) || sysuser_get(c, d.user, &su) != 1 ||
		    su.uid != d.uid || d.uid == 0 || (long long)d.uid < c->local_uid_minimum)
			abort();
	} else if (k == LOCALADDR_ALIAS || k == LOCALADDR_POSTMASTER) {
		if (!default_alias_ok(c, a, k, &d))
			abort();
	} else if (k != LOCALADDR_UNKNOWN && k != LOCALADDR_TEMPFAIL) {
		abort();
	}
}

/* the lookup with bare and domain users (v.test virtual, with a catch-all) */
static void check_domains(const struct conf *c, const struct addr *a, int kmap)
{
	static char path[64];
	struct localaddr_dest d;
	char folder[MAILDIR_FOLDER_MAX + 1];
	const char *dom;
	FILE *f;
	int k;

	if (!path[0]) {
		snprintf(path, sizeof path, "/dev/shm/fuzz_localaddr.%ld", (long)getpid());
		f = fopen(path, "w");
		if (!f || fputs("alice\nbob\nalice@v.test\ncatch@v.test\nbob@b.test\n", f) < 0 ||
		    fclose(f) != 0)
			abort();
		atexit(cleanup);
		snprintf(users_path, sizeof users_path, "%s", path);
	}
	k = localaddr_lookup(c, path, a, &d);
	if (kmap != LOCALADDR_USER) {
		if (k != kmap)
			abort();
		return;
	}
	if (k == LOCALADDR_UNKNOWN || k == LOCALADDR_TEMPFAIL) {
		if (d.user[0] || d.ext[0])
			abort();
		return;
	}
	if (k == LOCALADDR_ALIAS || k == LOCALADDR_POSTMASTER) {
		if (!default_alias_ok(c, a, k, &d))
			abort();
		return;
	}
	if (k != LOCALADDR_USER || !user_mailbox_valid(d.user, strlen(d.user)) ||
	    users_exists(path, d.user) != 1)
		abort();
	dom = user_mailbox_domain(d.user);
	if (strcmp(d.user, "catch@v.test") == 0) {
		if (strcmp(a->domain, "v.test") != 0)   /* its own user, or the catch-all */
			abort();
	} else if (dom ? strcmp(dom, a->domain) != 0 : strcmp(a->domain, "v.test") == 0) {
		abort();
	}
	if (d.ext[0]) {
		size_t n = strlen(a->local), e = strlen(d.ext);
		if (e >= n || strcmp(a->local + n - e, d.ext) != 0 ||
		    a->local[n - e - 1] != c->recipient_delimiter[0])
			abort();
	}
	if (maildir_folder_name(d.ext, folder) == 1 &&
	    (strchr(folder, '/') || folder[0] == '.' || strstr(folder, "..") || !folder[0]))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "local_domains = example.test, b.test\npostmaster = root\n"
	                           "virtual_domains = v.test\ncatch_all = @v.test:catch@v.test\n";
	struct conf c;
	struct addr a, b;
	sa_t q = SA_INIT;
	char u1[USER_NAME_MAX + 1], u2[USER_NAME_MAX + 1];
	int k1, k2;

	check_mailbox(data, size);
	if (size < 1)
		return 0;
	if (conf_parse(&c, "fuzz", text, sizeof text - 1, NULL) < 0)
		abort();
	if (conf_set(&c, conf_key_find("recipient_delimiter"), delims[data[0] % 8], NULL) < 0)
		abort();
	/* as pochta-smtpd's RCPT parser: a bare local part only for postmaster */
	if (addr_parse_path((const char *)data + 1, size - 1, &a, 0, 1, NULL) != ADDR_OK ||
	    (!a.has_domain && strcasecmp(a.local, "postmaster") != 0))
		goto out;
	k1 = localaddr_map(&c, &a, u1);
	check_user(k1, u1);
	if (k1 == LOCALADDR_TEMPFAIL)
		abort();                /* the postmaster key is valid here */
	check_lookup(&c, &a, k1);
	check_domains(&c, &a, k1);
	if (a.has_domain ? addr_format(&a, &q) < 0 : localaddr_postmaster(&c, &q) < 0)
		abort();
	if (localaddr_parse(q.s, q.len, &b) != ADDR_OK)
		abort();
	k2 = localaddr_map(&c, &b, u2);
	if (k1 != k2 || strcmp(u1, u2) != 0)
		abort();
	if (localaddr_text_is_local(&c, q.s) != (k1 != LOCALADDR_REMOTE))
		abort();
	if (localaddr_is_postmaster(&c, q.s) != (k1 == LOCALADDR_POSTMASTER))
		abort();
out:
	sa_free(&q);
	conf_free(&c);
	return 0;
}
