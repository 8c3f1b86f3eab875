/*
 * Page-table construction (lib/mm/paging.c) in host memory.  The
 * environment hands out zeroed 4 KiB pages from a pool at a fake physical
 * base and counts them.  Covers: the 0..4 GiB identity map RW+NX with
 * 2 MiB pages (1 PML4 + 1 PDPT + 4 PD), re-mapping an image W^X at 4 KiB
 * (text RX, rodata R+NX, data RW+NX) across a 2 MiB boundary with the rest
 * of each split page keeping its mapping and flags, splitting a 1 GiB page,
 * non-identity mappings, filling an existing table with a 2 MiB-sized
 * request, effective W/NX across levels in pt_lookup, unmapping page 0 and
 * a guard page, misaligned arguments (-EINVAL), allocator exhaustion
 * (-ENOMEM, nothing half-split) and an environment without NX.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mm/paging.h"
#include "tap.h"

#define GiB		(1ULL << 30)
#define POOL_PAGES	64
#define POOL_BASE	0x100000ULL	/* fake physical address of the pool */

struct pool {
	unsigned char *mem;
	unsigned used, limit;
};

static uint64_t
pool_alloc(void *ctx)
{
	struct pool *pl = ctx;

	if (pl->used >= pl->limit)
		return 0;
	unsigned char *pg = pl->mem + (size_t)pl->used * PAGE_4K;
	memset(pg, 0, PAGE_4K);
	return POOL_BASE + PAGE_4K * pl->used++;
}

static void *
pool_ptr(void *ctx, uint64_t phys)
{
	struct pool *pl = ctx;

	if (phys < POOL_BASE || phys >= POOL_BASE + (uint64_t)pl->used * PAGE_4K ||
	    (phys & (PAGE_4K - 1))) {
		/* A wild table pointer: stop here rather than scribble. */
		diag("ptr(0x%llx) outside the allocated pool", (unsigned long long)phys);
		abort();
	}
	return pl->mem + (phys - POOL_BASE);
}

static struct pool pool;
static struct pt_env env = { pool_alloc, pool_ptr, &pool, PTE_NX };

static uint64_t
reset(unsigned limit)
{
	memset(pool.mem, 0xEE, POOL_PAGES * PAGE_4K);	/* stale garbage */
	pool.used = 0;
	pool.limit = limit;
	env.nx = PTE_NX;
	return pool_alloc(&pool);	/* the PML4 */
}

/* Raw entry of va at level (3 = PML4 .. 0 = PT), or 0 when not reached. */
static uint64_t
raw(uint64_t root, uint64_t va, int level)
{
	uint64_t *t = pool_ptr(&pool, root);

	for (int l = 3; ; l--) {
		uint64_t e = t[(va >> (12 + 9 * l)) & 511];
		if (l == level)
			return e;
		if (!(e & PTE_P) || (e & PTE_PS))
			return 0;
		t = pool_ptr(&pool, e & PTE_ADDR);
	}
}

#define RWNX	(PTE_P | PTE_W | PTE_NX)
#define RX	(PTE_P)
#define RNX	(PTE_P | PTE_NX)

/* Checks lookup(va) == (pa, flags). */
static int
maps(uint64_t root, uint64_t va, uint64_t want_pa, uint64_t want_flags)
{
	uint64_t pa = 0xdead, fl = 0xdead;

	if (!pt_lookup(&env, root, va, &pa, &fl))
		return 0;
	if (pa != want_pa || fl != want_flags) {
		diag("va 0x%llx -> pa 0x%llx flags 0x%llx, want 0x%llx 0x%llx",
		     (unsigned long long)va, (unsigned long long)pa,
		     (unsigned long long)fl, (unsigned long long)want_pa,
		     (unsigned long long)want_flags);
		return 0;
	}
	return 1;
}

static int
unmapped(uint64_t root, uint64_t va)
{
	uint64_t pa = 0, fl = 0;

	return !pt_lookup(&env, root, va, &pa, &fl);
}

