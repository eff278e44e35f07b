/* confcheck: the meaning of configuration values, for pochtactl and pochta-master. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"
#include "fileread.h"
#include "aliases.h"
#include "cidr.h"
#include "confcheck.h"
#include "dns.h"
#include "listen.h"
#include "paths.h"
#include "localaddr.h"
#include "routes.h"
#include "sysuser.h"
#include "users.h"

static int confcheck_domain_item(const char *item, size_t len, void *arg)
{
	sa_t *err = arg;
	if (!addr_domain_valid(item, len)) {
		sa_copys(err, "not a domain name: ");
		sa_catb(err, item, len);
		return 1;
	}
	return 0;
}

static int confcheck_catchall_item(const char *item, size_t len, void *arg)
{
	const char *d, *m;
	size_t dl, ml;

	if (localaddr_catchall_parse(item, len, &d, &dl, &m, &ml) < 0) {
		sa_copys(arg, "not @DOMAIN:MAILBOX (MAILBOX a user name, or NAME@DOMAIN): ");
		sa_catb(arg, item, len);
		return 1;
	}
	return 0;
}

int confcheck_key(const struct conf_key *k, const char *value, sa_t *err, sa_t *warn)
{
	const char *n = k->name;
	if (strcmp(n, "smtp_listen") == 0 || strcmp(n, "pop3_listen") == 0 ||
	    strcmp(n, "submission_listen") == 0) {
		struct listen_addr l;
		if (!*value)
			return 0;
		return listen_parse(value, &l, err);
	}
	if (strcmp(n, "relay_networks") == 0 || strcmp(n, "connection_limit_exempt") == 0) {
		/* in connection_limit_exempt the word relay_networks stands for that
		 * key's blocks, which are checked as their own key */
		int exempt = strcmp(n, "connection_limit_exempt") == 0;
		struct cidr *list = NULL;
		size_t cnt = 0;
		sa_t bad = SA_INIT;
		int r = exempt ? cidr_list_parse_ref(value, "relay_networks", "", &list, &cnt, &bad)
		               : cidr_list_parse(value, &list, &cnt, &bad);
		for (size_t i = 0; r == 0 && !exempt && i < cnt; i++)
			if (list[i].bits == 0 && warn) /* valid, but almost never what was meant */
				sa_catf(warn, "warning: relay_networks holds %s/0: every client may relay (an open relay)\n",
				        list[i].family == AF_INET ? "0.0.0.0" : "::");
		free(list);
		if (r < 0) {
			sa_copys(err, exempt ? "not a CIDR block or relay_networks: " : "not a CIDR block: ");
			sa_catb(err, bad.s ? bad.s : "", bad.len);
		}
		sa_free(&bad);
		return r < 0 ? -1 : 0;
	}
	if (strcmp(n, "local_domains") == 0 || strcmp(n, "virtual_domains") == 0) {
		if (conf_list_each(value, confcheck_domain_item, err) != 0)
			return -1;
		return 0;
	}
	if (strcmp(n, "catch_all") == 0) {
		if (conf_list_each(value, confcheck_catchall_item, err) != 0)
			return -1;
		return 0;
	}
	if (strcmp(n, "myhostname") == 0) {
		if (*value && !addr_domain_valid(value, strlen(value))) {
			sa_copys(err, "not a host name");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "relayhost") == 0) {
		/* the parser pochta-remote uses for routes and relayhost */
		struct route_dest d;
		if (!*value)
			return 0;
		return route_dest_parse(value, strlen(value), &d, err) < 0 ? -1 : 0;
	}
	if (strcmp(n, "dns_servers") == 0) {
		dns_t d;
		if (!*value)
			return 0;
		if (dns_init(&d, value, 0, err) < 0)
			return -1;
		dns_close(&d);
		return 0;
	}
	if (strcmp(n, "log_destination") == 0 || strcmp(n, "log_format") == 0) {
		int dest = n[4] == 'd';
		if (dest ? strcmp(value, "stderr") && strcmp(value, "file") && strcmp(value, "syslog")
		         : strcmp(value, "text") && strcmp(value, "json")) {
			sa_copys(err, dest ? "not stderr, file or syslog" : "not text or json");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "home_mailbox") == 0)
		return sysuser_mailbox_check(value, err);
	if (strcmp(n, "postmaster") == 0) {
		if (!user_name_valid(value, strlen(value))) {
			sa_copys(err, "not a valid user name");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "admin_alias") == 0) {
		const char *v;
		if (aliases_target_kind(value, &v) != ALIASES_T_NAME || strpbrk(value, " \t")) {
			sa_copys(err, "not a local name (a local part without @)");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "default_privs") == 0) {
		if (!user_name_valid(value, strlen(value)) || strcmp(value, "root") == 0) {
			sa_copys(err, "not an account name (not root)");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "smtpd_user") == 0 || strcmp(n, "qmgr_user") == 0 ||
	    strcmp(n, "remote_user") == 0 || strcmp(n, "virtual_user") == 0 ||
	    strcmp(n, "queue_group") == 0 || (strcmp(n, "instance_user") == 0 && *value)) {
		/* handed to useradd/groupadd: a plain system account name */
		if (!user_name_valid(value, strlen(value)) ||
		    !((value[0] >= 'a' && value[0] <= 'z') || value[0] == '_') ||
		    strcmp(value, "root") == 0) {
			sa_copys(err, "not a system account name (a-z or _, then a-z 0-9 . _ -; not root)");
			return -1;
		}
		return 0;
	}
	if (strcmp(n, "session_memory_limit") == 0 || strcmp(n, "session_files_limit") == 0) {
		/* below these a session cannot even start: no limit is meant */
		long long least = n[8] == 'm' ? 16LL * 1024 * 1024 : 16;
		long long v = strtoll(value, NULL, 10);
		if (v != 0 && v < least) {
			sa_copys(err, n[8] == 'm' ? "0 (no limit) or at least 16777216 (16 MiB)"
			                          : "0 (no limit) or at least 16");
			return -1;
		}
		return 0;
	}
	return 0;
}

