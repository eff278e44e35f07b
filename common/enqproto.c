/* enqproto: the parser of the pochta-enqueue protocol (enqproto.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "dsnparam.h"
#include "enqproto.h"

void enqp_init(struct enqp *p, unsigned long long size_max)
{
	memset(p, 0, sizeof *p);
	p->size_max = size_max;
}

void enqp_free(struct enqp *p)
{
	qfile_free(&p->q);
	sa_free(&p->fail_text);
	p->rcpt_cap = 0;
}

void enqp_idle(struct enqp *p)
{
	p->st = ENQP_IDLE;
}

int enqp_fail(struct enqp *p, int type, const char *text)
{
	int act = ENQP_DROP | (p->st != ENQP_BAD ? ENQP_LOG : 0);

	p->st = ENQP_BAD;
	p->fail_type = type;
	if (sa_copys(&p->fail_text, text) < 0) {
		p->fail_type = ENQ_R_TEMP;
		sa_free(&p->fail_text);
	}
	return act;
}

/* "7BIT", "8BITMIME", "BINARYMIME" or "" (as text: a NUL ends it; the
 * control check follows) */
static int enqp_body_ok(const char *s, size_t len)
{
	return len == 0 || qfile_body_ok(s, strnlen(s, len));
}

/* A recipient given twice (RCPT TO:<a@x> and <a@X>, <Postmaster> and
 * postmaster@domain: clients send addresses in canonical form) is queued once.
 * Like Postfix's duplicate filter, only the first RCPT_DUP_LIMIT recipients are
 * compared, which bounds the cost of huge lists. */
#define RCPT_DUP_LIMIT 1000
static int enqp_rcpt_dup(const struct enqp *p, const char *s, size_t len)
{
	size_t i, n = p->q.nrcpt < RCPT_DUP_LIMIT ? p->q.nrcpt : RCPT_DUP_LIMIT;

	for (i = 0; i < n; i++) {
		const sa_t *r = &p->q.rcpt[i];
		if (r->len == len && memcmp(r->s, s, len) == 0)
			return 1;
	}
	return 0;
}

static unsigned enqp_bit(int type)
{
	return 1u << (type - 'A');
}

static int enqp_nomem(struct enqp *p)
{
	return enqp_fail(p, ENQ_R_TEMP, "4.3.0 out of memory");
}

/* N (the message's DSN parameters, before the first R) and O (the last R's):
 * checked by dsnparam.h; an O after a duplicate R goes with it */
static int enqp_dsn(struct enqp *p, int type, const char *d, size_t len)
{
	struct dsnp_mail m;
	struct dsnp_rcpt r;
	int prev = p->last;

	if (type == 'N' ? p->q.nrcpt > 0 : prev != 'R')
		return enqp_fail(p, ENQ_R_PERM, "5.5.0 DSN record out of place");
	p->last = type;
	if (len == 0 || !qfile_text_ok(d, len) ||
	    (type == 'N' ? dsnp_mail_parse(d, len, &m) : dsnp_rcpt_parse(d, len, &r)) < 0)
		return enqp_fail(p, ENQ_R_PERM, "5.5.4 bad DSN parameters");
	if (type == 'O' && p->last_dup)
		return 0;
	return sa_copyb(type == 'N' ? &p->q.dsn : &p->q.rcpt_dsn[p->q.nrcpt - 1], d, len) < 0
	       ? enqp_nomem(p) : 0;
}

static int enqp_envelope(struct enqp *p, int type, const char *d, size_t len)
{
	sa_t *field = NULL;

	if (p->st != ENQP_ENV)
		return p->st == ENQP_DATA ? enqp_fail(p, ENQ_R_PERM, "5.5.0 envelope record after message data")
		                          : 0;
	if (type != 'R' && type != 'O' && (p->seen & enqp_bit(type)))
		return enqp_fail(p, ENQ_R_PERM, "5.5.0 repeated envelope record");
	p->seen |= enqp_bit(type);
	if (type != 'N' && type != 'O')
		p->last = type;
	if (len > QFILE_MAX_FIELD)
		return enqp_fail(p, ENQ_R_PERM, "5.5.0 envelope field too long");
	switch (type) {
	case 'S':
		if (!qfile_sender_ok(d, len))
			return enqp_fail(p, ENQ_R_PERM, "5.1.7 bad sender address");
		if (!addr_is_ascii(d, len))
			p->q.smtputf8 = 1;   /* a UTF-8 address needs SMTPUTF8 onward */
		field = &p->q.sender;
		break;
	case 'R':
		if (p->q.nrcpt >= QFILE_MAX_RCPT)
			return enqp_fail(p, ENQ_R_PERM, "5.5.3 too many recipients");
		if (!qfile_rcpt_ok(d, len))
			return enqp_fail(p, ENQ_R_PERM, "5.1.3 bad recipient address");
		p->last_dup = enqp_rcpt_dup(p, d, len);
		if (p->last_dup)
			return 0;
		if (!addr_is_ascii(d, len))
			p->q.smtputf8 = 1;
		return qfile_rcpt_add(&p->q, d, len, &p->rcpt_cap) < 0 ? enqp_nomem(p) : 0;
	case 'N':
	case 'O':
		return enqp_dsn(p, type, d, len);
	case 'B':
		if (!enqp_body_ok(d, len))
			return enqp_fail(p, ENQ_R_PERM, "5.5.4 bad body type");
		field = &p->q.body;
		break;
	case 'P':
		field = &p->q.proto;
		break;
	case 'H':
		field = &p->q.helo;
		break;
	default: /* 'C' */
		field = &p->q.client;
		break;
	}
	if (!qfile_text_ok(d, len))
		return enqp_fail(p, ENQ_R_PERM, "5.5.4 control character in envelope");
	return sa_copyb(field, d, len) < 0 ? enqp_nomem(p) : 0;
}

