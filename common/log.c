/* log: one sanitised line per event to stderr, a file or syslog(LOG_MAIL). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "log.h"
#include "text.h"

/* the text of one event (qid, level and message), cleaned, at most this long */
#define LOG_TEXT_MAX 1900

static char log_prog[64] = "pochta";
static enum log_dest log_dest = LOG_DEST_AUTO;
static int log_json;
static int log_fd = -1;            /* LOG_DEST_FILE */
static char log_path[1200];
static pid_t log_logger;           /* pochta-logger, started by log_supervise */
static int log_syslog_open;

static enum log_dest log_resolve(enum log_dest d)
{
	const char *e;

	if (d != LOG_DEST_AUTO)
		return d;
	e = getenv("POCHTA_LOG");
	return (e && strcmp(e, "stderr") == 0) ? LOG_DEST_STDERR : LOG_DEST_SYSLOG;
}

static void log_use(enum log_dest d)
{
	log_dest = log_resolve(d);
	if (log_dest == LOG_DEST_SYSLOG && !log_syslog_open) {
		openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
		log_syslog_open = 1;
	}
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
	log_use(dest);
}

static int log_open_file(void)
{
	int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
	if (fd < 0)
		return -1;
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	return 0;
}

int log_configure(const char *dest, const char *format, const char *logdir)
{
	const char *env = getenv("POCHTA_LOG");

	if (format)
		log_json = strcmp(format, "json") == 0;
	if (!dest)
		return 0;
	if (strcmp(dest, "syslog") == 0) {
		log_use(LOG_DEST_SYSLOG);
		return 0;
	}
	if (strcmp(dest, "file") != 0 || (env && strcmp(env, "stderr") == 0)) {
		log_use(LOG_DEST_AUTO);
		return 0;
	}
	if ((size_t)snprintf(log_path, sizeof log_path, "%s/%s", logdir, LOG_FILE_NAME) >= sizeof log_path) {
		errno = ENAMETOOLONG;
		log_path[0] = '\0';
	} else if (log_open_file() == 0) {
		log_dest = LOG_DEST_FILE;
		return 0;
	}
	int e = errno;
	log_use(LOG_DEST_SYSLOG);
	log_warn(NULL, "cannot open the log file %s/%s: %s; logging to syslog", logdir, LOG_FILE_NAME,
	         strerror(e));
	errno = e;
	return -1;
}

static volatile sig_atomic_t logger_hup, logger_term;

static void logger_on_signal(int sig)
{
	if (sig == SIGHUP)
		logger_hup = 1;
	else
		logger_term = 1;
}

/* the pochta-logger process: whole lines from the pipe to the file */
static void logger_run(int in) __attribute__((noreturn));
static void logger_run(int in)
{
	static char buf[65536];
	size_t have = 0;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = logger_on_signal; /* no SA_RESTART: read() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN); /* ^C to the group: stay until the writers are gone */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_NAME, "pochta-logger", 0, 0, 0);
	snprintf(log_prog, sizeof log_prog, "pochta-logger");
	for (;;) {
		if (logger_hup) {
			logger_hup = 0;
			if (log_open_file() < 0)
				log_warn(NULL, "cannot reopen %s: %s; still writing the old file", log_path,
				         strerror(errno));
		}
		if (logger_term)
			(void)fcntl(in, F_SETFL, O_NONBLOCK); /* drain what is there, then go */
		ssize_t r = read(in, buf + have, sizeof buf - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			have += (size_t)r;
		/* whole lines only, so a rename never splits one; a line longer
		 * than the buffer, or the rest at the end, as it is */
		size_t upto = have;
		if (r > 0 && have < sizeof buf)
			while (upto > 0 && buf[upto - 1] != '\n')
				upto--;
		if (upto > 0) {
			(void)fd_write_all(log_fd, buf, upto);
			memmove(buf, buf + upto, have - upto);
			have -= upto;
		}
		if (r <= 0)
			_exit(0);
	}
}

int log_supervise(const char *dest, const char *format, const char *logdir)
{
	int p[2];

	/* our own environment says nothing about us: the configuration does */
	unsetenv("POCHTA_LOG");
	if (strcmp(dest, "file") == 0 || strcmp(dest, "syslog") == 0) {
		if (log_configure(dest, format, logdir) < 0)
			return -1;
	} else {
		log_configure(NULL, format, NULL);
		log_use(LOG_DEST_STDERR);
	}
	const char *val = log_dest == LOG_DEST_SYSLOG ? "syslog" : "stderr";

	if (log_dest == LOG_DEST_FILE) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -1;
		pid_t pid = fork();
		if (pid < 0) {
			close(p[0]);
			close(p[1]);
			return -1;
		}
		if (pid == 0) {
			/* nothing of the supervisor's (listeners, sockets) stays open here */
			if (dup2(p[0], 0) < 0 || dup2(log_fd, 1) < 0)
				_exit(111);
			closefrom(3);
			log_fd = 1;
			logger_run(0);
		}
		log_logger = pid;
		if (dup2(p[1], 2) < 0) {
			close(p[0]);
			close(p[1]);
			return -1;
		}
		close(p[0]);
		close(p[1]);
		log_info(NULL, "logging to %s; the programs it starts through pochta-logger pid=%ld", log_path,
		         (long)pid);
	}
	return setenv("POCHTA_LOG", val, 1);
}

long log_logger_pid(void)
{
	return (long)log_logger;
}

