/* Time sources of the x86 PC: the TSC, calibrated, and the CMOS RTC. */
#ifndef TORO_ARCH_CLOCK_H
#define TORO_ARCH_CLOCK_H

#include <stdint.h>

/* TSC ticks per second: CPUID 0x15/0x16 when the CPU says, else the PIT. */
uint64_t tsc_hz(void);
/* Seconds since the Unix epoch from the CMOS RTC, or 0 without one. */
int64_t rtc_read_epoch(void);

#endif
