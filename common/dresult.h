/* dresult: how a delivery agent reports per-recipient results to pochta-qmgr.
 * The agent writes one record (rec.h) of type DRESULT_REC per recipient on its
 * stdout, in any order:
 *     r<len>:<index> <class> <status> <text>\n
 *   index   0-based position of the recipient in the agent's argument list
 *   class   D delivered, T temporary failure, P permanent failure
 *   status  RFC 3463 code, e.g. 2.0.0, 4.4.1, 5.1.1
 *   text    diagnostic for logs, `queue show` and bounces, e.g.
 *           "smtp; 550 5.1.1 <bob@example.org>: user unknown" (control chars removed)
 * A recipient the agent did not report (it crashed, was killed) is a temporary
 * failure. The exit code (0/100/111) then only says whether the agent ran. */
#ifndef POCHTA_DRESULT_H
#define POCHTA_DRESULT_H
#include <stddef.h>
#include "io.h"
#include "sa.h"

#define DRESULT_REC 'r'
#define DRESULT_TEXT_MAX 1000

struct dresult {
	size_t index;
	char class;          /* 'D', 'T' or 'P' */
	char status[16];     /* "x.y.z" */
	sa_t text;
};

/* write one result record (text sanitised and cut to DRESULT_TEXT_MAX); 0 or -1 */
int dresult_put(io_t *out, size_t index, char class, const char *status, const char *text);
/* the same record appended to out; 0 or -1 */
int dresult_cat(sa_t *out, size_t index, char class, const char *status, const char *text);
/* parse the data of one record; 0, or -1 (EPROTO) when malformed */
int dresult_parse(const char *data, size_t len, struct dresult *r);

#endif
