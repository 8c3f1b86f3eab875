/*
 * Time sources of the x86 PC: the TSC, calibrated, the local APIC timer
 * and the CMOS RTC.
 */
#ifndef TORO_ARCH_CLOCK_H
#define TORO_ARCH_CLOCK_H

#include <stdint.h>

/* TSC ticks per second: CPUID 0x15/0x16 when the CPU says, else the PIT. */
uint64_t tsc_hz(void);
/*
 * Halts the calling CPU (interrupts on only while halted) until the TSC
 * reaches deadline, woken by its local APIC timer; spins without one.
 */
void timer_sleep_until(uint64_t deadline);
/* Seconds since the Unix epoch from the CMOS RTC, or 0 without one. */
int64_t rtc_read_epoch(void);

#endif
