/* libFuzzer harness: conf_parse, conf_parse_all, conf_format, conf_dump,
 * conf_key_line, conf_list_each/has.
 * Properties: no crash or leak; a successful parse yields values that pass their
 * own checks and format back to text that parses to the same configuration; a
 * failed parse leaves the defaults and a "name:line: ..." message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_fn(const char *item, size_t len, void *arg)
{
	size_t *n = arg;
	if (len == 0 || memchr(item, ',', len) || memchr(item, ' ', len))
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, d;
	sa_t err = SA_INIT, text = SA_INIT, v = SA_INIT;
	char *z;
	size_t n = 0;

	if (conf_parse(&c, "f", (const char *)data, size, &err) == 0) {
		for (size_t i = 0; i < conf_nkeys; i++) {
			sa_trunc(&v, 0);
			if (conf_format(&c, &conf_keys[i], &v) < 0)
				abort();
			if (conf_check_value(&conf_keys[i], v.s, &err) != 0)
				abort();
			if (sa_catf(&text, "%s = %s\n", conf_keys[i].name, v.s) < 0)
				abort();
		}
		if (conf_parse(&d, "g", text.s, text.len, &err) != 0)
			abort();
		for (size_t i = 0; i < conf_nkeys; i++) {
			sa_t a = SA_INIT, b = SA_INIT;
			if (conf_format(&c, &conf_keys[i], &a) < 0 || conf_format(&d, &conf_keys[i], &b) < 0)
				abort();
			if (strcmp(a.s, b.s) != 0)
				abort();
			sa_free(&a);
			sa_free(&b);
		}
		conf_free(&d);
	} else {
		if (!err.s || strncmp(err.s, "f:", 2) != 0)
			abort();
		if (c.postmaster == NULL || strcmp(c.postmaster, "postmaster") != 0)
			abort();
	}
	conf_free(&c);

	/* conf_parse_all: as many "f:LINE: ...\n" lines as bad lines, none
	 * exactly when conf_parse succeeds; the good lines' values dump and
	 * parse back */
	{
		unsigned char bad[CONF_NKEYS];
		sa_t all = SA_INIT, dump = SA_INIT;
		int ok = conf_parse(&d, "f", (const char *)data, size, NULL) == 0;
		conf_free(&d);
		int nb = conf_parse_all(&c, "f", (const char *)data, size, &all, bad);
		if (nb < 0 || (nb == 0) != ok)
			abort();
		int lines = 0;
		for (size_t i = 0; i < all.len; i++)
			lines += all.s[i] == '\n';
		if (lines != nb || (nb && strncmp(all.s, "f:", 2) != 0))
			abort();
		if (conf_dump(&c, &dump) < 0 || conf_parse(&d, "d", dump.s, dump.len, NULL) != 0)
			abort();
		for (size_t i = 0; i < conf_nkeys; i++)
			if (conf_key_line(dump.s, dump.len, conf_keys[i].name) != i + 1)
				abort();
		conf_free(&d);
		conf_free(&c);
		sa_free(&all);
		sa_free(&dump);
	}

	/* the lists take a C string */
	z = malloc(size + 1);
	if (!z)
		abort();
	memcpy(z, data, size);
	z[size] = '\0';
	(void)conf_list_each(z, count_fn, &n);
	if (size > 0 && conf_list_has(z, z, strcspn(z, ", \t")) != (strcspn(z, ", \t") > 0))
		abort();
	free(z);
	sa_free(&err);
	sa_free(&text);
	sa_free(&v);
	return 0;
}
