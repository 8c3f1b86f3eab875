/*
 * Switching threads.  ctx_switch() saves the callee-saved registers on
 * the old thread's stack, stores its %rsp, loads the new one's and pops
 * its registers: everything else the C caller already saved, and the
 * scheduler (lib/sched/sched.c) moves the FPU state and %fs itself.  A
 * thread that has never run starts at one of the two entry points below,
 * whose address its prepared stack "returns" to.
 */
	.text
	/* void ctx_switch(uint64_t *save_rsp, uint64_t next_rsp) */
	.globl ctx_switch
ctx_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	/*
	 * A kernel thread (a core's idle loop, kthread_start()): fn in
	 * %rbx, called with %r12 and %r13 as its two arguments.
	 */
	.globl thread_start_kernel
thread_start_kernel:
	call sched_finish_switch
	movq %r12, %rdi
	movq %r13, %rsi
	xorl %ebp, %ebp
	call *%rbx
	ud2

	/*
	 * A clone() child: above us is a copy of the parent's system-call
	 * frame; it returns from clone() with 0.
	 */
	.globl thread_start_clone
thread_start_clone:
	call sched_finish_switch
	xorl %eax, %eax
	jmp syscall_return
