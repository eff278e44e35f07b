/* checkpass_check: one password check (checkpass.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "checkpass.h"
#include "conf.h"
#include "confrun.h"
#include "log.h"
#include "passreq.h"
#include "paths.h"
#include "sysuser.h"
#include "users.h"

long checkpass_read(int fd, char *buf, size_t max)
{
	size_t len = 0;

	/* one byte more than a request may hold tells a long one from a full one */
	while (len < max + 1) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (long)len;
}

int checkpass_check(char *buf, size_t len)
{
	char path[sizeof paths.etc + 16], stored[PASS_HASH_MAX + 1];
	struct passreq req;
	struct conf conf;
	sa_t err = SA_INIT;
	int r, known, ok;

	r = passreq_parse(buf, len, &req);
	explicit_bzero(buf, len);
	if (r < 0) {
		log_warn(NULL, "malformed request (%zu bytes)", len);
		return 100;
	}
	if (confrun_load(&conf, &err) < 0) {
		explicit_bzero(&req, sizeof req);
		log_warn(NULL, "%s", err.s ? err.s : "cannot load the configuration");
		sa_free(&err);
		return 111;
	}
	log_configure(conf.log_destination, conf.log_format, paths.log);
	snprintf(path, sizeof path, "%s/passwd", paths.etc);
	known = pass_lookup(path, req.name, stored);
	if (known < 0) {
		explicit_bzero(&req, sizeof req);
		conf_free(&conf);
		log_warn(NULL, "cannot check the password: %s: %s", path, strerror(errno));
		return 111;
	}
	if (known || !sysuser_enabled(&conf)) {
		r = pass_verify(known ? stored : NULL, req.pass);
		ok = 0;
	} else {
		r = sysuser_pass_check(&conf, req.name, req.pass);
		ok = 2;
		if (r < 0)
			log_warn(NULL, "cannot check the password: the shadow database: %s", strerror(errno));
	}
	if (r < 0 && ok == 0)
		log_warn(NULL, "cannot check the password: %s", strerror(errno));
	explicit_bzero(&req, sizeof req);
	explicit_bzero(stored, sizeof stored);
	conf_free(&conf);
	if (r < 0)
		return 111;
	return r ? ok : 1;
}
