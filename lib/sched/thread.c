/*
 * Thread objects: their memory (a page for the struct, a kernel stack
 * above a guard page), the per-core cache of exited threads that makes
 * creating the next one cheap, the table that finds a thread by id, and
 * where a new thread is placed.  Scheduling them is sched.c's job.
 *
 * Placement policy (toro_thread(3)): a thread made by toro_thread_spawn()
 * goes to the core it names.  The threads any one thread creates
 * otherwise go round-robin over the cores it may run on, starting with the
 * core after its own: a main thread that starts one worker per core and
 * joins them puts one on each.
 *
 * Kernel threads (kthread_start(), e.g. the network stack's) are made
 * here too; they are the kernel's, not the application's: no id, not
 * counted in thread_count, pinned to their core.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86_64/cpu.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#include "lib/sched/sched.h"

#define CACHE_MAX 32		/* exited threads a core keeps for reuse */
#define TID_BUCKETS 256

extern char thread_start_kernel[];	/* switch.S */

int thread_count = 1;		/* the main thread */

static struct spinlock tid_lock;
static struct thread *tid_table[TID_BUCKETS];
static int next_tid = 1;

struct thread *
thread_alloc(void)
{
	struct sched_cpu *c = this_cpu()->sched;
	struct thread *t = c->cache;
	uint64_t top;

	if (t) {
		c->cache = t->next;
		c->ncache--;
		top = t->kstack_top;
	} else {
		t = (struct thread *)vm_alloc_pages(1);
		if (!t)
			return NULL;
		top = vm_alloc_stack(THREAD_KSTACK_SIZE);
		if (!top) {
			vm_free_pages((uint64_t)t, 1);
			return NULL;
		}
	}
	memset(t, 0, offsetof(struct thread, fpu));
	t->kstack_top = top;
	t->want_cpu = t->spawn_cpu = t->place_next = -1;
	t->affinity = ~0ULL;
	/* The FPU registers hold the caller's state: the child inherits it. */
	__asm__ volatile("fxsave64 %0" : "=m"(t->fpu) : : "memory");
	return t;
}

void
thread_free(struct thread *t)
{
	struct sched_cpu *c = this_cpu()->sched;

	if (t->flags & THREAD_STATIC)
		return;
	if (c->ncache < CACHE_MAX) {
		t->next = c->cache;
		c->cache = t;
		c->ncache++;
		return;
	}
	vm_free_stack(t->kstack_top, THREAD_KSTACK_SIZE);
	vm_free_pages((uint64_t)t, 1);
}

static struct thread *
thread_find_locked(int tid)
{
	for (struct thread *t = tid_table[(unsigned)tid % TID_BUCKETS]; t;
	     t = t->tid_next)
		if (t->tid == tid)
			return t;
	return NULL;
}

int
thread_register(struct thread *t)
{
	spin_lock(&tid_lock);
	do {	/* ids wrap after 2^31 threads: skip ones still in use */
		t->tid = next_tid;
		next_tid = next_tid == 0x3FFFFFFF ? 2 : next_tid + 1;
	} while (t->tid != 1 && thread_find_locked(t->tid));
	struct thread **b = &tid_table[(unsigned)t->tid % TID_BUCKETS];
	t->tid_next = *b;
	*b = t;
	spin_unlock(&tid_lock);
	return t->tid;
}

void
thread_unregister(struct thread *t)
{
	spin_lock(&tid_lock);
	for (struct thread **p = &tid_table[(unsigned)t->tid % TID_BUCKETS]; *p;
	     p = &(*p)->tid_next) {
		if (*p == t) {
			*p = t->tid_next;
			break;
		}
	}
	spin_unlock(&tid_lock);
}

struct thread *
thread_find(int tid)
{
	if (tid == 0)
		return sched_current();
	if (tid < 0)
		return NULL;
	spin_lock(&tid_lock);
	struct thread *t = thread_find_locked(tid);
	spin_unlock(&tid_lock);
	return t;
}

long
thread_apply(int tid, long (*fn)(struct thread *, void *), void *arg)
{
	if (tid == 0)
		return fn(sched_current(), arg);
	if (tid < 0)
		return -ESRCH;
	spin_lock(&tid_lock);
	struct thread *t = thread_find_locked(tid);
	long r = t ? fn(t, arg) : -ESRCH;
	spin_unlock(&tid_lock);
	return r;
}

struct sched_cpu *
thread_place(struct thread *creator)
{
	uint64_t allowed = creator->affinity & smp_online_mask();

	if (creator->spawn_cpu >= 0 && (smp_online_mask() >> creator->spawn_cpu & 1))
		return sched_cpu_of((unsigned)creator->spawn_cpu);
	if (!allowed)
		return creator->cpu;
	if (creator->place_next < 0)
		creator->place_next = (int)sched_cpu_index(creator->cpu) + 1;
	for (unsigned k = 0; k < CPU_MAX; k++) {
		unsigned i = ((unsigned)creator->place_next + k) % CPU_MAX;
		struct sched_cpu *c = (allowed >> i & 1) ? sched_cpu_of(i) : NULL;
		if (c) {
			creator->place_next = (int)(i + 1) % CPU_MAX;
			return c;
		}
	}
	return creator->cpu;
}

/* A kernel thread's first and last frame: fn(arg), then it ends. */
static void
kthread_main(void (*fn)(void *), void *arg)
{
	fn(arg);
	sched_exit_current();
}

int
kthread_start(void (*fn)(void *), void *arg, unsigned cpu, const char *name)
{
	struct sched_cpu *c = sched_cpu_of(cpu);

	if (!c || !(smp_online_mask() >> cpu & 1))
		return -EINVAL;
	struct thread *t = thread_alloc();
	if (!t)
		return -ENOMEM;
	/*
	 * The stack ctx_switch() pops: %r15, %r14, %r13 (arg), %r12 (fn),
	 * %rbx (kthread_main), %rbp, then returns to thread_start_kernel.
	 */
	uint64_t *sp = (uint64_t *)(t->kstack_top - 16) - 7;
	memset(sp, 0, 7 * sizeof(*sp));
	sp[2] = (uint64_t)arg;
	sp[3] = (uint64_t)fn;
	sp[4] = (uint64_t)kthread_main;
	sp[6] = (uint64_t)thread_start_kernel;
	t->rsp = (uint64_t)sp;
	t->flags = THREAD_KERNEL;
	t->affinity = 1ULL << cpu;
	t->name = name;
	sched_start(t, c);
	return 0;
}
