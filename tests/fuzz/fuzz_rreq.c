/* libFuzzer harness: rreq_parse on arbitrary packets (and rreq_kept on the
 * same bytes as a reply); what it accepts is built again by rreq_build and
 * parses to the same request (with rreq_build_dsn: its DSN parameters too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rreq r, back;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dom[RREQ_DOMAIN_MAX + 1];
	sa_t s = SA_INIT;

	if (rreq_kept((const char *)data, size, dom, sizeof dom) && strlen(dom) == 0)
		abort();
	if (rreq_parse((const char *)data, size, &r) < 0)
		return 0;
	if (r.n == 0 || r.n > RREQ_RCPT_MAX || !r.domain[0])
		abort();
	const char *rd[RREQ_RCPT_MAX];
	for (size_t i = 0; i < r.n; i++)
		rd[i] = r.rcpt_dsn[i];
	if (rreq_build(&s, r.qid, r.sender, r.body, r.domain, r.rcpt, r.n) < 0 ||
	    rreq_build_dsn(&s, r.mail_dsn, rd, r.n) < 0 || s.len > RREQ_MAX ||
	    rreq_parse(s.s, s.len, &back) < 0 || strcmp(r.qid, back.qid) || strcmp(r.sender, back.sender) ||
	    strcmp(r.body, back.body) || strcmp(r.domain, back.domain) || r.n != back.n ||
	    strcmp(r.mail_dsn, back.mail_dsn))
		abort();
	for (size_t i = 0; i < r.n; i++)
		if (strcmp(r.rcpt[i], back.rcpt[i]) != 0 || strcmp(r.rcpt_dsn[i], back.rcpt_dsn[i]) != 0)
			abort();
	sa_free(&s);
	return 0;
}
