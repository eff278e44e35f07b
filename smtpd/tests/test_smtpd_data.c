/* Unit tests of pochta-smtpd's pure parts: the DATA state machine and the
 * recipient policy. The sources are included so the test links with
 * libpochta.a alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "../smtpd_data.c"
#include "../smtpd_rcpt.c"

struct run {
	char out[4096];
	size_t outlen;
	size_t used;  /* input bytes consumed */
	struct data_sm d;
};

/* feed in with a given input step and output capacity, as the server does */
static void feed(struct run *r, const char *in, size_t len, size_t step, size_t outcap)
{
	size_t pos = 0;

	data_init(&r->d);
	r->outlen = 0;
	while (pos < len && !r->d.done) {
		char buf[64];
		size_t n = len - pos < step ? len - pos : step, k, o = 0;
		if (outcap > sizeof buf)
			outcap = sizeof buf;
		k = data_feed(&r->d, in + pos, n, buf, outcap, &o);
		memcpy(r->out + r->outlen, buf, o);
		r->outlen += o;
		pos += k;
		if (k == 0 && o == 0)
			break; /* no progress: a bug; fail below */
	}
	r->out[r->outlen] = '\0';
	r->used = pos;
}

#define FEED(r, s) feed(r, s, sizeof(s) - 1, 1 << 20, 64)

static void check_all_splits(const char *in, size_t len, const char *want_out,
                             int want_done, int want_bare, size_t want_used)
{
	size_t step, cap;

	for (step = 1; step <= len + 1; step++) {
		for (cap = 2; cap <= 9; cap += 7) {
			struct run r;
			feed(&r, in, len, step, cap);
			T_STREQ(r.out, want_out);
			T_INTEQ(r.d.done, want_done);
			T_INTEQ(r.d.bare, want_bare);
			T_INTEQ(r.used, want_used);
		}
	}
}

static void test_simple(void)
{
	static const char in[] = "Subject: x\r\n\r\nhello\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "Subject: x\n\nhello\n", 1, 0, sizeof in - 1);
}

static void test_empty_message(void)
{
	static const char in[] = ".\r\n";
	struct run r;
	FEED(&r, ".\r\n");
	T_INTEQ(r.d.done, 1);
	T_INTEQ(r.outlen, 0);
	T_INTEQ(r.d.size, 0);
	check_all_splits(in, sizeof in - 1, "", 1, 0, 3);
}

static void test_dot_stuffing(void)
{
	static const char in[] = "..x\r\n..\r\n.y\r\n...\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, ".x\n.\ny\n..\n", 1, 0, sizeof in - 1);
}

static void test_dot_mid_line_kept(void)
{
	static const char in[] = "a.b\r\na.\r\n .\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "a.b\na.\n .\n", 1, 0, sizeof in - 1);
}

static void test_stops_at_end(void)
{
	static const char in[] = "x\r\n.\r\nMAIL FROM:<a@b>\r\n";
	struct run r;
	FEED(&r, "x\r\n.\r\nMAIL FROM:<a@b>\r\n");
	T_INTEQ(r.used, 6);
	T_STREQ(r.out, "x\n");
	check_all_splits(in, sizeof in - 1, "x\n", 1, 0, 6);
}

/* the smuggling forms: none ends the data, each marks it bare */
static void test_smuggling_lf_dot_lf(void)
{
	static const char in[] = "x\n.\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nz\r\n.\r\n";
	check_all_splits(in, sizeof in - 1,
	                 "x\n.\nMAIL FROM:<a@b>\nRCPT TO:<c@d>\nDATA\nz\n", 1, 1, sizeof in - 1);
}

static void test_smuggling_cr_dot_crlf(void)
{
	static const char in[] = "x\r.\r\nMAIL FROM:<a@b>\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "x\r.\nMAIL FROM:<a@b>\n", 1, 1, sizeof in - 1);
}

