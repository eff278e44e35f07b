/* pop3d_auth: credentials (USER/PASS, SASL PLAIN) checked by pochta-checkpass
 * (the one program that reads the password hashes), the fixed delay after a
 * failure, and, when started as root, the switch to the maildrop's owner
 * before the Maildir is touched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "passcheck.h"
#include "passreq.h"
#include "paths.h"
#include "pop3d.h"
#include "sysuser.h"

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
	char user[USER_MAILBOX_MAX + 1], logn[65], why[300];
	int r;

	log_name(name, namelen, logn);
	r = passcheck_login(name, namelen, pass, passlen, user, why, sizeof why);
	if (r == PASSCHECK_TEMP) {
		log_warn(NULL, "auth error user=%s client=%s: cannot check the password: %s",
		         logn, s->client, why);
		return AUTH_TEMP;
	}
	if (r == PASSCHECK_FAIL)
		goto fail;
	memcpy(s->user, user, strlen(user) + 1);
	s->system = r == PASSCHECK_OK_SYSTEM;
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

int auth_owner_init(const struct conf *conf, struct priv_user *u, sa_t *err)
{
	uid_t ru, eu, su;

	if (getresuid(&ru, &eu, &su) < 0 || (ru != 0 && eu != 0 && su != 0))
		return 0; /* not started as root: we already are the one user */
	if (conf->instance_user[0])
		return priv_lookup(conf->instance_user, u, err) < 0 ? -1 : 1;
	if (!paths.root[0])
		return priv_lookup(conf->virtual_user, u, err) < 0 ? -1 : 1;
	/* an instance that root runs with no instance_user: as every program of
	 * it (pochta-master(8)), as root, or as the Maildir's owner (below) */
	memset(u, 0, sizeof *u);
	return 1;
}

int auth_become_owner(struct priv_user *u, const char *maildir, sa_t *err)
{
	struct stat st;

	if (u->uid == 0) {
		if (stat(maildir, &st) < 0 || st.st_uid == 0)
			return 0;
		if (priv_owner(st.st_uid, st.st_gid, u, err) < 0)
			return -1;
	}
	return priv_drop(u, err);
}

int auth_system_box(const struct conf *conf, const char *name, sa_t *err)
{
	struct sysuser su;
	struct priv_user pu;
	int k;

	if (geteuid() != 0) {
		sa_copys(err, "a system user's maildrop needs pochta-pop3d started as root");
		return -1;
	}
	k = sysuser_get(conf, name, &su);
	if (k <= 0) {
		sa_copys(err, k < 0 ? "cannot read the passwd database" : "no longer an account that receives mail");
		return -1;
	}
	if (priv_lookup(su.name, &pu, err) < 0)
		return -1;
	if (pu.uid != su.uid) {
		sa_copys(err, "the account changed during the login");
		return -1;
	}
	if (priv_drop(&pu, err) < 0)
		return -1;
	return sysuser_maildir_open(su.home, conf->home_mailbox, 1, err);
}
