/*
 * Single-thread microbenchmarks, built unchanged for Toro and for the
 * Linux guest (tests/bench/micro.sh).  Each runs its operation in batches
 * for about MS milliseconds of CLOCK_MONOTONIC (argument 1; 200 when
 * absent) after a short warm-up, and prints one machine-readable line:
 *
 *   RESULT name value unit
 *
 * It measures itself inside the guest; the host only boots it and reads
 * the lines.  Nothing here needs threads: Toro runs one thread today.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Keeps the compiler from removing work whose result is unused. */
#define KEEP(x) __asm__ volatile("" : : "r"(x) : "memory")

static void
op_getppid(long n)
{
	for (long i = 0; i < n; i++)
		KEEP(getppid());
}

static void
op_clock_gettime(long n)
{
	struct timespec ts;

	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		KEEP(ts.tv_nsec);
	}
}

static void
op_malloc_free_64(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(64);

		KEEP(p);
		free(p);
	}
}

/* Runs op in batches for about ms milliseconds; the batches grow until
 * one takes about a millisecond.  Returns the nanoseconds per operation. */
static double
run_for(void (*op)(long), long ms)
{
	long long start = now_ns(), elapsed, limit = ms * 1000000LL;
	long batch = 16, ops = 0;

	do {
		long long t = now_ns();
		op(batch);
		ops += batch;
		if (now_ns() - t < 1000000 && batch < (1L << 24))
			batch *= 2;
		elapsed = now_ns() - start;
	} while (elapsed < limit);
	return (double)elapsed / (double)ops;
}

/* Nanoseconds per operation of op, measured for ms milliseconds after a
 * warm-up of a quarter of that: first faults, the allocator settling
 * into its steady state, and the first reading of the clock (Toro
 * calibrates its TSC then). */
static double
measure(void (*op)(long), long ms)
{
	run_for(op, ms / 4 + 1);
	return run_for(op, ms);
}

int
main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 200;

	if (ms <= 0) {
		fprintf(stderr, "usage: micro [MILLISECONDS]\n");
		return 2;
	}
	printf("RESULT getppid %.1f ns\n", measure(op_getppid, ms));
	printf("RESULT clock_gettime %.1f ns\n", measure(op_clock_gettime, ms));
	printf("RESULT malloc_free_64 %.3f Mops/s\n", 1e3 / measure(op_malloc_free_64, ms));
	return 0;
}
