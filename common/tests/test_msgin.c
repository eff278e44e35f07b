/* msgin: local message input (line ends, the "." line, what is marked) and
 * the header section of a local submission */
#include <string.h>
#include "msgin.h"
#include "sa.h"
#include "test.h"

struct res {
	char out[1024];
	size_t len;
	size_t used;
	struct msgin m;
};

/* in fed in steps of `step` bytes into an output of outcap, then ended */
static void run(const char *in, size_t n, int dot_ends, size_t step, size_t outcap, struct res *r)
{
	size_t pos = 0, o;

	memset(r, 0, sizeof *r);
	msgin_init(&r->m, dot_ends);
	while (pos < n && !r->m.done) {
		size_t chunk = n - pos < step ? n - pos : step;
		size_t u = msgin_feed(&r->m, in + pos, chunk, r->out + r->len, outcap, &o);
		pos += u;
		r->len += o;
	}
	r->used = pos;
	if (!r->m.done)
		r->len += msgin_end(&r->m, r->out + r->len);
	r->out[r->len] = '\0';
}

/* the same result for every step and output size */
static const char *norm(const char *in, int dot_ends, struct res *r)
{
	struct res other;
	size_t n = strlen(in);

	run(in, n, dot_ends, n ? n : 1, 512, r);
	for (size_t step = 1; step <= 4; step++)
		for (size_t cap = 3; cap <= 5; cap++) {
			run(in, n, dot_ends, step, cap, &other);
			if (other.len != r->len || memcmp(other.out, r->out, r->len) != 0 ||
			    other.used != r->used || other.m.bare_cr != r->m.bare_cr)
				return "(depends on the cut)";
		}
	return r->out;
}

static void test_line_ends(void)
{
	struct res r;

	T_STREQ(norm("a\r\nb\nc\r\n", 1, &r), "a\nb\nc\n");
	T_INTEQ(r.m.bare_cr, 0);
	T_STREQ(norm("no final line end", 1, &r), "no final line end\n");
	T_STREQ(norm("", 1, &r), "");
	T_STREQ(norm("a\rb\n", 1, &r), "a\rb\n");
	T_INTEQ(r.m.bare_cr, 1);
	T_STREQ(norm("a\r\r\n", 1, &r), "a\r\n");
	T_INTEQ(r.m.bare_cr, 1);
	T_STREQ(norm("end\r", 1, &r), "end\r\n");
	T_INTEQ(r.m.bare_cr, 1);
}

static void test_dot(void)
{
	struct res r;

	/* a lone dot ends the input; what follows is not read */
	T_STREQ(norm("a\n.\nafter\n", 1, &r), "a\n");
	T_INTEQ(r.used, 4);
	T_STREQ(norm("a\r\n.\r\nafter\n", 1, &r), "a\n");
	T_STREQ(norm(".\n", 1, &r), "");
	T_STREQ(norm("a\n.", 1, &r), "a\n");
	/* other dots are data, unchanged (this is not SMTP) */
	T_STREQ(norm("..\n.a\na.\n. \n", 1, &r), "..\n.a\na.\n. \n");
	T_STREQ(norm(".\rx\n", 1, &r), ".\rx\n");
	T_INTEQ(r.m.bare_cr, 1);
	T_STREQ(norm("a\n.\r", 1, &r), "a\n.\r\n");
	/* -i: a dot line is data */
	T_STREQ(norm("a\n.\nafter\n", 0, &r), "a\n.\nafter\n");
}

static void test_marks(void)
{
	struct res r;
	char line[1200];

	run("a\0b\n", 4, 1, 4, 512, &r);
	T_INTEQ(r.m.nul, 1);
	T_INTEQ(r.len, 4);
	memset(line, 'x', 998);
	strcpy(line + 998, "\r\n");
	norm(line, 1, &r);
	T_INTEQ(r.m.longline, 0);
	T_INTEQ(r.m.size, 999);
	memset(line, 'x', 999);
	strcpy(line + 999, "\n");
	norm(line, 1, &r);
	T_INTEQ(r.m.longline, 1);
}

struct fields {
	sa_t list;
	int stop_at;
	int n;
};

static int field(const char *msg, size_t off, size_t len, void *arg)
{
	struct fields *f = arg;

	sa_catc(&f->list, '[');
	sa_catb(&f->list, msg + off, len);
	sa_catc(&f->list, ']');
	return ++f->n == f->stop_at ? -1 : 0;
}

static int headers(const char *msg, struct fields *f, size_t *hend, size_t *body)
{
	sa_trunc(&f->list, 0);
	sa_copys(&f->list, "");
	f->n = 0;
	return msgin_headers(msg, strlen(msg), field, f, hend, body);
}

static void test_headers(void)
{
	struct fields f = { SA_INIT, 0, 0 };
	size_t hend, body;

	T_INTEQ(headers("To: a\nSubject: x\n y\n\nbody\n", &f, &hend, &body), 1);
	T_STREQ(f.list.s, "[To: a\n][Subject: x\n y\n]");
	T_INTEQ(hend, 20);
	T_INTEQ(body, 21);
	/* no empty line: the first line that is not a field starts the body */
	T_INTEQ(headers("Subject: x\nhello there\n", &f, &hend, &body), 0);
	T_STREQ(f.list.s, "[Subject: x\n]");
	T_INTEQ(hend, 11);
	T_INTEQ(body, 11);
	T_INTEQ(headers("hello\n", &f, &hend, &body), 0);
	T_STREQ(f.list.s, "");
	T_INTEQ(body, 0);
	T_INTEQ(headers(" starts folded\n", &f, &hend, &body), 0);
	T_INTEQ(body, 0);
	T_INTEQ(headers(":no name\n", &f, &hend, &body), 0);
	T_INTEQ(headers("Two words: no\n", &f, &hend, &body), 0);
	T_INTEQ(headers("Name\t : blanks before the colon\n\n", &f, &hend, &body), 1);
	T_STREQ(f.list.s, "[Name\t : blanks before the colon\n]");
	/* headers only, no body */
	T_INTEQ(headers("A: 1\nB: 2\n", &f, &hend, &body), 0);
	T_STREQ(f.list.s, "[A: 1\n][B: 2\n]");
	T_INTEQ(body, 10);
	T_INTEQ(headers("", &f, &hend, &body), 0);
	T_INTEQ(headers("\nbody\n", &f, &hend, &body), 1);
	T_INTEQ(body, 1);
	/* the callback may stop the scan */
	f.stop_at = 1;
	T_INTEQ(headers("A: 1\nB: 2\n", &f, &hend, &body), -1);
	T_INTEQ(msgin_headers("A: 1\n\n", 6, NULL, NULL, &hend, &body), 1);
	sa_free(&f.list);
}

int main(void)
{
	T_RUN(test_line_ends);
	T_RUN(test_dot);
	T_RUN(test_marks);
	T_RUN(test_headers);
	return t_done();
}
