#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gcommit.h"
#include "test.h"

static char base[64], path[128];

/* the fake sync: counts, fails on demand, and may run a hook in the middle
 * (another writer's rename arriving while the sync runs) */
static int n_sync, fail_sync;
static void (*during_sync)(void);

static int fake_sync(const char *dir)
{
	T_STREQ(dir, "DIR");
	n_sync++;
	if (during_sync)
		during_sync();
	if (fail_sync) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void reset(void)
{
	n_sync = 0;
	fail_sync = 0;
	during_sync = NULL;
	unlink(path);
	T_INTEQ(gcommit_make(path), 1);
}

/* the counters as stored: ticket, covered, failed at offsets 16, 24, 32 */
static void poke(int slot, unsigned long long v)
{
	int fd = open(path, O_WRONLY);
	T_ASSERT(fd >= 0);
	T_INTEQ(pwrite(fd, &v, sizeof v, 16 + 8 * slot), (long long)sizeof v);
	close(fd);
}

static unsigned long long peek(int slot)
{
	unsigned long long v = 0;
	int fd = open(path, O_RDONLY);
	T_ASSERT(fd >= 0);
	T_INTEQ(pread(fd, &v, sizeof v, 16 + 8 * slot), (long long)sizeof v);
	close(fd);
	return v;
}

static void test_make_and_check(void)
{
	struct stat st;
	struct gcommit g;

	unlink(path);
	errno = 0;
	T_ASSERT(gcommit_check(path) == -1 && errno == ENOENT);
	T_INTEQ(gcommit_make(path), 1);
	T_INTEQ(gcommit_make(path), 0); /* valid: left alone */
	T_INTEQ(gcommit_check(path), 0);
	T_ASSERT(stat(path, &st) == 0);
	T_INTEQ(st.st_size, GCOMMIT_FILE_SIZE);
	T_INTEQ(st.st_mode & 07777, 0600);
	/* in a setgid queue directory (separated users) the queue group writes it */
	{
		char sdir[200], spath[240];
		snprintf(sdir, sizeof sdir, "%s.sgid", path);
		snprintf(spath, sizeof spath, "%s/commit", sdir);
		T_INTEQ(mkdir(sdir, 0700), 0);
		T_INTEQ(chmod(sdir, 02770), 0);
		T_INTEQ(gcommit_make(spath), 1);
		T_ASSERT(stat(spath, &st) == 0);
		T_INTEQ(st.st_mode & 07777, 0660);
		unlink(spath);
		rmdir(sdir);
	}
	T_INTEQ(gcommit_open(&g, path), 0);
	T_ASSERT(g.fd >= 0 && g.shm != NULL);
	gcommit_close(&g);
	T_ASSERT(g.fd == -1 && g.shm == NULL);
	gcommit_close(&g); /* twice is harmless */
}

/* a file that cannot be trusted: not opened, and rewritten by make keeping its mode */
static void bad_file(const char *what, const void *data, size_t len)
{
	struct gcommit g;
	struct stat st;
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	T_ASSERT(fd >= 0);
	T_INTEQ(write(fd, data, len), (long long)len);
	close(fd);
	errno = 0;
	T_ASSERT(gcommit_check(path) == -1 && errno == EINVAL);
	errno = 0;
	T_ASSERT(gcommit_open(&g, path) == -1 && errno == EINVAL);
	T_ASSERT(g.fd == -1 && g.shm == NULL);
	/* unopened: every sync is one's own */
	n_sync = 0;
	T_INTEQ(gcommit_sync(&g, fake_sync, "DIR"), 0);
	T_INTEQ(gcommit_sync(&g, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 2);
	if (n_sync != 2)
		printf("  (%s)\n", what);
	T_INTEQ(gcommit_make(path), 1);
	T_INTEQ(gcommit_check(path), 0);
	T_ASSERT(stat(path, &st) == 0);
	T_INTEQ(st.st_mode & 07777, 0640);
}

static void test_bad_files(void)
{
	char good[GCOMMIT_FILE_SIZE], buf[GCOMMIT_FILE_SIZE * 2];
	struct gcommit g;
	int fd;

	reset();
	fd = open(path, O_RDONLY);
	T_INTEQ(read(fd, good, sizeof good), (long long)sizeof good);
	close(fd);
	bad_file("empty", "", 0);
	bad_file("short", good, 20);
	memcpy(buf, good, sizeof good);
	memset(buf + sizeof good, 0, sizeof good);
	bad_file("long", buf, sizeof buf);
	memcpy(buf, good, sizeof good);
	buf[0] = 'X';
	bad_file("magic", buf, sizeof good);
	memcpy(buf, good, sizeof good);
	buf[8] ^= 1;
	bad_file("version", buf, sizeof good);
	memcpy(buf, good, sizeof good);
	buf[12] ^= 1;
	bad_file("size field", buf, sizeof good);

	/* missing, or a symlink in its place: not opened, not followed */
	unlink(path);
	errno = 0;
	T_ASSERT(gcommit_open(&g, path) == -1 && errno == ENOENT);
	T_ASSERT(symlink("/etc/passwd", path) == 0);
	T_ASSERT(gcommit_open(&g, path) == -1);
	T_ASSERT(gcommit_check(path) == -1 && errno == ELOOP);
	T_INTEQ(gcommit_make(path), -1);
	unlink(path);
}

static void test_sharing(void)
{
	struct gcommit a, b;
	unsigned long long t1, t2;

	reset();
	T_INTEQ(gcommit_open(&a, path), 0);
	T_INTEQ(gcommit_open(&b, path), 0); /* two writers, two open files */
	t1 = gcommit_take(&a);
	t2 = gcommit_take(&b);
	T_INTEQ(t1, 1);
	T_INTEQ(t2, 2);
	/* a's sync starts after both tickets: it covers b's rename too */
	T_INTEQ(gcommit_cover(&a, t1, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 1);
	T_INTEQ(gcommit_cover(&b, t2, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 1);
	T_INTEQ(peek(1), 2);
	/* a ticket covered long ago stays covered */
	T_INTEQ(gcommit_cover(&b, t1, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 1);
	/* alone: its own sync */
	T_INTEQ(gcommit_sync(&a, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 2);
	gcommit_close(&a);
	gcommit_close(&b);
}

/* a rename whose ticket comes while a sync runs is not covered by it */
static struct gcommit *late_g;
static unsigned long long late_t;
static void take_late(void)
{
	late_t = gcommit_take(late_g);
	during_sync = NULL;
}

static void test_ticket_during_sync(void)
{
	struct gcommit a, b;
	unsigned long long t;

	reset();
	T_INTEQ(gcommit_open(&a, path), 0);
	T_INTEQ(gcommit_open(&b, path), 0);
	t = gcommit_take(&a);
	late_g = &b;
	during_sync = take_late;
	T_INTEQ(gcommit_cover(&a, t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 1);
	T_INTEQ(late_t, 2);
	T_INTEQ(peek(1), 1); /* the count read before the sync, not after */
	T_INTEQ(gcommit_cover(&b, late_t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 2);
	gcommit_close(&a);
	gcommit_close(&b);
}

static void test_failed_sync(void)
{
	struct gcommit a, b;
	unsigned long long t1, t2, t3;

	reset();
	T_INTEQ(gcommit_open(&a, path), 0);
	T_INTEQ(gcommit_open(&b, path), 0);
	t1 = gcommit_take(&a);
	T_INTEQ(gcommit_cover(&a, t1, fake_sync, "DIR"), 0);
	t2 = gcommit_take(&a);
	t3 = gcommit_take(&b);
	fail_sync = 1;
	errno = 0;
	T_INTEQ(gcommit_cover(&a, t2, fake_sync, "DIR"), -1);
	T_INTEQ(errno, EIO);
	T_INTEQ(n_sync, 2);
	fail_sync = 0;
	/* the failed sync was meant for t3 too: no later success speaks for it */
	errno = 0;
	T_INTEQ(gcommit_cover(&b, t3, fake_sync, "DIR"), -1);
	T_INTEQ(errno, EIO);
	T_INTEQ(n_sync, 2);
	/* nor for t1, covered before: conservative, a 4xx and a retry */
	T_INTEQ(gcommit_cover(&b, t1, fake_sync, "DIR"), -1);
	/* a new rename syncs and succeeds */
	T_INTEQ(gcommit_sync(&b, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 3);
	gcommit_close(&a);
	gcommit_close(&b);
}

static void test_wrap_and_damage(void)
{
	struct gcommit a;
	unsigned long long t;

	reset();
	T_INTEQ(gcommit_open(&a, path), 0);
	/* the counter at its end: the last ticket, then 0 (none) */
	poke(0, ULLONG_MAX - 1);
	poke(1, ULLONG_MAX - 1);
	t = gcommit_take(&a);
	T_ASSERT(t == ULLONG_MAX);
	T_INTEQ(gcommit_cover(&a, t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 1);
	T_ASSERT(peek(1) == ULLONG_MAX);
	t = gcommit_take(&a);
	T_ASSERT(t == 0);
	T_INTEQ(gcommit_cover(&a, t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 2);
	/* after the wrap covered is far beyond the counter: in doubt, sync, and
	 * the sync's own count is stored */
	T_INTEQ(peek(1), 0);
	poke(1, ULLONG_MAX);
	t = gcommit_take(&a);
	T_INTEQ(t, 1);
	T_INTEQ(gcommit_cover(&a, t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 3);
	T_INTEQ(peek(1), 1);
	/* a damaged failure mark beyond the counter: sync, succeed, clear it */
	poke(2, 1000);
	t = gcommit_take(&a);
	T_INTEQ(gcommit_cover(&a, t, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 4);
	T_INTEQ(peek(2), 0);
	/* a ticket beyond the counter (damage): its own sync, never a skip */
	T_INTEQ(gcommit_cover(&a, 500, fake_sync, "DIR"), 0);
	T_INTEQ(n_sync, 5);
	gcommit_close(&a);
}

/* a writer killed while holding the lock: the next one goes on */
static void test_lock_holder_killed(void)
{
	struct gcommit a;
	int p[2], st;
	char c;
	pid_t pid;

	reset();
	T_ASSERT(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		struct gcommit k;
		if (gcommit_open(&k, path) < 0 || flock(k.fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	T_INTEQ(read(p[0], &c, 1), 1);
	close(p[0]);
	T_INTEQ(gcommit_open(&a, path), 0);
	T_ASSERT(flock(a.fd, LOCK_EX | LOCK_NB) == -1 && errno == EWOULDBLOCK);
	kill(pid, SIGKILL);
	T_INTEQ(waitpid(pid, &st, 0), pid);
	alarm(20); /* a lock never released would hang here */
	T_INTEQ(gcommit_sync(&a, fake_sync, "DIR"), 0);
	alarm(0);
	T_INTEQ(n_sync, 1);
	gcommit_close(&a);
}

/* many processes: no writer returns before a sync that began after its
 * rename has ended. The fake sync marks durable what was renamed when it began. */
#define CW 4
#define CM 300
static _Atomic int *cstate; /* per rename: 0, 1 renamed, 2 durable */
static atomic_int *csyncs;

static int snapshot_sync(const char *dir)
{
	static int seen[CW * CM];
	(void)dir;
	atomic_fetch_add(csyncs, 1);
	for (int i = 0; i < CW * CM; i++)
		seen[i] = atomic_load(&cstate[i]) == 1;
	usleep(200); /* the disk */
	for (int i = 0; i < CW * CM; i++)
		if (seen[i])
			atomic_store(&cstate[i], 2);
	return 0;
}

static void test_concurrent_writers(void)
{
	pid_t pids[CW];
	int st;
	void *m;

	reset();
	m = mmap(NULL, sizeof(int) * (CW * CM + 1), PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	cstate = m;
	csyncs = (atomic_int *)m + CW * CM;
	for (int w = 0; w < CW; w++) {
		pids[w] = fork();
		if (pids[w] == 0) {
			struct gcommit g;
			if (gcommit_open(&g, path) < 0)
				_exit(2);
			for (int k = 0; k < CM; k++) {
				int i = w * CM + k;
				atomic_store(&cstate[i], 1); /* the rename */
				if (gcommit_sync(&g, snapshot_sync, "DIR") < 0)
					_exit(3);
				if (atomic_load(&cstate[i]) != 2)
					_exit(4); /* a K before its rename was durable */
			}
			gcommit_close(&g);
			_exit(0);
		}
	}
	for (int w = 0; w < CW; w++) {
		T_INTEQ(waitpid(pids[w], &st, 0), pids[w]);
		T_ASSERT(WIFEXITED(st));
		T_INTEQ(WEXITSTATUS(st), 0);
	}
	T_ASSERT(peek(0) == CW * CM);
	T_ASSERT(atomic_load(csyncs) <= CW * CM);
	printf("  %d writers, %d commits, %d syncs\n", CW, CW * CM, atomic_load(csyncs));
	munmap(m, sizeof(int) * (CW * CM + 1));
}

int main(void)
{
	snprintf(base, sizeof base, "/tmp/pochta-test-gcommit.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	snprintf(path, sizeof path, "%s/commit", base);
	T_RUN(test_make_and_check);
	T_RUN(test_bad_files);
	T_RUN(test_sharing);
	T_RUN(test_ticket_during_sync);
	T_RUN(test_failed_sync);
	T_RUN(test_wrap_and_damage);
	T_RUN(test_lock_holder_killed);
	T_RUN(test_concurrent_writers);
	unlink(path);
	rmdir(base);
	return t_done();
}
