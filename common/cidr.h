/* cidr: IPv4/IPv6 network blocks for relay_networks. An IPv4-mapped IPv6
 * client address (::ffff:a.b.c.d) matches IPv4 blocks. */
#ifndef POCHTA_CIDR_H
#define POCHTA_CIDR_H
#include <stddef.h>
#include "sa.h"

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network order; IPv4 in the first 4 bytes */
	int bits;
};

/* "10.0.0.0/8", "::1/128", "192.0.2.1" (a host); 0 or -1 */
int cidr_parse(const char *s, size_t len, struct cidr *c);
/* a comma/space separated list into a new array (*out, *n; free() it);
 * 0, or -1 with the bad item named in err */
int cidr_list_parse(const char *list, struct cidr **out, size_t *n, sa_t *err);
/* the same, where an item that is name, or name with a '$' before it (as
 * Postfix writes $mynetworks), stands for the blocks of the list named */
int cidr_list_parse_ref(const char *list, const char *name, const char *named,
                        struct cidr **out, size_t *n, sa_t *err);
/* 1 when the textual address ip is inside one of the blocks, 0 when not or unparsable */
int cidr_match(const struct cidr *list, size_t n, const char *ip);

#endif
