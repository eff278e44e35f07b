/* io: buffered I/O on file descriptors with timeouts and hard line limits.
 * No stdio on network paths. A read that would block first flushes the paired
 * output stream (io->flush), which gives RFC 2920 pipelining semantics for free:
 * replies are sent when the client's pipelined input is used up. */
#ifndef POCHTA_IO_H
#define POCHTA_IO_H
#include <stddef.h>
#include <sys/types.h>
#include "sa.h"

typedef struct io {
	int fd;
	char *buf;
	size_t cap;
	size_t start, end;      /* input: unread bytes are buf[start..end); output: pending bytes */
	int timeout_ms;         /* per read/write wait; <0 waits forever */
	struct io *flush;       /* input only: output to flush before blocking */
	unsigned long long pos; /* input: bytes consumed so far (file offset from where io began) */
	long long deadline;     /* input: CLOCK_MONOTONIC ms after which reads fail; 0 none */
} io_t;

/* results of the reading calls */
#define IO_OK 1
#define IO_EOF 0
#define IO_ERR (-1)      /* errno set; ETIMEDOUT on timeout */
#define IO_TOOLONG (-2)  /* line over the limit; the rest of it (to LF) was discarded */

void io_init(io_t *io, int fd, char *buf, size_t cap, int timeout_ms);

/* Read one line ending in LF. The line is stored without its LF and without one
 * CR just before the LF; *had_cr (may be NULL) tells whether that CR was there.
 * max counts the whole line on the wire, terminator included (1000 for SMTP,
 * 255 for POP3 is "max 255 octets" excluding? caller decides). line is NUL-terminated.
 * At EOF with a partial line: IO_EOF (the partial line is dropped). */
int io_getline(io_t *io, sa_t *line, size_t max, int *had_cr);

/* Make at least one byte available (reading if needed); returns IO_OK, IO_EOF or
 * IO_ERR. Then io->buf + io->start .. io->end are readable; io_consume() eats them. */
int io_fill(io_t *io);
void io_consume(io_t *io, size_t n);
/* read exactly n bytes: IO_OK, IO_EOF (short), IO_ERR */
int io_readn(io_t *io, void *p, size_t n);

/* Bound the total time of the reads that follow to ms from now (ms < 0: no
 * bound again). timeout_ms bounds each wait; this bounds a whole reply, so a
 * peer that trickles bytes forever still times out (ETIMEDOUT). */
void io_deadline(io_t *io, int ms);
/* Move a set deadline ms later, but never past cap_ms from now (a minimum data
 * rate: each read buys time, silence never does). No deadline set: no effect. */
void io_deadline_extend(io_t *io, long long ms, int cap_ms);

/* 1 when input is there without waiting: unread bytes are buffered, or a read
 * that cannot block gets some (they are buffered then). 0 otherwise, also at EOF
 * or on an error, which the next read reports. Never waits, never flushes. */
int io_input_ready(io_t *io);

/* output; all return 0 or -1 (errno; ETIMEDOUT when the peer does not read) */
int io_put(io_t *io, const void *p, size_t n);
int io_puts(io_t *io, const char *s);
int io_printf(io_t *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int io_flush(io_t *io);

/* write all of p to fd, retrying on EINTR and short writes: 0 or -1 */
int fd_write_all(int fd, const void *p, size_t n);

#endif
