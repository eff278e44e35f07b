/* Unit tests for common/conf.c: the key table, the file syntax, values, lists. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "conf.h"
#include "test.h"

#define COUNT_KEY(n, t, d, lo, hi, doc) + 1
static const size_t n_table = 0 CONF_KEYS(COUNT_KEY);

static void test_table(void)
{
	T_INTEQ(conf_nkeys, n_table);
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		sa_t err = SA_INIT;
		T_ASSERT(conf_key_find(k->name) == k);
		T_ASSERT(k->doc && k->doc[0]);
		T_ASSERT(k->min <= k->max);
		T_ASSERT(k->offset + (k->type == CONF_INT ? sizeof(long long) : sizeof(char *))
		         <= sizeof(struct conf));
		/* every default passes its own check */
		if (conf_check_value(k, k->def, &err) != 0)
			printf("default of %s: %s\n", k->name, err.s);
		T_INTEQ(conf_check_value(k, k->def, &err), 0);
		for (size_t j = 0; j < i; j++) {
			T_ASSERT(strcmp(conf_keys[j].name, k->name) != 0);
			T_ASSERT(conf_keys[j].offset != k->offset);
		}
		sa_free(&err);
	}
	T_ASSERT(conf_key_find("nonesuch") == NULL);
	T_ASSERT(conf_key_find("") == NULL);
	T_ASSERT(conf_key_find("MESSAGE_SIZE_LIMIT") == NULL);
	T_ASSERT(offsetof(struct conf, retry_max) == conf_key_find("retry_max")->offset);
	T_ASSERT(offsetof(struct conf, postmaster) == conf_key_find("postmaster")->offset);
}

static void test_defaults(void)
{
	struct conf c;
	T_INTEQ(conf_defaults(&c), 0);
	T_INTEQ(c.message_size_limit, 10240000);
	T_INTEQ(c.max_recipients, 1000);
	T_INTEQ(c.queue_lifetime, 432000);
	T_STREQ(c.smtp_listen, "127.0.0.1:25");
	T_STREQ(c.myhostname, "");
	T_STREQ(c.recipient_delimiter, "+");
	T_STREQ(c.postmaster, "postmaster");
	conf_free(&c);
	T_ASSERT(c.myhostname == NULL);
	conf_free(&c); /* twice is harmless */
}

static int parse(struct conf *c, const char *text, sa_t *err)
{
	return conf_parse(c, "test.conf", text, strlen(text), err);
}

static void test_parse_ok(void)
{
	struct conf c;
	sa_t err = SA_INIT;
	const char *text =
		"# pochta.conf\n"
		"\n"
		"   # indented comment\n"
		"myhostname = mx.example.org\n"
		"local_domains=example.org, example.net\n"
		"\tmax_recipients\t=\t5\t\n"
		"relayhost =\n"
		"smtp_timeout   =   30   \r\n"
		"relay_networks = 10.0.0.0/8 # not a comment\n"
		"   \t  \n"
		"retry_min = 0010\n"
		"message_size_limit = 2147483647";   /* no final LF */

	T_INTEQ(parse(&c, text, &err), 0);
	T_STREQ(c.myhostname, "mx.example.org");
	T_STREQ(c.local_domains, "example.org, example.net");
	T_INTEQ(c.max_recipients, 5);
	T_STREQ(c.relayhost, "");
	T_INTEQ(c.smtp_timeout, 30);
	T_STREQ(c.relay_networks, "10.0.0.0/8 # not a comment");
	T_INTEQ(c.retry_min, 10);
	T_INTEQ(c.message_size_limit, 2147483647LL);
	/* untouched keys keep their defaults */
	T_INTEQ(c.retry_max, 4000);
	T_STREQ(c.smtp_listen, "127.0.0.1:25");
	conf_free(&c);

	T_INTEQ(parse(&c, "", &err), 0);
	T_INTEQ(c.max_recipients, 1000);
	conf_free(&c);
	T_INTEQ(parse(&c, "\n\n# only comments\n", &err), 0);
	conf_free(&c);
	/* an empty value overrides a non-empty default */
	T_INTEQ(parse(&c, "smtp_listen =\n", &err), 0);
	T_STREQ(c.smtp_listen, "");
	conf_free(&c);
	T_INTEQ(parse(&c, "recipient_delimiter = -\n", &err), 0);
	T_STREQ(c.recipient_delimiter, "-");
	conf_free(&c);
	sa_free(&err);
}

