/* smtpd_rcpt: the recipient policy, decided at RCPT time on the parsed address.
 * Local recipients are mapped to a mailbox by common/localaddr (the mapping
 * pochta-local delivers with, so an accepted recipient is deliverable); the
 * mailbox must exist (a user of etc/users, or an account of the host: see
 * common/sysuser.h). Anything else (other domains, address literals) is
 * relaying, allowed only for clients in relay_networks and clients that
 * authenticated (AUTH). */
#include "smtpd.h"
#include "localaddr.h"

enum rcpt_verdict rcpt_check(const struct rcpt_policy *p, const struct addr *a)
{
	struct localaddr_dest d;

	if (a->null)
		return RCPT_UNKNOWN; /* the parser refuses <> for RCPT; be safe anyway */
	switch (localaddr_lookup(p->conf, p->users_path, a, &d)) {
	case LOCALADDR_REMOTE:
		/* a bare local part is never remote: the mapping calls it unknown */
		return p->relay_client || p->authenticated ? RCPT_OK : RCPT_RELAY;
	case LOCALADDR_USER:
	case LOCALADDR_POSTMASTER:
	case LOCALADDR_SYSTEM:
	case LOCALADDR_ALIAS:
		return RCPT_OK;
	case LOCALADDR_UNKNOWN:
		return RCPT_UNKNOWN;
	default:
		return RCPT_TEMPFAIL;
	}
}
