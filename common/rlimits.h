/* rlimits: the resource limits of a network-facing process (pochta-smtpd,
 * pochta-pop3d, and what they start), from the session_*_limit keys. Set
 * early, before the first byte from the network is read; only ever lowered,
 * soft and hard together, so the process cannot raise them again. */
#ifndef POCHTA_RLIMITS_H
#define POCHTA_RLIMITS_H
#include "conf.h"
#include "sa.h"

/* 0, or -1 with a reason in err */
int rlimits_session(const struct conf *c, sa_t *err);

#endif
