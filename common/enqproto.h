/* The pochta-enqueue protocol (man/pochta-enqueue.8): records (rec.h) over one
 * bidirectional descriptor (stdin and stdout of pochta-enqueue). One process
 * serves a whole session: any number of messages, one after the other.
 *
 *   client -> enqueue                      enqueue -> client
 *   M ""        begin a message            I qid   (or Z text: temporary failure)
 *   S/B/P/H/C/R envelope (as in qfile.h)
 *   D bytes     message data, LF line ends, any number of records
 *   E ""        end: commit                K qid   queued durably
 *                                          Z text  temporary failure (4xx)
 *                                          X text  permanent failure (5xx)
 *   Q ""        abort this message         (no reply)
 * EOF from the client aborts an open message; enqueue then exits 0. */
#ifndef POCHTA_ENQPROTO_H
#define POCHTA_ENQPROTO_H

#define ENQ_BEGIN 'M'
#define ENQ_DATA 'D'
#define ENQ_END 'E'
#define ENQ_ABORT 'Q'
#define ENQ_R_ID 'I'
#define ENQ_R_OK 'K'
#define ENQ_R_TEMP 'Z'
#define ENQ_R_PERM 'X'
#define ENQ_DATA_MAX 65536       /* largest D record */

#endif
