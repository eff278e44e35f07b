/* rlimits: session resource limits (rlimits.h). */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include "rlimits.h"

/* AddressSanitizer reserves terabytes of address space for its shadow: an
 * address-space limit would stop a sanitized build before main */
#if defined(__SANITIZE_ADDRESS__)
#define RLIMITS_NO_AS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RLIMITS_NO_AS 1
#endif
#endif

/* lower resource res to want (0: leave it); the CPU limit keeps a few seconds
 * between SIGXCPU (soft) and SIGKILL (hard) */
static int rlimits_lower(int res, const char *name, long long want, rlim_t grace, sa_t *err)
{
	struct rlimit r;
	rlim_t soft, hard;

	if (want <= 0)
		return 0;
	if (getrlimit(res, &r) < 0)
		goto fail;
	soft = (rlim_t)want;
	hard = soft + grace;
	if (r.rlim_max != RLIM_INFINITY && hard > r.rlim_max)
		hard = r.rlim_max;
	if (soft > hard)
		soft = hard;
	r.rlim_cur = soft;
	r.rlim_max = hard;
	if (setrlimit(res, &r) == 0)
		return 0;
fail:
	sa_copys(err, name);
	sa_cats(err, ": ");
	sa_cats(err, strerror(errno));
	return -1;
}

int rlimits_session(const struct conf *c, sa_t *err)
{
#ifndef RLIMITS_NO_AS
	if (rlimits_lower(RLIMIT_AS, "session_memory_limit", c->session_memory_limit, 0, err) < 0)
		return -1;
#endif
	if (rlimits_lower(RLIMIT_NOFILE, "session_files_limit", c->session_files_limit, 0, err) < 0 ||
	    rlimits_lower(RLIMIT_CPU, "session_cpu_limit", c->session_cpu_limit, 5, err) < 0)
		return -1;
	return 0;
}