/* The kernel's layout: identity 4 GiB, then the image W^X. */
static void
identity_and_image(void)
{
	uint64_t root = reset(POOL_PAGES);

	is_int(pt_map(&env, root, 0, 0, 4 * GiB, PTE_W | PTE_NX), 0, "identity-map 0..4 GiB");
	is_int(pool.used, 6, "1 PML4 + 1 PDPT + 4 PD pages");
	int big = 0;
	for (uint64_t va = 0; va < 4 * GiB; va += PAGE_2M) {
		uint64_t e = raw(root, va, 1);
		big += (e & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS) && (e & PTE_ADDR) == va;
	}
	is_int(big, 2048, "all 2048 PD entries are 2 MiB pages mapping themselves");
	is_int(raw(root, 4 * GiB, 2), 0, "PDPT entry 4 is empty");
	ok(maps(root, 0, 0, RWNX), "va 0 -> 0 RW NX");
	ok(maps(root, 0x1234, 0x1234, RWNX), "offset inside a 2 MiB page kept");
	ok(maps(root, 0x80000000 + 0x1fffff, 0x80000000 + 0x1fffff, RWNX), "2 GiB + 2 MiB - 1");
	ok(maps(root, 4 * GiB - 1, 4 * GiB - 1, RWNX), "last byte below 4 GiB");
	ok(unmapped(root, 4 * GiB), "4 GiB not mapped");
	ok(unmapped(root, 0x7fffffffffffULL), "top of the lower half not mapped");

	/* Image: text [0x1fd000, 0x202000) crosses the 2 MiB boundary. */
	const uint64_t text = 0x1fd000, rodata = 0x202000, data = 0x204000, end = 0x207000;
	is_int(pt_map(&env, root, text, text, rodata - text, 0), 0, "map text RX");
	is_int(pt_map(&env, root, rodata, rodata, data - rodata, PTE_NX), 0, "map rodata R NX");
	is_int(pt_map(&env, root, data, data, end - data, PTE_W | PTE_NX), 0, "map data RW NX");
	is_int(pool.used, 8, "two 2 MiB pages split: two page tables");
	ok((raw(root, 0, 1) & (PTE_P | PTE_PS)) == PTE_P, "PD[0] now points to a table");
	ok((raw(root, PAGE_2M, 1) & (PTE_P | PTE_PS)) == PTE_P, "PD[1] now points to a table");
	ok(raw(root, 2 * PAGE_2M, 1) & PTE_PS, "PD[2] is still a 2 MiB page");

	int bad = 0;
	for (uint64_t va = text; va < rodata; va += PAGE_4K)
		bad += !maps(root, va, va, RX);
	is_int(bad, 0, "every text page RX");
	bad = 0;
	for (uint64_t va = rodata; va < data; va += PAGE_4K)
		bad += !maps(root, va + 0x10, va + 0x10, RNX);
	is_int(bad, 0, "every rodata page R NX");
	bad = 0;
	for (uint64_t va = data; va < end; va += PAGE_4K)
		bad += !maps(root, va + 0xfff, va + 0xfff, RWNX);
	is_int(bad, 0, "every data page RW NX");
	ok(maps(root, text - PAGE_4K, text - PAGE_4K, RWNX), "page below text keeps RW NX");
	ok(maps(root, end, end, RWNX), "page above data keeps RW NX");
	ok(maps(root, 0, 0, RWNX), "start of the first split page keeps its mapping");
	ok(maps(root, 2 * PAGE_2M - PAGE_4K, 2 * PAGE_2M - PAGE_4K, RWNX),
	   "end of the second split page keeps its mapping");
	bad = 0;
	for (uint64_t va = 0; va < 2 * PAGE_2M; va += PAGE_4K)
		if (va < text || va >= end)
			bad += !maps(root, va, va, RWNX);
	is_int(bad, 0, "all 1010 other pages of the split 2 MiB pages unchanged");
	ok(maps(root, 2 * PAGE_2M, 2 * PAGE_2M, RWNX), "next 2 MiB page unchanged");

	/* Unmap page 0 and a guard page below a stack. */
	is_int(pt_unmap(&env, root, 0, PAGE_4K), 0, "unmap page 0");
	ok(unmapped(root, 0) && unmapped(root, 0xfff), "page 0 unmapped");
	ok(maps(root, PAGE_4K, PAGE_4K, RWNX), "page 1 still mapped");
	is_int(pool.used, 8, "unmapping inside an existing table allocates nothing");
	const uint64_t guard = 0x40000000 + 0x7000;
	is_int(pt_unmap(&env, root, guard, PAGE_4K), 0, "unmap a guard page inside a 2 MiB page");
	ok(unmapped(root, guard), "guard page unmapped");
	ok(maps(root, guard - PAGE_4K, guard - PAGE_4K, RWNX) &&
	   maps(root, guard + PAGE_4K, guard + PAGE_4K, RWNX), "its neighbours stay mapped");
	is_int(pool.used, 9, "the split cost one page table");
	is_int(pt_unmap(&env, root, guard, PAGE_4K), 0, "unmapping it again");
	is_int(pt_unmap(&env, root, 8 * GiB, 16 * PAGE_4K), 0, "unmapping never-mapped memory");
	is_int(pool.used, 9, "allocates nothing");
	is_int(pt_unmap(&env, root, 0, 0), 0, "unmapping 0 bytes");

	/* A 2 MiB-aligned request over a range that already has a table. */
	is_int(pt_map(&env, root, PAGE_2M, PAGE_2M, PAGE_2M, PTE_W), 0,
	       "re-map a split 2 MiB range in one request");
	is_int(pool.used, 9, "fills the existing table, no new page");
	ok((raw(root, PAGE_2M, 1) & (PTE_P | PTE_PS)) == PTE_P, "PD[1] still a table");
	bad = 0;
	for (uint64_t va = PAGE_2M; va < 2 * PAGE_2M; va += PAGE_4K)
		bad += !maps(root, va, va, PTE_P | PTE_W);
	is_int(bad, 0, "all 512 pages now RW and executable");
}

