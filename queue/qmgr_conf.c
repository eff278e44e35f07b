/* qmgr_conf: the queue manager's configuration, read again when the file it
 * reads (the supervisor's checked copy, confrun.h) changes, and at once on
 * SIGHUP (sent by pochta-master on reload). pochta-smtpd reads the file for
 * each session, so without this a running queue manager would route mail for
 * a domain just added to local_domains by the old list: accepted, then
 * bounced by pochta-remote (backscatter). The file is checked before new mail
 * is taken; a broken file is logged and the last valid configuration kept. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "confrun.h"
#include "log.h"
#include "paths.h"
#include "qmgr.h"

static struct stat qmgr_conf_seen;

static int qmgr_conf_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int qmgr_conf_load(sa_t *err)
{
	const char *path = confrun_path();
	if (stat(path, &qmgr_conf_seen) < 0)
		memset(&qmgr_conf_seen, 0, sizeof qmgr_conf_seen);
	return conf_load(&Q.conf, path, err);
}

void qmgr_conf_check(void)
{
	struct stat st;
	struct conf c;
	sa_t err = SA_INIT;

	const char *path = confrun_path();

	if (stat(path, &st) < 0 || qmgr_conf_same(&st, &qmgr_conf_seen))
		return;
	qmgr_conf_seen = st;
	if (conf_load(&c, path, &err) < 0) {
		log_warn(NULL, "configuration not reloaded, the last valid one stays in effect: %s",
		         err.s ? err.s : strerror(errno));
		sa_free(&err);
		conf_free(&c);
		return;
	}
	sa_free(&err);
	/* the delivery slots are allocated once */
	if (c.delivery_concurrency != Q.conf.delivery_concurrency) {
		log_warn(NULL, "delivery_concurrency %lld takes effect at the next start; %lld until then",
		         c.delivery_concurrency, Q.conf.delivery_concurrency);
		c.delivery_concurrency = Q.conf.delivery_concurrency;
	}
	conf_free(&Q.conf);
	Q.conf = c;
	log_info(NULL, "configuration reloaded from %s", path);
}
