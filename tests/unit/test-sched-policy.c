/*
 * The idle loop's and the timer's decisions (lib/sched/policy.h), driven
 * with made-up clocks: how the idle poll's window adapts to the gaps a
 * core sees, and when the timer is armed again.
 */
#include "tap.h"

#include "lib/sched/policy.h"

#define US 1000ull		/* ticks at 1 GHz */
#define MAX (50 * US)		/* idle_poll=50 */

/* Runs the window through n halts that each lasted idle ticks. */
static uint64_t
after_max(uint64_t window, uint64_t max, uint64_t idle, int n)
{
	while (n--)
		window = idle_poll_next(window, max, idle);
	return window;
}

static uint64_t
after(uint64_t window, uint64_t idle, int n)
{
	return after_max(window, MAX, idle, n);
}

static void
test_poll_window(void)
{
	/* Work a long while after going idle: the poll could not catch it. */
	ok(idle_poll_next(MAX, MAX, 80 * US) == MAX / 2, "a gap over idle_poll= halves the window");
	ok(after(MAX, 80 * US, 2) == MAX / 4, "two such gaps: a quarter");
	ok(after(MAX, 80 * US, 3) == 0, "three: no poll at all (under a quarter)");
	ok(after(MAX, 80 * US, 100) == 0, "and it stays at none while the gaps stay long");
	ok(idle_poll_next(0, MAX, 10 * MAX) == 0, "nothing halved is nothing");

	/* Work that a wider window would have caught: widen it. */
	ok(idle_poll_next(0, MAX, 5 * US) == MAX / 4, "a short gap after no poll: a quarter of idle_poll=");
	ok(idle_poll_next(MAX / 4, MAX, 20 * US) == MAX / 2, "a gap past the window, within idle_poll=: doubled");
	ok(idle_poll_next(MAX / 2, MAX, 40 * US) == MAX, "doubled again, to idle_poll=");
	ok(idle_poll_next(MAX, MAX, MAX) == MAX, "never past idle_poll=");
	ok(after(0, 45 * US, 10) == MAX, "gaps of 45 us bring a 50 us window back from none");

	/* A halt shorter than the window (an interrupt that brought no work
	 * for this core, say) says nothing about it. */
	ok(idle_poll_next(MAX / 2, MAX, 3 * US) == MAX / 2, "a halt inside the window keeps it");

	/* A long gap now and then, short ones between: one long gap halves
	 * the window, the next short one past it restores it. */
	uint64_t w = MAX;
	int whole = 0;
	for (int i = 0; i < 10; i++) {
		w = idle_poll_next(w, MAX, 500 * US);
		w = idle_poll_next(w, MAX, 30 * US);
		whole += w == MAX;
	}
	ok(whole == 10, "mixed gaps: the window is whole again after each short gap");

	/* idle_poll=1 (1000 ticks): a quarter rounds down; still bounded. */
	ok(after_max(0, 1000, 900, 5) == 1000, "idle_poll=1: the window grows to 1 us");
	ok(idle_poll_next(1000, 1000, 2000) == 500, "idle_poll=1: a long gap halves it");
	ok(after_max(1000, 1000, 2000, 3) == 0, "idle_poll=1: and long gaps end it");
}

static void
test_timer_arm(void)
{
	uint64_t now = 1000000;

	ok(timer_arm_needed(0, now + 100, now), "not armed: arm");
	ok(!timer_arm_needed(now + 100, now + 100, now), "armed for that deadline: leave it");
	ok(!timer_arm_needed(now + 100, 0, now), "nothing to wait for: leave it");
	ok(timer_arm_needed(now + 500, now + 100, now), "armed for later than needed: arm for sooner");
	ok(!timer_arm_needed(now + 100, now + 500, now),
	   "armed for sooner and still ahead: let it fire early");
	ok(timer_arm_needed(now - 1, now + 500, now), "armed for a time already past: arm");
	ok(timer_arm_needed(now, now + 500, now), "armed for now: arm (it is firing)");
	/* The TSC compares by difference, so a wrap changes nothing. */
	uint64_t top = UINT64_MAX - 50;
	ok(!timer_arm_needed(top + 100, top + 500, top), "across the wrap: sooner and ahead stands");
	ok(timer_arm_needed(top + 500, top + 100, top), "across the wrap: later is re-armed");
}

int
main(void)
{
	test_poll_window();
	test_timer_arm();
	return done_testing();
}
