/* passreq: the request pochta-pop3d hands to pochta-checkpass (man/
 * pochta-checkpass.8), on the checker's standard input, a pipe: never on its
 * command line or in its environment, which other processes can read in /proc.
 *     NAME NUL PASSWORD NUL
 * and nothing else: NAME a valid mailbox name (users.h: NAME or NAME@DOMAIN), PASSWORD 1 to
 * USER_PASS_MAX bytes. At most PASSREQ_MAX bytes, less than PIPE_BUF, so the
 * whole request is written at once before the checker even starts. */
#ifndef POCHTA_PASSREQ_H
#define POCHTA_PASSREQ_H
#include <stddef.h>
#include "users.h"

#define PASSREQ_MAX (USER_MAILBOX_MAX + 1 + USER_PASS_MAX + 1)

struct passreq {
	char name[USER_MAILBOX_MAX + 1];
	char pass[USER_PASS_MAX + 1];
	size_t passlen;
};

/* write the request into out (PASSREQ_MAX bytes); its length, or -1 (EINVAL:
 * not a valid name, an empty or too long password, a NUL in either) */
int passreq_build(char out[PASSREQ_MAX], const char *name, size_t namelen,
                  const char *pass, size_t passlen);
/* parse a whole request; 0, or -1 (EPROTO) when it is not exactly one.
 * The caller wipes r->pass (explicit_bzero) once done. */
int passreq_parse(const char *buf, size_t len, struct passreq *r);

#endif
