/* libFuzzer harness: an aliases file with arbitrary contents (aliases.h).
 * A text that parses gives a compiled form that aliases_from_index accepts
 * and that finds every name with the same targets, each of a valid kind; the
 * same bytes as an :include: list and as a compiled file are parsed or
 * refused without harm; a few bytes changed in a good compiled form are
 * refused or still give only valid names and targets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aliases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_all(const struct aliases_tab *t, const struct aliases_tab *orig)
{
	for (size_t i = 0; i < t->n; i++) {
		const unsigned char *u = (const unsigned char *)t->b.s + ALIASES_MAGIC_LEN + 4 + 4 * i;
		size_t off = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
		const char *name = t->b.s + off, *tg, *v, *o;

		if (off >= t->b.len || aliases_find(t, name) == NULL)
			abort();
		o = orig ? aliases_find(orig, name) : NULL;
		if (orig && !o)
			abort();
		for (tg = aliases_find(t, name); tg; tg = aliases_next(tg)) {
			if (!aliases_target_kind(tg, &v))
				abort();
			if (orig) {
				if (!o || strcmp(o, tg) != 0)
					abort();
				o = aliases_next(o);
			}
		}
		if (orig && o)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases_tab t = ALIASES_TAB_INIT, u = ALIASES_TAB_INIT;
	sa_t err = SA_INIT, list = SA_INIT, b = SA_INIT;
	const char *tg;
	size_t n;

	if (aliases_parse((const char *)data, size, "fuzz", &t, &err) == 0) {
		if (aliases_from_index(t.b.s, t.b.len, &u, &err) < 0 || u.n != t.n)
			abort();
		check_all(&u, &t);
		(void)aliases_resolve(&t, "root", "abuse", &tg);
		/* a good compiled form with a byte changed: refused, or sane */
		if (t.b.len > 0 && size > 0 && sa_copyb(&b, t.b.s, t.b.len) == 0) {
			b.s[data[0] % b.len] ^= (char)(data[size - 1] | 1);
			if (aliases_from_index(b.s, b.len, &u, &err) == 0)
				check_all(&u, NULL);
		}
	} else if (!err.s || !strstr(err.s, "fuzz")) {
		abort(); /* every error names the file */
	}
	if (aliases_list_parse((const char *)data, size, "fuzz", &list, &n, &err) == 0) {
		const char *v, *p = list.s;
		for (size_t i = 0; i < n; i++, p += strlen(p) + 1)
			if (p >= list.s + list.len || !aliases_target_kind(p, &v))
				abort();
	}
	if (aliases_from_index((const char *)data, size, &u, &err) == 0)
		check_all(&u, NULL);
	aliases_free(&t);
	aliases_free(&u);
	sa_free(&err);
	sa_free(&list);
	sa_free(&b);
	return 0;
}
