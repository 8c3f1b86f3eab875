/*
 * Wait queues, poll() and epoll sets on the host (lib/fs/poll.c,
 * epoll.c, eventfd.c) over fake pollable files whose readiness the test
 * sets: the interest-list bookkeeping (ADD/MOD/DEL and their errors,
 * level- and edge-triggered, one-shot, maxevents and fairness, items of
 * closed files, thousands of items, closing a set with live items), then
 * threads on real futexes passing a token through readiness changes, so
 * a lost wake-up shows as a hang (an alarm fails the test).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/fs/poll.h"
#include "tap.h"

/* ------------------------------------------------------------ the kernel's hooks */

int
futex_wait(uint32_t *addr, uint32_t val, uint32_t bitset, uint64_t deadline)
{
	if (deadline == POLL_NOWAIT)
		return -ETIMEDOUT;
	long r = syscall(SYS_futex, addr, FUTEX_WAIT_BITSET, val, NULL, NULL, bitset);
	return r ? -errno : 0;
}

int
futex_wake(uint32_t *addr, int n, uint32_t bitset)
{
	return (int)syscall(SYS_futex, addr, FUTEX_WAKE_BITSET, n, NULL, NULL, bitset);
}

uint64_t
tsc_hz(void)
{
	return 1000000000ULL;
}

/* ------------------------------------------------------------ fake files */

/* A pollable object; its lock plays net_lock's part. */
struct fake {
	struct vnode vn;
	pthread_mutex_t lock;
	struct pollq q;
	unsigned ready;
	int released;
};

static int releases;

static unsigned
fake_poll(struct vnode *vn, struct poll_hook *h)
{
	struct fake *f = vn->priv;

	pollq_add(&f->q, h);
	pthread_mutex_lock(&f->lock);
	unsigned ev = f->ready;
	pthread_mutex_unlock(&f->lock);
	return ev;
}

static int
fake_getattr(struct vnode *vn, struct stat *st)
{
	return 0;
}

static void
fake_release(struct vnode *vn)
{
	struct fake *f = vn->priv;

	pollq_destroy(&f->q);
	releases++;
	free(f);
}

static const struct vnode_ops fake_ops = {
	.getattr = fake_getattr, .poll = fake_poll, .release = fake_release,
};
static void
plain_release(struct vnode *vn)
{
	free(vn);
}

static const struct vnode_ops plain_ops = { .getattr = fake_getattr, .release = plain_release };

static void
fake_set(struct fake *f, unsigned ev)
{
	pthread_mutex_lock(&f->lock);
	f->ready = ev;
	pollq_wake(&f->q, ev);
	pthread_mutex_unlock(&f->lock);
}

/* A fake file on a descriptor; *fp gets the object. */
static int
fake_open(struct fake **fp)
{
	struct fake *f = calloc(1, sizeof(*f));

	pthread_mutex_init(&f->lock, NULL);
	vn_init(&f->vn, &fake_ops, &anon_mount, S_IFSOCK, f);
	struct file *file = file_new(&f->vn, O_RDWR);
	int fd = fd_install(file, 0, false);
	file_put(file);
	*fp = f;
	return fd;
}

static int
epoll_open(void)
{
	struct file *f = epoll_new(0);
	int fd = fd_install(f, 0, false);

	file_put(f);
	return fd;
}

static int
ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct file *ef = fd_get(ep), *tf = fd_get(fd);
	struct epoll_event ev = { .events = events, .data.u64 = data };
	int r = ef && tf ? epoll_ctl_file(ef, op, fd, tf, &ev) : -EBADF;

	file_put(ef);
	file_put(tf);
	return r;
}

static int
wait_ep(int ep, struct epoll_event *evs, int max, uint64_t deadline)
{
	struct file *ef = fd_get(ep);
	int r = (int)epoll_wait_file(ef, evs, max, deadline);

	file_put(ef);
	return r;
}

/* ------------------------------------------------------------ single thread */

static void
test_poll_files(void)
{
	struct fake *a, *b;
	int fa = fake_open(&a), fb = fake_open(&b);
	struct pollfd p[4] = { { fa, POLLIN, 0 }, { fb, POLLOUT, 0 }, { 999, POLLIN, 0 },
			       { -1, POLLIN, 0 } };

	is_int(poll_files(p, 4, POLL_NOWAIT), 1, "poll: only the bad descriptor");
	is_int(p[2].revents, POLLNVAL, "poll: POLLNVAL for a closed descriptor");
	is_int(p[3].revents, 0, "poll: a negative descriptor is ignored");
	fake_set(a, POLLIN | POLLOUT);
	fake_set(b, POLLERR);
	is_int(poll_files(p, 2, POLL_NOWAIT), 2, "poll: both ready");
	is_int(p[0].revents, POLLIN, "poll: only the events asked for");
	is_int(p[1].revents, POLLERR, "poll: POLLERR always");
	fd_close(fa);
	fd_close(fb);
	is_int(releases, 2, "closing the descriptors released both files");
}

