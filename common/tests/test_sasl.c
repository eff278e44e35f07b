#include <errno.h>
#include <string.h>
#include "sasl.h"
#include "test.h"

#define ARG(s, r) sasl_auth_parse(s, sizeof s - 1, r)

static void test_auth_arg(void)
{
	struct sasl_auth a;

	T_INTEQ(ARG("PLAIN", &a), 0);
	T_INTEQ(a.mech, SASL_PLAIN);
	T_ASSERT(a.initial == NULL);
	T_INTEQ(ARG("login", &a), 0);
	T_INTEQ(a.mech, SASL_LOGIN);
	T_INTEQ(ARG("Plain AGJvYgBzZWNyZXQ=", &a), 0);
	T_INTEQ(a.mech, SASL_PLAIN);
	T_INTEQ(a.initiallen, 16);
	T_ASSERT(memcmp(a.initial, "AGJvYgBzZWNyZXQ=", 16) == 0);
	T_INTEQ(ARG("PLAIN =", &a), 0);
	T_INTEQ(a.initiallen, 1);
	T_INTEQ(ARG("CRAM-MD5", &a), 0);
	T_INTEQ(a.mech, SASL_OTHER);
	T_INTEQ(ARG("SCRAM-SHA-256-PLUS", &a), 0);
	T_INTEQ(a.mech, SASL_OTHER);
	/* a near name is another mechanism */
	T_INTEQ(ARG("PLAINX", &a), 0);
	T_INTEQ(a.mech, SASL_OTHER);
}

static void test_auth_arg_bad(void)
{
	struct sasl_auth a;
	char big[SASL_LINE_MAX + 8];

	T_INTEQ(ARG("", &a), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(ARG(" PLAIN", &a), -1);
	T_INTEQ(ARG("PLAIN ", &a), -1);          /* an empty initial response */
	T_INTEQ(ARG("PLAIN  AAAA", &a), -1);     /* two spaces */
	T_INTEQ(ARG("PLAIN AAAA BBBB", &a), -1);
	T_INTEQ(ARG("PL:AIN", &a), -1);
	T_INTEQ(ARG("ABCDEFGHIJKLMNOPQRSTU", &a), -1); /* 21 characters */
	T_INTEQ(ARG("ABCDEFGHIJKLMNOPQRST", &a), 0);
	memcpy(big, "PLAIN ", 6);
	memset(big + 6, 'A', sizeof big - 6);
	T_INTEQ(sasl_auth_parse(big, sizeof big, &a), -1);
	T_ASSERT(a.initial == NULL);
	T_INTEQ(sasl_auth_parse(big, 6 + SASL_LINE_MAX, &a), 0);
}

static void test_response(void)
{
	sa_t out = SA_INIT;
	char big[SASL_LINE_MAX + 4];

	T_INTEQ(sasl_response("*", 1, &out), SASL_CANCEL);
	T_INTEQ(sasl_response("=", 1, &out), SASL_OK);
	T_INTEQ(out.len, 0);
	T_INTEQ(sasl_response("Ym9i", 4, &out), SASL_OK);
	T_INTEQ(out.len, 3);
	T_ASSERT(memcmp(out.s, "bob", 3) == 0);
	sa_trunc(&out, 0);
	T_INTEQ(sasl_response("AGJvYgBzZWNyZXQ=", 16, &out), SASL_OK);
	T_INTEQ(out.len, 11);
	T_ASSERT(memcmp(out.s, "\0bob\0secret", 11) == 0);
	sa_trunc(&out, 0);
	T_INTEQ(sasl_response("", 0, &out), SASL_BAD);
	T_INTEQ(sasl_response("Ym9", 3, &out), SASL_BAD);    /* not a multiple of 4 */
	T_INTEQ(sasl_response("Ym9 ", 4, &out), SASL_BAD);
	T_INTEQ(sasl_response("Ym9j=", 5, &out), SASL_BAD);
	T_INTEQ(sasl_response("**", 2, &out), SASL_BAD);
	T_INTEQ(sasl_response("Yh==", 4, &out), SASL_BAD);   /* unused bits set */
	T_INTEQ(out.len, 0);
	memset(big, 'A', sizeof big);
	T_INTEQ(sasl_response(big, SASL_LINE_MAX + 4, &out), SASL_BAD);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(sasl_response(big, SASL_LINE_MAX, &out), SASL_OK);
	T_INTEQ(out.len, SASL_LINE_MAX / 4 * 3);
	sa_free(&out);
}

int main(void)
{
	T_RUN(test_auth_arg);
	T_RUN(test_auth_arg_bad);
	T_RUN(test_response);
	return t_done();
}
