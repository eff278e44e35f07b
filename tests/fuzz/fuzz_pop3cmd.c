/* Fuzz harness for common/pop3cmd.c: the command parser, strict base64,
 * SASL PLAIN splitting, the UIDL mapping and the message encoder.
 * libFuzzer entry point LLVMFuzzerTestOneInput; built with -DFUZZ_MAIN it is a
 * plain program that runs each file named on the command line (or stdin).
 * Invariants checked (abort() on violation):
 *   - a parsed command's pointers stay inside the input; errors carry a reply
 *   - base64: decode(encode(x)) == x; a decoded string re-encodes to the input
 *   - PLAIN: the three parts are inside the message, authzid empty or = authcid
 *   - UIDL: 1..70 characters of 0x21..0x7E, the same for the same input
 *   - encoder: counting and producing agree, output <= 2n+2, no bare LF, and
 *     (when stuffing) no line of the output starts with a single '.' */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pop3cmd.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s\n", #c); abort(); } } while (0)

static void fuzz_cmd(const char *d, size_t n)
{
	struct pop3_cmd c;

	if (pop3_cmd_parse(d, n, &c) < 0) {
		CHECK(c.err != NULL && strncmp(c.err, "-ERR", 4) == 0);
		return;
	}
	CHECK(c.verb != POP3_UNKNOWN);
	if (c.arg)
		CHECK(c.arg >= d && c.arg + c.arglen <= d + n);
	if (c.resp)
		CHECK(c.resp >= d && c.resp + c.resplen <= d + n);
	if (c.nnum >= 1)
		CHECK(c.msg >= 1 && c.msg <= POP3_MSGNUM_MAX);
}

static void fuzz_b64(const char *d, size_t n)
{
	sa_t a = SA_INIT, b = SA_INIT, e = SA_INIT;

	if (pop3_b64_decode(d, n, &a) == 0) {
		CHECK(pop3_b64_encode(a.s ? a.s : "", a.len, &e) == 0);
		CHECK(e.len == n && (n == 0 || memcmp(e.s, d, n) == 0));
	}
	sa_trunc(&e, 0);
	CHECK(pop3_b64_encode(d, n, &e) == 0);
	CHECK(pop3_b64_decode(e.s, e.len, &b) == 0);
	CHECK(b.len == n && (n == 0 || memcmp(b.s, d, n) == 0));
	sa_free(&a);
	sa_free(&b);
	sa_free(&e);
}

static void fuzz_plain(const char *d, size_t n)
{
	struct pop3_plain p;

	if (pop3_plain_split(d, n, &p) < 0)
		return;
	CHECK(p.authcidlen > 0 && p.passwdlen > 0);
	CHECK(p.authcid >= d && p.authcid + p.authcidlen <= d + n);
	CHECK(p.passwd >= d && p.passwd + p.passwdlen == d + n);
	CHECK(p.authzidlen == 0 || (p.authzidlen == p.authcidlen &&
	      memcmp(p.authzid, p.authcid, p.authcidlen) == 0));
}

static void fuzz_uid(const char *d, size_t n)
{
	char u[POP3_UID_MAX + 1], v[POP3_UID_MAX + 1];
	size_t k = pop3_uid_make(d, n, u), i;

	CHECK(k >= 1 && k <= POP3_UID_MAX && strlen(u) == k);
	for (i = 0; i < k; i++)
		CHECK((unsigned char)u[i] >= 0x21 && (unsigned char)u[i] <= 0x7e);
	CHECK(pop3_uid_make(d, n, v) == k && strcmp(u, v) == 0);
}

static void fuzz_wire(const char *d, size_t n, int stuff, unsigned long long top)
{
	struct pop3_wire w, cw;
	char *out = malloc(2 * n + 2 + 1);
	size_t o, c, i, split = n / 3;

	CHECK(out != NULL);
	pop3_wire_init(&w, stuff, top);
	pop3_wire_init(&cw, stuff, top);
	o = pop3_wire_put(&w, d, split, out);
	o += pop3_wire_put(&w, d + split, n - split, out + o);
	o += pop3_wire_end(&w, out + o);
	c = pop3_wire_put(&cw, d, n, NULL);
	c += pop3_wire_end(&cw, NULL);
	CHECK(o == c && o == w.octets && o <= 2 * n + 2);
	for (i = 0; i < o; i++) {
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
		/* a line starting with '.' must be "..": a lone dot would end the data */
		if (stuff && out[i] == '.' && (i == 0 || out[i - 1] == '\n'))
			CHECK(i + 1 < o && out[i + 1] == '.');
	}
	CHECK(o == 0 || (o >= 2 && out[o - 2] == '\r' && out[o - 1] == '\n'));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	/* a copy that is NUL-terminated, as the server's line buffer is */
	char *z = malloc(size + 1);

	if (!z)
		return 0;
	memcpy(z, d, size);
	z[size] = '\0';
	fuzz_cmd(z, size);
	fuzz_b64(z, size);
	fuzz_plain(z, size);
	fuzz_uid(z, size);
	fuzz_wire(z, size, 1, POP3_WIRE_ALL);
	fuzz_wire(z, size, 0, POP3_WIRE_ALL);
	fuzz_wire(z, size, 1, 0);
	fuzz_wire(z, size, 1, size ? (unsigned char)z[0] % 5 : 1);
	free(z);
	return 0;
}

#ifdef FUZZ_MAIN
static int run_file(FILE *f)
{
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);

	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2)
		return run_file(stdin);
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		run_file(f);
		fclose(f);
	}
	return 0;
}
#endif
