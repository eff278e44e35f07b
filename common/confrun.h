/* confrun: the configuration a running instance uses.
 * pochta-master checks pochta.conf and, only when it is valid, copies it to
 * ETC/pochta.conf.running (at start and on each reload; removed when it
 * stops). Every program but pochtactl reads that copy when it exists, so a
 * bad line in the live file reaches no session, worker or queue manager
 * until a reload accepts it; without a supervisor (inetd, a stopped
 * instance) they read pochta.conf itself. See pochta-master(8). */
#ifndef POCHTA_CONFRUN_H
#define POCHTA_CONFRUN_H
#include <stddef.h>
#include "conf.h"
#include "sa.h"

/* ETC/pochta.conf.running (static buffer; "" when paths are not set) */
const char *confrun_snapshot(void);
/* the file to read: the snapshot when it exists, else paths.conf */
const char *confrun_path(void);
/* conf_load of confrun_path(), falling back to paths.conf when the snapshot
 * went away in between (the instance stopped) */
int confrun_load(struct conf *c, sa_t *err);
/* replace the snapshot with text, durably, mode 0644; 0 or -1 with errno */
int confrun_write(const char *text, size_t len);
/* remove the snapshot; 0, or -1 with errno (ENOENT is no error) */
int confrun_remove(void);

#endif
