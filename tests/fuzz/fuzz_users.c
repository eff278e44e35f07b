/* libFuzzer harness: etc/users and etc/passwd with arbitrary contents.
 * Every name users_list gives is a valid mailbox name (NAME or NAME@DOMAIN)
 * and users_exists finds it; adding a user (a bare one, then a domain's)
 * keeps every other name, in order, and adds exactly that one; deleting it
 * again gives back the names the file had without it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], upath[96], ppath[96];

static void cleanup(void)
{
	unlink(upath);
	unlink(ppath);
	rmdir(dir);
}

static void put(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

/* the listed names, NUL-separated, without any called skip */
static void list(sa_t *out, size_t *n, const char *skip)
{
	sa_t all = SA_INIT;
	size_t k, pos = 0;

	sa_trunc(out, 0);
	*n = 0;
	if (users_list(upath, &all, &k) < 0)
		abort();
	for (size_t i = 0; i < k; i++) {
		const char *nm = all.s + pos;
		size_t len = strlen(nm);
		if (pos + len >= all.len || !user_mailbox_valid(nm, len) || users_exists(upath, nm) != 1)
			abort();
		pos += len + 1;
		if (skip && strcmp(nm, skip) == 0)
			continue;
		if (sa_catb(out, nm, len + 1) < 0)
			abort();
		(*n)++;
	}
	if (pos != all.len)
		abort();
	sa_free(&all);
}

static int same(const sa_t *a, const sa_t *b, size_t len)
{
	return a->len >= len && b->len >= len && (len == 0 || memcmp(a->s, b->s, len) == 0);
}

static void add_del(const uint8_t *data, size_t size, const char *name);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	add_del(data, size, "fuzz-user");
	add_del(data, size, "fuzz-user@b.test");
	return 0;
}

static void add_del(const uint8_t *data, size_t size, const char *name)
{
	sa_t before = SA_INIT, after = SA_INIT;
	size_t nb, na;

	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/dev/shm/fuzz_users.%ld", (long)getpid());
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			abort();
		snprintf(upath, sizeof upath, "%s/users", dir);
		snprintf(ppath, sizeof ppath, "%s/passwd", dir);
		atexit(cleanup);
	}
	put(upath, data, size);
	put(ppath, data, size);
	list(&before, &nb, name);

	if (users_add(upath, ppath, name, "$6$fuzz$x", 1) < 0 || users_exists(upath, name) != 1)
		abort();
	list(&after, &na, name);
	if (na != nb || after.len != before.len || !same(&after, &before, before.len))
		abort();
	/* the name is there once: the replace dropped any older line */
	list(&after, &na, NULL);
	if (na != nb + 1 || !same(&after, &before, before.len) ||
	    strcmp(after.s + before.len, name) != 0)
		abort();

	if (users_del(upath, ppath, name) < 0 || users_exists(upath, name) != 0)
		abort();
	list(&after, &na, NULL);
	if (na != nb || after.len != before.len || !same(&after, &before, before.len))
		abort();
	if (users_del(upath, ppath, name) == 0 || errno != ENOENT)
		abort();
	sa_free(&before);
	sa_free(&after);
}
