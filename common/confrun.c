/* confrun: which pochta.conf a program reads (see confrun.h). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "confrun.h"
#include "durable.h"
#include "paths.h"

const char *confrun_snapshot(void)
{
	static char path[sizeof paths.etc + 32];
	if (!paths.etc[0])
		return "";
	snprintf(path, sizeof path, "%s/pochta.conf.running", paths.etc);
	return path;
}

const char *confrun_path(void)
{
	const char *s = confrun_snapshot();
	if (*s && access(s, F_OK) == 0)
		return s;
	return paths.conf;
}

int confrun_load(struct conf *c, sa_t *err)
{
	const char *p = confrun_path();
	if (conf_load(c, p, err) == 0)
		return 0;
	if (errno != ENOENT || p == paths.conf)
		return -1;
	conf_free(c);
	if (err)
		sa_trunc(err, 0);
	return conf_load(c, paths.conf, err);
}

int confrun_write(const char *text, size_t len)
{
	const char *s = confrun_snapshot();
	if (!*s) {
		errno = EINVAL;
		return -1;
	}
	return durable_replace(s, text, len, 0644);
}

int confrun_remove(void)
{
	const char *s = confrun_snapshot();
	if (!*s || unlink(s) == 0 || errno == ENOENT)
		return 0;
	return -1;
}
