/* libFuzzer harness: listen_parse on arbitrary text. A refusal gives a reason;
 * an accepted address has a nonzero port, and its numeric text, written back
 * as ADDR:PORT or [ADDR]:PORT, parses to the same socket address. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "listen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct listen_addr l, again;
	sa_t err = SA_INIT;
	if (listen_parse(s, &l, &err) == 0) {
		char ip[64], text[80];
		unsigned port;
		if (listen_sockaddr_text((struct sockaddr *)&l.ss, ip, sizeof ip, &port) < 0 || port == 0)
			abort();
		snprintf(text, sizeof text, l.ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
		if (listen_parse(text, &again, &err) < 0 || again.sslen != l.sslen ||
		    memcmp(&again.ss, &l.ss, l.sslen) != 0)
			abort();
	} else if (err.len == 0) {
		abort();
	}
	sa_free(&err);
	free(s);
	return 0;
}
