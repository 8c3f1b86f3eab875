/*
 * Waiting on many descriptors: poll, ppoll, select and pselect6.  Thin
 * adapters over lib/fs/poll.c: they check pointers, turn timeouts into
 * TSC deadlines and select()'s bit sets into pollfd arrays.  Signal masks
 * are checked for size and otherwise ignored (Toro delivers no signals);
 * select() does not write back the time left (musl passes a copy).  The
 * epoll and eventfd calls are sys_epoll.c's; they share the timeout
 * helpers here.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

#include "lib/fs/poll.h"
#include "lib/mm/kheap.h"
#include "lib/sys/syscall.h"

#define SIGSET_SIZE	8	/* the kernel's sigset_t */

long
poll_deadline_ts(const struct timespec *ts, uint64_t *deadline)
{
	if (!ts) {
		*deadline = 0;
		return 0;
	}
	if (!user_ok(ts, sizeof(*ts)))
		return -EFAULT;
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
		return -EINVAL;
	if (!ts->tv_sec && !ts->tv_nsec) {
		*deadline = POLL_NOWAIT;
		return 0;
	}
	if ((uint64_t)ts->tv_sec > 400ULL * 365 * 86400) {
		*deadline = 0;		/* far enough to be for ever */
		return 0;
	}
	*deadline = poll_deadline_in((uint64_t)ts->tv_sec * 1000000000ULL +
				     (uint64_t)ts->tv_nsec);
	return 0;
}

uint64_t
poll_deadline_ms(long ms)
{
	int t = (int)ms;

	if (t < 0)
		return 0;
	return t ? poll_deadline_in((uint64_t)t * 1000000ULL) : POLL_NOWAIT;
}

long
poll_sigmask_ok(long mask, long size)
{
	if (mask && size != SIGSET_SIZE)
		return -EINVAL;
	return mask && !user_ok((void *)mask, SIGSET_SIZE) ? -EFAULT : 0;
}

/* ------------------------------------------------------------ poll */

static long
do_poll(long ufds, long n, uint64_t deadline)
{
	if ((unsigned long)n > fd_limit())
		return -EINVAL;
	if (!user_ok((void *)ufds, (size_t)n * sizeof(struct pollfd)))
		return -EFAULT;
	return poll_files((struct pollfd *)ufds, (unsigned)n, deadline);
}

long
sys_poll(long ufds, long n, long ms, long a3, long a4, long a5)
{
	return do_poll(ufds, n, poll_deadline_ms(ms));
}

long
sys_ppoll(long ufds, long n, long uts, long mask, long size, long a5)
{
	uint64_t deadline;
	long r;

	if ((r = poll_sigmask_ok(mask, size)) ||
	    (r = poll_deadline_ts((const struct timespec *)uts, &deadline)))
		return r;
	return do_poll(ufds, n, deadline);
}

/* ------------------------------------------------------------ select */

#define BITS	(8 * sizeof(unsigned long))

static bool
bit(const unsigned long *set, int fd)
{
	return set && set[fd / BITS] >> (fd % BITS) & 1;
}

/* select() as poll(): three bit sets in, three out, and the count. */
static long
do_select(long n, long rp, long wp, long ep, uint64_t deadline)
{
	unsigned long *sets[3] = { (unsigned long *)rp, (unsigned long *)wp,
				   (unsigned long *)ep };
	static const short ask[3] = { POLLIN, POLLOUT, POLLPRI };
	/* What counts as readable, writable, exceptional (Linux's POLL*_SET). */
	static const short hit[3] = { POLLIN | POLLRDNORM | POLLHUP | POLLERR,
				      POLLOUT | POLLWRNORM | POLLERR, POLLPRI };

	if (n < 0 || n > INT_MAX)
		return -EINVAL;
	if ((unsigned long)n > fd_limit())
		n = (long)fd_limit();
	size_t words = ((size_t)n + BITS - 1) / BITS;
	for (int k = 0; k < 3; k++)
		if (sets[k] && !user_ok(sets[k], words * sizeof(unsigned long)))
			return -EFAULT;
	unsigned count = 0;
	for (int fd = 0; fd < n; fd++)
		count += bit(sets[0], fd) || bit(sets[1], fd) || bit(sets[2], fd);
	struct pollfd *p = kmalloc((count ? count : 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	unsigned i = 0;
	for (int fd = 0; fd < n; fd++) {
		short ev = 0;
		for (int k = 0; k < 3; k++)
			if (bit(sets[k], fd))
				ev |= ask[k];
		if (ev)
			p[i++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	long r = poll_files(p, count, deadline);
	for (i = 0; r >= 0 && i < count; i++) {
		if (p[i].revents & POLLNVAL) {
			r = -EBADF;
			break;
		}
	}
	if (r >= 0) {
		for (int k = 0; k < 3; k++)
			for (size_t w = 0; sets[k] && w < words; w++)
				sets[k][w] = 0;
		r = 0;
		for (i = 0; i < count; i++) {
			for (int k = 0; k < 3; k++) {
				int fd = p[i].fd;
				if (!(p[i].events & ask[k]) || !(p[i].revents & hit[k]))
					continue;
				sets[k][fd / BITS] |= 1UL << (fd % BITS);
				r++;
			}
		}
	}
	kfree(p);
	return r;
}

long
sys_select(long n, long rp, long wp, long ep, long utv, long a5)
{
	const struct timeval *tv = (const struct timeval *)utv;
	uint64_t deadline = 0;

	if (tv) {
		if (!user_ok(tv, sizeof(*tv)))
			return -EFAULT;
		if (tv->tv_sec < 0 || tv->tv_usec < 0)
			return -EINVAL;
		struct timespec ts = { tv->tv_sec + tv->tv_usec / 1000000,
				       tv->tv_usec % 1000000 * 1000 };
		long r = poll_deadline_ts(&ts, &deadline);
		if (r)
			return r;
	}
	return do_select(n, rp, wp, ep, deadline);
}

long
sys_pselect6(long n, long rp, long wp, long ep, long uts, long usig)
{
	/* usig: { const sigset_t *mask; size_t size; }, or NULL. */
	const long *sig = (const long *)usig;
	uint64_t deadline;
	long r;

	if (sig && !user_ok(sig, 2 * sizeof(long)))
		return -EFAULT;
	if ((sig && (r = poll_sigmask_ok(sig[0], sig[1]))) ||
	    (r = poll_deadline_ts((const struct timespec *)uts, &deadline)))
		return r;
	return do_select(n, rp, wp, ep, deadline);
}
