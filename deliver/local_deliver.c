/* local_deliver: one delivery's steps, shared by the one-shot mode and the
 * worker (man/pochta-local.8). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "addr.h"
#include "conf.h"
#include "local.h"
#include "localaddr.h"
#include "paths.h"
#include "priv.h"
#include "sysuser.h"
#include "users.h"

static int text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* a system user's recipient (kind LOCALADDR_SYSTEM): check the account as
 * it is now, as the root worker, before anything is forked or written */
static int route_system(const struct conf *conf, const struct localaddr_dest *ld,
                        struct local_dest *d, struct local_result *r)
{
	sa_t err = SA_INIT;
	int k;

	if (geteuid() != 0) {
		/* localaddr only says SYSTEM when pochta.conf is root's: a root
		 * instance whose delivery agent was not started as root */
		local_set(r, 'T', "4.3.5", "system users need pochta-local to run as root", NULL);
		return -1;
	}
	if (sysuser_mailbox_check(conf->home_mailbox, &err) < 0) {
		local_set(r, 'T', "4.3.5", "configuration error: home_mailbox", err.s);
		sa_free(&err);
		return -1;
	}
	k = sysuser_get(conf, ld->user, &d->su);
	if (k < 0) {
		local_set(r, 'T', "4.3.0", "cannot read the passwd database", strerror(errno));
		return -1;
	}
	/* gone, or its uid changed below the minimum or to root, since the lookup */
	if (k == 0) {
		local_set(r, 'P', "5.1.1", "user unknown", NULL);
		return -1;
	}
	if (priv_lookup(d->su.name, &d->pu, &err) < 0 || d->pu.uid != d->su.uid ||
	    d->su.uid != ld->uid) {
		local_set(r, 'T', "4.3.0", "cannot become the mailbox owner",
		          err.s ? err.s : "the account changed during the delivery");
		sa_free(&err);
		return -1;
	}
	d->system = 1;
	/* a ~/.forward (checked again when it is read: local_alias.c) */
	struct stat st;
	sa_t fw = SA_INIT;
	if (sa_catf(&fw, "%s/.forward", d->su.home) == 0 && lstat(fw.s, &st) == 0)
		d->expand = 1;
	sa_free(&fw);
	return 0;
}

int local_route(const struct conf *conf, const char *sender, const char *rcpt,
                struct local_dest *d, struct local_result *r)
{
	struct localaddr_dest ld;
	sa_t users = SA_INIT;
	struct addr a;
	int kind;

	d->system = 0;
	d->folder[0] = '\0';
	d->expand = 0;
	d->alias[0] = '\0';
	sa_trunc(&d->dir, 0);
	/* the envelope ends up in header lines: refuse anything a queue file
	 * could not have held */
	if (!text_ok(sender) || (sender[0] && addr_parse_u(sender, strlen(sender), &a, 1) != ADDR_OK)) {
		local_set(r, 'P', "5.1.7", "bad sender address", NULL);
		return -1;
	}
	if (!text_ok(rcpt) || localaddr_parse(rcpt, strlen(rcpt), &a) != ADDR_OK) {
		local_set(r, 'P', "5.1.3", "bad recipient address", NULL);
		return -1;
	}
	/* the mapping pochta-smtpd accepted the recipient with; etc/users is
	 * read each time, so a worker sees every change */
	if (sa_catf(&users, "%s/users", paths.etc) < 0) {
		local_set(r, 'T', "4.3.0", "out of memory", NULL);
		return -1;
	}
	kind = localaddr_lookup(conf, users.s, &a, &ld);
	sa_free(&users);
	if (kind == LOCALADDR_ALIAS) {
		d->expand = 1;
		memcpy(d->alias, ld.alias, sizeof d->alias);
		return 0;
	}
	return local_route_mailbox(conf, kind, &ld, d, r);
}

int local_route_mailbox(const struct conf *conf, int kind, const struct localaddr_dest *ld,
                        struct local_dest *d, struct local_result *r)
{
	d->system = 0;
	d->expand = 0;
	d->alias[0] = '\0';
	d->folder[0] = '\0';
	sa_trunc(&d->dir, 0);
	/* user+ext: the folder .ext when asked for and the name is safe, else the inbox */
	if (conf->extension_folders && (kind == LOCALADDR_USER || kind == LOCALADDR_SYSTEM))
		maildir_folder_name(ld->ext, d->folder);
	switch (kind) {
	case LOCALADDR_USER:
	case LOCALADDR_POSTMASTER:
		break;
	case LOCALADDR_SYSTEM:
		return route_system(conf, ld, d, r);
	case LOCALADDR_UNKNOWN:
		local_set(r, 'P', "5.1.1", "user unknown", NULL);
		return -1;
	case LOCALADDR_REMOTE:
		/* local_domains changed under a running pochta-qmgr: it routes
		 * the recipient again once restarted */
		local_set(r, 'T', "4.3.5", "not a local domain", NULL);
		return -1;
	default:
		if (errno == EINVAL)
			local_set(r, 'T', "4.3.5", "configuration error: postmaster", NULL);
		else if (errno == EBADMSG)
			local_set(r, 'T', "4.3.5", "configuration error: the aliases file (see the log)",
			          NULL);
		else
			local_set(r, 'T', "4.3.0", "cannot read the users file", NULL);
		return -1;
	}
	if (user_maildir(paths.mail, ld->user, &d->dir) < 0) {
		local_set(r, 'T', "4.3.0", "out of memory", NULL);
		return -1;
	}
	/* installed, mail is never written as root: a Maildir root owns (not
	 * made by `pochtactl setup` or `user add`) waits for its owner to be
	 * fixed. An instance run as root keeps its documented exception
	 * (pochta-master(8)). */
	struct stat st;
	if (!paths.root[0] && geteuid() == 0 && lstat(d->dir.s, &st) == 0 && st.st_uid == 0) {
		local_set(r, 'T', "4.3.0", "refusing to write mail as root",
		          "the Maildir belongs to root: pochtactl setup gives it to virtual_user");
		return -1;
	}
	return 0;
}

