/*
 * Time sources of the x86 PC: the TSC, calibrated, the local APIC timer
 * and the CMOS RTC.
 */
#ifndef TORO_ARCH_CLOCK_H
#define TORO_ARCH_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* TSC ticks per second: CPUID 0x15/0x16 when the CPU says, else the PIT. */
uint64_t tsc_hz(void);
/*
 * Arms the calling CPU's local APIC timer (vector LAPIC_TIMER_VECTOR) to
 * fire at, or a little before, TSC deadline; false without a usable timer.
 */
bool timer_arm_at(uint64_t deadline);
/* Seconds since the Unix epoch from the CMOS RTC, or 0 without one. */
int64_t rtc_read_epoch(void);

/*
 * a * b / c with a 128-bit intermediate, rounded down (or up), saturating
 * at UINT64_MAX; c must not be 0.  mul and div do it in two instructions,
 * where a C __int128 division would pull libgcc's __udivti3 into every
 * image.
 */
static inline uint64_t
muldiv64(uint64_t a, uint64_t b, uint64_t c, int round_up)
{
	uint64_t lo, hi, q, r;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
	if (hi >= c)
		return UINT64_MAX;	/* the quotient would not fit */
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c) : "cc");
	return q + (round_up && r && q != UINT64_MAX);
}

#endif
