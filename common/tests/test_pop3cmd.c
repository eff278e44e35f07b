/* unit tests for common/pop3cmd.c */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "pop3cmd.h"
#include "test.h"

static int parse(const char *s, struct pop3_cmd *c)
{
	return pop3_cmd_parse(s, strlen(s), c);
}

static void test_verbs(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("STAT", &c), 0);
	T_INTEQ(c.verb, POP3_STAT);
	T_INTEQ(parse("stat", &c), 0);
	T_INTEQ(c.verb, POP3_STAT);
	T_INTEQ(parse("sTaT  ", &c), 0);
	T_INTEQ(parse("noop", &c), 0);
	T_INTEQ(c.verb, POP3_NOOP);
	T_INTEQ(parse("Quit", &c), 0);
	T_INTEQ(c.verb, POP3_QUIT);
	T_INTEQ(parse("rset", &c), 0);
	T_INTEQ(c.verb, POP3_RSET);
	T_INTEQ(parse("capa", &c), 0);
	T_INTEQ(c.verb, POP3_CAPA);
	T_INTEQ(parse("top 1 0", &c), 0);
	T_INTEQ(c.verb, POP3_TOP);
	T_INTEQ(parse("APOP x y", &c), 0);
	T_INTEQ(c.verb, POP3_APOP);
	T_STREQ(pop3_verb_name(POP3_UIDL), "UIDL");
	T_STREQ(pop3_verb_name(POP3_UNKNOWN), "UNKNOWN");
}

static void test_unknown(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("", &c), -1);
	T_STREQ(c.err, "-ERR unknown command");
	T_INTEQ(parse("XYZZY", &c), -1);
	T_INTEQ(c.verb, POP3_UNKNOWN);
	T_INTEQ(parse("STATS", &c), -1);
	T_INTEQ(parse(" STAT", &c), -1);
	T_INTEQ(parse("ST", &c), -1);
	T_INTEQ(parse("HELO x", &c), -1);
	T_INTEQ(pop3_cmd_parse("STAT\0", 5, &c), -1);
	T_INTEQ(pop3_cmd_parse("USER a\0b", 8, &c), -1);
}

static void test_noargs(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("STAT 1", &c), -1);
	T_STREQ(c.err, "-ERR syntax: this command takes no argument");
	T_INTEQ(parse("NOOP x", &c), -1);
	T_INTEQ(parse("QUIT now", &c), -1);
	T_INTEQ(parse("RSET 1", &c), -1);
	T_INTEQ(parse("CAPA x", &c), -1);
}

static void test_numbers(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("RETR 1", &c), 0);
	T_INTEQ(c.verb, POP3_RETR);
	T_INTEQ(c.msg, 1);
	T_INTEQ(c.nnum, 1);
	T_INTEQ(parse("retr   42 ", &c), 0);
	T_INTEQ(c.msg, 42);
	T_INTEQ(parse("DELE 4000000000", &c), 0);
	T_INTEQ(c.msg, 4000000000UL);
	T_INTEQ(parse("RETR 0", &c), -1);
	T_STREQ(c.err, "-ERR no such message");
	T_INTEQ(parse("RETR 000", &c), -1);
	T_INTEQ(parse("RETR 4000000001", &c), -1);
	T_STREQ(c.err, "-ERR no such message");
	T_INTEQ(parse("RETR 99999999999999999999999999", &c), -1);
	T_STREQ(c.err, "-ERR no such message");
	T_INTEQ(parse("RETR -1", &c), -1);
	T_STREQ(c.err, "-ERR invalid message number");
	T_INTEQ(parse("RETR +1", &c), -1);
	T_INTEQ(parse("RETR 1x", &c), -1);
	T_INTEQ(parse("RETR x", &c), -1);
	T_INTEQ(parse("RETR 0x10", &c), -1);
	T_INTEQ(parse("RETR", &c), -1);
	T_STREQ(c.err, "-ERR syntax: RETR msg");
	T_INTEQ(parse("RETR 1 2", &c), -1);
	T_INTEQ(parse("DELE", &c), -1);
	T_STREQ(c.err, "-ERR syntax: DELE msg");
	T_INTEQ(parse("LIST", &c), 0);
	T_INTEQ(c.nnum, 0);
	T_INTEQ(parse("LIST 3", &c), 0);
	T_INTEQ(c.nnum, 1);
	T_INTEQ(c.msg, 3);
	T_INTEQ(parse("LIST 3 4", &c), -1);
	T_INTEQ(parse("UIDL", &c), 0);
	T_INTEQ(parse("uidl 7", &c), 0);
	T_INTEQ(c.msg, 7);
	T_INTEQ(parse("UIDL 0", &c), -1);
	T_INTEQ(parse("TOP 1 0", &c), 0);
	T_INTEQ(c.msg, 1);
	T_INTEQ(c.lines, 0);
	T_INTEQ(c.nnum, 2);
	T_INTEQ(parse("TOP 2 99999999999999999999999", &c), 0);
	T_ASSERT(c.lines == ULLONG_MAX);
	T_INTEQ(parse("TOP 1", &c), -1);
	T_STREQ(c.err, "-ERR syntax: TOP msg lines");
	T_INTEQ(parse("TOP 1 -1", &c), -1);
	T_STREQ(c.err, "-ERR invalid number of lines");
	T_INTEQ(parse("TOP 0 1", &c), -1);
	T_INTEQ(parse("TOP 1 2 3", &c), -1);
	T_INTEQ(parse("RETR\t1", &c), -1);
}