static void
test_ctl(void)
{
	struct fake *a;
	int ep = epoll_open(), fa = fake_open(&a);
	struct vnode *pv = calloc(1, sizeof(*pv));
	vn_init(pv, &plain_ops, &anon_mount, S_IFREG, NULL);
	struct file *pf = file_new(pv, O_RDWR);
	int fp = fd_install(pf, 0, false);
	struct epoll_event evs[4];

	file_put(pf);
	is_int(ctl(ep, EPOLL_CTL_ADD, fa, EPOLLIN, 1), 0, "ADD");
	is_int(ctl(ep, EPOLL_CTL_ADD, fa, EPOLLIN, 1), -EEXIST, "ADD twice: EEXIST");
	is_int(ctl(ep, EPOLL_CTL_ADD, fp, EPOLLIN, 1), -EPERM, "a file without poll: EPERM");
	is_int(ctl(ep, EPOLL_CTL_ADD, ep, EPOLLIN, 1), -EINVAL, "the set itself: EINVAL");
	is_int(ctl(fa, EPOLL_CTL_ADD, ep, EPOLLIN, 1), -EINVAL, "on a file that is no set: EINVAL");
	is_int(ctl(ep, 99, fa, EPOLLIN, 1), -EINVAL, "an unknown op: EINVAL");
	is_int(ctl(ep, EPOLL_CTL_MOD, fa, EPOLLIN | EPOLLEXCLUSIVE, 1), -EINVAL,
	       "MOD with EPOLLEXCLUSIVE: EINVAL");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "nothing ready");

	fake_set(a, POLLIN);
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "level: ready");
	ok(evs[0].events == EPOLLIN && evs[0].data.u64 == 1, "level: events and data");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "level: still ready");
	fake_set(a, POLLOUT);
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "level: POLLOUT is not asked for");

	is_int(ctl(ep, EPOLL_CTL_MOD, fa, EPOLLIN | EPOLLET, 2), 0, "MOD to edge-triggered");
	fake_set(a, POLLIN);
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "edge: reported");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "edge: once");
	fake_set(a, POLLIN);
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "edge: again after the next wake");

	is_int(ctl(ep, EPOLL_CTL_MOD, fa, EPOLLIN | EPOLLONESHOT, 3), 0, "MOD to one-shot");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "one-shot: MOD found it ready");
	fake_set(a, POLLIN);
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "one-shot: disabled");
	is_int(ctl(ep, EPOLL_CTL_MOD, fa, EPOLLIN, 4), 0, "MOD re-arms");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 1, "re-armed and ready");
	ok(evs[0].data.u64 == 4, "the new data");

	is_int(ctl(ep, EPOLL_CTL_DEL, fa, 0, 0), 0, "DEL");
	is_int(ctl(ep, EPOLL_CTL_DEL, fa, 0, 0), -ENOENT, "DEL twice: ENOENT");
	is_int(ctl(ep, EPOLL_CTL_MOD, fa, EPOLLIN, 0), -ENOENT, "MOD after DEL: ENOENT");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "deleted: nothing");

	/* Close while queued: the item dies with the file. */
	ctl(ep, EPOLL_CTL_ADD, fa, EPOLLIN, 5);
	int before = releases;
	fd_close(fa);
	is_int(releases, before + 1, "closing the watched file released it");
	is_int(wait_ep(ep, evs, 4, POLL_NOWAIT), 0, "its item is gone");
	/* The same descriptor number, a new file: a new item. */
	struct fake *b;
	int fb = fake_open(&b);
	is_int(fb, fa, "the descriptor number is reused");
	is_int(ctl(ep, EPOLL_CTL_ADD, fb, EPOLLIN, 6), 0, "ADD of the new file on that number");
	fd_close(fb);
	fd_close(fp);
	fd_close(ep);
}

static void
test_fairness(void)
{
	struct fake *f[5];
	int fd[5], ep = epoll_open(), seen[5] = { 0 };
	struct epoll_event evs[2];

	for (int i = 0; i < 5; i++) {
		fd[i] = fake_open(&f[i]);
		ctl(ep, EPOLL_CTL_ADD, fd[i], EPOLLIN, (uint64_t)i);
		fake_set(f[i], POLLIN);
	}
	int total = 0;
	for (int round = 0; round < 5; round++) {
		int n = wait_ep(ep, evs, 2, POLL_NOWAIT);
		for (int k = 0; k < n; k++)
			seen[evs[k].data.u64]++;
		total += n;
	}
	is_int(total, 10, "maxevents 2, five ready: two each time");
	ok(seen[0] == 2 && seen[1] == 2 && seen[2] == 2 && seen[3] == 2 && seen[4] == 2,
	   "level-triggered items take turns (%d %d %d %d %d)", seen[0], seen[1], seen[2],
	   seen[3], seen[4]);
	/* Closing the set with live items, then waking them: no hook is left. */
	fd_close(ep);
	for (int i = 0; i < 5; i++) {
		fake_set(f[i], POLLIN | POLLOUT);
		fd_close(fd[i]);
	}
	ok(1, "the set closed with live items; later wakes touch nothing");
}

