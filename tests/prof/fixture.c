/* fixture.c: the ELF toro-prof's unit tests symbolise (built for the host
 * with -g, frame pointers, no PIE) and the stack they walk.  Run as
 * `prof-fixture FILE`, it calls main -> outer -> middle -> helper (inlined
 * into middle) -> capture, and capture writes its RIP, RSP and RBP and the
 * stack from RSP up to main's frame into FILE: a memory snapshot like one
 * toro-prof reads from a stopped vCPU.  The source lines of the calls go
 * in too, so the tests know what --lines must say.  It is not a test by
 * itself. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uintptr_t stack_top;
static unsigned char copy[65536];
static int line_capture, line_helper, line_middle, line_outer;

__attribute__((noinline)) void
capture(FILE *out)
{
	uint64_t rip, rsp, rbp;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(rip), "=r"(rsp), "=r"(rbp));
	line_capture = __LINE__ - 2;
	size_t len = stack_top - rsp;
	if (len > sizeof copy)
		len = sizeof copy;
	memcpy(copy, (void *)rsp, len);	/* before any call can reuse the frames */
	fprintf(out, "%llx %llx %llx %zx %d %d %d %d\n", (unsigned long long)rip,
		(unsigned long long)rsp, (unsigned long long)rbp, len, line_capture, line_helper,
		line_middle, line_outer);
	fwrite(copy, 1, len, out);
	__asm__ volatile("" ::: "memory");	/* no tail call: keep this frame */
}

static inline __attribute__((always_inline)) void
helper(FILE *out)
{
	line_helper = __LINE__ + 1;
	capture(out);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void
middle(FILE *out)
{
	line_middle = __LINE__ + 1;
	helper(out);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void
outer(FILE *out)
{
	line_outer = __LINE__ + 1;
	middle(out);
	__asm__ volatile("" ::: "memory");
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	FILE *out = fopen(argv[1], "wb");
	if (!out)
		return 1;
	stack_top = (uintptr_t)__builtin_frame_address(0) + 16;
	outer(out);
	return fclose(out) != 0;
}