/* into the Maildir open as md, or into d's folder in it; a folder that
 * cannot be opened or made (a file or a link in its place, no space) leaves
 * the mail in the inbox: it is never lost for a folder */
static int write_at(const struct conf *conf, const struct local_dest *d, int md,
                    const char *sender, const char *rcpt, int in, struct local_result *r)
{
	int fd = d->folder[0] ? maildir_folder_open(md, d->folder) : -1, rc;

	rc = local_maildir_at(fd >= 0 ? fd : md, conf_hostname(conf), sender, rcpt, d->binary, in,
	                      r);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* a system user's Maildir: become the account (groups, gid, uid; priv.h
 * aborts when root could come back), then open HOME/home_mailbox following
 * no link, making what is missing as the account, and write */
static int write_system(const struct conf *conf, const struct local_dest *d, const char *sender,
                        const char *rcpt, int in, struct local_result *r)
{
	sa_t err = SA_INIT;
	int md, rc;

	if (priv_drop(&d->pu, &err) < 0) {
		local_set(r, 'T', "4.3.0", "cannot become the mailbox owner", err.s);
		sa_free(&err);
		return -1;
	}
	md = sysuser_maildir_open(d->su.home, conf->home_mailbox, 1, &err);
	if (md < 0) {
		local_set(r, 'T', errno == ENOSPC || errno == EDQUOT ? "4.2.2" : "4.2.0",
		          "mailbox unavailable", err.s);
		sa_free(&err);
		return -1;
	}
	sa_free(&err);
	rc = write_at(conf, d, md, sender, rcpt, in, r);
	close(md);
	return rc;
}

int local_write_virtual(const struct conf *conf, const struct local_dest *d, const char *sender,
                        const char *rcpt, int in, struct local_result *r)
{
	int md, rc;

	if (!d->folder[0])
		return local_maildir(d->dir.s, conf_hostname(conf), sender, rcpt, d->binary, in, r);
	md = open(d->dir.s, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (md < 0) {
		local_set(r, 'T', "4.2.0", "mailbox unavailable", strerror(errno));
		return -1;
	}
	rc = write_at(conf, d, md, sender, rcpt, in, r);
	close(md);
	return rc;
}

int local_write(const struct conf *conf, const struct local_dest *d, const char *sender,
                const char *rcpt, int in, struct local_result *r)
{
	if (d->system)
		return write_system(conf, d, sender, rcpt, in, r);
	if (local_become_owner(d->dir.s, r) < 0)
		return -1;
	return local_write_virtual(conf, d, sender, rcpt, in, r);
}

/* the owner to become for dir (uid in st), or 0 when the process writes it
 * as it is */
static int owner_to_become(const char *dir, struct stat *st)
{
	if (geteuid() != 0 || lstat(dir, st) < 0 || !S_ISDIR(st->st_mode) || st->st_uid == 0)
		return 0; /* a missing or odd Maildir: local_maildir reports it */
	return 1;
}

int local_owner_change(const char *dir)
{
	struct stat st;

	return owner_to_become(dir, &st);
}

/* The process that writes a virtual Maildir takes the identity of its owner
 * (pochtav when installed): run by that account nothing changes; run as
 * root, a Maildir owned by another account is written as that account (its
 * groups, gid, then uid: priv_drop, which proves setuid(0) fails and keeps
 * the parent-death signal), and one owned by root is refused by the caller
 * when installed. System users (a Maildir under their home, a minimum uid)
 * go through route_system and write_system instead. */
int local_become_owner(const char *dir, struct local_result *r)
{
	struct stat st;
	struct priv_user u;
	sa_t err = SA_INIT;

	if (!owner_to_become(dir, &st))
		return 0;
	/* the owner's account with its groups (priv_owner), or uid:gid alone;
	 * priv_drop proves setuid(0) fails and keeps the parent-death signal */
	if (priv_owner(st.st_uid, st.st_gid, &u, &err) < 0 || priv_drop(&u, &err) < 0) {
		local_set(r, 'T', "4.3.0", "cannot become the mailbox owner", err.s ? err.s : "?");
		sa_free(&err);
		return -1;
	}
	return 0;
}

void local_deliver(const struct conf *conf, const char *sender, const char *rcpt, int binary,
                   int in, struct local_result *r)
{
	struct local_dest d = LOCAL_DEST_INIT;

	d.binary = binary;
	if (local_route(conf, sender, rcpt, &d, r) < 0)
		;
	else if (d.expand)
		local_alias_deliver(conf, NULL, &d, sender, rcpt, in, -1, r);
	else
		local_write(conf, &d, sender, rcpt, in, r);
	sa_free(&d.dir);
}
