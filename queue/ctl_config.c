/* pochtactl config get|set|check|list: pochta.conf, kept as the operator wrote it.
 * `set` edits one line in place (comments and order are kept), re-parses the
 * whole new text and only then replaces the file durably: an invalid file is
 * never written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "conf.h"
#include "confcheck.h"
#include "ctl.h"
#include "fileread.h"
#include "durable.h"
#include "paths.h"

#define CONF_FILE_MAX (1024 * 1024)

/* confcheck_key, with its warnings on stderr */
static int ctl_conf_semantic(const struct conf_key *k, const char *value, sa_t *err)
{
	sa_t warn = SA_INIT;
	int r = confcheck_key(k, value, err, &warn);
	ctl_print_lines(&warn);
	sa_free(&warn);
	return r;
}

/* new text with "key = value" in place of the first line that sets key (later
 * duplicates dropped), or appended at the end */
static int conf_rewrite(const char *text, size_t len, const char *key, const char *value, sa_t *out)
{
	size_t pos = 0, kl = strlen(key);
	int done = 0;
	sa_trunc(out, 0);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - text - pos) : len - pos;
		size_t n;
		const char *k = conf_line_key(text + pos, ll, &n);
		if (k && n == kl && memcmp(k, key, kl) == 0) {
			if (!done && sa_catf(out, "%s = %s\n", key, value) < 0)
				return -1;
			done = 1;
		} else {
			if (sa_catb(out, text + pos, ll) < 0 || sa_catc(out, '\n') < 0)
				return -1;
		}
		pos += ll + (nl ? 1 : 0);
	}
	if (!done && sa_catf(out, "%s = %s\n", key, value) < 0)
		return -1;
	return 0;
}

static const struct conf_key *key_or_die(const char *name)
{
	const struct conf_key *k = conf_key_find(name);
	if (!k)
		ctl_die("unknown configuration key %s (see pochtactl config list)", name);
	return k;
}

/* the value of one key even while another line is broken (with a warning):
 * an operator fixing the file can still read what is set */
static int cmd_get(const char *name)
{
	const struct conf_key *k = key_or_die(name);
	struct conf c;
	unsigned char bad[CONF_NKEYS];
	sa_t err = SA_INIT, out = SA_INIT;
	int n = conf_load_all(&c, paths.conf, &err, bad);
	if (n < 0)
		ctl_die("%s", err.len ? err.s : strerror(errno));
	if (bad[k - conf_keys])
		ctl_die("%s: its line in %s is not valid (see pochtactl config check)", name, paths.conf);
	if (n > 0)
		ctl_warn("warning: %s has %d bad line%s (see pochtactl config check); %s is read from a good one",
		         paths.conf, n, n == 1 ? "" : "s", name);
	if (conf_format(&c, k, &out) < 0)
		ctl_die_sys("%s", name);
	printf("%s\n", out.len ? out.s : "");
	sa_free(&out);
	sa_free(&err);
	conf_free(&c);
	return 0;
}

static int cmd_set(const char *name, const char *value)
{
	const struct conf_key *k = key_or_die(name);
	sa_t err = SA_INIT, text = SA_INIT, nt = SA_INIT, want = SA_INIT, got = SA_INIT;
	size_t vl = strlen(value);
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
			ctl_die("%s: control characters are not allowed in a value", name);
	if (conf_check_value(k, value, &err) < 0 || ctl_conf_semantic(k, value, &err) < 0) {
		const char *why = err.len ? err.s : "invalid";
		size_t nl = strlen(name);
		if (strncmp(why, name, nl) == 0 && why[nl] == ':' && why[nl + 1] == ' ')
			why += nl + 2; /* conf's messages start with the key: said already */
		ctl_die("config set %s: bad value \"%s\": %s", name, value, why);
	}

	if (file_read_all(paths.conf, CONF_FILE_MAX, 0, &text, NULL) < 0)
		ctl_die_sys("cannot read %s", paths.conf);
	struct stat st;
	if (stat(paths.conf, &st) < 0)
		ctl_die_sys("%s", paths.conf);
	if (conf_rewrite(text.s, text.len, name, value, &nt) < 0)
		ctl_die_sys("out of memory");

	/* the whole new file must parse, and give the key exactly the value asked
	 * for (e.g. a value the reader would trim or cut is refused) */
	struct conf c, want_c;
	if (conf_parse(&c, paths.conf, nt.s, nt.len, &err) < 0)
		ctl_die("not changed: the new file would not be valid: %s", err.s);
	if (conf_defaults(&want_c) < 0 || conf_set(&want_c, k, value, &err) < 0)
		ctl_die("%s: bad value: %s", name, err.len ? err.s : "invalid");
	if (conf_format(&c, k, &got) < 0 || conf_format(&want_c, k, &want) < 0)
		ctl_die_sys("out of memory");
	if (got.len != want.len || memcmp(got.s, want.s, got.len) != 0)
		ctl_die("%s: the value \"%s\" cannot be written to %s as it is", name, value, paths.conf);

	if (durable_replace(paths.conf, nt.s, nt.len, (int)(st.st_mode & 07777)) < 0)
		ctl_die_sys("cannot write %s", paths.conf);
	conf_free(&c);
	conf_free(&want_c);
	sa_free(&err);
	sa_free(&text);
	sa_free(&nt);
	sa_free(&want);
	sa_free(&got);
	return 0;
}

