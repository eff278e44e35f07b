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
	if (e) {
		*d = e->dest;
		rm->tls_verify = e->tls_verify;
	}
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

/* what the lookups of a destination's hosts found, for when no host could be
 * tried: the first temporary failure, else the first permanent one */
struct walk {
	int tried;                      /* a connection was attempted */
	struct dns_err e;               /* class 0: nothing failed */
};

/* whether a failure of class c replaces what w holds */
static int walk_takes(const struct walk *w, char c)
{
	return !(w->e.class == 'T' || (w->e.class == 'P' && c == 'P'));
}

/* the host of a destination */
enum host_role {
	HOST_IMPLICIT,                  /* the mail domain itself (no MX records) */
	HOST_MX,                        /* an MX host of the mail domain */
	HOST_ROUTED                     /* from relayhost or etc/routes: our configuration */
};

/* try every address of host; stops when nothing is pending */
static void host_try(struct remote *rm, dns_t *dns, const char *host, unsigned port,
                     enum host_role role, struct walk *w)
{
	struct dns_addr addrs[DNS_MAX_ADDR];
	struct dns_err e;
	struct peer p;
	size_t n = 0, i;
	int r;

	r = dns_addrs(dns, host, addrs, DNS_MAX_ADDR, &n, &e);
	if (r != DNS_OK || n == 0) {
		/* a name that does not exist or has no address is an answer, final for
		 * the mail domain and its MX hosts (RFC 5321 5.1); a failed lookup, or a
		 * route of ours that does not resolve, is worth another try */
		char c = (r == DNS_ENOTFOUND || r == DNS_OK) && role != HOST_ROUTED ? 'P' : 'T';
		const char *status = c == 'T' ? "4.4.3" : role == HOST_IMPLICIT && r != DNS_OK ? "5.1.2"
		                                                                               : "5.4.4";
		if (!walk_takes(w, c))
			return;
		if (r != DNS_OK)
			dns_err_set(&w->e, c, status, "%s", e.text);
		else if (role == HOST_IMPLICIT)
			dns_err_set(&w->e, c, status, "no MX and no address records for %s", host);
		else
			dns_err_set(&w->e, c, status, "no address records for %s", host);
		return;
	}
	for (i = 0; i < n && rcpt_pending(rm) > 0; i++) {
		char ip[INET6_ADDRSTRLEN];
		if (rm->attempts >= REMOTE_MAX_ADDRS)
			return;
		rm->attempts++;
		w->tried = 1;
		memset(&p, 0, sizeof p);
		p.name = host;
		p.addr = addrs[i];
		p.port = port;
		dns_addr_str(&addrs[i], ip, sizeof ip);
		snprintf(p.label, sizeof p.label, "%s[%s]:%u", host, ip, port);
		smtp_session(rm, &p);
	}
}

/* the MX hosts in preference order; records that name no host are skipped
 * (a lone "MX 0 ." never gets here: that is the null MX) */
static void mx_walk(struct remote *rm, dns_t *dns, const char *domain, const struct dns_mx *mx,
                    size_t nmx, unsigned port, int routed, struct walk *w)
{
	size_t i;

	for (i = 0; i < nmx && rcpt_pending(rm) > 0 && rm->attempts < REMOTE_MAX_ADDRS; i++) {
		char class = routed ? 'T' : 'P';
		const char *status = routed ? "4.4.3" : "5.4.4";
		if (mx[i].kind != DNS_MX_HOST && !walk_takes(w, class))
			continue;
		if (mx[i].kind == DNS_MX_ROOT)
			dns_err_set(&w->e, class, status, "unusable MX record for %s: \".\" at preference %u "
			            "(a null MX is a single record at preference 0)", domain, mx[i].pref);
		else if (mx[i].kind != DNS_MX_HOST)
			dns_err_set(&w->e, class, status, "unusable MX record for %s: bad host name %s",
			            domain, mx[i].host);
		else
			host_try(rm, dns, mx[i].host, port, routed ? HOST_ROUTED : HOST_MX, w);
	}
}

void route_deliver(struct remote *rm)
{
	struct route_dest d;
	struct dns_mx *mx = NULL;
	struct dns_err e;
	size_t nmx = 0;
	unsigned port;
	int routed, r;
	dns_t *dns;
	sa_t err = SA_INIT;
	struct walk w;

	memset(&w, 0, sizeof w);
	if (route_find(rm, &d, &routed) < 0)
		return;
	/* a kept connection to the domain: no lookup, no new connection */
	if (rm->cache && smtp_cached(rm))
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
		host_try(rm, dns, d.host, port, routed ? HOST_ROUTED : HOST_IMPLICIT, &w);
		goto out;
	}
	r = dns_mx(dns, d.host, &mx, &nmx, &e);
	if (r != DNS_OK) {
		/* null MX and NXDOMAIN are answers; anything else: try again later */
		session_error(rm, e.class, e.status, "none", "%s", e.text);
		goto out;
	}
	if (nmx == 0)
		/* RFC 5321 5.1: no MX records: the domain's own address is the implicit MX */
		host_try(rm, dns, d.host, port, routed ? HOST_ROUTED : HOST_IMPLICIT, &w);
	else
		/* MX records present but none usable is an error, never the implicit MX */
		mx_walk(rm, dns, d.host, mx, nmx, port, routed, &w);
out:
	/* no host could be tried: the lookups' verdict; else each recipient keeps
	 * what its sessions said */
	if (!w.tried && w.e.class && rcpt_pending(rm) > 0)
		session_error(rm, w.e.class, w.e.status, "none", "%s", w.e.text);
	free(mx);
	dns_close(dns);
	free(dns);
}
