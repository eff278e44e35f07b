#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aliases.h"
#include "test.h"

static int parse(const char *text, struct aliases_tab *t, sa_t *err)
{
	return aliases_parse(text, strlen(text), "aliases", t, err);
}

/* the targets of name joined with '|' between them ("" when not found) */
static const char *targets(const struct aliases_tab *t, const char *name)
{
	static char buf[4096];
	const char *tg = aliases_find(t, name);

	buf[0] = '\0';
	for (; tg; tg = aliases_next(tg)) {
		if (buf[0])
			strcat(buf, "|");
		strcat(buf, tg);
	}
	return buf;
}

static void test_parse(void)
{
	struct aliases_tab t = ALIASES_TAB_INIT;
	sa_t err = SA_INIT;

	T_INTEQ(parse("# comment\n"
	              "\n"
	              "Team: alice, bob,\n"
	              "\tcarol,\r\n"
	              "   # an indented comment does not end the entry\n"
	              "  dave\n"
	              "\"Sales Dept\" : alice\n"
	              "pipe: \"|/usr/bin/x a, b\", \"|y \\\"q\\\"\"\n"
	              "q: \"john doe\"@example.org, \\alice, /var/mail/f, :include:/etc/l\n"
	              "z:alice,,bob,\n", &t, &err), 0);
	T_INTEQ(t.n, 5);
	T_STREQ(targets(&t, "team"), "alice|bob|carol|dave");
	T_STREQ(targets(&t, "Team"), "");
	T_STREQ(targets(&t, "sales dept"), "alice");
	T_STREQ(targets(&t, "pipe"), "|/usr/bin/x a, b||y \"q\"");
	T_STREQ(targets(&t, "q"), "\"john doe\"@example.org|\\alice|/var/mail/f|:include:/etc/l");
	T_STREQ(targets(&t, "z"), "alice|bob");
	T_STREQ(targets(&t, "nobody"), "");
	aliases_free(&t);
	T_INTEQ(parse("", &t, &err), 0);
	T_INTEQ(t.n, 0);
	T_STREQ(targets(&t, "a"), "");
	aliases_free(&t);
	sa_free(&err);
}

static void test_kinds(void)
{
	const char *v;

	T_INTEQ(aliases_target_kind(":include:/x", &v), ALIASES_T_INCLUDE);
	T_STREQ(v, "/x");
	T_INTEQ(aliases_target_kind(":INCLUDE:/x", &v), ALIASES_T_INCLUDE);
	T_INTEQ(aliases_target_kind(":include:x", &v), 0);
	T_INTEQ(aliases_target_kind(":include:/", &v), 0);
	T_INTEQ(aliases_target_kind("|cmd", &v), ALIASES_T_PIPE);
	T_STREQ(v, "cmd");
	T_INTEQ(aliases_target_kind("|", &v), 0);
	T_INTEQ(aliases_target_kind("/f", &v), ALIASES_T_FILE);
	T_INTEQ(aliases_target_kind("/", &v), 0);
	T_INTEQ(aliases_target_kind("\\bob", &v), ALIASES_T_SELF);
	T_STREQ(v, "bob");
	T_INTEQ(aliases_target_kind("\\", &v), 0);
	T_INTEQ(aliases_target_kind("a@b.test", &v), ALIASES_T_ADDR);
	T_INTEQ(aliases_target_kind("a@", &v), 0);
	T_INTEQ(aliases_target_kind("a@@b", &v), 0);
	T_INTEQ(aliases_target_kind("alice", &v), ALIASES_T_NAME);
	T_INTEQ(aliases_target_kind("", &v), 0);
	T_INTEQ(aliases_target_kind("a\001b", &v), 0);
}

static void expect_error(const char *text, const char *msg)
{
	struct aliases_tab t = ALIASES_TAB_INIT;
	sa_t err = SA_INIT;

	T_INTEQ(parse(text, &t, &err), -1);
	T_INTEQ(errno, EINVAL);
	T_STREQ(err.s, msg);
	aliases_free(&t);
	sa_free(&err);
}

