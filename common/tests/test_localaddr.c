/* Unit tests for common/localaddr.c: the one address-to-mailbox mapping. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pwd.h>
#include "localaddr.h"
#include "paths.h"
#include "test.h"

static char dir[64], users[128];

/* 32 octets: the longest user name */
#define U32 "abcdefghijklmnopqrstuvwxyz012345"
#define X28 "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X58 X28 X28 "xx"

static void setup(void)
{
	FILE *f;

	snprintf(dir, sizeof dir, "/tmp/test_localaddrXXXXXX");
	T_ASSERT(mkdtemp(dir) != NULL);
	snprintf(users, sizeof users, "%s/users", dir);
	f = fopen(users, "w");
	T_ASSERT(f != NULL);
	if (f) {
		fputs("alice\nbob\nmary.jane\nmary-jane\n" U32 "\n", f);
		fclose(f);
	}
}

static void conf_with(struct conf *c, const char *text)
{
	T_INTEQ(conf_parse(c, "test", text, strlen(text), NULL), 0);
}

#define DEF "local_domains = example.test, other.test\npostmaster = root\n"

struct map_case {
	const char *conf;     /* configuration text */
	const char *path;     /* as in RCPT TO: */
	int kind;
	const char *user;     /* the mailbox, "" when none */
};

