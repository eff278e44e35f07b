/* users: etc/users (NAME per line) and etc/passwd (NAME:HASH per line).
 *
 * Reading is forgiving, never trusting: files are read whole up to USERS_FILE_MAX
 * (EFBIG beyond); blanks around a users line are ignored; '#' comment lines,
 * blank lines, lines over USERS_LINE_MAX bytes, invalid names and passwd lines
 * without "NAME:" and a non-empty hash are skipped. A missing file reads as empty.
 * users_list() appends to out. users_add() without replace fails with EEXIST when
 * NAME is in either file; users_del() with ENOENT when it is in neither.
 * Writing (users_add/users_del) keeps every other line as it was (comments
 * included), replaces or removes only NAME's lines, and commits each file with
 * durable_replace(): etc/passwd mode 0600, etc/users 0644. Order: add writes
 * passwd first, then users (mail is accepted only for a user who can already log
 * in); del removes from users first (stop accepting mail), then passwd. A crash
 * between the two leaves a harmless half state that the next add/del repairs.
 * Concurrent add/del are serialized with flock(2) on passwd's directory, so no
 * read-modify-write loses another's change (readers need no lock: each file is
 * replaced by rename).
 * Passwords: crypt_rn(3) with a setting from crypt_gensalt_rn(3) fed 16 bytes of
 * getrandom(2) (or /dev/urandom); "$y$" yescrypt when libcrypt has it, else "$6$".
 * pass_check() runs crypt on a dummy hash for an unknown user and compares in
 * constant time, so a probe cannot tell unknown users by timing. A stored hash
 * that crypt refuses ("!", "*", "x"...) never matches: that locks an account. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include "durable.h"
#include "fileread.h"
#include "users.h"

#define USERS_FILE_MAX (64u * 1024 * 1024)
#define USERS_LINE_MAX 1024
#define SALT_RANDOM 16

/* fixed settings hashed for unknown users; equal in cost to what pass_hash makes */
static const char dummy_y[] = "$y$j9T$k2XAnEHBqQ1Ct2aMXFKNa/$IUe1lYZw9vps0EiCIL/QOwr1H.IAb3oPtFUkD7liER5";
static const char dummy_6[] = "$6$k2XAnEHBqQ1Ct2aM$LgcxfwyISlxlQfzXiSviWx7PFQ.O7/uRcwtNCpp"
                              "j8sRgjkkpL2fuGIVkSad7Upmsryeg8dtdhBo96W2S5I8dM.";