/* U: SMTPUTF8, once, empty, anywhere in the envelope */
static int enqp_smtputf8(struct enqp *p, const char *d, size_t len)
{
	if (p->st != ENQP_ENV)
		return p->st == ENQP_DATA ? enqp_fail(p, ENQ_R_PERM, "5.5.0 envelope record after message data")
		                          : 0;
	if ((p->seen & enqp_bit(QFILE_SMTPUTF8)) || len != 0)
		return enqp_fail(p, ENQ_R_PERM, "5.5.0 bad SMTPUTF8 record");
	(void)d;
	p->seen |= enqp_bit(QFILE_SMTPUTF8);
	p->q.smtputf8 = 1;
	return 0;
}

/* the envelope is complete once data starts (or the message ends); 0 or the
 * actions of the refusal */
static int enqp_env_done(struct enqp *p)
{
	if (p->st != ENQP_ENV)
		return 0;
	if (!(p->seen & enqp_bit('S')))
		return enqp_fail(p, ENQ_R_PERM, "5.5.1 no sender");
	if (p->q.nrcpt == 0)
		return enqp_fail(p, ENQ_R_PERM, "5.5.1 no valid recipients");
	p->st = ENQP_DATA;
	return 0;
}

static int enqp_begin(struct enqp *p)
{
	qfile_free(&p->q);
	memset(&p->q, 0, sizeof p->q);
	p->rcpt_cap = 0;
	p->seen = 0;
	p->last = 0;
	p->last_dup = 0;
	p->size = 0;
	p->st = ENQP_ENV;
	return ENQP_DROP | ENQP_OPEN;
}

static int enqp_data(struct enqp *p, size_t len)
{
	int act;

	if (p->st == ENQP_BAD || p->st == ENQP_IDLE)
		return 0;
	if ((act = enqp_env_done(p)) != 0)
		return act;
	if (len > p->size_max || p->size > p->size_max - len)
		return enqp_fail(p, ENQ_R_PERM, "5.3.4 message too big");
	p->size += len;
	return ENQP_WRITE;
}

static int enqp_end(struct enqp *p)
{
	int act;

	switch (p->st) {
	case ENQP_IDLE:
		p->fail_type = ENQ_R_TEMP;
		if (sa_copys(&p->fail_text, "4.3.0 no message in progress") < 0)
			sa_free(&p->fail_text);
		return ENQP_REPLY;
	case ENQP_BAD:
		p->st = ENQP_IDLE;
		return ENQP_REPLY;
	default:
		break;
	}
	if ((act = enqp_env_done(p)) != 0) {
		p->st = ENQP_IDLE;
		return act | ENQP_REPLY;
	}
	p->st = ENQP_IDLE;
	return ENQP_COMMIT;
}

int enqp_record(struct enqp *p, int type, const char *d, size_t len)
{
	switch (type) {
	case ENQ_BEGIN:
		return enqp_begin(p);
	case 'S': case 'B': case 'P': case 'H': case 'C': case 'R': case 'N': case 'O':
		return enqp_envelope(p, type, d, len);
	case QFILE_SMTPUTF8:
		return enqp_smtputf8(p, d, len);
	case ENQ_DATA:
		return enqp_data(p, len);
	case ENQ_END:
		return enqp_end(p);
	case ENQ_ABORT:
		p->st = ENQP_IDLE;
		return ENQP_DROP;
	default:
		if (p->st == ENQP_ENV || p->st == ENQP_DATA)
			return enqp_fail(p, ENQ_R_PERM, "5.5.0 unknown record on the queue pipe");
		return 0;
	}
}
