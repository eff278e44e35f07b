#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dsn.h"
#include "test.h"

static const char envelope[] = "V1:1\nM0:\n";   /* bytes before the message in the file */
static const char orig[] =
	"Received: from x by y\n"
	"From: alice@a.test\n"
	"Subject: hello\n"
	"\n"
	"The body line one.\n"
	"--=_not_our_boundary\n"
	"last line\n";

/* a temporary file holding envelope + message; its fd */
static int orig_file(const char *msg)
{
	char path[] = "/tmp/test_dsn.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, envelope, sizeof envelope - 1) != (ssize_t)(sizeof envelope - 1) ||
	    write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		close(fd);
		return -1;
	}
	return fd;
}

static const struct dsn_info info = {
	.reporting_mta = "mx.a.test", .sender = "alice@a.test", .qid = "0QID123",
	.arrival = 1700000000, .now = 1700003600, .delayed = 0,
};

static const struct dsn_rcpt rcpts[2] = {
	{ .addr = "bob@b.test", .status = "5.1.1", .diag = "smtp; 550 5.1.1 <bob@b.test>: user unknown",
	  .remote_mta = "mx.b.test", .last_attempt = 1700003500 },
	{ .addr = "carol@b.test", .orig = "Carol@B.test", .status = "5.4.4",
	  .diag = "no MX and no address records for b.test" },
};

/* the boundary from the Content-Type header */
static int boundary_of(const char *m, char *b, size_t cap)
{
	const char *p = strstr(m, "boundary=\""), *e;

	if (!p)
		return -1;
	p += 10;
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= cap)
		return -1;
	memcpy(b, p, (size_t)(e - p));
	b[e - p] = '\0';
	return 0;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	const char *p = hay;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

/* the header section of the notification (up to the first empty line) */
static int header_has(const char *m, const char *field)
{
	const char *end = strstr(m, "\n\n");
	const char *p = strstr(m, field);

	return p && end && p < end && (p == m || p[-1] == '\n');
}

static void test_failure_whole(void)
{
	sa_t out = SA_INIT;
	char b[100], delim[120];
	int fd = orig_file(orig);

	T_ASSERT(fd >= 0);
	T_INTEQ(dsn_build(&out, &info, rcpts, 2, fd, sizeof envelope - 1, strlen(orig), 50000), 0);
	T_ASSERT(out.s != NULL);
	if (!out.s)
		return;
	T_ASSERT(header_has(out.s, "From: MAILER-DAEMON@mx.a.test"));
	T_ASSERT(header_has(out.s, "To: <alice@a.test>\n"));
	T_ASSERT(header_has(out.s, "Subject: Undelivered Mail Returned to Sender\n"));
	T_ASSERT(header_has(out.s, "Date: Tue, 14 Nov 2023 23:13:20 +0000\n"));
	T_ASSERT(header_has(out.s, "Message-ID: <"));
	T_ASSERT(header_has(out.s, "Auto-Submitted: auto-replied\n"));
	T_ASSERT(header_has(out.s, "MIME-Version: 1.0\n"));
	T_ASSERT(header_has(out.s, "Content-Type: multipart/report; report-type=delivery-status;"));
	T_ASSERT(header_has(out.s, "Content-Transfer-Encoding: 7bit\n"));
	T_ASSERT(strchr(out.s, '\r') == NULL);

	T_INTEQ(boundary_of(out.s, b, sizeof b), 0);
	snprintf(delim, sizeof delim, "\n--%s\n", b);
	T_INTEQ(count(out.s, delim), 3);
	snprintf(delim, sizeof delim, "\n--%s--\n", b);
	T_INTEQ(count(out.s, delim), 1);
	T_ASSERT(strlen(out.s) >= strlen(delim) && strcmp(out.s + out.len - strlen(delim), delim) == 0);
	/* the boundary appears nowhere else: header + 3 + closing */
	T_INTEQ(count(out.s, b), 5);

	T_ASSERT(strstr(out.s, "Content-Type: text/plain; charset=us-ascii\n"));
	T_ASSERT(strstr(out.s, "This is the mail system at host mx.a.test.\n"));
	T_ASSERT(strstr(out.s, "<bob@b.test>: smtp; 550 5.1.1 <bob@b.test>: user unknown\n"));
	T_ASSERT(strstr(out.s, "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.a.test\n"
	                       "X-Pochta-Queue-ID: 0QID123\n"
	                       "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\n\n"
	                       "Final-Recipient: rfc822; bob@b.test\n"
	                       "Action: failed\n"
	                       "Status: 5.1.1\n"
	                       "Remote-MTA: dns; mx.b.test\n"
	                       "Diagnostic-Code: smtp; 550 5.1.1 <bob@b.test>: user unknown\n"
	                       "Last-Attempt-Date: Tue, 14 Nov 2023 23:11:40 +0000\n\n"
	                       "Final-Recipient: rfc822; carol@b.test\n"
	                       "Original-Recipient: rfc822; Carol@B.test\n"
	                       "Action: failed\n"
	                       "Status: 5.4.4\n"
	                       "Diagnostic-Code: X-Pochta; no MX and no address records for b.test\n"));
	/* the whole original, as message/rfc822 */
	T_ASSERT(strstr(out.s, "Content-Type: message/rfc822\n\n"));
	T_ASSERT(strstr(out.s, orig) != NULL);
	T_ASSERT(strstr(out.s, "text/rfc822-headers") == NULL);
	T_ASSERT(strstr(out.s, "V1:1") == NULL);   /* the envelope before orig_off is not included */
	close(fd);
	sa_free(&out);
}