static void test_smuggling_lf_dot_crlf(void)
{
	static const char in[] = "x\n.\r\nMAIL FROM:<a@b>\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "x\n.\nMAIL FROM:<a@b>\n", 1, 1, sizeof in - 1);
}

static void test_smuggling_crlf_dot_cr(void)
{
	static const char in[] = "x\r\n.\rMAIL FROM:<a@b>\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "x\n\rMAIL FROM:<a@b>\n", 1, 1, sizeof in - 1);
}

static void test_bare_cr_then_crlf(void)
{
	/* "\r\r\n": the first CR is bare, the second starts the CRLF */
	static const char in[] = "a\r\r\n.\r\r\n.\r\n";
	check_all_splits(in, sizeof in - 1, "a\r\n\r\n", 1, 1, sizeof in - 1);
}

static void test_incomplete(void)
{
	struct run r;
	FEED(&r, "abc\r\n.\r");
	T_INTEQ(r.d.done, 0);
	T_INTEQ(r.used, 7);
	FEED(&r, "abc\r\n");
	T_INTEQ(r.d.done, 0);
	T_STREQ(r.out, "abc\n");
}

static void test_size(void)
{
	struct run r;
	/* CRLF counts 2, the stuffing dot and the terminator do not */
	FEED(&r, "ab\r\n..c\r\n.\r\n");
	T_INTEQ(r.d.size, 8);
	T_STREQ(r.out, "ab\n.c\n");
}

static void test_long_line(void)
{
	char *in = malloc(200005);
	struct run r;
	size_t i, total = 0, pos = 0;
	struct data_sm d;

	T_ASSERT(in != NULL);
	if (!in)
		return;
	memset(in, 'x', 200000);
	memcpy(in + 200000, "\r\n.\r\n", 5);
	data_init(&d);
	while (!d.done && pos < 200005) {
		size_t o = 0;
		i = data_feed(&d, in + pos, 200005 - pos, r.out, sizeof r.out, &o);
		pos += i;
		total += o;
	}
	T_INTEQ(d.done, 1);
	T_INTEQ(total, 200001);
	T_INTEQ(d.bare, 0);
	T_INTEQ(d.longline, 1);
	T_INTEQ(d.nul, 0);
	free(in);
}

/* the flags of a whole input, the same for every split and output capacity;
 * want_out may hold NULs (want_outlen bytes) */
static void check_flags_all_splits(const char *in, size_t len, const char *want_out,
                                   size_t want_outlen, int want_nul, int want_long)
{
	size_t step, cap;

	for (step = 1; step <= len + 1; step++) {
		for (cap = 2; cap <= 9; cap += 7) {
			struct run r;
			feed(&r, in, len, step, cap);
			T_INTEQ(r.d.done, 1);
			T_INTEQ(r.used, len);
			T_INTEQ(r.outlen, want_outlen);
			T_ASSERT(r.outlen == want_outlen && memcmp(r.out, want_out, want_outlen) == 0);
			T_INTEQ(r.d.nul, want_nul);
			T_INTEQ(r.d.longline, want_long);
			T_INTEQ(r.d.bare, 0);
		}
	}
}

static void test_nul(void)
{
	static const char a[] = "Subject: x\r\n\r\na\0b\r\n.\r\n";
	check_flags_all_splits(a, sizeof a - 1, "Subject: x\n\na\0b\n", 16, 1, 0);
	/* the smuggling endings with a NUL never end the data, and are refused */
	static const char b[] = "x\r\n\0.\r\nMAIL FROM:<a@b>\r\n.\r\n";
	check_flags_all_splits(b, sizeof b - 1, "x\n\0.\nMAIL FROM:<a@b>\n", 21, 1, 0);
	static const char c[] = "x\r\n.\0\r\nMAIL FROM:<a@b>\r\n.\r\n";
	check_flags_all_splits(c, sizeof c - 1, "x\n\0\nMAIL FROM:<a@b>\n", 20, 1, 0);
	static const char d[] = "x\r\n\0\r\n.\r\n"; /* a line of one NUL */
	check_flags_all_splits(d, sizeof d - 1, "x\n\0\n", 4, 1, 0);
	static const char e[] = "no nul here\r\n.\r\n";
	check_flags_all_splits(e, sizeof e - 1, "no nul here\n", 12, 0, 0);
}

