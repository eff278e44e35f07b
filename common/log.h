/* log: one line per event, "program[pid]: QUEUEID key=value ...".
 * Destination: stderr when POCHTA_LOG=stderr (set by `pochtactl start`) or when
 * log_init() is told so, otherwise syslog(LOG_MAIL). Never the network socket:
 * under inetd fd 2 may be the connection, hence syslog is the default there. */
#ifndef POCHTA_LOG_H
#define POCHTA_LOG_H

enum log_dest { LOG_DEST_AUTO, LOG_DEST_STDERR, LOG_DEST_SYSLOG };

void log_init(const char *prog, enum log_dest dest);
/* qid may be NULL. Control characters in the formatted text are replaced by '?'
 * so that network bytes can never forge a log line. */
void log_info(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warn(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* log then exit(111): for conditions a supervisor should restart us for */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
