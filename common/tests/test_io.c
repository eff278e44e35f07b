#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "io.h"
#include "sa.h"
#include "test.h"

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a pipe holding data, write end closed when close_w */
static int pipe_with(const char *data, size_t n, int close_w, int *wfd)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	if (n && fd_write_all(p[1], data, n) < 0)
		return -1;
	if (close_w)
		close(p[1]);
	else
		*wfd = p[1];
	return p[0];
}

static void test_lines_pipelined(void)
{
	const char in[] = "HELO a\r\nMAIL FROM:<x>\r\nRCPT TO:<y>\nDATA\r\n";
	char buf[8]; /* smaller than one line: lines span fills */
	io_t io;
	sa_t l = SA_INIT;
	int cr = -1;
	int fd = pipe_with(in, sizeof in - 1, 1, NULL);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_getline(&io, &l, 1000, &cr), IO_OK);
	T_STREQ(l.s, "HELO a");
	T_INTEQ(cr, 1);
	T_INTEQ(io_getline(&io, &l, 1000, &cr), IO_OK);
	T_STREQ(l.s, "MAIL FROM:<x>");
	T_INTEQ(io_getline(&io, &l, 1000, &cr), IO_OK);
	T_STREQ(l.s, "RCPT TO:<y>");
	T_INTEQ(cr, 0);
	T_INTEQ(io_getline(&io, &l, 1000, NULL), IO_OK);
	T_STREQ(l.s, "DATA");
	T_INTEQ(io.pos, sizeof in - 1);
	T_INTEQ(io_getline(&io, &l, 1000, &cr), IO_EOF);
	T_INTEQ(io_getline(&io, &l, 1000, &cr), IO_EOF);
	close(fd);
	sa_free(&l);
}

static void test_cr_handling(void)
{
	const char in[] = "a\r\r\nb\rc\n\r\n\n\r";
	char buf[64];
	io_t io;
	sa_t l = SA_INIT;
	int cr;
	int fd = pipe_with(in, sizeof in - 1, 1, NULL);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_getline(&io, &l, 100, &cr), IO_OK);
	T_INTEQ(l.len, 2); /* only one CR is removed */
	T_STREQ(l.s, "a\r");
	T_INTEQ(cr, 1);
	T_INTEQ(io_getline(&io, &l, 100, &cr), IO_OK);
	T_STREQ(l.s, "b\rc"); /* a bare CR inside stays */
	T_INTEQ(cr, 0);
	T_INTEQ(io_getline(&io, &l, 100, &cr), IO_OK);
	T_STREQ(l.s, "");
	T_INTEQ(cr, 1);
	T_INTEQ(io_getline(&io, &l, 100, &cr), IO_OK);
	T_STREQ(l.s, "");
	T_INTEQ(cr, 0);
	/* a lone CR at EOF is a partial line */
	T_INTEQ(io_getline(&io, &l, 100, &cr), IO_EOF);
	T_INTEQ(l.len, 0);
	close(fd);
	sa_free(&l);
}

static void test_cr_split_across_reads(void)
{
	/* CR at the end of one read, LF at the start of the next */
	int w;
	char buf[64];
	io_t io;
	sa_t l = SA_INIT;
	int cr;
	int fd = pipe_with("xyz\r", 4, 0, &w);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_fill(&io), IO_OK);
	T_INTEQ(io.end - io.start, 4);
	T_ASSERT(fd_write_all(w, "\nnext\n", 6) == 0);
	close(w);
	T_INTEQ(io_getline(&io, &l, 5, &cr), IO_OK); /* exactly 5 on the wire */
	T_STREQ(l.s, "xyz");
	T_INTEQ(cr, 1);
	T_INTEQ(io_getline(&io, &l, 5, &cr), IO_OK);
	T_STREQ(l.s, "next");
	close(fd);
	sa_free(&l);
}