struct bad_case {
	const char *text;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "nonesuch = 1\n", "test.conf:1: unknown key 'nonesuch'" },
	{ "# c\n\nMaxRecipients = 1\n", "test.conf:3: unknown key 'MaxRecipients'" },
	{ "max_recipients\n", "test.conf:1: missing '='" },
	{ "max_recipients 5\n", "test.conf:1: missing '='" },
	{ "\n\n\nfoo bar = 1\n", "test.conf:4: missing '='" },
	{ "= 5\n", "test.conf:1: missing key before '='" },
	{ "max_recipients = 5\nmax_recipients = 5\n", "test.conf:2: duplicate key 'max_recipients'" },
	{ "max_recipients = five\n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = \n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = 5 6\n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = +5\n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = -5\n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = 0x10\n", "test.conf:1: max_recipients: not an integer" },
	{ "max_recipients = 1e3\n", "test.conf:1: max_recipients: not an integer" },
	{ "message_size_limit = 10M\n", "test.conf:1: message_size_limit: not an integer" },
	{ "max_recipients = 0\n", "test.conf:1: max_recipients: out of range (1..100000)" },
	{ "max_recipients = 100001\n", "test.conf:1: max_recipients: out of range (1..100000)" },
	{ "max_recipients = 99999999999999999999999\n",
	  "test.conf:1: max_recipients: out of range (1..100000)" },
	{ "message_size_limit = 1023\n",
	  "test.conf:1: message_size_limit: out of range (1024..2147483647)" },
	{ "message_size_limit = 2147483648\n",
	  "test.conf:1: message_size_limit: out of range (1024..2147483647)" },
	{ "recipient_delimiter = ++\n",
	  "test.conf:1: recipient_delimiter: too long (max 1 characters)" },
	{ "postmaster =\n", "test.conf:1: postmaster: too short (min 1 characters)" },
	{ "postmaster = 012345678901234567890123456789012\n",
	  "test.conf:1: postmaster: too long (max 32 characters)" },
	{ "myhostname = a\x1b[31m\n", "test.conf:1: control character" },
	{ "myhostname = a\tb\n", "test.conf:1: myhostname: control character in value" },
	{ "myhostname = a\rb\n", "test.conf:1: control character" },
	{ "myhostname = ab\r\r\n", "test.conf:1: control character" },
	{ "# comment \x7f\n", "test.conf:1: control character" },
	{ "max_recipients = 5\n\x01\n", "test.conf:2: control character" },
};

static void test_parse_errors(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		struct conf c;
		sa_t err = SA_INIT;
		errno = 0;
		T_INTEQ(parse(&c, bad_cases[i].text, &err), -1);
		T_INTEQ(errno, EINVAL);
		if (!err.s || strcmp(err.s, bad_cases[i].msg) != 0)
			printf("case %zu\n", i);
		T_STREQ(err.s, bad_cases[i].msg);
		/* on failure c holds the defaults and can be freed */
		T_INTEQ(c.max_recipients, 1000);
		T_STREQ(c.postmaster, "postmaster");
		conf_free(&c);
		sa_free(&err);
	}
}

static void test_parse_binary(void)
{
	struct conf c;
	sa_t err = SA_INIT;
	/* a NUL byte is a control character, not the end of the text */
	const char text[] = "max_recipients = 5\0\nmax_recipients = 6\n";
	T_INTEQ(conf_parse(&c, "x", text, sizeof text - 1, &err), -1);
	T_STREQ(err.s, "x:1: control character");
	conf_free(&c);
	/* only len bytes are read */
	T_INTEQ(conf_parse(&c, "x", "max_recipients = 77", 18, &err), 0);
	T_INTEQ(c.max_recipients, 7);
	conf_free(&c);
	/* a long unknown key is cut in the message */
	char big[300];
	memset(big, 'k', 200);
	strcpy(big + 200, " = 1\n");
	T_INTEQ(conf_parse(&c, "x", big, strlen(big), &err), -1);
	T_ASSERT(err.len < 120);
	T_ASSERT(strstr(err.s, "...'") != NULL);
	conf_free(&c);
	/* an 8-bit value is text like any other */
	T_INTEQ(parse(&c, "myhostname = h\xc3\xa9te\n", &err), 0);
	T_STREQ(c.myhostname, "h\xc3\xa9te");
	conf_free(&c);
	sa_free(&err);
}

