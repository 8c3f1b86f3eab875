/*
 * Prints, first thing in main(), CLOCK_MONOTONIC (which Toro counts from
 * the kernel's first instruction) and, as a cross-check, the raw TSC ticks
 * since the kernel's entry (boot_tsc, read by arch/x86_64/boot.S).  Under
 * QEMU's -icount shift=0 the TSC counts virtual nanoseconds, so the two
 * should agree.
 */
#include <stdio.h>
#include <time.h>

extern unsigned long long boot_tsc __attribute__((weak));

static unsigned long long
rdtsc(void)
{
	unsigned lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (unsigned long long)hi << 32 | lo;
}

int
main(void)
{
	unsigned long long tsc = rdtsc();
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("monotonic_ns %lld\n", (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (&boot_tsc)
		printf("tsc_ticks %llu\n", tsc - boot_tsc);
	return 0;
}
