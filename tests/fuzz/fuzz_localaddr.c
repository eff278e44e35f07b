/* libFuzzer harness: localaddr_map / localaddr_parse / localaddr_postmaster,
 * localaddr_lookup with system users (sysuser.c), and the home_mailbox check.
 * Input: one byte choosing recipient_delimiter, then an RCPT path.
 * Properties: no crash; a mailbox is a valid user name; what the mapping says
 * of the parsed path (pochta-smtpd at RCPT) it says again of the text the
 * queue holds for it (pochta-local at delivery), and the local-domain and
 * postmaster tests pochta-qmgr uses agree with it; with no etc/users, the
 * lookup names only host accounts that receive mail (never root, never below
 * local_uid_minimum); a home_mailbox accepted is relative, ends with '/' and
 * holds no "." or ".." component. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "localaddr.h"
#include "paths.h"
#include "sysuser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	} else if (k != LOCALADDR_UNKNOWN && k != LOCALADDR_TEMPFAIL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "local_domains = example.test, b.test\npostmaster = root\n";
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
