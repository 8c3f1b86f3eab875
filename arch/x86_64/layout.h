/*
 * Constants shared by the assembly entry code and C: control-register bits,
 * MSR numbers, GDT selectors, per-CPU block offsets and stack sizes.  Only
 * #defines, so both assembler and compiler can include it.
 */
#ifndef TORO_ARCH_LAYOUT_H
#define TORO_ARCH_LAYOUT_H

#define BOOT_PROTO_UNKNOWN	0
#define BOOT_PROTO_MULTIBOOT1	1
#define BOOT_PROTO_MULTIBOOT2	2
#define BOOT_PROTO_PVH		3

#define CR0_PE		(1 << 0)
#define CR0_MP		(1 << 1)
#define CR0_EM		(1 << 2)
#define CR0_TS		(1 << 3)
#define CR0_NE		(1 << 5)
#define CR0_WP		(1 << 16)
#define CR0_NW		(1 << 29)
#define CR0_CD		(1 << 30)
#define CR0_PG		(1 << 31)

#define CR4_PAE		(1 << 5)
#define CR4_OSFXSR	(1 << 9)
#define CR4_OSXMMEXCPT	(1 << 10)

#define MSR_EFER	0xC0000080
#define MSR_STAR	0xC0000081
#define MSR_LSTAR	0xC0000082
#define MSR_FMASK	0xC0000084
#define MSR_FS_BASE	0xC0000100
#define MSR_GS_BASE	0xC0000101
#define EFER_SCE	(1 << 0)
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)

#define GDT_KERNEL_CS	0x08
#define GDT_KERNEL_DS	0x10
#define GDT_TSS		0x18

/* struct percpu field offsets used by the syscall entry (see cpu.h). */
#define PERCPU_SELF		0
#define PERCPU_KERNEL_RSP	8
#define PERCPU_SCRATCH_RSP	16

/* Interrupt vectors (cpu.h explains them). */
#define LAPIC_TIMER_VECTOR	0xF0
#define SCHED_IPI_VECTOR	0xF1	/* "look at your incoming threads" */
#define LAPIC_SPURIOUS_VECTOR	0xFF
#define IRQ_VECTOR_UNKNOWN	0	/* the shared stub: read the APIC's ISR */
/* Device vectors with a stub of their own (entry.S; irq.h allocates from
 * IRQ_VECTOR_FIRST up, so these are the first devices'). */
#define IRQ_STUB_FIRST		0x30
#define IRQ_STUB_COUNT		16

#define BOOT_STACK_SIZE		16384
#define SYSCALL_STACK_SIZE	16384
#define TRAP_STACK_SIZE		16384
#define PAGE_SIZE		4096

#endif
