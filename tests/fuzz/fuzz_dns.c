/* libFuzzer harness: the DNS answer parsers (dns_classify, dns_parse_mx,
 * dns_parse_addrs) on arbitrary packets: no crash, results within bounds,
 * host names valid. */
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
		for (i = 0; i < n; i++)
			if (mx[i].pref > 65535 || !addr_domain_valid(mx[i].host, strlen(mx[i].host)))
				abort();
		dns_mx_sort(mx, n);
		for (i = 1; i < n; i++)
			if (mx[i - 1].pref > mx[i].pref)
				abort();
		free(mx);
	} else if (r != DNS_ENULLMX && r != DNS_EFAIL && r != -1) {
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
	return 0;
}