int confcheck_all(const struct conf *c, sa_t *err, sa_t *warn)
{
	sa_t v = SA_INIT, why = SA_INIT;
	int r = 0;
	for (size_t i = 0; i < conf_nkeys && r == 0; i++) {
		const struct conf_key *k = &conf_keys[i];
		sa_trunc(&v, 0);
		if (conf_format(c, k, &v) < 0) {
			sa_copys(err, "out of memory");
			r = -1;
		} else if (confcheck_key(k, v.s ? v.s : "", &why, warn) < 0) {
			sa_copys(err, k->name);
			sa_cats(err, ": ");
			sa_catb(err, why.s ? why.s : "", why.len);
			r = -1;
		}
	}
	sa_free(&v);
	sa_free(&why);
	return r;
}

/* a table of paths.etc that does not load: one problem line */
static int confcheck_table(const char *file, sa_t *problems)
{
	sa_t path = SA_INIT, err = SA_INIT, text = SA_INIT;
	int bad = 0;
	if (sa_catf(&path, "%s/%s", paths.etc, file) < 0)
		goto nomem;
	if (strcmp(file, "routes") == 0) {
		struct routes r = ROUTES_INIT;
		bad = routes_load(&r, path.s, &err) < 0;
		routes_free(&r);
	} else if (strcmp(file, "aliases") == 0) {
		struct aliases_tab t = ALIASES_TAB_INIT;
		if (file_read_all(path.s, ALIASES_FILE_MAX, 0, &text, NULL) < 0) {
			if (errno != ENOENT) {
				bad = 1;
				sa_catf(&err, "%s: %s", path.s, strerror(errno));
			}
		} else {
			bad = aliases_parse(text.s ? text.s : "", text.len, path.s, &t, &err) < 0;
		}
		aliases_free(&t);
	} else {
		size_t n;
		if (users_list(path.s, &text, &n) < 0 && errno != ENOENT) {
			bad = 1;
			sa_catf(&err, "%s: %s", path.s, strerror(errno));
		}
	}
	if (bad && (sa_cats(problems, err.len ? err.s : path.s) < 0 || sa_catc(problems, '\n') < 0))
		goto nomem;
	sa_free(&path);
	sa_free(&err);
	sa_free(&text);
	return bad;
nomem:
	sa_free(&path);
	sa_free(&err);
	sa_free(&text);
	errno = ENOMEM;
	return -1;
}

int confcheck_text(struct conf *c, const char *name, const char *text, size_t len,
                   sa_t *problems, sa_t *warn)
{
	unsigned char bad[CONF_NKEYS];
	sa_t v = SA_INIT, why = SA_INIT;
	int n = conf_parse_all(c, name, text, len, problems, bad);
	static const char *const tables[] = { "routes", "aliases", "users" };

	if (n < 0)
		return -1;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (bad[i])
			continue;
		sa_trunc(&v, 0);
		sa_trunc(&why, 0);
		if (conf_format(c, k, &v) < 0)
			goto nomem;
		if (confcheck_key(k, v.s ? v.s : "", &why, warn) == 0)
			continue;
		unsigned long line = conf_key_line(text, len, k->name);
		int r = line ? sa_catf(problems, "%s:%lu: %s: %s\n", name, line, k->name, why.s ? why.s : "")
		             : sa_catf(problems, "%s: %s (default): %s\n", name, k->name, why.s ? why.s : "");
		if (r < 0)
			goto nomem;
		n++;
	}
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		int r = confcheck_table(tables[i], problems);
		if (r < 0)
			goto nomem;
		n += r;
	}
	sa_free(&v);
	sa_free(&why);
	return n;
nomem:
	sa_free(&v);
	sa_free(&why);
	errno = ENOMEM;
	return -1;
}
