/* qfile: read and write the envelope of a queue file (man/pochta-queue.5).
 * The reader trusts nothing: a queue file is written by pochta-enqueue, but a
 * damaged or hand-made file must be refused, never misread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "dsnparam.h"
#include "localaddr.h"
#include "qfile.h"
#include "rec.h"

static int qfile_fail(sa_t *err, const char *why)
{
	if (err)
		sa_copys(err, why);
	errno = EPROTO;
	return -1;
}

/* field text: no control characters (rec.h records can carry any byte, but
 * nothing in an envelope needs them, and logs and headers are built from it) */
int qfile_text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int qfile_time_parse(const char *s, size_t len, long long *out)
{
	long long v = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* the envelope sender: "" (null path) or a mailbox */
int qfile_sender_ok(const char *s, size_t len)
{
	struct addr a;

	if (len == 0)
		return 1;
	return qfile_text_ok(s, len) && addr_parse_u(s, len, &a, 1) == ADDR_OK;
}

int qfile_body_ok(const char *s, size_t len)
{
	static const char *const ok[] = { "", "7BIT", "8BITMIME", "BINARYMIME" };

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strlen(ok[i]) == len && memcmp(s, ok[i], len) == 0)
			return 1;
	return 0;
}


/* a recipient: a mailbox, or the bare "postmaster" (RFC 5321 §4.5.1) */
int qfile_rcpt_ok(const char *s, size_t len)
{
	struct addr a;

	return qfile_text_ok(s, len) && localaddr_parse(s, len, &a) == ADDR_OK;
}

int qfile_rcpt_add(struct qfile *q, const char *s, size_t len, size_t *cap)
{
	sa_t r = SA_INIT;

	if (q->nrcpt == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4, bytes;
		sa_t *n;
		if (*cap >= QFILE_MAX_RCPT) {
			errno = E2BIG;
			return -1;
		}
		if (ncap > QFILE_MAX_RCPT)
			ncap = QFILE_MAX_RCPT;
		if (size_mul(ncap, sizeof *n, &bytes) < 0)
			return -1;
		n = realloc(q->rcpt, bytes);
		if (!n)
			return -1;
		q->rcpt = n;
		n = realloc(q->rcpt_dsn, bytes);
		if (!n)
			return -1;
		q->rcpt_dsn = n;
		*cap = ncap;
	}
	if (sa_copyb(&r, s, len) < 0)
		return -1;
	q->rcpt_dsn[q->nrcpt] = (sa_t)SA_INIT;
	q->rcpt[q->nrcpt++] = r;
	return 0;
}

/* N and O records: non-empty, and what dsnparam.h would read */
static int qfile_dsn_ok(int type, const char *s, size_t len)
{
	struct dsnp_mail m;
	struct dsnp_rcpt r;

	if (len == 0)
		return 0;
	return type == 'N' ? dsnp_mail_parse(s, len, &m) == 0 : dsnp_rcpt_parse(s, len, &r) == 0;
}

