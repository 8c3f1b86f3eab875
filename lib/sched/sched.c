/*
 * The per-core schedulers.  A thread runs only on the core that owns it;
 * that core alone touches its run queue, its sleeper list and its threads'
 * saved state, always with interrupts off, so there is no run-queue lock.
 * Other cores reach a core in one way only: they push a thread on its
 * incoming stack (a lock-free list; the owner takes all of it with one
 * exchange) and, if it is halted, send it an IPI.
 *
 * Scheduling is cooperative by default: a thread gives up its core when
 * it blocks, sleeps, yields or exits.  With the kernel option timeslice=MS
 * the local APIC timer also preempts a thread that has run MS
 * milliseconds while others wait on its core.  An idle core halts
 * (sti; hlt) until an interrupt: its timer for the earliest sleeper, or a
 * waker's IPI.  Waking and halting cannot miss each other: the idle core
 * sets `halted`, then looks at its incoming stack; a waker pushes, then
 * looks at `halted`; both with full fences, so at least one sees the other.
 *
 * Moving a thread between cores happens only while it is off-CPU: the
 * owner hands it to the other core when it takes it from its run queue,
 * or, for the thread that was running, after the switch away from it
 * (sched_finish_switch), once its registers are saved.
 */
#include "lib/sched/policy.h"
#include "lib/sched/sched.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/prof.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

static struct sched_cpu *cpus[CPU_MAX];
static struct thread main_thread;
static unsigned slice_ms;		/* 0: cooperative */
bool sched_preemptive;
static uint64_t slice_ticks;
/*
 * idle_poll= in microseconds; IDLE_POLL_UNSET until sched_start_ticking()
 * puts the default in, and no core polls before that.
 */
#define IDLE_POLL_UNSET	(~0u)
static unsigned idle_poll_us = IDLE_POLL_UNSET;
static uint64_t idle_poll_ticks;
static bool idle_poll_plain;	/* the poll spins without PAUSE */

void ctx_switch(uint64_t *save_rsp, uint64_t next_rsp);
void sched_finish_switch(void);
void sched_preempt(void);
extern char thread_start_kernel[];

static struct sched_cpu *
this_sched(void)
{
	return this_cpu()->sched;
}

struct thread *
sched_current(void)
{
	return this_sched()->current;
}

struct sched_cpu *
sched_cpu_of(unsigned index)
{
	return index < CPU_MAX ? __atomic_load_n(&cpus[index], __ATOMIC_ACQUIRE)
			       : NULL;
}

unsigned
sched_cpu_index(const struct sched_cpu *c)
{
	return c->index;
}

unsigned
sched_cpu_load(const struct sched_cpu *c)
{
	return __atomic_load_n(&c->nthreads, __ATOMIC_RELAXED);
}

int
sched_set_timeslice(const char *v)
{
	return kparse_uint(v, 100000, &slice_ms);
}

int
sched_set_idle_poll(const char *v)
{
	return kparse_uint(v, 1000000, &idle_poll_us);
}

/* ------------------------------------------------------------- queues */

static void
rq_push(struct sched_cpu *c, struct thread *t)
{
	t->next = NULL;
	if (c->tail)
		c->tail->next = t;
	else
		c->head = t;
	c->tail = t;
}

static struct thread *
rq_pop(struct sched_cpu *c)
{
	struct thread *t = c->head;

	if (t) {
		c->head = t->next;
		if (!c->head)
			c->tail = NULL;
	}
	return t;
}

