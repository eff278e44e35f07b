#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpenv.h"

static int ip_valid(const char *s)
{
	unsigned char tmp[16];

	return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

int tcpenv_remote_ip(char *ip, size_t n)
{
	const char *e = getenv("TCPREMOTEIP");
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (n < TCPENV_IP_MAX)
		return 0;
	if (e && *e && strlen(e) < n && ip_valid(e)) {
		strcpy(ip, e);
		return 1;
	}
	strcpy(ip, "unknown");
	if (e && *e)
		return 0; /* set but bogus: do not second-guess the launcher */
	if (getpeername(0, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, (socklen_t)n))
		return 1;
	if (ss.ss_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, (socklen_t)n))
		return 1;
	strcpy(ip, "unknown");
	return 0;
}