int qfile_read(int fd, struct qfile *q, sa_t *err)
{
	char buf[8192];
	io_t in;
	sa_t data = SA_INIT;
	struct stat st;
	off_t start;
	size_t cap = 0;
	int type, r, step = 0, seen_u = 0, last = 0;
	/* the fixed order of the records before R: V I T S B P H C */
	static const char order[] = "VITSBPHC";

	memset(q, 0, sizeof *q);
	start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		start = 0;
	io_init(&in, fd, buf, sizeof buf, -1);
	for (;;) {
		r = rec_get(&in, &type, &data, QFILE_MAX_FIELD);
		if (r == IO_EOF) {
			qfile_fail(err, "truncated envelope");
			goto fail;
		}
		if (r != IO_OK) {
			if (errno == EPROTO || errno == E2BIG)
				qfile_fail(err, errno == E2BIG ? "envelope field too long" : "malformed record");
			else if (err)
				sa_copys(err, "read error");
			goto fail;
		}
		if (order[step] != '\0') {
			if (type != order[step]) {
				qfile_fail(err, "envelope records out of order");
				goto fail;
			}
		} else if (type == QFILE_SMTPUTF8) {
			/* once, empty, before the recipients */
			if (seen_u || data.len != 0 || q->nrcpt != 0) {
				qfile_fail(err, "bad SMTPUTF8 record");
				goto fail;
			}
			seen_u = q->smtputf8 = 1;
			last = type;
			continue;
		} else if (type == 'N' ? q->nrcpt > 0 || q->dsn.len > 0
		           : type == 'O' ? last != 'R' : type != 'R' && type != 'M') {
			qfile_fail(err, "unexpected envelope record");
			goto fail;
		}
		last = type;
		if (type != 'R' && type != 'M' && type != 'S' && !qfile_text_ok(data.s, data.len)) {
			qfile_fail(err, "control character in envelope");
			goto fail;
		}
		switch (type) {
		case 'V':
			if (data.len != 1 || data.s[0] != '1') {
				qfile_fail(err, "unknown queue file version");
				goto fail;
			}
			break;
		case 'I':
			if (!qid_valid(data.s) || data.len != QID_LEN) {
				qfile_fail(err, "bad queue ID");
				goto fail;
			}
			memcpy(q->qid, data.s, QID_LEN + 1);
			break;
		case 'T':
			if (qfile_time_parse(data.s, data.len, &q->arrival) < 0) {
				qfile_fail(err, "bad arrival time");
				goto fail;
			}
			break;
		case 'S':
			if (!qfile_sender_ok(data.s, data.len)) {
				qfile_fail(err, "bad sender");
				goto fail;
			}
			if (sa_copyb(&q->sender, data.s, data.len) < 0)
				goto nomem;
			if (!addr_is_ascii(data.s, data.len))
				q->smtputf8 = 1;
			break;
		case 'B':
			if (!qfile_body_ok(data.s, data.len)) {
				qfile_fail(err, "bad body type");
				goto fail;
			}
			if (sa_copyb(&q->body, data.s, data.len) < 0)
				goto nomem;
			break;
		case 'P':
			if (sa_copyb(&q->proto, data.s, data.len) < 0)
				goto nomem;
			break;
		case 'H':
			if (sa_copyb(&q->helo, data.s, data.len) < 0)
				goto nomem;
			break;
		case 'C':
			if (sa_copyb(&q->client, data.s, data.len) < 0)
				goto nomem;
			break;
		case 'R':
			if (q->nrcpt >= QFILE_MAX_RCPT) {
				qfile_fail(err, "too many recipients");
				goto fail;
			}
			if (!qfile_rcpt_ok(data.s, data.len)) {
				qfile_fail(err, "bad recipient");
				goto fail;
			}
			if (qfile_rcpt_add(q, data.s, data.len, &cap) < 0)
				goto nomem;
			if (!addr_is_ascii(data.s, data.len))
				q->smtputf8 = 1;
			break;
		case 'N':
		case 'O':
			if (!qfile_dsn_ok(type, data.s, data.len)) {
				qfile_fail(err, "bad DSN parameters");
				goto fail;
			}
			if (sa_copyb(type == 'N' ? &q->dsn : &q->rcpt_dsn[q->nrcpt - 1], data.s,
			             data.len) < 0)
				goto nomem;
			break;
		case 'M':
			if (data.len != 0 || q->nrcpt == 0) {
				qfile_fail(err, q->nrcpt ? "bad end of envelope" : "no recipients");
				goto fail;
			}
			q->msg_off = in.pos;
			if (fstat(fd, &st) < 0) {
				if (err)
					sa_copys(err, "fstat");
				goto fail;
			}
			if (S_ISREG(st.st_mode)) {
				unsigned long long end = (unsigned long long)st.st_size;
				unsigned long long base = (unsigned long long)start + q->msg_off;
				q->msg_size = end > base ? end - base : 0;
				/* leave the offset at the message, ready for a reader */
				if (lseek(fd, start + (off_t)q->msg_off, SEEK_SET) < 0)
					goto fail;
			}
			sa_free(&data);
			return 0;
		}
		if (order[step] != '\0')
			step++;
	}
nomem:
	if (err)
		sa_copys(err, "out of memory");
	errno = ENOMEM;
fail:
	{
		int e = errno;
		sa_free(&data);
		qfile_free(q);
		errno = e;
	}
	return -1;
}

static int qfile_put(io_t *out, int type, const sa_t *v)
{
	return rec_put(out, type, v->s ? v->s : "", v->len);
}

int qfile_write_env(io_t *out, const struct qfile *q)
{
	char t[32];
	size_t n = 0;
	unsigned long long v = q->arrival < 0 ? 0 : (unsigned long long)q->arrival;

	/* decimal arrival time, without stdio */
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof t);
	for (size_t i = 0; i < n / 2; i++) {
		char c = t[i];
		t[i] = t[n - 1 - i];
		t[n - 1 - i] = c;
	}
	if (rec_puts(out, 'V', "1") < 0 || rec_puts(out, 'I', q->qid) < 0 ||
	    rec_put(out, 'T', t, n) < 0 ||
	    qfile_put(out, 'S', &q->sender) < 0 ||
	    qfile_put(out, 'B', &q->body) < 0 ||
	    qfile_put(out, 'P', &q->proto) < 0 ||
	    qfile_put(out, 'H', &q->helo) < 0 ||
	    qfile_put(out, 'C', &q->client) < 0 ||
	    (q->smtputf8 && rec_put(out, QFILE_SMTPUTF8, "", 0) < 0))
		return -1;
	if (q->dsn.len && qfile_put(out, 'N', &q->dsn) < 0)
		return -1;
	for (size_t i = 0; i < q->nrcpt; i++) {
		if (qfile_put(out, 'R', &q->rcpt[i]) < 0)
			return -1;
		if (q->rcpt_dsn && q->rcpt_dsn[i].len && qfile_put(out, 'O', &q->rcpt_dsn[i]) < 0)
			return -1;
	}
	return rec_put(out, 'M', "", 0);
}

void qfile_free(struct qfile *q)
{
	sa_free(&q->sender);
	sa_free(&q->body);
	sa_free(&q->proto);
	sa_free(&q->helo);
	sa_free(&q->client);
	sa_free(&q->dsn);
	for (size_t i = 0; i < q->nrcpt; i++) {
		sa_free(&q->rcpt[i]);
		sa_free(&q->rcpt_dsn[i]);
	}
	free(q->rcpt);
	free(q->rcpt_dsn);
	q->rcpt = NULL;
	q->rcpt_dsn = NULL;
	q->nrcpt = 0;
}