static void
incoming_push(struct sched_cpu *c, struct thread *t)
{
	struct thread *old = __atomic_load_n(&c->incoming, __ATOMIC_RELAXED);

	do
		t->next = old;
	while (!__atomic_compare_exchange_n(&c->incoming, &old, t, true,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
}

/* Moves what other cores handed us to the run queue, oldest first. */
static void
incoming_drain(struct sched_cpu *c)
{
	if (!__atomic_load_n(&c->incoming, __ATOMIC_RELAXED))
		return;
	struct thread *t = __atomic_exchange_n(&c->incoming, NULL, __ATOMIC_ACQUIRE);
	struct thread *fifo = NULL;

	while (t) {
		struct thread *next = t->next;
		t->next = fifo;
		fifo = t;
		t = next;
	}
	while (fifo) {
		struct thread *next = fifo->next;
		rq_push(c, fifo);
		fifo = next;
	}
}

/* Wakes core c if it is halted: it has work on its incoming stack. */
static void
kick(struct sched_cpu *c)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->halted, __ATOMIC_RELAXED)) {
		this_sched()->ipis++;
		lapic_send_ipi(c->apic_id, SCHED_IPI_VECTOR);
	}
}

/* ------------------------------------------------------------- timers */

static void
timer_insert(struct sched_cpu *c, struct thread *t, uint64_t deadline)
{
	struct thread **p = &c->sleepers;

	t->wake_tsc = deadline ? deadline : 1;
	while (*p && (int64_t)((*p)->wake_tsc - t->wake_tsc) <= 0)
		p = &(*p)->timer_next;
	t->timer_next = *p;
	*p = t;
}

static void
timer_remove(struct sched_cpu *c, struct thread *t)
{
	for (struct thread **p = &c->sleepers; *p; p = &(*p)->timer_next) {
		if (*p == t) {
			*p = t->timer_next;
			break;
		}
	}
	t->wake_tsc = 0;
}

static void
timers_expire(struct sched_cpu *c)
{
	if (!c->sleepers)
		return;
	uint64_t now = rdtsc();
	while (c->sleepers && (int64_t)(now - c->sleepers->wake_tsc) >= 0) {
		struct thread *t = c->sleepers;
		c->sleepers = t->timer_next;
		t->wake_tsc = 0;
		sched_wake(t);
	}
}

void
sched_timer_set(uint64_t deadline)
{
	struct sched_cpu *c = this_sched();
	struct thread *t = c->current;

	if (t->wake_tsc)
		timer_remove(c, t);
	if (deadline)
		timer_insert(c, t, deadline);
}

/* ---------------------------------------------------------- switching */

static inline void
fpu_save(struct thread *t)
{
	__asm__ volatile("fxsave64 %0" : "=m"(t->fpu) : : "memory");
}

static inline void
fpu_restore(struct thread *t)
{
	__asm__ volatile("fxrstor64 %0" : : "m"(t->fpu) : "memory");
}

/* Hands a thread that is off-CPU to another core. */
static void
forward(struct sched_cpu *c, struct thread *t, unsigned to_index)
{
	struct sched_cpu *to = sched_cpu_of(to_index);

	__atomic_store_n(&t->want_cpu, -1, __ATOMIC_RELAXED);
	if (t->wake_tsc)
		timer_remove(c, t);
	if (c->fpu_owner == t) {
		fpu_save(t);
		c->fpu_owner = NULL;
	}
	if (!to || to == c) {
		rq_push(c, t);
		return;
	}
	__atomic_fetch_sub(&c->nthreads, 1, __ATOMIC_RELAXED);
	sched_start(t, to);
}

/* ------------------------------------------------------- watched devices */

void
sched_idle_watch(const struct idle_watch *w)
{
	uint64_t flags = irq_save();
	struct sched_cpu *c = this_sched();

	c->watch = w;
	c->watch_armed = false;
	irq_restore(flags);
}

/* With interrupts off: the watched device has work; hand it over. */
static void
watch_handover(struct sched_cpu *c)
{
	const struct idle_watch *w = c->watch;

	c->watch = NULL;
	c->watch_armed = false;
	w->wake(w->arg);
}

static inline void
watch_check(struct sched_cpu *c)
{
	if (c->watch && idle_watch_pending(c->watch))
		watch_handover(c);
}

/* The next thread to run here: the run queue's first, else idle. */
static struct thread *
pick_next(struct sched_cpu *c)
{
	watch_check(c);
	incoming_drain(c);
	timers_expire(c);
	for (;;) {
		struct thread *t = rq_pop(c);
		if (!t)
			return c->idle;
		if (t->wake_tsc)
			timer_remove(c, t);	/* woken before its timeout */
		int want = __atomic_load_n(&t->want_cpu, __ATOMIC_RELAXED);
		if (want >= 0 && (unsigned)want != c->index && t != c->current) {
			forward(c, t, (unsigned)want);
			continue;
		}
		return t;
	}
}

