#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "conf.h"
#include "confcheck.h"
#include "listen.h"
#include "test.h"

static void test_v4(void)
{
	struct listen_addr l;
	sa_t err = SA_INIT;
	char ip[64];
	unsigned port = 0;
	T_ASSERT(listen_parse("127.0.0.1:2525", &l, &err) == 0);
	T_INTEQ(l.ss.ss_family, AF_INET);
	T_INTEQ(l.sslen, sizeof(struct sockaddr_in));
	T_ASSERT(listen_sockaddr_text((struct sockaddr *)&l.ss, ip, sizeof ip, &port) == 0);
	T_STREQ(ip, "127.0.0.1");
	T_INTEQ(port, 2525);
	T_ASSERT(listen_parse("0.0.0.0:65535", &l, &err) == 0);
	sa_free(&err);
}

static void test_v6(void)
{
	struct listen_addr l;
	sa_t err = SA_INIT;
	char ip[64];
	unsigned port = 0;
	T_ASSERT(listen_parse("[::1]:25", &l, &err) == 0);
	T_INTEQ(l.ss.ss_family, AF_INET6);
	T_ASSERT(listen_sockaddr_text((struct sockaddr *)&l.ss, ip, sizeof ip, &port) == 0);
	T_STREQ(ip, "::1");
	T_INTEQ(port, 25);
	sa_free(&err);
}

static void test_bad(void)
{
	static const char *bad[] = {
		"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:2x",
		"localhost:25", ":25", "::1:25", "[::1]25", "[::1]:", "[]:25", "[127.0.0.1]:25",
		"1.2.3:25", "127.0.0.1:-1", "127.0.0.1:+25",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct listen_addr l;
		sa_t err = SA_INIT;
		if (listen_parse(bad[i], &l, &err) != -1 || err.len == 0)
			printf("accepted: \"%s\"\n", bad[i]);
		T_ASSERT(err.len > 0);
		sa_free(&err);
	}
	char longer[400];
	memset(longer, '1', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	struct listen_addr l;
	sa_t err = SA_INIT;
	T_ASSERT(listen_parse(longer, &l, &err) == -1);
	sa_free(&err);
}

static void test_text_other_family(void)
{
	struct sockaddr_storage ss;
	char ip[64];
	unsigned port;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNIX;
	T_ASSERT(listen_sockaddr_text((struct sockaddr *)&ss, ip, sizeof ip, &port) == -1);
}

static int check(const char *key, const char *value, sa_t *warn)
{
	sa_t err = SA_INIT;
	int r = confcheck_key(conf_key_find(key), value, &err, warn);
	T_ASSERT(r == 0 || err.len > 0);
	sa_free(&err);
	return r;
}

static void test_confcheck(void)
{
	sa_t warn = SA_INIT;
	T_INTEQ(check("smtp_listen", "127.0.0.1:25", NULL), 0);
	T_INTEQ(check("smtp_listen", "", NULL), 0);
	T_INTEQ(check("pop3_listen", "nowhere:110", NULL), -1);
	T_INTEQ(check("relay_networks", "10.0.0.0/8 ::1", &warn), 0);
	T_INTEQ(warn.len, 0);
	T_INTEQ(check("relay_networks", "10.0.0.0/33", &warn), -1);
	T_INTEQ(check("connection_limit_exempt", "relay_networks, 192.0.2.0/24", NULL), 0);
	T_INTEQ(check("local_domains", "a.test, b.test", NULL), 0);
	T_INTEQ(check("local_domains", "a..test", NULL), -1);
	T_INTEQ(check("virtual_domains", "b.test c.test", NULL), 0);
	T_INTEQ(check("virtual_domains", "b.test [127.0.0.1]", NULL), -1);
	T_INTEQ(check("catch_all", "@b.test:bob@b.test, @a.test:alice", NULL), 0);
	T_INTEQ(check("catch_all", "", NULL), 0);
	T_INTEQ(check("catch_all", "@b.test:bob@b.test b.test:bob", NULL), -1);
	T_INTEQ(check("catch_all", "@b.test:Bob", NULL), -1);
	T_INTEQ(check("postmaster", "Bad Name", NULL), -1);
	T_INTEQ(check("smtpd_user", "pochtad", NULL), 0);
	T_INTEQ(check("qmgr_user", "root", NULL), -1);
	T_INTEQ(check("queue_group", "-x", NULL), -1);
	T_INTEQ(check("instance_user", "", NULL), 0);
	T_INTEQ(check("instance_user", "mail_t", NULL), 0);
	T_INTEQ(check("instance_user", "root", NULL), -1);
	T_INTEQ(check("instance_user", "9lives", NULL), -1);
	/* valid, but an open relay: a warning line */
	T_INTEQ(check("relay_networks", "0.0.0.0/0, ::/0", &warn), 0);
	T_ASSERT(warn.len > 0 && warn.s[warn.len - 1] == '\n');
	T_ASSERT(warn.s && strstr(warn.s, "open relay") != NULL);
	sa_free(&warn);

	struct conf c;
	sa_t err = SA_INIT;
	T_ASSERT(conf_defaults(&c) == 0);
	T_INTEQ(confcheck_all(&c, &err, NULL), 0);
	sa_t e2 = SA_INIT;
	T_ASSERT(conf_set(&c, conf_key_find("pop3_listen"), "1.2.3.4:0", &e2) == 0);
	T_INTEQ(confcheck_all(&c, &err, NULL), -1);
	T_ASSERT(err.s && strncmp(err.s, "pop3_listen: ", 13) == 0);
	conf_free(&c);
	sa_free(&err);
	sa_free(&e2);
}

/* the UCSPI variables of a connection: the local side from the socket, the
 * names nobody looked up removed */
static void test_ucspi_env(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	char port[16];

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(l >= 0 && c >= 0);
	T_ASSERT(bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0);
	T_ASSERT(getsockname(l, (struct sockaddr *)&a, &al) == 0);
	T_ASSERT(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	s = accept(l, NULL, NULL);
	T_ASSERT(s >= 0);
	setenv("TCPREMOTEHOST", "planted.example", 1);
	setenv("TCPLOCALHOST", "planted.example", 1);
	T_INTEQ(listen_ucspi_env(s, "192.0.2.7", 4321), 0);
	T_STREQ(getenv("PROTO"), "TCP");
	T_STREQ(getenv("TCPREMOTEIP"), "192.0.2.7");
	T_STREQ(getenv("TCPREMOTEPORT"), "4321");
	T_STREQ(getenv("TCPLOCALIP"), "127.0.0.1");
	snprintf(port, sizeof port, "%u", (unsigned)ntohs(a.sin_port));
	T_STREQ(getenv("TCPLOCALPORT"), port);
	T_ASSERT(getenv("TCPREMOTEHOST") == NULL && getenv("TCPLOCALHOST") == NULL);
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	T_RUN(test_v4);
	T_RUN(test_v6);
	T_RUN(test_bad);
	T_RUN(test_text_other_family);
	T_RUN(test_confcheck);
	T_RUN(test_ucspi_env);
	return t_done();
}
