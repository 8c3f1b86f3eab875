/*
 * Clocks and sleeps.  CLOCK_MONOTONIC counts TSC ticks since boot;
 * CLOCK_REALTIME adds the CMOS RTC reading taken the first time it is asked.
 * Sleeps block the thread on its core's timer list (lib/sched), so other
 * threads run meanwhile and an idle core halts, and check the clock they
 * sleep on each time they wake.
 */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "lib/sched/sched.h"
#include "lib/sys/syscall.h"

#define NSEC 1000000000ULL

extern uint64_t boot_tsc;	/* read by the entry code (boot.S) */
static int64_t rtc_epoch;
static uint64_t rtc_ns;	/* monotonic time when the RTC was read */

static uint64_t
monotonic_ns(void)
{
	/* Read the TSC before tsc_hz(), whose first call calibrates for 10 ms. */
	uint64_t ticks = rdtsc() - boot_tsc;

	return muldiv64(ticks, NSEC, tsc_hz(), 0);
}

static int
clock_now(long clk, struct timespec *ts)
{
	uint64_t ns;

	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
		if (!rtc_epoch) {
			rtc_epoch = rtc_read_epoch();
			rtc_ns = monotonic_ns();
		}
		ns = monotonic_ns() - rtc_ns;
		ts->tv_sec = rtc_epoch + (time_t)(ns / NSEC);
		ts->tv_nsec = (long)(ns % NSEC);
		return 0;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		ns = monotonic_ns();
		ts->tv_sec = (time_t)(ns / NSEC);
		ts->tv_nsec = (long)(ns % NSEC);
		return 0;
	}
	return -EINVAL;
}

long
sys_clock_gettime(long clk, long tsp, long a2, long a3, long a4, long a5)
{
	struct timespec *ts = (struct timespec *)tsp;

	if (!user_ok(ts, sizeof(*ts)))
		return -EFAULT;
	return clock_now(clk, ts);
}

long
sys_clock_getres(long clk, long tsp, long a2, long a3, long a4, long a5)
{
	struct timespec now, *ts = (struct timespec *)tsp;

	if (clock_now(clk, &now))
		return -EINVAL;
	if (ts) {
		if (!user_ok(ts, sizeof(*ts)))
			return -EFAULT;
		*ts = (struct timespec){ 0, 1 };
	}
	return 0;
}

long
sys_gettimeofday(long tvp, long tz, long a2, long a3, long a4, long a5)
{
	struct timeval *tv = (struct timeval *)tvp;
	struct timespec ts;

	if (tv) {
		if (!user_ok(tv, sizeof(*tv)))
			return -EFAULT;
		clock_now(CLOCK_REALTIME, &ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return 0;
}

long
sys_time(long tp, long a1, long a2, long a3, long a4, long a5)
{
	struct timespec ts;

	clock_now(CLOCK_REALTIME, &ts);
	if (tp) {
		if (!user_ok((void *)tp, sizeof(time_t)))
			return -EFAULT;
		*(time_t *)tp = ts.tv_sec;
	}
	return ts.tv_sec;
}

/* TSC ticks for ns nanoseconds, rounded up, at most 2^62. */
static uint64_t
ticks_of(uint64_t ns)
{
	uint64_t t = muldiv64(ns, tsc_hz(), NSEC, 1);

	return t > (1ULL << 62) ? 1ULL << 62 : t;
}

static long
sleep_until(long clk, uint64_t deadline_ns)
{
	struct timespec now;

	for (;;) {
		clock_now(clk, &now);
		uint64_t ns = (uint64_t)now.tv_sec * NSEC + (uint64_t)now.tv_nsec;
		if (ns >= deadline_ns)
			return 0;
		sched_sleep_until(rdtsc() + ticks_of(deadline_ns - ns));
	}
}

/*
 * A valid timespec in nanoseconds and the clock's current time; past 2^62
 * ns (146 years) a sum could wrap, so longer times are clamped there.
 */
static int
timespec_ns(long clk, const struct timespec *ts, uint64_t *ns, uint64_t *now_ns)
{
	struct timespec now;

	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= (long)NSEC)
		return -EINVAL;
	if (clock_now(clk, &now))
		return -EINVAL;
	*ns = (uint64_t)ts->tv_sec > (1ULL << 62) / NSEC ? 1ULL << 62 :
	      (uint64_t)ts->tv_sec * NSEC + (uint64_t)ts->tv_nsec;
	*now_ns = (uint64_t)now.tv_sec * NSEC + (uint64_t)now.tv_nsec;
	return 0;
}

int
time_deadline(long clk, const struct timespec *ts, bool absolute,
	      uint64_t *tsc)
{
	uint64_t want, now_ns, tsc_now = rdtsc();
	int err = timespec_ns(clk, ts, &want, &now_ns);

	if (err)
		return err;
	if (absolute)
		want = want > now_ns ? want - now_ns : 0;
	*tsc = tsc_now + (want ? ticks_of(want) : 1);
	return 0;
}

static long
do_sleep(long clk, int flags, long reqp, long remp)
{
	const struct timespec *req = (const struct timespec *)reqp;
	uint64_t want, now_ns;

	if (!user_ok(req, sizeof(*req)) ||
	    (remp && !user_ok((void *)remp, sizeof(struct timespec))))
		return -EFAULT;
	int err = timespec_ns(clk, req, &want, &now_ns);
	if (err)
		return err;
	if (!(flags & TIMER_ABSTIME))
		want += now_ns;
	return sleep_until(clk, want);
}

long
sys_nanosleep(long req, long rem, long a2, long a3, long a4, long a5)
{
	return do_sleep(CLOCK_MONOTONIC, 0, req, rem);
}

long
sys_clock_nanosleep(long clk, long flags, long req, long rem, long a4, long a5)
{
	return do_sleep(clk, (int)flags, req, rem);
}