/*
 * Arms this core's timer for the earliest of its sleepers, the slice and,
 * with sampling on, the next sample (lib/kernel/prof.c).
 */
static bool
timer_rearm(struct sched_cpu *c, bool slice)
{
	uint64_t when = 0;

	if (c->sleepers)
		when = c->sleepers->wake_tsc;
	if (slice && (!when || (int64_t)(c->slice_end - when) < 0))
		when = c->slice_end;
	if (prof_enabled()) {
		uint64_t sample = prof_deadline();
		if (sample && (!when || (int64_t)(sample - when) < 0))
			when = sample;
	}
	/* Armed for that, or for earlier (the idle loop asks at every halt). */
	if (!timer_arm_needed(c->armed_tsc, when, rdtsc()))
		return true;
	if (!timer_arm_at(when))
		return false;
	c->armed_tsc = when;
	return true;
}

static void
switch_to(struct sched_cpu *c, struct thread *next, struct thread *leaving)
{
	struct thread *prev = c->current;

	c->handoff = leaving;
	if (next == prev) {
		sched_finish_switch();
		return;
	}
	if (!(next->flags & THREAD_IDLE)) {
		/* A kernel thread touches neither the FPU nor %fs nor syscall's stack. */
		if (!(next->flags & THREAD_KERNEL)) {
			if (c->fpu_owner != next) {
				if (c->fpu_owner)
					fpu_save(c->fpu_owner);
				fpu_restore(next);
				c->fpu_owner = next;
			}
			wrmsr(MSR_FS_BASE, next->fs_base);
			c->percpu->kernel_rsp = next->kstack_top;
		}
		if (slice_ticks) {
			c->slice_end = rdtsc() + slice_ticks;
			timer_rearm(c, true);
		} else if (prof_enabled()) {
			timer_rearm(c, false);	/* a core that was idle */
		}
	}
	c->current = next;
	c->switches++;
	ctx_switch(&prev->rsp, next->rsp);
	sched_finish_switch();
}

/*
 * Runs on the new thread's stack right after every switch (and first, in
 * a new thread): deals with the thread that left, whose registers are
 * now saved.  The core is this_sched() again, not the caller's: the
 * thread that resumes may have moved here from another core.
 */
void
sched_finish_switch(void)
{
	struct sched_cpu *c = this_sched();
	struct thread *t = c->handoff;

	if (!t)
		return;
	c->handoff = NULL;
	if (__atomic_load_n(&t->state, __ATOMIC_RELAXED) == THREAD_DEAD) {
		if (c->fpu_owner == t)
			c->fpu_owner = NULL;
		__atomic_fetch_sub(&c->nthreads, 1, __ATOMIC_RELAXED);
		thread_free(t);
		return;
	}
	int want = __atomic_load_n(&t->want_cpu, __ATOMIC_RELAXED);
	forward(c, t, want >= 0 ? (unsigned)want : c->index);
}

void
sched_yield_cpu(void)
{
	struct sched_cpu *c = this_sched();
	struct thread *prev = c->current;
	int want = __atomic_load_n(&prev->want_cpu, __ATOMIC_RELAXED);
	bool moving = want >= 0 && (unsigned)want != c->index;

	if (!moving)
		rq_push(c, prev);
	struct thread *next = pick_next(c);
	if (next == prev)
		return;
	switch_to(c, next, moving ? prev : NULL);
}

void
sched_block(void)
{
	struct sched_cpu *c = this_sched();

	switch_to(c, pick_next(c), NULL);
}

