/*
 * The physical page allocator (lib/mm/pmm.c): bitmap sizing, init (all in
 * use, tail bits past npages set), free_range rounding inward and reserve
 * rounding outward, page 0 never handed out, contiguous first-fit runs
 * from the hint (across bitmap words, skipping full words), wrap-around to
 * the low pages, exhaustion returning 0, free then re-allocate, the
 * free_pages counter, and a long random sequence checked against the
 * bitmap (no overlap, counter exact, failure only when no run exists).
 */
#include <stdint.h>
#include <string.h>

#include "lib/mm/pmm.h"
#include "tap.h"

#define PG 4096ULL

static uint64_t bm[64];
static struct pmm p;

static unsigned
count_free(const struct pmm *q)
{
	unsigned n = 0;

	for (uint64_t i = 0; i < q->npages; i++)
		n += !pmm_page_in_use(q, i * PG);
	return n;
}

/* Fresh allocator over npages with every page but page 0 free. */
static void
fresh(uint64_t npages)
{
	memset(bm, 0x5a, sizeof(bm));
	pmm_init(&p, bm, npages);
	pmm_free_range(&p, 0, npages * PG);
}

static void
sizing_and_init(void)
{
	is_int(pmm_bitmap_bytes(0), 0, "bitmap for 0 pages");
	is_int(pmm_bitmap_bytes(1), 8, "bitmap for 1 page: one word");
	is_int(pmm_bitmap_bytes(64), 8, "bitmap for 64 pages: one word");
	is_int(pmm_bitmap_bytes(65), 16, "bitmap for 65 pages: two words");
	is_int(pmm_bitmap_bytes(1ULL << 20), 131072, "bitmap for 4 GiB");

	memset(bm, 0, sizeof(bm));
	pmm_init(&p, bm, 1000);
	is_int(p.free_pages, 0, "init: no free pages");
	is_int(count_free(&p), 0, "init: every page in use");
	ok(bm[15] == ~0ULL, "init: the last word's bits past npages are set");
	is_int(bm[16], 0, "init: nothing written past the bitmap");
	is_int(pmm_alloc_pages(&p, 1), 0, "init: nothing to allocate");

	pmm_free_range(&p, 0, 1000 * PG);
	is_int(p.free_pages, 999, "free all RAM: every page but page 0");
	is_int(count_free(&p), 999, "bitmap agrees with the counter");
	ok(pmm_page_in_use(&p, 0), "page 0 stays in use");
	ok(!pmm_page_in_use(&p, 0x1000), "page 1 is free");
	ok(pmm_page_in_use(&p, 1000 * PG), "page npages is in use (outside)");
	ok(pmm_page_in_use(&p, UINT64_MAX), "address UINT64_MAX is in use");
	ok(pmm_page_in_use(&p, 999 * PG + 0xfff) == false, "last byte of the last page free");
	is_int(bm[15] >> (1000 % 64), ~0ULL >> (1000 % 64), "tail bits stay set after free_range");
}

static void
rounding(void)
{
	/* reserve rounds outward */
	fresh(1000);
	pmm_reserve_range(&p, 0x10800, 0x1000);
	ok(pmm_page_in_use(&p, 0x10000) && pmm_page_in_use(&p, 0x11000),
	   "reserve [0x10800, 0x11800) takes pages 0x10 and 0x11");
	ok(!pmm_page_in_use(&p, 0xf000) && !pmm_page_in_use(&p, 0x12000),
	   "reserve leaves the neighbours free");
	is_int(p.free_pages, 997, "reserve counts two pages");
	pmm_reserve_range(&p, 0x10000, 0x2000);
	is_int(p.free_pages, 997, "reserving reserved pages changes nothing");
	pmm_reserve_range(&p, 0x30001, 1);
	ok(pmm_page_in_use(&p, 0x30000), "reserve of one byte takes its page");
	pmm_reserve_range(&p, 0x40000, 0);
	ok(!pmm_page_in_use(&p, 0x40000), "reserve of 0 bytes takes nothing");
	is_int(p.free_pages, 996, "counter after the small reserves");
	pmm_reserve_range(&p, 990 * PG, 100 * PG);
	is_int(p.free_pages, 986, "reserve past npages is clipped");

	/* free rounds inward */
	memset(bm, 0, sizeof(bm));
	pmm_init(&p, bm, 1000);
	pmm_free_range(&p, 0x20800, 0x2000);
	ok(!pmm_page_in_use(&p, 0x21000), "free [0x20800, 0x22800) frees page 0x21");
	ok(pmm_page_in_use(&p, 0x20000) && pmm_page_in_use(&p, 0x22000),
	   "but not the partial pages 0x20 and 0x22");
	is_int(p.free_pages, 1, "one page freed");
	pmm_free_range(&p, 0x30800, 0x800);
	pmm_free_range(&p, 0x40000, 0xfff);
	pmm_free_range(&p, 0x41001, 0x1000);
	is_int(p.free_pages, 1, "ranges smaller than a whole page free nothing");
	pmm_free_range(&p, 0x40000, 0x1000);
	ok(!pmm_page_in_use(&p, 0x40000), "an exact page is freed");
	pmm_free_range(&p, 0x40000, 0x1000);
	is_int(p.free_pages, 2, "freeing a free page does not count twice");
	pmm_free_range(&p, 0, 0x3000);
	ok(pmm_page_in_use(&p, 0), "free_range from 0 keeps page 0");
	is_int(p.free_pages, 4, "pages 1 and 2 freed");
	pmm_free_range(&p, 992 * PG, UINT64_MAX);
	is_int(p.free_pages, 12, "a range wrapping past 2^64 is clipped to npages");

	/* A bogus region near the top of the address space (it wraps when
	 * rounded up) must free nothing. */
	memset(bm, 0, sizeof(bm));
	pmm_init(&p, bm, 1000);
	pmm_free_range(&p, 0xFFFFFFFFFFFFF001ULL, 0x10);
	is_int(p.free_pages, 0, "free_range at the top of the address space frees nothing");

	/* Reserving up to the end of the address space takes every page. */
	fresh(1000);
	pmm_reserve_range(&p, 0x5000, UINT64_MAX - 0x5000);
	is_int(p.free_pages, 4, "reserve to the top of the address space leaves pages 1..4");
}

