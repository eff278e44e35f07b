/* enqclient: the records a message becomes, the replies it understands, a
 * peer that dies or lies */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "enqclient.h"
#include "enqproto.h"
#include "lreq.h"
#include "rec.h"
#include "test.h"

#define QID "0ABCDEF00000GHIJKLMNOPQR"

/* a fake pochta-enqueue: reads one message, appends "type:data|" for each record
 * to a log it sends back in the K reply (or replies as mode says) */
static void fake_peer(int fd, int mode)
{
	char ib[70000], ob[70000];
	io_t in, out;
	sa_t d = SA_INIT, log = SA_INIT;
	int type;

	io_init(&in, fd, ib, sizeof ib, 5000);
	io_init(&out, fd, ob, sizeof ob, 5000);
	in.flush = &out;
	while (rec_get(&in, &type, &d, 100000) == IO_OK) {
		if (type == ENQ_BEGIN) {
			if (mode == 'z') {
				rec_puts(&out, ENQ_R_TEMP, "4.3.0 no room");
				io_flush(&out);
				continue;
			}
			if (mode == 'q') {
				rec_puts(&out, ENQ_R_ID, "not a qid");
				io_flush(&out);
				continue;
			}
			rec_puts(&out, ENQ_R_ID, QID);
			io_flush(&out);
			continue;
		}
		if (type == ENQ_END) {
			if (mode == 'x')
				rec_puts(&out, ENQ_R_PERM, "5.1.3 bad recipient address");
			else if (mode == 'o')
				rec_puts(&out, ENQ_R_OK, QID);
			else if (mode == 'd')
				_exit(0); /* dies before the commit reply */
			else
				rec_puts(&out, ENQ_R_OK, log.s ? log.s : "");
			io_flush(&out);
			sa_trunc(&log, 0);
			continue;
		}
		if (type == ENQ_DATA)
			sa_catf(&log, "D%zu|", d.len);
		else
			sa_catf(&log, "%c:%s|", type, d.s);
	}
	_exit(0);
}

static pid_t peer(struct enqc *c, int mode)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_peer(sv[1], mode);
	}
	close(sv[1]);
	enqc_attach(c, sv[0], 5000);
	return pid;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static const char *const rcpts[] = { "alice@a.test", "postmaster" };

static void test_records(void)
{
	struct enqc c;
	struct enqc_env env = { "", "8BITMIME", "LOCAL", rcpts, 2 };
	sa_t reply = SA_INIT;
	size_t big = ENQ_DATA_MAX + 10;
	char *data = malloc(big);
	pid_t pid = peer(&c, 'k');

	T_ASSERT(data != NULL);
	memset(data, 'x', big);
	/* the fake echoes the records in the K text: checked as a qid, so it fails */
	T_INTEQ(enqc_send(&c, &env, data, big, &reply), -1);
	T_INTEQ(errno, EPROTO);
	T_STREQ(reply.s, "S:|B:8BITMIME|P:LOCAL|R:alice@a.test|R:postmaster|D65536|D10|");
	T_ASSERT(c.broken);
	enqc_close(&c);
	reap(pid);
	free(data);
	sa_free(&reply);
}

static void test_replies(void)
{
	struct enqc c;
	struct enqc_env env = { "bob@b.test", NULL, NULL, rcpts, 1 };
	sa_t reply = SA_INIT;
	pid_t pid;

	pid = peer(&c, 'o');
	T_INTEQ(enqc_send(&c, &env, "Subject: x\n\nhi\n", 15, &reply), 'K');
	T_STREQ(reply.s, QID);
	T_INTEQ(enqc_send(&c, &env, "", 0, &reply), 'K');
	enqc_close(&c);
	reap(pid);

	pid = peer(&c, 'x');
	T_INTEQ(enqc_send(&c, &env, "Subject: x\n\nhi\n", 15, &reply), 'X');
	T_STREQ(reply.s, "5.1.3 bad recipient address");
	/* the connection stays usable for the next message */
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), 'X');
	enqc_close(&c);
	reap(pid);

	pid = peer(&c, 'z');
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), 'Z');
	T_STREQ(reply.s, "4.3.0 no room");
	enqc_close(&c);
	reap(pid);

	pid = peer(&c, 'q');
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), -1);
	T_INTEQ(errno, EPROTO);
	enqc_close(&c);
	reap(pid);

	/* the peer dies before its commit reply: an error, never a success */
	pid = peer(&c, 'd');
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), -1);
	T_INTEQ(errno, EPIPE);
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), -1);
	enqc_close(&c);
	reap(pid);

	/* no recipient: refused before anything is sent */
	env.nrcpt = 0;
	pid = peer(&c, 'k');
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), -1);
	T_INTEQ(errno, EINVAL);
	enqc_close(&c);
	reap(pid);
	sa_free(&reply);
}

