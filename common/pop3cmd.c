/* pop3cmd: POP3 command parsing, strict base64, SASL PLAIN, UIDL mapping and
 * the message encoder (CRLF, dot-stuffing, TOP). See pop3cmd.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "pop3cmd.h"

static const struct {
	const char *name;
	enum pop3_verb verb;
} pop3_verbs[] = {
	{ "USER", POP3_USER }, { "PASS", POP3_PASS }, { "APOP", POP3_APOP },
	{ "AUTH", POP3_AUTH }, { "CAPA", POP3_CAPA }, { "QUIT", POP3_QUIT },
	{ "STAT", POP3_STAT }, { "LIST", POP3_LIST }, { "RETR", POP3_RETR },
	{ "DELE", POP3_DELE }, { "NOOP", POP3_NOOP }, { "RSET", POP3_RSET },
	{ "TOP", POP3_TOP }, { "UIDL", POP3_UIDL }, { "STLS", POP3_STLS },
};

const char *pop3_verb_name(enum pop3_verb v)
{
	size_t i;

	for (i = 0; i < sizeof pop3_verbs / sizeof pop3_verbs[0]; i++)
		if (pop3_verbs[i].verb == v)
			return pop3_verbs[i].name;
	return "UNKNOWN";
}

static int up(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* a token: bytes up to the next space */
struct tok {
	const char *p;
	size_t n;
};

/* split s[0..n) at spaces into at most max tokens; returns the count, or
 * max + 1 when there are more */
static int split(const char *s, size_t n, struct tok *t, int max)
{
	size_t i = 0;
	int k = 0;

	for (;;) {
		size_t b;
		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			return k;
		if (k == max)
			return max + 1;
		b = i;
		while (i < n && s[i] != ' ')
			i++;
		t[k].p = s + b;
		t[k].n = i - b;
		k++;
	}
}

