/* msgin: local message input and its header section (msgin.h). */
#include <string.h>
#include "msgin.h"

enum {
	M_BOL,    /* at the start of a line */
	M_MID,    /* inside a line */
	M_CR,     /* a CR: the line end when LF follows */
	M_DOT,    /* a line that so far is "." */
	M_DOTCR,  /* a line that so far is "." CR */
	M_END,
};

void msgin_init(struct msgin *m, int dot_ends)
{
	memset(m, 0, sizeof *m);
	m->dot_ends = dot_ends;
	m->state = M_BOL;
}

static void msgin_emit(struct msgin *m, char *out, size_t *o, char c)
{
	out[(*o)++] = c;
	if (m->size < ~0ULL)
		m->size++;
	if (c == '\0')
		m->nul = 1;
	if (c == '\n') {
		m->linelen = 0;
	} else if (++m->linelen > MSGIN_LINE_MAX) {
		m->longline = 1;
		m->linelen = MSGIN_LINE_MAX + 1;
	}
}

/* a byte inside a line */
static void msgin_mid(struct msgin *m, char c, char *out, size_t *o)
{
	if (c == '\r') {
		m->state = M_CR;
		return;
	}
	msgin_emit(m, out, o, c);
	m->state = c == '\n' ? M_BOL : M_MID;
}

/* a CR held back turned out not to end a line */
static void msgin_bare_cr(struct msgin *m, char *out, size_t *o)
{
	m->bare_cr = 1;
	msgin_emit(m, out, o, '\r');
}

size_t msgin_feed(struct msgin *m, const char *in, size_t n, char *out, size_t outcap,
                  size_t *outlen)
{
	size_t i = 0, o = 0;

	/* one input byte writes at most 3 output bytes ("." CR and itself) */
	while (i < n && m->state != M_END && outcap - o >= 3) {
		char c = in[i++];

		switch (m->state) {
		case M_BOL:
			if (c == '.' && m->dot_ends)
				m->state = M_DOT;
			else
				msgin_mid(m, c, out, &o);
			break;
		case M_MID:
			msgin_mid(m, c, out, &o);
			break;
		case M_CR:
			if (c == '\n') {
				msgin_emit(m, out, &o, '\n');
				m->state = M_BOL;
			} else {
				msgin_bare_cr(m, out, &o);
				msgin_mid(m, c, out, &o);
			}
			break;
		case M_DOT:
			if (c == '\n') {
				m->state = M_END;
			} else if (c == '\r') {
				m->state = M_DOTCR;
			} else {
				msgin_emit(m, out, &o, '.');
				msgin_mid(m, c, out, &o);
			}
			break;
		case M_DOTCR:
			if (c == '\n') {
				m->state = M_END;
			} else {
				msgin_emit(m, out, &o, '.');
				msgin_bare_cr(m, out, &o);
				msgin_mid(m, c, out, &o);
			}
			break;
		default:
			break;
		}
	}
	m->done = m->state == M_END;
	*outlen = o;
	return i;
}

size_t msgin_end(struct msgin *m, char *out)
{
	size_t o = 0;

	switch (m->state) {
	case M_CR:
		msgin_bare_cr(m, out, &o);
		msgin_emit(m, out, &o, '\n');
		break;
	case M_DOT: /* "." at the very end, without LF: the same end */
		break;
	case M_DOTCR:
		msgin_emit(m, out, &o, '.');
		msgin_bare_cr(m, out, &o);
		msgin_emit(m, out, &o, '\n');
		break;
	case M_MID:
		msgin_emit(m, out, &o, '\n');
		break;
	default:
		break;
	}
	m->state = M_END;
	m->done = 1;
	return o;
}

/* the line at msg[pos] starts a field: a name of printable ASCII without
 * ':', optional blanks, then ':' (RFC 5322 §2.2, §4.5.8) */
static int msgin_field_start(const char *msg, size_t pos, size_t end)
{
	size_t i = pos;

	while (i < end && msg[i] > ' ' && msg[i] < 0x7f && msg[i] != ':')
		i++;
	if (i == pos)
		return 0;
	while (i < end && (msg[i] == ' ' || msg[i] == '\t'))
		i++;
	return i < end && msg[i] == ':';
}

int msgin_headers(const char *msg, size_t len, msgin_field_fn *fn, void *arg, size_t *hend,
                  size_t *body)
{
	size_t pos = 0, field = 0;
	int open = 0, blank = 0;

	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t next = lf ? (size_t)(lf - msg) + 1 : len;

		if (msg[pos] == '\n') {
			blank = 1;
			break;
		}
		if (!(open && (msg[pos] == ' ' || msg[pos] == '\t'))) {
			if (!msgin_field_start(msg, pos, next))
				break;
			if (open && fn && fn(msg, field, pos - field, arg) < 0)
				return -1;
			open = 1;
			field = pos;
		}
		pos = next;
	}
	if (open && fn && fn(msg, field, pos - field, arg) < 0)
		return -1;
	*hend = pos;
	*body = pos + (size_t)blank;
	return blank;
}
