/* libFuzzer harness: cidr_parse and cidr_list_parse on arbitrary bytes.
 * A block that parses keeps no host bits, its text form parses to the same
 * block, its network address matches it, and the address with the last prefix
 * bit flipped does not. The list parser agrees with the item parser: a list is
 * accepted when each item is, and a refusal names an item that is refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_block(const struct cidr *c)
{
	int max = c->family == AF_INET ? 32 : 128;
	char text[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN];
	unsigned char flip[16];
	struct cidr again;

	if ((c->family != AF_INET && c->family != AF_INET6) || c->bits < 0 || c->bits > max)
		abort();
	for (int i = 0; i < 16; i++) {
		int keep = c->bits - i * 8;
		unsigned char host = keep <= 0 ? 0xff : keep >= 8 ? 0 : (unsigned char)(0xff >> keep);
		if (c->addr[i] & host)
			abort();
	}
	if (!inet_ntop(c->family, c->addr, ip, sizeof ip))
		abort();
	snprintf(text, sizeof text, "%s/%d", ip, c->bits);
	if (cidr_parse(text, strlen(text), &again) < 0 || again.family != c->family ||
	    again.bits != c->bits || memcmp(again.addr, c->addr, 16) != 0)
		abort();
	if (cidr_match(c, 1, ip) != 1)
		abort();
	if (c->bits > 0) {
		memcpy(flip, c->addr, 16);
		flip[(c->bits - 1) / 8] ^= (unsigned char)(0x80 >> ((c->bits - 1) % 8));
		if (!inet_ntop(c->family, flip, ip, sizeof ip) || cidr_match(c, 1, ip) != 0)
			abort();
	}
}

static int sep(char c)
{
	return c == ',' || c == ' ' || c == '\t';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr c, *v;
	size_t n, k = 0, i = 0;
	sa_t err = SA_INIT;
	char *s;
	int r;

	if (cidr_parse((const char *)data, size, &c) == 0)
		check_block(&c);
	else if (errno != EINVAL)
		abort();

	/* the list parser on the text up to the first NUL */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* an address as a client: never crashes, 0 or 1 */
	r = cidr_match(&c, 0, s);
	if (r != 0)
		abort();
	if (cidr_list_parse(s, &v, &n, &err) == 0) {
		while (s[i]) {
			size_t st;
			struct cidr one;
			while (s[i] && sep(s[i]))
				i++;
			if (!s[i])
				break;
			st = i;
			while (s[i] && !sep(s[i]))
				i++;
			if (k >= n || cidr_parse(s + st, i - st, &one) < 0 ||
			    memcmp(&one, &v[k], sizeof one) != 0)
				abort();
			check_block(&v[k]);
			k++;
		}
		if (k != n)
			abort();
		free(v);
	} else {
		if (errno != EINVAL || v != NULL || n != 0 || err.len == 0 ||
		    cidr_parse(err.s, err.len, &c) == 0)
			abort();
	}
	sa_free(&err);
	free(s);
	return 0;
}
