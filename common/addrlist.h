/* addrlist: RFC 5322 §3.4 address lists, as in To:, Cc: and Bcc: (sendmail -t)
 * and in sendmail's recipient arguments ("a@x, Bob <b@y>", as Postfix reads them).
 *   address-list = address *("," address); address = mailbox / group
 *   mailbox = [display-name] "<" addr-spec ">" / addr-spec
 *   group = display-name ":" [mailbox-list] ";"
 * Comments (nested), quoted strings, quoted pairs, domain literals, folded
 * lines (CR and LF count as white space), empty list elements and the obsolete
 * forms (a source route "<@a,@b:x@y>", white space around the dots of a
 * local part) are understood; display names and group names are dropped.
 * Each addr-spec is then checked by addr.h's rules (RFC 5321: it must fit in an
 * SMTP envelope); one without '@' is a bare local part (has_domain 0), for the
 * caller to qualify. Bounded: no allocation; each address at most
 * ADDR_PATH_MAX octets. */
#ifndef POCHTA_ADDRLIST_H
#define POCHTA_ADDRLIST_H
#include <stddef.h>
#include "addr.h"
#include "sa.h"

/* one address; return 0 to go on, -1 to stop (addrlist_parse then returns -1
 * and leaves err as the callback left it) */
typedef int addrlist_fn(const struct addr *a, void *arg);

/* every address of s (len bytes, NULs refused) to fn, in order. The count of
 * addresses, or -1 with the reason in err (nothing is said about the
 * addresses already handed out: the caller decides what a bad list means) */
long addrlist_parse(const char *s, size_t len, addrlist_fn *fn, void *arg, sa_t *err);

#endif