/* every problem, one line each (file:line first), not only the first */
static int cmd_check(void)
{
	struct conf c;
	sa_t text = SA_INIT, problems = SA_INIT, warn = SA_INIT;
	if (file_read_all(paths.conf, CONF_FILE_MAX, 0, &text, NULL) < 0)
		ctl_die_sys("cannot read %s", paths.conf);
	int n = confcheck_text(&c, paths.conf, text.s, text.len, &problems, &warn);
	if (n < 0)
		ctl_die_sys("out of memory");
	ctl_print_lines(&warn);
	ctl_print_lines(&problems);
	conf_free(&c);
	sa_free(&text);
	sa_free(&warn);
	sa_free(&problems);
	if (n > 0) {
		fprintf(stderr, "pochtactl: %s: %d problem%s\n", paths.conf, n, n == 1 ? "" : "s");
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int cmd_list(int nondefault, int verbose)
{
	struct conf c, d;
	ctl_conf_load(&c);
	if (conf_defaults(&d) < 0)
		ctl_die_sys("out of memory");
	sa_t v = SA_INIT, dv = SA_INIT;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		sa_trunc(&v, 0);
		sa_trunc(&dv, 0);
		if (conf_format(&c, k, &v) < 0 || conf_format(&d, k, &dv) < 0)
			ctl_die_sys("out of memory");
		int same = v.len == dv.len && memcmp(v.s, dv.s, v.len) == 0;
		if (nondefault && same)
			continue;
		if (verbose) {
			printf("# %s\n", k->doc);
			if (k->type == CONF_INT)
				printf("# integer %lld..%lld, default %s\n", k->min, k->max, dv.s);
			else
				printf("# text of %lld..%lld bytes, default \"%s\"\n", k->min, k->max, dv.s);
		}
		printf("%s = %s\n", k->name, v.len ? v.s : "");
		if (verbose)
			putchar('\n');
	}
	sa_free(&v);
	sa_free(&dv);
	conf_free(&c);
	conf_free(&d);
	return 0;
}

int ctl_cmd_config(int argc, char **argv)
{
	if (argc < 2)
		ctl_missing("config", NULL, "a subcommand (get, set, check, list)");
	const char *sub = argv[1];
	if (strcmp(sub, "get") == 0) {
		ctl_nargs("config", sub, argc - 2, "KEY");
		return cmd_get(argv[2]);
	}
	if (strcmp(sub, "set") == 0) {
		ctl_nargs("config", sub, argc - 2, "KEY VALUE");
		return cmd_set(argv[2], argv[3]);
	}
	if (strcmp(sub, "check") == 0) {
		ctl_nargs("config", sub, argc - 2, "");
		return cmd_check();
	}
	if (strcmp(sub, "list") == 0) {
		int nondefault = 0, verbose = 0;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "-n") == 0)
				nondefault = 1;
			else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--doc") == 0)
				verbose = 1;
			else {
				ctl_warn("config list: unknown argument %s", argv[i]);
				ctl_usage_of("config", sub);
			}
		}
		return cmd_list(nondefault, verbose);
	}
	ctl_warn("config: unknown subcommand %s", sub);
	ctl_usage_of("config", NULL);
}
