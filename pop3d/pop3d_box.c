/* pop3d_box: the maildrop of one session. A snapshot of new/ and cur/ taken at
 * login under an exclusive lock; mail delivered later waits for the next
 * session. Messages found in new/ move to cur/ (NAME:2,) at once: the UIDL
 * comes from the unique part of the name, so it survives the move. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "maildir.h"
#include "pop3d.h"

struct ent {
	char *file;  /* "cur/NAME" or "new/NAME" */
};

/* leading decimal number of s (saturated), advancing *s */
static unsigned long long lead_num(const char **s)
{
	unsigned long long v = 0;
	const char *p = *s;

	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		v = v > (~0ULL - d) / 10 ? ~0ULL : v * 10 + d;
		p++;
	}
	*s = p;
	return v;
}

/* "SEC.MUSEC..." -> (SEC, USEC); other names sort after as (max, max) */
static void name_time(const char *name, unsigned long long *sec, unsigned long long *usec)
{
	const char *p = name;

	*sec = *usec = ~0ULL;
	if (*p < '0' || *p > '9')
		return;
	*sec = lead_num(&p);
	*usec = 0;
	if (p[0] == '.' && p[1] == 'M') {
		p += 2;
		*usec = lead_num(&p);
	}
}

int box_name_cmp(const char *a, const char *b)
{
	unsigned long long as, au, bs, bu;

	name_time(a, &as, &au);
	name_time(b, &bs, &bu);
	if (as != bs)
		return as < bs ? -1 : 1;
	if (au != bu)
		return au < bu ? -1 : 1;
	return strcmp(a, b);
}

static int ent_cmp(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;

	/* skip "new/" or "cur/" */
	return box_name_cmp(a->file + 4, b->file + 4);
}

