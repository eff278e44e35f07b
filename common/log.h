/* log: one line per event.
 * stderr and file: "TIME PROGRAM[PID]: QUEUEID key=value ...", TIME in RFC 3339
 * with milliseconds and the UTC offset of local time
 * (2026-12-01T18:20:05.123+00:00); or, with log_format=json, one JSON object
 * per line: time, program, pid, level, qid (when there is one), message, and
 * the fields of log_info_fields() as members of their own.
 * syslog: syslog's own format (facility mail, ident PROGRAM, LOG_PID).
 * Where: LOG_DEST_AUTO is stderr when POCHTA_LOG=stderr (set by pochta-master
 * for what it starts), syslog when POCHTA_LOG=syslog or unset: under inetd fd 2
 * may be the client's socket. log_configure() then applies pochta.conf. */
#ifndef POCHTA_LOG_H
#define POCHTA_LOG_H
#include <stddef.h>

enum log_dest { LOG_DEST_AUTO, LOG_DEST_STDERR, LOG_DEST_SYSLOG, LOG_DEST_FILE };

/* the longest line written, newline included: below PIPE_BUF, so that one
 * write() to a shared pipe or O_APPEND file never interleaves with another's */
#define LOG_LINE_MAX 4000
/* the file under the log directory */
#define LOG_FILE_NAME "pochta.log"

void log_init(const char *prog, enum log_dest dest);
/* log_destination and log_format of pochta.conf (values the reader checked;
 * NULL: unchanged). "file" appends to LOGDIR/pochta.log, except under
 * POCHTA_LOG=stderr (pochta-master passes that stream to the file); when the
 * file cannot be opened, syslog, and a warning there says why. "stderr" keeps
 * the rule of LOG_DEST_AUTO. 0, or -1 when the file could not be opened. */
int log_configure(const char *dest, const char *format, const char *logdir);
/* for pochta-master, instead of log_configure: "stderr" is its standard
 * error (whatever POCHTA_LOG says); with log_destination=file, its own
 * lines go to the file and its standard error (hence every child's) becomes a
 * pipe to a process of its own, pochta-logger, that appends whole lines to
 * the file; for every destination, POCHTA_LOG is set for the children.
 * pochta-logger exits when every writer is gone, or drains and exits on
 * SIGTERM, and reopens the file on SIGHUP. 0, or -1 with errno. */
int log_supervise(const char *dest, const char *format, const char *logdir);
/* the pid of pochta-logger, 0 when there is none */
long log_logger_pid(void);
/* reopen the log file after logrotate renamed it: the file of this process,
 * and pochta-logger's (by SIGHUP) when this process started one. Safe to call
 * with any destination (then nothing happens); not from a signal handler. */
void log_reopen(void);

/* qid may be NULL. Control characters in the formatted text are replaced by '?'
 * so that network bytes can never forge a log line. */
void log_info(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warn(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a line with fields: the text of fmt, then " name=value" for each field (as
 * log_info); with log_format=json each field is also a member of its own.
 * Names are fixed words of ours, never time, program, pid, level, qid or
 * message; values may hold any bytes. */
struct log_field {
	const char *name, *value;
};
void log_info_fields(const char *qid, const struct log_field *f, size_t nf, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* log then exit(111): for conditions a supervisor should restart us for */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
