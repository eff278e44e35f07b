/* pochta-checkpass internals: the check itself, and the service mode. */
#ifndef POCHTA_CHECKPASS_H
#define POCHTA_CHECKPASS_H
#include <stddef.h>

/* checkpass_check.c: one request (buf, len bytes: passreq.h) against the
 * instance's users (paths_init done); the exit status of man/pochta-checkpass.8:
 * 0 right, 2 right and a system user, 1 wrong, 100 malformed, 111 not checked.
 * buf is wiped. */
int checkpass_check(char *buf, size_t len);
/* read a whole request from fd into buf (room for max + 1 bytes, so that a
 * longer one shows); its length, or -1 with errno */
long checkpass_read(int fd, char *buf, size_t max);

/* checkpass_serve.c: -w, the service on the socket sock; returns at its EOF */
int checkpass_serve(int sock);

#endif
