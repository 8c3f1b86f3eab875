/*
 * Sleeps as an application sees them through musl: nanosleep and
 * clock_nanosleep (relative, TIMER_ABSTIME on MONOTONIC and REALTIME, a
 * deadline already past), bad arguments, a sleep of zero, a run of short
 * sleeps.  Prints one "name: facts" line per check; sleep.test decides
 * what is right.  With a number argument it only sleeps that many
 * milliseconds (sleep.test measures what a sleeping guest costs the
 * host); "long" adds a sleep longer than the local APIC timer's 32-bit
 * count reaches at 1 GHz.  Also a sleep right after a wait that ended
 * before its timeout (the core's timer still armed for that earlier
 * deadline).  Exits with status 42 once every check has run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec
ts_of(int64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
}

static const char *
err_name(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EINTR: return "EINTR";
	}
	return "other";
}

/* nanosleep for ns; prints its result and how long CLOCK_MONOTONIC says it took. */
static void
relative(const char *name, int64_t ns)
{
	struct timespec req = ts_of(ns);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	errno = 0;
	int r = nanosleep(&req, NULL);
	int e = errno;
	int64_t t1 = now_ns(CLOCK_MONOTONIC);

	printf("%s: %d %s slept_ns=%lld\n", name, r, err_name(r ? e : 0),
	       (long long)(t1 - t0));
}

/* clock_nanosleep(clk, TIMER_ABSTIME) to now + ns on clk. */
static void
absolute(const char *name, clockid_t clk, int64_t ns)
{
	int64_t t0 = now_ns(clk);
	struct timespec req = ts_of(t0 + ns);
	int r = clock_nanosleep(clk, TIMER_ABSTIME, &req, NULL);
	int64_t t1 = now_ns(clk);

	printf("%s: %s late_ns=%lld\n", name, err_name(r),
	       (long long)(t1 - (t0 + ns)));
}

static void
bad_arguments(void)
{
	struct timespec big = { 0, 1000000000 }, neg = { 0, -1 }, negsec = { -1, 0 };

	errno = 0;
	int r = nanosleep(&big, NULL);
	printf("nanosleep nsec=1e9: %d %s\n", r, err_name(r ? errno : 0));
	errno = 0;
	r = nanosleep(&neg, NULL);
	printf("nanosleep nsec=-1: %d %s\n", r, err_name(r ? errno : 0));
	errno = 0;
	r = nanosleep(&negsec, NULL);
	printf("nanosleep sec=-1: %d %s\n", r, err_name(r ? errno : 0));
	/* clock_nanosleep returns the error instead of setting errno. */
	printf("clock_nanosleep nsec=1e9: %s\n",
	       err_name(clock_nanosleep(CLOCK_MONOTONIC, 0, &big, NULL)));
	printf("clock_nanosleep abs nsec=1e9: %s\n",
	       err_name(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &big, NULL)));
}

static pthread_mutex_t poke_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t poke_cond = PTHREAD_COND_INITIALIZER;
static int poked;

static void *
poke(void *arg)
{
	struct timespec t = { 0, 20 * 1000000L };

	(void)arg;
	nanosleep(&t, NULL);
	pthread_mutex_lock(&poke_lock);
	poked = 1;
	pthread_cond_signal(&poke_cond);
	pthread_mutex_unlock(&poke_lock);
	return NULL;
}

/*
 * A condition wait with a 300 ms timeout that another thread ends after
 * 20 ms, then a 500 ms sleep: the timer may still be armed for the wait's
 * abandoned deadline, 280 ms before the sleep's, and must still wake the
 * sleeper.
 */
static void
after_early_wake(void)
{
	pthread_condattr_t a;
	pthread_t th;
	struct timespec dl;
	int r = 0;

	/* The condition variable on CLOCK_MONOTONIC, as now_ns() measures. */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&poke_cond, &a);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	dl = ts_of(t0 + 300 * 1000000LL);
	pthread_mutex_lock(&poke_lock);
	if (pthread_create(&th, NULL, poke, NULL)) {
		pthread_mutex_unlock(&poke_lock);
		printf("early wake: cannot start a thread\n");
		return;
	}
	while (!poked && r == 0)
		r = pthread_cond_timedwait(&poke_cond, &poke_lock, &dl);
	pthread_mutex_unlock(&poke_lock);
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	pthread_join(th, NULL);
	printf("early wake: %s poked=%d waited_ns=%lld\n", err_name(r), poked,
	       (long long)(t1 - t0));
	relative("sleep 500ms after it", 500 * 1000000LL);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "long") != 0) {
		long ms = atol(argv[1]);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		int r = nanosleep(&ts, NULL);
		printf("slept: %ld ms, %d\n", ms, r);
		return 42;
	}
	/* The clock first, so the sleep of 0 is not charged its calibration. */
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	relative("zero", 0);
	relative("sleep 200ms", 200 * 1000000LL);
	relative("sleep 1us", 1000);
	absolute("abs monotonic 100ms", CLOCK_MONOTONIC, 100 * 1000000LL);
	absolute("abs realtime 100ms", CLOCK_REALTIME, 100 * 1000000LL);
	struct timespec past = { 0, 1 };	/* 1 ns after boot */
	t0 = now_ns(CLOCK_MONOTONIC);
	int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, NULL);
	printf("abs monotonic past: %s took_ns=%lld\n", err_name(r),
	       (long long)(now_ns(CLOCK_MONOTONIC) - t0));

	t0 = now_ns(CLOCK_MONOTONIC);
	struct timespec five = { 0, 5 * 1000000L };
	int fails = 0;
	for (int i = 0; i < 20; i++)
		fails += nanosleep(&five, NULL) != 0;
	printf("20 x 5ms: fails=%d took_ns=%lld\n", fails,
	       (long long)(now_ns(CLOCK_MONOTONIC) - t0));

	bad_arguments();
	after_early_wake();
	if (argc > 1)
		relative("sleep 4500ms", 4500 * 1000000LL);
	printf("sleep: done\n");
	return 42;
}