static void test_long_lines(void)
{
	sa_t in = SA_INIT;
	char buf[16];
	io_t io;
	sa_t l = SA_INIT;
	int cr, fd, i;

	T_ASSERT(sa_cats(&in, "123456789\n") == 0);   /* 10: fits max 10 */
	T_ASSERT(sa_cats(&in, "1234567890\n") == 0);  /* 11: too long */
	T_ASSERT(sa_cats(&in, "12345678\r\n") == 0);  /* 10 with CR: fits */
	T_ASSERT(sa_cats(&in, "123456789\r\n") == 0); /* 11 with CR: too long */
	for (i = 0; i < 5000; i++)                    /* much longer than the buffer */
		T_ASSERT(sa_catc(&in, 'x') == 0);
	T_ASSERT(sa_cats(&in, "\nok\n") == 0);
	for (i = 0; i < 100; i++)                     /* too long, then EOF mid-line */
		T_ASSERT(sa_catc(&in, 'y') == 0);
	fd = pipe_with(in.s, in.len, 1, NULL);
	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_OK);
	T_STREQ(l.s, "123456789");
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_TOOLONG);
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_OK);
	T_STREQ(l.s, "12345678");
	T_INTEQ(cr, 1);
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_TOOLONG);
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_TOOLONG);
	T_ASSERT(l.cap < 64); /* the discarded line was never stored */
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_OK);
	T_STREQ(l.s, "ok");
	T_INTEQ(io_getline(&io, &l, 10, &cr), IO_EOF);
	T_INTEQ(io.pos, in.len);
	close(fd);
	sa_free(&l);
	sa_free(&in);
}

static void test_max_zero_and_nul(void)
{
	char buf[32];
	io_t io;
	sa_t l = SA_INIT;
	int fd = pipe_with("\na\0b\n", 5, 1, NULL);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_getline(&io, &l, 0, NULL), IO_TOOLONG);
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_OK);
	T_INTEQ(l.len, 3);
	T_ASSERT(memcmp(l.s, "a\0b", 4) == 0);
	close(fd);
	sa_free(&l);
}

static void test_eof_mid_line(void)
{
	char buf[32];
	io_t io;
	sa_t l = SA_INIT;
	int fd = pipe_with("one\ntwo", 7, 1, NULL);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "one");
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_EOF);
	T_INTEQ(l.len, 0);
	T_STREQ(l.s, "");
	close(fd);
	sa_free(&l);
}

static void test_timeout(void)
{
	char buf[32];
	io_t io;
	sa_t l = SA_INIT;
	int w, fd = pipe_with("partial", 7, 0, &w);
	long long t0, dt;

	io_init(&io, fd, buf, sizeof buf, 80);
	t0 = ms_now();
	errno = 0;
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_ERR);
	T_INTEQ(errno, ETIMEDOUT);
	dt = ms_now() - t0;
	T_ASSERT(dt >= 70 && dt < 2000);
	close(fd);
	close(w);

	/* the same on a socket */
	int sv[2];
	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	io_init(&io, sv[0], buf, sizeof buf, 50);
	errno = 0;
	T_INTEQ(io_fill(&io), IO_ERR);
	T_INTEQ(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
	sa_free(&l);
}

/* a child writing one byte to fds[1] every 20 ms (4 s at most); fds[0] stays ours */
static pid_t trickler(int fds[2])
{
	pid_t pid = fork();

	if (pid == 0) {
		close(fds[0]);
		for (int i = 0; i < 200; i++) {
			if (write(fds[1], "x", 1) != 1)
				_exit(0);
			usleep(20000);
		}
		_exit(0);
	}
	close(fds[1]);
	return pid;
}

/* a peer trickling bytes of an endless line: each read succeeds quickly, only
 * the deadline ends it; data always ready must not escape it either */
