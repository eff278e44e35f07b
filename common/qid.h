/* qid: queue IDs. Fixed length QID_LEN, characters [0-9A-V] only (filename-safe,
 * sortable by arrival): 7 chars of seconds, 4 of microseconds, 13 of the inode
 * number of the queue file. The inode makes an ID unique among live queue files
 * (the file holds the inode until it is removed); the time makes it unique across
 * restarts and crashes (Postfix's long queue IDs use the same idea). */
#ifndef POCHTA_QID_H
#define POCHTA_QID_H
#include <stddef.h>
#include <sys/time.h>

#define QID_LEN 24

/* out must hold QID_LEN + 1 bytes */
void qid_make(char *out, const struct timeval *tv, unsigned long long inode);
/* 1 when s is exactly a well-formed ID (NUL-terminated), 0 otherwise */
int qid_valid(const char *s);

#endif
