/* dsnparam: the DSN parameters of RFC 3461: RET= and ENVID= on MAIL, NOTIFY=
 * and ORCPT= on RCPT. One parser for the SMTP command (smtpcmd.c), the queue
 * file (qfile.c: N and O records), the enqueue protocol and the remote worker
 * request: they all carry the canonical text dsnp_*_format() makes, which is
 * also what pochta-remote sends to a peer that offers DSN:
 *     message:   [RET=FULL|RET=HDRS] [ENVID=xtext]
 *     recipient: [NOTIFY=NEVER|NOTIFY=x[,y[,z]]] [ORCPT=rfc822;xtext]
 * (one space between parameters, in this order; "" when none was given).
 * xtext (RFC 3461 §4): "!".."~" except "+" and "=", or "+" and two upper case
 * hex digits. Its decoded value must be printable US-ASCII (0x20-0x7e), as
 * RFC 3461 §4.2 and §4.4 ask. Lengths are those of the value as sent: ENVID
 * at most DSNP_ENVID_MAX, ORCPT at most DSNP_ORCPT_MAX characters (§5.4, §4.2). */
#ifndef POCHTA_DSNPARAM_H
#define POCHTA_DSNPARAM_H
#include <stddef.h>
#include "sa.h"

#define DSNP_ENVID_MAX 100
#define DSNP_ORCPT_MAX 500

enum dsnp_ret { DSNP_RET_NONE = 0, DSNP_RET_FULL, DSNP_RET_HDRS };

#define DSNP_NOTIFY_NEVER   1u
#define DSNP_NOTIFY_SUCCESS 2u
#define DSNP_NOTIFY_FAILURE 4u
#define DSNP_NOTIFY_DELAY   8u

struct dsnp_mail {
	enum dsnp_ret ret;
	int has_envid;
	char envid[DSNP_ENVID_MAX + 1];  /* the xtext as given */
};

struct dsnp_rcpt {
	unsigned notify;                 /* 0: not given; else DSNP_NOTIFY_* bits */
	int has_orcpt;
	char orcpt[DSNP_ORCPT_MAX + 1];  /* "rfc822;xtext", the type lowercased */
};

/* decode xtext s[0..n) into out (replacing it); 0, or -1 when it is not
 * valid xtext or decodes to a byte outside 0x20-0x7e (ENOMEM: -1 too) */
int dsnp_xtext_decode(const char *s, size_t n, sa_t *out);
/* append s as xtext ("+", "=", and bytes outside "!".."~" as +XX) */
int dsnp_xtext_encode(const char *s, size_t n, sa_t *out);

/* One parameter of MAIL (keyword k, value v or NULL when "KEY" had no "=").
 * 1 taken, 0 not a DSN keyword (nothing changed), -1 with *err the reply:
 * "501 5.5.4 Duplicate MAIL parameter" or "501 5.5.4 Bad RET parameter" etc. */
int dsnp_mail_param(struct dsnp_mail *m, const char *k, size_t kl, const char *v, size_t vl,
                    const char **err);
/* the same for RCPT */
int dsnp_rcpt_param(struct dsnp_rcpt *r, const char *k, size_t kl, const char *v, size_t vl,
                    const char **err);
/* The parameters of RCPT after the path: esmtp-param *(SP esmtp-param), spaces
 * around ignored. Unknown keyword: "555 5.5.4 Unsupported RCPT parameter".
 * 0, or -1 with *err the reply. */
int dsnp_rcpt_params(const char *p, size_t n, struct dsnp_rcpt *r, const char **err);

/* the canonical text (see above); 0 or -1 (ENOMEM) */
int dsnp_mail_format(const struct dsnp_mail *m, sa_t *out);
int dsnp_rcpt_format(const struct dsnp_rcpt *r, sa_t *out);
/* parse canonical text (or any valid parameter list of that kind, "" for
 * none): 0, or -1 (EPROTO) */
int dsnp_mail_parse(const char *s, size_t n, struct dsnp_mail *m);
int dsnp_rcpt_parse(const char *s, size_t n, struct dsnp_rcpt *r);

#endif
