/*
 * The device-interrupt vector table: which handler a vector calls, and
 * the MSI message that targets a core.  Vectors are global (one table for
 * all cores); which core a vector arrives on is decided where the device
 * is routed (I/O APIC entry or MSI address), so moving a device to
 * another core rewrites its route and keeps its vector.  Each vector
 * counts the interrupts that arrive on the core it is routed to and
 * those that arrive elsewhere (in flight during a move).  Not for the
 * local APIC timer or the scheduler's IPI, which have fixed vectors
 * (layout.h).
 */
#include "arch/x86_64/irq.h"

#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/sched/sched.h"

struct irq_slot {
	irq_handler_fn fn;	/* atomic: NULL = free */
	void *arg;
	unsigned cpu;		/* atomic: where the driver routed it */
	unsigned long count;	/* atomic: delivered on cpu */
	unsigned long elsewhere;	/* atomic: delivered on another core */
};

static struct irq_slot slots[IRQ_VECTOR_LAST + 1];
static struct spinlock lock;

int
irq_register(irq_handler_fn fn, void *arg, unsigned cpu)
{
	spin_lock(&lock);
	for (int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
		if (slots[v].fn)
			continue;
		slots[v].arg = arg;
		slots[v].cpu = cpu;
		slots[v].count = 0;
		slots[v].elsewhere = 0;
		__atomic_store_n(&slots[v].fn, fn, __ATOMIC_RELEASE);
		spin_unlock(&lock);
		return v;
	}
	spin_unlock(&lock);
	pr_warn("irq: no free vector\n");
	return -ENOSPC;
}

void
irq_unregister(int vector)
{
	if (vector < IRQ_VECTOR_FIRST || vector > IRQ_VECTOR_LAST)
		return;
	__atomic_store_n(&slots[vector].fn, NULL, __ATOMIC_RELEASE);
}

bool
irq_handle(unsigned vector)
{
	if (vector < IRQ_VECTOR_FIRST || vector > IRQ_VECTOR_LAST)
		return false;
	struct irq_slot *s = &slots[vector];
	irq_handler_fn fn = __atomic_load_n(&s->fn, __ATOMIC_ACQUIRE);
	if (!fn)
		return false;
	if (this_cpu()->index == __atomic_load_n(&s->cpu, __ATOMIC_RELAXED))
		__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&s->elsewhere, 1, __ATOMIC_RELAXED);
	fn(s->arg);
	return true;
}

void
irq_set_cpu(int vector, unsigned cpu, struct irq_counts *was)
{
	*was = (struct irq_counts){ 0, 0 };
	if (vector < IRQ_VECTOR_FIRST || vector > IRQ_VECTOR_LAST)
		return;
	struct irq_slot *s = &slots[vector];
	__atomic_store_n(&s->cpu, cpu, __ATOMIC_RELAXED);
	was->on_cpu = __atomic_exchange_n(&s->count, 0, __ATOMIC_RELAXED);
	was->elsewhere = __atomic_exchange_n(&s->elsewhere, 0, __ATOMIC_RELAXED);
}

unsigned
irq_cpu_or_boot(unsigned cpu)
{
	return cpu < CPU_MAX && (smp_online_mask() >> cpu & 1) ? cpu : 0;
}

uint32_t
irq_cpu_apic_id(unsigned cpu)
{
	struct sched_cpu *c = sched_cpu_of(irq_cpu_or_boot(cpu));

	return c && c->percpu ? c->percpu->apic_id : this_cpu()->apic_id;
}

void
irq_msi_message(unsigned cpu, unsigned vector, uint64_t *addr, uint32_t *data)
{
	/* Intel SDM 10.11: physical destination, no redirection hint. */
	*addr = 0xFEE00000ULL | (uint64_t)(irq_cpu_apic_id(cpu) & 0xFF) << 12;
	*data = vector & 0xFF;	/* fixed delivery, edge */
}
