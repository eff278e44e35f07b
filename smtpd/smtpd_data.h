/* smtpd_data: the DATA state machine of pochta-smtpd (RFC 5321 §4.1.1.4, §4.5.2).
 * Byte by byte, no line buffer: the data ends only at CRLF "." CRLF; a leading
 * '.' of a line is removed (dot-unstuffing); CRLF becomes LF; a bare CR or bare
 * LF never ends and never splits the data (the SMTP smuggling class), it only
 * marks the message as bad. Also marks NUL bytes (RFC 5322 §2.3, RFC 6152)
 * and lines over 998 octets (RFC 5321 §4.5.3.1.6), and counts the "Received:"
 * lines of the header section for loop detection. Pure: no I/O, no allocation. */
#ifndef POCHTA_SMTPD_DATA_H
#define POCHTA_SMTPD_DATA_H
#include <stddef.h>
#include "hdr.h"

#define DATA_RECEIVED_MAX 100 /* more Received: headers than this: a mail loop */
#define DATA_LINE_MAX 998     /* octets of a text line, without CRLF and stuffing dot */

struct data_sm {
	int state;
	int done;                 /* CRLF.CRLF seen; nothing more is consumed */
	int bare;                 /* a bare CR or bare LF was in the data */
	int nul;                  /* a NUL byte was in the data */
	int longline;             /* a line had more than DATA_LINE_MAX octets */
	unsigned long linelen;    /* octets of the current output line so far */
	int in_header;            /* still in the header section (before the empty line) */
	int out_bol;              /* the next output byte starts a line */
	struct hdr hdr;           /* the header-section scan (hdr.h) */
	char hdr_name[64];        /* the start of each field: room for "Received :" */
	unsigned long received;   /* Received: header lines seen */
	int has_date, has_msgid;  /* the header section has a Date: / Message-ID: field */
	int pause_at_hdr_end;     /* the caller's: stop right after the empty line that
	                           * ends the header section (to add fields before it) */
	int paused;               /* stopped there: the last byte out was that line's LF;
	                           * the caller clears pause_at_hdr_end and paused */
	unsigned long long size;  /* message size: CRLF counts 2, stuffing dots and the
	                           * terminating ".CRLF" do not (saturates) */
};

void data_init(struct data_sm *d);
/* Consume bytes of in (inlen) until the end of the data, the end of in, or out
 * is full (outcap must be at least 2). The message bytes (LF line ends,
 * unstuffed) go to out, their count to *outlen; it also stops once paused
 * (pause_at_hdr_end). Returns the bytes consumed;
 * anything after the terminator is left unconsumed (it is the next command). */
size_t data_feed(struct data_sm *d, const char *in, size_t inlen,
                 char *out, size_t outcap, size_t *outlen);

#endif
