/*
 * Starting the application processors.  The firmware's tables
 * (drivers/acpi) say which CPUs exist; each AP gets a block with its stacks,
 * per-CPU data, GDT and TSS, then INIT-SIPI-SIPI through the local APIC
 * sends it through the real-mode trampoline (trampoline.S) to ap_main().
 * APs then set up their scheduler (lib/sched), report in and enter their
 * idle loop, which halts until there is work: a halted CPU costs the host
 * nothing.  lapic_send_ipi() is how one core wakes another.  The local
 * APIC's registers are reached through lapic_read()/lapic_write(); its
 * timer lives in clock.c.
 */
#include "arch/x86_64/cpu.h"

#include <string.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/acpi/cpus.h"
#include "lib/kernel/bootinfo.h"
#include "lib/kernel/printk.h"
#include "lib/mm/heap.h"
#include "lib/mm/vm.h"
#include "lib/sched/sched.h"

#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0B0
#define LAPIC_SVR	0x0F0
#define LAPIC_LVT_LINT1	0x360
#define LVT_DELIVER_NMI	0x400
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define ICR_INIT	0x00004500	/* INIT, level assert */
#define ICR_STARTUP	0x00004600	/* start-up, vector = page number */
#define ICR_FIXED	0x00004000	/* fixed delivery, level assert */
#define ICR_PENDING	(1 << 12)

#define AP_STACK_SIZE	16384
#define AP_START_TIMEOUT_MS 2000

/* One application processor's start-up block (one zeroed page). */
struct ap_boot {
	uint64_t stack_top;		/* read first by ap_start64 */
	uint64_t trap_top, fatal_top, syscall_top;
	struct percpu cpu;
	struct cpu_tables tables;
	int started;
};

_Static_assert(sizeof(struct ap_boot) <= 4096, "struct ap_boot fits a page");

/* Read by entry.S (ap_start64) and trampoline.S. */
uint64_t ap_boot_table[256];
uint64_t ap_boot_cr3;
uint32_t ap_boot_efer;

extern const char ap_trampoline[], ap_trampoline_end[];

static volatile uint32_t *lapic;
static uint64_t online_mask = 1;	/* the boot CPU */
static struct fw_cpus fw;

void ap_main(struct ap_boot *b);

bool
lapic_present(void)
{
	return lapic != NULL;
}

uint32_t
lapic_read(unsigned reg)
{
	return lapic[reg / 4];
}

void
lapic_write(unsigned reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

void
lapic_eoi(void)
{
	if (lapic)
		lapic_write(LAPIC_EOI, 0);
}

/*
 * Software-enables the local APIC with 0xFF as its spurious vector, and
 * makes LINT1 deliver NMIs, as firmware does on PCs: QEMU's NMI (the
 * monitor's `nmi`, QMP inject-nmi) arrives through LINT1, which is
 * masked from reset where no firmware ran (PVH, microvm).
 */
static void
lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x100 | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_LVT_LINT1, LVT_DELIVER_NMI);
}

static void
wait_icr_idle(void)
{
	for (unsigned n = 0; n < 1000000 && (lapic_read(LAPIC_ICR_LO) & ICR_PENDING); n++)
		__asm__ volatile("pause");
}

/* INIT and start-up IPIs, at boot. */
static void
send_ipi(uint32_t apic_id, uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	this_cpu()->icr_dest_set = false;
	lapic_write(LAPIC_ICR_LO, icr);
	wait_icr_idle();
}

/*
 * The scheduler's wake-up of another core.  Under a hypervisor every
 * access to the local APIC is a VM exit (under TCG it also takes QEMU's
 * global lock), and this used three: the destination, the command, and
 * a read of the delivery status after it.  Now the destination is
 * written only when it changes (the register keeps it), and the status
 * is read before the command, as the SDM asks (10.6.1: not a new IPI
 * while the last one is pending), but only when this core sent one in
 * the last 100 us: hardware delivers in well under a microsecond and a
 * hypervisor's ICR reads idle as soon as it is written.  With the web
 * server's two workers under wrk that was 0.13 IPIs a request.
 */
void
lapic_send_ipi(uint32_t apic_id, unsigned vector)
{
	unsigned long flags = irq_save();
	struct percpu *pc = this_cpu();
	uint64_t now = rdtsc();

	/* ipi_tsc starts at 0: long ago, unless the TSC is new too, when
	 * one read more is harmless. */
	if (now - pc->ipi_tsc < tsc_hz() / 10000)
		wait_icr_idle();
	if (!pc->icr_dest_set || pc->icr_dest != apic_id << 24) {
		lapic_write(LAPIC_ICR_HI, apic_id << 24);
		pc->icr_dest = apic_id << 24;
		pc->icr_dest_set = true;
	}
	lapic_write(LAPIC_ICR_LO, ICR_FIXED | vector);
	pc->ipi_tsc = now;
	irq_restore(flags);
}

static void
delay_us(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_hz() / 1000000 * us;

	while ((int64_t)(rdtsc() - end) < 0)
		__asm__ volatile("pause");
}

unsigned
smp_online_count(void)
{
	return (unsigned)__builtin_popcountll(
		__atomic_load_n(&online_mask, __ATOMIC_ACQUIRE));
}

uint64_t
smp_online_mask(void)
{
	return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE);
}

