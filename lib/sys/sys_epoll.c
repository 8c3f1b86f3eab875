/*
 * The epoll calls (epoll_create, epoll_create1, epoll_ctl, epoll_wait,
 * epoll_pwait, epoll_pwait2) and eventfd/eventfd2: thin adapters over
 * lib/fs/epoll.c and eventfd.c.  syscall.c refers to them weakly: they
 * come into an image, with epoll.c and eventfd.c, only when the program
 * calls epoll_create, epoll_create1 or eventfd (lib/crt/optional.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/epoll.h>
#include <time.h>

#include "lib/fs/poll.h"
#include "lib/sys/syscall.h"

/* ------------------------------------------------------------ epoll */

static long
epoll_install(unsigned flags)
{
	struct file *f = epoll_new(0);

	if (!f)
		return -ENOMEM;
	long r = fd_install(f, 0, flags & EPOLL_CLOEXEC);
	file_put(f);
	return r;
}

long
sys_epoll_create1(long flags, long a1, long a2, long a3, long a4, long a5)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	return epoll_install((unsigned)flags);
}

long
sys_epoll_create(long size, long a1, long a2, long a3, long a4, long a5)
{
	return (int)size <= 0 ? -EINVAL : epoll_install(0);
}

long
sys_epoll_ctl(long epfd, long op, long fd, long uev, long a4, long a5)
{
	const struct epoll_event *ev = (const struct epoll_event *)uev;
	struct file *ef, *tf;
	long r;

	if (op != EPOLL_CTL_DEL && !user_ok(ev, sizeof(*ev)))
		return -EFAULT;
	if (!(ef = fd_get((int)epfd)))
		return -EBADF;
	if (!(tf = fd_get((int)fd))) {
		file_put(ef);
		return -EBADF;
	}
	r = epoll_ctl_file(ef, (int)op, (int)fd, tf, ev);
	file_put(tf);
	file_put(ef);
	return r;
}

static long
do_epoll_wait(long epfd, long uevs, long max, uint64_t deadline)
{
	struct file *ef;

	if ((int)max <= 0 || (int)max > INT_MAX / (int)sizeof(struct epoll_event))
		return -EINVAL;
	if (!user_ok((void *)uevs, (size_t)(int)max * sizeof(struct epoll_event)))
		return -EFAULT;
	if (!(ef = fd_get((int)epfd)))
		return -EBADF;
	long r = epoll_wait_file(ef, (struct epoll_event *)uevs, (int)max, deadline);
	file_put(ef);
	return r;
}

long
sys_epoll_wait(long epfd, long uevs, long max, long ms, long a4, long a5)
{
	return do_epoll_wait(epfd, uevs, max, poll_deadline_ms(ms));
}

long
sys_epoll_pwait(long epfd, long uevs, long max, long ms, long mask, long size)
{
	long r = poll_sigmask_ok(mask, size);

	return r ? r : do_epoll_wait(epfd, uevs, max, poll_deadline_ms(ms));
}

long
sys_epoll_pwait2(long epfd, long uevs, long max, long uts, long mask, long size)
{
	uint64_t deadline;
	long r;

	if ((r = poll_sigmask_ok(mask, size)) ||
	    (r = poll_deadline_ts((const struct timespec *)uts, &deadline)))
		return r;
	return do_epoll_wait(epfd, uevs, max, deadline);
}

/* ------------------------------------------------------------ eventfd */

long
sys_eventfd2(long initval, long flags, long a2, long a3, long a4, long a5)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | 1 /* EFD_SEMAPHORE */))
		return -EINVAL;
	struct file *f = eventfd_new((unsigned)initval, (int)flags);
	if (!f)
		return -ENOMEM;
	long r = fd_install(f, 0, flags & O_CLOEXEC);
	file_put(f);
	return r;
}

long
sys_eventfd(long initval, long a1, long a2, long a3, long a4, long a5)
{
	return sys_eventfd2(initval, 0, 0, 0, 0, 0);
}
