/*
 * Wait queues of pollable objects and the core of poll() and select():
 * see poll.h for the protocol.  A poll() call that finds nothing ready
 * hooks every file it watches with a hook that bumps one sequence word
 * and futex-wakes it, re-checks, and sleeps on that word; so a wake-up
 * costs the object one hook call per watcher, and a watcher costs
 * nothing to objects it does not watch.  select() and the epoll sets
 * (epoll.c) are built on the same queues.  Also the anonymous mount that
 * sockets, epoll sets and eventfds name (they live in no directory).
 */
#include "lib/fs/poll.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"
#include "lib/sched/futex.h"

static struct spinlock pollq_lock;

/* No file system type: nothing mounts or unmounts it. */
struct mount anon_mount = { .dev = 0x10000 };

void
pollq_add(struct pollq *q, struct poll_hook *h)
{
	if (!h)
		return;
	spin_lock(&pollq_lock);
	h->q = q;
	h->next = q->first;
	if (h->next)
		h->next->pprev = &h->next;
	h->pprev = &q->first;
	__atomic_store_n(&q->first, h, __ATOMIC_RELEASE);
	spin_unlock(&pollq_lock);
}

/* Under pollq_lock. */
static void
unlink_hook(struct poll_hook *h)
{
	*h->pprev = h->next;
	if (h->next)
		h->next->pprev = h->pprev;
	h->next = NULL;
	h->pprev = NULL;
	h->q = NULL;
}

void
pollq_remove(struct poll_hook *h)
{
	spin_lock(&pollq_lock);
	if (h->q)
		unlink_hook(h);
	spin_unlock(&pollq_lock);
}

void
pollq_wake_locked(struct pollq *q, unsigned events)
{
	for (struct poll_hook *h = q->first, *next; h; h = next) {
		next = h->next;
		if (!events || (events & h->mask))
			h->fn(h, events);
	}
}

void
pollq_wake(struct pollq *q, unsigned events)
{
	if (!__atomic_load_n(&q->first, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&pollq_lock);
	pollq_wake_locked(q, events);
	spin_unlock(&pollq_lock);
}

void
pollq_destroy(struct pollq *q)
{
	spin_lock(&pollq_lock);
	while (q->first) {
		struct poll_hook *h = q->first;
		unlink_hook(h);
		h->fn(h, POLL_GONE);
	}
	spin_unlock(&pollq_lock);
}

unsigned
file_poll(struct file *f, struct poll_hook *h)
{
	struct vnode *vn = f->vn;

	if (!vn->ops->poll)
		return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	return vn->ops->poll(vn, h);
}

uint64_t
poll_deadline_in(uint64_t ns)
{
	uint64_t t = muldiv64(ns, tsc_hz(), 1000000000ULL, 1);

	return rdtsc() + (t > (1ULL << 62) ? 1ULL << 62 : t ? t : 1);
}

/* ------------------------------------------------------------ poll() */

/* One sleeping poll() call: its hooks bump seq and wake it. */
struct poll_waiter {
	uint32_t seq;
};

static void
waiter_wake(struct poll_hook *h, unsigned events)
{
	struct poll_waiter *w = h->arg;

	__atomic_add_fetch(&w->seq, 1, __ATOMIC_SEQ_CST);
	futex_wake(&w->seq, 1, ~0u);
}

/* What a poll entry is told beside the events it asked for. */
#define POLL_ALWAYS	(POLLERR | POLLHUP | POLLNVAL)

/*
 * One pass over fds.  With files NULL, each descriptor is looked up and
 * let go again (the quick first look).  Otherwise files[] keeps the files
 * for the whole call: with hooks, this is the pass that looks them up and
 * hooks each; a descriptor that named no file then stays POLLNVAL.
 */
static long
poll_pass(struct pollfd *fds, unsigned n, struct file **files,
	  struct poll_hook *hooks, struct poll_waiter *w)
{
	long ready = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned want = (unsigned)(uint16_t)fds[i].events | POLL_ALWAYS;
		unsigned ev = POLLNVAL;
		struct file *f;

		if (fds[i].fd < 0) {
			fds[i].revents = 0;
			continue;
		}
		if (!files) {
			if ((f = fd_get(fds[i].fd)))
				ev = file_poll(f, NULL);
			file_put(f);
		} else if (hooks) {
			if ((f = fd_get(fds[i].fd))) {
				poll_hook_init(&hooks[i], waiter_wake, want, w);
				files[i] = f;
				ev = file_poll(f, &hooks[i]);
			}
		} else if (files[i]) {
			ev = file_poll(files[i], NULL);
		}
		ev &= want;
		fds[i].revents = (short)ev;
		ready += ev != 0;
	}
	return ready;
}

#define POLL_STACK_FDS	8

long
poll_files(struct pollfd *fds, unsigned n, uint64_t deadline)
{
	long ready = poll_pass(fds, n, NULL, NULL, NULL);

	if (ready || deadline == POLL_NOWAIT)
		return ready;

	struct file *sfiles[POLL_STACK_FDS];
	struct poll_hook shooks[POLL_STACK_FDS];
	struct file **files = sfiles;
	struct poll_hook *hooks = shooks;
	struct poll_waiter w = { 0 };

	if (n > POLL_STACK_FDS) {
		files = kmalloc(n * sizeof(*files));
		hooks = kmalloc(n * sizeof(*hooks));
		if (!files || !hooks) {
			kfree(files);
			kfree(hooks);
			return -ENOMEM;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		files[i] = NULL;
		hooks[i].q = NULL;
	}
	bool first = true, last = false;
	for (;;) {
		uint32_t seq = __atomic_load_n(&w.seq, __ATOMIC_SEQ_CST);
		ready = poll_pass(fds, n, files, first ? hooks : NULL, &w);
		first = false;
		if (ready || last)
			break;
		if (futex_wait(&w.seq, seq, ~0u, deadline) == -ETIMEDOUT)
			last = true;	/* one more look, as Linux does */
	}
	for (unsigned i = 0; i < n; i++) {
		if (files[i]) {
			pollq_remove(&hooks[i]);
			file_put(files[i]);
		}
	}
	if (files != sfiles) {
		kfree(files);
		kfree(hooks);
	}
	return ready;
}
