/* log: one sanitised line per event to stderr or syslog(LOG_MAIL). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "io.h"
#include "log.h"

/* one line stays below PIPE_BUF so that one write() to a shared stderr pipe
 * never interleaves with another process's line */
#define LOG_LINE_MAX 2000

static char log_prog[64] = "pochta";
static enum log_dest log_dest = LOG_DEST_AUTO;

static enum log_dest log_resolve(enum log_dest d)
{
	const char *e;

	if (d != LOG_DEST_AUTO)
		return d;
	e = getenv("POCHTA_LOG");
	return (e && strcmp(e, "stderr") == 0) ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
}

void log_init(const char *prog, enum log_dest dest)
{
	const char *slash;

	if (prog) {
		slash = strrchr(prog, '/');
		if (slash)
			prog = slash + 1;
		snprintf(log_prog, sizeof log_prog, "%s", prog);
	}
	log_dest = log_resolve(dest);
	if (log_dest == LOG_DEST_SYSLOG)
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* append s to line at *n, control characters as '?' */
static void log_clean(char *line, size_t *n, size_t max, const char *s)
{
	for (; *s && *n < max; s++) {
		unsigned char c = (unsigned char)*s;
		line[(*n)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
}

static void log_emit(int prio, const char *tag, const char *qid, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX + 1];
	char line[LOG_LINE_MAX + 8];
	size_t n = 0, body;
	int saved = errno;
	int r, cut;

	if (log_dest == LOG_DEST_AUTO) {
		log_dest = log_resolve(LOG_DEST_AUTO);
		if (log_dest == LOG_DEST_SYSLOG)
			openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
	r = vsnprintf(msg, sizeof msg, fmt, ap);
	if (r < 0)
		snprintf(msg, sizeof msg, "(bad log format)");
	cut = r >= 0 && (size_t)r >= sizeof msg;
	if (log_dest == LOG_DEST_STDERR) {
		r = snprintf(line, LOG_LINE_MAX, "%s[%ld]: ", log_prog, (long)getpid());
		if (r > 0)
			n = (size_t)r < LOG_LINE_MAX ? (size_t)r : LOG_LINE_MAX - 1;
	}
	body = n;
	if (qid) {
		log_clean(line, &n, LOG_LINE_MAX, qid);
		log_clean(line, &n, LOG_LINE_MAX, " ");
	}
	log_clean(line, &n, LOG_LINE_MAX, tag);
	log_clean(line, &n, LOG_LINE_MAX, msg);
	if (n >= LOG_LINE_MAX || cut) {
		/* cut: say so, so nobody mistakes it for the whole line */
		if (n > LOG_LINE_MAX - 3)
			n = LOG_LINE_MAX - 3;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	if (log_dest == LOG_DEST_STDERR) {
		line[n++] = '\n';
		(void)fd_write_all(2, line, n);
	} else {
		line[n] = '\0';
		syslog(prio, "%s", line + body);
	}
	errno = saved;
}

void log_info(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", qid, fmt, ap);
	va_end(ap);
}

void log_warn(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", qid, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", NULL, fmt, ap);
	va_end(ap);
	exit(111);
}
