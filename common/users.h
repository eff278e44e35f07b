/* users: the instance's mail users.
 *   etc/users   one user name per line (who has a mailbox); readable by smtpd
 *               and the delivery agents. Lines: NAME, '#' comments, blank lines.
 *   etc/passwd  NAME:CRYPT-HASH per line, mode 0600: read only by pochtactl
 *               and the password checker pochta-checkpass, never by a program
 *               that reads the network (pochta-pop3d runs the checker).
 * A user name is 1..32 of [a-z0-9._-], not starting with '.' or '-'. A mailbox's
 * user name may also hold UTF-8 characters (SMTPUTF8 local parts, addr.h's
 * addr_utf8_len), 32 bytes at most, compared byte for byte (only ASCII is
 * lowercased; no Unicode normalization); host accounts and the service
 * accounts of the configuration stay ASCII.
 * A mailbox name, what both files list, is a user NAME (a user of every local
 * domain: NAME@ each of local_domains) or NAME@DOMAIN (a user of that domain
 * only; DOMAIN lowercase, no address literal), as Postfix's
 * virtual_mailbox_maps key. Their Maildirs: ROOT/mail/NAME and
 * ROOT/mail/DOMAIN/NAME. */
#ifndef POCHTA_USERS_H
#define POCHTA_USERS_H
#include <stddef.h>
#include "addr.h"
#include "pop3cmd.h"
#include "sa.h"

#define USER_NAME_MAX 32
/* the longest password, in bytes: what a POP3 client can send, "PASS " and
 * CRLF around it in one command line of POP3_LINE_MAX octets (RFC 2449) */
#define USER_PASS_MAX (POP3_LINE_MAX - 7)

/* the longest mailbox name: NAME@DOMAIN */
#define USER_MAILBOX_MAX (USER_NAME_MAX + 1 + ADDR_DOMAIN_MAX)

/* 1 valid, 0 not */
int user_name_valid(const char *name, size_t len);
/* the same, UTF-8 characters allowed too: the NAME of a mailbox; 1 or 0 */
int user_name_valid_u(const char *name, size_t len);
/* a mailbox name, NAME or NAME@DOMAIN: 1 valid, 0 not */
int user_mailbox_valid(const char *name, size_t len);
/* the domain of a mailbox name (after its '@'), or NULL for a bare NAME */
const char *user_mailbox_domain(const char *mailbox);
/* the Maildir of a valid mailbox name: MAIL/NAME or MAIL/DOMAIN/NAME,
 * appended to out; 0 or -1 */
int user_maildir(const char *mail_dir, const char *mailbox, sa_t *out);
/* the functions below take mailbox names (NAME or NAME@DOMAIN) */
/* 1 exists, 0 does not, -1 error (errno; a missing file counts as empty) */
int users_exists(const char *users_path, const char *name);
/* every name, one after the other NUL-separated into out; count in *n; 0 or -1 */
int users_list(const char *users_path, sa_t *out, size_t *n);
/* add or replace NAME in users and NAME:hash in passwd (both written durably);
 * 0, or -1 with errno (EEXIST when replace is 0 and the user exists) */
int users_add(const char *users_path, const char *passwd_path, const char *name,
              const char *hash, int replace);
/* remove from both files; 0, or -1 (ENOENT when absent) */
int users_del(const char *users_path, const char *passwd_path, const char *name);
/* crypt(3) the password with a fresh random salt ("$y$" yescrypt when libcrypt
 * has it, else "$6$" SHA-512); 0 or -1 (ERANGE: longer than USER_PASS_MAX) */
int pass_hash(const char *pass, sa_t *out);
/* 1 the password matches NAME's hash, 0 no (unknown user included: a dummy
 * hash is checked so both take the same time), -1 error */
int pass_check(const char *passwd_path, const char *name, const char *pass);
/* its two steps. NAME's stored hash into stored: 1 found, 0 not (or not a
 * valid name), -1 error */
#define PASS_HASH_MAX 512
int pass_lookup(const char *passwd_path, const char *name, char stored[PASS_HASH_MAX + 1]);
/* 1 pass matches the stored hash, 0 not (a hash crypt refuses, "!..." or
 * "*" included); stored NULL: a dummy hash of the same cost is checked and
 * the answer is 0, so an unknown name takes as long as a known one. -1 error */
int pass_verify(const char *stored, const char *pass);

#endif
