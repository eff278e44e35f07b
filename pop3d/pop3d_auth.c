/* pop3d_auth: credentials (USER/PASS, SASL PLAIN) against the instance's
 * etc/passwd, the fixed delay after a failure, and, in installed mode, the
 * switch from root to the mailbox owner before the Maildir is touched. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "paths.h"
#include "pop3d.h"

/* seconds between a failed attempt and its reply: slows down guessing */
#define AUTH_DELAY_SEC 1

void auth_delay(void)
{
	struct timespec ts = { AUTH_DELAY_SEC, 0 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void log_name(const char *in, size_t n, char out[65])
{
	size_t i;

	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
		         c == '@' || c == '+';
		out[i] = ok ? (char)c : '?';
	}
	out[n] = '\0';
}

int auth_check(struct sess *s, const char *name, size_t namelen, const char *pass, size_t passlen)
{
	char user[USER_NAME_MAX + 1], pw[256], logn[65], path[sizeof paths.etc + 16];
	size_t i;
	int r;

	log_name(name, namelen, logn);
	/* names are stored lowercase, as SMTP recipients are folded */
	if (namelen == 0 || namelen > USER_NAME_MAX || passlen == 0 || passlen >= sizeof pw ||
	    memchr(pass, '\0', passlen))
		goto fail;
	for (i = 0; i < namelen; i++) {
		char c = name[i];
		user[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	user[namelen] = '\0';
	if (!user_name_valid(user, namelen))
		goto fail;
	memcpy(pw, pass, passlen);
	pw[passlen] = '\0';
	snprintf(path, sizeof path, "%s/passwd", paths.etc);
	r = pass_check(path, user, pw);
	explicit_bzero(pw, sizeof pw);
	if (r < 0) {
		log_warn(NULL, "auth error user=%s client=%s: cannot check the password: %s",
		         logn, s->client, strerror(errno));
		return AUTH_TEMP;
	}
	if (r == 0)
		goto fail;
	memcpy(s->user, user, namelen + 1);
	return AUTH_OK;
fail:
	log_info(NULL, "auth failed user=%s client=%s", logn, s->client);
	return AUTH_FAIL;
}

int auth_plain(struct sess *s, const char *resp, size_t resplen, const char **err)
{
	sa_t line = SA_INIT, dec = SA_INIT;
	struct pop3_plain p;
	int r;

	*err = "-ERR [AUTH] invalid user name or password";
	if (!resp) {
		/* RFC 5034: an empty challenge, then the response on its own line */
		if (io_puts(&s->out, "+ \r\n") < 0 || io_flush(&s->out) < 0)
			return AUTH_EOF;
		r = pop3d_line(s, &line, POP3_SASL_LINE_MAX, "authorization");
		if (r == IO_EOF) {
			sa_free(&line);
			return AUTH_EOF;
		}
		if (r == IO_TOOLONG) {
			sa_free(&line);
			*err = "-ERR [AUTH] response too long";
			log_info(NULL, "auth failed user=? client=%s", s->client);
			return AUTH_FAIL;
		}
		resp = line.s;
		resplen = line.len;
		if (resplen == 1 && resp[0] == '*') {
			sa_free(&line);
			*err = "-ERR authentication cancelled";
			return AUTH_CANCEL;
		}
	}
	/* "=" is the empty initial response; PLAIN cannot be empty */
	if ((resplen == 1 && resp[0] == '=') || pop3_b64_decode(resp, resplen, &dec) < 0 ||
	    dec.len == 0) {
		*err = "-ERR [AUTH] invalid base64 response";
		r = AUTH_FAIL;
		log_info(NULL, "auth failed user=? client=%s", s->client);
	} else if (pop3_plain_split(dec.s, dec.len, &p) < 0) {
		char logn[65];
		if (errno == EPERM) {
			log_name(p.authcid, p.authcidlen, logn);
			*err = "-ERR [AUTH] authorization identity not allowed";
		} else {
			logn[0] = '?';
			logn[1] = '\0';
			*err = "-ERR [AUTH] malformed PLAIN response";
		}
		log_info(NULL, "auth failed user=%s client=%s", logn, s->client);
		r = AUTH_FAIL;
	} else {
		r = auth_check(s, p.authcid, p.authcidlen, p.passwd, p.passwdlen);
		if (r == AUTH_TEMP)
			*err = "-ERR [SYS/TEMP] authentication temporarily unavailable";
	}
	if (dec.s)
		explicit_bzero(dec.s, dec.cap);
	if (line.s)
		explicit_bzero(line.s, line.cap);
	sa_free(&dec);
	sa_free(&line);
	return r;
}

int priv_drop(const char *maildir, const char *user)
{
	struct stat st;
	struct passwd *pw;
	uid_t uid = 0;
	gid_t gid = 0;

	if (geteuid() != 0)
		return 0; /* nothing to switch: we already are the one user */
	if (stat(maildir, &st) == 0 && st.st_uid != 0) {
		uid = st.st_uid;
		gid = st.st_gid;
	} else if (paths.root[0]) {
		/* an instance (-r ROOT) run by root: every file belongs to the
		 * invoking user, so there is nobody else to become */
		return 0;
	} else if ((pw = getpwnam(user)) != NULL && pw->pw_uid != 0) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (uid == 0) {
		/* installed mode never serves a maildrop as root */
		errno = EPERM;
		return -1;
	}
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -1;
	/* make sure there is no way back */
	if (setuid(0) == 0 || geteuid() != uid || getegid() != gid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
