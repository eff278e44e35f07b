/* text: what of a byte string from the network is safe to show a person.
 * Printable ASCII and well-formed UTF-8 (RFC 3629) are; C0 controls, DEL, C1
 * controls (U+0080..U+009F, as one byte or UTF-8-encoded: a terminal obeys
 * both) and bytes that are not UTF-8 are not. One rule for the log writer and
 * for delivery results, which reach bounces, `queue list` and its JSON. */
#ifndef POCHTA_TEXT_H
#define POCHTA_TEXT_H
#include <stddef.h>

/* the length of the safe character at s[0..n) (n >= 1): 1 for printable
 * ASCII, 2 to 4 for a well-formed UTF-8 sequence that is not a C1 control;
 * 0 when it is not safe */
size_t text_safe_len(const unsigned char *s, size_t n);
/* the bytes one unsafe character at s[0..n) (n >= 1) takes: 2 for a
 * UTF-8-encoded C1 control, else 1 */
size_t text_unsafe_len(const unsigned char *s, size_t n);

#endif
