/* tcpenv: the client's address for a server whose connection is fd 0.
 * UCSPI servers (pochtactl start, tcpserver, s6-tcpserver) set TCPREMOTEIP;
 * inetd and systemd Accept=yes do not, so getpeername(0) is the fallback. */
#ifndef POCHTA_TCPENV_H
#define POCHTA_TCPENV_H
#include <stddef.h>

#define TCPENV_IP_MAX 64 /* holds any textual IPv6 address */

/* the remote IP as text into ip (size n >= TCPENV_IP_MAX): 1 known,
 * 0 unknown (ip is then "unknown": not a socket, or not an IP socket) */
int tcpenv_remote_ip(char *ip, size_t n);

#endif
