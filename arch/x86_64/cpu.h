/*
 * The boot CPU's descriptor tables, per-CPU block and system-call MSRs,
 * and the small architecture interface the rest of the kernel uses.
 */
#ifndef TORO_ARCH_CPU_H
#define TORO_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/layout.h"

/* Per-CPU block, reached through %gs (offsets fixed in layout.h). */
struct percpu {
	struct percpu *self;		/* PERCPU_SELF */
	uint64_t kernel_rsp;		/* PERCPU_KERNEL_RSP: syscall stack top */
	uint64_t scratch_rsp;		/* PERCPU_SCRATCH_RSP */
	unsigned id;
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
bool cpu_has_nx(void);
/* Guard pages below the kernel's own stacks, for vm_init() to unmap. */
void cpu_stack_guards(uint64_t *guards, unsigned *count);
/* Starts musl's _start on stack; never returns. */
__attribute__((noreturn)) void arch_enter_user(void *entry, void *stack);
/* Stops the machine with the exit status (see poweroff.c). */
__attribute__((noreturn)) void arch_poweroff(int status);

#endif
