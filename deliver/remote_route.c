/* remote_route: where the mail for a domain goes (relayhost, etc/routes, MX
 * records, the implicit MX) and the walk over hosts and their addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "paths.h"
#include "remote.h"
#include "routes.h"

/* the destination of rm->domain; 0, or -1 with every recipient's result set */
static int route_find(struct remote *rm, struct route_dest *d, int *routed)
{
	sa_t err = SA_INIT;
	struct routes rt = ROUTES_INIT;
	const struct route *e;
	char path[4300];

	*routed = 1;
	if (rm->conf.relayhost && *rm->conf.relayhost) {
		if (route_dest_parse(rm->conf.relayhost, strlen(rm->conf.relayhost), d, &err) < 0) {
			session_error(rm, 'T', "4.3.5", "none", "configuration error: relayhost: %s",
			              err.s ? err.s : "bad value");
			sa_free(&err);
			return -1;
		}
		return 0;
	}
	if (snprintf(path, sizeof path, "%s/routes", paths.etc) >= (int)sizeof path ||
	    routes_load(&rt, path, &err) < 0) {
		session_error(rm, 'T', "4.3.5", "none", "configuration error: %s",
		              err.s ? err.s : "routes path too long");
		sa_free(&err);
		routes_free(&rt);
		return -1;
	}
	e = routes_find(&rt, rm->domain, strlen(rm->domain));
	if (e)
		*d = e->dest;
	routes_free(&rt);
	sa_free(&err);
	if (e)
		return 0;
	*routed = 0;
	if (rm->domain[0] == '[') {
		/* an address literal: user@[192.0.2.1] */
		if (route_dest_parse(rm->domain, strlen(rm->domain), d, NULL) < 0 || !d->is_ip) {
			session_error(rm, 'P', "5.1.2", "none", "bad address literal %s", rm->domain);
			return -1;
		}
		return 0;
	}
	memset(d, 0, sizeof *d);
	snprintf(d->host, sizeof d->host, "%s", rm->domain);
	return 0;
}

/* try every address of host; stops when nothing is pending */
static void host_try(struct remote *rm, dns_t *dns, const char *host, unsigned port, int implicit,
                     int routed)
{
	struct dns_addr addrs[DNS_MAX_ADDR];
	struct dns_err e;
	struct peer p;
	size_t n = 0, i;
	int r;

	r = dns_addrs(dns, host, addrs, DNS_MAX_ADDR, &n, &e);
	if (r != DNS_OK) {
		/* a domain with neither MX nor address does not exist as a mail domain;
		 * an MX host or a route that does not resolve is somebody's mistake to fix */
		if (implicit && !routed && r == DNS_ENOTFOUND)
			session_error(rm, 'P', "5.1.2", "none", "%s", e.text);
		else
			session_error(rm, 'T', "4.4.3", "none", "%s", e.text);
		return;
	}
	if (n == 0) {
		if (implicit && !routed)
			session_error(rm, 'P', "5.4.4", "none", "no MX and no address records for %s", host);
		else
			session_error(rm, 'T', "4.4.3", "none", "no address records for %s", host);
		return;
	}
	for (i = 0; i < n && rcpt_pending(rm) > 0; i++) {
		char ip[INET6_ADDRSTRLEN];
		if (rm->attempts >= REMOTE_MAX_ADDRS)
			return;
		rm->attempts++;
		memset(&p, 0, sizeof p);
		p.name = host;
		p.addr = addrs[i];
		p.port = port;
		dns_addr_str(&addrs[i], ip, sizeof ip);
		snprintf(p.label, sizeof p.label, "%s[%s]:%u", host, ip, port);
		smtp_session(rm, &p);
	}
}

void route_deliver(struct remote *rm)
{
	struct route_dest d;
	struct dns_mx *mx = NULL;
	struct dns_err e;
	size_t nmx = 0, i;
	unsigned port;
	int routed, r;
	dns_t *dns;
	sa_t err = SA_INIT;

	if (route_find(rm, &d, &routed) < 0)
		return;
	port = d.port ? d.port : (unsigned)rm->conf.remote_port;
	if (d.is_ip) {
		struct peer p;
		memset(&p, 0, sizeof p);
		p.name = d.host;
		p.port = port;
		if (inet_pton(AF_INET, d.host, p.addr.a) == 1)
			p.addr.family = AF_INET;
		else if (inet_pton(AF_INET6, d.host, p.addr.a) == 1)
			p.addr.family = AF_INET6;
		snprintf(p.label, sizeof p.label, "%s[%s]:%u", d.host, d.host, port);
		rm->attempts++;
		smtp_session(rm, &p);
		return;
	}
	dns = malloc(sizeof *dns);
	if (!dns) {
		session_error(rm, 'T', "4.3.0", "none", "out of memory");
		return;
	}
	if (dns_init(dns, rm->conf.dns_servers, (int)rm->conf.remote_connect_timeout, &err) < 0) {
		session_error(rm, 'T', "4.3.5", "none", "configuration error: %s",
		              err.s ? err.s : "resolver");
		sa_free(&err);
		free(dns);
		return;
	}
	if (d.no_mx) {
		host_try(rm, dns, d.host, port, 1, routed);
		goto out;
	}
	r = dns_mx(dns, d.host, &mx, &nmx, &e);
	if (r != DNS_OK) {
		/* null MX and NXDOMAIN are answers; anything else: try again later */
		session_error(rm, e.class, e.status, "none", "%s", e.text);
		goto out;
	}
	if (nmx == 0) {
		/* RFC 5321 §5.1: no MX records: the domain's own address is the implicit MX */
		host_try(rm, dns, d.host, port, 1, routed);
		goto out;
	}
	for (i = 0; i < nmx && rcpt_pending(rm) > 0 && rm->attempts < REMOTE_MAX_ADDRS; i++)
		host_try(rm, dns, mx[i].host, port, 0, routed);
out:
	free(mx);
	dns_close(dns);
	free(dns);
}