int user_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > USER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int user_name_valid_u(const char *name, size_t len)
{
	if (len == 0 || len > USER_NAME_MAX || name[0] == '.' || name[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int u;
		if ((unsigned char)c >= 0x80 && (u = addr_utf8_len(name + i, len - i)) > 0) {
			i += (size_t)u - 1; /* never '/', '.', NUL or a control: a safe path part */
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

int user_mailbox_valid(const char *name, size_t len)
{
	const char *at = memchr(name, '@', len);
	size_t n = at ? (size_t)(at - name) : len;

	if (!user_name_valid_u(name, n))
		return 0;
	if (!at)
		return 1;
	len -= n + 1;
	/* stored as compared: lowercase (addresses are folded before lookup) */
	for (size_t i = 0; i < len; i++)
		if (at[1 + i] >= 'A' && at[1 + i] <= 'Z')
			return 0;
	return len > 0 && at[1] != '[' && addr_domain_valid(at + 1, len);
}

const char *user_mailbox_domain(const char *mailbox)
{
	const char *at = strchr(mailbox, '@');

	return at ? at + 1 : NULL;
}

int user_maildir(const char *mail_dir, const char *mailbox, sa_t *out)
{
	const char *dom = user_mailbox_domain(mailbox);

	if (!dom)
		return sa_catf(out, "%s/%s", mail_dir, mailbox);
	return sa_catf(out, "%s/%s/%.*s", mail_dir, dom, (int)(dom - 1 - mailbox), mailbox);
}

/* the whole file into out (replacing it); a missing file is empty. The
 * file's stat, when st is not NULL (st_ino 0: missing). */
static int file_read_st(const char *path, sa_t *out, struct stat *stp)
{
	if (stp)
		memset(stp, 0, sizeof *stp);
	if (file_read_all(path, USERS_FILE_MAX, 0, out, stp) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return sa_ready(out, 0) < 0 ? -1 : 0;
}

static int file_read(const char *path, sa_t *out)
{
	return file_read_st(path, out, NULL);
}

/* iterate over the lines of a buffer: *pos advances past each LF */
static int next_line(const sa_t *buf, size_t *pos, const char **line, size_t *len)
{
	const char *nl;

	if (*pos >= buf->len)
		return 0;
	*line = buf->s + *pos;
	nl = memchr(*line, '\n', buf->len - *pos);
	*len = nl ? (size_t)(nl - *line) : buf->len - *pos;
	*pos += *len + (nl ? 1 : 0);
	return 1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* the user name on a users line, or NULL for a comment, blank or bad line */
static const char *users_line_name(const char *l, size_t n, size_t *namelen)
{
	if (n > USERS_LINE_MAX)
		return NULL;
	while (n > 0 && is_blank(*l)) {
		l++;
		n--;
	}
	while (n > 0 && is_blank(l[n - 1]))
		n--;
	if (n == 0 || l[0] == '#' || !user_mailbox_valid(l, n))
		return NULL;
	*namelen = n;
	return l;
}

/* NAME and HASH of a passwd line; 0 for a bad line */
static int passwd_line(const char *l, size_t n, size_t *namelen, const char **hash,
                       size_t *hashlen)
{
	const char *colon;

	if (n > USERS_LINE_MAX)
		return 0;
	if (n > 0 && l[n - 1] == '\r')
		n--;
	colon = memchr(l, ':', n);
	if (!colon || !user_mailbox_valid(l, (size_t)(colon - l)))
		return 0;
	*namelen = (size_t)(colon - l);
	*hash = colon + 1;
	*hashlen = n - *namelen - 1;
	return *hashlen > 0 && *hashlen <= PASS_HASH_MAX;
}

static int name_eq(const char *a, size_t alen, const char *name)
{
	return alen == strlen(name) && memcmp(a, name, alen) == 0;
}

static int users_has(const sa_t *buf, const char *name)
{
	size_t pos = 0, len, nl;
	const char *l, *nm;

	while (next_line(buf, &pos, &l, &len))
		if ((nm = users_line_name(l, len, &nl)) && name_eq(nm, nl, name))
			return 1;
	return 0;
}

/* The users file as last read, for long-lived readers (delivery workers, a
 * session's RCPTs): a stat per lookup instead of a read. A replaced file (new
 * inode: pochtactl renames) or a changed size, mtime or ctime is read again.
 * A file changed within the last USERS_RACY_S seconds is never trusted from
 * memory: a same-size rewrite inside one timestamp tick would look unchanged
 * (git's "racily clean" case). */
#define USERS_RACY_S 2
static struct {
	sa_t path, buf;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	int valid;
} users_cache = { SA_INIT, SA_INIT, 0, 0, 0, { 0, 0 }, { 0, 0 }, 0 };

static int ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int users_cache_fresh(const char *path, const struct stat *st)
{
	return users_cache.valid && strcmp(users_cache.path.s, path) == 0 &&
	       st->st_dev == users_cache.dev && st->st_ino == users_cache.ino &&
	       st->st_size == users_cache.size && ts_eq(&st->st_mtim, &users_cache.mtim) &&
	       ts_eq(&st->st_ctim, &users_cache.ctim);
}

/* the users file's contents: from memory when unchanged, else read (and
 * kept when it has been still long enough); NULL on error (errno) */
static const sa_t *users_cached(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && users_cache_fresh(path, &st))
		return &users_cache.buf;
	users_cache.valid = 0;
	if (file_read_st(path, &users_cache.buf, &st) < 0)
		return NULL;
	sa_trunc(&users_cache.path, 0);
	if (st.st_ino && st.st_mtim.tv_sec < time(NULL) - USERS_RACY_S &&
	    st.st_ctim.tv_sec < time(NULL) - USERS_RACY_S && sa_cats(&users_cache.path, path) == 0) {
		users_cache.dev = st.st_dev;
		users_cache.ino = st.st_ino;
		users_cache.size = st.st_size;
		users_cache.mtim = st.st_mtim;
		users_cache.ctim = st.st_ctim;
		users_cache.valid = 1;
	}
	return &users_cache.buf;
}

int users_exists(const char *users_path, const char *name)
{
	const sa_t *buf;

	if (!user_mailbox_valid(name, strlen(name)))
		return 0;
	if (!(buf = users_cached(users_path)))
		return -1;
	return users_has(buf, name);
}

int users_list(const char *users_path, sa_t *out, size_t *n)
{
	sa_t buf = SA_INIT;
	size_t pos = 0, len, nl, count = 0;
	const char *l, *nm;
	int saved;

	if (file_read(users_path, &buf) < 0)
		goto fail;
	while (next_line(&buf, &pos, &l, &len)) {
		if (!(nm = users_line_name(l, len, &nl)))
			continue;
		if (sa_catb(out, nm, nl) < 0 || sa_catc(out, '\0') < 0)
			goto fail;
		count++;
	}
	sa_free(&buf);
	*n = count;
	return 0;
fail:
	saved = errno;
	sa_free(&buf);
	errno = saved;
	return -1;
}

/* copy buf to out without NAME's lines (users or passwd form); *found tells
 * whether one was dropped. Every copied line ends in LF. */
static int copy_without(const sa_t *buf, const char *name, int passwd, sa_t *out, int *found)
{
	size_t pos = 0, len, nl, hl;
	const char *l, *nm, *h;

	*found = 0;
	while (next_line(buf, &pos, &l, &len)) {
		int match;
		if (passwd)
			match = passwd_line(l, len, &nl, &h, &hl) && name_eq(l, nl, name);
		else
			match = (nm = users_line_name(l, len, &nl)) && name_eq(nm, nl, name);
		if (match) {
			*found = 1;
			continue;
		}
		if (sa_catb(out, l, len) < 0 || sa_catc(out, '\n') < 0)
			return -1;
	}
	return 0;
}

static int hash_valid(const char *hash)
{
	size_t n = strlen(hash);

	if (n == 0 || n > PASS_HASH_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)hash[i] <= ' ' || (unsigned char)hash[i] >= 127 || hash[i] == ':')
			return 0;
	return 1;
}

/* flock the directory holding path: the files themselves are replaced by
 * rename, so a lock on them would not serialize writers. -1 on failure. */
static int dir_lock(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (!slash) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

static void dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* releases the flock */
}

int users_add(const char *users_path, const char *passwd_path, const char *name,
              const char *hash, int replace)
{
	sa_t ubuf = SA_INIT, pbuf = SA_INIT, uout = SA_INIT, pout = SA_INIT;
	int ufound, pfound, r = -1, saved, lk;

	if (!user_mailbox_valid(name, strlen(name)) || !hash_valid(hash)) {
		errno = EINVAL;
		return -1;
	}
	if ((lk = dir_lock(passwd_path)) < 0)
		return -1;
	if (file_read(users_path, &ubuf) < 0 || file_read(passwd_path, &pbuf) < 0)
		goto out;
	if (copy_without(&ubuf, name, 0, &uout, &ufound) < 0 ||
	    copy_without(&pbuf, name, 1, &pout, &pfound) < 0)
		goto out;
	if ((ufound || pfound) && !replace) {
		errno = EEXIST;
		goto out;
	}
	if (sa_cats(&uout, name) < 0 || sa_catc(&uout, '\n') < 0 ||
	    sa_catf(&pout, "%s:%s\n", name, hash) < 0)
		goto out;
	if (durable_replace(passwd_path, pout.s, pout.len, 0600) < 0)
		goto out;
	if (durable_replace(users_path, uout.s, uout.len, 0644) < 0)
		goto out;
	r = 0;
out:
	saved = errno;
	sa_free(&ubuf);
	sa_free(&pbuf);
	sa_free(&uout);
	sa_free(&pout);
	dir_unlock(lk);
	errno = saved;
	return r;
}

int users_del(const char *users_path, const char *passwd_path, const char *name)
{
	sa_t ubuf = SA_INIT, pbuf = SA_INIT, uout = SA_INIT, pout = SA_INIT;
	int ufound, pfound, r = -1, saved, lk;

	if (!user_mailbox_valid(name, strlen(name))) {
		errno = ENOENT;
		return -1;
	}
	if ((lk = dir_lock(passwd_path)) < 0)
		return -1;
	if (file_read(users_path, &ubuf) < 0 || file_read(passwd_path, &pbuf) < 0)
		goto out;
	if (copy_without(&ubuf, name, 0, &uout, &ufound) < 0 ||
	    copy_without(&pbuf, name, 1, &pout, &pfound) < 0)
		goto out;
	if (!ufound && !pfound) {
		errno = ENOENT;
		goto out;
	}
	/* sa_ready: a file emptied by the removal still needs a valid pointer */
	if (sa_ready(&uout, 0) < 0 || sa_ready(&pout, 0) < 0)
		goto out;
	if (ufound && durable_replace(users_path, uout.s, uout.len, 0644) < 0)
		goto out;
	if (pfound && durable_replace(passwd_path, pout.s, pout.len, 0600) < 0)
		goto out;
	r = 0;
out:
	saved = errno;
	sa_free(&ubuf);
	sa_free(&pbuf);
	sa_free(&uout);
	sa_free(&pout);
	dir_unlock(lk);
	errno = saved;
	return r;
}

static int random_bytes(void *p, size_t n)
{
	char *b = p;
	size_t got = 0;
	int fd;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got == n)
		return 0;
	/* no getrandom (old kernel, seccomp): the device */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	got = 0;
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			errno = EIO;
			return -1;
		}
		got += (size_t)r;
	}
	close(fd);
	return 0;
}

int pass_hash(const char *pass, sa_t *out)
{
	char rnd[SALT_RANDOM], setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int r = -1, saved;

	_Static_assert(USER_PASS_MAX < CRYPT_MAX_PASSPHRASE_SIZE, "crypt takes every password");
	/* one that no POP3 client could send would lock its user out */
	if (strlen(pass) > USER_PASS_MAX) {
		errno = ERANGE;
		return -1;
	}
	if (random_bytes(rnd, sizeof rnd) < 0)
		return -1;
	if (!crypt_gensalt_rn("$y$", 0, rnd, sizeof rnd, setting, sizeof setting) &&
	    !crypt_gensalt_rn("$6$", 0, rnd, sizeof rnd, setting, sizeof setting)) {
		errno = ENOSYS;
		return -1;
	}
	cd = calloc(1, sizeof *cd);    /* 32 KiB: not on the stack */
	if (!cd)
		return -1;
	h = crypt_rn(pass, setting, cd, (int)sizeof *cd);
	if (!h || h[0] == '*' || !hash_valid(h))
		errno = EINVAL;
	else
		r = sa_cats(out, h);
	saved = errno;
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	explicit_bzero(rnd, sizeof rnd);
	errno = saved;
	return r;
}

/* equal strings, in time that depends only on the lengths */
static int ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int pass_lookup(const char *passwd_path, const char *name, char stored[PASS_HASH_MAX + 1])
{
	sa_t buf = SA_INIT;
	size_t pos = 0, len, nl, hl;
	const char *l, *hp;
	int known = 0;

	stored[0] = '\0';
	if (!user_mailbox_valid(name, strlen(name)))
		return 0;
	if (file_read(passwd_path, &buf) < 0) {
		int saved = errno;
		sa_free(&buf);
		errno = saved;
		return -1;
	}
	while (next_line(&buf, &pos, &l, &len)) {
		if (passwd_line(l, len, &nl, &hp, &hl) && name_eq(l, nl, name)) {
			memcpy(stored, hp, hl);
			stored[hl] = '\0';
			known = 1;   /* the first line wins */
			break;
		}
	}
	sa_free(&buf);
	return known;
}

int pass_verify(const char *stored, const char *pass)
{
	const char *setting, *h;
	struct crypt_data *cd;
	int r;

	if (stored)
		setting = stored;
	else
		setting = crypt_checksalt(dummy_y) == CRYPT_SALT_OK ? dummy_y : dummy_6;
	cd = calloc(1, sizeof *cd);
	if (!cd)
		return -1;
	/* an over-long pass fails inside crypt_rn like a wrong one: no early exit */
	h = crypt_rn(pass, setting, cd, (int)sizeof *cd);
	r = h && h[0] != '*' && ct_equal(h, strlen(h), setting, strlen(setting));
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return stored ? r : 0;
}

int pass_check(const char *passwd_path, const char *name, const char *pass)
{
	char stored[PASS_HASH_MAX + 1];
	int known = pass_lookup(passwd_path, name, stored), r;

	if (known < 0)
		return -1;
	r = pass_verify(known ? stored : NULL, pass);
	explicit_bzero(stored, sizeof stored);
	return r;
}