static void test_int_values(void)
{
	/* synthetic keys to reach the negative and extreme paths */
	struct conf_key neg = { "neg", CONF_INT, "0", -10, 10, "d", 0 };
	struct conf_key all = { "all", CONF_INT, "0", LLONG_MIN, LLONG_MAX, "d", 0 };
	sa_t err = SA_INIT;
	T_INTEQ(conf_check_value(&neg, "-10", &err), 0);
	T_INTEQ(conf_check_value(&neg, "-0", &err), 0);
	T_INTEQ(conf_check_value(&neg, "10", &err), 0);
	T_INTEQ(conf_check_value(&neg, "-11", &err), -1);
	T_STREQ(err.s, "neg: out of range (-10..10)");
	T_INTEQ(conf_check_value(&neg, "11", &err), -1);
	T_INTEQ(conf_check_value(&neg, "-", &err), -1);
	T_STREQ(err.s, "neg: not an integer");
	T_INTEQ(conf_check_value(&neg, "--1", &err), -1);
	T_STREQ(err.s, "neg: not an integer");
	T_INTEQ(conf_check_value(&all, "9223372036854775807", &err), 0);
	T_INTEQ(conf_check_value(&all, "-9223372036854775808", &err), 0);
	T_INTEQ(conf_check_value(&all, "9223372036854775808", &err), -1);
	T_STREQ(err.s, "all: out of range (-9223372036854775808..9223372036854775807)");
	T_INTEQ(conf_check_value(&all, "-9223372036854775809", &err), -1);
	T_INTEQ(conf_check_value(&all, "", &err), -1);
	T_INTEQ(conf_check_value(&all, " 1", &err), -1);
	sa_free(&err);
}

static void test_set_format(void)
{
	struct conf c;
	sa_t err = SA_INIT, out = SA_INIT;
	const struct conf_key *mr = conf_key_find("max_recipients");
	const struct conf_key *ld = conf_key_find("local_domains");

	T_INTEQ(conf_defaults(&c), 0);
	T_INTEQ(conf_format(&c, mr, &out), 0);
	T_STREQ(out.s, "1000");
	T_INTEQ(conf_set(&c, mr, "42", &err), 0);
	T_INTEQ(c.max_recipients, 42);
	T_INTEQ(conf_set(&c, mr, "x", &err), -1);
	T_INTEQ(errno, EINVAL);
	T_STREQ(err.s, "max_recipients: not an integer");
	T_INTEQ(c.max_recipients, 42);   /* unchanged */
	sa_trunc(&out, 0);
	T_INTEQ(conf_format(&c, mr, &out), 0);
	T_STREQ(out.s, "42");
	T_INTEQ(conf_set(&c, ld, "a.example b.example", &err), 0);
	T_INTEQ(conf_set(&c, ld, "c.example", &err), 0);  /* old value freed (ASan) */
	T_INTEQ(conf_format(&c, ld, &out), 0);   /* appends */
	T_STREQ(out.s, "42c.example");
	T_INTEQ(conf_set(&c, ld, "bad\x01", &err), -1);
	T_STREQ(c.local_domains, "c.example");
	/* every key formats back to text that parses to the same value */
	for (size_t i = 0; i < conf_nkeys; i++) {
		struct conf d;
		sa_t text = SA_INIT, v1 = SA_INIT, v2 = SA_INIT;
		T_INTEQ(sa_catf(&text, "%s = ", conf_keys[i].name), 0);
		T_INTEQ(conf_format(&c, &conf_keys[i], &text), 0);
		T_INTEQ(sa_catc(&text, '\n'), 0);
		T_INTEQ(conf_parse(&d, "rt", text.s, text.len, &err), 0);
		T_INTEQ(conf_format(&c, &conf_keys[i], &v1), 0);
		T_INTEQ(conf_format(&d, &conf_keys[i], &v2), 0);
		T_STREQ(v1.s, v2.s);
		conf_free(&d);
		sa_free(&text);
		sa_free(&v1);
		sa_free(&v2);
	}
	conf_free(&c);
	sa_free(&err);
	sa_free(&out);
}

