/*
 * The stack's kernel services (net.h): the one lock, which also delivers
 * looped-back packets as it is released, and which threads that hold no
 * other lock may sleep for (net_lock_sleep); the monotonic clock in ms and
 * us; random numbers.  Only this file and stack.c touch the scheduler,
 * the TSC or the CPU: the rest of lib/net is plain C that the host unit
 * tests compile with these few functions replaced.
 */
#include <stdint.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/random.h"
#include "lib/kernel/spinlock.h"
#include "lib/net/inet.h"
#include "lib/sched/futex.h"

extern uint64_t boot_tsc;	/* CLOCK_MONOTONIC's zero (boot.S) */

static struct spinlock lock;
static uint32_t sleepers;	/* threads in net_lock_sleep()'s futex_wait */
static uint64_t hz;		/* tsc_hz(), read once: its first call calibrates */

void
net_lock(void)
{
	spin_lock(&lock);
}

/* Pause loops net_lock_sleep() spins before it sleeps. */
#define NET_LOCK_SPINS	256

void
net_lock_sleep(void)
{
	uint32_t *word = (uint32_t *)&lock.locked;

	for (;;) {
		for (unsigned i = 0; i < NET_LOCK_SPINS; i++) {
			if (spin_trylock(&lock))
				return;
			__builtin_ia32_pause();
		}
		__atomic_add_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
		/* Returns at once if the lock was dropped since. */
		futex_wait(word, 1, ~0u, 0);
		__atomic_sub_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
	}
}

void
net_unlock(void)
{
	/* Looped packets are delivered here, never inside ip_output(). */
	if (loop_pending())
		loop_drain();
	/* Sequentially consistent, unlike spin_unlock(): a sleeper counts
	 * itself before futex_wait() reads the word, we read the count after
	 * freeing it, so one of the two sees the other. */
	__atomic_store_n(&lock.locked, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sleepers, __ATOMIC_SEQ_CST))
		futex_wake((uint32_t *)&lock.locked, 1, ~0u);
	/* The device's notification (a VM exit) without the lock held. */
	if (eth_flush_wanted())
		eth_flush();
}

static uint64_t
ticks_hz(void)
{
	uint64_t h = __atomic_load_n(&hz, __ATOMIC_RELAXED);

	if (!h) {
		h = tsc_hz();
		__atomic_store_n(&hz, h, __ATOMIC_RELAXED);
	}
	return h;
}

/*
 * The clocks below run for every segment, so they scale TSC ticks by a
 * multiplication (the high half of ticks * 2^64 * unit / hz) instead of
 * a division, which costs far more, above all under TCG.  The factors
 * are exact to 1 part in 2^40 or better; both are set once, with hz.
 */
static uint64_t per_ms, per_us;

static uint64_t
frac64(uint64_t unit, uint64_t h)
{
	uint64_t q, r;

	/* unit * 2^64 / h: unit < h, so the quotient fits. */
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(0ul), "d"(unit), "rm"(h) : "cc");
	return q;
}

static inline uint64_t
scaled(uint64_t ticks, uint64_t factor)
{
	uint64_t lo, hi;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(ticks), "rm"(factor) : "cc");
	return hi;
}

static uint64_t
factor(uint64_t *f, uint64_t unit)
{
	uint64_t v = __atomic_load_n(f, __ATOMIC_RELAXED);

	if (!v) {
		v = frac64(unit, ticks_hz());
		__atomic_store_n(f, v, __ATOMIC_RELAXED);
	}
	return v;
}

uint64_t
net_now_ms(void)
{
	return scaled(rdtsc() - boot_tsc, factor(&per_ms, 1000));
}

uint64_t
net_now_us(void)
{
	return scaled(rdtsc() - boot_tsc, factor(&per_us, 1000000));
}

/* The TSC value at monotonic time ms (for futex deadlines). */
uint64_t
net_ms_to_tsc(uint64_t ms)
{
	return boot_tsc + muldiv64(ms, ticks_hz(), 1000, 1);
}

uint32_t
net_random32(void)
{
	uint32_t v;

	random_fill(&v, sizeof(v));
	return v;
}