static void test_headers_only(void)
{
	sa_t out = SA_INIT;
	char b[100];
	int fd = orig_file(orig);

	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(orig), 20), 0);
	if (!out.s)
		return;
	T_ASSERT(strstr(out.s, "Content-Type: text/rfc822-headers\n\n"
	                       "Received: from x by y\nFrom: alice@a.test\nSubject: hello\n\n--") != NULL);
	T_ASSERT(strstr(out.s, "The body line one.") == NULL);
	T_ASSERT(strstr(out.s, "message/rfc822") == NULL);
	T_INTEQ(boundary_of(out.s, b, sizeof b), 0);
	T_INTEQ(count(out.s, b), 5);
	/* limit 0: always headers only */
	sa_trunc(&out, 0);
	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(orig), 0), 0);
	T_ASSERT(strstr(out.s, "text/rfc822-headers") != NULL);
	close(fd);
	sa_free(&out);
}

/* the header section of an original with CRLF line ends (a local submission)
 * ends at its empty line too: the body is not returned */
static void test_headers_only_crlf(void)
{
	static const char crlf[] = "From: alice@a.test\r\nSubject: hi\r\n\r\nsecret body\r\n";
	sa_t out = SA_INIT;
	int fd = orig_file(crlf);

	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(crlf), 0), 0);
	if (!out.s)
		return;
	T_ASSERT(strstr(out.s, "Content-Type: text/rfc822-headers\n\n"
	                       "From: alice@a.test\r\nSubject: hi\r\n\n--") != NULL);
	T_ASSERT(strstr(out.s, "secret body") == NULL);
	close(fd);
	sa_free(&out);
}

static void test_no_original(void)
{
	sa_t out = SA_INIT;
	char b[100];

	T_INTEQ(dsn_build(&out, &info, rcpts, 1, -1, 0, 0, 50000), 0);
	T_INTEQ(boundary_of(out.s, b, sizeof b), 0);
	T_INTEQ(count(out.s, b), 4);
	T_ASSERT(strstr(out.s, "rfc822-headers") == NULL && strstr(out.s, "message/rfc822") == NULL);
	sa_free(&out);
}

static void test_delayed(void)
{
	sa_t out = SA_INIT;
	struct dsn_info d = info;
	struct dsn_rcpt r = { .addr = "bob@b.test", .status = "4.4.1",
	                      .diag = "connect to mx.b.test[192.0.2.1]:25: Connection refused",
	                      .will_retry_until = 1700432000 };

	d.delayed = 1;
	T_INTEQ(dsn_build(&out, &d, &r, 1, -1, 0, 0, 50000), 0);
	T_ASSERT(header_has(out.s, "Subject: Delayed Mail (still being retried)\n"));
	T_ASSERT(strstr(out.s, "Action: delayed\nStatus: 4.4.1\n") != NULL);
	T_ASSERT(strstr(out.s, "Will-Retry-Until: ") != NULL);
	T_ASSERT(strstr(out.s, "Action: failed") == NULL);
	T_ASSERT(strstr(out.s, "you do not need to send your message again") != NULL);
	sa_free(&out);
}

static void test_long_diag_folded(void)
{
	sa_t out = SA_INIT, diag = SA_INIT;
	struct dsn_rcpt r = { .addr = "bob@b.test", .status = "5.0.0" };
	const char *p;
	size_t i;

	sa_cats(&diag, "smtp; 550");
	for (i = 0; i < 60; i++)
		sa_cats(&diag, " word");
	sa_cats(&diag, " ");
	for (i = 0; i < 1500; i++)
		sa_catc(&diag, 'x');   /* one word longer than a line may be */
	sa_cats(&diag, " \x01\xff end");
	r.diag = diag.s;
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), 0);
	for (p = out.s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		T_ASSERT(len <= 998);
		p += len + (nl ? 1 : 0);
	}
	T_ASSERT(strstr(out.s, "Diagnostic-Code: smtp; 550 word") != NULL);
	T_ASSERT(strstr(out.s, "\n word") != NULL);       /* folded at a space */
	T_ASSERT(strstr(out.s, " ?? end") != NULL);       /* control and 8-bit bytes replaced */
	T_INTEQ(dsn_8bit(out.s, out.len), 0);
	sa_free(&out);
	sa_free(&diag);
}

static void test_8bit_original(void)
{
	sa_t out = SA_INIT;
	const char *m = "Subject: caf\xc3\xa9\n\nbody\n";
	int fd = orig_file(m);

	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(m), 50000), 0);
	T_ASSERT(header_has(out.s, "Content-Transfer-Encoding: 8bit\n"));
	T_ASSERT(strstr(out.s, "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n") != NULL);
	T_INTEQ(dsn_8bit(out.s, out.len), 1);
	close(fd);
	sa_free(&out);
}

