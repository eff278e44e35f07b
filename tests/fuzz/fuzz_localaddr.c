/* libFuzzer harness: localaddr_map / localaddr_parse / localaddr_postmaster.
 * Input: one byte choosing recipient_delimiter, then an RCPT path.
 * Properties: no crash; a mailbox is a valid user name; what the mapping says
 * of the parsed path (pochta-smtpd at RCPT) it says again of the text the
 * queue holds for it (pochta-local at delivery), and the local-domain and
 * postmaster tests pochta-qmgr uses agree with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "localaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const delims[] = { "+", "-", "", ".", "\"", " ", "@", "_" };

static void check_user(int kind, const char *user)
{
	size_t n = strlen(user);

	if (kind == LOCALADDR_USER || kind == LOCALADDR_POSTMASTER) {
		if (!user_name_valid(user, n))
			abort();
	} else if (n != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char text[] = "local_domains = example.test, b.test\npostmaster = root\n";
	struct conf c;
	struct addr a, b;
	sa_t q = SA_INIT;
	char u1[USER_NAME_MAX + 1], u2[USER_NAME_MAX + 1];
	int k1, k2;

	if (size < 1)
		return 0;
	if (conf_parse(&c, "fuzz", text, sizeof text - 1, NULL) < 0)
		abort();
	if (conf_set(&c, conf_key_find("recipient_delimiter"), delims[data[0] % 8], NULL) < 0)
		abort();
	/* as pochta-smtpd's RCPT parser: a bare local part only for postmaster */
	if (addr_parse_path((const char *)data + 1, size - 1, &a, 0, 1, NULL) != ADDR_OK ||
	    (!a.has_domain && strcasecmp(a.local, "postmaster") != 0))
		goto out;
	k1 = localaddr_map(&c, &a, u1);
	check_user(k1, u1);
	if (k1 == LOCALADDR_TEMPFAIL)
		abort();                /* the postmaster key is valid here */
	if (a.has_domain ? addr_format(&a, &q) < 0 : localaddr_postmaster(&c, &q) < 0)
		abort();
	if (localaddr_parse(q.s, q.len, &b) != ADDR_OK)
		abort();
	k2 = localaddr_map(&c, &b, u2);
	if (k1 != k2 || strcmp(u1, u2) != 0)
		abort();
	if (localaddr_text_is_local(&c, q.s) != (k1 != LOCALADDR_REMOTE))
		abort();
	if (localaddr_is_postmaster(&c, q.s) != (k1 == LOCALADDR_POSTMASTER))
		abort();
out:
	sa_free(&q);
	conf_free(&c);
	return 0;
}
