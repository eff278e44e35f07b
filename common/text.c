/* text: safe-to-show characters (text.h). */
#include "text.h"

size_t text_safe_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0x20 && s[0] < 0x7f)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (s[0] == 0xc2)
		lo = 0xa0;      /* C2 80..9F: the C1 controls */
	else if (s[0] == 0xe0)
		lo = 0xa0;      /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;      /* UTF-16 surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;      /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;      /* beyond U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t text_unsafe_len(const unsigned char *s, size_t n)
{
	return n >= 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f ? 2 : 1;
}