static char tmpdir[64];

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, data, len), (long long)len);
	close(fd);
}

static void test_load(void)
{
	struct conf c;
	sa_t err = SA_INIT;
	char path[128];

	snprintf(path, sizeof path, "%s/pochta.conf", tmpdir);
	write_file(path, "max_recipients = 3\nmyhostname = h.example\n", 42);
	T_INTEQ(conf_load(&c, path, &err), 0);
	T_INTEQ(c.max_recipients, 3);
	T_STREQ(c.myhostname, "h.example");
	conf_free(&c);

	write_file(path, "max_recipients = 3\nbogus = 1\n", 29);
	T_INTEQ(conf_load(&c, path, &err), -1);
	T_INTEQ(errno, EINVAL);
	T_ASSERT(strncmp(err.s, path, strlen(path)) == 0);
	T_ASSERT(strstr(err.s, ":2: unknown key 'bogus'") != NULL);
	T_INTEQ(c.max_recipients, 1000);
	conf_free(&c);

	/* missing file: ENOENT with the path */
	char missing[160];
	snprintf(missing, sizeof missing, "%s/nonesuch.conf", tmpdir);
	T_INTEQ(conf_load(&c, missing, &err), -1);
	T_INTEQ(errno, ENOENT);
	T_ASSERT(strstr(err.s, missing) != NULL);
	conf_free(&c);

	/* a directory is not a config file */
	T_INTEQ(conf_load(&c, tmpdir, &err), -1);
	T_ASSERT(strstr(err.s, "not a regular file") != NULL);
	conf_free(&c);

	/* size bound: 1 MiB ok, one byte more not */
	size_t big = 1024 * 1024;
	char *data = malloc(big + 1);
	T_ASSERT(data != NULL);
	memset(data, '#', big + 1);
	for (size_t i = 99; i < big + 1; i += 100)
		data[i] = '\n';
	write_file(path, data, big);
	T_INTEQ(conf_load(&c, path, &err), 0);
	conf_free(&c);
	write_file(path, data, big + 1);
	T_INTEQ(conf_load(&c, path, &err), -1);
	T_INTEQ(errno, EFBIG);
	T_ASSERT(strstr(err.s, "too large") != NULL);
	conf_free(&c);
	free(data);
	unlink(path);
	sa_free(&err);
}

struct collect {
	char items[16][32];
	int n;
	int stop_at;
};

static int collect_fn(const char *item, size_t len, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16 && len < 32) {
		memcpy(c->items[c->n], item, len);
		c->items[c->n][len] = '\0';
	}
	c->n++;
	return c->n == c->stop_at ? 7 : 0;
}

static void test_lists(void)
{
	struct collect c;

	memset(&c, 0, sizeof c);
	T_INTEQ(conf_list_each("a, b,,c  d\te ,", collect_fn, &c), 0);
	T_INTEQ(c.n, 5);
	T_STREQ(c.items[0], "a");
	T_STREQ(c.items[1], "b");
	T_STREQ(c.items[2], "c");
	T_STREQ(c.items[3], "d");
	T_STREQ(c.items[4], "e");

	memset(&c, 0, sizeof c);
	c.stop_at = 2;
	T_INTEQ(conf_list_each("x y z", collect_fn, &c), 7);
	T_INTEQ(c.n, 2);

	memset(&c, 0, sizeof c);
	T_INTEQ(conf_list_each("", collect_fn, &c), 0);
	T_INTEQ(conf_list_each(" , ,\t", collect_fn, &c), 0);
	T_INTEQ(conf_list_each(NULL, collect_fn, &c), 0);
	T_INTEQ(c.n, 0);

	const char *l = "example.org, Example.NET localhost";
	T_INTEQ(conf_list_has(l, "example.org", 11), 1);
	T_INTEQ(conf_list_has(l, "EXAMPLE.ORG", 11), 1);
	T_INTEQ(conf_list_has(l, "example.net", 11), 1);
	T_INTEQ(conf_list_has(l, "localhost", 9), 1);
	T_INTEQ(conf_list_has(l, "localhostx", 9), 1);  /* len counts */
	T_INTEQ(conf_list_has(l, "example", 7), 0);
	T_INTEQ(conf_list_has(l, "example.org,", 12), 0);
	T_INTEQ(conf_list_has(l, "org", 3), 0);
	T_INTEQ(conf_list_has(l, "", 0), 0);
	T_INTEQ(conf_list_has("", "a", 1), 0);
	T_INTEQ(conf_list_has(NULL, "a", 1), 0);
}