/* decimal digits only; 0 ok (value saturated at ULLONG_MAX), -1 not a number */
static int num_parse(const struct tok *t, unsigned long long *v)
{
	unsigned long long x = 0;
	size_t i;

	if (t->n == 0)
		return -1;
	for (i = 0; i < t->n; i++) {
		unsigned d;
		if (t->p[i] < '0' || t->p[i] > '9')
			return -1;
		d = (unsigned)(t->p[i] - '0');
		if (x > (ULLONG_MAX - d) / 10)
			x = ULLONG_MAX;
		else
			x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* a message number: 0 ok, -1 with c->err set */
static int msg_parse(const struct tok *t, struct pop3_cmd *c)
{
	unsigned long long v;

	if (num_parse(t, &v) < 0) {
		c->err = "-ERR invalid message number";
		return -1;
	}
	if (v == 0 || v > POP3_MSGNUM_MAX) {
		c->err = "-ERR no such message";
		return -1;
	}
	c->msg = (unsigned long)v;
	return 0;
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *c)
{
	struct tok t[3];
	size_t vlen = 0, i;
	const char *rest;
	size_t restlen;
	int k;
	char vb[4];

	memset(c, 0, sizeof *c);
	if (memchr(line, '\0', len)) {
		c->err = "-ERR syntax error";
		return -1;
	}
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	if (vlen < 3 || vlen > 4) {
		c->err = "-ERR unknown command";
		return -1;
	}
	for (i = 0; i < vlen; i++)
		vb[i] = (char)up((unsigned char)line[i]);
	for (i = 0; i < sizeof pop3_verbs / sizeof pop3_verbs[0]; i++)
		if (strlen(pop3_verbs[i].name) == vlen && memcmp(pop3_verbs[i].name, vb, vlen) == 0)
			c->verb = pop3_verbs[i].verb;
	if (c->verb == POP3_UNKNOWN) {
		c->err = "-ERR unknown command";
		return -1;
	}
	rest = line + vlen;
	restlen = len - vlen;

	if (c->verb == POP3_PASS) {
		/* the password is everything after "PASS ", spaces included */
		if (restlen < 2 || rest[0] != ' ') {
			c->err = "-ERR syntax: PASS password";
			return -1;
		}
		c->arg = rest + 1;
		c->arglen = restlen - 1;
		return 0;
	}
	k = split(rest, restlen, t, 3);
	switch (c->verb) {
	case POP3_USER:
		if (k != 1) {
			c->err = "-ERR syntax: USER name";
			return -1;
		}
		c->arg = t[0].p;
		c->arglen = t[0].n;
		return 0;
	case POP3_AUTH:
		if (k > 2) {
			c->err = "-ERR syntax: AUTH mechanism [initial-response]";
			return -1;
		}
		c->arg = k >= 1 ? t[0].p : rest;
		c->arglen = k >= 1 ? t[0].n : 0;
		if (k == 2) {
			c->resp = t[1].p;
			c->resplen = t[1].n;
		}
		return 0;
	case POP3_APOP:
		/* recognised only to say no (APOP needs clear-text passwords) */
		return 0;
	case POP3_CAPA: case POP3_QUIT: case POP3_STAT: case POP3_NOOP:
	case POP3_RSET: case POP3_STLS:
		if (k != 0) {
			c->err = "-ERR syntax: this command takes no argument";
			return -1;
		}
		return 0;
	case POP3_LIST: case POP3_UIDL:
		if (k > 1) {
			c->err = c->verb == POP3_LIST ? "-ERR syntax: LIST [msg]" : "-ERR syntax: UIDL [msg]";
			return -1;
		}
		if (k == 1 && msg_parse(&t[0], c) < 0)
			return -1;
		c->nnum = k;
		return 0;
	case POP3_RETR: case POP3_DELE:
		if (k != 1) {
			c->err = c->verb == POP3_RETR ? "-ERR syntax: RETR msg" : "-ERR syntax: DELE msg";
			return -1;
		}
		if (msg_parse(&t[0], c) < 0)
			return -1;
		c->nnum = 1;
		return 0;
	case POP3_TOP:
		if (k != 2) {
			c->err = "-ERR syntax: TOP msg lines";
			return -1;
		}
		if (msg_parse(&t[0], c) < 0)
			return -1;
		if (num_parse(&t[1], &c->lines) < 0) {
			c->err = "-ERR invalid number of lines";
			return -1;
		}
		c->nnum = 2;
		return 0;
	default:
		break;
	}
	c->err = "-ERR unknown command";
	return -1;
}

/* base64 */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int pop3_b64_decode(const char *in, size_t n, sa_t *out)
{
	size_t i, orig = out->len;

	if (n % 4 != 0) {
		errno = EINVAL;
		return -1;
	}
	if (sa_ready(out, n / 4 * 3) < 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], pad = 0, j;
		unsigned long q;
		unsigned char b[3];

		for (j = 0; j < 4; j++) {
			unsigned char ch = (unsigned char)in[i + j];
			if (ch == '=' && i + 4 == n && j >= 2) {
				/* padding: only in the last quantum, and only at its end */
				if (j == 2 && (unsigned char)in[i + 3] != '=')
					goto bad;
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad)
				goto bad;
			v[j] = b64val(ch);
			if (v[j] < 0)
				goto bad;
		}
		q = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
		    ((unsigned long)v[2] << 6) | (unsigned long)v[3];
		/* canonical: the bits the padding leaves unused must be zero */
		if ((pad == 1 && (q & 0xff)) || (pad == 2 && (q & 0xffff)))
			goto bad;
		b[0] = (unsigned char)(q >> 16);
		b[1] = (unsigned char)(q >> 8);
		b[2] = (unsigned char)q;
		if (sa_catb(out, b, (size_t)(3 - pad)) < 0) {
			sa_trunc(out, orig);
			return -1;
		}
	}
	return 0;
bad:
	sa_trunc(out, orig);
	errno = EINVAL;
	return -1;
}

int pop3_b64_encode(const void *in, size_t n, sa_t *out)
{
	const unsigned char *p = in;
	size_t i, need;

	if (size_add(n, 2, &need) < 0)
		return -1;
	need = need / 3;
	if (size_mul(need, 4, &need) < 0 || sa_ready(out, need) < 0)
		return -1;
	for (i = 0; i < n; i += 3) {
		unsigned long q = (unsigned long)p[i] << 16;
		size_t left = n - i;
		char o[4];

		if (left > 1)
			q |= (unsigned long)p[i + 1] << 8;
		if (left > 2)
			q |= p[i + 2];
		o[0] = b64chars[(q >> 18) & 63];
		o[1] = b64chars[(q >> 12) & 63];
		o[2] = left > 1 ? b64chars[(q >> 6) & 63] : '=';
		o[3] = left > 2 ? b64chars[q & 63] : '=';
		if (sa_catb(out, o, 4) < 0)
			return -1;
	}
	return 0;
}

/* SASL PLAIN (RFC 4616 §2) */

int pop3_plain_split(const char *msg, size_t n, struct pop3_plain *p)
{
	const char *z1, *z2;

	memset(p, 0, sizeof *p);
	z1 = memchr(msg, '\0', n);
	if (!z1)
		goto bad;
	z2 = memchr(z1 + 1, '\0', n - (size_t)(z1 + 1 - msg));
	if (!z2 || memchr(z2 + 1, '\0', n - (size_t)(z2 + 1 - msg)))
		goto bad;
	p->authzid = msg;
	p->authzidlen = (size_t)(z1 - msg);
	p->authcid = z1 + 1;
	p->authcidlen = (size_t)(z2 - (z1 + 1));
	p->passwd = z2 + 1;
	p->passwdlen = n - (size_t)(z2 + 1 - msg);
	if (p->authcidlen == 0 || p->passwdlen == 0 || p->authzidlen > 255 ||
	    p->authcidlen > 255 || p->passwdlen > 255)
		goto bad;
	if (p->authzidlen != 0 &&
	    (p->authzidlen != p->authcidlen || memcmp(p->authzid, p->authcid, p->authcidlen) != 0)) {
		errno = EPERM;
		return -1;
	}
	return 0;
bad:
	memset(p, 0, sizeof *p);
	errno = EINVAL;
	return -1;
}

/* UIDL */

/* 64-bit FNV-1a from a given basis: the mapping only has to be fixed and well
 * spread, not secret (a Maildir name is chosen by our own delivery agent) */
static unsigned long long fnv1a(const char *s, size_t n, unsigned long long h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

size_t pop3_uid_make(const char *uniq, size_t len, char out[POP3_UID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned long long h[2];
	size_t i, ok = len >= 1 && len <= POP3_UID_MAX;
	int j, k;

	for (i = 0; ok && i < len; i++)
		if ((unsigned char)uniq[i] < 0x21 || (unsigned char)uniq[i] > 0x7e)
			ok = 0;
	if (ok) {
		memcpy(out, uniq, len);
		out[len] = '\0';
		return len;
	}
	h[0] = fnv1a(uniq, len, 0xcbf29ce484222325ULL);
	h[1] = fnv1a(uniq, len, 0x84222325cbf29ce4ULL ^ (unsigned long long)len);
	out[0] = '~';
	for (j = 0, i = 1; j < 2; j++)
		for (k = 60; k >= 0; k -= 4)
			out[i++] = hex[(h[j] >> k) & 15];
	out[i] = '\0';
	return i;
}

/* the message encoder */

void pop3_wire_init(struct pop3_wire *w, int stuff, unsigned long long top)
{
	memset(w, 0, sizeof *w);
	w->stuff = stuff;
	w->top = top;
	w->bol = 1;
	hdr_init(&w->hdr, NULL, 0, NULL, NULL);
}

int pop3_wire_done(const struct pop3_wire *w)
{
	return w->done;
}

/* a line (its LF just seen) has ended: the header section ends at the empty
 * line (hdr.h finds it); body lines count toward the TOP limit */
static void wire_eol(struct pop3_wire *w)
{
	if (w->top == POP3_WIRE_ALL)
		return;
	if (!w->in_body) {
		if (w->hdr.done) {
			w->in_body = 1;
			if (w->top == 0)
				w->done = 1;
		}
		return;
	}
	w->body_lines++;
	if (w->body_lines >= w->top)
		w->done = 1;
}

size_t pop3_wire_put(struct pop3_wire *w, const char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n && !w->done; i++) {
		char ch = in[i];

		if (w->top != POP3_WIRE_ALL && !w->in_body)
			hdr_feed(&w->hdr, &ch, 1);
		if (ch == '\n') {
			if (!w->prev_cr) {
				if (out)
					out[o] = '\r';
				o++;
			}
			if (out)
				out[o] = '\n';
			o++;
			wire_eol(w);
			w->bol = 1;
			w->prev_cr = 0;
			continue;
		}
		if (w->bol) {
			if (ch == '.' && w->stuff) {
				if (out)
					out[o] = '.';
				o++;
			}
			w->bol = 0;
		}
		w->prev_cr = ch == '\r';
		if (out)
			out[o] = ch;
		o++;
	}
	w->octets += o;
	return o;
}

size_t pop3_wire_end(struct pop3_wire *w, char *out)
{
	if (w->done || w->bol)
		return 0;
	if (out) {
		out[0] = '\r';
		out[1] = '\n';
	}
	w->bol = 1;
	w->prev_cr = 0;
	w->octets += 2;
	return 2;
}
