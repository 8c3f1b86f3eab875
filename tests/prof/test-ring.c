/* test-ring.c: decoding the kernel's sample rings (lib/kernel/prof.h,
 * tools/toro-prof/inguest.c) without a guest: records written the way
 * prof_tick() writes them, read back in order; a ring the kernel lapped
 * (the overwritten records counted as lost, not decoded); records
 * overwritten while the host read them (QMP reads without stopping);
 * a torn record (seq not yet written); a guest that restarted; and a
 * record turned into a stack against prof-fixture: RIP, the leaf's return
 * address from the copied top of stack, then the chain until it leaves
 * the code. */
#include <stdlib.h>
#include <string.h>

#define TORO_PROF_HOST
#include "lib/kernel/prof.h"
#include "prof.h"
#include "tests/unit/tap.h"

#define N 8	/* records per ring in these tests */

static struct prof_record ring[N];
static uint64_t head;
static uint64_t seen[64];
static int nseen;

/* As prof_tick(): fill the slot, then seq, then the head. */
static void
produce(uint64_t rip)
{
	struct prof_record *r = &ring[head & (N - 1)];

	memset(r, 0, sizeof *r);
	r->rip = rip;
	r->info = 1;
	r->ret[0] = rip + 1;
	r->seq = head++;
}

static int
collect(void *ctx, int cpu, const struct prof_record *r)
{
	(void)ctx;
	(void)cpu;
	if (nseen < 64)
		seen[nseen++] = r->rip;
	return 0;
}

static int
seen_run(uint64_t first, int n)
{
	if (nseen != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (seen[i] != first + i)
			return 0;
	return 1;
}

static void
ring_tests(void)
{
	struct ig_core st = {0};

	for (int i = 0; i < 5; i++)
		produce(100 + i);
	nseen = 0;
	ig_consume(&st, 0, ring, N, head, head, collect, NULL);
	ok(seen_run(100, 5) && st.got == 5 && st.lost == 0 && st.tail == 5,
	   "five records read in order (got %llu, lost %llu)", (unsigned long long)st.got,
	   (unsigned long long)st.lost);

	nseen = 0;
	ig_consume(&st, 0, ring, N, head, head, collect, NULL);
	ok(nseen == 0 && st.tail == 5, "nothing new, nothing read twice");

	for (int i = 5; i < 20; i++)	/* 15 more into 8 slots */
		produce(100 + i);
	nseen = 0;
	ig_consume(&st, 0, ring, N, head, head, collect, NULL);
	/* Stopped VM: records 13..19 are whole (the window keeps one slot
	 * spare for the record being written), 5..12 are gone. */
	ok(seen_run(113, 7) && st.lost == 8 && st.tail == 20,
	   "a lapped ring: %d read from 113, %llu lost", nseen, (unsigned long long)st.lost);

	/* Running VM: read at head 20, but by the second head read the kernel
	 * had written 3 more, over 12..14 (and may be writing 23, over 15). */
	for (int i = 20; i < 24; i++)
		produce(100 + i);
	st = (struct ig_core){.tail = 14};
	nseen = 0;
	ig_consume(&st, 0, ring, N, 20, 23, collect, NULL);
	ok(seen_run(116, 4) && st.lost == 2 && st.tail == 20,
	   "records overwritten during the read are lost, not decoded (%d read, %llu lost)", nseen,
	   (unsigned long long)st.lost);

	st = (struct ig_core){.tail = 22};
	ring[22 & (N - 1)].seq = 14;	/* torn: seq not written yet */
	nseen = 0;
	ig_consume(&st, 0, ring, N, 24, 24, collect, NULL);
	ok(seen_run(123, 1) && st.lost == 1, "a record whose seq does not match is dropped");

	st = (struct ig_core){.tail = 1000};
	nseen = 0;
	ig_consume(&st, 0, ring, N, 3, 3, collect, NULL);
	ok(nseen == 0 && st.tail == 3, "a head behind the tail (a rebooted guest) restarts the count");
}

static void
stack_tests(void)
{
	struct image im;
	char err[512];
	uint64_t pcs[PROF_MAX_DEPTH];

	if (image_open(&im, "./prof-fixture", err, sizeof err)) {
		ok(0, "prof-fixture: %s", err);
		ok(0, "(skipped)");
		return;
	}
	const struct image_func *outer = image_func_named(&im, "outer");
	const struct image_func *mainf = image_func_named(&im, "main");
	struct prof_record r = {0};
	/* Interrupted at outer's first instruction: %rbp is main's frame, the
	 * return address into main is on top of the stack. */
	r.rip = outer->start;
	r.rsp = 0x7000;
	r.top[0] = mainf->start + 9;
	r.ret[0] = mainf->start + 20;
	r.ret[1] = 0x1234;		/* not code: the walk ends */
	r.ret[2] = mainf->start + 30;
	r.info = 3;
	int n = ig_stack(&im, &r, pcs, PROF_MAX_DEPTH);
	ok(n == 3 && pcs[0] == r.rip && pcs[1] == r.top[0] && pcs[2] == r.ret[0],
	   "a record becomes RIP, the leaf's return address from the top of the stack, "
	   "then the chain until it leaves the code (%d frames)", n);
	r.info = 0;
	r.top[0] = 0;
	n = ig_stack(&im, &r, pcs, 1);
	ok(n == 1 && pcs[0] == r.rip, "max depth 1 keeps the RIP only");
	image_close(&im);
}

int
main(void)
{
	plan(8);
	ring_tests();
	stack_tests();
	return done_testing();
}
