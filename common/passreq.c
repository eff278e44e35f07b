/* passreq: build and parse the checker's request (passreq.h). */
#include <errno.h>
#include <string.h>
#include "passreq.h"

int passreq_build(char out[PASSREQ_MAX], const char *name, size_t namelen,
                  const char *pass, size_t passlen)
{
	if (!user_mailbox_valid(name, namelen) || passlen == 0 || passlen > USER_PASS_MAX ||
	    memchr(pass, '\0', passlen)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(out, name, namelen);
	out[namelen] = '\0';
	memcpy(out + namelen + 1, pass, passlen);
	out[namelen + 1 + passlen] = '\0';
	return (int)(namelen + passlen + 2);
}

int passreq_parse(const char *buf, size_t len, struct passreq *r)
{
	const char *nul1, *nul2;
	size_t namelen, passlen;

	memset(r, 0, sizeof *r);
	if (len < 4 || len > PASSREQ_MAX || buf[len - 1] != '\0')
		goto bad;
	nul1 = memchr(buf, '\0', len);
	namelen = (size_t)(nul1 - buf);
	nul2 = memchr(nul1 + 1, '\0', len - namelen - 1);
	/* the second NUL must be the last byte: exactly two fields */
	if (nul2 != buf + len - 1)
		goto bad;
	passlen = len - namelen - 2;
	if (!user_mailbox_valid(buf, namelen) || passlen == 0 || passlen > USER_PASS_MAX)
		goto bad;
	memcpy(r->name, buf, namelen);
	memcpy(r->pass, nul1 + 1, passlen);
	r->passlen = passlen;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}
