/*
 * In-kernel sampling for toro-prof (toro-prof(1), doc/PROFILING.md).
 * When toro_prof_hz is nonzero (kernel option prof=HZ, or the host writing
 * the variable through the gdbstub), each core's local APIC timer
 * interrupt also records the interrupted RIP and its frame-pointer chain
 * into the core's ring; the scheduler arms the one timer for the earliest
 * of its sleepers, its time slice and prof_deadline().  A ring has a single
 * producer (its core's interrupt) and a consumer that cannot write: the
 * host, reading guest memory.  So the producer never waits: it overwrites
 * the oldest record, and the host tells what it lost from the sequence
 * numbers (`head` per core, `seq` per record).
 *
 * The walk trusts nothing: a frame pointer must be aligned, below the top
 * of RAM, mapped (vm_range_mapped, cached per page) and climbing, so a
 * frame pointer that libc used for data ends the walk instead of faulting.
 * It does not symbolise, and it does not know what the host does with it.
 */
#include "lib/kernel/prof.h"

#include <errno.h>
#include <stddef.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#include "lib/sched/sched.h"

#define MAX_FRAME_SPAN (1u << 20)	/* a frame bigger than this ends the walk */

volatile uint32_t toro_prof_hz;
struct prof_header *volatile toro_prof;

int
prof_set_hz(const char *v)
{
	unsigned hz;

	if (kparse_uint(v, PROF_MAX_HZ, &hz))
		return -EINVAL;
	toro_prof_hz = hz;
	return 0;
}

static unsigned prof_ncpus;
static bool prof_no_memory;
static struct spinlock prof_alloc_lock;

/* Makes the rings (prof_ncpus cores); NULL when memory is short. */
static struct prof_header *
rings_alloc(void)
{
	unsigned n = prof_ncpus;
	uint64_t head = sizeof(struct prof_header) + n * sizeof(struct prof_core);
	head = (head + 4095) & ~4095ULL;
	uint64_t ring = (uint64_t)PROF_RING_RECORDS * sizeof(struct prof_record);
	uint64_t bytes = head + n * ring;
	uint64_t base = vm_alloc_pages(bytes / 4096);
	if (!base) {
		pr_warn("prof: no memory for %llu KiB of sample rings; in-guest "
			"sampling is off\n", (unsigned long long)(bytes >> 10));
		prof_no_memory = true;
		return NULL;
	}
	struct prof_header *h = (struct prof_header *)base;
	h->version = PROF_VERSION;
	h->ncpus = n;
	h->records = PROF_RING_RECORDS;
	h->record_size = sizeof(struct prof_record);
	/* tsc_hz is filled in when sampling starts: boot does not calibrate. */
	h->cores = base + sizeof(*h);
	h->rings = base + head;
	__atomic_store_n(&h->magic, PROF_MAGIC, __ATOMIC_RELEASE);
	__atomic_store_n(&toro_prof, h, __ATOMIC_RELEASE);
	return h;
}

/*
 * The rings, made on first use: a guest nobody profiles keeps its
 * 128 KiB a core.  The host finds toro_prof still NULL until then and
 * waits (toro-prof's find_rings).  Called from a core's timer interrupt
 * or scheduler, never from the NMI (the page allocator's lock).
 */
static struct prof_header *
rings(void)
{
	struct prof_header *h = toro_prof;

	if (h || !toro_prof_hz || prof_no_memory || !prof_ncpus)
		return h;
	spin_lock(&prof_alloc_lock);
	if (!(h = toro_prof) && !prof_no_memory)
		h = rings_alloc();
	spin_unlock(&prof_alloc_lock);
	return h;
}

void
prof_init(void)
{
	unsigned n = 0;

	while (n < CPU_MAX && sched_cpu_of(n))
		n++;
	prof_ncpus = n;
	if (toro_prof_hz)
		rings();	/* prof=HZ: sampling from the first tick */
}

/*
 * An NMI on this core while sampling is on: QEMU's `nmi` command, which
 * toro-prof sends after writing toro_prof_hz so that a core busy in
 * application code, which takes no interrupt of its own, picks the rate
 * up now rather than at its next system call that schedules.  Arms the
 * timer to fire at once; the timer interrupt does the rest (rings,
 * rate, next sample).  Only when the NMI interrupted code with
 * interrupts on (the application, or the idle loop's hlt): kernel code
 * may be arming the timer itself, and will consult prof_deadline() soon.
 */
