/*
 * Bitmap page allocator (see pmm.h).  First fit from a moving hint, which
 * keeps the common case of repeated small allocations short.  Pure logic,
 * unit-tested on the host; memory.c feeds it the boot memory map.
 */
#include "lib/mm/pmm.h"

#define PAGE 4096ULL

struct pmm kernel_pmm;

static bool
test(const struct pmm *p, uint64_t i)
{
	return p->bitmap[i / 64] >> (i % 64) & 1;
}

static void
set(struct pmm *p, uint64_t i)
{
	if (!test(p, i)) {
		p->bitmap[i / 64] |= 1ULL << (i % 64);
		p->free_pages--;
	}
}

static void
clear(struct pmm *p, uint64_t i)
{
	if (test(p, i)) {
		p->bitmap[i / 64] &= ~(1ULL << (i % 64));
		p->free_pages++;
	}
}

uint64_t
pmm_bitmap_bytes(uint64_t npages)
{
	return (npages + 63) / 64 * 8;
}

void
pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages)
{
	p->bitmap = bitmap;
	p->npages = npages;
	p->free_pages = 0;
	p->hint = 1;
	for (uint64_t i = 0; i < (npages + 63) / 64; i++)
		bitmap[i] = ~0ULL;
}

/*
 * Marks pages [first, end) used (on) or free, a word at a time where it
 * can: the boot memory map covers every page once, and -m 4G is a million.
 */
static void
mark_range(struct pmm *p, uint64_t first, uint64_t end, bool on)
{
	uint64_t i = first;

	while (i < end) {
		uint64_t bit = i % 64, n = 64 - bit;
		if (n > end - i)
			n = end - i;
		uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << bit;
		uint64_t *w = &p->bitmap[i / 64];
		uint64_t changed = on ? ~*w & mask : *w & mask;
		uint64_t count = (uint64_t)__builtin_popcountll(changed);
		if (on) {
			*w |= mask;
			p->free_pages -= count;
		} else {
			*w &= ~mask;
			p->free_pages += count;
		}
		i += n;
	}
}

void
pmm_free_range(struct pmm *p, uint64_t base, uint64_t len)
{
	uint64_t first = base / PAGE + (base % PAGE != 0);
	uint64_t end = (base + len) / PAGE;

	if (base + len < base)
		end = ~0ULL / PAGE;
	if (end > p->npages)
		end = p->npages;
	if (first == 0)
		first = 1;	/* page 0 stays */
	mark_range(p, first, end, false);
}

void
pmm_reserve_range(struct pmm *p, uint64_t base, uint64_t len)
{
	uint64_t first = base / PAGE;
	uint64_t last = base + len < base ? ~0ULL : base + len;
	uint64_t end = last / PAGE + (last % PAGE != 0);

	if (end > p->npages)
		end = p->npages;
	mark_range(p, first, end, true);
}

static uint64_t
search(struct pmm *p, uint64_t from, uint64_t to, uint64_t n)
{
	uint64_t run = 0;

	for (uint64_t i = from; i < to; i++) {
		if (run == 0 && i % 64 == 0 && p->bitmap[i / 64] == ~0ULL) {
			i += 63;
			continue;
		}
		if (test(p, i)) {
			run = 0;
			continue;
		}
		if (++run == n)
			return i + 1 - n;
	}
	return 0;
}

uint64_t
pmm_alloc_pages(struct pmm *p, uint64_t n)
{
	if (n == 0 || n > p->free_pages)
		return 0;
	uint64_t first = search(p, p->hint, p->npages, n);
	if (!first)
		first = search(p, 1, p->hint + n < p->npages ? p->hint + n : p->npages, n);
	if (!first)
		return 0;
	for (uint64_t i = first; i < first + n; i++)
		set(p, i);
	p->hint = first + n;
	return first * PAGE;
}

void
pmm_free_pages(struct pmm *p, uint64_t addr, uint64_t n)
{
	uint64_t first = addr / PAGE;

	for (uint64_t i = first; i < first + n && i < p->npages; i++)
		if (i)
			clear(p, i);
	if (first && first < p->hint)
		p->hint = first;
}

bool
pmm_page_in_use(const struct pmm *p, uint64_t addr)
{
	uint64_t i = addr / PAGE;

	return i >= p->npages || test(p, i);
}
