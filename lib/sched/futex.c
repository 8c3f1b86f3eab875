/*
 * Futexes: what musl's mutexes, condition variables, barriers,
 * semaphores and pthread_join are built on.  A waiter is queued in one of
 * a fixed set of buckets, hashed by address, each with its own lock; the
 * value check and the queueing happen under that lock, and a waker
 * dequeues under it, so a wake between "the value changed" and "the
 * waiter sleeps" is never lost.  The thread's own state word decides who
 * puts it back on its core's run queue: the waker or its timeout, never
 * both (sched_wake() succeeds once).  A waiter dequeued by a waker returns
 * 0 even if its timeout also expired, as on Linux.
 *
 * There is one address space, so private and shared futexes are the same.
 */
#include "lib/sched/futex.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kernel/spinlock.h"
#include "lib/sched/sched.h"

#define BUCKETS 256

struct bucket {
	struct spinlock lock;
	struct thread *head;
};

static struct bucket buckets[BUCKETS];

static struct bucket *
bucket_of(const uint32_t *addr)
{
	uint64_t a = (uint64_t)addr >> 2;

	return &buckets[(a ^ (a >> 8) ^ (a >> 16)) % BUCKETS];
}

static void
enqueue(struct bucket *b, struct thread *t)
{
	struct thread **p = &b->head;

	while (*p)
		p = &(*p)->futex_next;	/* FIFO: the longest waiter wakes first */
	t->futex_next = NULL;
	*p = t;
	t->futex_queued = true;
}

static void
dequeue(struct bucket *b, struct thread *t)
{
	for (struct thread **p = &b->head; *p; p = &(*p)->futex_next) {
		if (*p == t) {
			*p = t->futex_next;
			break;
		}
	}
	t->futex_queued = false;
}

/* Locks the bucket t waits in; a requeue may move t while we look. */
static struct bucket *
lock_own_bucket(struct thread *t)
{
	for (;;) {
		uint32_t *addr = __atomic_load_n(&t->futex_addr, __ATOMIC_ACQUIRE);
		struct bucket *b = bucket_of(addr);
		spin_lock(&b->lock);
		if (t->futex_addr == addr)
			return b;
		spin_unlock(&b->lock);
	}
}

int
futex_wait(uint32_t *addr, uint32_t val, uint32_t bitset, uint64_t deadline)
{
	struct thread *t = sched_current();
	struct bucket *b = bucket_of(addr);

	if (!bitset)
		return -EINVAL;
	spin_lock(&b->lock);
	if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != val) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	t->futex_addr = addr;
	t->futex_bitset = bitset;
	enqueue(b, t);
	__atomic_store_n(&t->state, THREAD_BLOCKED, __ATOMIC_RELEASE);
	if (deadline)
		sched_timer_set(deadline);
	spin_unlock(&b->lock);

	sched_block();

	if (!__atomic_load_n(&t->futex_queued, __ATOMIC_ACQUIRE))
		return 0;
	b = lock_own_bucket(t);
	bool timed_out = t->futex_queued;
	if (timed_out)
		dequeue(b, t);
	spin_unlock(&b->lock);
	return timed_out ? -ETIMEDOUT : 0;
}

/* Takes up to n waiters on addr whose bitset matches off b's list. */
static struct thread *
take_waiters(struct bucket *b, uint32_t *addr, uint32_t bitset, int n,
	     int *taken)
{
	struct thread *woken = NULL, **p = &b->head;

	*taken = 0;
	while (*p && *taken < n) {
		struct thread *t = *p;
		if (t->futex_addr != addr || !(t->futex_bitset & bitset)) {
			p = &t->futex_next;
			continue;
		}
		*p = t->futex_next;
		__atomic_store_n(&t->futex_queued, false, __ATOMIC_RELEASE);
		/*
		 * Under the lock: t cannot see itself dequeued and return
		 * (and exit, and be reused) before its state is settled.
		 */
		if (sched_wake_prepare(t)) {
			t->futex_next = woken;
			woken = t;
		}
		(*taken)++;
	}
	return woken;
}

static void
wake_list(struct thread *t)
{
	while (t) {
		struct thread *next = t->futex_next;
		sched_wake_finish(t);
		t = next;
	}
}

int
futex_wake(uint32_t *addr, int n, uint32_t bitset)
{
	struct bucket *b = bucket_of(addr);
	int taken;

	if (!bitset)
		return -EINVAL;
	if (n <= 0)
		return 0;
	spin_lock(&b->lock);
	struct thread *woken = take_waiters(b, addr, bitset, n, &taken);
	spin_unlock(&b->lock);
	wake_list(woken);
	return taken;
}

int
futex_requeue(uint32_t *addr, int nwake, int nmove, uint32_t *addr2,
	      const uint32_t *cmp)
{
	struct bucket *b = bucket_of(addr), *b2 = bucket_of(addr2);
	int taken, moved = 0;

	if (nwake < 0 || nmove < 0)
		return -EINVAL;
	/* Two buckets: always lock the lower one first. */
	struct bucket *first = b < b2 ? b : b2, *second = b < b2 ? b2 : b;
	spin_lock(&first->lock);
	if (second != first)
		spin_lock(&second->lock);
	if (cmp && __atomic_load_n(addr, __ATOMIC_SEQ_CST) != *cmp) {
		if (second != first)
			spin_unlock(&second->lock);
		spin_unlock(&first->lock);
		return -EAGAIN;
	}
	struct thread *woken = take_waiters(b, addr, ~0U, nwake, &taken);
	for (struct thread **p = &b->head; *p && moved < nmove;) {
		struct thread *t = *p;
		if (t->futex_addr != addr) {
			p = &t->futex_next;
			continue;
		}
		*p = t->futex_next;
		__atomic_store_n(&t->futex_addr, addr2, __ATOMIC_RELEASE);
		enqueue(b2, t);
		moved++;
	}
	if (second != first)
		spin_unlock(&second->lock);
	spin_unlock(&first->lock);
	wake_list(woken);
	return taken + moved;
}
