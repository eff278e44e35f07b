/* maildir: names and layout shared by the delivery agent and the POP3 server
 * (cr.yp.to/proto/maildir.html; qmail's maildir(5)). */
#ifndef POCHTA_MAILDIR_H
#define POCHTA_MAILDIR_H
#include <stddef.h>
#include "sa.h"

/* mkdir path, path/tmp, path/new, path/cur (existing ones are fine); 0 or -1 */
int maildir_make(const char *path, int mode);
/* a new unique name "SEC.MUSECPPIDQSEQ.HOST" ('/' and ':' in HOST escaped as
 * \057 and \072); appended to out; 0 or -1 */
int maildir_uniq(sa_t *out, const char *host);
/* the unique part of a file name in new/ or cur/: everything before ":2,"
 * (or ':' at all). 1 and *len set when name is a usable message name
 * (not starting with '.'), 0 otherwise. */
int maildir_name_uniq(const char *name, size_t *len);

#endif
