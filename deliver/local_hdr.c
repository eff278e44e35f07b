/* local_hdr: find `Delivered-To: <this recipient>` in the header section of a
 * message that streams past in pieces (bounded memory: one field at a time). */
#include <string.h>
#include <strings.h>
#include "local.h"

void hdrscan_init(struct hdrscan *h, const char *rcpt)
{
	memset(h, 0, sizeof *h);
	h->rcpt = rcpt;
	h->rcptlen = strlen(rcpt);
	h->bol = 1;
}

static int wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* the field collected so far (unfolded; line ends removed) */
static void check_field(struct hdrscan *h)
{
	static const char name[] = "delivered-to";
	size_t n = sizeof name - 1, i, e;
	const char *f = h->field;

	if (h->overflow || h->len <= n || strncasecmp(f, name, n) != 0)
		goto reset;
	i = n;
	while (i < h->len && wsp(f[i]))
		i++;
	if (i >= h->len || f[i] != ':')
		goto reset;
	i++;
	e = h->len;
	while (i < e && wsp(f[i]))
		i++;
	while (e > i && wsp(f[e - 1]))
		e--;
	if (e - i >= 2 && f[i] == '<' && f[e - 1] == '>') {
		i++;
		e--;
	}
	if (e - i == h->rcptlen && strncasecmp(f + i, h->rcpt, h->rcptlen) == 0)
		h->loop = 1;
reset:
	h->len = 0;
	h->overflow = 0;
}

static void add(struct hdrscan *h, char c)
{
	if (h->len < sizeof h->field)
		h->field[h->len++] = c;
	else
		h->overflow = 1;
}

void hdrscan_feed(struct hdrscan *h, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !h->done; i++) {
		char c = p[i];
		if (h->bol) {
			h->bol = 0;
			if (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n')) {
				check_field(h); /* the empty line: end of the header section */
				h->done = 1;
				return;
			}
			if (c != ' ' && c != '\t')
				check_field(h); /* a new field starts; the last one is whole */
		}
		if (c == '\n')
			h->bol = 1;
		else
			add(h, c);
	}
}

void hdrscan_end(struct hdrscan *h)
{
	if (!h->done)
		check_field(h);
	h->done = 1;
}
