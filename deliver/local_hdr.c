/* local_hdr: find `Delivered-To: <this recipient>` in the header section of a
 * message that streams past in pieces (common/hdr.c finds the fields). */
#include <string.h>
#include <strings.h>
#include "local.h"

static int wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* a whole field (unfolded): over-long ones are too long to matter */
static void check_field(const struct hdr *h, void *arg)
{
	struct hdrscan *s = arg;
	const char *f = h->buf;
	size_t i, e = h->len;

	if (h->over || !hdr_name_is(f, h->len, "delivered-to", &i))
		return;
	while (i < e && wsp(f[i]))
		i++;
	while (e > i && wsp(f[e - 1]))
		e--;
	if (e - i >= 2 && f[i] == '<' && f[e - 1] == '>') {
		i++;
		e--;
	}
	if (e - i == s->rcptlen && strncasecmp(f + i, s->rcpt, s->rcptlen) == 0)
		s->loop = 1;
}

void hdrscan_init(struct hdrscan *s, const char *rcpt)
{
	s->rcpt = rcpt;
	s->rcptlen = strlen(rcpt);
	s->loop = 0;
	hdr_init(&s->h, s->field, sizeof s->field, check_field, s);
}

void hdrscan_feed(struct hdrscan *s, const char *p, size_t n)
{
	hdr_feed(&s->h, p, n);
}

void hdrscan_end(struct hdrscan *s)
{
	hdr_end(&s->h);
}
