/* localaddr: which recipients are local, and the mailbox each goes to.
 * The one mapping pochta-smtpd decides RCPT with and pochta-local delivers
 * with, so that whatever RCPT accepts is deliverable; pochta-qmgr tells local
 * from remote and finds the postmaster with the same functions.
 *
 * The mapping, on a parsed address (addr.h: the local part decoded, so
 * "alice"@d and alice@d are one address, RFC 5321 §2.3.11, §4.1.2):
 *   - a domain in neither local_domains nor virtual_domains, or an address
 *     literal: remote;
 *   - the user part is the local part up to the first recipient_delimiter
 *     character (none when the key is empty), lowercased; the extension, from
 *     the delimiter on, may hold anything the local part may (any printable
 *     ASCII, spaces included when quoted); it does not choose the user;
 *   - user part "postmaster" at a local or virtual domain, or the bare
 *     <Postmaster>: the mailbox the postmaster key names (it always exists);
 *   - any other user part must be a valid user name (users.h); a bare local
 *     part other than postmaster is unknown;
 *   - localaddr_lookup tries the whole local part as a user name first, as
 *     Postfix does, so a name holding the delimiter (mary-jane) is reachable;
 *     then the user part;
 *   - before the mailboxes (as Postfix's alias_maps), at a local_domains
 *     domain (not a virtual one) or the bare postmaster: the whole local part,
 *     then the user part, lowercased, in ROOT/etc/aliases (aliases.h, with its
 *     RFC 2142 defaults): listed, ALIAS (pochta-local expands it); a default
 *     that leads to the postmaster mailbox (root, and by default postmaster,
 *     abuse, mailer-daemon), POSTMASTER;
 *   - the mailboxes, in order (users.h: mailbox names): NAME@DOMAIN in
 *     etc/users (the domain's own user, whatever kind of domain); in a
 *     local_domains domain (not a virtual one), then bare NAME in etc/users,
 *     then, when system users are recipients (sysuser.h: local_system_users,
 *     run by root), an account of the host with a uid of at least
 *     local_uid_minimum (never root), whose Maildir is HOME/home_mailbox;
 *   - nothing found: the domain's catch_all mailbox (@DOMAIN:MAILBOX), when
 *     MAILBOX is listed in etc/users (or, bare, is such a host account); so a
 *     catch-all never takes postmaster, an alias nor any name found before it. */
#ifndef POCHTA_LOCALADDR_H
#define POCHTA_LOCALADDR_H
#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "aliases.h"
#include "conf.h"
#include "sa.h"
#include "users.h"

enum localaddr_kind {
	LOCALADDR_TEMPFAIL = -1,   /* etc/users unreadable (errno), or a bad postmaster key (EINVAL) */
	LOCALADDR_REMOTE = 0,      /* not a local or virtual domain */
	LOCALADDR_UNKNOWN,         /* local, but no such mailbox */
	LOCALADDR_USER,            /* a user's mailbox */
	LOCALADDR_POSTMASTER,      /* the postmaster key's mailbox */
	LOCALADDR_SYSTEM,          /* a host account's Maildir in its home */
	LOCALADDR_ALIAS,           /* an alias (etc/aliases or a default): pochta-local expands it */
};

/* where a local recipient's mail goes (localaddr_lookup) */
struct localaddr_dest {
	char user[USER_MAILBOX_MAX + 1]; /* USER, POSTMASTER: the mailbox name; SYSTEM: the account */
	uid_t uid;                       /* SYSTEM: the account's uid when it was looked up */
	char ext[ADDR_LOCAL_MAX + 1];    /* USER, SYSTEM: the address extension (after the
	                                  * delimiter) when the user part found the mailbox; else "" */
	char alias[ALIASES_NAME_MAX + 1]; /* ALIAS: the name found */
};

/* 1 when the domain (len bytes; never a literal) is in local_domains or
 * virtual_domains, compared without regard to case */
int localaddr_domain_is_local(const struct conf *c, const char *dom, size_t len);
/* 1 when it is in virtual_domains: only its NAME@DOMAIN users exist there */
int localaddr_domain_is_virtual(const struct conf *c, const char *dom, size_t len);
/* one catch_all item, "@DOMAIN:MAILBOX": 0 with the domain and the mailbox
 * name located in item, -1 when malformed */
int localaddr_catchall_parse(const char *item, size_t len, const char **dom, size_t *domlen,
                             const char **mbox, size_t *mboxlen);
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
/* the mapping with etc/aliases, etc/users (users_path), catch_all and, when
 * sysuser_enabled, the host's accounts: USER only when listed, SYSTEM for an
 * account that receives mail (sysuser_get); the kind, with d filled for
 * USER, POSTMASTER and SYSTEM, alias for ALIAS. TEMPFAIL also when the passwd
 * database cannot be read, or the aliases file is bad (errno EBADMSG; the
 * reason is logged). */
int localaddr_lookup(const struct conf *c, const char *users_path, const struct addr *a,
                     struct localaddr_dest *d);
/* the same without the aliases step: a mailbox only (pochta-local for \NAME
 * and a name an alias expands to itself) */
int localaddr_lookup_mailbox(const struct conf *c, const char *users_path, const struct addr *a,
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
