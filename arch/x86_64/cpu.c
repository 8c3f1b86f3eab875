/*
 * Descriptor tables and system-call set-up, for the boot CPU (cpu_init)
 * and for each application processor (cpu_init_ap, from smp.c).
 *
 * Every exception vector gets an IST stack: the application runs in ring 0
 * with musl's red zone below %rsp, which an exception frame pushed on the
 * interrupted stack would destroy.  #DF, NMI and #MC get a second IST stack
 * of their own so a fault while handling a fault still reports.  Each stack
 * sits above an unmapped guard page.  The syscall MSRs point at entry.S;
 * %gs holds the per-CPU block for the kernel (musl owns %fs).
 */
#include "arch/x86_64/cpu.h"

#include <string.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/irq.h"

struct guarded_stack {
	uint8_t guard[PAGE_SIZE];
	uint8_t stack[TRAP_STACK_SIZE];
} __attribute__((aligned(PAGE_SIZE)));

static struct guarded_stack trap_stack, fatal_stack, syscall_stack;

struct idt_entry {
	uint16_t off_lo, selector;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct cpu_tables boot_tables;
static struct idt_entry idt[256];
static struct percpu boot_cpu;

bool cpu_tcg;

extern const uint64_t trap_entry_table[32];
extern const char irq_stub_timer[], irq_stub_ipi[], irq_stub_spurious[], irq_stub_other[];
extern const char irq_stub_devices[];
_Static_assert(IRQ_STUB_FIRST == IRQ_VECTOR_FIRST &&
	       IRQ_STUB_FIRST + IRQ_STUB_COUNT - 1 <= IRQ_VECTOR_LAST,
	       "the device stubs are the first vectors irq_register() hands out");

/* The entry point for interrupt vector v (32-255). */
static uint64_t
irq_stub(int v)
{
	if (v == LAPIC_TIMER_VECTOR)
		return (uint64_t)irq_stub_timer;
	if (v == SCHED_IPI_VECTOR)
		return (uint64_t)irq_stub_ipi;
	if (v == LAPIC_SPURIOUS_VECTOR)
		return (uint64_t)irq_stub_spurious;
	if (v >= IRQ_STUB_FIRST && v < IRQ_STUB_FIRST + IRQ_STUB_COUNT)
		return (uint64_t)irq_stub_devices + (uint64_t)(v - IRQ_STUB_FIRST) * 8;
	return (uint64_t)irq_stub_other;
}
extern char syscall_entry[];
extern char boot_stack_guard[];

static void
load_gdt(struct cpu_tables *t)
{
	uint64_t *gdt = t->gdt;
	uint64_t base = (uint64_t)&t->tss, limit = sizeof(t->tss) - 1;

	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFULL;		/* kernel code, 64-bit */
	gdt[2] = 0x00CF92000000FFFFULL;		/* kernel data */
	gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		 (0x89ULL << 40) | (((limit >> 16) & 0xF) << 48) |
		 (((base >> 24) & 0xFF) << 56);
	gdt[4] = base >> 32;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(t->gdt) - 1, (uint64_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(ptr), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS),
			   "r"(GDT_TSS)
			 : "rax", "memory");
}

static void
set_gate(int vec, uint64_t handler, int ist)
{
	idt[vec] = (struct idt_entry){
		.off_lo = handler & 0xFFFF,
		.selector = GDT_KERNEL_CS,
		.ist = (uint8_t)ist,
		.type = 0x8E,			/* present, interrupt gate */
		.off_mid = (handler >> 16) & 0xFFFF,
		.off_hi = handler >> 32,
	};
}

static void
build_idt(void)
{
	for (int v = 0; v < 32; v++) {
		bool fatal = v == 2 || v == 8 || v == 18;	/* NMI, #DF, #MC */
		set_gate(v, trap_entry_table[v], fatal ? 2 : 1);
	}
	/* Interrupts nobody asked for are counted and ignored (irq.c). */
	for (int v = 32; v < 256; v++)
		set_gate(v, irq_stub(v), 1);
}

static void
load_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

/* What every CPU does with its own tables, stacks and per-CPU block. */
static void
cpu_setup(struct percpu *cpu, struct cpu_tables *t, uint64_t trap_top,
	  uint64_t fatal_top, uint64_t syscall_top)
{
	t->tss.ist[0] = trap_top;
	t->tss.ist[1] = fatal_top;
	t->tss.iomap_base = sizeof(t->tss);
	load_gdt(t);
	load_idt();

	cpu->self = cpu;
	cpu->kernel_rsp = syscall_top;
	wrmsr(MSR_GS_BASE, (uint64_t)cpu);

	wrmsr(MSR_STAR, (uint64_t)GDT_KERNEL_CS << 32);
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_FMASK, 0x47700);	/* TF, IF, DF, IOPL, NT, AC */

	uint32_t mxcsr = 0x1F80;	/* all SIMD exceptions masked */
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

/*
 * Whether this is QEMU's TCG: the hypervisor bit, then the signature QEMU
 * puts in leaf 0x40000000 under TCG (unless -cpu ...,tcg-cpuid=off).
 */
static bool
cpu_is_tcg(void)
{
	uint32_t r[4];
	char sig[12];

	cpuid(1, 0, r);
	if (!(r[2] & (1u << 31)))
		return false;
	cpuid(0x40000000, 0, r);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	return !memcmp(sig, "TCGTCGTCGTCG", 12);
}

void
cpu_init(void)
{
	cpu_tcg = cpu_is_tcg();
	/* Mask both 8259 PICs: on pc/q35 they would deliver on vector 8. */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);

	build_idt();
	boot_cpu.index = 0;
	cpu_setup(&boot_cpu, &boot_tables,
		  (uint64_t)trap_stack.stack + sizeof(trap_stack.stack),
		  (uint64_t)fatal_stack.stack + sizeof(fatal_stack.stack),
		  (uint64_t)syscall_stack.stack + sizeof(syscall_stack.stack));
}

void
cpu_init_ap(struct percpu *cpu, struct cpu_tables *t, uint64_t trap_top,
	    uint64_t fatal_top, uint64_t syscall_top)
{
	cpu_setup(cpu, t, trap_top, fatal_top, syscall_top);
}

bool
cpu_has_nx(void)
{
	return rdmsr(MSR_EFER) & EFER_NXE;
}

void
cpu_stack_guards(uint64_t *guards, unsigned *count)
{
	guards[0] = (uint64_t)boot_stack_guard;
	guards[1] = (uint64_t)trap_stack.guard;
	guards[2] = (uint64_t)fatal_stack.guard;
	guards[3] = (uint64_t)syscall_stack.guard;
	*count = 4;
}
