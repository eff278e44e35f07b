/* confcheck: what a key's value means, beyond its type and bounds (conf.c):
 * listen addresses, CIDR lists, domain lists, relayhost, dns_servers,
 * postmaster, myhostname. Shared by `pochtactl config` and pochta-master,
 * so a supervisor never runs a configuration that `config check` refuses. */
#ifndef POCHTA_CONFCHECK_H
#define POCHTA_CONFCHECK_H
#include "conf.h"
#include "sa.h"

/* 0 ok, -1 with a reason in err. A valid value that is almost never meant
 * (relay_networks holding a /0 block: an open relay) appends one line, ending
 * in '\n', to warn (when warn is not NULL). */
int confcheck_key(const struct conf_key *k, const char *value, sa_t *err, sa_t *warn);
/* the same for every key of c; -1 with "key: reason" in err */
int confcheck_all(const struct conf *c, sa_t *err, sa_t *warn);

/* everything `pochtactl config check` and a reload check, each problem one
 * "FILE:LINE: ..." (or "FILE: ...") line ending in '\n' in problems: every
 * bad line of the configuration text (name: its file), the meaning of every
 * key whose line is good (confcheck_key), and the tables beside it in
 * paths.etc that the programs read (routes, aliases, users). c gets the
 * values of the good lines. The number of problems (0: valid), -1 (ENOMEM). */
int confcheck_text(struct conf *c, const char *name, const char *text, size_t len,
                   sa_t *problems, sa_t *warn);

#endif
