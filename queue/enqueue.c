/* pochta-enqueue: the only writer of new queue entries (man/pochta-enqueue.8).
 * Speaks the record protocol of common/enqproto.h on stdin/stdout and serves a
 * whole session: any number of messages, one after the other. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "enqproto.h"
#include "enqueue.h"
#include "localaddr.h"
#include "log.h"
#include "paths.h"
#include "qdir.h"
#include "rec.h"

#define ENQ_SIZE_MARGIN 65536 /* room for the headers smtpd adds (Received:) */
#define ENQ_REC_MAX (ENQ_DATA_MAX > QFILE_MAX_FIELD ? ENQ_DATA_MAX : QFILE_MAX_FIELD)

enum enq_state {
	ST_IDLE,    /* no message open */
	ST_ENV,     /* after M: envelope records */
	ST_DATA,    /* after the first D */
	ST_BAD,     /* the message failed: records are dropped until E or Q */
};

static struct {
	struct conf conf;
	io_t in, out;
	char inbuf[ENQ_REC_MAX + 64], outbuf[4096];
	struct enqfile f;
	enum enq_state st;
	unsigned seen;                  /* envelope records seen (bit per letter) */
	unsigned long long size_max;
	int fail_type;                  /* ENQ_R_TEMP or ENQ_R_PERM in ST_BAD */
	sa_t fail_text;
} E;

static void reply(int type, const char *text)
{
	if (rec_puts(&E.out, type, text) < 0 || io_flush(&E.out) < 0) {
		/* the client is gone: nothing left to serve */
		enqfile_abort(&E.f);
		exit(0);
	}
}

/* the message fails: drop it now, tell the client at E */
static void fail(int type, const char *text)
{
	if (E.st != ST_BAD)
		log_warn(E.f.q.qid[0] ? E.f.q.qid : NULL, "rejected: %s", text);
	enqfile_abort(&E.f);
	E.st = ST_BAD;
	E.fail_type = type;
	if (sa_copys(&E.fail_text, text) < 0)
		E.fail_type = ENQ_R_TEMP;
}

static void fail_errno(const char *what)
{
	char buf[256];

	snprintf(buf, sizeof buf, "4.3.0 %s: %s", what, strerror(errno));
	fail(ENQ_R_TEMP, buf);
}

static int text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

static int sender_ok(const char *s, size_t len)
{
	struct addr a;

	return len == 0 || (text_ok(s, len) && addr_parse(s, len, &a) == ADDR_OK);
}

static int rcpt_ok(const char *s, size_t len)
{
	struct addr a;

	return text_ok(s, len) && localaddr_parse(s, len, &a) == ADDR_OK;
}

/* A recipient given twice (RCPT TO:<a@x> and <a@X>, <Postmaster> and
 * postmaster@domain: clients send addresses in canonical form) is queued once.
 * Like Postfix's duplicate filter, only the first RCPT_DUP_LIMIT recipients are
 * compared, which bounds the cost of huge lists. */
#define RCPT_DUP_LIMIT 1000
static int rcpt_dup(const char *s, size_t len)
{
	size_t i, n = E.f.q.nrcpt < RCPT_DUP_LIMIT ? E.f.q.nrcpt : RCPT_DUP_LIMIT;

	for (i = 0; i < n; i++) {
		const sa_t *r = &E.f.q.rcpt[i];
		if (r->len == len && memcmp(r->s, s, len) == 0)
			return 1;
	}
	return 0;
}

static unsigned bit(int type)
{
	return 1u << (type - 'A');
}

static void msg_begin(void)
{
	if (E.st != ST_IDLE)
		enqfile_abort(&E.f); /* M inside a message: the old one is abandoned */
	E.seen = 0;
	if (enqfile_create(&E.f, paths.queue) < 0) {
		char buf[256];
		log_warn(NULL, "cannot create queue file: %s", strerror(errno));
		snprintf(buf, sizeof buf, "4.3.0 cannot create queue file: %s", strerror(errno));
		E.st = ST_IDLE;
		reply(ENQ_R_TEMP, buf);
		return;
	}
	E.st = ST_ENV;
	reply(ENQ_R_ID, E.f.q.qid);
}

static void msg_envelope(int type, const sa_t *d)
{
	sa_t *field = NULL;

	if (E.st != ST_ENV) {
		if (E.st == ST_DATA)
			fail(ENQ_R_PERM, "5.5.0 envelope record after message data");
		return;
	}
	if (type != 'R' && (E.seen & bit(type))) {
		fail(ENQ_R_PERM, "5.5.0 repeated envelope record");
		return;
	}
	E.seen |= bit(type);
	if (d->len > QFILE_MAX_FIELD) {
		fail(ENQ_R_PERM, "5.5.0 envelope field too long");
		return;
	}
	switch (type) {
	case 'S':
		if (!sender_ok(d->s, d->len)) {
			fail(ENQ_R_PERM, "5.1.7 bad sender address");
			return;
		}
		field = &E.f.q.sender;
		break;
	case 'R':
		if (E.f.q.nrcpt >= QFILE_MAX_RCPT) {
			fail(ENQ_R_PERM, "5.5.3 too many recipients");
			return;
		}
		if (!rcpt_ok(d->s, d->len)) {
			fail(ENQ_R_PERM, "5.1.3 bad recipient address");
			return;
		}
		if (rcpt_dup(d->s, d->len))
			return;
		if (enqfile_rcpt(&E.f, d->s, d->len) < 0)
			fail_errno("out of memory");
		return;
	case 'B':
		if (d->len && strcmp(d->s, "7BIT") != 0 && strcmp(d->s, "8BITMIME") != 0) {
			fail(ENQ_R_PERM, "5.5.4 bad body type");
			return;
		}
		field = &E.f.q.body;
		break;
	case 'P':
		field = &E.f.q.proto;
		break;
	case 'H':
		field = &E.f.q.helo;
		break;
	case 'C':
		field = &E.f.q.client;
		break;
	}
	if (!text_ok(d->s, d->len)) {
		fail(ENQ_R_PERM, "5.5.4 control character in envelope");
		return;
	}
	if (sa_copyb(field, d->s, d->len) < 0)
		fail_errno("out of memory");
}

