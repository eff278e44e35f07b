/* pochta-local's Delivered-To: loop scan, fed whole and byte by byte */
#include "../local_hdr.c"
#include "test.h"

static int scan(const char *rcpt, const char *msg, size_t chunk)
{
	struct hdrscan h;
	size_t n = strlen(msg);

	hdrscan_init(&h, rcpt);
	for (size_t i = 0; i < n; i += chunk)
		hdrscan_feed(&h, msg + i, n - i < chunk ? n - i : chunk);
	hdrscan_end(&h);
	return h.loop;
}

/* the same answer for every way of cutting the input */
static int scan_all(const char *rcpt, const char *msg)
{
	int r = scan(rcpt, msg, 1 << 20);

	for (size_t c = 1; c < 8; c++)
		T_INTEQ(scan(rcpt, msg, c), r);
	return r;
}

static void test_loop_found(void)
{
	T_INTEQ(scan_all("alice@example.test", "Delivered-To: alice@example.test\n\nbody\n"), 1);
	T_INTEQ(scan_all("alice@example.test", "Subject: x\ndelivered-to:ALICE@Example.TEST \n\nb\n"), 1);
	T_INTEQ(scan_all("alice@example.test", "Delivered-To: <alice@example.test>\n\nb\n"), 1);
	/* folded */
	T_INTEQ(scan_all("alice@example.test", "Delivered-To:\n alice@example.test\nX: y\n\nb\n"), 1);
	/* CRLF line ends */
	T_INTEQ(scan_all("alice@example.test", "Delivered-To: alice@example.test\r\n\r\nb\r\n"), 1);
	/* last header, no body */
	T_INTEQ(scan_all("alice@example.test", "X: y\nDelivered-To: alice@example.test"), 1);
}

static void test_no_loop(void)
{
	T_INTEQ(scan_all("alice@example.test", "Delivered-To: bob@example.test\n\nb\n"), 0);
	T_INTEQ(scan_all("alice@example.test", "Delivered-To: alice@example.test.org\n\nb\n"), 0);
	T_INTEQ(scan_all("alice@example.test", "X-Delivered-To: alice@example.test\n\nb\n"), 0);
	T_INTEQ(scan_all("alice@example.test", "Subject: Delivered-To: alice@example.test\n\nb\n"), 0);
	/* in the body: not a header */
	T_INTEQ(scan_all("alice@example.test", "Subject: x\n\nDelivered-To: alice@example.test\n"), 0);
	/* a continuation line is part of the previous field, not a new one */
	T_INTEQ(scan_all("alice@example.test", "Subject: x\n Delivered-To: alice@example.test\n\nb\n"), 0);
	T_INTEQ(scan_all("alice@example.test", ""), 0);
	/* the CRLF that ends the header section split between two reads: the
	 * body that follows is not a header (pieces used to cut CR from LF) */
	T_INTEQ(scan_all("alice@example.test", "X: y\r\n\r\nDelivered-To: alice@example.test\r\n"), 0);
	T_INTEQ(scan_all("alice@example.test", "\r\nDelivered-To: alice@example.test\r\n"), 0);
}

static void test_long_field(void)
{
	static char msg[LOCAL_FIELD_MAX * 3];
	size_t n;

	/* an over-long field is skipped, and the scan goes on after it */
	n = (size_t)snprintf(msg, sizeof msg, "X-Long: ");
	memset(msg + n, 'a', LOCAL_FIELD_MAX * 2);
	n += LOCAL_FIELD_MAX * 2;
	snprintf(msg + n, sizeof msg - n, "\nDelivered-To: alice@example.test\n\nb\n");
	T_INTEQ(scan("alice@example.test", msg, 1 << 20), 1);
	T_INTEQ(scan("alice@example.test", msg, 3), 1);
	n = (size_t)snprintf(msg, sizeof msg, "Delivered-To: alice@example.test");
	memset(msg + n, ' ', LOCAL_FIELD_MAX * 2);
	msg[n + LOCAL_FIELD_MAX * 2] = '\0';
	T_INTEQ(scan("alice@example.test", msg, 1 << 20), 0);
}

int main(void)
{
	T_RUN(test_loop_found);
	T_RUN(test_no_loop);
	T_RUN(test_long_field);
	return t_done();
}
