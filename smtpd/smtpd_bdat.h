/* smtpd_bdat: the BDAT state machine of pochta-smtpd (RFC 3030 CHUNKING,
 * BINARYMIME). A chunk is exactly the octets BDAT announced: nothing in it is
 * special, no dot-stuffing, no terminator, so a chunk can never end early or
 * late. Byte by byte across chunks (a CRLF may straddle two):
 *   - text (7BIT, 8BITMIME or no BODY=): CRLF becomes LF, the queue's form;
 *     marked as with DATA: a bare CR or bare LF, NUL, a line over 998 octets;
 *   - binary (BODY=BINARYMIME): every byte kept as it came (the queue holds
 *     such a message as received); nothing is marked but the size.
 * Both count the "Received:" lines of the header section (read with CRLF
 * taken as a line end). Pure: no I/O, no allocation. */
#ifndef POCHTA_SMTPD_BDAT_H
#define POCHTA_SMTPD_BDAT_H
#include <stddef.h>
#include "hdr.h"
#include "smtpd_data.h"

struct bdat_sm {
	int binary;               /* BODY=BINARYMIME: bytes kept as they are */
	int cr;                   /* text: a CR waits for its LF */
	int bare;                 /* text: a bare CR or bare LF */
	int nul;                  /* text: a NUL byte */
	int longline;             /* text: a line over DATA_LINE_MAX octets */
	unsigned long linelen;
	int in_header;
	struct hdr hdr;
	char hdr_name[64];
	unsigned long received;   /* Received: header lines seen */
	unsigned long long size;  /* octets of every chunk so far (saturates) */
	unsigned long long left;  /* octets of the current chunk still to come */
	int ended;                /* bdat_end() was called */
};

void bdat_init(struct bdat_sm *b, int binary);
/* a BDAT of n octets starts: bdat_feed takes exactly that many */
void bdat_chunk(struct bdat_sm *b, unsigned long long n);
/* Consume bytes of in (inlen), at most the chunk's left octets, until out has
 * less than 2 bytes of room (outcap must be at least 2). The message bytes go
 * to out, their count to *outlen; returns the bytes consumed. */
size_t bdat_feed(struct bdat_sm *b, const char *in, size_t inlen, char *out, size_t outcap,
                 size_t *outlen);
/* BDAT LAST was read: a CR still waiting is bare (text: written to out,
 * room for 1 byte); returns the bytes written */
size_t bdat_end(struct bdat_sm *b, char *out);

#endif