static void test_user_pass(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("USER alice", &c), 0);
	T_INTEQ(c.verb, POP3_USER);
	T_INTEQ(c.arglen, 5);
	T_ASSERT(memcmp(c.arg, "alice", 5) == 0);
	T_INTEQ(parse("USER", &c), -1);
	T_INTEQ(parse("USER a b", &c), -1);
	T_INTEQ(parse("PASS  two words ", &c), 0);
	T_INTEQ(c.verb, POP3_PASS);
	T_INTEQ(c.arglen, 11);
	T_ASSERT(memcmp(c.arg, " two words ", 11) == 0);
	T_INTEQ(parse("pass x", &c), 0);
	T_INTEQ(c.arglen, 1);
	T_INTEQ(parse("PASS", &c), -1);
	T_INTEQ(parse("PASS ", &c), -1);
	T_INTEQ(parse("PASSx", &c), -1);
}

static void test_auth(void)
{
	struct pop3_cmd c;

	T_INTEQ(parse("AUTH", &c), 0);
	T_INTEQ(c.verb, POP3_AUTH);
	T_INTEQ(c.arglen, 0);
	T_ASSERT(c.resp == NULL);
	T_INTEQ(parse("AUTH PLAIN", &c), 0);
	T_INTEQ(c.arglen, 5);
	T_ASSERT(c.resp == NULL);
	T_INTEQ(parse("auth plain AGEAYg==", &c), 0);
	T_INTEQ(c.resplen, 8);
	T_ASSERT(memcmp(c.resp, "AGEAYg==", 8) == 0);
	T_INTEQ(parse("AUTH PLAIN =", &c), 0);
	T_INTEQ(c.resplen, 1);
	T_INTEQ(parse("AUTH PLAIN a b", &c), -1);
}

static int dec(const char *in, sa_t *out)
{
	sa_trunc(out, 0);
	return pop3_b64_decode(in, strlen(in), out);
}