static void deadline(int sock)
{
	int fds[2];
	pid_t pid;
	char buf[64];
	io_t in;
	sa_t line = SA_INIT;
	long long t0;
	int r;

	if (sock)
		T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	else
		T_ASSERT(pipe(fds) == 0);
	pid = trickler(fds);
	io_init(&in, fds[0], buf, sizeof buf, 1000);
	io_deadline(&in, 300);
	t0 = ms_now();
	r = io_getline(&in, &line, 10, NULL); /* over the limit: discarding, still bounded */
	T_INTEQ(r, IO_ERR);
	T_INTEQ(errno, ETIMEDOUT);
	T_ASSERT(ms_now() - t0 >= 250 && ms_now() - t0 < 1500);
	/* cleared: the next read waits per read again (and gets data) */
	io_deadline(&in, -1);
	T_INTEQ(io_fill(&in), IO_OK);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	sa_free(&line);
}
static void test_deadline_socket(void) { deadline(1); }
static void test_deadline_pipe(void) { deadline(0); }

static void test_deadline_extend(void)
{
	char buf[8];
	io_t in;
	long long d;

	io_init(&in, -1, buf, sizeof buf, 1000);
	io_deadline_extend(&in, 5000, 1000); /* no deadline: none set */
	T_INTEQ(in.deadline, 0);
	io_deadline(&in, 200);
	d = in.deadline;
	io_deadline_extend(&in, 50, 10000);
	T_INTEQ(in.deadline, d + 50);
	io_deadline_extend(&in, 0, 10000);
	T_INTEQ(in.deadline, d + 50);
	io_deadline_extend(&in, 100000, 500); /* capped at 500 ms from now */
	T_ASSERT(in.deadline >= ms_now() + 450 && in.deadline <= ms_now() + 500);
}

/* a peer writing one byte every 20 ms (50 bytes/s), read with a deadline of
 * 300 ms extended by 1000/rate ms per byte: 1 when it timed out within 4 s */
static int trickle_times_out(long long rate, long long *elapsed)
{
	int fds[2], timed_out = 0;
	char buf[8];
	io_t in;
	pid_t pid;
	long long t0;

	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
	pid = trickler(fds);
	io_init(&in, fds[0], buf, sizeof buf, 1000);
	io_deadline(&in, 300);
	t0 = ms_now();
	for (;;) {
		size_t n;
		int r = io_fill(&in);
		if (r != IO_OK) {
			timed_out = r == IO_ERR && errno == ETIMEDOUT;
			break;
		}
		n = in.end - in.start;
		io_consume(&in, n);
		io_deadline_extend(&in, (long long)n * 1000 / rate, 300);
	}
	*elapsed = ms_now() - t0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fds[0]);
	return timed_out;
}

static void test_deadline_min_rate(void)
{
	long long t;

	/* 100 bytes/s required, 50 sent: each byte buys 10 ms, 20 ms pass */
	T_INTEQ(trickle_times_out(100, &t), 1);
	T_ASSERT(t >= 500 && t < 2500);
	/* 10 bytes/s required: the trickle keeps the session (EOF after 200 bytes) */
	T_INTEQ(trickle_times_out(10, &t), 0);
	T_ASSERT(t >= 3000);
}

static void test_input_ready(void)
{
	int sv[2], p[2];
	char buf[8];
	io_t in;

	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	io_init(&in, sv[0], buf, sizeof buf, 1000);
	T_INTEQ(io_input_ready(&in), 0);
	T_INTEQ(fd_write_all(sv[1], "abc", 3), 0);
	T_INTEQ(io_input_ready(&in), 1);
	T_INTEQ(in.end - in.start, 3);
	T_INTEQ(io_input_ready(&in), 1); /* still buffered, nothing read */
	io_consume(&in, 3);
	T_INTEQ(io_input_ready(&in), 0);
	close(sv[1]);
	T_INTEQ(io_input_ready(&in), 0); /* EOF is not input */
	T_INTEQ(io_fill(&in), IO_EOF);
	close(sv[0]);

	T_ASSERT(pipe(p) == 0);
	io_init(&in, p[0], buf, sizeof buf, 1000);
	T_INTEQ(io_input_ready(&in), 0);
	T_INTEQ(fd_write_all(p[1], "xy", 2), 0);
	T_INTEQ(io_input_ready(&in), 1);
	T_ASSERT(in.end - in.start == 2 && memcmp(in.buf + in.start, "xy", 2) == 0);
	io_consume(&in, 2);
	close(p[1]);
	T_INTEQ(io_input_ready(&in), 0);
	T_INTEQ(io_fill(&in), IO_EOF);
	close(p[0]);
}

