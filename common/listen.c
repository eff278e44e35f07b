/* listen: numeric listen addresses and socket address text. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "listen.h"

static int listen_port_parse(const char *s, unsigned *port)
{
	unsigned long v = 0;
	if (!*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
	}
	if (v == 0)
		return -1;
	*port = (unsigned)v;
	return 0;
}

int listen_parse(const char *s, struct listen_addr *l, sa_t *err)
{
	char host[64];
	const char *portstr;
	size_t n = strlen(s);
	memset(l, 0, sizeof *l);
	if (n == 0 || n > 300) {
		sa_copys(err, "listen address must be ADDR:PORT");
		return -1;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':') {
			sa_copys(err, "IPv6 listen address must be [ADDR]:PORT");
			return -1;
		}
		size_t hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof host) {
			sa_copys(err, "bad IPv6 address");
			return -1;
		}
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		portstr = close + 2;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			sa_copys(err, "bad IPv6 address");
			return -1;
		}
		unsigned port;
		if (listen_port_parse(portstr, &port) < 0) {
			sa_copys(err, "port must be 1..65535");
			return -1;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		l->sslen = sizeof *sin6;
		return 0;
	}
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || strchr(s, ':') != colon) {
		sa_copys(err, "listen address must be ADDR:PORT (IPv6: [ADDR]:PORT)");
		return -1;
	}
	size_t hl = (size_t)(colon - s);
	if (hl >= sizeof host) {
		sa_copys(err, "bad IPv4 address");
		return -1;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		sa_copys(err, "bad IPv4 address (numeric A.B.C.D expected)");
		return -1;
	}
	unsigned port;
	if (listen_port_parse(colon + 1, &port) < 0) {
		sa_copys(err, "port must be 1..65535");
		return -1;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)port);
	l->sslen = sizeof *sin;
	return 0;
}

int listen_sockaddr_text(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (!inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)iplen))
			return -1;
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, ip, (socklen_t)iplen))
			return -1;
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}

int listen_ucspi_env(int fd, const char *rip, unsigned rport)
{
	char lip[64] = "", num[16];
	unsigned lport = 0;
	struct sockaddr_storage me;
	socklen_t ml = sizeof me;
	int rc = 0;

	if (getsockname(fd, (struct sockaddr *)&me, &ml) == 0)
		listen_sockaddr_text((struct sockaddr *)&me, lip, sizeof lip, &lport);
	rc |= setenv("PROTO", "TCP", 1);
	rc |= setenv("TCPREMOTEIP", rip, 1);
	snprintf(num, sizeof num, "%u", rport);
	rc |= setenv("TCPREMOTEPORT", num, 1);
	rc |= setenv("TCPLOCALIP", lip, 1);
	snprintf(num, sizeof num, "%u", lport);
	rc |= setenv("TCPLOCALPORT", num, 1);
	/* names we do not look up must not be inherited from our own environment */
	rc |= unsetenv("TCPREMOTEHOST");
	rc |= unsetenv("TCPREMOTEINFO");
	rc |= unsetenv("TCPLOCALHOST");
	return rc ? -1 : 0;
}