bool
sched_wake_prepare(struct thread *t)
{
	int blocked = THREAD_BLOCKED;

	return __atomic_compare_exchange_n(&t->state, &blocked, THREAD_RUNNABLE,
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

void
sched_wake_finish(struct thread *t)
{
	struct sched_cpu *c = t->cpu;

	if (c == this_sched()) {
		rq_push(c, t);
	} else {
		incoming_push(c, t);
		kick(c);
	}
}

bool
sched_wake(struct thread *t)
{
	if (!sched_wake_prepare(t))
		return false;
	sched_wake_finish(t);
	return true;
}

void
sched_start(struct thread *t, struct sched_cpu *c)
{
	t->cpu = c;
	__atomic_fetch_add(&c->nthreads, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&t->state, THREAD_RUNNABLE, __ATOMIC_RELEASE);
	if (c == this_sched()) {
		rq_push(c, t);
	} else {
		incoming_push(c, t);
		kick(c);
	}
}

void
sched_sleep_until(uint64_t deadline)
{
	struct sched_cpu *c = this_sched();
	struct thread *t = c->current;

	__atomic_store_n(&t->state, THREAD_BLOCKED, __ATOMIC_RELAXED);
	if (t->wake_tsc)
		timer_remove(c, t);
	timer_insert(c, t, deadline);
	sched_block();
}

void
sched_exit_current(void)
{
	struct sched_cpu *c = this_sched();
	struct thread *t = c->current;

	__atomic_store_n(&t->state, THREAD_DEAD, __ATOMIC_RELEASE);
	if (t->wake_tsc)
		timer_remove(c, t);
	switch_to(c, pick_next(c), t);
	panic("a dead thread ran again");
}

/* ------------------------------------------------------- idle, interrupts */

/*
 * Watches for work for up to idle_poll= microseconds before halting: a
 * thread that blocked a moment ago is often woken again a moment later (a
 * condition-variable or channel round trip, a reply from the network),
 * and catching that here saves the waker an IPI and this core the
 * wake-up from HLT, which costs tens of microseconds on a virtual CPU.
 * Interrupts are on meanwhile, as in HLT, and the timer is armed for the
 * earliest sleeper: a device's interrupt or a deadline is taken at once
 * and what it wakes here lands on the run queue.  (With them off, a
 * network request or a sleep that ended during the poll waited for its
 * end: with idle_poll=200, one connection's request/response rate fell
 * from 12600 to 4100 a second; with idle_poll=1000000 a 200 ms sleep
 * lasted 1 s.)  Bounded, so an idle core still halts almost all the time.
 *
 * The window adapts (idle_poll_next() in policy.h, as Linux's haltpoll
 * governor): a core whose work comes back later than idle_poll= after it
 * went idle (a client that thinks) stops polling, since no window could
 * have caught that work and the spinning vCPU only takes a host CPU from
 * the vCPUs and the device model that have work; work that came back
 * after the window but within idle_poll= widens it again.
 *
 * How long and how to spin depends on the CPUs (sched_start_ticking()).
 * Under QEMU's TCG each PAUSE ends the vCPU's run of translated code and
 * takes QEMU's global lock, which the device model holds while it
 * delivers a packet: the polling vCPU sleeps on the lock and needs a
 * wake-up for the very packet it polls for.  A guest with one CPU
 * therefore spins without PAUSE, for up to 200 us by default (haltpoll's
 * window; one connection's next request comes 55-80 us after the reply):
 * request/response went from 12.0k-12.6k to 18.1k-18.6k a second (tap,
 * alternating boots), the web server's page from 32.2k to 37.8k.  With
 * several vCPUs on a small host the spinners crowd out QEMU's main loop
 * and the client, and the trip through the lock is what makes them give
 * way: there PAUSE stays and the default is 50 us.  The two-vCPU web
 * server, five alternating boots on two host cores: 28.3k pages/s so,
 * 24.4k without PAUSE, 24.4k with a 200 us window, 25.1k with no poll.
 */
static bool
has_work(struct sched_cpu *c)
{
	return __atomic_load_n(&c->incoming, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&c->head, __ATOMIC_RELAXED);
}

static bool
idle_poll(struct sched_cpu *c)
{
	unsigned us = __atomic_load_n(&idle_poll_us, __ATOMIC_ACQUIRE);
	if (!us || us == IDLE_POLL_UNSET)
		return false;
	if (!idle_poll_ticks)	/* not at boot: calibrating the TSC takes 10 ms */
		__atomic_store_n(&idle_poll_ticks, tsc_hz() / 1000000 * us,
				 __ATOMIC_RELAXED);
	if (!c->poll_set) {
		c->poll_ticks = idle_poll_ticks;
		c->poll_set = true;
	}
	if (!c->poll_ticks)
		return false;
	const struct idle_watch *w = c->watch;
	uint64_t end = rdtsc() + c->poll_ticks;
	__asm__ volatile("sti" ::: "memory");
	/* The watched device inline, not through a call: toro-prof counts
	 * the samples in this function as idle. */
	while (!has_work(c) && !(w && idle_watch_pending(w)) && (int64_t)(rdtsc() - end) < 0) {
		if (idle_poll_plain)
			__asm__ volatile("" ::: "memory");
		else
			__asm__ volatile("pause" ::: "memory");
	}
	__asm__ volatile("cli" ::: "memory");
	watch_check(c);
	/* Again with interrupts off: one may have come after the last look. */
	return has_work(c);
}

/*
 * A core's idle thread: run what there is, else poll briefly, then halt
 * until an interrupt.  Without a usable timer and with sleepers waiting it
 * has to poll.
 */
static void
idle_loop(void *unused)
{
	struct sched_cpu *c = this_sched();

	for (;;) {
		struct thread *next = pick_next(c);
		if (next != c->idle) {
			switch_to(c, next, NULL);
			continue;
		}
		/*
		 * The timer first: a sleeper's deadline may come during the
		 * poll, and if it fires then, sched_timer_interrupt() arms it
		 * again, so it is still armed for the halt.
		 */
		bool can_halt = timer_rearm(c, false);
		uint64_t idle_since = rdtsc();
		if (idle_poll(c))
			continue;
		/* A watched device may interrupt while the core halts. */
		if (can_halt && c->watch) {
			if (c->watch->arm(c->watch->arg)) {
				watch_handover(c);
				continue;
			}
			c->watch_armed = true;
		}
		__atomic_store_n(&c->halted, 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (can_halt && !__atomic_load_n(&c->incoming, __ATOMIC_RELAXED)) {
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			if (c->poll_set)
				c->poll_ticks = idle_poll_next(c->poll_ticks, idle_poll_ticks,
								rdtsc() - idle_since);
		} else {
			__asm__ volatile("pause");
		}
		__atomic_store_n(&c->halted, 0, __ATOMIC_RELAXED);
		/* Awake: checked at scheduling decisions again, not interrupting. */
		if (c->watch_armed) {
			c->watch_armed = false;
			if (c->watch)
				c->watch->quiet(c->watch->arg);
		}
	}
}

int
sched_timer_interrupt(void)
{
	struct sched_cpu *c = this_sched();

	if (!c)
		return 0;
	c->armed_tsc = 0;	/* it fired: the next arm is a real one */
	watch_check(c);		/* what it wakes may preempt (timeslice=) */
	incoming_drain(c);
	timers_expire(c);
	if (!slice_ticks || (c->current->flags & THREAD_IDLE)) {
		/*
		 * Sampling: the next sample.  An idle core's timer too: it
		 * may have fired early (one-shot mode) while the idle loop
		 * polls, and that loop armed it only before the poll.  And
		 * whenever sleepers are left: timer_rearm() lets an arm for
		 * an earlier deadline stand, so this may be that one.
		 */
		if (prof_enabled() || c->sleepers || (c->current->flags & THREAD_IDLE))
			timer_rearm(c, false);
		return 0;
	}
	if ((int64_t)(rdtsc() - c->slice_end) >= 0) {
		if (c->head)
			return 1;	/* sched_preempt() */
		c->slice_end = rdtsc() + slice_ticks;
	}
	timer_rearm(c, true);
	return 0;
}

int
sched_ipi_interrupt(void)
{
	return 0;	/* the woken core's idle loop looks for itself */
}

/* From entry.S, on the preempted thread's kernel stack. */
void
sched_preempt(void)
{
	sched_yield_cpu();
}

/* ------------------------------------------------------------ set-up */

static struct sched_cpu *
cpu_alloc(void)
{
	struct percpu *pc = this_cpu();
	struct sched_cpu *c = (struct sched_cpu *)vm_alloc_pages(1);

	_Static_assert(sizeof(struct sched_cpu) <= 4096, "one page");
	if (!c)
		panic("out of memory for CPU %u's scheduler", pc->index);
	c->index = pc->index;
	c->apic_id = pc->apic_id;
	c->percpu = pc;
	return c;
}

static struct thread *
idle_alloc(struct sched_cpu *c, bool own_stack)
{
	struct thread *t = (struct thread *)vm_alloc_pages(1);

	_Static_assert(sizeof(struct thread) <= 4096, "one page");
	if (!t)
		panic("out of memory for CPU %u's idle thread", c->index);
	t->flags = THREAD_IDLE | THREAD_STATIC;
	t->cpu = c;
	t->want_cpu = t->spawn_cpu = -1;
	if (own_stack) {
		uint64_t top = vm_alloc_stack(THREAD_KSTACK_SIZE);
		if (!top)
			panic("out of memory for CPU %u's idle stack", c->index);
		uint64_t *sp = (uint64_t *)(top - 16) - 7;
		memset(sp, 0, 7 * sizeof(*sp));
		sp[4] = (uint64_t)idle_loop;		/* %rbx */
		sp[6] = (uint64_t)thread_start_kernel;	/* return address */
		t->rsp = (uint64_t)sp;
	}
	return t;
}

static void
publish(struct sched_cpu *c)
{
	c->percpu->sched = c;
	__atomic_store_n(&cpus[c->index], c, __ATOMIC_RELEASE);
}

void
sched_init(void)
{
	struct sched_cpu *c = cpu_alloc();
	struct thread *m = &main_thread;

	m->flags = THREAD_STATIC;
	m->cpu = c;
	m->tid = 1;
	m->want_cpu = m->spawn_cpu = m->place_next = -1;
	m->affinity = ~0ULL;
	m->kstack_top = c->percpu->kernel_rsp;
	c->nthreads = 1;
	c->current = m;
	c->fpu_owner = m;
	c->idle = idle_alloc(c, true);
	if (thread_register(m) != 1)
		panic("the main thread is not thread 1");
	if (slice_ms) {
		sched_preemptive = true;
		slice_ticks = tsc_hz() / 1000 * slice_ms;
		pr_debug("sched: preemptive, %u ms time slice\n", slice_ms);
	}
	publish(c);
}

void
sched_start_ticking(void)
{
	struct sched_cpu *c = this_sched();

	/* The idle poll, now that every CPU is up (see idle_poll()). */
	bool one = smp_online_count() == 1;
	unsigned us = idle_poll_us != IDLE_POLL_UNSET ? idle_poll_us : one ? 200 : 50;
	idle_poll_plain = one && cpu_tcg;
	__atomic_store_n(&idle_poll_us, us, __ATOMIC_RELEASE);
	if (us)
		pr_info("sched: an idle CPU polls for up to %u us%s\n", us,
			idle_poll_plain ? ", without PAUSE (QEMU's TCG, one CPU)" : "");
	else
		pr_info("sched: an idle CPU halts at once (idle_poll=0)\n");

	if (slice_ticks) {
		c->slice_end = rdtsc() + slice_ticks;
		if (!timer_rearm(c, true))
			pr_warn("sched: no usable local APIC timer; timeslice= "
				"has no effect\n");
	} else if (prof_enabled()) {
		timer_rearm(c, false);	/* prof=HZ: the first sample */
	}
}

void
sched_init_ap(void)
{
	struct sched_cpu *c = cpu_alloc();

	c->idle = idle_alloc(c, false);	/* runs on the AP's start-up stack */
	c->current = c->idle;
	publish(c);
}

void
sched_idle_ap(void)
{
	idle_loop(NULL);
	halt_forever();
}
