/* skew.c: the guest workload of toro-prof's tests and measurements.  Each
 * thread (one per core, two by default) repeats heavy(), medium() and
 * light(), which run the same loop 6, 3 and 1 times as long: 60/30/10%
 * of the busy time by construction, so a profiler must find that split.
 * The main thread works too, so one chain reaches main().  It prints the
 * rounds done and the guest time taken: its throughput, which shows how
 * much sampling slows it.  Usage: skew [SECONDS [THREADS]] runs for
 * SECONDS of guest time; skew -n ROUNDS [THREADS] does a fixed amount of
 * work.  It is not a benchmark of anything but the profiler. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNIT 20000UL	/* loop iterations per unit of work */

static volatile unsigned long sink;
static double seconds = 3;
static long fixed_rounds;
static long rounds_done[64];

#define BUSY(n) do { for (unsigned long i = 0; i < (n); i++) sink += i; } while (0)

__attribute__((noinline)) void heavy(void) { BUSY(6 * UNIT); }
__attribute__((noinline)) void medium(void) { BUSY(3 * UNIT); }
__attribute__((noinline)) void light(void) { BUSY(1 * UNIT); }

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) long
run_workload(void)
{
	double end = now() + seconds;
	long r = 0;

	while (fixed_rounds ? r < fixed_rounds : now() < end) {
		heavy();
		medium();
		light();
		r++;
	}
	return r;
}

__attribute__((noinline)) static void *
worker(void *arg)
{
	rounds_done[(long)arg] = run_workload();
	return NULL;
}

int
main(int argc, char **argv)
{
	int argi = 1, threads = 2;
	pthread_t t[64];

	if (argi < argc && !strcmp(argv[argi], "-n") && argi + 1 < argc) {
		fixed_rounds = atol(argv[argi + 1]);
		argi += 2;
	} else if (argi < argc) {
		seconds = atof(argv[argi++]);
	}
	if (argi < argc)
		threads = atoi(argv[argi]);
	if (threads < 1 || threads > 64)
		threads = 2;
	double t0 = now();
	for (long i = 1; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	rounds_done[0] = run_workload();
	long total = rounds_done[0];
	for (long i = 1; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += rounds_done[i];
	}
	double dt = now() - t0;
	printf("skew: %d threads, %ld rounds in %.3f s of guest time: %.1f rounds/s\n",
	       threads, total, dt, total / dt);
	return 0;
}
