/* hdr: the header section of a message (RFC 5322 2.1, 2.2): the fields up to
 * the first empty line. The one end-of-header scanner of pochta (pochta-local's
 * Delivered-To: check, pochta-smtpd's Received: count, the headers a bounce
 * returns, `pochtactl queue show`).
 * Fed in pieces of any size; the result never depends on where they are cut.
 * Lines end in LF or CRLF; an empty line is LF or CRLF alone. A line that starts
 * with SP or HT continues the field before it (folding). Each whole field goes
 * to a callback unfolded (line ends removed, the rest kept: NUL too) and cut to
 * the caller's buffer (over is set then); a field is whole when the next line
 * does not continue it, at the empty line, or at hdr_end(). Bytes after the
 * empty line are never looked at. Memory: the caller's buffer, nothing more. */
#ifndef POCHTA_HDR_H
#define POCHTA_HDR_H
#include <stddef.h>

struct hdr;
typedef void hdr_field_fn(const struct hdr *h, void *arg);

struct hdr {
	char *buf;                 /* the field being collected (the caller's) */
	size_t cap;
	size_t len;                /* bytes of the field in buf */
	int over;                  /* the field is longer than cap: buf has its start */
	int done;                  /* the empty line (or hdr_end) was seen */
	unsigned long long off;    /* bytes consumed: with done, up to the empty line's end */
	unsigned long long hlen;   /* with done: bytes before the empty line */
	/* private */
	int state, infield;
	hdr_field_fn *fn;
	void *arg;
};

/* buf/cap may be NULL/0 when only the end of the section matters; fn may be NULL */
void hdr_init(struct hdr *h, char *buf, size_t cap, hdr_field_fn *fn, void *arg);
/* scan n bytes; returns how many belong to the header section: n, or fewer
 * when the empty line ends inside p (it is counted; then done is set) */
size_t hdr_feed(struct hdr *h, const char *p, size_t n);
/* the end of the message: a field still open is whole; done is set, and
 * without an empty line hlen is everything consumed */
void hdr_end(struct hdr *h);
/* the field f (len bytes, as a callback sees it) is called name (ASCII case
 * ignored; blanks before the colon allowed, RFC 5322 4.5.8):
 * 1 and *value the offset just past the colon, or 0 */
int hdr_name_is(const char *f, size_t len, const char *name, size_t *value);

#endif
