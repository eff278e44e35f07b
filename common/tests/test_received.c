/* received: the trace header of SMTP and local submissions, and the date */
#include <stdlib.h>
#include <string.h>
#include "received.h"
#include "test.h"

static void test_smtp(void)
{
	sa_t h = SA_INIT;
	struct received r = { .helo = "client.example", .ip = "192.0.2.1", .uid = -1,
	                      .host = "mx.example.test", .proto = "ESMTP",
	                      .qid = "ABCDEFGHIJKLMNOPQRSTUV01", .rcpt = "alice@example.test" };

	setenv("TZ", "UTC", 1);
	tzset();
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_STREQ(h.s, "Received: from client.example ([192.0.2.1])\n"
	             "\tby mx.example.test (pochta) with ESMTP id ABCDEFGHIJKLMNOPQRSTUV01\n"
	             "\tfor <alice@example.test>; Thu, 1 Jan 1970 00:00:00 +0000\n");
	sa_trunc(&h, 0);
	r = (struct received){ .helo = "c", .ip = "::1", .uid = -1, .host = "h", .proto = "SMTP",
	                       .qid = "Q" };
	T_INTEQ(received_make(&h, &r, 86400 * 365), 0);
	T_STREQ(h.s, "Received: from c ([IPv6:::1])\n\tby h (pochta) with SMTP id Q; "
	             "Fri, 1 Jan 1971 00:00:00 +0000\n");
	sa_trunc(&h, 0);
	/* nothing from the client can break the header */
	r = (struct received){ .helo = "a(b)\r\nX: y", .uid = -1, .host = "h", .proto = "SMTP",
	                       .qid = "Q" };
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_ASSERT(strncmp(h.s, "Received: from a?b???X:?y (unknown)\n",
	                 strlen("Received: from a?b???X:?y (unknown)\n")) == 0);
	T_ASSERT(strchr(h.s, ';') != NULL);
	sa_free(&h);
}

/* under TLS: the version and cipher, in a comment of their own */
static void test_tls(void)
{
	sa_t h = SA_INIT;
	struct received r = { .helo = "c", .ip = "192.0.2.1", .uid = -1, .host = "h", .proto = "ESMTPS",
	                      .qid = "Q", .tls_version = "TLSv1.3", .tls_cipher = "TLS_AES_256_GCM_SHA384",
	                      .tls_bits = 256 };

	setenv("TZ", "UTC", 1);
	tzset();
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_STREQ(h.s, "Received: from c ([192.0.2.1])\n"
	             "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n"
	             "\tby h (pochta) with ESMTPS id Q; Thu, 1 Jan 1970 00:00:00 +0000\n");
	sa_trunc(&h, 0);
	/* what pochta-tls reports cannot break the header either */
	r.tls_version = "TLS)\n(x";
	r.tls_cipher = NULL;
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_ASSERT(strstr(h.s, "(using TLS???x with cipher unknown (256/256 bits))\n") != NULL);
	sa_free(&h);
}

static void test_local(void)
{
	sa_t h = SA_INIT;
	struct received r = { .uid = 1000, .host = "h.example", .qid = "Q1" };

	setenv("TZ", "UTC", 1);
	tzset();
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_STREQ(h.s, "Received: from userid 1000\n\tby h.example (pochta) id Q1; "
	             "Thu, 1 Jan 1970 00:00:00 +0000\n");
	sa_trunc(&h, 0);
	/* over SMTP (sendmail -bs): the HELO name, and the uid instead of an IP */
	r = (struct received){ .helo = "me", .ip = "10.0.0.1", .uid = 0, .smtp = 1,
	                       .host = "h", .proto = "ESMTP", .qid = "Q2", .rcpt = "a@b" };
	T_INTEQ(received_make(&h, &r, 0), 0);
	T_STREQ(h.s, "Received: from me (userid 0)\n\tby h (pochta) with ESMTP id Q2\n"
	             "\tfor <a@b>; Thu, 1 Jan 1970 00:00:00 +0000\n");
	sa_free(&h);
}

static void test_date(void)
{
	sa_t h = SA_INIT;

	setenv("TZ", "EST5", 1);
	tzset();
	T_INTEQ(received_date(&h, 0), 0);
	T_STREQ(h.s, "Wed, 31 Dec 1969 19:00:00 -0500");
	sa_free(&h);
}

static void test_fixups(void)
{
	sa_t o = SA_INIT;
	time_t t = 1700000000;

	T_INTEQ(received_fixups(&o, 0, 0, "Q1", "h.test", t), 0);
	T_INTEQ(o.len, 0);
	T_INTEQ(received_fixups(&o, 0, 1, "Q1", "h.test", t), 0);
	T_STREQ(o.s, "Message-ID: <20231114221320.Q1@h.test>\n");
	sa_trunc(&o, 0);
	T_INTEQ(received_fixups(&o, 1, 0, "Q1", "h.test", t), 0);
	T_ASSERT(strncmp(o.s, "Date: ", 6) == 0 && o.s[o.len - 1] == '\n');
	sa_free(&o);
}

int main(void)
{
	T_RUN(test_fixups);
	T_RUN(test_smtp);
	T_RUN(test_tls);
	T_RUN(test_local);
	T_RUN(test_date);
	return t_done();
}
