/* tlsc: the T message of pochta-tls, and starting a program the pochta-tls way */
#include <string.h>
#include <unistd.h>
#include "tlsc.h"
#include "test.h"

#define P(s, i) tlsc_parse(s, sizeof s - 1, i)

static void test_parse(void)
{
	struct tlsc_info i;
	sa_t d = SA_INIT;

	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=TLS_AES_256_GCM_SHA384\tbits=256\tverify=unverified"
	          "\tverify_error=self-signed certificate\tsubject=/CN=a b\tissuer=/CN=ca\tfuture=x", &i), 0);
	T_STREQ(i.version, "TLSv1.3");
	T_STREQ(i.cipher, "TLS_AES_256_GCM_SHA384");
	T_INTEQ(i.bits, 256);
	T_STREQ(i.verify, "unverified");
	T_STREQ(i.verify_error, "self-signed certificate");
	T_STREQ(i.subject, "/CN=a b");
	T_STREQ(i.issuer, "/CN=ca");
	T_INTEQ(tlsc_describe(&i, &d), 0);
	T_STREQ(d.s, "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
	sa_free(&d);
	/* the least: version and cipher; no verify said is "none" */
	T_INTEQ(P("T\tversion=TLSv1.2\tcipher=X", &i), 0);
	T_STREQ(i.verify, "none");
	T_STREQ(i.subject, "");
	T_INTEQ(i.bits, 0);
}

static void test_parse_bad(void)
{
	struct tlsc_info i;
	char big[400];

	T_INTEQ(P("", &i), -1);
	T_INTEQ(P("R", &i), -1);
	T_INTEQ(P("T", &i), -1);                                  /* no version, no cipher */
	T_INTEQ(P("T\tversion=TLSv1.3", &i), -1);
	T_INTEQ(P("T version=TLSv1.3\tcipher=X", &i), -1);        /* fields are tab-separated */
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tnoequals", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\t=v", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tbits=65536", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tbits=", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tbits=2a", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tsubject=a\nb", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tsubject=\xc3\xa9", &i), -1);
	T_INTEQ(P("T\tversion=TLSv1.3\tcipher=X\tverify=verifiedverifiedx", &i), -1); /* too long */
	memcpy(big, "T\tversion=v\tcipher=c\tsubject=", 29);
	memset(big + 29, 'a', sizeof big - 29);
	T_INTEQ(tlsc_parse(big, sizeof big, &i), -1);
	T_INTEQ(tlsc_parse(big, 29 + TLSC_FIELD_MAX - 1, &i), 0); /* the longest value fits */
	T_INTEQ(strlen(i.subject), TLSC_FIELD_MAX - 1);
}

/* a stand-in for pochta-tls (sh) sees the descriptors tlsc.h promises, and
 * its messages come back as they should */
static void test_start(void)
{
	struct tlsc t;
	int net[2];
	char *ok[] = { "sh", "-c", "printf R >&3; dd bs=16 count=1 <&3 >/dev/null 2>&1; "
	               "printf 'T\\tversion=TLSv1.2\\tcipher=C' >&3; cat <&5 >&4", NULL };
	char *bad[] = { "sh", "-c", "printf 'E no key\\n' >&3", NULL };
	char *mute[] = { "sh", "-c", "exec sleep 5", NULL };
	char buf[16];

	T_INTEQ(pipe(net), 0);
	T_INTEQ(tlsc_start(&t, net[0], "/bin/sh", bad, 5000), -1);
	T_STREQ(t.err, "no key?");
	T_INTEQ(t.pid, 0);
	T_INTEQ(tlsc_start(&t, net[0], "/bin/sh", mute, 100), -1);
	T_STREQ(t.err, "pochta-tls did not answer in time");
	T_INTEQ(t.pid, 0);
	T_INTEQ(tlsc_start(&t, net[0], "/bin/sh", ok, 5000), 0);
	T_INTEQ(tlsc_handshake(&t, 5000), 0);
	T_STREQ(t.info.version, "TLSv1.2");
	T_INTEQ(write(t.wr, "hello", 5), 5);
	T_INTEQ(read(t.rd, buf, sizeof buf), 5);
	T_ASSERT(memcmp(buf, "hello", 5) == 0);
	tlsc_end(&t, 2000);
	T_INTEQ(t.pid, 0);
	T_INTEQ(t.rd, -1);
	close(net[0]);
	close(net[1]);
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_parse_bad);
	T_RUN(test_start);
	return t_done();
}
