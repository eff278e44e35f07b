/* localaddr: which recipients are local, and the mailbox each goes to.
 * The one mapping pochta-smtpd decides RCPT with and pochta-local delivers
 * with, so that whatever RCPT accepts is deliverable; pochta-qmgr tells local
 * from remote and finds the postmaster with the same functions.
 *
 * The mapping, on a parsed address (addr.h: the local part decoded, so
 * "alice"@d and alice@d are one address, RFC 5321 §2.3.11, §4.1.2):
 *   - a domain not in local_domains, or an address literal: remote;
 *   - the user part is the local part up to the first recipient_delimiter
 *     character (none when the key is empty), lowercased; the extension, from
 *     the delimiter on, may hold anything the local part may (any printable
 *     ASCII, spaces included when quoted) and is dropped;
 *   - user part "postmaster" at a local domain, or the bare <Postmaster>: the
 *     mailbox the postmaster key names (it always exists);
 *   - any other user part must be a valid user name (users.h) listed in
 *     etc/users; a bare local part other than postmaster is unknown;
 *   - localaddr_lookup tries the whole local part as a user name first, as
 *     Postfix does, so a name holding the delimiter (mary-jane) is reachable;
 *   - a user part not in etc/users, when system users are recipients
 *     (sysuser.h: local_system_users, run by root), may name an account of
 *     the host with a uid of at least local_uid_minimum (never root): its
 *     Maildir is HOME/home_mailbox. etc/users comes first, whole local part
 *     and cut alike; then the account, the same two ways. */
#ifndef POCHTA_LOCALADDR_H
#define POCHTA_LOCALADDR_H
#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "conf.h"
#include "sa.h"
#include "users.h"

enum localaddr_kind {
	LOCALADDR_TEMPFAIL = -1,   /* etc/users unreadable (errno), or a bad postmaster key (EINVAL) */
	LOCALADDR_REMOTE = 0,      /* not a local domain */
	LOCALADDR_UNKNOWN,         /* local, but no such mailbox */
	LOCALADDR_USER,            /* a user's mailbox */
	LOCALADDR_POSTMASTER,      /* the postmaster key's mailbox */
	LOCALADDR_SYSTEM,          /* a host account's Maildir in its home */
};

/* where a local recipient's mail goes (localaddr_lookup) */
struct localaddr_dest {
	char user[USER_NAME_MAX + 1]; /* USER, POSTMASTER: the mailbox; SYSTEM: the account */
	uid_t uid;                    /* SYSTEM: the account's uid when it was looked up */
};

/* 1 when the domain (len bytes; never a literal) is in local_domains, compared
 * without regard to case */
int localaddr_domain_is_local(const struct conf *c, const char *dom, size_t len);
/* the same for a recipient as the queue holds it (a mailbox, or the bare
 * postmaster, which is local) */
int localaddr_text_is_local(const struct conf *c, const char *addr);
/* a recipient as the queue holds it: a mailbox, or the bare "postmaster" in any
 * case (stored with has_domain 0); ADDR_OK or an addr_err */
int localaddr_parse(const char *s, size_t len, struct addr *a);
/* the mapping without etc/users: the kind, and for USER and POSTMASTER the
 * mailbox name in user (USER_NAME_MAX + 1 bytes; "" otherwise). USER still
 * has to be looked up: see localaddr_lookup. */
int localaddr_map(const struct conf *c, const struct addr *a, char *user);
/* the mapping with etc/users (users_path) and, when sysuser_enabled, the
 * host's accounts: USER only when listed, SYSTEM for an account that
 * receives mail (sysuser_get); the kind, with d filled for USER, POSTMASTER
 * and SYSTEM. TEMPFAIL also when the passwd database cannot be read. */
int localaddr_lookup(const struct conf *c, const char *users_path, const struct addr *a,
                     struct localaddr_dest *d);
/* 1 when the queued recipient text goes to the postmaster's mailbox */
int localaddr_is_postmaster(const struct conf *c, const char *addr);
/* the address mail for the postmaster is queued to: postmaster@ the first
 * local domain, or the bare "postmaster" without local domains (still local);
 * appended to out; 0 or -1 */
int localaddr_postmaster(const struct conf *c, sa_t *out);
/* the domain of a local submission's addresses (pochta-sendmail: login@ it,
 * and what a bare name is qualified with): the first local domain, else
 * myhostname; appended to out; 0 or -1 */
int localaddr_origin(const struct conf *c, sa_t *out);

#endif
