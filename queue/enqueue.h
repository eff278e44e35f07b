/* pochta-enqueue internals: one message being written into QUEUE/tmp/. */
#ifndef POCHTA_ENQUEUE_H
#define POCHTA_ENQUEUE_H
#include <stddef.h>
#include "gcommit.h"
#include "io.h"
#include "qfile.h"
#include "sa.h"

#define ENQ_FILEBUF 65536

struct enqfile {
	int fd;                        /* the tmp file; -1 when no message is open */
	sa_t tmppath;                  /* QUEUE/tmp/NAME */
	int env_written;               /* the envelope records are in the file */
	io_t out;                      /* buffered writes to fd */
	char *buf;                     /* ENQ_FILEBUF bytes, allocated once */
	struct gcommit gc;             /* QUEUE/commit: incoming/'s shared fsync */
	int gc_tried;                  /* gc opened (or found unusable) at the first commit */
};

/* create QUEUE/tmp/<unique>, mode 0600, and set the envelope's queue ID and
 * arrival time; 0 or -1 */
int enqfile_create(struct enqfile *f, const char *queuedir, struct qfile *q);
/* message bytes, after the envelope records (written once); 0 or -1 */
int enqfile_data(struct enqfile *f, const struct qfile *q, const void *p, size_t n);
/* the envelope (if not yet written), flush, fsync, rename to incoming/QID,
 * fsync incoming/ (or find it synced since the rename by another session:
 * QUEUE/commit); the file is closed either way and on failure nothing is
 * left in tmp/ or incoming/. 0 or -1 */
int enqfile_commit(struct enqfile *f, const struct qfile *q, const char *queuedir);
/* remove the tmp file and forget the message (no message open: no-op) */
void enqfile_abort(struct enqfile *f);
/* everything f holds, at the end of the session */
void enqfile_free(struct enqfile *f);

/* enqueue_zygote.c: -z (zarg: that argument, blanked in each child); returns
 * only in a forked child, which then serves its session as main does */
void enqueue_zygote(char *zarg);

#endif
