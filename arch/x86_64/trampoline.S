/*
 * The application processors' way from real mode to long mode.  smp.c
 * copies this blob to a free page below 1 MiB and sends each AP a SIPI for
 * that page; the AP starts at offset 0 with %cs = page >> 4 and %ip = 0.
 * Nothing here is position dependent but for what the AP patches itself
 * from %cs (the GDT pointer and the far jump into 32-bit code).  The 32-bit
 * part sets up CR4, the boot identity map (boot_pml4, below 4 GiB), EFER
 * as the boot CPU has it (ap_boot_efer) and CR0, then jumps to 64-bit code
 * that leaves for ap_start64 in entry.S.  Not code the kernel runs where it
 * is linked: it lives in .rodata.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/longmode.h"

#define OFF(x)	((x) - ap_trampoline)

	.section .rodata
	.balign 16
	.globl ap_trampoline, ap_trampoline_end
ap_trampoline:
	.code16
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	xorl %ebx, %ebx
	movw %ax, %bx
	shll $4, %ebx			/* linear address of this page */
	leal OFF(tr_gdt)(%ebx), %eax
	movl %eax, OFF(tr_gdt_ptr) + 2
	leal OFF(tr_32)(%ebx), %eax
	movl %eax, OFF(tr_far32)
	lgdtl OFF(tr_gdt_ptr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl *OFF(tr_far32)

	.code32
tr_32:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	leal 4096(%ebx), %esp		/* the page's top, for the lret below */
	LONG_MODE_CR4_CR3 $boot_pml4
	movl $MSR_EFER, %ecx
	rdmsr
	orl ap_boot_efer, %eax
	wrmsr
	LONG_MODE_CR0
	leal OFF(tr_64)(%ebx), %eax
	pushl $0x18
	pushl %eax
	lret

	.code64
tr_64:
	LONG_MODE_SEGMENTS		/* 0x10 is data in tr_gdt too */
	movabsq $ap_start64, %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF	/* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
	.quad 0x00AF9A000000FFFF	/* 0x18: 64-bit code */
tr_gdt_ptr:
	.short tr_gdt_ptr - tr_gdt - 1
	.long 0				/* patched: linear address of tr_gdt */
	.balign 4
tr_far32:
	.long 0				/* patched: linear address of tr_32 */
	.short 0x08
ap_trampoline_end:
