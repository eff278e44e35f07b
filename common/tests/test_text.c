#include <string.h>
#include "test.h"
#include "text.h"

static size_t safe(const char *s, size_t n)
{
	return text_safe_len((const unsigned char *)s, n);
}

static void test_safe(void)
{
	T_INTEQ(safe("a", 1), 1);
	T_INTEQ(safe("~", 1), 1);
	T_INTEQ(safe("\t", 1), 0);
	T_INTEQ(safe("\x7f", 1), 0);
	T_INTEQ(safe("\xc2\xa0", 2), 2);          /* U+00A0, the first after C1 */
	T_INTEQ(safe("\xc2\x9b", 2), 0);          /* U+009B CSI */
	T_INTEQ(safe("\xc2\x80", 2), 0);
	T_INTEQ(safe("\x9b", 1), 0);              /* the 8-bit CSI */
	T_INTEQ(safe("\xc3\xa9", 2), 2);
	T_INTEQ(safe("\xc3\xa9", 1), 0);          /* cut short */
	T_INTEQ(safe("\xe2\x82\xac", 3), 3);      /* euro sign */
	T_INTEQ(safe("\xe0\x80\xaf", 3), 0);      /* overlong */
	T_INTEQ(safe("\xed\xa0\x80", 3), 0);      /* surrogate */
	T_INTEQ(safe("\xf0\x9f\x98\x80", 4), 4);
	T_INTEQ(safe("\xf4\x90\x80\x80", 4), 0);  /* beyond U+10FFFF */
	T_INTEQ(safe("\xc0\xaf", 2), 0);
	T_INTEQ(safe("\xff", 1), 0);
}

static void test_unsafe(void)
{
	T_INTEQ(text_unsafe_len((const unsigned char *)"\xc2\x9b", 2), 2);
	T_INTEQ(text_unsafe_len((const unsigned char *)"\xc2\x9b", 1), 1);
	T_INTEQ(text_unsafe_len((const unsigned char *)"\x9b", 1), 1);
	T_INTEQ(text_unsafe_len((const unsigned char *)"\x01", 1), 1);
}

int main(void)
{
	T_RUN(test_safe);
	T_RUN(test_unsafe);
	return t_done();
}
