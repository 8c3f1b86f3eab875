/*
 * Spinlocks for the few structures cores share: the page allocator, the
 * console, futex buckets, the thread-id table.  Kernel code runs with
 * interrupts off, so a holder is never preempted and a plain
 * test-and-test-and-set lock is enough.  Run queues never take one (see
 * lib/sched/sched.c).
 */
#ifndef TORO_SPINLOCK_H
#define TORO_SPINLOCK_H

#include <stdbool.h>

struct spinlock {
	int locked;
};

static inline void
spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

/* One look, no wait: true if it took the lock. */
static inline bool
spin_trylock(struct spinlock *l)
{
	return !__atomic_load_n(&l->locked, __ATOMIC_RELAXED) &&
	       !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void
spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
