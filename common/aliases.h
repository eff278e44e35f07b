/* aliases: ROOT/etc/aliases (man/pochta-aliases.5), its compiled form
 * ROOT/etc/aliases.idx, and the lookups smtpd, pochta-sendmail and
 * pochta-local make in them (through localaddr.h and deliver/local_alias.c).
 *
 * The text, as aliases(5): logical lines `name: target, target ...`; a line
 * that starts with a space or tab continues the one before; lines whose first
 * non-blank character is '#', and blank lines, are ignored. A name may be
 * quoted ("john doe": ...); names are compared lowercased. Targets are split
 * at commas outside double quotes; a target that is one quoted string is
 * unquoted (backslash escapes the next character), so "|cmd a, b" keeps its
 * comma. A target is one of
 *     :include:/ABSOLUTE/PATH   a file of more targets (aliases_list_parse)
 *     |COMMAND                  the message on the command's stdin
 *     /ABSOLUTE/PATH            appended to that file in mbox format
 *     \NAME                     NAME's own mailbox, not expanded again
 *     LOCAL@DOMAIN              an address (local domains: expanded again)
 *     NAME                      a local name (expanded again)
 * Bounds: the file ALIASES_FILE_MAX bytes, a line ALIASES_LINE_MAX, a logical
 * line ALIASES_ENTRY_MAX, a name ALIASES_NAME_MAX, a target
 * ALIASES_TARGET_MAX, targets per name ALIASES_TARGETS_MAX, names
 * ALIASES_NAMES_MAX. No control character but tab anywhere; a name listed
 * twice is an error. Errors name FILE:LINE.
 *
 * The table in memory and the compiled file are the same bytes (all numbers
 * 4-byte big-endian):
 *     "pochta-aliases1\n"       16 bytes of magic
 *     N                         the number of names
 *     N offsets                 of each record from the start, by name (bytes)
 *     N records                 NAME NUL TARGET NUL ... TARGET NUL NUL
 * A loaded file is checked whole (every offset inside, names valid, sorted
 * and distinct, targets valid) before any lookup trusts it. */
#ifndef POCHTA_ALIASES_H
#define POCHTA_ALIASES_H
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include "sa.h"

#define ALIASES_FILE_MAX (16u * 1024 * 1024)
#define ALIASES_LINE_MAX 4096
#define ALIASES_ENTRY_MAX 65536
#define ALIASES_NAME_MAX 64            /* a local part (RFC 5321 §4.5.3.1.1) */
#define ALIASES_TARGET_MAX 1024
#define ALIASES_TARGETS_MAX 1000
#define ALIASES_NAMES_MAX 100000
#define ALIASES_MAGIC "pochta-aliases1\n"
#define ALIASES_MAGIC_LEN 16

enum aliases_kind {
	ALIASES_T_INCLUDE = 1,  /* :include:/path: the path */
	ALIASES_T_PIPE,         /* |command: the command */
	ALIASES_T_FILE,         /* /path */
	ALIASES_T_SELF,         /* \name: the name */
	ALIASES_T_ADDR,         /* local@domain */
	ALIASES_T_NAME,         /* a local name */
};

struct aliases_tab {
	sa_t b;                 /* the compiled bytes (format above) */
	size_t n;               /* names */
	uid_t owner;            /* owner of the file read (aliases_load) */
};
#define ALIASES_TAB_INIT { SA_INIT, 0, 0 }

/* a target's kind and where its value starts (after ":include:", '|', '\');
 * 0 for a target that is not valid */
int aliases_target_kind(const char *t, const char **value);
/* parse the text (len bytes) into t (replaced); file names the errors:
 * "FILE:LINE: reason" in err. 0, or -1 (EINVAL: a bad file, ENOMEM, E2BIG) */
int aliases_parse(const char *text, size_t len, const char *file, struct aliases_tab *t,
                  sa_t *err);
/* an :include: file's or ~/.forward's targets: separated by commas and line
 * ends, '#' comment lines, quoting as above; appended NUL-terminated to out,
 * their count in *n. 0, or -1 with "FILE:LINE: reason" in err */
int aliases_list_parse(const char *text, size_t len, const char *file, sa_t *out, size_t *n,
                       sa_t *err);
/* check compiled bytes and make t hold them; 0, or -1 (EINVAL) with the
 * reason in err */
int aliases_from_index(const char *b, size_t len, struct aliases_tab *t, sa_t *err);
/* name (lowercased already) in t: its first target (the others follow, each
 * after the previous one's NUL, until an empty string), or NULL */
const char *aliases_find(const struct aliases_tab *t, const char *name);
/* the next target after tgt, or NULL after the last */
const char *aliases_next(const char *tgt);
void aliases_free(struct aliases_tab *t);

/* The RFC 2142 defaults, as if the file held them: postmaster, abuse and
 * mailer-daemon, when not listed, are aliases of admin (admin_alias); root,
 * when not listed, and a chain of unlisted defaults that comes back to one,
 * is the postmaster mailbox. The kinds: */
enum aliases_res {
	ALIASES_NONE = 0,       /* not an alias: a user, perhaps */
	ALIASES_LISTED,         /* *targets: the listed targets */
	ALIASES_ADMIN,          /* *targets: admin, a name to expand */
	ALIASES_POSTMASTER,     /* the postmaster mailbox */
};
int aliases_resolve(const struct aliases_tab *t, const char *admin, const char *name,
                    const char **targets);

/* the table of the aliases file path (its compiled form path.idx when that
 * exists; a missing file is an empty table), for long-lived readers: kept in
 * memory while stat says neither file changed. A compiled form older than
 * the text is still used, with a log line (run pochtactl aliases). A file
 * writable by group or others is refused. NULL with the reason in err. */
const struct aliases_tab *aliases_load(const char *path, sa_t *err);
/* `pochtactl aliases`: parse path and write path.idx durably (mode 0644);
 * the number of names, or -1 with the reason in err */
long aliases_compile(const char *path, sa_t *err);

#endif