static void test_hostname(void)
{
	struct conf c;
	char sys[256];

	T_INTEQ(conf_defaults(&c), 0);
	memset(sys, 0, sizeof sys);
	T_INTEQ(gethostname(sys, sizeof sys - 1), 0);
	const char *h = conf_hostname(&c);
	T_ASSERT(h != NULL);
	T_STREQ(h, sys[0] ? sys : "localhost");
	T_ASSERT(conf_hostname(&c) == h);   /* cached */
	T_ASSERT(conf_hostname(NULL) == h);
	sa_t err = SA_INIT;
	T_INTEQ(conf_set(&c, conf_key_find("myhostname"), "mx.example.org", &err), 0);
	T_STREQ(conf_hostname(&c), "mx.example.org");
	conf_free(&c);
	sa_free(&err);
}

static void test_parse_all(void)
{
	struct conf c;
	unsigned char bad[CONF_NKEYS];
	sa_t err = SA_INIT, dump = SA_INIT;
	const char *text = "max_recipients = 7\nbogus = 1\nsmtp_timeout = x\n"
	                   "max_recipients = 8\nmyhostname = ok.example\nnoequals\n";

	T_INTEQ(conf_parse_all(&c, "t", text, strlen(text), &err, bad), 4);
	T_STREQ(err.s, "t:2: unknown key 'bogus'\nt:3: smtp_timeout: not an integer\n"
	               "t:4: duplicate key 'max_recipients'\nt:6: missing '='\n");
	/* the good lines count; a bad one leaves its key's default */
	T_INTEQ(c.max_recipients, 7);
	T_STREQ(c.myhostname, "ok.example");
	T_INTEQ(c.smtp_timeout, 300);
	T_INTEQ(bad[conf_key_find("smtp_timeout") - conf_keys], 1);
	T_INTEQ(bad[conf_key_find("max_recipients") - conf_keys], 1);
	T_INTEQ(bad[conf_key_find("myhostname") - conf_keys], 0);
	T_INTEQ(conf_key_line(text, strlen(text), "myhostname"), 5);
	T_INTEQ(conf_key_line(text, strlen(text), "relayhost"), 0);
	/* the dump parses back to the same values */
	T_INTEQ(conf_dump(&c, &dump), 0);
	conf_free(&c);
	T_INTEQ(conf_parse(&c, "d", dump.s, dump.len, &err), 0);
	T_INTEQ(c.max_recipients, 7);
	T_STREQ(c.myhostname, "ok.example");
	conf_free(&c);
	/* a valid text: 0 problems, nothing in err */
	T_INTEQ(conf_parse_all(&c, "t", "smtp_timeout = 5\n", 17, &err, NULL), 0);
	T_INTEQ(err.len, 0);
	T_INTEQ(c.smtp_timeout, 5);
	conf_free(&c);
	T_INTEQ(conf_key_restart(conf_key_find("smtp_listen")), 1);
	T_INTEQ(conf_key_restart(conf_key_find("myhostname")), 0);
	T_INTEQ(CONF_NKEYS, conf_nkeys);
	sa_free(&err);
	sa_free(&dump);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_conf.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_table);
	T_RUN(test_defaults);
	T_RUN(test_parse_ok);
	T_RUN(test_parse_errors);
	T_RUN(test_parse_binary);
	T_RUN(test_int_values);
	T_RUN(test_set_format);
	T_RUN(test_load);
	T_RUN(test_lists);
	T_RUN(test_hostname);
	T_RUN(test_parse_all);
	rmdir(tmpdir);
	return t_done();
}