static void test_b64(void)
{
	sa_t o = SA_INIT, e = SA_INIT;
	unsigned char all[256];
	int i;

	T_INTEQ(dec("", &o), 0);
	T_INTEQ(o.len, 0);
	T_INTEQ(dec("YQ==", &o), 0);
	T_STREQ(o.s, "a");
	T_INTEQ(dec("YWI=", &o), 0);
	T_STREQ(o.s, "ab");
	T_INTEQ(dec("YWJj", &o), 0);
	T_STREQ(o.s, "abc");
	T_INTEQ(dec("AGFsaWNlAHNlY3JldA==", &o), 0);
	T_INTEQ(o.len, 13);
	T_ASSERT(memcmp(o.s, "\0alice\0secret", 13) == 0);
	/* strictness */
	T_INTEQ(dec("YQ=", &o), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(dec("YQ", &o), -1);
	T_INTEQ(dec("=AAA", &o), -1);
	T_INTEQ(dec("AAA=BBBB", &o), -1);
	T_INTEQ(dec("YQ=a", &o), -1);
	T_INTEQ(dec("Y===", &o), -1);
	T_INTEQ(dec("====", &o), -1);
	T_INTEQ(dec("YR==", &o), -1); /* non-zero unused bits */
	T_INTEQ(dec("YWJ=", &o), -1);
	T_INTEQ(dec("YW J", &o), -1);
	T_INTEQ(dec("YWJj\r\n", &o), -1);
	T_INTEQ(dec("YW-j", &o), -1);
	T_INTEQ(dec("YW_j", &o), -1);
	/* a failed decode leaves out as it was */
	sa_copys(&o, "keep");
	T_INTEQ(pop3_b64_decode("YWJjYQ=!", 8, &o), -1);
	T_STREQ(o.s, "keep");
	/* round trip over all byte values and lengths */
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (i = 0; i <= 256; i++) {
		sa_trunc(&e, 0);
		sa_trunc(&o, 0);
		T_INTEQ(pop3_b64_encode(all, (size_t)i, &e), 0);
		T_INTEQ(e.len % 4, 0);
		T_INTEQ(pop3_b64_decode(e.s, e.len, &o), 0);
		T_INTEQ(o.len, i);
		T_ASSERT(i == 0 || memcmp(o.s, all, (size_t)i) == 0);
	}
	sa_free(&o);
	sa_free(&e);
}

static void test_plain(void)
{
	struct pop3_plain p;
	char big[300];

	T_INTEQ(pop3_plain_split("\0alice\0secret", 13, &p), 0);
	T_INTEQ(p.authzidlen, 0);
	T_INTEQ(p.authcidlen, 5);
	T_ASSERT(memcmp(p.authcid, "alice", 5) == 0);
	T_INTEQ(p.passwdlen, 6);
	T_ASSERT(memcmp(p.passwd, "secret", 6) == 0);
	T_INTEQ(pop3_plain_split("alice\0alice\0pw", 14, &p), 0);
	T_INTEQ(p.authzidlen, 5);
	T_INTEQ(pop3_plain_split("bob\0alice\0pw", 12, &p), -1);
	T_INTEQ(errno, EPERM);
	T_INTEQ(pop3_plain_split("alicex\0alice\0pw", 15, &p), -1);
	T_INTEQ(pop3_plain_split("\0alice\0", 7, &p), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(pop3_plain_split("\0\0pw", 4, &p), -1);
	T_INTEQ(pop3_plain_split("alice\0pw", 8, &p), -1);
	T_INTEQ(pop3_plain_split("", 0, &p), -1);
	T_INTEQ(pop3_plain_split("\0a\0b\0", 6, &p), -1);
	T_INTEQ(pop3_plain_split("\0a\0b\0c", 7, &p), -1);
	memset(big, 'x', sizeof big);
	big[0] = '\0';
	big[2] = '\0';
	T_INTEQ(pop3_plain_split(big, sizeof big, &p), -1); /* password over 255 */
	T_INTEQ(pop3_plain_split(big, 258, &p), 0);
}

static void test_uid(void)
{
	char u[POP3_UID_MAX + 1], v[POP3_UID_MAX + 1];
	char name[200];
	size_t n, i;

	n = pop3_uid_make("1700000000.M12P34Q5.host", 24, u);
	T_INTEQ(n, 24);
	T_STREQ(u, "1700000000.M12P34Q5.host");
	/* exactly 70 is kept, 71 is mapped */
	memset(name, 'a', sizeof name);
	n = pop3_uid_make(name, 70, u);
	T_INTEQ(n, 70);
	n = pop3_uid_make(name, 71, u);
	T_INTEQ(n, 33);
	T_ASSERT(u[0] == '~');
	n = pop3_uid_make(name, 71, v);
	T_STREQ(u, v);                       /* deterministic */
	pop3_uid_make(name, 72, v);
	T_ASSERT(strcmp(u, v) != 0);         /* distinct names, distinct UIDs */
	/* characters outside 0x21..0x7E */
	n = pop3_uid_make("a b", 3, u);
	T_INTEQ(n, 33);
	for (i = 0; i < n; i++)
		T_ASSERT(u[i] >= 0x21 && u[i] <= 0x7e);
	pop3_uid_make("a\tb", 3, v);
	T_ASSERT(strcmp(u, v) != 0);
	n = pop3_uid_make("caf\xc3\xa9", 5, u);
	T_INTEQ(n, 33);
	n = pop3_uid_make("", 0, u);
	T_INTEQ(n, 33);
	n = pop3_uid_make("x\x7f", 2, u);
	T_INTEQ(n, 33);
	n = pop3_uid_make("!~", 2, u);
	T_STREQ(u, "!~");
}

/* encode all of s in one call (or byte by byte when split) and return it */
static const char *wire(const char *s, int stuff, unsigned long long top, int split,
                        unsigned long long *count)
{
	static char out[4096];
	struct pop3_wire w, cw;
	size_t n = strlen(s), o = 0, i, c = 0;

	pop3_wire_init(&w, stuff, top);
	pop3_wire_init(&cw, stuff, top);
	if (split) {
		for (i = 0; i < n; i++) {
			o += pop3_wire_put(&w, s + i, 1, out + o);
			c += pop3_wire_put(&cw, s + i, 1, NULL);
		}
	} else {
		o += pop3_wire_put(&w, s, n, out + o);
		c += pop3_wire_put(&cw, s, n, NULL);
	}
	o += pop3_wire_end(&w, out + o);
	c += pop3_wire_end(&cw, NULL);
	out[o] = '\0';
	T_INTEQ(c, o);            /* counting and producing agree */
	T_INTEQ(w.octets, o);
	if (count)
		*count = c;
	return out;
}

static void test_wire(void)
{
	unsigned long long n;
	int sp;

	for (sp = 0; sp < 2; sp++) {
		T_STREQ(wire("", 1, POP3_WIRE_ALL, sp, &n), "");
		T_INTEQ(n, 0);
		T_STREQ(wire("a\nb\n", 1, POP3_WIRE_ALL, sp, &n), "a\r\nb\r\n");
		T_INTEQ(n, 6);
		T_STREQ(wire("a\r\nb\n", 1, POP3_WIRE_ALL, sp, NULL), "a\r\nb\r\n");
		T_STREQ(wire("a\nb", 1, POP3_WIRE_ALL, sp, &n), "a\r\nb\r\n");
		T_INTEQ(n, 6);
		T_STREQ(wire("a\rb\n", 1, POP3_WIRE_ALL, sp, NULL), "a\rb\r\n");
		T_STREQ(wire("x\r", 1, POP3_WIRE_ALL, sp, NULL), "x\r\r\n");
		T_STREQ(wire(".\n..x\n.", 1, POP3_WIRE_ALL, sp, NULL), "..\r\n...x\r\n..\r\n");
		T_STREQ(wire(".\n..x\n.", 0, POP3_WIRE_ALL, sp, &n), ".\r\n..x\r\n.\r\n");
		T_INTEQ(n, 11);
		T_STREQ(wire("a.b\n .c\n", 1, POP3_WIRE_ALL, sp, NULL), "a.b\r\n .c\r\n");
		T_STREQ(wire("\n\n", 1, POP3_WIRE_ALL, sp, NULL), "\r\n\r\n");
	}
}

static void test_top(void)
{
	const char *m = "H: 1\nH2: 2\n\nb1\n.b2\nb3\n";
	const char *crlf = "H: 1\r\n\r\nb1\r\nb2\r\n";
	int sp;

	for (sp = 0; sp < 2; sp++) {
		T_STREQ(wire(m, 1, 0, sp, NULL), "H: 1\r\nH2: 2\r\n\r\n");
		T_STREQ(wire(m, 1, 1, sp, NULL), "H: 1\r\nH2: 2\r\n\r\nb1\r\n");
		T_STREQ(wire(m, 1, 2, sp, NULL), "H: 1\r\nH2: 2\r\n\r\nb1\r\n..b2\r\n");
		T_STREQ(wire(m, 1, 3, sp, NULL), "H: 1\r\nH2: 2\r\n\r\nb1\r\n..b2\r\nb3\r\n");
		T_STREQ(wire(m, 1, 1000, sp, NULL), "H: 1\r\nH2: 2\r\n\r\nb1\r\n..b2\r\nb3\r\n");
		T_STREQ(wire(crlf, 1, 0, sp, NULL), "H: 1\r\n\r\n");
		T_STREQ(wire(crlf, 1, 1, sp, NULL), "H: 1\r\n\r\nb1\r\n");
		/* no blank line: the whole message is headers */
		T_STREQ(wire("H: 1\nH: 2", 1, 0, sp, NULL), "H: 1\r\nH: 2\r\n");
		/* a last body line without LF gets one */
		T_STREQ(wire("H: 1\n\nb1", 1, 5, sp, NULL), "H: 1\r\n\r\nb1\r\n");
		/* a line holding one CR and something else is not blank */
		T_STREQ(wire("H: 1\n\rX\nmore\n\nb\n", 1, 0, sp, NULL), "H: 1\r\n\rX\r\nmore\r\n\r\n");
		T_STREQ(wire("\nb1\nb2\n", 1, 1, sp, NULL), "\r\nb1\r\n");
		/* nor is a line of two CRs: only LF or CRLF alone end the headers */
		T_STREQ(wire("H: 1\n\r\r\nmore\n\nb\n", 1, 0, sp, NULL), "H: 1\r\n\r\r\nmore\r\n\r\n");
	}
}

int main(void)
{
	T_RUN(test_verbs);
	T_RUN(test_unknown);
	T_RUN(test_noargs);
	T_RUN(test_numbers);
	T_RUN(test_user_pass);
	T_RUN(test_auth);
	T_RUN(test_b64);
	T_RUN(test_plain);
	T_RUN(test_uid);
	T_RUN(test_wire);
	T_RUN(test_top);
	return t_done();
}
