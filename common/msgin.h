/* msgin: a message as a local program hands it to sendmail, made into the
 * queue's form (LF line ends), and its header section as local submission
 * sees it.
 *
 * Input (msgin_feed): lines end in LF or CRLF (the CR of a CRLF is dropped);
 * with dot_ends, a line that is "." alone ends the input, as in sendmail
 * (nothing after it is read; no other dot is touched: this is not SMTP's
 * dot-stuffing); a last line without LF gets one. Marked, for the caller to
 * refuse as pochta-smtpd does: NUL bytes, a CR that is not part of a CRLF, a
 * line over MSGIN_LINE_MAX octets. Pure: no I/O, no allocation.
 *
 * Header section (msgin_headers): from the start, each line that begins a
 * field (a name of printable ASCII but ':', blanks, then ':') or continues
 * one (starts with SP or HT after a field). It ends at an empty line, or,
 * unlike hdr.h (which reads every line as a field until the empty line), at
 * the first line that is neither: that line starts the body, which then had
 * no empty line before it (Postfix's rule: "echo hi | sendmail bob" is a
 * body without headers). */
#ifndef POCHTA_MSGIN_H
#define POCHTA_MSGIN_H
#include <stddef.h>

#define MSGIN_LINE_MAX 998 /* RFC 5322 §2.1.1, RFC 5321 §4.5.3.1.6: without the line end */

struct msgin {
	int dot_ends;             /* a "." line ends the input */
	int state;
	int done;                 /* the "." line was read: nothing more is consumed */
	int nul;                  /* a NUL byte was in the input */
	int bare_cr;              /* a CR not followed by LF */
	int longline;             /* a line over MSGIN_LINE_MAX octets */
	unsigned long linelen;
	unsigned long long size;  /* bytes of output so far (saturates) */
};

void msgin_init(struct msgin *m, int dot_ends);
/* consume in (n bytes) until its end, the "." line, or until out has less
 * than 3 bytes of room (outcap must be at least 3); the output goes to out,
 * its length to *outlen; returns the bytes consumed */
size_t msgin_feed(struct msgin *m, const char *in, size_t n, char *out, size_t outcap,
                  size_t *outlen);
/* the end of the input: what was held back, and the last LF (out: room for 3
 * bytes); returns the bytes written */
size_t msgin_end(struct msgin *m, char *out);

/* one header field: its bytes msg[off, off+len) (continuation lines and the
 * last LF included); return 0 to go on, -1 to stop the scan */
typedef int msgin_field_fn(const char *msg, size_t off, size_t len, void *arg);
/* the header section of msg (len bytes): each field to fn (may be NULL); *hend
 * is the end of the last field, *body the start of the body (after the empty
 * line when there is one). 1 when an empty line ends the section, 0 when the
 * body follows without one (or there is none), -1 when fn stopped the scan. */
int msgin_headers(const char *msg, size_t len, msgin_field_fn *fn, void *arg, size_t *hend,
                  size_t *body);

#endif