void log_reopen(void)
{
	if (log_logger > 0)
		kill(log_logger, SIGHUP);
	if (log_dest == LOG_DEST_FILE && log_open_file() < 0)
		log_warn(NULL, "cannot reopen %s: %s; still writing the old file", log_path, strerror(errno));
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

/* RFC 3339, local time with its offset, milliseconds */
static size_t log_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	char zone[40];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!localtime_r(&ts.tv_sec, &tm))
		gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff / 60;
	snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	int r = snprintf(out + n, cap - n, ".%03ld%s", ts.tv_nsec / 1000000, zone);
	return r > 0 && (size_t)r < cap - n ? n + (size_t)r : n;
}

/* bounded JSON text: 0 once something did not fit (and nothing more is added) */
struct log_jb {
	char *s;
	size_t n, max;
	int full;
};

static void jb_raw(struct log_jb *j, const char *s, size_t len)
{
	if (j->full || j->n + len > j->max) {
		j->full = 1;
		return;
	}
	memcpy(j->s + j->n, s, len);
	j->n += len;
}

/* a JSON string of s (already cleaned: valid UTF-8, no controls; escaped
 * anyway). When it does not all fit, as much as fits up to a whole UTF-8
 * character, then "...": the string is always closed. */
static void jb_str(struct log_jb *j, const char *s, size_t len)
{
	char e[8];
	size_t keep = 8; /* room for "...", the quote and what follows it */

	jb_raw(j, "\"", 1);
	for (size_t i = 0; i < len && !j->full; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t el;
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			el = 2;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof e, "\\u%04x", c);
			el = 6;
		} else {
			e[0] = (char)c;
			el = 1;
		}
		if (j->n + el + keep > j->max && (c & 0xc0) != 0x80) {
			jb_raw(j, "...", 3);
			break;
		}
		jb_raw(j, e, el);
	}
	jb_raw(j, "\"", 1);
}

static void jb_member(struct log_jb *j, const char *name, const char *v, size_t len)
{
	jb_raw(j, ",", 1);
	jb_str(j, name, strlen(name));
	jb_raw(j, ":", 1);
	jb_str(j, v, len);
}

static void log_emit(int prio, const char *tag, const char *qid, const struct log_field *f, size_t nf,
                     const char *fmt, va_list ap)
{
	static const char *const level_name[] = { [LOG_CRIT] = "fatal", [LOG_WARNING] = "warning",
	                                          [LOG_INFO] = "info" };
	char msg[LOG_TEXT_MAX + 1];
	char text[LOG_TEXT_MAX + 8];     /* the cleaned message */
	char cqid[64];
	char line[LOG_LINE_MAX];
	char ts[48];
	size_t n = 0, tn = 0, qn = 0;
	int saved = errno;
	int r, cut;

	if (log_dest == LOG_DEST_AUTO)
		log_use(LOG_DEST_AUTO);
	r = vsnprintf(msg, sizeof msg, fmt, ap);
	if (r < 0)
		snprintf(msg, sizeof msg, "(bad log format)");
	cut = r >= 0 && (size_t)r >= sizeof msg;
	if (qid && !log_clean(cqid, &qn, sizeof cqid - 1, qid))
		qn = 0;
	cqid[qn] = '\0';
	/* room is kept for "..." so that a cut never splits a UTF-8 sequence */
	int whole = log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, tag) &&
	            log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, msg);
	for (size_t i = 0; whole && i < nf; i++)
		whole = log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, " ") &&
		        log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, f[i].name) &&
		        log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, "=") &&
		        log_clean(text, &tn, LOG_TEXT_MAX - 3 - qn, f[i].value ? f[i].value : "");
	if (!whole || cut) {
		/* cut: say so, so nobody mistakes it for the whole line */
		memcpy(text + tn, "...", 3);
		tn += 3;
	}
	text[tn] = '\0';
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s%s%s", cqid, qn ? " " : "", text);
		errno = saved;
		return;
	}
	size_t tl = log_time(ts, sizeof ts);
	if (log_json) {
		struct log_jb j = { line, 0, sizeof line - 2, 0 };
		char pid[24];
		const char *m = text + strlen(tag);
		size_t ml = tn - strlen(tag);
		jb_raw(&j, "{\"time\":", 8);
		jb_str(&j, ts, tl);
		jb_member(&j, "program", log_prog, strlen(log_prog));
		snprintf(pid, sizeof pid, ",\"pid\":%ld", (long)getpid());
		jb_raw(&j, pid, strlen(pid));
		jb_member(&j, "level", level_name[prio], strlen(level_name[prio]));
		if (qn)
			jb_member(&j, "qid", cqid, qn);
		jb_member(&j, "message", m, ml);
		/* the fields again as members, each cleaned as the text is */
		for (size_t i = 0; i < nf; i++) {
			char v[LOG_TEXT_MAX];
			size_t vn = 0, before = j.n;
			(void)log_clean(v, &vn, sizeof v - 1, f[i].value ? f[i].value : "");
			jb_member(&j, f[i].name, v, vn);
			if (j.full) {
				/* leave the rest out rather than the closing brace */
				j.n = before;
				break;
			}
		}
		n = j.n;
		line[n++] = '}';
	} else {
		r = snprintf(line, sizeof line, "%s %s[%ld]: %s%s", ts, log_prog, (long)getpid(), cqid,
		             qn ? " " : "");
		n = r > 0 ? (size_t)r : 0;
		memcpy(line + n, text, tn);
		n += tn;
	}
	line[n++] = '\n';
	(void)fd_write_all(log_dest == LOG_DEST_FILE ? log_fd : 2, line, n);
	errno = saved;
}

void log_info(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", qid, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_info_fields(const char *qid, const struct log_field *f, size_t nf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, "", qid, f, nf, fmt, ap);
	va_end(ap);
}

void log_warn(const char *qid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, "warning: ", qid, NULL, 0, fmt, ap);
	va_end(ap);
}

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, "fatal: ", NULL, NULL, 0, fmt, ap);
	va_end(ap);
	exit(111);
}