/* a message of lines of the given lengths (each 'x' * n CRLF, with a leading
 * "prefix"), its flags checked for every split */
static void check_lines(const char *prefix, const size_t *lens, size_t nlens, int want_long)
{
	static char in[8192], want[8192];
	size_t len = 0, wlen = 0, i, pl = strlen(prefix);

	for (i = 0; i < nlens; i++) {
		memcpy(in + len, prefix, pl);
		len += pl;
		/* "..": a stuffed dot, one '.' of output; ".x": the dot is dropped */
		if (pl == 2)
			want[wlen++] = '.';
		memset(in + len, 'x', lens[i]);
		memset(want + wlen, 'x', lens[i]);
		len += lens[i];
		wlen += lens[i];
		memcpy(in + len, "\r\n", 2);
		len += 2;
		want[wlen++] = '\n';
	}
	memcpy(in + len, ".\r\n", 3);
	len += 3;
	/* every split is slow for long inputs: a few steps only */
	{
		size_t steps[] = {1, 7, 997, 998, 999, 1000, 1001, 4096}, k;
		for (k = 0; k < sizeof steps / sizeof steps[0]; k++) {
			struct run r;
			feed(&r, in, len, steps[k], 9);
			T_INTEQ(r.d.done, 1);
			T_INTEQ(r.used, len);
			T_ASSERT(r.outlen == wlen && memcmp(r.out, want, wlen) == 0);
			T_INTEQ(r.d.longline, want_long);
			T_INTEQ(r.d.nul, 0);
		}
	}
}

static void test_line_length(void)
{
	size_t ok[] = {998, 0, 998, 1}, over[] = {10, 999, 3}, last[] = {1, 2, 999},
	       first[] = {999, 1}, two[] = {997, 1}, dot_ok[] = {998, 1, 998};

	check_lines("", ok, 4, 0);
	check_lines("", over, 3, 1);
	check_lines("", last, 3, 1);
	check_lines("", first, 2, 1);
	/* the stuffing dot does not count (RFC 5321 4.5.3.1.6) */
	check_lines(".", dot_ok, 3, 0); /* "." alone would end the data */
	check_lines(".", over, 3, 1);
	/* a stuffed "..": one dot is text and counts */
	check_lines("..", two, 2, 0);
	check_lines("..", ok, 4, 1);
}

static void test_received_count(void)
{
	struct run r;
	FEED(&r, "Received: a\r\nreceived:b\r\n\tcont\r\nX-Received: c\r\n"
	         "RECEIVED: d\r\nReceived : e\r\n.Received: f\r\n\r\nReceived: body\r\n.\r\n");
	T_INTEQ(r.d.done, 1);
	/* "Received :" too: RFC 5322 4.5.7 allows blanks before the colon */
	T_INTEQ(r.d.received, 5);
	FEED(&r, "Received: a\r\nReceived: b\r\n.\r\n"); /* no body: the last field counts */
	T_INTEQ(r.d.received, 2);
	FEED(&r, "\r\nReceived: x\r\n.\r\n"); /* empty header section */
	T_INTEQ(r.d.received, 0);
}

static struct addr mk(const char *local, const char *domain)
{
	struct addr a;

	memset(&a, 0, sizeof a);
	snprintf(a.local, sizeof a.local, "%s", local);
	if (domain) {
		a.has_domain = 1;
		snprintf(a.domain, sizeof a.domain, "%s", domain);
	}
	return a;
}