static void
other_shapes(void)
{
	uint64_t root = reset(POOL_PAGES), pa, fl;

	/* Non-identity 2 MiB pages, then one 4 KiB page re-pointed inside. */
	is_int(pt_map(&env, root, GiB, 3 * GiB, 2 * PAGE_2M, PTE_W), 0,
	       "map 4 MiB at 1 GiB -> 3 GiB");
	is_int(pool.used, 3, "PML4 + PDPT + PD: 2 MiB pages");
	ok(maps(root, GiB + 0x345678, 3 * GiB + 0x345678, PTE_P | PTE_W), "translation");
	is_int(pt_map(&env, root, GiB + 0x5000, 0x12345000, PAGE_4K, 0), 0, "re-point one page");
	ok(maps(root, GiB + 0x5abc, 0x12345abc, RX), "re-pointed page");
	ok(maps(root, GiB + 0x4000, 3 * GiB + 0x4000, PTE_P | PTE_W) &&
	   maps(root, GiB + 0x6000, 3 * GiB + 0x6000, PTE_P | PTE_W) &&
	   maps(root, GiB + 0x1ff000, 3 * GiB + 0x1ff000, PTE_P | PTE_W),
	   "split keeps the non-identity offsets");

	/* Higher-half addresses use other PML4/PDPT slots. */
	const uint64_t hi = 0xffff800000000000ULL;
	is_int(pt_map(&env, root, hi, 0x200000, 3 * PAGE_4K, PTE_NX), 0, "map in the higher half");
	ok(maps(root, hi + 0x2010, 0x202010, RNX), "higher-half translation");
	ok(unmapped(root, hi + 0x3000), "past the higher-half range");
	ok(unmapped(root, 0), "va 0 not mapped in this table");

	/* Flags that are not flags are dropped: address bits and PS. */
	is_int(pt_map(&env, root, 0x10000, 0x20000, PAGE_4K,
		      PTE_W | PTE_PS | 0x0000123456789000ULL), 0, "map with junk in flags");
	uint64_t e = raw(root, 0x10000, 0);
	is_int(e, 0x20000 | PTE_P | PTE_W, "PTE = pa | P | W only");

	/* Cache bits and global pass through to the entry. */
	is_int(pt_map(&env, root, 0x11000, 0xfee00000, PAGE_4K, PTE_W | PTE_PCD | PTE_G | PTE_NX),
	       0, "map an uncached page");
	ok(raw(root, 0x11000, 0) == (0xfee00000 | PTE_P | PTE_W | PTE_PCD | PTE_G | PTE_NX),
	   "PCD and G kept in the PTE");

	/* Effective flags: W needs every level, NX from any level. */
	uint64_t *pd = pool_ptr(&pool, raw(root, 0x10000, 2) & PTE_ADDR);
	pd[0] &= ~PTE_W;
	ok(pt_lookup(&env, root, 0x10000, &pa, &fl) && fl == PTE_P,
	   "W cleared at the PD level: read-only");
	pd[0] |= PTE_W | PTE_NX;
	ok(pt_lookup(&env, root, 0x10000, &pa, &fl) && fl == (PTE_P | PTE_W | PTE_NX),
	   "NX at the PD level: no execute");
	pd[0] &= ~PTE_NX;
	ok(pt_lookup(&env, root, 0x10000, &pa, &fl) && fl == (PTE_P | PTE_W), "restored");

	/* A 1 GiB page (as firmware-style tables may have) split twice. */
	root = reset(POOL_PAGES);
	uint64_t pdpt = pool_alloc(&pool);
	uint64_t *r = pool_ptr(&pool, root), *d = pool_ptr(&pool, pdpt);
	r[0] = pdpt | PTE_P | PTE_W;
	d[2] = (2 * GiB) | PTE_P | PTE_W | PTE_PS | PTE_NX;	/* 2..3 GiB */
	ok(maps(root, 2 * GiB + 0x12345678, 2 * GiB + 0x12345678, RWNX), "1 GiB page translates");
	is_int(pt_map(&env, root, 2 * GiB + 0x400000 + 0x3000, 2 * GiB + 0x400000 + 0x3000,
		      PAGE_4K, 0), 0, "map one page RX inside the 1 GiB page");
	is_int(pool.used, 4, "one PD and one PT");
	ok(maps(root, 2 * GiB + 0x403000, 2 * GiB + 0x403000, RX), "the page is RX");
	ok(maps(root, 2 * GiB + 0x402000, 2 * GiB + 0x402000, RWNX) &&
	   maps(root, 2 * GiB + 0x404000, 2 * GiB + 0x404000, RWNX), "its neighbours keep RW NX");
	ok(maps(root, 2 * GiB, 2 * GiB, RWNX) &&
	   maps(root, 3 * GiB - 1, 3 * GiB - 1, RWNX), "both ends of the old 1 GiB page");
	ok((raw(root, 2 * GiB + 0x600000, 1) & (PTE_P | PTE_PS | PTE_ADDR)) ==
	   (PTE_P | PTE_PS | (2 * GiB + 0x600000)), "the rest became 2 MiB pages");
}

