/* rec: the record format of every internal file and pipe (queue files, state
 * journals, the smtpd<->enqueue protocol):
 *     <type byte> <decimal length> ':' <length bytes> '\n'
 * e.g. "S17:alice@example.org\n". Length-prefixed, so network bytes inside
 * (CR, LF, NUL) can never start a new record (cf. OpenSMTPD CVE-2020-8794). */
#ifndef POCHTA_REC_H
#define POCHTA_REC_H
#include <stddef.h>
#include "io.h"
#include "sa.h"

#define REC_LEN_DIGITS 10  /* a length has at most this many digits */

/* 0 or -1 */
int rec_put(io_t *out, int type, const void *data, size_t len);
int rec_puts(io_t *out, int type, const char *s);
/* append a record to a string (to build a whole file in memory) */
int rec_cat(sa_t *sa, int type, const void *data, size_t len);

/* read one record into data (replacing its contents, NUL-terminated).
 * IO_OK, IO_EOF at a clean record boundary, IO_ERR with errno: EPROTO when
 * malformed (or EOF inside a record), E2BIG when longer than max, or the read error. */
int rec_get(io_t *in, int *type, sa_t *data, size_t max);

/* parse from memory at *pos: 1 record (pointers into buf, *pos advanced),
 * 0 at end of buf, -1 malformed or truncated */
int rec_next(const char *buf, size_t len, size_t *pos, int *type, const char **data, size_t *dlen);

#endif
