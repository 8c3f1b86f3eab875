/*
 * A sleeping lock for kernel code that may block while holding it (a file
 * system waiting for its disk).  A spinlock cannot do that: kernel code
 * runs with interrupts off and is never preempted, so a second thread on
 * the holder's core would spin for ever.  Three states (Drepper's
 * "Futexes are tricky", mutex 2): 0 free, 1 held, 2 held with waiters;
 * waiters sleep in futex_wait() on the word.
 */
#ifndef TORO_KMUTEX_H
#define TORO_KMUTEX_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sched/futex.h"

struct kmutex {
	uint32_t state;
};

static inline void
kmutex_lock(struct kmutex *m)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(&m->state, &c, 1, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex_wait(&m->state, 2, ~0u, 0);
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE);
	}
}

static inline void
kmutex_unlock(struct kmutex *m)
{
	if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&m->state, 0, __ATOMIC_RELEASE);
		futex_wake(&m->state, 1, ~0u);
	}
}

#endif
