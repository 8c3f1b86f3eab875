/*
 * Threads and the per-core schedulers.  Each core owns its threads: a run
 * queue only it touches, a list of its sleepers and a lock-free stack on
 * which other cores push the threads they wake or move to it.  Nothing
 * here takes a lock shared between cores.
 */
#ifndef TORO_SCHED_H
#define TORO_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define THREAD_KSTACK_SIZE 16384

enum thread_state {
	THREAD_RUNNABLE,	/* running, or in a run queue */
	THREAD_BLOCKED,		/* waiting for sched_wake() */
	THREAD_DEAD,
};

/* Thread flags. */
#define THREAD_IDLE	1	/* a core's idle loop: never queued */
#define THREAD_STATIC	2	/* not allocated: never freed or reused */
#define THREAD_KERNEL	4	/* kernel code only: no FPU state, no %fs, no user stack */

struct sched_cpu;

struct thread {
	uint64_t rsp;			/* saved by ctx_switch() */
	uint64_t kstack_top;		/* the system-call entry's stack */
	uint64_t fs_base;		/* the thread pointer (musl's %fs) */
	struct sched_cpu *cpu;		/* the core that owns it */
	struct thread *next;		/* run queue or incoming stack */
	struct thread *timer_next;	/* the owner's sleeper list */
	uint64_t wake_tsc;		/* nonzero: in the sleeper list */
	int state;			/* enum thread_state, atomic */
	int tid;
	int want_cpu;			/* atomic: -1, or the core to move to */
	int spawn_cpu;			/* where its next clone goes, -1 any */
	int place_next;			/* round-robin cursor for its clones */
	unsigned flags;
	uint64_t affinity;		/* cores it may run on */
	uint32_t *clear_child_tid;	/* CLONE_CHILD_CLEARTID */
	uint64_t robust_list;
	/* futex.c: the bucket list it waits in, under the bucket's lock */
	struct thread *futex_next;
	uint32_t *futex_addr;
	uint32_t futex_bitset;
	bool futex_queued;
	struct thread *tid_next;	/* thread.c's id table */
	const char *name;		/* kernel threads: what it is */
	uint8_t fpu[512] __attribute__((aligned(16)));	/* fxsave area */
};

/*
 * One core's scheduler.  Only its own core touches it, with interrupts
 * off, except for the fields marked atomic, which other cores use to hand
 * it threads (incoming) and to see whether it needs an IPI (halted).
 */
struct sched_cpu {
	unsigned index;
	uint32_t apic_id;
	struct percpu *percpu;
	struct thread *current, *idle;
	struct thread *head, *tail;	/* run queue */
	struct thread *incoming;	/* atomic: a stack other cores push on */
	int halted;			/* atomic: idle, about to halt or halted */
	unsigned nthreads;		/* atomic: threads placed here */
	struct thread *sleepers;	/* by wake_tsc, earliest first */
	uint64_t armed_tsc;		/* the timer is armed for this and has not fired (0: unknown) */
	struct thread *fpu_owner;	/* whose state the FPU registers hold */
	struct thread *handoff;		/* left the core at the last switch */
	struct thread *cache;		/* exited threads kept for reuse */
	unsigned ncache;
	uint64_t slice_end;		/* TSC when the running thread's slice ends */
	uint64_t poll_ticks;		/* the idle poll's window now (adapted) */
	bool poll_set;			/* poll_ticks has been given its start */
	const struct idle_watch *watch;	/* sched_idle_watch(): a device it checks */
	bool watch_armed;		/* the watched device may interrupt (a halt) */
	uint64_t switches, ipis;	/* statistics */
};

/*
 * A device its core checks instead of taking its interrupt.  The thread
 * that serves it (the stack's, for a NIC) registers this on its own core
 * before it sleeps, with the device's interrupt off.  While *idx and
 * *seen (the device's counter and the driver's) differ there is work:
 * the core looks at every scheduling decision, at its timer interrupt
 * and while it polls idle, and hands the work to wake() with no
 * interrupt at all.  Only before the core halts does arm() turn the
 * interrupt on (true: work came meanwhile); quiet() turns it off again
 * when the core wakes.  An interrupt would do no more while the core has
 * threads to run: what it wakes runs at the next scheduling decision
 * anyway.  Called on that core with interrupts off; none blocks.
 */
struct idle_watch {
	void (*quiet)(void *arg);
	bool (*arm)(void *arg);
	void (*wake)(void *arg);
	void *arg;
	const volatile uint16_t *idx, *seen;
};

