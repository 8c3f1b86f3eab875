/*
 * The steps into long mode that the boot CPU (boot.S) and the application
 * processors (trampoline.S) share, as assembler macros.  Each caller does
 * its own EFER (the boot CPU probes NX; APs copy the boot CPU's choice)
 * and its own far jump.  Clobbers %eax.  Assembler only.
 */
#ifndef TORO_ARCH_LONGMODE_H
#define TORO_ARCH_LONGMODE_H

#include "arch/x86_64/layout.h"

/* PAE and SSE in CR4, then CR3 = root (the boot identity map). */
.macro LONG_MODE_CR4_CR3 root
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl \root, %eax
	movl %eax, %cr3
.endm

/* Paging on (with EFER.LME set: long mode), write protection, native FPU. */
.macro LONG_MODE_CR0
	movl %cr0, %eax
	andl $~(CR0_EM | CR0_TS | CR0_CD | CR0_NW), %eax
	orl $(CR0_PG | CR0_PE | CR0_MP | CR0_NE | CR0_WP), %eax
	movl %eax, %cr0
.endm

/* In 64-bit code: flat data segments, %fs and %gs zero, a clean FPU. */
.macro LONG_MODE_SEGMENTS
	movl $GDT_KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	fninit
.endm

#endif
