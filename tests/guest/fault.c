/*
 * Provokes one CPU exception (or abort()) chosen by argv[1], so that
 * faults.test can check the kernel's report and exit status:
 *
 *   null       read through a NULL pointer             #PF, status 139
 *   div0       integer division by zero                #DE, status 136
 *   stack      unbounded recursion into the guard page #PF, status 139
 *   writetext  write to a function's code              #PF, status 139
 *   exec       jump into a stack buffer (NX)           #PF, status 139
 *   ud2        an invalid opcode                       #UD, status 132
 *   abort      abort()                                 SIGABRT, status 134
 *   none       nothing: return 0
 *
 * Every fault happens in a named noinline function called from main(), so
 * the backtrace must name both.  Each case prints a line first so the test
 * can tell the program ran up to the fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline, noclone))

/* Opaque to the optimiser: the compiler cannot prove anything about it. */
static void *volatile null_pointer;
static volatile int zero;
volatile unsigned long sink;

NOINLINE int
fault_null(void)
{
	int *volatile p = null_pointer;

	return *p;
}

NOINLINE int
fault_div0(int n)
{
	volatile int d = zero;

	return n / d;
}

/*
 * Each level keeps a 1 KiB array live across the recursive call and uses
 * the callee's result afterwards, so it is not a tail call and cannot
 * become a loop; the depth comes from a volatile, so the compiler cannot
 * bound it either.
 */
static volatile unsigned long depth_limit = ~0UL;

NOINLINE unsigned long
fault_stack(unsigned long depth)
{
	volatile char pad[1024];

	pad[0] = (char)depth;
	pad[sizeof(pad) - 1] = (char)(depth >> 8);
	if (depth >= depth_limit)
		return pad[0];
	return fault_stack(depth + 1) + pad[0] + pad[sizeof(pad) - 1];
}

NOINLINE int
victim(int x)
{
	return x * 3 + 1;
}

/*
 * The pointer lives in a volatile local so the function has a stack frame
 * (GCC drops the frame of a leaf that needs no stack even with
 * -fno-omit-frame-pointer) and the %rbp chain reaches main().
 */
NOINLINE void
fault_writetext(void)
{
	volatile unsigned char *volatile code =
		(volatile unsigned char *)(void *)victim;

	code[0] = 0xC3;	/* ret */
}

/*
 * The call into the buffer is made from a helper with its own frame: the
 * fault is on the buffer's first instruction, before any frame is set up,
 * so the %rbp chain starts at the caller of whoever made the call.  This
 * way the backtrace reads "?" (the buffer), fault_exec, main.
 */
NOINLINE void
call_buffer(void (*fn)(void))
{
	fn();
	sink++;		/* not a tail call: keep this frame */
}

NOINLINE void
fault_exec(void)
{
	unsigned char buf[16];

	memset(buf, 0xC3, sizeof(buf));	/* ret, ret, ... */
	call_buffer((void (*)(void))(void *)buf);
	sink = buf[0];
}

NOINLINE void
fault_ud2(void)
{
	volatile int frame = 0;	/* a stack frame, as in fault_writetext */

	__asm__ volatile("ud2" : : "r"(frame));
}

NOINLINE void
fault_abort(void)
{
	abort();
}

int
main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "none";

	printf("fault: %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "null"))
		sink = (unsigned long)fault_null();
	else if (!strcmp(what, "div0"))
		sink = (unsigned long)fault_div0(argc);
	else if (!strcmp(what, "stack"))
		sink = fault_stack(0);
	else if (!strcmp(what, "writetext"))
		fault_writetext();
	else if (!strcmp(what, "exec"))
		fault_exec();
	else if (!strcmp(what, "ud2"))
		fault_ud2();
	else if (!strcmp(what, "abort"))
		fault_abort();
	else if (!strcmp(what, "none"))
		return 0;
	else {
		fprintf(stderr, "fault: unknown case '%s'\n", what);
		return 2;
	}
	printf("fault: %s did not fault\n", what);
	return 1;
}