static void test_original_without_final_lf(void)
{
	sa_t out = SA_INIT;
	const char *m = "Subject: x\n\nno final newline";
	char b[100], want[200];
	int fd = orig_file(m);

	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(m), 50000), 0);
	T_INTEQ(boundary_of(out.s, b, sizeof b), 0);
	snprintf(want, sizeof want, "no final newline\n\n--%s--\n", b);
	T_ASSERT(strstr(out.s, want) != NULL);
	close(fd);
	sa_free(&out);
}

static void test_errors(void)
{
	sa_t out = SA_INIT;
	struct dsn_info d = info;
	struct dsn_rcpt r = rcpts[0];
	int fd;

	d.sender = "";
	errno = 0;
	T_INTEQ(dsn_build(&out, &d, rcpts, 1, -1, 0, 0, 50000), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(dsn_build(&out, &info, rcpts, 0, -1, 0, 0, 50000), -1);
	r.status = "5.1";
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), -1);
	r.status = "x.1.1";
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), -1);
	/* the one status syntax of dsn_status_len: no empty part, at most 3 digits */
	r.status = "5..1";
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), -1);
	r.status = "5.1234.1";
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), -1);
	r.status = "3.1.1";
	T_INTEQ(dsn_build(&out, &info, &r, 1, -1, 0, 0, 50000), -1);
	/* the original is shorter than claimed: an error, and nothing appended */
	fd = orig_file(orig);
	sa_cats(&out, "keep");
	T_INTEQ(dsn_build(&out, &info, rcpts, 1, fd, sizeof envelope - 1, strlen(orig) + 100, 50000), -1);
	T_STREQ(out.s, "keep");
	close(fd);
	sa_free(&out);
}

static void test_status_len(void)
{
	T_INTEQ(dsn_status_len("2.0.0", 5), 5);
	T_INTEQ(dsn_status_len("5.1.10 text", 11), 6);
	T_INTEQ(dsn_status_len("4.123.456", 9), 9);
	T_INTEQ(dsn_status_len("4.1234.5", 8), 0);   /* subject over 3 digits */
	T_INTEQ(dsn_status_len("45.1.1", 6), 0);     /* class is one digit */
	T_INTEQ(dsn_status_len("5.1.", 4), 0);
	T_INTEQ(dsn_status_len("5.1", 3), 0);
	T_INTEQ(dsn_status_len("5..1", 4), 0);
	T_INTEQ(dsn_status_len("x.1.1", 5), 0);
	T_INTEQ(dsn_status_len("5.1.1", 3), 0);      /* bounded by len */
	T_INTEQ(dsn_status_len("", 0), 0);
}

/* RFC 3461: a success report, ENVID and ORCPT echoed */
static void test_success_envid_orcpt(void)
{
	sa_t out = SA_INIT;
	struct dsn_info d = info;
	struct dsn_rcpt r[2] = {
		{ .addr = "bob@b.test", .status = "2.0.0", .action = "delivered",
		  .orcpt = "rfc822;Bob+x@b.test", .orig = "other@b.test" },
		{ .addr = "carol@c.test", .status = "2.0.0", .action = "relayed" },
	};

	d.success = 1;
	d.envid = "env id\r\n1";
	T_INTEQ(dsn_build(&out, &d, r, 2, -1, 0, 0, 50000), 0);
	T_ASSERT(header_has(out.s, "Subject: Successful Mail Delivery Report\n"));
	T_ASSERT(strstr(out.s, "Original-Envelope-Id: env id??1\nReporting-MTA: dns; mx.a.test\n") != NULL);
	T_ASSERT(strstr(out.s, "Original-Recipient: rfc822; Bob+x@b.test\nAction: delivered\nStatus: 2.0.0\n") != NULL);
	T_ASSERT(strstr(out.s, "other@b.test") == NULL); /* ORCPT wins */
	T_ASSERT(strstr(out.s, "Final-Recipient: rfc822; carol@c.test\nAction: relayed\n") != NULL);
	T_ASSERT(strstr(out.s, "successfully delivered") != NULL);
	T_ASSERT(strstr(out.s, "Action: failed") == NULL);
	T_ASSERT(strstr(out.s, ".success@mx.a.test>") != NULL);
	sa_free(&out);
	/* without ENVID: no Original-Envelope-Id */
	T_INTEQ(dsn_build(&out, &info, rcpts, 1, -1, 0, 0, 50000), 0);
	T_ASSERT(strstr(out.s, "Original-Envelope-Id") == NULL);
	sa_free(&out);
}

int main(void)
{
	T_RUN(test_failure_whole);
	T_RUN(test_headers_only);
	T_RUN(test_headers_only_crlf);
	T_RUN(test_no_original);
	T_RUN(test_delayed);
	T_RUN(test_success_envid_orcpt);
	T_RUN(test_long_diag_folded);
	T_RUN(test_8bit_original);
	T_RUN(test_original_without_final_lf);
	T_RUN(test_errors);
	T_RUN(test_status_len);
	return t_done();
}