void
ap_main(struct ap_boot *b)
{
	cpu_init_ap(&b->cpu, &b->tables, b->trap_top, b->fatal_top,
		    b->syscall_top);
	lapic_enable();
	sched_init_ap();
	heap_init_cpu();
	__atomic_fetch_or(&online_mask, 1ULL << b->cpu.index, __ATOMIC_RELEASE);
	__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
	sched_idle_ap();
}

/* The CPUs the firmware lists: the MADT if there is one, else the MP table. */
static bool
discover(const struct boot_info *bi)
{
	const struct phys_window low4g = { 0, 4ULL << 30, (const uint8_t *)0 };
	const char *why = "", *mp_why = "";
	uint64_t rsdp;

	if (!acpi_find_rsdp(&low4g, bi->rsdp, &rsdp) &&
	    !acpi_madt_cpus(&low4g, rsdp, &fw, &why))
		return true;
	if (!mptable_cpus(&low4g, &fw, &mp_why))
		return true;
	pr_debug("smp: no CPU list (ACPI: %s; MP: %s); one CPU\n",
		 why[0] ? why : "no RSDP", mp_why);
	return false;
}

static struct ap_boot *
ap_prepare(unsigned index, uint32_t apic_id)
{
	struct ap_boot *b = (struct ap_boot *)vm_alloc_pages(1);

	if (!b)
		return NULL;
	b->stack_top = vm_alloc_stack(AP_STACK_SIZE);
	b->trap_top = vm_alloc_stack(TRAP_STACK_SIZE);
	b->fatal_top = vm_alloc_stack(TRAP_STACK_SIZE);
	b->syscall_top = vm_alloc_stack(SYSCALL_STACK_SIZE);
	if (!b->stack_top || !b->trap_top || !b->fatal_top || !b->syscall_top)
		return NULL;	/* leaks a little: memory is that short anyway */
	b->cpu.index = index;
	b->cpu.apic_id = apic_id;
	return b;
}

/*
 * Runs before vm_init(): the BIOS data area the table search reads lives
 * in page 0, which vm_init() unmaps.
 */
static bool discovered;

void
smp_discover(const struct boot_info *bi)
{
	discovered = discover(bi);
}

void
smp_init(unsigned max)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[3] & (1 << 9)))
		return;			/* no local APIC */
	uint64_t base = discovered && fw.lapic_base ? fw.lapic_base
						      : FW_LAPIC_DEFAULT;
	if (vm_map_uncached(base & ~0xFFFULL, 4096))
		return;
	lapic = (volatile uint32_t *)(base & ~0xFFFULL);
	struct percpu *bsp = this_cpu();	/* smp_init runs on the boot CPU */
	bsp->apic_id = lapic_read(LAPIC_ID) >> 24;
	lapic_enable();

	if (!discovered || fw.n <= 1 || max == 1)
		return;			/* one CPU: no trampoline, no waits */
	if (fw.dropped)
		pr_warn("smp: %u CPUs beyond the first %d are left down\n",
			fw.dropped, FW_CPUS_MAX);
	console_share();
	uint64_t page = memory_alloc_low_page();
	if (!page) {
		pr_warn("smp: no free page below 1 MiB for the start-up code; "
			"one CPU\n");
		return;
	}
	memcpy((void *)page, ap_trampoline,
	       (size_t)(ap_trampoline_end - ap_trampoline));
	ap_boot_cr3 = vm_root();
	ap_boot_efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_SCE | EFER_NXE));

	struct ap_boot *aps[FW_CPUS_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < fw.n; i++) {
		uint32_t id = fw.apic_id[i];
		if (id == bsp->apic_id)
			continue;
		if ((max && n + 1 >= max) || id > 255) {
			pr_warn("smp: CPU with APIC id %u left down (%s)\n", id,
				id > 255 ? "x2APIC id" : "maxcpus");
			continue;
		}
		struct ap_boot *b = ap_prepare(n + 1, id);
		if (!b) {
			pr_warn("smp: out of memory for CPU %u; not starting "
				"the rest\n", n + 1);
			break;
		}
		aps[n++] = b;
		__atomic_store_n(&ap_boot_table[id], (uint64_t)b, __ATOMIC_RELEASE);
	}

	/* INIT all, one 10 ms wait, then SIPI each (twice if it is slow). */
	for (unsigned i = 0; i < n; i++)
		send_ipi(aps[i]->cpu.apic_id, ICR_INIT);
	delay_us(10000);
	for (unsigned i = 0; i < n; i++)
		send_ipi(aps[i]->cpu.apic_id, ICR_STARTUP | (uint32_t)(page >> 12));
	delay_us(200);
	for (unsigned i = 0; i < n; i++)
		if (!__atomic_load_n(&aps[i]->started, __ATOMIC_ACQUIRE))
			send_ipi(aps[i]->cpu.apic_id,
				 ICR_STARTUP | (uint32_t)(page >> 12));

	uint64_t end = rdtsc() + tsc_hz() / 1000 * AP_START_TIMEOUT_MS;
	for (unsigned i = 0; i < n; i++)
		while (!__atomic_load_n(&aps[i]->started, __ATOMIC_ACQUIRE) &&
		       (int64_t)(rdtsc() - end) < 0)
			__asm__ volatile("pause");
	for (unsigned i = 0; i < n; i++)
		if (!__atomic_load_n(&aps[i]->started, __ATOMIC_ACQUIRE))
			pr_warn("smp: CPU %u (APIC id %u) did not start\n",
				aps[i]->cpu.index, aps[i]->cpu.apic_id);
	pr_debug("smp: %u of %u CPUs online (%s)\n", smp_online_count(), fw.n,
		 fw.source);
}
