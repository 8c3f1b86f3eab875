/* walk.c: turns one vCPU's registers and a way to read its memory into a
 * call stack, by following the frame-pointer chain (%rbp -> saved %rbp,
 * return address above it).  Toro builds the kernel and applications with
 * -fno-omit-frame-pointer, so the chain is there; the exceptions handled
 * here are the few instructions of a prologue or epilogue where %rbp still
 * (or again) belongs to the caller, and functions without a frame at all
 * (musl's libc.a), whose caller is recovered only when the return address
 * is still on top of the stack.  It does not symbolise, and it never
 * trusts guest memory: every pointer is checked before it is followed. */
#include <string.h>

#include "prof.h"

#define MAX_FRAME_SPAN (1u << 20)	/* a frame bigger than this ends the walk */

/* Does the code before ADDR end with a call instruction? */
static int
after_call(const struct image *im, uint64_t addr)
{
	unsigned char b[7];

	if (addr < 7 || image_code(im, addr - 7, b, 7))
		return 0;
	if (b[2] == 0xe8)				/* call rel32 */
		return 1;
	if (b[5] == 0xff && (b[6] & 0xf8) == 0xd0)	/* call *%reg */
		return 1;
	if (b[4] == 0xff && (b[5] & 0x38) == 0x10 && (b[5] & 0xc0) == 0x40)
		return 1;				/* call *d8(%reg) */
	if (b[1] == 0xff && (b[2] & 0x38) == 0x10 && (b[2] & 0xc0) == 0x80)
		return 1;				/* call *d32(%reg) */
	return 0;
}

/* The return address of the innermost function when %rbp does not frame
 * it yet (or any more), or 0. */
uint64_t
walk_leaf_return(const struct image *im, const struct regs *r, mem_read_fn rd, void *ctx)
{
	const struct image_func *f = image_func_at(im, r->rip);
	unsigned char c[4], first, at;
	uint64_t ret = 0, slot;

	if (!f)
		return 0;
	uint64_t p = f->start;
	if (!image_code(im, p, c, 4) && c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
		p += 4;					/* endbr64 */
	if (image_code(im, p, &first, 1) || image_code(im, r->rip, &at, 1))
		return 0;
	int framed = first == 0x55;			/* push %rbp */
	if (r->rip <= p)
		slot = r->rsp;
	else if (framed && r->rip == p + 1)
		slot = r->rsp + 8;
	else if (framed && at == 0xc3)			/* ret, after leave/pop */
		slot = r->rsp;
	else if (!framed)
		slot = r->rsp;				/* a guess, checked below */
	else
		return 0;
	if (rd(ctx, slot, &ret, sizeof ret) || !image_is_code(im, ret))
		return 0;
	if (!framed && !after_call(im, ret))
		return 0;
	return ret;
}

int
walk_stack(const struct image *im, const struct regs *r, mem_read_fn rd, void *ctx,
	   uint64_t *pcs, int max)
{
	int n = 0;
	uint64_t fp = r->rbp;

	if (max <= 0)
		return 0;
	pcs[n++] = r->rip;
	uint64_t lr = walk_leaf_return(im, r, rd, ctx);
	if (lr && n < max)
		pcs[n++] = lr;
	while (n < max) {
		uint64_t fr[2];
		if (fp == 0 || (fp & 7) || rd(ctx, fp, fr, sizeof fr))
			break;
		if (!image_is_code(im, fr[1]))
			break;
		pcs[n++] = fr[1];
		if (fr[0] <= fp || fr[0] - fp > MAX_FRAME_SPAN)
			break;
		fp = fr[0];
	}
	return n;
}

int
walk_is_halt(const struct image *im, uint64_t rip)
{
	unsigned char b[2];

	/* A halted vCPU reports the instruction after its hlt; Toro halts
	 * with "sti; hlt" (idle) and "cli; hlt" (stop, panic). */
	if (rip >= 2 && !image_code(im, rip - 2, b, 2) && b[1] == 0xf4 &&
	    (b[0] == 0xfb || b[0] == 0xfa))
		return 1;
	if (!image_code(im, rip, b, 1) && b[0] == 0xf4)
		return 1;
	const struct image_func *f = image_func_at(im, rip);
	return f && f->name && (!strcmp(f->name, "idle_loop") || !strcmp(f->name, "idle_poll"));
}
