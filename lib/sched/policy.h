/*
 * Two decisions of the idle loop and the timer (sched.c), kept pure so
 * that a host test (tests/unit/test-sched-policy.c) can drive them with
 * made-up clocks.  All times are TSC ticks.
 */
#ifndef TORO_SCHED_POLICY_H
#define TORO_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The idle poll's next window after a halt, as Linux's haltpoll governor
 * adapts it.  window: the one just used; max: idle_poll= (the most it may
 * be); idle: ticks from going idle to waking from the halt.
 *
 * Work that came later than max after the core went idle could not have
 * been caught by any window: halve it, to nothing below a quarter of
 * max.  Work that came after the window but within max would have been:
 * double it (from nothing, to a quarter of max), up to max.  Work caught
 * by the poll never gets here, so a window that works stays.
 */
static inline uint64_t
idle_poll_next(uint64_t window, uint64_t max, uint64_t idle)
{
	uint64_t start = max / 4;

	if (idle > max) {
		window /= 2;
		return window < start ? 0 : window;
	}
	if (idle > window) {
		window = window ? window * 2 : start;
		return window > max ? max : window;
	}
	return window;
}

/*
 * Whether the core's timer must be armed again for `when`, the earliest
 * deadline it now has, given `armed`, the deadline it was last armed for
 * and has not fired yet (0: none, or not known).  Not when it is armed
 * for that already, nor when it is armed for an earlier deadline that is
 * still ahead: the timer fires early, finds nothing due, and the
 * interrupt arms it for `when` then.  A thread that blocks with a timeout
 * (epoll_wait's second, a sleep) moves its deadline at every wait, and
 * each arm is an APIC write, a VM exit.
 */
static inline bool
timer_arm_needed(uint64_t armed, uint64_t when, uint64_t now)
{
	if (!when || when == armed)
		return false;
	return !armed || (int64_t)(armed - when) > 0 || (int64_t)(armed - now) <= 0;
}

#endif
