/*
 * CPU exceptions.  Toro has no processes to kill, so every exception ends
 * the application: report what happened (exception, faulting address and
 * why it faulted, registers, backtrace) on the console and stop the VM with
 * 128 + the signal Linux would have sent (toro/status.h).
 */
#include <toro/status.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "arch/x86_64/irq.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/prof.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"
#include "lib/sched/sched.h"

static const struct {
	const char *mnemonic, *name;
	int status;
} exceptions[32] = {
	[0] = { "#DE", "divide error", TORO_EXIT_SIGFPE },
	[1] = { "#DB", "debug", TORO_EXIT_SIGTRAP },
	[2] = { "NMI", "non-maskable interrupt", TORO_EXIT_PANIC },	/* nmi_handle() */
	[3] = { "#BP", "breakpoint", TORO_EXIT_SIGTRAP },
	[4] = { "#OF", "overflow", TORO_EXIT_SIGSEGV },
	[5] = { "#BR", "bound range exceeded", TORO_EXIT_SIGSEGV },
	[6] = { "#UD", "invalid opcode", TORO_EXIT_SIGILL },
	[7] = { "#NM", "device not available", TORO_EXIT_SIGFPE },
	[8] = { "#DF", "double fault", TORO_EXIT_PANIC },
	[9] = { "#MF", "coprocessor segment overrun", TORO_EXIT_SIGFPE },
	[10] = { "#TS", "invalid TSS", TORO_EXIT_SIGSEGV },
	[11] = { "#NP", "segment not present", TORO_EXIT_SIGSEGV },
	[12] = { "#SS", "stack-segment fault", TORO_EXIT_SIGSEGV },
	[13] = { "#GP", "general protection fault", TORO_EXIT_SIGSEGV },
	[14] = { "#PF", "page fault", TORO_EXIT_SIGSEGV },
	[16] = { "#MF", "x87 floating-point error", TORO_EXIT_SIGFPE },
	[17] = { "#AC", "alignment check", TORO_EXIT_SIGBUS },
	[18] = { "#MC", "machine check", TORO_EXIT_PANIC },
	[19] = { "#XM", "SIMD floating-point error", TORO_EXIT_SIGFPE },
	[20] = { "#VE", "virtualization exception", TORO_EXIT_PANIC },
	[21] = { "#CP", "control protection", TORO_EXIT_SIGSEGV },
};

static const char *
page_fault_cause(uint64_t addr, uint64_t err)
{
	if (addr < PAGE_SIZE)
		return "NULL pointer dereference";
	if (vm_is_guard_page(addr))
		return "stack overflow into a guard page";
	if ((err & 1) && (err & 0x10))
		return "execute from non-executable memory";
	if ((err & 1) && (err & 2))
		return "write to read-only memory";
	if (err & 1)
		return "protection violation";
	return "access to unmapped memory";
}

