/* maildir: names and layout shared by the delivery agent and the POP3 server
 * (cr.yp.to/proto/maildir.html; qmail's maildir(5)). */
#ifndef POCHTA_MAILDIR_H
#define POCHTA_MAILDIR_H
#include <stddef.h>
#include "sa.h"

/* mkdir path, path/tmp, path/new, path/cur (existing ones are fine); 0 or -1 */
int maildir_make(const char *path, int mode);
/* a new unique name "SEC.MUSECPPIDQSEQ.HOST" ('/' and ':' in HOST escaped as
 * \057 and \072); appended to out; 0 or -1 */
int maildir_uniq(sa_t *out, const char *host);
/* the unique part of a file name in new/ or cur/: everything before ":2,"
 * (or ':' at all). 1 and *len set when name is a usable message name
 * (not starting with '.'), 0 otherwise. */
int maildir_name_uniq(const char *name, size_t *len);

/* the longest Maildir++ folder name maildir_folder_name gives */
#define MAILDIR_FOLDER_MAX 64
/* an address extension as a Maildir++ folder name: ext lowercased into out
 * (MAILDIR_FOLDER_MAX + 1 bytes), without the leading '.'. 1 when it is one
 * safe to use: 1..MAILDIR_FOLDER_MAX of a-z 0-9 . _ -, not starting or
 * ending with '.' and without "..". 0 otherwise (out ""): the inbox then. */
int maildir_folder_name(const char *ext, char out[MAILDIR_FOLDER_MAX + 1]);
/* the folder ".NAME" of the Maildir open as md (NAME from
 * maildir_folder_name), made with its tmp, new, cur and the maildirfolder
 * marker when missing (mode 0700, 0600); no symbolic link followed. Its fd,
 * or -1 (errno). */
int maildir_folder_open(int md, const char *name);

#endif
