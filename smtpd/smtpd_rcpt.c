/* smtpd_rcpt: the recipient policy, decided at RCPT time on the parsed address.
 * Local domains: the user must exist in etc/users (postmaster always does).
 * Anything else (other domains, address literals) is relaying, allowed only
 * for clients in relay_networks. */
#include <string.h>
#include "smtpd.h"
#include "conf.h"
#include "users.h"

static char rcpt_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int rcpt_is_local_domain(const struct rcpt_policy *p, const struct addr *a)
{
	size_t len;

	if (a->null || !a->has_domain || a->domain[0] == '[')
		return 0;
	len = strlen(a->domain);
	return len > 0 && conf_list_has(p->local_domains, a->domain, len);
}

void rcpt_user(const struct rcpt_policy *p, const struct addr *a, char *out, size_t outsz)
{
	size_t i, n = 0;
	char delim = p->delimiter ? p->delimiter[0] : '\0';

	if (outsz == 0)
		return;
	for (i = 0; a->local[i] != '\0' && n + 1 < outsz; i++) {
		if (delim != '\0' && a->local[i] == delim)
			break;
		out[n++] = rcpt_lower(a->local[i]);
	}
	out[n] = '\0';
}

enum rcpt_verdict rcpt_check(const struct rcpt_policy *p, const struct addr *a)
{
	char user[ADDR_LOCAL_MAX + 1];
	int r;

	if (a->null)
		return RCPT_UNKNOWN; /* the parser refuses <> for RCPT; be safe anyway */
	if (!a->has_domain) {
		/* only <Postmaster> (RFC 5321 §4.5.1) is meaningful without a domain */
		rcpt_user(p, a, user, sizeof user);
		return strcmp(user, "postmaster") == 0 ? RCPT_OK : RCPT_UNKNOWN;
	}
	if (!rcpt_is_local_domain(p, a))
		return p->relay_client ? RCPT_OK : RCPT_RELAY;
	rcpt_user(p, a, user, sizeof user);
	if (strcmp(user, "postmaster") == 0)
		return RCPT_OK;
	if (!user_name_valid(user, strlen(user)))
		return RCPT_UNKNOWN;
	r = users_exists(p->users_path, user);
	if (r < 0)
		return RCPT_TEMPFAIL;
	return r ? RCPT_OK : RCPT_UNKNOWN;
}
