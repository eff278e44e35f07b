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
#include "text.h"

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

/* append s to line at *n, at most up to max; 0 when s did not fit.
 * Kept: printable ASCII and well-formed UTF-8 other than C1 controls.
 * Each other byte (C0 controls, DEL, C1 controls, bytes that are not UTF-8)
 * becomes one '?', as does a UTF-8-encoded C1 control. */
static int log_clean(char *line, size_t *n, size_t max, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t left = strlen(str), k;

	while (left) {
		k = text_safe_len(s, left);
		if (*n + (k ? k : 1) > max)
			return 0;
		if (k) {
			memcpy(line + *n, s, k);
			*n += k;
		} else {
			line[(*n)++] = '?';
			k = text_unsafe_len(s, left);
		}
		s += k;
		left -= k;
	}
	return 1;
}

static void log_emit(int prio, const char *tag, const char *qid, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX + 1];
	char line[LOG_LINE_MAX + 8];
	size_t n = 0, body;
	int saved = errno;
	int r, cut, full;

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
	/* room is kept for "..." so that a cut never splits a UTF-8 sequence */
	full = (!qid || (log_clean(line, &n, LOG_LINE_MAX - 3, qid) &&
	                 log_clean(line, &n, LOG_LINE_MAX - 3, " "))) &&
	       log_clean(line, &n, LOG_LINE_MAX - 3, tag) &&
	       log_clean(line, &n, LOG_LINE_MAX - 3, msg);
	if (!full || cut) {
		/* cut: say so, so nobody mistakes it for the whole line */
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