static void test_errors(void)
{
	char big[ALIASES_LINE_MAX + 16];

	expect_error("a: b\nno colon\n", "aliases:2: expected \"name: target, ...\"");
	expect_error(" a: b\n", "aliases:1: a continuation line without a name before it");
	expect_error("a: b\nA: c\n", "aliases:2: \"a\" is listed already (line 1)");
	expect_error("a:\n", "aliases:1: no targets");
	expect_error("a: , ,\n", "aliases:1: no targets");
	expect_error("a@b: c\n", "aliases:1: bad name (a local part of 1 to 64 characters, without @)");
	expect_error("\"a@b\": c\n", "aliases:1: bad name (a local part of 1 to 64 characters, without @)");
	expect_error("\"a: c\n", "aliases:1: a quoted name does not end");
	expect_error("a: \"b\n", "aliases:1: a quoted string does not end");
	expect_error("a: b c\n", "aliases:1: bad target \"b c\" (a missing comma?)");
	expect_error("a: :include:rel\n", "aliases:1: bad target \":include:rel\"");
	expect_error("a: \"\"\n", "aliases:1: bad target \"\"\"\"");
	expect_error("a: b\n\nc: d\x01\n", "aliases:3: control character");
	memset(big, 'x', sizeof big);
	memcpy(big, "a: ", 3);
	big[sizeof big - 2] = '\n';
	big[sizeof big - 1] = '\0';
	expect_error(big, "aliases:1: line too long");
	expect_error("a: \"|\\\n\"\n", "aliases:1: a quoted string does not end");
}

static void test_index(void)
{
	struct aliases_tab t = ALIASES_TAB_INIT, u = ALIASES_TAB_INIT;
	sa_t err = SA_INIT, b = SA_INIT;

	T_INTEQ(parse("b: x\na: y, z\nc: |w\n", &t, &err), 0);
	T_INTEQ(aliases_from_index(t.b.s, t.b.len, &u, &err), 0);
	T_INTEQ(u.n, 3);
	T_STREQ(targets(&u, "a"), "y|z");
	T_STREQ(targets(&u, "c"), "|w");
	/* every way of breaking it is refused */
	T_INTEQ(aliases_from_index(t.b.s, 10, &u, &err), -1);
	T_INTEQ(aliases_from_index(t.b.s, t.b.len - 1, &u, &err), -1);
	sa_copyb(&b, t.b.s, t.b.len);
	b.s[0] = 'P';
	T_INTEQ(aliases_from_index(b.s, b.len, &u, &err), -1);
	sa_copyb(&b, t.b.s, t.b.len);
	b.s[ALIASES_MAGIC_LEN + 3] = 4; /* count */
	T_INTEQ(aliases_from_index(b.s, b.len, &u, &err), -1);
	sa_copyb(&b, t.b.s, t.b.len);
	b.s[ALIASES_MAGIC_LEN + 4 + 3] = 0; /* offset into the header */
	T_INTEQ(aliases_from_index(b.s, b.len, &u, &err), -1);
	sa_copyb(&b, t.b.s, t.b.len);
	{ /* two offsets swapped: out of order */
		char tmp[4];
		memcpy(tmp, b.s + ALIASES_MAGIC_LEN + 4, 4);
		memcpy(b.s + ALIASES_MAGIC_LEN + 4, b.s + ALIASES_MAGIC_LEN + 8, 4);
		memcpy(b.s + ALIASES_MAGIC_LEN + 8, tmp, 4);
	}
	T_INTEQ(aliases_from_index(b.s, b.len, &u, &err), -1);
	T_STREQ(err.s, "compiled aliases: names out of order");
	aliases_free(&t);
	aliases_free(&u);
	sa_free(&b);
	sa_free(&err);
}

static void test_resolve(void)
{
	struct aliases_tab t = ALIASES_TAB_INIT;
	sa_t err = SA_INIT;
	const char *tg;

	T_INTEQ(parse("", &t, &err), 0);
	T_INTEQ(aliases_resolve(&t, "root", "abuse", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "root", "postmaster", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "root", "mailer-daemon", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "root", "root", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "root", "alice", &tg), ALIASES_NONE);
	T_INTEQ(aliases_resolve(NULL, "root", "abuse", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "Alice", "abuse", &tg), ALIASES_ADMIN);
	T_STREQ(tg, "Alice");
	T_INTEQ(aliases_resolve(&t, "abuse", "postmaster", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "postmaster", "postmaster", &tg), ALIASES_POSTMASTER);
	T_INTEQ(aliases_resolve(&t, "alice", "root", &tg), ALIASES_POSTMASTER);
	aliases_free(&t);
	T_INTEQ(parse("root: bob\nabuse: carol\n", &t, &err), 0);
	T_INTEQ(aliases_resolve(&t, "root", "abuse", &tg), ALIASES_LISTED);
	T_STREQ(tg, "carol");
	T_INTEQ(aliases_resolve(&t, "root", "postmaster", &tg), ALIASES_ADMIN);
	T_STREQ(tg, "root");
	T_INTEQ(aliases_resolve(&t, "root", "root", &tg), ALIASES_LISTED);
	T_INTEQ(aliases_resolve(&t, "abuse", "postmaster", &tg), ALIASES_ADMIN);
	T_STREQ(tg, "abuse");
	aliases_free(&t);
	sa_free(&err);
}

