/* libFuzzer harness: the DNS answer parsers (dns_classify, dns_parse_mx,
 * dns_parse_addrs, dns_mx_null, dns_addrs_merge) on arbitrary packets: no
 * crash, results within bounds, host names valid, bad names printable. */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"
#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_mx *mx = NULL;
	struct dns_addr a[DNS_MAX_ADDR];
	size_t n = 0, i;
	int c, r;

	c = dns_classify(data, size);
	if (c != DNS_OK && c != DNS_ENOTFOUND && c != DNS_ETEMP && c != DNS_EFAIL)
		abort();
	r = dns_parse_mx(data, size, &mx, &n);
	if (r == DNS_OK) {
		if (n > DNS_MAX_MX || (n == 0) != (mx == NULL))
			abort();
		for (i = 0; i < n; i++) {
			size_t len = strlen(mx[i].host), j;
			if (mx[i].pref > 65535 || len > ADDR_DOMAIN_MAX)
				abort();
			if (mx[i].kind == DNS_MX_HOST && !addr_domain_valid(mx[i].host, len))
				abort();
			if (mx[i].kind == DNS_MX_ROOT && len != 0)
				abort();
			if (mx[i].kind == DNS_MX_BADNAME)
				for (j = 0; j < len; j++)
					if (mx[i].host[j] < 0x21 || mx[i].host[j] > 0x7e)
						abort();
			if (mx[i].kind != DNS_MX_HOST && mx[i].kind != DNS_MX_ROOT &&
			    mx[i].kind != DNS_MX_BADNAME)
				abort();
		}
		if (dns_mx_null(mx, n) != (n == 1 && mx[0].kind == DNS_MX_ROOT && mx[0].pref == 0))
			abort();
		dns_mx_sort(mx, n);
		for (i = 1; i < n; i++)
			if (mx[i - 1].pref > mx[i].pref)
				abort();
		free(mx);
	} else if (r != DNS_EFAIL && r != -1) {
		abort();
	} else if (n != 0 || mx != NULL) {
		abort();
	}
	n = 0;
	r = dns_parse_addrs(data, size, ns_t_a, a, DNS_MAX_ADDR, &n);
	if (n > DNS_MAX_ADDR || (r != DNS_OK && r != DNS_EFAIL))
		abort();
	r = dns_parse_addrs(data, size, ns_t_aaaa, a, DNS_MAX_ADDR, &n);
	if (n > DNS_MAX_ADDR || (r != DNS_OK && r != DNS_EFAIL))
		abort();
	for (i = 0; i < n; i++)
		if (a[i].family != AF_INET && a[i].family != AF_INET6)
			abort();
	{
		int rr[2] = { c, r };
		int m = dns_addrs_merge(rr, 2, n);
		if ((n > 0 && m != DNS_OK) || (m != DNS_OK && m != c && m != r))
			abort();
	}
	return 0;
}