static void test_readn_fill_consume(void)
{
	char buf[4], got[16];
	io_t io;
	int fd = pipe_with("0123456789abcdef", 16, 1, NULL);

	io_init(&io, fd, buf, sizeof buf, 1000);
	T_INTEQ(io_fill(&io), IO_OK);
	T_ASSERT(io.end - io.start >= 1 && io.end - io.start <= 4);
	T_ASSERT(io.buf[io.start] == '0');
	io_consume(&io, 1);
	T_INTEQ(io.pos, 1);
	T_INTEQ(io_readn(&io, got, 10), IO_OK);
	T_ASSERT(memcmp(got, "123456789a", 10) == 0);
	T_INTEQ(io.pos, 11);
	T_INTEQ(io_readn(&io, got, 0), IO_OK);
	T_INTEQ(io_readn(&io, got, 10), IO_EOF); /* only 5 left */
	T_INTEQ(io_fill(&io), IO_EOF);
	close(fd);
}

static int sock_pending(int fd, char *out, size_t cap)
{
	ssize_t r = recv(fd, out, cap - 1, MSG_DONTWAIT);
	if (r < 0)
		return -1;
	out[r] = '\0';
	return (int)r;
}

/* replies are held while pipelined input remains, flushed before blocking */
static void pipelining(int use_socket)
{
	int a[2], b[2]; /* a: peer -> us, b: us -> peer */
	char ibuf[64], obuf[64], got[64];
	io_t in, out;
	sa_t l = SA_INIT;

	if (use_socket) {
		T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
		b[0] = a[1];
		b[1] = a[0];
	} else {
		T_ASSERT(pipe(a) == 0);
		T_ASSERT(pipe(b) == 0);
		int fl = fcntl(b[0], F_GETFL);
		T_ASSERT(fcntl(b[0], F_SETFL, fl | O_NONBLOCK) == 0);
	}
	/* fds: we read a[0], write b[1]; peer writes a[1], reads b[0] */
	io_init(&in, a[0], ibuf, sizeof ibuf, 60);
	io_init(&out, b[1], obuf, sizeof obuf, 1000);
	in.flush = &out;
	T_ASSERT(fd_write_all(a[1], "A\nB\n", 4) == 0);
	T_INTEQ(io_getline(&in, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "A");
	T_ASSERT(io_puts(&out, "r1\n") == 0);
	T_INTEQ(io_getline(&in, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "B");
	T_ASSERT(io_puts(&out, "r2\n") == 0);
	/* nothing sent yet: input was available */
	if (use_socket) {
		T_INTEQ(sock_pending(b[0], got, sizeof got), -1);
	} else {
		T_ASSERT(read(b[0], got, sizeof got) < 0 && errno == EAGAIN);
	}
	/* the next read would block: both replies go out, then it times out */
	errno = 0;
	T_INTEQ(io_getline(&in, &l, 100, NULL), IO_ERR);
	T_INTEQ(errno, ETIMEDOUT);
	memset(got, 0, sizeof got);
	if (use_socket) {
		T_INTEQ(sock_pending(b[0], got, sizeof got), 6);
	} else {
		T_INTEQ(read(b[0], got, sizeof got), 6);
	}
	T_ASSERT(memcmp(got, "r1\nr2\n", 6) == 0);
	T_INTEQ(out.end - out.start, 0);

	/* more input arrives with a reply pending: on a pipe the reply is sent
	 * only when the read would block; the data is read either way */
	T_ASSERT(io_puts(&out, "r3\n") == 0);
	T_ASSERT(fd_write_all(a[1], "C\n", 2) == 0);
	T_INTEQ(io_getline(&in, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "C");
	T_INTEQ(out.end - out.start, 3);
	T_ASSERT(io_flush(&out) == 0);

	close(a[0]);
	close(a[1]);
	if (!use_socket) {
		close(b[0]);
		close(b[1]);
	}
	sa_free(&l);
}

static void test_pipelining_socket(void) { pipelining(1); }
static void test_pipelining_pipe(void) { pipelining(0); }

static void test_output_file(void)
{
	char path[] = "/tmp/test_io.XXXXXX";
	int fd = mkstemp(path);
	char obuf[16];
	io_t out, in;
	char big[100], rd[512];
	sa_t l = SA_INIT;

	T_ASSERT(fd >= 0);
	unlink(path);
	io_init(&out, fd, obuf, sizeof obuf, 1000); /* a timeout on a file is harmless */
	memset(big, 'b', sizeof big);
	T_ASSERT(io_puts(&out, "hello ") == 0);
	T_ASSERT(io_printf(&out, "%d-%s\n", 42, "x") == 0);         /* fits */
	T_ASSERT(io_printf(&out, "%s\n", "0123456789abc") == 0);    /* needs a flush */
	T_ASSERT(io_printf(&out, "%.*s\n", 40, "0123456789012345678901234567890123456789") == 0);
	T_ASSERT(io_put(&out, big, sizeof big) == 0);              /* bigger than buffer */
	T_ASSERT(io_put(&out, "\n", 1) == 0);
	T_ASSERT(io_flush(&out) == 0);
	T_ASSERT(io_flush(&out) == 0);
	T_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	io_init(&in, fd, rd, sizeof rd, -1);
	T_INTEQ(io_getline(&in, &l, 1000, NULL), IO_OK);
	T_STREQ(l.s, "hello 42-x");
	T_INTEQ(io_getline(&in, &l, 1000, NULL), IO_OK);
	T_STREQ(l.s, "0123456789abc");
	T_INTEQ(io_getline(&in, &l, 1000, NULL), IO_OK);
	T_STREQ(l.s, "0123456789012345678901234567890123456789");
	T_INTEQ(io_getline(&in, &l, 1000, NULL), IO_OK);
	T_INTEQ(l.len, 100);
	T_ASSERT(memcmp(l.s, big, 100) == 0);
	T_INTEQ(io_getline(&in, &l, 1000, NULL), IO_EOF);
	/* a big write straight through to the file */
	static char huge[200000];
	struct stat st;
	off_t before = lseek(fd, 0, SEEK_END);
	memset(huge, 'h', sizeof huge);
	T_ASSERT(io_put(&out, huge, sizeof huge) == 0);
	T_ASSERT(io_flush(&out) == 0);
	T_ASSERT(fstat(fd, &st) == 0 && st.st_size == before + (off_t)sizeof huge);
	close(fd);
	sa_free(&l);
}

static void write_timeout(int use_socket)
{
	int p[2];
	char obuf[4096];
	static char chunk[65536];
	io_t out;
	int i, r = 0;
	long long t0;

	if (use_socket)
		T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, p) == 0);
	else
		T_ASSERT(pipe(p) == 0);
	io_init(&out, use_socket ? p[0] : p[1], obuf, sizeof obuf, 60);
	t0 = ms_now();
	errno = 0;
	for (i = 0; i < 200 && r == 0; i++) /* up to 13 MB, nobody reads */
		r = io_put(&out, chunk, sizeof chunk);
	T_INTEQ(r, -1);
	T_INTEQ(errno, ETIMEDOUT);
	T_ASSERT(ms_now() - t0 < 5000);
	close(p[0]);
	close(p[1]);
}

static void test_write_timeout_socket(void) { write_timeout(1); }
static void test_write_timeout_pipe(void) { write_timeout(0); }

static void test_write_epipe(void)
{
	int sv[2];
	char obuf[16];
	io_t out;

	T_ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	io_init(&out, sv[0], obuf, sizeof obuf, 1000);
	T_ASSERT(io_puts(&out, "x") == 0);
	errno = 0;
	T_INTEQ(io_flush(&out), -1); /* no SIGPIPE: we are still alive */
	T_INTEQ(errno, EPIPE);
	close(sv[0]);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void test_eintr(void)
{
	struct sigaction sa;
	struct itimerval it;
	char buf[32];
	io_t io;
	int w, fd = pipe_with(NULL, 0, 0, &w);
	long long t0, dt;
	pid_t pid;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: poll and read see EINTR */
	sigemptyset(&sa.sa_mask);
	T_ASSERT(sigaction(SIGALRM, &sa, NULL) == 0);
	memset(&it, 0, sizeof it);
	it.it_interval.tv_usec = 10000;
	it.it_value.tv_usec = 10000;
	T_ASSERT(setitimer(ITIMER_REAL, &it, NULL) == 0);

	/* signals neither end the wait early nor extend it */
	io_init(&io, fd, buf, sizeof buf, 150);
	t0 = ms_now();
	errno = 0;
	T_INTEQ(io_fill(&io), IO_ERR);
	T_INTEQ(errno, ETIMEDOUT);
	dt = ms_now() - t0;
	T_ASSERT(dt >= 140 && dt < 1000);
	T_ASSERT(alarms > 3);

	/* data arriving later is read despite the signals (timeout: forever) */
	pid = fork();
	if (pid == 0) {
		usleep(100000);
		_exit(fd_write_all(w, "late\n", 5) == 0 ? 0 : 1);
	}
	close(w);
	sa_t l = SA_INIT;
	io_init(&io, fd, buf, sizeof buf, -1);
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "late");
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_EOF);
	memset(&it, 0, sizeof it);
	setitimer(ITIMER_REAL, &it, NULL);
	int st;
	T_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	sa_free(&l);
}