/* The watched device has work (a look at memory, no device access). */
static inline bool
idle_watch_pending(const struct idle_watch *w)
{
	return *w->idx != *w->seen;
}

/* ----------------------------------------------------------- sched.c */

/* The boot CPU: its scheduler, the main thread (tid 1) and idle thread. */
void sched_init(void);
/* Starts the boot CPU's time slice (once its local APIC is up). */
void sched_start_ticking(void);
/* An application processor, before it says it is online. */
void sched_init_ap(void);
/* An application processor's last step: its idle loop. */
__attribute__((noreturn)) void sched_idle_ap(void);

struct thread *sched_current(void);
/* The scheduler of online core index, or NULL. */
struct sched_cpu *sched_cpu_of(unsigned index);
unsigned sched_cpu_index(const struct sched_cpu *c);
/* Threads placed on a core (for placement). */
unsigned sched_cpu_load(const struct sched_cpu *c);

/* Lets the other runnable threads of this core run first. */
void sched_yield_cpu(void);
/*
 * Switches away from the current thread, which has set its state to
 * THREAD_BLOCKED (under the lock of whatever it waits on); returns once
 * sched_wake() made it runnable again (possibly before it even left).
 */
void sched_block(void);
/* Makes a blocked thread runnable on its core; false if it was not blocked. */
bool sched_wake(struct thread *t);
/*
 * sched_wake() in two steps, for a waker that must settle the state under
 * its own lock: prepare claims the thread (false: someone else did), and
 * finish, after the lock, queues it.  Until finish it cannot run.
 */
bool sched_wake_prepare(struct thread *t);
void sched_wake_finish(struct thread *t);
/* Blocks the current thread until the TSC reaches deadline (or a wake). */
void sched_sleep_until(uint64_t deadline);
/* Arms/cancels the current thread's wake-up time for a timed wait. */
void sched_timer_set(uint64_t deadline);
/* Puts a new thread on core c's run queue (any core may call it). */
void sched_start(struct thread *t, struct sched_cpu *c);
/* Ends the current thread: its memory is recycled once it is off-CPU. */
__attribute__((noreturn)) void sched_exit_current(void);

/*
 * True when timeslice= is set: a thread can then lose its core at any
 * instruction where interrupts are on, not only at system calls.
 */
extern bool sched_preemptive;
/* Kernel option timeslice=MS (0 = cooperative, the default). */
int sched_set_timeslice(const char *v);
/* Kernel option idle_poll=US: how long an idle core polls before HLT. */
int sched_set_idle_poll(const char *v);
/* This core checks w until it hands w's work over (NULL: stop). */
void sched_idle_watch(const struct idle_watch *w);

/* Interrupt hooks (traps.c): return nonzero to preempt the thread. */
int sched_timer_interrupt(void);
int sched_ipi_interrupt(void);

/* ---------------------------------------------------------- thread.c */

/* A fresh thread (kernel stack, FPU state copied from the caller). */
struct thread *thread_alloc(void);
void thread_free(struct thread *t);
/* Registers t under a new id; the id table finds threads for tid calls. */
int thread_register(struct thread *t);
void thread_unregister(struct thread *t);
/*
 * The thread with this id (0 = the caller), or NULL.  Only the caller's
 * own is safe to use afterwards: another thread may exit meanwhile.
 */
struct thread *thread_find(int tid);
/*
 * Calls fn(t, arg) for the thread with this id (0 = the caller) while it
 * cannot exit (under the id table's lock unless it is the caller; fn must
 * not block then); -ESRCH when there is none.
 */
long thread_apply(int tid, long (*fn)(struct thread *, void *), void *arg);
/* The core a new thread goes to (see toro_thread(3) for the policy). */
struct sched_cpu *thread_place(struct thread *creator);
/* Live threads; the last one to exit ends the program. */
extern int thread_count;
/*
 * Starts a kernel thread running fn(arg) on core cpu, with interrupts
 * off like all kernel code, pinned there.  It is not one of the
 * application's threads: it has no thread id, does not count in
 * thread_count (the program ends without it) and never returns to user
 * code; when fn returns, the thread ends.  name is for debugging (kept,
 * not copied).  0, -EINVAL (cpu not online) or -ENOMEM.
 */
int kthread_start(void (*fn)(void *), void *arg, unsigned cpu, const char *name);

#endif