static void test_list(void)
{
	sa_t out = SA_INIT, err = SA_INIT;
	size_t n;
	const char *l = "# members\nalice, bob\n\n  carol\n\"|cmd, x\"\n";

	T_INTEQ(aliases_list_parse(l, strlen(l), "list", &out, &n, &err), 0);
	T_INTEQ(n, 4);
	T_INTEQ(out.len, strlen("alice") + strlen("bob") + strlen("carol") + strlen("|cmd, x") + 4);
	T_STREQ(out.s + 10, "carol");
	sa_trunc(&out, 0);
	T_INTEQ(aliases_list_parse("a\nb c\n", 6, "list", &out, &n, &err), -1);
	T_STREQ(err.s, "list:2: bad target \"b c\" (a missing comma?)");
	sa_free(&out);
	sa_free(&err);
}

static char dir[64], path[128], ipath[128];

static void put(const char *p, const char *text, int mode)
{
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	chmod(p, (mode_t)mode);
}

/* the files' times set back so the cache may keep them */
static void age(const char *p, int secs)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= secs;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, p, ts, 0);
}

static void test_load_and_compile(void)
{
	const struct aliases_tab *t;
	sa_t err = SA_INIT;

	snprintf(dir, sizeof dir, "/tmp/test_aliases.%ld", (long)getpid());
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/aliases", dir);
	snprintf(ipath, sizeof ipath, "%s/aliases.idx", dir);

	/* none: empty */
	t = aliases_load(path, &err);
	T_ASSERT(t && t->n == 0);
	/* the text alone */
	put(path, "a: b\n", 0644);
	t = aliases_load(path, &err);
	T_ASSERT(t && t->n == 1);
	T_STREQ(t ? targets(t, "a") : "", "b");
	T_INTEQ(t ? (long long)t->owner : -1, (long long)getuid());
	/* compiled: the index is used, even once the text is newer */
	T_INTEQ(aliases_compile(path, &err), 1);
	put(path, "a: c\n", 0644);
	age(ipath, 10);
	t = aliases_load(path, &err);
	T_STREQ(t ? targets(t, "a") : "", "b");
	T_INTEQ(aliases_compile(path, &err), 1);
	t = aliases_load(path, &err);
	T_STREQ(t ? targets(t, "a") : "", "c");
	/* kept while unchanged (old files), read again on a change */
	age(path, 10);
	age(ipath, 10);
	t = aliases_load(path, &err);
	T_ASSERT(t == aliases_load(path, &err));
	T_INTEQ(aliases_compile(path, &err), 1);
	T_ASSERT(aliases_load(path, &err) != NULL);
	/* a bad text: compile fails, the old index stays */
	put(path, "a c\n", 0644);
	T_INTEQ(aliases_compile(path, &err), -1);
	T_ASSERT(err.s && strstr(err.s, "/aliases:1: expected"));
	/* writable by others: refused */
	put(path, "a: c\n", 0666);
	chmod(path, 0666);
	T_ASSERT(aliases_load(path, &err) == NULL);
	chmod(path, 0644);
	/* a broken index: refused */
	put(ipath, "pochta-aliases1\nxx", 0644);
	T_ASSERT(aliases_load(path, &err) == NULL);
	unlink(ipath);
	t = aliases_load(path, &err);
	T_STREQ(t ? targets(t, "a") : "", "c");
	/* a broken text without an index: refused */
	put(path, "a c\n", 0644);
	T_ASSERT(aliases_load(path, &err) == NULL);
	unlink(path);
	rmdir(dir);
	sa_free(&err);
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_kinds);
	T_RUN(test_errors);
	T_RUN(test_index);
	T_RUN(test_resolve);
	T_RUN(test_list);
	T_RUN(test_load_and_compile);
	return t_done();
}
