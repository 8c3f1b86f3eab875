/*
 * The stack's kernel services (net.h): the one lock, which also delivers
 * looped-back packets as it is released; the monotonic clock in ms and
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

extern uint64_t boot_tsc;	/* CLOCK_MONOTONIC's zero (boot.S) */

static struct spinlock lock;
static uint64_t hz;		/* tsc_hz(), read once: its first call calibrates */

void
net_lock(void)
{
	spin_lock(&lock);
}

void
net_unlock(void)
{
	/* Looped packets are delivered here, never inside ip_output(). */
	if (loop_pending())
		loop_drain();
	spin_unlock(&lock);
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

uint64_t
net_now_ms(void)
{
	uint64_t h = ticks_hz();

	return muldiv64(rdtsc() - boot_tsc, 1000, h, 0);
}

uint64_t
net_now_us(void)
{
	uint64_t h = ticks_hz();

	return muldiv64(rdtsc() - boot_tsc, 1000000, h, 0);
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
