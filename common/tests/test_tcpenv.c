#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpenv.h"
#include "test.h"

static char ip[TCPENV_IP_MAX];

static void test_env(void)
{
	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	T_INTEQ(tcpenv_remote_ip(ip, sizeof ip), 1);
	T_STREQ(ip, "192.0.2.7");
	setenv("TCPREMOTEIP", "2001:db8::1", 1);
	T_INTEQ(tcpenv_remote_ip(ip, sizeof ip), 1);
	T_STREQ(ip, "2001:db8::1");
	setenv("TCPREMOTEIP", "not-an-ip\r\nX", 1);
	T_INTEQ(tcpenv_remote_ip(ip, sizeof ip), 0);
	T_STREQ(ip, "unknown");
	unsetenv("TCPREMOTEIP");
}

/* no TCPREMOTEIP: the peer of a TCP connection on fd 0 (inetd, systemd) */
static void test_getpeername(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	int saved = dup(0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(bind(l, (struct sockaddr *)&a, sizeof a) == 0);
	T_ASSERT(listen(l, 1) == 0);
	T_ASSERT(getsockname(l, (struct sockaddr *)&a, &len) == 0);
	T_ASSERT(connect(c, (struct sockaddr *)&a, sizeof a) == 0);
	s = accept(l, NULL, NULL);
	T_ASSERT(s >= 0);
	T_ASSERT(dup2(s, 0) == 0);
	T_INTEQ(tcpenv_remote_ip(ip, sizeof ip), 1);
	T_STREQ(ip, "127.0.0.1");
	/* a pipe on fd 0 is no client at all */
	int p[2];
	T_ASSERT(pipe(p) == 0);
	T_ASSERT(dup2(p[0], 0) == 0);
	T_INTEQ(tcpenv_remote_ip(ip, sizeof ip), 0);
	T_STREQ(ip, "unknown");
	dup2(saved, 0);
	close(saved); close(p[0]); close(p[1]); close(s); close(c); close(l);
}

int main(void)
{
	T_RUN(test_env);
	T_RUN(test_getpeername);
	return t_done();
}