static int ents_add(struct ent **v, size_t *n, size_t *cap, const char *sub, const char *name)
{
	size_t len, sz;
	char *f;

	if (*n == *cap) {
		size_t nc = *cap ? *cap : 64;
		struct ent *nv;
		if (size_mul(nc, 2, &nc) < 0 || size_mul(nc, sizeof **v, &sz) < 0)
			return -1;
		nv = realloc(*v, sz);
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	len = strlen(name);
	if (size_add(len, 4 + 4, &sz) < 0)
		return -1;
	f = malloc(sz);
	if (!f)
		return -1;
	memcpy(f, sub, 3);
	f[3] = '/';
	memcpy(f + 4, name, len + 1);
	(*v)[(*n)++].file = f;
	return 0;
}

/* move new/NAME to cur/NAME:2, without ever replacing a file there. Returns
 * the entry to use: "cur/..." after a move, "new/NAME" when it must stay, NULL
 * when it vanished. */
static char *move_new(int dirfd, char *file)
{
	char *to;
	size_t len = strlen(file), sz;
	int has_info = strchr(file + 4, ':') != NULL;
	struct stat st;

	if (size_add(len, 4, &sz) < 0 || !(to = malloc(sz)))
		return file;
	memcpy(to, "cur/", 4);
	memcpy(to + 4, file + 4, len - 4 + 1);
	if (!has_info)
		memcpy(to + len, ":2,", 4);
	if (renameat2(dirfd, file, dirfd, to, RENAME_NOREPLACE) == 0)
		goto moved;
	if (errno == EINVAL || errno == ENOSYS) {
		/* the filesystem lacks RENAME_NOREPLACE: we hold the lock and only
		 * a POP3 session writes cur/, so checking first is enough */
		if (fstatat(dirfd, to, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
		    renameat(dirfd, file, dirfd, to) == 0)
			goto moved;
	}
	if (errno == ENOENT && fstatat(dirfd, file, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		free(to);
		free(file);
		return NULL;
	}
	free(to);
	return file; /* serve it from new/ this time */
moved:
	free(file);
	return to;
}

static int list_dir(int dirfd, const char *sub, struct ent **v, size_t *n, size_t *cap)
{
	int fd = openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	for (;;) {
		size_t ulen;
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (!maildir_name_uniq(e->d_name, &ulen) || ulen == 0)
			continue;
		if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
			continue;
		if (ents_add(v, n, cap, sub, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
	}
	if (errno) {
		int sv = errno;
		closedir(d);
		errno = sv;
		return -1;
	}
	closedir(d);
	return 0;
}

/* the wire size of one file; 1 ok, 0 vanished or not a regular file, -1 error */
static int msg_size(int dirfd, const char *file, unsigned long long *octets)
{
	static char buf[65536];
	struct pop3_wire w;
	struct stat st;
	int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	ssize_t r;

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	pop3_wire_init(&w, 0, POP3_WIRE_ALL);
	for (;;) {
		r = read(fd, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		pop3_wire_put(&w, buf, (size_t)r, NULL);
	}
	pop3_wire_end(&w, NULL);
	close(fd);
	*octets = w.octets;
	return 1;
}

static void ents_free(struct ent *v, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < n; i++)
		free(v[i].file);
	free(v);
}

static int uid_cmp(const void *x, const void *y)
{
	const struct msg *const *a = x, *const *b = y;
	int c = strcmp((*a)->uid, (*b)->uid);

	if (c)
		return c;
	return *a < *b ? -1 : *a > *b;
}

/* RFC 1939 wants unique UIDs. Two files share a unique name only when a
 * name in new/ could not move because cur/ already had it: the later one in
 * message order then gets its path ("new/NAME"), which no unique part can
 * equal because a Maildir name never holds '/'. */
static int uids_unique(struct box *b)
{
	struct msg **v;
	size_t i, first = 0;

	if (b->n < 2)
		return 0;
	v = calloc(b->n, sizeof *v);
	if (!v)
		return -1;
	for (i = 0; i < b->n; i++)
		v[i] = &b->m[i];
	qsort(v, b->n, sizeof *v, uid_cmp);
	for (i = 1; i < b->n; i++) {
		if (strcmp(v[i]->uid, v[first]->uid) != 0) {
			first = i;
			continue;
		}
		pop3_uid_make(v[i]->file, strlen(v[i]->file), v[i]->uid);
	}
	free(v);
	return 0;
}

/* The Maildir spec asks readers to remove what a crashed delivery left in tmp/:
 * files neither read nor written for 36 hours. Trouble here only means they
 * stay until the next session. */
#define TMP_STALE (36 * 3600)
static void tmp_clean(int dirfd)
{
	int fd = openat(dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (now - st.st_atime > TMP_STALE && now - st.st_mtime > TMP_STALE)
			unlinkat(fd, e->d_name, 0);
	}
	closedir(d);
}

int box_open(struct box *b, const char *path)
{
	int fd;

	b->dirfd = b->lockfd = -1;
	b->m = NULL;
	b->n = 0;
	if (maildir_make(path, 0700) < 0)
		return BOX_ERR;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return BOX_ERR;
	return box_open_fd(b, fd);
}

int box_open_fd(struct box *b, int fd)
{
	struct ent *v = NULL;
	size_t n = 0, cap = 0, i, keep;
	int sv;

	b->lockfd = -1;
	b->m = NULL;
	b->n = 0;
	b->dirfd = fd;
	b->lockfd = openat(b->dirfd, "pop3.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (b->lockfd < 0)
		goto err;
	if (flock(b->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			box_close(b);
			return BOX_IN_USE;
		}
		goto err;
	}
	tmp_clean(b->dirfd);
	if (list_dir(b->dirfd, "new", &v, &n, &cap) < 0)
		goto err;
	for (i = 0; i < n; i++)
		v[i].file = move_new(b->dirfd, v[i].file);
	/* compact away the ones that vanished, then add cur/ */
	for (i = keep = 0; i < n; i++)
		if (v[i].file)
			v[keep++] = v[i];
	n = keep;
	if (list_dir(b->dirfd, "cur", &v, &n, &cap) < 0)
		goto err;
	/* a name moved just now is listed twice when readdir of cur/ saw it: the
	 * sort puts the copies side by side */
	if (n)
		qsort(v, n, sizeof *v, ent_cmp);
	for (i = keep = 0; i < n; i++) {
		if (keep > 0 && strcmp(v[keep - 1].file, v[i].file) == 0) {
			free(v[i].file);
			continue;
		}
		v[keep++] = v[i];
	}
	n = keep;
	/* the oldest first; the rest wait for a later session */
	if (n > BOX_MAX_MSGS) {
		for (i = BOX_MAX_MSGS; i < n; i++)
			free(v[i].file);
		n = BOX_MAX_MSGS;
	}
	b->m = calloc(n ? n : 1, sizeof *b->m);
	if (!b->m)
		goto err;
	for (i = 0; i < n; i++) {
		struct msg *m = &b->m[b->n];
		size_t ulen;
		int r;

		r = msg_size(b->dirfd, v[i].file, &m->octets);
		if (r <= 0) {
			if (r < 0) {
				sv = errno;
				ents_free(v, i, n);
				v = NULL;
				errno = sv;
				goto err;
			}
			free(v[i].file);
			continue;
		}
		m->file = v[i].file;
		maildir_name_uniq(m->file + 4, &ulen);
		pop3_uid_make(m->file + 4, ulen, m->uid);
		b->n++;
	}
	free(v);
	v = NULL;
	if (uids_unique(b) < 0)
		goto err;
	return BOX_OK;
err:
	sv = errno;
	if (v)
		ents_free(v, 0, n);
	box_close(b);
	errno = sv;
	return BOX_ERR;
}

struct msg *box_get(struct box *b, unsigned long num)
{
	if (num == 0 || num > b->n)
		return NULL;
	return &b->m[num - 1];
}

void box_stat(const struct box *b, size_t *count, unsigned long long *octets)
{
	size_t i;

	*count = 0;
	*octets = 0;
	for (i = 0; i < b->n; i++) {
		if (b->m[i].deleted)
			continue;
		(*count)++;
		*octets += b->m[i].octets;
	}
}

int box_update(struct box *b, unsigned long *removed)
{
	size_t i;
	int ok = 1, sync_new = 0, sync_cur = 0, fd;

	*removed = 0;
	for (i = 0; i < b->n; i++) {
		if (!b->m[i].deleted)
			continue;
		if (unlinkat(b->dirfd, b->m[i].file, 0) < 0 && errno != ENOENT) {
			ok = 0;
			continue;
		}
		(*removed)++;
		if (b->m[i].file[0] == 'n')
			sync_new = 1;
		else
			sync_cur = 1;
	}
	/* make the removals durable before saying +OK */
	if (sync_cur && (fd = openat(b->dirfd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) < 0)
			ok = 0;
		close(fd);
	}
	if (sync_new && (fd = openat(b->dirfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		if (fsync(fd) < 0)
			ok = 0;
		close(fd);
	}
	return ok ? 0 : -1;
}

void box_close(struct box *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->m[i].file);
	free(b->m);
	b->m = NULL;
	b->n = 0;
	if (b->lockfd >= 0)
		close(b->lockfd);
	if (b->dirfd >= 0)
		close(b->dirfd);
	b->lockfd = b->dirfd = -1;
}
