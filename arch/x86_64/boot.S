/*
 * Boot entry for every protocol Toro supports, in one object.
 *
 * The image carries three boot headers side by side: a multiboot1 header with
 * the a.out-kludge address fields (QEMU's -kernel on pc/q35 loads an ELF64
 * only that way), a multiboot2 header (GRUB, BIOS and UEFI) and a PVH ELF
 * note (microvm, Firecracker, Cloud Hypervisor).  Each protocol enters in
 * 32-bit protected mode with paging off at its own entry point; all three
 * record which protocol booted and where its boot data is, switch to long
 * mode on an identity map of the first 4 GiB, and call toro_kernel_main().
 * Nothing here interprets the boot data: lib/kernel/bootinfo.c does.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/longmode.h"

#define MB1_MAGIC	0x1BADB002
#define MB1_FLAGS	((1 << 1) | (1 << 16))	/* memory map, address fields */
#define MB1_LOADER	0x2BADB002
#define MB2_MAGIC	0xE85250D6
#define MB2_LOADER	0x36D76289

	.section .boot.headers, "a"
	.balign 4
	.globl toro_multiboot1_header
toro_multiboot1_header:
	/* PROVIDEd by toro.ld; -Wl,--defsym=toro_multiboot1_magic=0 hides the
	 * header so QEMU's -kernel boots the image through PVH everywhere. */
	.long toro_multiboot1_magic
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long toro_multiboot1_header	/* header_addr */
	.long __image_start		/* load_addr: file offset 0 */
	.long __data_end		/* load_end_addr */
	.long __image_end		/* bss_end_addr */
	.long toro_entry_multiboot1	/* entry_addr */

	.balign 8
	.globl toro_multiboot2_header
toro_multiboot2_header:
	.long MB2_MAGIC
	.long 0				/* i386 protected mode */
	.long mb2_end - toro_multiboot2_header
	.long -(MB2_MAGIC + (mb2_end - toro_multiboot2_header))
	.balign 8			/* information request, optional */
	.short 1, 1
	.long 8 + 4 * 5
	.long 1, 3, 6, 14, 15		/* cmdline, modules, mmap, ACPI 1/2 */
	.balign 8			/* entry address */
	.short 3, 0
	.long 12
	.long toro_entry_multiboot2
	.balign 8			/* page-align modules (initrd) */
	.short 6, 0
	.long 8
	.balign 8			/* end */
	.short 0, 0
	.long 8
mb2_end:

	/* PVH: XEN_ELFNOTE_PHYS32_ENTRY (18) with the 32-bit entry address. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 4
	.long 18
	.asciz "Xen"
	.balign 4
	.long toro_entry_pvh
	.balign 4

	.section .boot.text, "ax"
	.code32
	.globl toro_entry_multiboot1
toro_entry_multiboot1:
	movl $BOOT_PROTO_MULTIBOOT1, %edi
	cmpl $MB1_LOADER, %eax
	je 1f
	movl $BOOT_PROTO_UNKNOWN, %edi
1:	movl %ebx, %esi
	jmp boot32

	.globl toro_entry_multiboot2
toro_entry_multiboot2:
	movl $BOOT_PROTO_MULTIBOOT2, %edi
	cmpl $MB2_LOADER, %eax
	je 1f
	movl $BOOT_PROTO_UNKNOWN, %edi
1:	movl %ebx, %esi
	jmp boot32

	.globl toro_entry_pvh
toro_entry_pvh:
	movl $BOOT_PROTO_PVH, %edi	/* start_info magic is checked in C */
	movl %ebx, %esi

boot32:
	cli
	cld
	rdtsc				/* CLOCK_MONOTONIC counts from here */
	movl %eax, boot_tsc
	movl %edx, boot_tsc + 4
	movl $boot_stack_top, %esp
	movl %edi, boot_protocol
	movl %esi, boot_data

	/* Identity map 0..4 GiB with 2 MiB pages: PML4[0] -> PDPT -> 4 PDs. */
	movl $boot_pml4, %edi
	xorl %eax, %eax
	movl $(4096 * 2 / 4), %ecx	/* PML4 and PDPT are adjacent */
	rep stosl
	movl $(boot_pdpt + 3), boot_pml4
	movl $boot_pd, %eax
	orl $3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b
	movl $boot_pd, %edi
	movl $0x83, %eax		/* present, writable, 2 MiB */
	xorl %edx, %edx
	movl $2048, %ecx
1:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 1b

	LONG_MODE_CR4_CR3 $boot_pml4

	/* EFER: long mode, syscall, and NX when the CPU has it. */
	movl $0x80000001, %eax
	cpuid
	movl $(EFER_LME | EFER_SCE), %esi
	btl $20, %edx
	jnc 1f
	orl $EFER_NXE, %esi
1:	movl $MSR_EFER, %ecx
	rdmsr
	orl %esi, %eax
	wrmsr

	LONG_MODE_CR0
	lgdt boot_gdt_ptr
	ljmp $GDT_KERNEL_CS, $boot64

	.code64
boot64:
	LONG_MODE_SEGMENTS
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_protocol, %edi
	movl boot_data, %esi
	call toro_kernel_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF	/* 64-bit code */
	.quad 0x00CF92000000FFFF	/* data */
boot_gdt_ptr:
	.short boot_gdt_ptr - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096 * 4
	.globl boot_stack_guard, boot_stack_top
boot_stack_guard:	.skip 4096	/* unmapped by vm_init() */
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
	.globl boot_tsc
	.balign 8
boot_tsc:	.quad 0
boot_protocol:	.long 0
boot_data:	.long 0
