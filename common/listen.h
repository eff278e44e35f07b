/* listen: listen addresses "A.B.C.D:PORT" or "[IPV6]:PORT", numeric only (a
 * listener must not depend on the resolver at boot), and the numeric text of
 * a socket address for logs and the TCP* variables. */
#ifndef POCHTA_LISTEN_H
#define POCHTA_LISTEN_H
#include <stddef.h>
#include <sys/socket.h>
#include "sa.h"

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t sslen;
};

/* 0, or -1 with a reason in err */
int listen_parse(const char *s, struct listen_addr *l, sa_t *err);
/* numeric text of an address and its port; ip must hold 46 bytes; 0 or -1 */
int listen_sockaddr_text(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port);
/* the UCSPI-TCP environment of a server about to serve connection fd from
 * rip:rport: PROTO, TCPREMOTEIP, TCPREMOTEPORT, TCPLOCALIP, TCPLOCALPORT; the
 * names nobody looked up (TCPREMOTEHOST, TCPREMOTEINFO, TCPLOCALHOST) are
 * removed. 0, or -1 (setenv failed) */
int listen_ucspi_env(int fd, const char *rip, unsigned rport);

#endif