static void
allocation(void)
{
	fresh(1000);
	is_int(pmm_alloc_pages(&p, 1), 0x1000, "first allocation is page 1, never page 0");
	is_int(pmm_alloc_pages(&p, 3), 0x2000, "next run follows it");
	ok(pmm_page_in_use(&p, 0x2000) && pmm_page_in_use(&p, 0x4000),
	   "allocated pages are in use");
	ok(!pmm_page_in_use(&p, 0x5000), "the page after the run is free");
	is_int(p.free_pages, 995, "counter after allocating 4 pages");
	is_int(p.hint, 5, "hint moves past the run");
	is_int(pmm_alloc_pages(&p, 0), 0, "allocating 0 pages fails");
	is_int(p.free_pages, 995, "and changes nothing");

	/* free then re-allocate */
	pmm_free_pages(&p, 0x2000, 3);
	is_int(p.free_pages, 998, "freeing the run restores the counter");
	ok(!pmm_page_in_use(&p, 0x3000), "freed page is free");
	is_int(pmm_alloc_pages(&p, 2), 0x2000, "freeing lowers the hint: space reused");
	is_int(pmm_alloc_pages(&p, 1), 0x4000, "the next page follows");
	pmm_free_pages(&p, 0x2000, 1);
	is_int(pmm_alloc_pages(&p, 2), 0x5000, "a run of 2 does not fit in a 1-page hole");
	is_int(pmm_alloc_pages(&p, 1), 0x7000, "first fit goes on from the hint, past the hole");
	pmm_free_pages(&p, 0x7000, 1);
	pmm_free_pages(&p, 0x7000, 1);
	is_int(p.free_pages, 994, "double free counts once");
	pmm_free_pages(&p, 0, 2);
	ok(pmm_page_in_use(&p, 0), "free_pages never frees page 0");
	ok(!pmm_page_in_use(&p, 0x1000), "but frees page 1 with it");
	pmm_free_pages(&p, 999 * PG, 5);
	pmm_free_pages(&p, 5000 * PG, 5);
	is_int(p.free_pages, 995, "freeing past npages is ignored");
	is_int(count_free(&p), 995, "bitmap agrees with the counter");

	/* fragmentation: odd pages in [1, 100) reserved, runs of 1 only */
	fresh(1000);
	for (uint64_t i = 1; i < 100; i += 2)
		pmm_reserve_range(&p, i * PG, PG);
	is_int(pmm_alloc_pages(&p, 2), 100 * PG, "a run of 2 skips the single pages");
	is_int(pmm_alloc_pages(&p, 1), 102 * PG, "then from the hint, not from the holes");
	pmm_free_pages(&p, 0x1000, 0);	/* n = 0: nothing, but lowers the hint */
	is_int(pmm_alloc_pages(&p, 1), 2 * PG, "a single page from the lowered hint");

	/* runs across bitmap words and full-word skipping */
	memset(bm, 0, sizeof(bm));
	pmm_init(&p, bm, 1000);
	pmm_free_range(&p, 128 * PG, PG);
	is_int(pmm_alloc_pages(&p, 1), 128 * PG, "a free page right after a full word");
	pmm_init(&p, bm, 1000);
	pmm_free_range(&p, 60 * PG, 8 * PG);
	is_int(pmm_alloc_pages(&p, 8), 60 * PG, "a run crossing a bitmap word");
	pmm_free_range(&p, 300 * PG, 700 * PG);
	pmm_free_range(&p, 250 * PG, 1 * PG);
	is_int(pmm_alloc_pages(&p, 1), 250 * PG, "search skips full words to page 250");
	is_int(pmm_alloc_pages(&p, 64), 300 * PG, "a whole-word run");
	is_int(pmm_alloc_pages(&p, 100), 364 * PG, "a 100-page run");
	is_int(pmm_alloc_pages(&p, 537), 0, "537 pages do not fit in the 536 left");
	is_int(pmm_alloc_pages(&p, 536), 464 * PG, "the last 536 pages do");
	is_int(p.free_pages, 0, "nothing left");
	is_int(pmm_alloc_pages(&p, 1), 0, "exhausted: 0");
}