static void test_nonblocking_fd(void)
{
	int w, fd = pipe_with(NULL, 0, 0, &w), st;
	char buf[32];
	io_t io;
	sa_t l = SA_INIT;
	pid_t pid;

	T_ASSERT(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
	pid = fork();
	if (pid == 0) {
		usleep(50000);
		_exit(fd_write_all(w, "nb\n", 3) == 0 ? 0 : 1);
	}
	close(w);
	io_init(&io, fd, buf, sizeof buf, -1);
	T_INTEQ(io_getline(&io, &l, 100, NULL), IO_OK);
	T_STREQ(l.s, "nb");
	T_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	sa_free(&l);
}

static void test_fd_write_all(void)
{
	int p[2], st;
	static char data[300000];
	size_t i, got = 0;
	char rb[8192];
	int ok = 1;
	pid_t pid;

	for (i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 7);
	T_ASSERT(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(fd_write_all(p[1], data, sizeof data) == 0 ? 0 : 1);
	}
	close(p[1]);
	for (;;) {
		ssize_t r = read(p[0], rb, sizeof rb);
		if (r <= 0)
			break;
		for (i = 0; i < (size_t)r; i++)
			if (got + i >= sizeof data || rb[i] != data[got + i])
				ok = 0;
		got += (size_t)r;
	}
	T_ASSERT(ok);
	T_INTEQ(got, sizeof data);
	T_ASSERT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(p[0]);
	errno = 0;
	T_INTEQ(fd_write_all(-1, "x", 1), -1);
	T_INTEQ(errno, EBADF);
}

int main(void)
{
	T_RUN(test_lines_pipelined);
	T_RUN(test_cr_handling);
	T_RUN(test_cr_split_across_reads);
	T_RUN(test_long_lines);
	T_RUN(test_max_zero_and_nul);
	T_RUN(test_eof_mid_line);
	T_RUN(test_timeout);
	T_RUN(test_readn_fill_consume);
	T_RUN(test_pipelining_socket);
	T_RUN(test_pipelining_pipe);
	T_RUN(test_output_file);
	T_RUN(test_write_timeout_socket);
	T_RUN(test_write_timeout_pipe);
	T_RUN(test_write_epipe);
	T_RUN(test_eintr);
	T_RUN(test_nonblocking_fd);
	T_RUN(test_fd_write_all);
	T_RUN(test_deadline_socket);
	T_RUN(test_deadline_pipe);
	T_RUN(test_deadline_extend);
	T_RUN(test_deadline_min_rate);
	T_RUN(test_input_ready);
	return t_done();
}
