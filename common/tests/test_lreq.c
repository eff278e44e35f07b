#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lreq.h"
#include "test.h"

#define QID "0123456789ABCDEFGHIJKLMN"

static void test_build_parse(void)
{
	sa_t s = SA_INIT;
	struct lreq r;

	T_INTEQ(lreq_build(&s, QID, "a@b.test", "", "bob@c.test"), 0);
	T_STREQ(s.s, "q24:" QID "\nf8:a@b.test\na10:bob@c.test\n");
	T_INTEQ(lreq_parse(s.s, s.len, &r), 0);
	T_STREQ(r.qid, QID);
	T_STREQ(r.sender, "a@b.test");
	T_STREQ(r.rcpt, "bob@c.test");
	sa_trunc(&s, 0);
	/* no queue ID, the null sender */
	T_INTEQ(lreq_build(&s, "", "", "", "postmaster"), 0);
	T_INTEQ(lreq_parse(s.s, s.len, &r), 0);
	T_STREQ(r.qid, "");
	T_STREQ(r.sender, "");
	T_STREQ(r.rcpt, "postmaster");
	T_STREQ(r.body, "");
	sa_trunc(&s, 0);
	/* a body type: an optional b record */
	T_INTEQ(lreq_build(&s, QID, "a@b.test", "BINARYMIME", "bob@c.test"), 0);
	T_STREQ(s.s, "q24:" QID "\nf8:a@b.test\na10:bob@c.test\nb10:BINARYMIME\n");
	T_INTEQ(lreq_parse(s.s, s.len, &r), 0);
	T_STREQ(r.body, "BINARYMIME");
	T_STREQ(r.rcpt, "bob@c.test");
	T_INTEQ(lreq_parse("b4:7BIT\nq0:\nf0:\na3:b@c\n", 23, &r), 0);
	T_STREQ(r.body, "7BIT");
	sa_free(&s);
}

static void test_build_rejects(void)
{
	sa_t s = SA_INIT;
	char big[LREQ_ADDR_MAX + 2];

	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_INTEQ(sa_cats(&s, "x"), 0);
	T_INTEQ(lreq_build(&s, "short", "", "", "b@c"), -1);
	T_INTEQ(errno, EINVAL);
	T_INTEQ(lreq_build(&s, QID, "a\nb@c", "", "b@c"), -1);
	T_INTEQ(lreq_build(&s, QID, "", "", ""), -1);
	T_INTEQ(lreq_build(&s, QID, "", "BINARY", "b@c"), -1);
	T_INTEQ(lreq_build(&s, QID, "", "binarymime", "b@c"), -1);
	T_INTEQ(lreq_build(&s, QID, big, "", "b@c"), -1);
	T_INTEQ(lreq_build(&s, QID, "", "", big), -1);
	T_STREQ(s.s, "x");
	big[LREQ_ADDR_MAX] = '\0';
	T_INTEQ(lreq_build(&s, QID, big, "BINARYMIME", big), 0);
	T_ASSERT(s.len <= LREQ_MAX + 1);
	sa_free(&s);
}

static void test_parse_bad(void)
{
	static const char *bad[] = {
		"",                                   /* nothing */
		"f0:\na3:b@c\n",                      /* no q */
		"q0:\na3:b@c\n",                      /* no f */
		"q0:\nf0:\n",                         /* no a */
		"q0:\nf0:\na0:\n",                    /* empty recipient */
		"q0:\nf0:\nf0:\na3:b@c\n",            /* twice */
		"q0:\nf0:\na3:b@c\nx1:y\n",           /* unknown record */
		"q3:ABC\nf0:\na3:b@c\n",              /* not a queue ID */
		"q0:\nf3:a\rb\na3:b@c\n",             /* control character */
		"q0:\nf0:\na3:b@c",                   /* truncated */
		"q0:\nf0:\na4:b@c\n",                 /* length wrong */
		"q0:\nf0:\na3:b@c\nb6:BINARY\n",      /* not a body type */
		"q0:\nf0:\na3:b@c\nb10:binarymime\n", /* body types are upper case */
		"q0:\nf0:\na3:b@c\nb4:7BIT\nb4:7BIT\n", /* b twice */
		"q0:\nf0:\na3:b@c\nb16:BINARYMIMEBINARY\n", /* b too long */
	};
	struct lreq r;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		T_INTEQ(lreq_parse(bad[i], strlen(bad[i]), &r), -1);
		T_INTEQ(errno, EPROTO);
	}
	/* a NUL inside a field */
	T_INTEQ(lreq_parse("q0:\nf3:a\0b\na3:b@c\n", 19, &r), -1);
}

static void test_packets(void)
{
	int sv[2], fd, p[2];
	char buf[64];
	ssize_t n;

	T_INTEQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	T_INTEQ(pipe(p), 0);
	T_INTEQ(lreq_send(sv[0], "hello", 5, p[0]), 0);
	T_INTEQ(lreq_send(sv[0], "x", 1, -1), 0);
	n = lreq_recv(sv[1], buf, sizeof buf, &fd);
	T_INTEQ(n, 5);
	T_ASSERT(fd >= 0 && fd != p[0]);
	T_ASSERT(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* the descriptor is the pipe's reading end */
	T_INTEQ(write(p[1], "z", 1), 1);
	T_INTEQ(read(fd, buf, 1), 1);
	T_ASSERT(buf[0] == 'z');
	close(fd);
	n = lreq_recv(sv[1], buf, sizeof buf, &fd);
	T_INTEQ(n, 1);
	T_INTEQ(fd, -1);
	/* longer than the buffer: refused, its descriptor closed */
	T_INTEQ(lreq_send(sv[0], "0123456789", 10, p[0]), 0);
	T_INTEQ(lreq_recv(sv[1], buf, 4, &fd), -1);
	T_INTEQ(errno, EMSGSIZE);
	T_INTEQ(fd, -1);
	close(sv[0]);
	T_INTEQ(lreq_recv(sv[1], buf, sizeof buf, &fd), 0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/* a zygote's requests: packets without a descriptor are skipped; EOF is -1
 * with errno 0 */
static void test_next_fd(void)
{
	int sv[2], p[2], fd;
	char buf[8];
	size_t n = 0;

	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_ASSERT(pipe(p) == 0);
	T_INTEQ(lreq_send(sv[0], "none", 4, -1), 0);
	T_INTEQ(lreq_send(sv[0], "ab", 2, p[1]), 0);
	fd = lreq_next_fd(sv[1], buf, sizeof buf - 1, &n);
	T_ASSERT(fd >= 0);
	T_INTEQ(n, 2);
	T_STREQ(buf, "ab");
	T_INTEQ(write(fd, "x", 1), 1); /* it is the pipe's write end */
	T_INTEQ(read(p[0], buf, 1), 1);
	close(fd);
	close(sv[0]);
	errno = EINVAL;
	T_INTEQ(lreq_next_fd(sv[1], buf, sizeof buf - 1, &n), -1);
	T_INTEQ(errno, 0);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	T_RUN(test_build_parse);
	T_RUN(test_build_rejects);
	T_RUN(test_parse_bad);
	T_RUN(test_packets);
	T_RUN(test_next_fd);
	return t_done();
}
