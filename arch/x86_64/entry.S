/*
 * Exception and system-call entry stubs.
 *
 * Every exception vector runs on an IST stack (see cpu.c): musl's libc.a is
 * built for Linux user space and keeps data in the red zone below %rsp, which
 * an exception frame pushed on the interrupted stack would overwrite.  The
 * stubs only build a struct trap_frame and call trap_dispatch(); they decide
 * nothing.  The syscall entry switches to the kernel stack before it pushes
 * anything, for the same reason, and returns with iretq: sysret would drop to
 * ring 3, and popping %rflags on the caller's stack would touch its red zone.
 */
#include "arch/x86_64/layout.h"

.macro TRAP_NOERR vec
.Ltrap_entry_\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ERR vec
.Ltrap_entry_\vec:
	pushq $\vec
	jmp trap_common
.endm

	.text
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31

	/* Stack now: vector, error code, rip, cs, rflags, rsp, ss. */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	/* A frame-pointer link to the interrupted code, for the backtrace. */
	pushq 17*8(%rsp)		/* rip */
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl trap_entry_table
trap_entry_table:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad .Ltrap_entry_\v
	.endr

	/*
	 * Vectors 32-255: the local APIC timer wakes sleeps, and an
	 * application processor idles with interrupts on, so a stray or
	 * spurious one must land somewhere harmless.  irq_dispatch() sends
	 * EOI or counts it; the stub keeps every register the interrupted
	 * code had (kernel C code never touches SSE, so neither do they).
	 */
	/*
	 * Stubs for vectors 32-255: the timer's, the scheduler's IPI's, the
	 * spurious one's, one each (8 bytes apart from irq_stub_devices) for
	 * the first IRQ_STUB_COUNT device vectors, and one for every other
	 * vector, which irq_dispatch() identifies from the local APIC's
	 * in-service register: two more device accesses an interrupt (VM
	 * exits under a hypervisor; under TCG each takes QEMU's global
	 * lock), which the vectors with stubs of their own are spared.  Each
	 * pushes its vector - 128, which fits a sign-extended imm8.
	 */
	.text
	.globl irq_stub_timer, irq_stub_ipi, irq_stub_spurious, irq_stub_other
	.globl irq_stub_devices
irq_stub_timer:
	pushq $(LAPIC_TIMER_VECTOR - 128)
	jmp irq_common
irq_stub_ipi:
	pushq $(SCHED_IPI_VECTOR - 128)
	jmp irq_common
irq_stub_spurious:
	pushq $(LAPIC_SPURIOUS_VECTOR - 128)
	jmp irq_common
irq_stub_other:
	pushq $(IRQ_VECTOR_UNKNOWN - 128)
	jmp irq_common
	.balign 8
irq_stub_devices:
	.set vec, IRQ_STUB_FIRST
	.rept IRQ_STUB_COUNT
	.balign 8
	pushq $(vec - 128)		/* 2 bytes */
	jmp irq_common			/* at most 5 */
	.set vec, vec + 1
	.endr

	/*
	 * Stack: vector, rip, cs, rflags, rsp, ss; IST1 is 16-byte aligned.
	 * irq_dispatch(vector, frame, rbp) also gets that frame and the
	 * interrupted %rbp (nothing here touches it), for the sampling
	 * profiler (lib/kernel/prof.c).  It returns nonzero when the
	 * interrupted thread is to be preempted (the optional time slice).
	 * The frame then moves from the
	 * IST stack, which the next interrupt reuses, to the top of the
	 * thread's own kernel stack (empty: the thread was running its own
	 * code), and sched_preempt() switches from there as a system call
	 * would; the thread resumes through the same pops and iretq.
	 */
irq_common:
	cld				/* C expects DF = 0; iretq restores it */
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	movq 9*8(%rsp), %rdi		/* vector - 128 */
	addq $128, %rdi
	leaq 9*8(%rsp), %rsi		/* vector, rip, cs, rflags, rsp, ss */
	movq %rbp, %rdx			/* the interrupted frame pointer */
	subq $8, %rsp
	call irq_dispatch
	testl %eax, %eax
	jnz .Lirq_preempt
.Lirq_return:
	addq $8, %rsp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	addq $8, %rsp
	iretq
.Lirq_preempt:
	/* 16 quadwords: padding, 9 registers, vector, 5-word iret frame. */
	movq %gs:PERCPU_KERNEL_RSP, %rdi
	subq $16*8, %rdi
	movq %rsp, %rsi
	movl $16, %ecx
	rep movsq
	movq %gs:PERCPU_KERNEL_RSP, %rsp
	subq $16*8, %rsp
	call sched_preempt
	jmp .Lirq_return

	/*
	 * An application processor arrives here from the trampoline, in long
	 * mode on the boot page tables: switch to the kernel's, find the
	 * block smp.c prepared for this CPU by its initial APIC id (so a CPU
	 * that starts late still takes its own stack), and call ap_main()
	 * with it; ap_main() never returns.
	 */
	.text
	.globl ap_start64
ap_start64:
	movq ap_boot_cr3(%rip), %rax
	movq %rax, %cr3
	movl $1, %eax
	xorl %ecx, %ecx
	cpuid
	shrl $24, %ebx
	leaq ap_boot_table(%rip), %rax
	movq (%rax,%rbx,8), %rdi
	testq %rdi, %rdi
	jz 1f
	movq (%rdi), %rsp		/* struct ap_boot: stack top first */
	xorl %ebp, %ebp
	call ap_main
1:	cli
	hlt
	jmp 1b

	/*
	 * syscall: %rcx = return address, %r11 = caller's rflags, %rax = number,
	 * arguments in rdi, rsi, rdx, r10, r8, r9.  FMASK has cleared IF.  All
	 * registers but rax, rcx and r11 are preserved, as on Linux.
	 */
	.text
	.globl syscall_entry, syscall_return
syscall_entry:
	movq %rsp, %gs:PERCPU_SCRATCH_RSP
	movq %gs:PERCPU_KERNEL_RSP, %rsp
	pushq $GDT_KERNEL_DS		/* iretq frame: ss, rsp, rflags, cs, rip */
	pushq %gs:PERCPU_SCRATCH_RSP
	pushq %r11
	pushq $GDT_KERNEL_CS
	pushq %rcx
	pushq %rbp			/* frame link for backtraces */
	movq %rsp, %rbp
	pushq %rbx			/* the rest: a clone child starts from them */
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %r9			/* struct syscall_args, lowest field first */
	pushq %r8
	pushq %r10
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rax
	movq %rsp, %rdi			/* 18 words pushed: aligned for C */
	call syscall_dispatch
	/*
	 * A new thread made by clone() starts here (switch.S), on a copy of
	 * its parent's frame, with %rax = 0.
	 */
syscall_return:
	addq $8, %rsp			/* number */
	popq %rdi
	popq %rsi
	popq %rdx
	popq %r10
	popq %r8
	popq %r9
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	iretq

	/*
	 * arch_enter_user(entry, stack): start the application's C runtime
	 * (musl's _start) on its own stack, as the Linux ABI leaves a new
	 * process: %rsp at argc, %rdx = 0 (no rtld fini), no frame.
	 */
	.globl arch_enter_user
arch_enter_user:
	movq %rsi, %rsp
	xorl %ebp, %ebp
	xorl %edx, %edx
	pushq $0			/* fake return address keeps alignment */
	addq $8, %rsp
	sti				/* applications run with interrupts on */
	jmp *%rdi
