/* pochta-local internals (man/pochta-local.8). */
#ifndef POCHTA_LOCAL_H
#define POCHTA_LOCAL_H
#include <stddef.h>
#include "hdr.h"
#include "sa.h"

#define LOCAL_FIELD_MAX 2048   /* longest header field examined for loops */

/* the header-section scan for Delivered-To: loops, fed the message in pieces */
struct hdrscan {
	struct hdr h;
	const char *rcpt;
	size_t rcptlen;
	int loop;                  /* found Delivered-To: <rcpt> */
	char field[LOCAL_FIELD_MAX];
};

void hdrscan_init(struct hdrscan *h, const char *rcpt);
void hdrscan_feed(struct hdrscan *h, const char *p, size_t n);
/* end of the message: the last field is checked */
void hdrscan_end(struct hdrscan *h);

/* the result of one delivery: the text and the exit code */
struct local_result {
	char class;                /* 'D', 'T', 'P' (dresult.h) */
	const char *status;        /* e.g. "2.0.0" */
	sa_t text;
};

/* write stdin into the Maildir dir as a new message, with Return-Path: and
 * Delivered-To: added; loops are refused. Sets r; 0 delivered, -1 not. */
int local_maildir(const char *dir, const char *host, const char *sender, const char *rcpt,
                  struct local_result *r);

#endif
