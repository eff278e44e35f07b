/* passcheck: ask pochta-checkpass (man/pochta-checkpass.8) whether a password
 * is right, never reading a hash ourselves. Two ways, the same answer:
 *   - the checker service: when POCHTA_CHECKPASS_FD names an inherited
 *     AF_UNIX SOCK_SEQPACKET socket (pochta-master gives one to pochta-smtpd
 *     when AUTH may be used), a new socket pair's end goes to the service on
 *     it (SCM_RIGHTS); the request (passreq.h) is written on ours and one
 *     packet of one byte comes back: the checker's exit status (below). The
 *     service runs as the user who can read the hashes (root when installed),
 *     so a session that runs as smtpd_user can ask it;
 *   - otherwise pochta-checkpass is run with the request on a pipe as its
 *     standard input, and answers by its exit status.
 * Status: 0 right, 2 right and a system user, 1 wrong, anything else: it
 * could not be checked. */
#ifndef POCHTA_PASSCHECK_H
#define POCHTA_PASSCHECK_H
#include <stddef.h>
#include "users.h"

#define PASSCHECK_ENV "POCHTA_CHECKPASS_FD"
#define PASSCHECK_TIMEOUT_MS 30000   /* for the service's answer */

enum { PASSCHECK_TEMP = -1, PASSCHECK_FAIL = 0, PASSCHECK_OK = 1, PASSCHECK_OK_SYSTEM = 2 };

/* the inherited service socket (made close-on-exec), or -1 when there is none */
int passcheck_service_fd(void);
/* check a request (passreq_build: len < PIPE_BUF); PASSCHECK_*, and on
 * PASSCHECK_TEMP the reason in why */
int passcheck_run(const char *req, size_t len, char *why, size_t whysz);

/* a login: NAME (folded to lower case, as names are stored) and PASSWORD
 * checked; on PASSCHECK_OK and PASSCHECK_OK_SYSTEM the folded name is in
 * user. A name or password no user can have is PASSCHECK_FAIL. */
int passcheck_login(const char *name, size_t namelen, const char *pass, size_t passlen,
                    char user[USER_MAILBOX_MAX + 1], char *why, size_t whysz);

#endif
