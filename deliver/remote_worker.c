/* remote_worker: pochta-remote as a long-lived worker of pochta-qmgr (-w),
 * and the delivery steps it shares with the one-shot run. The worker reads
 * the configuration once (again when the file changes), takes one request (a
 * batch: one message, one domain, up to 100 recipients; rreq.h) at a time
 * from its packet socket and sends one reply per request. Between requests it
 * may keep the last SMTP connection (remote_smtp.c), closed with QUIT when
 * remote_connection_cache_time passes without a request for its domain. It
 * ends when the socket closes (pochta-qmgr retires it or is gone). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "confrun.h"
#include "addr.h"
#include "dresult.h"
#include "log.h"
#include "lreq.h"
#include "paths.h"
#include "rec.h"
#include "remote.h"
#include "rreq.h"

int remote_domain_ok(const char *d)
{
	size_t n = strlen(d);

	if (n > 2 && d[0] == '[' && d[n - 1] == ']')
		return n <= ADDR_DOMAIN_MAX;
	return addr_domain_valid(d, n);
}

int remote_run(struct remote *rm, int fd, const char *body)
{
	sa_t err = SA_INIT;
	struct addr a;

	if (msg_open(&rm->msg, fd, body, &err) < 0) {
		session_error(rm, 'T', "4.3.0", "none", "%s", err.s ? err.s : "cannot read the message");
		log_warn(rm->qid, "%s", err.s ? err.s : "cannot read the message");
		sa_free(&err);
		return -1;
	}
	/* an address that SMTP cannot carry fails alone, before any connection */
	for (size_t i = 0; i < rm->n; i++)
		if (addr_parse_u(rm->r[i].addr, strlen(rm->r[i].addr), &a, 1) != ADDR_OK)
			rcpt_set(rm, i, 'P', "5.1.3", "bad recipient address syntax", "none");
	if (rcpt_pending(rm) > 0)
		route_deliver(rm);
	return 0;
}