static void
print_registers(const struct trap_frame *f)
{
	kprintf("  rax %016llx rbx %016llx rcx %016llx\n"
		"  rdx %016llx rsi %016llx rdi %016llx\n"
		"  rbp %016llx rsp %016llx r8  %016llx\n"
		"  r9  %016llx r10 %016llx r11 %016llx\n"
		"  r12 %016llx r13 %016llx r14 %016llx\n"
		"  r15 %016llx rip %016llx rflags %08llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx, (unsigned long long)f->rdx,
		(unsigned long long)f->rsi, (unsigned long long)f->rdi,
		(unsigned long long)f->rbp, (unsigned long long)f->rsp,
		(unsigned long long)f->r8, (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11,
		(unsigned long long)f->r12, (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15,
		(unsigned long long)f->rip, (unsigned long long)f->rflags);
}

/*
 * An NMI is a nudge, not a fault: nothing in Toro raises one, so it comes
 * from outside — QEMU's `nmi` monitor command (toro-prof sends it so that
 * busy cores pick up a new sampling rate), a hypervisor's watchdog.  Like
 * Linux, say so once and carry on.  It runs on its own IST stack and
 * returns through iretq, which re-enables NMIs.
 */
static unsigned long nmi_count;

static void
nmi_handle(const struct trap_frame *f)
{
	if (__atomic_fetch_add(&nmi_count, 1, __ATOMIC_RELAXED) == 0 && !prof_enabled())
		pr_warn("NMI received on cpu %u; ignored\n", this_cpu()->index);
	prof_nmi(f->rflags & 0x200);
}

void trap_dispatch(struct trap_frame *f);

void
trap_dispatch(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector;

	if (v == 2) {
		nmi_handle(f);
		return;
	}
	const char *mn = v < 32 && exceptions[v].name ? exceptions[v].mnemonic : "?";
	const char *name = v < 32 && exceptions[v].name ? exceptions[v].name
							: "reserved exception";
	int status = v < 32 && exceptions[v].name ? exceptions[v].status
						  : TORO_EXIT_PANIC;

	kprintf("\ntoro: fatal exception %s (%s), vector %u, error code 0x%llx\n",
		mn, name, v, (unsigned long long)f->error);
	if (v == 14) {
		uint64_t addr = read_cr2();
		kprintf("toro: %s at address 0x%llx (%s access)\n",
			page_fault_cause(addr, f->error), (unsigned long long)addr,
			f->error & 0x10 ? "instruction" : f->error & 2 ? "write" : "read");
	}
	print_registers(f);
	backtrace_print(f->rip, f->rbp);
	kprintf("toro: stopping with status %d\n", status);
	kernel_exit(status);
}

/*
 * Vectors 32-255 (entry.S).  The local APIC timer and the scheduler's IPI
 * go to the scheduler, which may ask entry.S to preempt the interrupted
 * thread (a nonzero return).  The spurious vector (0xFF) takes no EOI.
 * Device vectors go to the handler registered for them (irq.c), then
 * take their EOI.  Anything else is a stray: count it, say so once,
 * acknowledge it and carry on.  With sampling on (lib/kernel/prof.c) the
 * timer also records the interrupted frame and %rbp.
 */
static unsigned long irq_strays;

/* What entry.S pushed: the vector (less 128), then the CPU's iret frame. */
struct irq_frame {
	uint64_t vector, rip, cs, rflags, rsp, ss;
};

int irq_dispatch(uint64_t vector, const struct irq_frame *f, uint64_t rbp);

/*
 * The highest vector the local APIC has in service, or 0 when none is.
 * Each register read is an emulated device access, so first the one the
 * processor priority points at: with the task priority left at 0, as
 * here, its bits 7:4 are the in-service vector's class (SDM 11.8.3.1),
 * so two reads find it instead of up to seven.
 */
static unsigned
in_service_vector(void)
{
	if (!lapic_present())
		return 0;
	unsigned r = (lapic_read(0x0A0) & 0xF0) >> 5;	/* PPR -> ISR register */
	if (r) {
		uint32_t isr = lapic_read(0x100 + 0x10 * r);
		if (isr)
			return r * 32 + 31 - (unsigned)__builtin_clz(isr);
	}
	for (int i = 7; i >= 1; i--) {
		uint32_t isr = lapic_read(0x100 + 0x10 * (unsigned)i);
		if (isr)
			return (unsigned)i * 32 + 31 - (unsigned)__builtin_clz(isr);
	}
	return 0;
}

int
irq_dispatch(uint64_t vector, const struct irq_frame *f, uint64_t rbp)
{
	if (vector == IRQ_VECTOR_UNKNOWN) {
		vector = in_service_vector();
		if (!vector) {
			if (__atomic_fetch_add(&irq_strays, 1, __ATOMIC_RELAXED) == 0)
				pr_warn("unexpected interrupt, not from the local APIC (ignored)\n");
			return 0;
		}
	}
	if (vector == LAPIC_TIMER_VECTOR) {
		lapic_eoi();
		if (prof_enabled())
			prof_tick(f->rip, f->rsp, rbp);
		return sched_timer_interrupt();
	}
	if (vector == SCHED_IPI_VECTOR) {
		lapic_eoi();
		return sched_ipi_interrupt();
	}
	if (vector == LAPIC_SPURIOUS_VECTOR)
		return 0;
	if (irq_handle((unsigned)vector)) {	/* a device's (irq.c) */
		lapic_eoi();
		return 0;
	}
	if (__atomic_fetch_add(&irq_strays, 1, __ATOMIC_RELAXED) == 0)
		pr_warn("unexpected interrupt on vector %llu (ignored)\n",
			(unsigned long long)vector);
	lapic_eoi();
	return 0;
}
