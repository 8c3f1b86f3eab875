/*
 * Prints, first thing in main(), the raw TSC (which QEMU starts at 0 when
 * the virtual machine starts), CLOCK_MONOTONIC (which Toro counts from the
 * kernel's first instruction) and, on Toro, as a cross-check, the TSC
 * ticks since the kernel's entry (boot_tsc, read by arch/x86_64/boot.S),
 * as "RESULT name value unit" lines.  Under QEMU's -icount shift=0 the TSC
 * counts virtual nanoseconds.  Built unchanged for the Linux guest too,
 * where boot_tsc does not exist.
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
	printf("RESULT tsc %llu ticks\n", tsc);
	printf("RESULT monotonic %lld ns\n", (long long)ts.tv_sec * 1000000000 + ts.tv_nsec);
	if (&boot_tsc)
		printf("RESULT tsc_since_entry %llu ticks\n", tsc - boot_tsc);
	return 0;
}
