/*
 * Each CPU's descriptor tables, per-CPU block and system-call MSRs, and the
 * small architecture interface the rest of the kernel uses.
 */
#ifndef TORO_ARCH_CPU_H
#define TORO_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/layout.h"

struct boot_info;
struct sched_cpu;
struct heap_cpu;

/* Most CPUs Toro starts (one bit each in the 64-bit CPU masks). */
#define CPU_MAX 64

/* Per-CPU block, reached through %gs (offsets fixed in layout.h). */
struct percpu {
	struct percpu *self;		/* PERCPU_SELF */
	uint64_t kernel_rsp;		/* PERCPU_KERNEL_RSP: syscall stack top */
	uint64_t scratch_rsp;		/* PERCPU_SCRATCH_RSP */
	unsigned index;			/* 0 = boot CPU, then in start order */
	uint32_t apic_id;
	struct sched_cpu *sched;	/* this CPU's scheduler (lib/sched) */
	struct heap_cpu *heap;		/* this CPU's heap (lib/mm/heap.c) */
	unsigned timer_mode;		/* the local APIC timer's LVT as clock.c last set it */
	uint32_t icr_dest;		/* smp.c: the ICR's destination half, if icr_dest_set */
	bool icr_dest_set;
	uint64_t ipi_tsc;		/* smp.c: when this CPU last sent a fixed IPI */
};

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/* One CPU's GDT and TSS (the IDT is shared). */
struct cpu_tables {
	uint64_t gdt[5];
	struct tss tss;
};

static inline struct percpu *
this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Saved by arch/x86_64/entry.S on every exception. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* GDT, TSS with IST stacks, IDT, per-CPU block, syscall MSRs. */
void cpu_init(void);
/* The same for an application processor, with the stack tops it owns. */
void cpu_init_ap(struct percpu *cpu, struct cpu_tables *t, uint64_t trap_top,
		 uint64_t fatal_top, uint64_t syscall_top);
bool cpu_has_nx(void);
/*
 * Set by cpu_init() when CPUID says QEMU's TCG, which emulates each vCPU
 * in a host thread and runs PAUSE through its global lock (the idle
 * poll in lib/sched/sched.c chooses its spin by it).
 */
extern bool cpu_tcg;
/* Guard pages below the kernel's own stacks, for vm_init() to unmap. */
void cpu_stack_guards(uint64_t *guards, unsigned *count);
/* Starts musl's _start on stack; never returns. */
__attribute__((noreturn)) void arch_enter_user(void *entry, void *stack);
/*
 * Reads the firmware's CPU list (smp.c); before vm_init(), which unmaps the
 * BIOS data area in page 0.  Then smp_init() enables the local APIC and
 * starts the CPUs listed, at most max of them in all (0 = no limit).
 */
void smp_discover(const struct boot_info *bi);
void smp_init(unsigned max);
/* Online CPUs: their number and a mask of their indices. */
unsigned smp_online_count(void);
uint64_t smp_online_mask(void);
/*
 * Local APIC (smp.c): end of interrupt, when the APIC is mapped.  The
 * registers are reachable once smp_init() has mapped it (lapic_present()).
 */
/* LAPIC_TIMER_VECTOR (clock.c) and LAPIC_SPURIOUS_VECTOR are in layout.h. */
void lapic_eoi(void);
/* A fixed interrupt on vector to the CPU with this APIC id. */
void lapic_send_ipi(uint32_t apic_id, unsigned vector);
bool lapic_present(void);
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
/* Stops the machine with the exit status (see poweroff.c). */
__attribute__((noreturn)) void arch_poweroff(int status);

#endif
