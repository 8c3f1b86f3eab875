/*
 * The do-nothing guest: the floor every boot measurement is compared with.
 * It carries a PVH note (QEMU -kernel on microvm, pc and q35) and a
 * multiboot2 header (GRUB ISO), and no multiboot1 header, so QEMU -kernel
 * always boots it through PVH.  Its 32-bit entry writes one byte ('!') to
 * the COM1 data port and then 0 to isa-debug-exit (port 0xf4): QEMU exits
 * with status 1 as soon as the firmware has handed over.
 *
 * Built with the host assembler and linker (tests/bench/bench.mk), not the
 * Toro toolchain: it is a measuring stick, not a Toro image.  Plain
 * assembly (no C preprocessor).
 */
	.equ MB2_MAGIC, 0xE85250D6

	.section .mb2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0				/* i386 protected mode */
	.long mb2_end - mb2_header
	.long -(MB2_MAGIC + (mb2_end - mb2_header))
	.balign 8			/* end tag */
	.short 0, 0
	.long 8
mb2_end:

	/* PVH: XEN_ELFNOTE_PHYS32_ENTRY (18), 32-bit entry address. */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 4
	.long 18
	.asciz "Xen"
	.balign 4
	.long floor_start
	.balign 4

	.text
	.code32
	.globl floor_start
floor_start:				/* PVH and multiboot2 enter here */
	movw $0x3f8, %dx
	movb $'!', %al
	outb %al, %dx
	movw $0xf4, %dx
	xorl %eax, %eax
	outl %eax, %dx
1:	cli
	hlt
	jmp 1b