int remote_results(struct remote *rm, sa_t *out)
{
	int bad = 0;

	for (size_t i = 0; i < rm->n; i++) {
		struct rcpt *r = &rm->r[i];
		if (!r->class) /* never reached: cannot happen, but never report nothing */
			rcpt_set(rm, i, 'T', "4.4.1", "no destination host could be tried", "none");
		log_info(rm->qid, "to=<%s> relay=%s status=%s dsn=%s reply=\"%s\"", r->addr, r->relay,
		         r->class == 'D' ? "sent" : r->class == 'P' ? "bounced" : "deferred", r->status,
		         r->text.s ? r->text.s : "");
		if (dresult_cat(out, i, r->class, r->status, r->text.s ? r->text.s : "") < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

/* one request: every recipient's result (and the k record) in reply */
static void serve(struct conf_live *lc, const struct rreq *q, int in, sa_t *reply)
{
	struct remote rm;
	sa_t err = SA_INIT;
	struct addr a;
	const char *kept;
	int r;

	memset(&rm, 0, sizeof rm);
	rm.qid = q->qid;
	rm.sender = q->sender;
	rm.domain = q->domain;
	rm.n = q->n;
	rm.cache = 1;
	rm.smtputf8 = q->smtputf8;
	rm.msg.fd = -1;
	rm.r = calloc(q->n, sizeof *rm.r);
	if (!rm.r) {
		for (size_t i = 0; i < q->n; i++)
			dresult_cat(reply, i, 'T', "4.3.0", "out of memory");
		return;
	}
	rm.mail_dsn = q->mail_dsn;
	for (size_t i = 0; i < q->n; i++) {
		rm.r[i].addr = q->rcpt[i];
		rm.r[i].dsn = q->rcpt_dsn[i];
	}
	r = conf_live_load(lc, confrun_path(), &err);
	if (r == 1) {
		smtp_cache_close(); /* nothing made with the old configuration stays */
		log_configure(lc->c.log_destination, lc->c.log_format, paths.log);
	}
	if (r < 0) {
		log_warn(rm.qid, "%s", err.s ? err.s : "cannot load the configuration");
		session_error(&rm, 'T', "4.3.5", "none", "configuration error: %s",
		              err.s ? err.s : "cannot load");
	} else if (!remote_domain_ok(rm.domain)) {
		session_error(&rm, 'P', "5.1.2", "none", "bad destination domain %s", rm.domain);
	} else if (*rm.sender && addr_parse_u(rm.sender, strlen(rm.sender), &a, 1) != ADDR_OK) {
		session_error(&rm, 'P', "5.1.7", "none", "bad sender address syntax");
	} else {
		rm.conf = lc->c; /* borrowed: lc owns it */
		remote_run(&rm, in, q->body);
	}
	if (remote_results(&rm, reply) < 0)
		sa_trunc(reply, 0);
	for (size_t i = 0; i < rm.n && reply->len; i++) {
		char ix[24];
		if (rm.r[i].class == 'D' && rm.r[i].passed &&
		    rec_cat(reply, RREQ_PASSED, ix, (size_t)snprintf(ix, sizeof ix, "%zu", i)) < 0)
			sa_trunc(reply, 0);
	}
	kept = smtp_cache_domain();
	if (reply->len && kept && strcasecmp(kept, rm.domain) == 0 &&
	    rec_cat(reply, RREQ_KEPT, kept, strlen(kept)) < 0)
		sa_trunc(reply, 0);
	if (rm.msg.fd >= 0 && rm.msg.fd != in)
		close(rm.msg.fd); /* a spooled copy */
	for (size_t i = 0; i < rm.n; i++)
		sa_free(&rm.r[i].text);
	free(rm.r);
	sa_free(&err);
}

int remote_worker(int sock)
{
	struct conf_live lc;
	struct rreq *q = malloc(sizeof *q);
	char *buf = malloc(RREQ_MAX);
	sa_t reply = SA_INIT;
	int rc = 0;

	memset(&lc, 0, sizeof lc);
	signal(SIGPIPE, SIG_IGN);
	if (!q || !buf) {
		log_warn(NULL, "out of memory");
		free(q);
		free(buf);
		return 111;
	}
	for (;;) {
		long long ms = smtp_cache_expire();
		struct pollfd p = { .fd = sock, .events = POLLIN, .revents = 0 };
		int in, k = poll(&p, 1, ms < 0 ? -1 : (int)ms);
		ssize_t n;

		if (k < 0 && errno != EINTR) {
			log_warn(NULL, "poll: %s", strerror(errno));
			rc = 111;
			break;
		}
		if (k <= 0)
			continue; /* the kept connection's time is up: closed at the top */
		n = lreq_recv(sock, buf, RREQ_MAX, &in);
		if (n == 0)
			break;
		if (n < 0 && errno != EMSGSIZE) {
			log_warn(NULL, "cannot read a request: %s", strerror(errno));
			rc = 111;
			break;
		}
		sa_trunc(&reply, 0);
		if (n < 0 || in < 0 || rreq_parse(buf, (size_t)n, q) < 0) {
			/* cannot happen with pochta-qmgr: its recipients fail temporarily */
			log_warn(NULL, "malformed delivery request");
			dresult_cat(&reply, 0, 'T', "4.3.0", "malformed delivery request");
		} else {
			serve(&lc, q, in, &reply);
		}
		if (in >= 0)
			close(in);
		if (reply.len == 0 || lreq_send(sock, reply.s, reply.len, -1) < 0) {
			/* pochta-qmgr is gone: it delivers again what it did not hear of */
			log_warn(NULL, "cannot send a result: %s", reply.len ? strerror(errno) : "out of memory");
			rc = 111;
			break;
		}
	}
	smtp_cache_close();
	sa_free(&reply);
	conf_live_free(&lc);
	free(q);
	free(buf);
	return rc;
}