/* the envelope is complete once data starts (or the message ends) */
static int msg_env_done(void)
{
	if (E.st != ST_ENV)
		return 0;
	if (!(E.seen & bit('S'))) {
		fail(ENQ_R_PERM, "5.5.1 no sender");
		return -1;
	}
	if (E.f.q.nrcpt == 0) {
		fail(ENQ_R_PERM, "5.5.1 no valid recipients");
		return -1;
	}
	if (enqfile_env(&E.f) < 0) {
		fail_errno("queue file write error");
		return -1;
	}
	E.st = ST_DATA;
	return 0;
}

static void msg_data(const sa_t *d)
{
	if (E.st == ST_BAD || E.st == ST_IDLE)
		return;
	if (msg_env_done() < 0)
		return;
	if (E.f.size + d->len > E.size_max) {
		fail(ENQ_R_PERM, "5.3.4 message too big");
		return;
	}
	if (enqfile_data(&E.f, d->s, d->len) < 0)
		fail_errno("queue file write error");
}

static void msg_end(void)
{
	char qid[QID_LEN + 1];

	switch (E.st) {
	case ST_IDLE:
		reply(ENQ_R_TEMP, "4.3.0 no message in progress");
		return;
	case ST_BAD:
		E.st = ST_IDLE;
		reply(E.fail_type, E.fail_text.s ? E.fail_text.s : "4.3.0 failed");
		return;
	default:
		break;
	}
	if (msg_env_done() < 0) {
		msg_end();
		return;
	}
	if (enqfile_commit(&E.f, paths.queue) < 0) {
		fail_errno("queue file commit failed");
		msg_end();
		return;
	}
	memcpy(qid, E.f.q.qid, sizeof qid);
	E.st = ST_IDLE;
	log_info(qid, "queued from=<%s> nrcpt=%zu size=%llu", E.f.q.sender.s ? E.f.q.sender.s : "",
	         E.f.q.nrcpt, E.f.size);
	reply(ENQ_R_OK, qid);
	/* a manager that is not running finds the file when it starts */
	if (qdir_trigger(paths.queue, QDIR_WAKE_NEW) < 0)
		log_warn(qid, "cannot wake pochta-qmgr: %s", strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: pochta-enqueue [-r ROOT]\n");
	exit(100);
}

int main(int argc, char **argv)
{
	const char *root = NULL;
	sa_t err = SA_INIT, d = SA_INIT;
	int type, r;

	log_init("pochta-enqueue", LOG_DEST_AUTO);
	if (paths_args(argc, argv, &root) < 0)
		usage();
	if (paths_init(root) < 0)
		log_fatal("cannot set up paths: %s", strerror(errno));
	if (conf_load(&E.conf, paths.conf, &err) < 0)
		log_fatal("%s", err.s ? err.s : "cannot load configuration");
	E.size_max = (unsigned long long)E.conf.message_size_limit + ENQ_SIZE_MARGIN;
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	E.f.fd = -1;
	io_init(&E.in, 0, E.inbuf, sizeof E.inbuf, -1);
	io_init(&E.out, 1, E.outbuf, sizeof E.outbuf, -1);
	E.in.flush = &E.out;
	for (;;) {
		r = rec_get(&E.in, &type, &d, ENQ_REC_MAX);
		if (r == IO_EOF)
			break;
		if (r != IO_OK) {
			/* a malformed stream cannot be resynchronised: refuse and end */
			if (errno == EPROTO || errno == E2BIG) {
				log_warn(E.st != ST_IDLE ? E.f.q.qid : NULL, "protocol error: %s",
				         errno == E2BIG ? "record too long" : "malformed record");
				enqfile_abort(&E.f);
				if (E.st != ST_IDLE)
					reply(ENQ_R_PERM, "5.5.0 protocol error on the queue pipe");
			} else if (E.st != ST_IDLE) {
				log_warn(E.f.q.qid, "read error: %s", strerror(errno));
			}
			break;
		}
		switch (type) {
		case ENQ_BEGIN:
			msg_begin();
			break;
		case 'S': case 'B': case 'P': case 'H': case 'C': case 'R':
			msg_envelope(type, &d);
			break;
		case ENQ_DATA:
			msg_data(&d);
			break;
		case ENQ_END:
			msg_end();
			break;
		case ENQ_ABORT:
			enqfile_abort(&E.f);
			E.st = ST_IDLE;
			break;
		default:
			if (E.st == ST_ENV || E.st == ST_DATA)
				fail(ENQ_R_PERM, "5.5.0 unknown record on the queue pipe");
			break;
		}
	}
	/* EOF (or a broken stream) aborts an open message */
	enqfile_abort(&E.f);
	free(E.f.buf);
	sa_free(&E.f.tmppath);
	sa_free(&E.fail_text);
	sa_free(&d);
	sa_free(&err);
	conf_free(&E.conf);
	return 0;
}