static void
errors(void)
{
	uint64_t root = reset(POOL_PAGES);

	is_int(pt_map(&env, root, 0x1001, 0x1000, PAGE_4K, 0), -EINVAL, "misaligned va");
	is_int(pt_map(&env, root, 0x1000, 0x1800, PAGE_4K, 0), -EINVAL, "misaligned pa");
	is_int(pt_map(&env, root, 0x1000, 0x1000, 100, 0), -EINVAL, "misaligned length");
	is_int(pt_unmap(&env, root, 0x10, PAGE_4K), -EINVAL, "unmap misaligned va");
	is_int(pt_unmap(&env, root, 0x1000, 0x800), -EINVAL, "unmap misaligned length");
	is_int(pool.used, 1, "errors allocate nothing");
	is_int(pt_map(&env, root, 0x1000, 0x1000, 0, 0), 0, "mapping 0 bytes is fine");
	is_int(pool.used, 1, "and allocates nothing");

	/* Exhaustion: a 4 KiB page needs PDPT, PD and PT. */
	root = reset(3);
	is_int(pt_map(&env, root, 0x5000, 0x5000, PAGE_4K, PTE_W), -ENOMEM,
	       "4 KiB map with room for 2 tables: -ENOMEM");
	ok(unmapped(root, 0x5000), "nothing mapped");
	pool.limit = 4;
	is_int(pt_map(&env, root, 0x5000, 0x5000, PAGE_4K, PTE_W), 0,
	       "with a third table it works (the first two are reused)");
	is_int(pool.used, 4, "PML4 + PDPT + PD + PT");

	root = reset(3);
	is_int(pt_map(&env, root, 0, 0, 4 * PAGE_2M, PTE_W | PTE_NX), 0,
	       "2 MiB pages need only PDPT and PD");
	is_int(pt_map(&env, root, 0x3000, 0x3000, PAGE_4K, 0), -ENOMEM,
	       "splitting with no page left: -ENOMEM");
	ok(maps(root, 0x3000, 0x3000, RWNX) && (raw(root, 0, 1) & PTE_PS),
	   "the 2 MiB page is left whole and unchanged");
	is_int(pt_unmap(&env, root, 0x3000, PAGE_4K), -ENOMEM, "unmap needing a split: -ENOMEM");
	ok(maps(root, 0x3000, 0x3000, RWNX), "still mapped");
	is_int(pt_map(&env, root, 4 * GiB, 4 * GiB, PAGE_2M, 0), -ENOMEM,
	       "a 2 MiB page needing a new PD: -ENOMEM");

	/* Without NX (CPU lacks it) the bit never reaches an entry. */
	root = reset(POOL_PAGES);
	env.nx = 0;
	is_int(pt_map(&env, root, 0, 0, PAGE_2M, PTE_W | PTE_NX), 0, "nx=0: map 2 MiB RW NX");
	is_int(pt_map(&env, root, PAGE_2M, PAGE_2M, PAGE_4K, PTE_NX), 0, "nx=0: map 4 KiB R NX");
	ok(!(raw(root, 0, 1) & PTE_NX) && !(raw(root, PAGE_2M, 0) & PTE_NX),
	   "nx=0: no NX bit in the entries");
	ok(maps(root, 0x1000, 0x1000, PTE_P | PTE_W) && maps(root, PAGE_2M, PAGE_2M, PTE_P),
	   "nx=0: lookups report no NX");
	env.nx = PTE_NX;
}

int
main(void)
{
	pool.mem = aligned_alloc(PAGE_4K, POOL_PAGES * PAGE_4K);
	if (!pool.mem)
		return 99;
	identity_and_image();
	other_shapes();
	errors();
	free(pool.mem);
	return done_testing();
}
