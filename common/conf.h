/* conf: the pochta.conf reader. `key = value` lines, `#` comments, blank lines.
 * Unknown keys, repeated keys and bad values are errors naming file:line. */
#ifndef POCHTA_CONF_H
#define POCHTA_CONF_H
#include <sys/stat.h>
#include "conf_keys.h"
#include "sa.h"

enum conf_type { CONF_INT, CONF_STR };

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *def;      /* default, as text */
	long long min, max;   /* INT: value bounds; STR: length bounds */
	const char *doc;
	size_t offset;        /* of the field in struct conf */
};

/* one field per key: long long for INT, char * (owned, NUL-terminated) for STR */
#define CONF_FIELD_INT(n) long long n;
#define CONF_FIELD_STR(n) char *n;
#define CONF_FIELD(n, t, d, lo, hi, doc) CONF_FIELD_##t(n)
struct conf {
	CONF_KEYS(CONF_FIELD)
};

#define CONF_COUNT_KEY(n, t, d, lo, hi, doc) +1
enum { CONF_NKEYS = 0 CONF_KEYS(CONF_COUNT_KEY) };   /* == conf_nkeys */

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

const struct conf_key *conf_key_find(const char *name);

/* fill c with every default; 0 or -1 (ENOMEM) */
int conf_defaults(struct conf *c);
/* defaults, then the file; 0, or -1 with a message ("path:line: ...") in err.
 * A missing file is an error (ENOENT) with its path in err. */
int conf_load(struct conf *c, const char *path, sa_t *err);
/* the whole text of a configuration file (at most 1 MiB) into text; 0, or -1
 * with errno and "PATH: reason" in err */
int conf_read_file(const char *path, sa_t *text, sa_t *err);
/* parse text into a buffer as conf_load does; name is used in messages */
int conf_parse(struct conf *c, const char *name, const char *text, size_t len, sa_t *err);
/* as conf_parse, but past bad lines: c gets the values of every good line
 * (defaults for the rest), err one "name:LINE: reason\n" per bad line, and
 * bad[] (conf_nkeys entries, or NULL) a 1 for each key a bad line names (a
 * bad value, a repeat). The number of bad lines (0: valid), -1 (ENOMEM). */
int conf_parse_all(struct conf *c, const char *name, const char *text, size_t len, sa_t *err,
                   unsigned char *bad);
/* the same for a file; -1 also when it cannot be read (message in err) */
int conf_load_all(struct conf *c, const char *path, sa_t *err, unsigned char *bad);
/* the key a line (len bytes, no LF) names, its length in *klen; NULL for a
 * comment or blank line */
const char *conf_line_key(const char *line, size_t len, size_t *klen);
/* the 1-based number of the first line of text that names key; 0: none */
unsigned long conf_key_line(const char *text, size_t len, const char *key);
/* every key as a "key = value" line appended to out (a file conf_parse reads
 * back as c); 0 or -1 */
int conf_dump(const struct conf *c, sa_t *out);
/* 1 when a change to k takes effect only at a restart (CONF_RESTART_KEYS) */
int conf_key_restart(const struct conf_key *k);
/* check value for key; 0 ok, -1 with a reason in err (no file:line) */
int conf_check_value(const struct conf_key *k, const char *value, sa_t *err);
/* set one key from text (validated); 0 or -1 with reason in err */
int conf_set(struct conf *c, const struct conf_key *k, const char *value, sa_t *err);
/* the current value as text */
int conf_format(const struct conf *c, const struct conf_key *k, sa_t *out);
void conf_free(struct conf *c);

/* the configuration of a long-lived process, loaded again when the file changed */
struct conf_live {
	struct conf c;
	int loaded;
	struct stat st;       /* of the file when it was loaded */
};
/* load path when it is not loaded yet or its inode, size, modification or
 * change time differ: 1 (loaded), 0 (unchanged), -1 with a message in err
 * (what was loaded before stays) */
int conf_live_load(struct conf_live *lc, const char *path, sa_t *err);
void conf_live_free(struct conf_live *lc);

/* split a comma/space separated list: calls fn for each item; stops early when fn
 * returns nonzero and returns that value; 0 otherwise */
int conf_list_each(const char *list, int (*fn)(const char *item, size_t len, void *arg), void *arg);
/* 1 when item (len bytes) is in the list, compared without regard to ASCII case */
int conf_list_has(const char *list, const char *item, size_t len);

/* myhostname, or gethostname() when empty; never NULL */
const char *conf_hostname(const struct conf *c);

#endif
