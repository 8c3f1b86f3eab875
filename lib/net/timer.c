/*
 * The stack's timers (net.h): a hashed timing wheel of 1024 one-millisecond
 * slots, so that setting, moving and cancelling a timer are O(1) however
 * many connections there are; a timer more than a revolution ahead waits
 * in its slot and is skipped until its time comes.  Also the token-bucket
 * rate limits (ICMP errors, ARP replies).  Who runs the wheel and sleeps
 * until its next deadline is stack.c's business (net_timer_kick()); here
 * is only the data structure, pure and unit-tested.
 *
 * Everything runs under net_lock().
 */
#include <stdint.h>

#include "lib/net/inet.h"

#define SLOTS		1024	/* a power of two */

static struct net_timer *wheel[SLOTS];
static uint64_t wheel_now;		/* the next tick net_timer_run() looks at */
static uint64_t next_due = UINT64_MAX;	/* a lower bound of the earliest timer */
static bool next_stale;			/* next_due needs a rescan */
static unsigned long pending;

static void
link_timer(struct net_timer *t)
{
	uint64_t tick = t->when_ms < wheel_now ? wheel_now : t->when_ms;
	struct net_timer **head = &wheel[tick & (SLOTS - 1)];

	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
	pending++;
}

static void
unlink_timer(struct net_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	pending--;
}

void
net_timer_set(struct net_timer *t, uint64_t when_ms,
	      void (*fn)(struct net_timer *t))
{
	if (t->pprev)
		unlink_timer(t);
	t->when_ms = when_ms;
	t->fn = fn;
	link_timer(t);
	if (when_ms < next_due) {
		next_due = when_ms;
		net_timer_kick(when_ms);
	}
}

void
net_timer_cancel(struct net_timer *t)
{
	if (t->pprev)
		unlink_timer(t);	/* next_due stays: an early wake-up is harmless */
}

/* Fires the due timers of one slot; the others go back in it. */
static void
run_slot(struct net_timer **slot, uint64_t now)
{
	struct net_timer *list = *slot;

	/* Detach the slot: callbacks may add to it (their timers wait a tick). */
	*slot = NULL;
	if (list)
		list->pprev = &list;
	while (list) {
		struct net_timer *t = list;
		unlink_timer(t);	/* list now starts at t's successor */
		if (t->when_ms <= now) {
			t->fn(t);	/* may set t again, or cancel others in list */
		} else {
			link_timer(t);
		}
	}
}

void
net_timer_run(uint64_t now)
{
	if (now < wheel_now)
		return;
	if (now - wheel_now >= SLOTS)
		wheel_now = now + 1 - SLOTS;	/* one revolution sees every timer */
	while (wheel_now <= now) {
		/* Timers that callbacks set from here on land in later slots. */
		uint64_t tick = wheel_now++;
		run_slot(&wheel[tick & (SLOTS - 1)], now);
	}
	next_stale = true;
}

/*
 * The earliest pending timer.  A slot i ticks ahead holds timers due at
 * tick wheel_now + i or whole revolutions later, so the scan stops once
 * it has passed the best one found.
 */
static uint64_t
scan_earliest(void)
{
	uint64_t best = UINT64_MAX;

	if (!pending)
		return best;
	for (uint64_t i = 0; i < SLOTS && wheel_now + i < best; i++)
		for (struct net_timer *t = wheel[(wheel_now + i) & (SLOTS - 1)]; t;
		     t = t->next)
			if (t->when_ms < best)
				best = t->when_ms;
	return best;
}

uint64_t
net_timer_next(void)
{
	if (next_stale) {
		next_due = scan_earliest();
		next_stale = false;
	}
	return next_due;
}

unsigned long
net_timer_count(void)
{
	return pending;
}

bool
net_ratelimit_ok(struct net_ratelimit *r)
{
	uint64_t now = net_now_ms();
	uint64_t refill = (now - r->last_ms) * r->per_s / 1000;

	if (refill) {
		uint64_t t = r->tokens + refill;
		r->tokens = (uint32_t)(t > r->burst ? r->burst : t);
		r->last_ms = now;
	} else if (!r->last_ms) {
		r->tokens = r->burst;	/* first use */
		r->last_ms = now ? now : 1;
	}
	if (!r->tokens)
		return false;
	r->tokens--;
	return true;
}