static const struct map_case map_cases[] = {
	{ DEF, "<alice@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<ALICE@Other.TEST>", LOCALADDR_USER, "alice" },
	{ DEF, "<Alice+Lists@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<alice+@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<alice++x+y@example.test>", LOCALADDR_USER, "alice" },
	/* the audit's two: accepted at RCPT, refused by delivery */
	{ DEF, "<alice+" X28 "@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<\"alice+a b\"@example.test>", LOCALADDR_USER, "alice" },
	/* 64 octets, the RFC 5321 limit */
	{ DEF, "<alice+" X58 "@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<\"alice+" X28 "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\"@example.test>", LOCALADDR_USER,
	  "alice" },
	/* quoted forms equal to an unquoted one (RFC 5321 §2.3.11, §4.1.2) */
	{ DEF, "<\"alice\"@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<\"Mary.Jane\"@example.test>", LOCALADDR_USER, "mary.jane" },
	{ DEF, "<\"\\a\\lice\"@example.test>", LOCALADDR_USER, "alice" },
	{ DEF, "<\"alice+\\\"x\\\\y\"@example.test>", LOCALADDR_USER, "alice" },
	/* a user part that is no user name: unknown at once */
	{ DEF, "<\"al ice\"@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<\"alice \"@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<\"../alice\"@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<\"alice/x\"@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<\"\"@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<+alice@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<-alice@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<carol@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<" U32 "@example.test>", LOCALADDR_USER, U32 },
	{ DEF, "<" U32 "+x@example.test>", LOCALADDR_USER, U32 },
	{ DEF, "<" U32 "6@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<" U32 X28 "@example.test>", LOCALADDR_UNKNOWN, "" },
	/* the delimiter: another character, or none */
	{ DEF "recipient_delimiter = -\n", "<alice-x@example.test>", LOCALADDR_USER, "alice" },
	{ DEF "recipient_delimiter = -\n", "<alice+x@example.test>", LOCALADDR_UNKNOWN, "" },
	/* the whole local part is tried before the extension is cut off */
	{ DEF "recipient_delimiter = -\n", "<Mary-Jane@example.test>", LOCALADDR_USER, "mary-jane" },
	{ DEF "recipient_delimiter = -\n", "<mary-jane-x@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF "recipient_delimiter = -\n", "<bob-x@example.test>", LOCALADDR_USER, "bob" },
	{ DEF "recipient_delimiter =\n", "<alice+x@example.test>", LOCALADDR_UNKNOWN, "" },
	{ DEF "recipient_delimiter =\n", "<alice@example.test>", LOCALADDR_USER, "alice" },
	{ DEF "recipient_delimiter =\n", "<\"alice\"@example.test>", LOCALADDR_USER, "alice" },
	/* postmaster: bare, at each local domain, quoted, with an extension */
	{ DEF, "<Postmaster>", LOCALADDR_POSTMASTER, "root" },
	{ DEF, "<postmaster>", LOCALADDR_POSTMASTER, "root" },
	{ DEF, "<postmaster@example.test>", LOCALADDR_POSTMASTER, "root" },
	{ DEF, "<POSTMASTER@other.test>", LOCALADDR_POSTMASTER, "root" },
	{ DEF, "<\"PostMaster\"@example.test>", LOCALADDR_POSTMASTER, "root" },
	{ DEF, "<postmaster+x@example.test>", LOCALADDR_POSTMASTER, "root" },
	{ "local_domains = example.test\n", "<postmaster@example.test>", LOCALADDR_POSTMASTER,
	  "postmaster" },
	{ "", "<Postmaster>", LOCALADDR_POSTMASTER, "postmaster" },
	{ DEF, "<postmaster@elsewhere.test>", LOCALADDR_REMOTE, "" },
	{ DEF, "<alice>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<root>", LOCALADDR_UNKNOWN, "" },
	{ DEF, "<postmaster+x>", LOCALADDR_UNKNOWN, "" },
	/* not local */
	{ DEF, "<alice@elsewhere.test>", LOCALADDR_REMOTE, "" },
	{ DEF, "<alice@sub.example.test>", LOCALADDR_REMOTE, "" },
	{ DEF, "<alice@[127.0.0.1]>", LOCALADDR_REMOTE, "" },
	{ DEF, "<@a.test:alice@example.test>", LOCALADDR_USER, "alice" },
	{ "", "<alice@example.test>", LOCALADDR_REMOTE, "" },
	{ "local_domains = [127.0.0.1]\n", "<alice@[127.0.0.1]>", LOCALADDR_REMOTE, "" },
};

static void test_map_table(void)
{
	for (size_t i = 0; i < sizeof map_cases / sizeof map_cases[0]; i++) {
		const struct map_case *t = &map_cases[i];
		struct conf c;
		struct addr a;
		sa_t text = SA_INIT;
		struct localaddr_dest d;
		char *user = d.user;
		int k;

		conf_with(&c, t->conf);
		T_INTEQ(addr_parse_path(t->path, strlen(t->path), &a, 0, 1, NULL), ADDR_OK);
		memset(user, 'z', sizeof d.user);
		k = localaddr_lookup(&c, users, &a, &d);
		if (k != t->kind || strcmp(user, t->user) != 0)
			printf("case %zu: %s\n", i, t->path);
		T_INTEQ(k, t->kind);
		T_STREQ(user, t->user);
		/* delivery sees the queued (formatted) text: the same answer */
		T_INTEQ(addr_format(&a, &text), 0);
		if (!a.has_domain && t->kind != LOCALADDR_POSTMASTER) {
			/* no queue holds it: RCPT refuses a bare <alice> as syntax */
			T_INTEQ(localaddr_parse(text.s, text.len, &a), ADDR_ESYNTAX);
			sa_free(&text);
			conf_free(&c);
			continue;
		}
		T_INTEQ(localaddr_parse(text.s, text.len, &a), ADDR_OK);
		memset(user, 'z', sizeof d.user);
		T_INTEQ(localaddr_lookup(&c, users, &a, &d), t->kind);
		T_STREQ(user, t->user);
		T_INTEQ(localaddr_text_is_local(&c, text.s), t->kind != LOCALADDR_REMOTE);
		T_INTEQ(localaddr_is_postmaster(&c, text.s), t->kind == LOCALADDR_POSTMASTER);
		sa_free(&text);
		conf_free(&c);
	}
}

/* 65 octets never reach the mapping: the parser refuses them */
static void test_local_part_limit(void)
{
	static const char p65[] = "<alice+" X58 "x@example.test>";
	static const char q65[] = "<\"alice+" X28 X28 "x\"@example.test>";
	struct addr a;

	T_INTEQ(addr_parse_path(p65, strlen(p65), &a, 0, 0, NULL), ADDR_ELOCALLEN);
	T_INTEQ(addr_parse_path(q65, strlen(q65), &a, 0, 0, NULL), ADDR_ELOCALLEN);
	T_INTEQ(localaddr_parse(p65 + 1, strlen(p65) - 2, &a), ADDR_ELOCALLEN);
}

/* the mapping alone: USER is a valid name, whether listed or not */
static void test_map_without_users(void)
{
	struct conf c;
	struct addr a;
	struct localaddr_dest d;
	char *user = d.user;

	conf_with(&c, DEF);
	T_INTEQ(localaddr_parse("Carol+x@example.test", 20, &a), ADDR_OK);
	T_INTEQ(localaddr_map(&c, &a, user), LOCALADDR_USER);
	T_STREQ(user, "carol");
	T_INTEQ(localaddr_lookup(&c, users, &a, &d), LOCALADDR_UNKNOWN);
	T_STREQ(user, "");
	memset(&a, 0, sizeof a);
	a.null = 1;
	T_INTEQ(localaddr_map(&c, &a, user), LOCALADDR_UNKNOWN);
	conf_free(&c);
}

static void test_users_file_errors(void)
{
	struct conf c;
	struct addr a;
	struct localaddr_dest d;
	char *user = d.user, missing[160];

	conf_with(&c, DEF);
	T_INTEQ(localaddr_parse("alice@example.test", 18, &a), ADDR_OK);
	/* a missing file is an empty one; a directory cannot be read: try later */
	snprintf(missing, sizeof missing, "%s/none", dir);
	T_INTEQ(localaddr_lookup(&c, missing, &a, &d), LOCALADDR_UNKNOWN);
	T_INTEQ(localaddr_lookup(&c, dir, &a, &d), LOCALADDR_TEMPFAIL);
	T_STREQ(user, "");
	/* the postmaster needs no users file */
	T_INTEQ(localaddr_parse("postmaster", 10, &a), ADDR_OK);
	T_INTEQ(localaddr_lookup(&c, dir, &a, &d), LOCALADDR_POSTMASTER);
	T_STREQ(user, "root");
	conf_free(&c);
}

static void test_bad_postmaster_key(void)
{
	struct conf c;
	struct addr a;
	struct localaddr_dest d;
	char *user = d.user;

	conf_with(&c, "local_domains = example.test\npostmaster = Not/A/User\n");
	T_INTEQ(localaddr_parse("postmaster@example.test", 23, &a), ADDR_OK);
	T_INTEQ(localaddr_lookup(&c, users, &a, &d), LOCALADDR_TEMPFAIL);
	T_STREQ(user, "");
	T_INTEQ(localaddr_is_postmaster(&c, "postmaster@example.test"), 0);
	conf_free(&c);
}

static void test_parse(void)
{
	struct addr a;

	T_INTEQ(localaddr_parse("PostMaster", 10, &a), ADDR_OK);
	T_INTEQ(a.has_domain, 0);
	T_STREQ(a.local, "PostMaster");
	T_INTEQ(localaddr_parse("postmaster", 9, &a), ADDR_ESYNTAX);   /* "postmaste" */
	T_INTEQ(localaddr_parse("alice", 5, &a), ADDR_ESYNTAX);
	T_INTEQ(localaddr_parse("", 0, &a), ADDR_ESYNTAX);
	T_INTEQ(localaddr_parse("\"a b\"@x.test", 12, &a), ADDR_OK);
	T_STREQ(a.local, "a b");
	T_STREQ(a.domain, "x.test");
	T_INTEQ(localaddr_parse("a@x.test\n", 9, &a), ADDR_ESYNTAX);
}

static void test_text_is_local(void)
{
	struct conf c;

	conf_with(&c, DEF);
	T_INTEQ(localaddr_text_is_local(&c, "a@EXAMPLE.TEST"), 1);
	T_INTEQ(localaddr_text_is_local(&c, "\"a@b\"@other.test"), 1);
	T_INTEQ(localaddr_text_is_local(&c, "\"a@example.test\"@b.test"), 0);
	T_INTEQ(localaddr_text_is_local(&c, "postmaster"), 1);
	T_INTEQ(localaddr_text_is_local(&c, "a@"), 0);
	T_INTEQ(localaddr_domain_is_local(&c, "example.test", 12), 1);
	T_INTEQ(localaddr_domain_is_local(&c, "example.tes", 11), 0);
	T_INTEQ(localaddr_domain_is_local(&c, "", 0), 0);
	conf_free(&c);
}

static void test_postmaster_address(void)
{
	struct conf c;
	sa_t out = SA_INIT;

	conf_with(&c, "local_domains = , b.test a.test\n");
	T_INTEQ(sa_cats(&out, "x:"), 0);
	T_INTEQ(localaddr_postmaster(&c, &out), 0);
	T_STREQ(out.s, "x:postmaster@b.test");
	conf_free(&c);
	sa_trunc(&out, 0);
	conf_with(&c, "");
	T_INTEQ(localaddr_postmaster(&c, &out), 0);
	T_STREQ(out.s, "postmaster");
	/* what it gives is local and is the postmaster */
	T_INTEQ(localaddr_text_is_local(&c, out.s), 1);
	T_INTEQ(localaddr_is_postmaster(&c, out.s), 1);
	conf_free(&c);
	sa_free(&out);
}

/* lookup with system users: etc/users first, then the host's accounts with
 * a uid of at least local_uid_minimum (never root); only when pochta.conf
 * (paths.conf) belongs to root. The accounts used are Debian's own: root,
 * daemon (uid 1) and nobody (65534, home /nonexistent). */
static int sys_kind(const char *conf, const char *addr, struct localaddr_dest *d)
{
	struct conf c;
	struct addr a;
	int k;

	conf_with(&c, conf);
	T_INTEQ(localaddr_parse(addr, strlen(addr), &a), ADDR_OK);
	memset(d, 'z', sizeof *d);
	k = localaddr_lookup(&c, users, &a, d);
	conf_free(&c);
	return k;
}

static void test_system_users(void)
{
	struct passwd *pwe = getpwnam("nobody"), pw0, *pw = pwe ? &pw0 : NULL;
	struct localaddr_dest d;
	char other[160], withnobody[160];
	FILE *f;

	int have = pwe && pwe->pw_uid >= 1000 && pwe->pw_dir && pwe->pw_dir[0] == '/';

	if (pwe)   /* getpwnam's storage is reused by the lookups */
		pw0 = *pwe;

	snprintf(paths.conf, sizeof paths.conf, "/etc/passwd");   /* root's */
	T_INTEQ(sys_kind(DEF, "root@example.test", &d), LOCALADDR_UNKNOWN);
	T_STREQ(d.user, "");
	T_INTEQ(sys_kind(DEF "local_uid_minimum = 1\n", "root@example.test", &d), LOCALADDR_UNKNOWN);
	T_INTEQ(sys_kind(DEF, "daemon@example.test", &d), LOCALADDR_UNKNOWN);
	T_INTEQ(sys_kind(DEF, "no-such-account-ptsu@example.test", &d), LOCALADDR_UNKNOWN);
	/* a user of etc/users stays one */
	T_INTEQ(sys_kind(DEF, "alice@example.test", &d), LOCALADDR_USER);
	if (!have) {
		printf("# no nobody account with uid >= 1000: part skipped\n");
		snprintf(paths.conf, sizeof paths.conf, "%s", "");
		return;
	}
	T_INTEQ(sys_kind(DEF, "nobody@example.test", &d), LOCALADDR_SYSTEM);
	T_STREQ(d.user, "nobody");
	T_INTEQ(d.uid, pw->pw_uid);
	T_INTEQ(sys_kind(DEF, "NoBody+lists@example.test", &d), LOCALADDR_SYSTEM);
	T_STREQ(d.user, "nobody");
	T_INTEQ(sys_kind(DEF "recipient_delimiter = -\n", "nobody-x@example.test", &d),
	        LOCALADDR_SYSTEM);
	/* below the minimum; the key off */
	T_INTEQ(sys_kind(DEF "local_uid_minimum = 65535\n", "nobody@example.test", &d),
	        pw->pw_uid >= 65535 ? LOCALADDR_SYSTEM : LOCALADDR_UNKNOWN);
	T_INTEQ(sys_kind(DEF "local_system_users = 0\n", "nobody@example.test", &d),
	        LOCALADDR_UNKNOWN);
	T_STREQ(d.user, "");
	/* a virtual user of the same name comes first */
	snprintf(withnobody, sizeof withnobody, "%s/users2", dir);
	f = fopen(withnobody, "w");
	T_ASSERT(f != NULL);
	if (f) {
		fputs("nobody\n", f);
		fclose(f);
	}
	{
		struct conf c;
		struct addr a;
		conf_with(&c, DEF);
		T_INTEQ(localaddr_parse("nobody@example.test", 19, &a), ADDR_OK);
		T_INTEQ(localaddr_lookup(&c, withnobody, &a, &d), LOCALADDR_USER);
		/* an unreadable users file is a temporary failure, not a fall through */
		T_INTEQ(localaddr_lookup(&c, dir, &a, &d), LOCALADDR_TEMPFAIL);
		conf_free(&c);
	}
	unlink(withnobody);
	/* pochta.conf not root's: an ordinary user's instance has no system users */
	snprintf(other, sizeof other, "%s/pochta.conf", dir);
	f = fopen(other, "w");
	T_ASSERT(f != NULL);
	if (f)
		fclose(f);
	if (geteuid() == 0)
		T_INTEQ(chown(other, pw->pw_uid, pw->pw_gid), 0);
	snprintf(paths.conf, sizeof paths.conf, "%s", other);
	T_INTEQ(sys_kind(DEF, "nobody@example.test", &d), LOCALADDR_UNKNOWN);
	/* none at all (no instance found): none either */
	snprintf(paths.conf, sizeof paths.conf, "%s/missing", dir);
	T_INTEQ(sys_kind(DEF, "nobody@example.test", &d), LOCALADDR_UNKNOWN);
	unlink(other);
	paths.conf[0] = '\0';
}

static void test_origin(void)
{
	struct conf c;
	sa_t out = SA_INIT;

	conf_with(&c, "local_domains = , b.test a.test\nmyhostname = h.test\n");
	T_INTEQ(localaddr_origin(&c, &out), 0);
	T_STREQ(out.s, "b.test");
	conf_free(&c);
	sa_trunc(&out, 0);
	conf_with(&c, "myhostname = h.test\n"); /* no local domain: the host name */
	T_INTEQ(localaddr_origin(&c, &out), 0);
	T_STREQ(out.s, "h.test");
	conf_free(&c);
	sa_free(&out);
}

int main(void)
{
	setup();
	T_RUN(test_map_table);
	T_RUN(test_local_part_limit);
	T_RUN(test_map_without_users);
	T_RUN(test_users_file_errors);
	T_RUN(test_bad_postmaster_key);
	T_RUN(test_parse);
	T_RUN(test_text_is_local);
	T_RUN(test_postmaster_address);
	T_RUN(test_system_users);
	T_RUN(test_origin);
	unlink(users);
	rmdir(dir);
	return t_done();
}