static void
test_many(void)
{
	enum { N = 900 };
	static struct fake *f[N];
	static int fd[N];
	int ep = epoll_open(), n, good = 1;
	static struct epoll_event evs[N];

	for (int i = 0; i < N; i++) {
		fd[i] = fake_open(&f[i]);
		good &= ctl(ep, EPOLL_CTL_ADD, fd[i], EPOLLIN, (uint64_t)fd[i]) == 0;
	}
	ok(good, "%d items in one set", N);
	for (int i = 0; i < N; i += 7)
		fake_set(f[i], POLLIN);
	n = wait_ep(ep, evs, N, POLL_NOWAIT);
	is_int(n, (N + 6) / 7, "exactly the ready ones are reported");
	for (int k = 0; k < n; k++)
		good &= (evs[k].data.u64 - (uint64_t)fd[0]) % 7 == 0;
	ok(good, "and only they");
	for (int i = 0; i < N; i += 2)
		good &= ctl(ep, EPOLL_CTL_DEL, fd[i], 0, 0) == 0;
	ok(good, "DEL of every other item");
	n = wait_ep(ep, evs, N, POLL_NOWAIT);
	is_int(n, N / 14 + (N % 14 > 7), "the ready odd ones remain");
	for (int i = 0; i < N; i++)
		fd_close(fd[i]);
	is_int(wait_ep(ep, evs, N, POLL_NOWAIT), 0, "all closed: nothing");
	fd_close(ep);
}

/* ------------------------------------------------------------ threads */

enum { ROUNDS = 3000, FILES = 8 };
static struct fake *tf[FILES];
static int tfd[FILES], tep;
static int acked;

/* Makes file i ready, then waits for the consumer to clear it. */
static void *
producer(void *p)
{
	for (int r = 0; r < ROUNDS; r++) {
		int i = r % FILES;
		fake_set(tf[i], POLLIN);
		while (__atomic_load_n(&acked, __ATOMIC_ACQUIRE) <= r)
			sched_yield();
	}
	return NULL;
}

static void *
epoll_consumer(void *p)
{
	struct epoll_event evs[4];
	int got = 0;

	while (got < ROUNDS) {
		int n = wait_ep(tep, evs, 4, 0);
		for (int k = 0; k < n; k++) {
			fake_set(tf[evs[k].data.u64], 0);
			got++;
			__atomic_store_n(&acked, got, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

static void *
poll_consumer(void *p)
{
	struct pollfd pf[FILES];
	int got = 0;

	while (got < ROUNDS) {
		for (int i = 0; i < FILES; i++)
			pf[i] = (struct pollfd){ tfd[i], POLLIN, 0 };
		long n = poll_files(pf, FILES, 0);
		for (int i = 0; n > 0 && i < FILES; i++) {
			if (pf[i].revents & POLLIN) {
				fake_set(tf[i], 0);
				got++;
				__atomic_store_n(&acked, got, __ATOMIC_RELEASE);
			}
		}
	}
	return NULL;
}

static void
token_passing(void *(*consumer)(void *), const char *what)
{
	pthread_t a, b;

	acked = 0;
	pthread_create(&a, NULL, consumer, NULL);
	pthread_create(&b, NULL, producer, NULL);
	pthread_join(b, NULL);
	pthread_join(a, NULL);
	is_int(acked, ROUNDS, what);
}

int
main(void)
{
	plan(48);
	alarm(60);	/* a lost wake-up hangs: fail instead */
	test_poll_files();
	test_ctl();
	test_fairness();
	test_many();

	tep = epoll_open();
	for (int i = 0; i < FILES; i++) {
		tfd[i] = fake_open(&tf[i]);
		ctl(tep, EPOLL_CTL_ADD, tfd[i], EPOLLIN | ((i & 1) ? EPOLLET : 0), (uint64_t)i);
	}
	token_passing(epoll_consumer, "epoll_wait: no wake-up lost in 3000 hand-overs between threads");
	token_passing(poll_consumer, "poll: no wake-up lost in 3000 hand-overs between threads");
	for (int i = 0; i < FILES; i++)
		fd_close(tfd[i]);
	fd_close(tep);
	return done_testing();
}