static void test_rcpt_policy(void)
{
	char path[] = "/tmp/test_smtpd_usersXXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "local_domains = example.test, other.test\n";
	struct rcpt_policy p;
	struct conf conf;
	struct addr a;

	T_ASSERT(fd >= 0);
	if (fd < 0)
		return;
	T_ASSERT(write(fd, "alice\nbob\n", 10) == 10);
	close(fd);
	T_INTEQ(conf_parse(&conf, "test", text, sizeof text - 1, NULL), 0);
	p.conf = &conf;
	p.users_path = path;
	p.relay_client = 0;
	p.authenticated = 0;

	a = mk("alice", "example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	a = mk("Alice+Lists", "other.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	a = mk("carol", "example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_UNKNOWN);
	a = mk("../alice", "example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_UNKNOWN);
	a = mk("PostMaster", "example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	a = mk("Postmaster", NULL);
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	a = mk("alice", NULL);
	T_INTEQ(rcpt_check(&p, &a), RCPT_UNKNOWN);
	a = mk("alice", "elsewhere.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_RELAY);
	a = mk("alice", "[127.0.0.1]");
	T_INTEQ(rcpt_check(&p, &a), RCPT_RELAY);
	a = mk("alice", "sub.example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_RELAY);
	/* an authenticated client relays (RFC 6409) */
	p.authenticated = 1;
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	p.authenticated = 0;
	p.relay_client = 1;
	T_INTEQ(rcpt_check(&p, &a), RCPT_OK);
	a = mk("carol", "example.test"); /* relaying never opens local domains */
	T_INTEQ(rcpt_check(&p, &a), RCPT_UNKNOWN);
	T_INTEQ(conf_set(&conf, conf_key_find("recipient_delimiter"), "", NULL), 0);
	a = mk("alice+x", "example.test");
	T_INTEQ(rcpt_check(&p, &a), RCPT_UNKNOWN);
	conf_free(&conf);
	unlink(path);
}

/* the pause at the end of the header section, and the fields seen, for
 * every input step */
static void test_header_end_pause(void)
{
	static const char in[] = "Subject: x\r\nDATE: now\r\n\r\nbody\r\n.\r\n";
	for (size_t step = 1; step <= sizeof in - 1; step++) {
		struct data_sm d;
		char out[128], buf[8];
		size_t pos = 0, olen = 0, at = 0;
		int pauses = 0;

		data_init(&d);
		d.pause_at_hdr_end = 1;
		while (pos < sizeof in - 1 && !d.done) {
			size_t n = sizeof in - 1 - pos < step ? sizeof in - 1 - pos : step, o = 0;
			pos += data_feed(&d, in + pos, n, buf, sizeof buf, &o);
			memcpy(out + olen, buf, o);
			olen += o;
			if (d.paused) {
				pauses++;
				at = olen;
				d.paused = d.pause_at_hdr_end = 0;
			}
		}
		T_INTEQ(pauses, 1);
		/* stopped right after the empty line's LF */
		T_INTEQ(at, 22);
		T_ASSERT(memcmp(out, "Subject: x\nDATE: now\n\n", 22) == 0);
		T_INTEQ(olen, 27);
		T_INTEQ(d.has_date, 1);
		T_INTEQ(d.has_msgid, 0);
	}
}

int main(void)
{
	T_RUN(test_header_end_pause);
	T_RUN(test_simple);
	T_RUN(test_empty_message);
	T_RUN(test_dot_stuffing);
	T_RUN(test_dot_mid_line_kept);
	T_RUN(test_stops_at_end);
	T_RUN(test_smuggling_lf_dot_lf);
	T_RUN(test_smuggling_cr_dot_crlf);
	T_RUN(test_smuggling_lf_dot_crlf);
	T_RUN(test_smuggling_crlf_dot_cr);
	T_RUN(test_bare_cr_then_crlf);
	T_RUN(test_incomplete);
	T_RUN(test_size);
	T_RUN(test_long_line);
	T_RUN(test_nul);
	T_RUN(test_line_length);
	T_RUN(test_received_count);
	T_RUN(test_rcpt_policy);
	return t_done();
}