static void
wrap_around(void)
{
	fresh(128);
	is_int(pmm_alloc_pages(&p, 127), 0x1000, "take all 127 pages");
	is_int(p.hint, 128, "hint at npages");
	pmm_free_range(&p, 10 * PG, 4 * PG);	/* frees without moving the hint */
	is_int(pmm_alloc_pages(&p, 4), 10 * PG, "search wraps to the low pages");
	is_int(p.hint, 14, "hint after the wrapped run");
	pmm_free_range(&p, 12 * PG, 4 * PG);
	is_int(pmm_alloc_pages(&p, 4), 12 * PG, "a run straddling the hint is found");
	pmm_free_range(&p, 20 * PG, 2 * PG);
	pmm_free_range(&p, 30 * PG, 1 * PG);
	is_int(pmm_alloc_pages(&p, 3), 0, "3 free pages but no run of 3: 0");
	is_int(p.free_pages, 3, "failed allocation leaves the counter");
	is_int(pmm_alloc_pages(&p, 4), 0, "more than free_pages: 0");
	is_int(pmm_alloc_pages(&p, 2), 20 * PG, "the run of 2");
	is_int(pmm_alloc_pages(&p, 1), 30 * PG, "the last page");
	is_int(pmm_alloc_pages(&p, 1), 0, "then nothing");

	/* npages not a multiple of 64: the tail bits are never handed out */
	fresh(70);
	is_int(pmm_alloc_pages(&p, 69), 0x1000, "69 pages of 70");
	is_int(pmm_alloc_pages(&p, 1), 0, "nothing past npages");
}

/* Random allocations and frees, checked against the bitmap itself. */
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static bool
run_exists(uint64_t n)
{
	uint64_t run = 0;

	for (uint64_t i = 1; i < p.npages; i++) {
		run = pmm_page_in_use(&p, i * PG) ? 0 : run + 1;
		if (run == n)
			return true;
	}
	return false;
}

static void
random_ops(void)
{
	enum { NP = 1500, MAXA = 400 };
	struct { uint64_t addr, n; } live[MAXA];
	int nlive = 0, bad_overlap = 0, bad_count = 0, bad_fail = 0, bad_range = 0;
	int allocs = 0, fails = 0;
	static unsigned char owner[NP];

	fresh(NP);
	memset(owner, 0, sizeof(owner));
	for (int step = 0; step < 20000; step++) {
		if (nlive < MAXA && (nlive == 0 || rnd(100) < 55)) {
			uint64_t n = 1 + (rnd(4) ? rnd(8) : rnd(64));
			uint64_t a = pmm_alloc_pages(&p, n);
			if (!a) {
				fails++;
				if (run_exists(n))
					bad_fail++;
				continue;
			}
			allocs++;
			if (a % PG || a / PG + n > NP || a < PG)
				bad_range++;
			for (uint64_t i = a / PG; i < a / PG + n && i < NP; i++) {
				if (owner[i] || !pmm_page_in_use(&p, i * PG))
					bad_overlap++;
				owner[i] = 1;
			}
			live[nlive].addr = a;
			live[nlive++].n = n;
		} else {
			int k = (int)rnd((uint64_t)nlive);
			for (uint64_t i = live[k].addr / PG; i < live[k].addr / PG + live[k].n; i++)
				owner[i] = 0;
			pmm_free_pages(&p, live[k].addr, live[k].n);
			live[k] = live[--nlive];
		}
		if (p.free_pages != count_free(&p))
			bad_count++;
	}
	diag("random: %d allocations, %d failures", allocs, fails);
	ok(allocs > 1000 && fails > 10, "random run exercised success and failure");
	is_int(bad_range, 0, "random: every run aligned, inside RAM, not page 0");
	is_int(bad_overlap, 0, "random: runs never overlap and are marked in use");
	is_int(bad_count, 0, "random: free_pages always equals the free bits");
	is_int(bad_fail, 0, "random: allocation fails only when no run exists");
	while (nlive) {
		nlive--;
		pmm_free_pages(&p, live[nlive].addr, live[nlive].n);
	}
	is_int(p.free_pages, NP - 1, "random: everything freed again");
}

int
main(void)
{
	sizing_and_init();
	rounding();
	allocation();
	wrap_around();
	random_ops();
	return done_testing();
}