void
prof_nmi(bool interrupts_were_on)
{
	if (interrupts_were_on && prof_enabled())
		timer_arm_at(rdtsc());
}

static struct prof_core *
this_core(const struct prof_header *h)
{
	unsigned i = this_cpu()->index;

	return i < h->ncpus ? (struct prof_core *)h->cores + i : NULL;
}

/* Picks up a new rate: the first sample one period from now. */
static void
prof_refresh(struct prof_header *h, struct prof_core *pc, uint64_t now)
{
	uint32_t hz = toro_prof_hz;

	if (hz == pc->hz)
		return;
	if (hz > PROF_MAX_HZ)
		hz = PROF_MAX_HZ;
	if (!h->tsc_hz)		/* already calibrated: the timer needs it */
		h->tsc_hz = tsc_hz();
	pc->hz = hz;
	pc->period = hz ? h->tsc_hz / hz : 0;
	pc->next_tsc = now + pc->period;
}

uint64_t
prof_deadline(void)
{
	struct prof_header *h = rings();
	struct prof_core *pc = h ? this_core(h) : NULL;

	if (!pc)
		return 0;
	prof_refresh(h, pc, rdtsc());
	return pc->period ? pc->next_tsc : 0;
}

/* Can 16 bytes at addr be read?  ok_page caches the last page that could. */
static bool
readable(uint64_t addr, uint64_t *ok_page)
{
	if (!addr || (addr & 7) || addr + 16 > vm_ram_top)
		return false;
	uint64_t pg = addr >> 12;
	if (pg == *ok_page && ((addr + 15) >> 12) == pg)
		return true;
	if (!vm_range_mapped(addr, 16))
		return false;
	*ok_page = ((addr + 15) >> 12) == pg ? pg : 0;
	return true;
}

static int
walk(uint64_t fp, uint64_t *ret, int max, uint64_t *ok_page, bool *cut)
{
	int n = 0;

	while (n < max) {
		if (!readable(fp, ok_page)) {
			*cut = fp != 0;
			break;
		}
		const uint64_t *frame = (const uint64_t *)fp;
		uint64_t next = frame[0], ra = frame[1];
		if (!ra)
			break;
		ret[n++] = ra;
		if (next <= fp || next - fp > MAX_FRAME_SPAN)
			break;
		fp = next;
	}
	return n;
}

void
prof_tick(uint64_t rip, uint64_t rsp, uint64_t rbp)
{
	struct prof_header *h = rings();
	struct prof_core *pc = h ? this_core(h) : NULL;

	if (!pc)
		return;
	uint64_t now = rdtsc();
	prof_refresh(h, pc, now);
	/* The one-shot timer fires a little early: a sixteenth of a period
	 * early still counts, so a sample costs one interrupt, not three. */
	if (!pc->period || (int64_t)(now + pc->period / 16 - pc->next_tsc) < 0)
		return;
	pc->next_tsc += pc->period;
	if ((int64_t)(pc->next_tsc - now) <= 0)
		pc->next_tsc = now + pc->period;	/* behind: no burst */

	uint64_t seq = pc->head;
	struct prof_record *r = (struct prof_record *)(h->rings +
		((uint64_t)this_cpu()->index * h->records + (seq & (h->records - 1))) *
		sizeof(struct prof_record));
	uint64_t ok_page = 0;
	bool cut = false;
	struct thread *t = sched_current();
	r->tsc = now;
	r->rip = rip;
	r->rsp = rsp;
	if (readable(rsp, &ok_page)) {
		r->top[0] = ((const uint64_t *)rsp)[0];
		r->top[1] = ((const uint64_t *)rsp)[1];
	} else {
		r->top[0] = r->top[1] = 0;
	}
	int depth = walk(rbp, r->ret, PROF_FRAMES, &ok_page, &cut);
	r->info = (uint64_t)depth | (t && (t->flags & THREAD_IDLE) ? PROF_INFO_IDLE : 0);
	if (cut)
		pc->cut++;
	__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
	__atomic_store_n(&pc->head, seq + 1, __ATOMIC_RELEASE);
}
