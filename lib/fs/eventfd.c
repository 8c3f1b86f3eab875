/*
 * eventfd: a 64-bit counter as a file.  write() adds to it (blocking
 * while the sum would pass 2^64-2), read() takes it all (one with
 * EFD_SEMAPHORE), blocking while it is zero; poll says readable while it
 * is non-zero, writable while one more can be added.  Web servers and
 * event loops use it to wake a thread sleeping in epoll_wait().  The
 * counter and the sequence word that blocked callers sleep on sit under
 * one spinlock; the wait queue (poll.h) is woken under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include "lib/fs/poll.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"
#include "lib/sched/futex.h"

#define EFD_SEMAPHORE	1
#define EFD_MAX		(UINT64_MAX - 1)

struct eventfd {
	struct vnode vn;
	struct spinlock lock;
	uint64_t count;
	bool semaphore;
	uint32_t seq, waiters;		/* blocked readers and writers */
	struct pollq pollq;
	struct file *file;		/* not referenced: it holds us */
};

/* The counter changed (under efd->lock): wake sleepers and pollers. */
static void
changed(struct eventfd *e, unsigned events)
{
	__atomic_add_fetch(&e->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&e->waiters, __ATOMIC_SEQ_CST))
		futex_wake(&e->seq, INT32_MAX, ~0u);
	pollq_wake(&e->pollq, events);
}

/* Sleeps until the counter changes; called and returns with the lock held. */
static void
wait_change(struct eventfd *e)
{
	uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_SEQ_CST);

	__atomic_add_fetch(&e->waiters, 1, __ATOMIC_SEQ_CST);
	spin_unlock(&e->lock);
	futex_wait(&e->seq, seq, ~0u, 0);
	__atomic_sub_fetch(&e->waiters, 1, __ATOMIC_SEQ_CST);
	spin_lock(&e->lock);
}

static bool
nonblock(const struct eventfd *e)
{
	return __atomic_load_n(&e->file->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static ssize_t
efd_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	struct eventfd *e = vn->priv;
	uint64_t v;

	if (len < sizeof(v))
		return -EINVAL;
	spin_lock(&e->lock);
	while (!e->count) {
		if (nonblock(e)) {
			spin_unlock(&e->lock);
			return -EAGAIN;
		}
		wait_change(e);
	}
	v = e->semaphore ? 1 : e->count;
	e->count -= v;
	changed(e, POLLOUT | POLLWRNORM);
	spin_unlock(&e->lock);
	memcpy(buf, &v, sizeof(v));
	return sizeof(v);
}

static ssize_t
efd_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	struct eventfd *e = vn->priv;
	uint64_t v;

	if (len < sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v == UINT64_MAX)
		return -EINVAL;
	spin_lock(&e->lock);
	while (EFD_MAX - e->count < v) {
		if (nonblock(e)) {
			spin_unlock(&e->lock);
			return -EAGAIN;
		}
		wait_change(e);
	}
	e->count += v;
	if (v)
		changed(e, POLLIN | POLLRDNORM);
	spin_unlock(&e->lock);
	return sizeof(v);
}

static unsigned
efd_poll(struct vnode *vn, struct poll_hook *h)
{
	struct eventfd *e = vn->priv;
	unsigned ev = 0;

	pollq_add(&e->pollq, h);
	spin_lock(&e->lock);
	if (e->count)
		ev |= POLLIN | POLLRDNORM;
	if (e->count < EFD_MAX)
		ev |= POLLOUT | POLLWRNORM;
	spin_unlock(&e->lock);
	return ev;
}

static int
efd_getattr(struct vnode *vn, struct stat *st)
{
	st->st_mode = 0600;
	st->st_ino = (ino_t)(uintptr_t)vn->priv >> 4;
	return 0;
}

static void
efd_release(struct vnode *vn)
{
	struct eventfd *e = vn->priv;

	pollq_destroy(&e->pollq);
	kfree(e);
}

static const struct vnode_ops efd_ops = {
	.read = efd_read,
	.write = efd_write,
	.getattr = efd_getattr,
	.poll = efd_poll,
	.release = efd_release,
};

struct file *
eventfd_new(unsigned initval, int flags)
{
	struct eventfd *e = kzalloc(sizeof(*e));
	struct file *f;

	if (!e)
		return NULL;
	e->count = initval;
	e->semaphore = flags & EFD_SEMAPHORE;
	vn_init(&e->vn, &efd_ops, &anon_mount, 0, e);
	if (!(f = file_new(&e->vn, O_RDWR | (flags & O_NONBLOCK)))) {
		vn_put(&e->vn);
		return NULL;
	}
	e->file = f;
	return f;
}