/* the streaming calls smtpd uses: begin, records, end or abort */
static void test_streaming(void)
{
	struct enqc c;
	sa_t r = SA_INIT;
	pid_t pid = peer(&c, 'k');

	T_INTEQ(enqc_begin(&c, &r), 0);
	T_STREQ(r.s, QID);
	T_INTEQ(enqc_put(&c, 'S', "a@b.test", 8), 0);
	T_INTEQ(enqc_put(&c, 'R', "c@d.test", 8), 0);
	T_INTEQ(enqc_put(&c, ENQ_DATA, "xyz", 3), 0);
	enqc_abort(&c); /* the peer logs Q: and the message is gone */
	T_ASSERT(!c.broken);
	T_INTEQ(enqc_begin(&c, &r), 0);
	T_INTEQ(enqc_put(&c, 'R', "e@f.test", 8), 0);
	/* the fake's K text is its log, not a queue ID: a protocol error */
	T_INTEQ(enqc_end(&c, &r), -1);
	T_STREQ(r.s, "S:a@b.test|R:c@d.test|D3|Q:|R:e@f.test|");
	T_ASSERT(c.broken);
	/* a broken client refuses everything until it is closed */
	T_INTEQ(enqc_put(&c, 'R', "x@y.test", 8), -1);
	T_INTEQ(enqc_begin(&c, &r), -1);
	enqc_close(&c);
	reap(pid);

	pid = peer(&c, 'z');
	T_INTEQ(enqc_begin(&c, &r), 'Z');
	T_STREQ(r.s, "4.3.0 no room");
	T_ASSERT(!c.broken);
	enqc_close(&c);
	reap(pid);
	sa_free(&r);
}

static int zombie(pid_t pid)
{
	char path[64], buf[256];
	FILE *f;
	char *p;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof buf, f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* enqc_ready: a child that exited is reaped and replaced, a live one kept */
static void test_ready(void)
{
	struct enqc c;
	pid_t first;
	int i;

	enqc_init(&c);
	T_INTEQ(enqc_ready(&c, "/bin/true", 5000), 0);
	first = c.pid;
	T_ASSERT(first > 0);
	for (i = 0; i < 500 && !zombie(first); i++)
		usleep(10000);
	T_ASSERT(zombie(first));
	T_INTEQ(enqc_ready(&c, "/bin/cat", 5000), 0); /* cat lives as long as its stdin */
	T_ASSERT(c.pid > 0 && c.pid != first);
	T_ASSERT(kill(first, 0) < 0 && errno == ESRCH); /* reaped */
	first = c.pid;
	T_INTEQ(enqc_ready(&c, "/bin/cat", 5000), 0);
	T_INTEQ(c.pid, first); /* alive: kept */
	enqc_close(&c);
	T_INTEQ(c.pid, 0);
}

/* from a zygote: one packet carrying the peer's end, kept while that end is
 * open, asked again once it is closed; exec when the zygote is gone */
static void test_ready_zygote(void)
{
	struct enqc c;
	int z[2], peer, peer2;
	char b[8];

	T_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, z) == 0);
	enqc_init(&c);
	T_INTEQ(enqc_ready_z(&c, z[0], "/bin/cat", 5000), 0);
	T_INTEQ(c.pid, 0);
	T_INTEQ(c.zygote, 1);
	T_INTEQ(lreq_recv(z[1], b, sizeof b, &peer), 1);
	T_ASSERT(peer >= 0);
	T_INTEQ(write(peer, "K", 1), 1); /* the peer's end is c's other end */
	T_INTEQ(read(c.fd, b, 1), 1);
	T_INTEQ(enqc_ready_z(&c, z[0], "/bin/cat", 5000), 0); /* alive: kept, nothing sent */
	T_INTEQ(recv(z[1], b, sizeof b, MSG_DONTWAIT), -1);
	close(peer); /* that pochta-enqueue ended */
	T_INTEQ(enqc_ready_z(&c, z[0], "/bin/cat", 5000), 0);
	T_INTEQ(lreq_recv(z[1], b, sizeof b, &peer2), 1);
	T_ASSERT(peer2 >= 0);
	close(peer2);
	close(z[1]); /* the zygote is gone: its own child, by exec */
	T_INTEQ(enqc_ready_z(&c, z[0], "/bin/cat", 5000), 0);
	T_ASSERT(c.pid > 0);
	T_INTEQ(c.zygote, 0);
	enqc_close(&c);
	T_INTEQ(c.pid, 0);
	close(z[0]);
}

/* a program that cannot run: the first send fails, close reaps it */
static void test_open_missing(void)
{
	struct enqc c;
	struct enqc_env env = { "", NULL, NULL, rcpts, 1 };
	sa_t reply = SA_INIT;

	T_INTEQ(enqc_open(&c, "/nonexistent/pochta-enqueue", 5000), 0);
	T_ASSERT(c.pid > 0);
	T_INTEQ(enqc_send(&c, &env, "x\n", 2, &reply), -1);
	enqc_close(&c);
	T_INTEQ(c.pid, 0);
	T_INTEQ(c.fd, -1);
	sa_free(&reply);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_records);
	T_RUN(test_replies);
	T_RUN(test_open_missing);
	T_RUN(test_streaming);
	T_RUN(test_ready);
	T_RUN(test_ready_zygote);
	return t_done();
}
