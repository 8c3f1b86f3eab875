/*
 * Physical page allocator: one bit per 4 KiB page over the RAM the boot
 * loader reported.  Contiguous runs, because the kernel and the application
 * share one identity-mapped address space and mmap() hands out physical
 * pages directly.
 */
#ifndef TORO_PMM_H
#define TORO_PMM_H

#include <stdbool.h>
#include <stdint.h>

struct pmm {
	uint64_t *bitmap;	/* bit set = page in use or not RAM */
	uint64_t npages;	/* pages covered, from physical 0 */
	uint64_t free_pages;
	uint64_t hint;		/* where the next search starts */
};

/* Bytes of bitmap needed to cover npages. */
uint64_t pmm_bitmap_bytes(uint64_t npages);
/* Starts with every page in use; then free the RAM ranges. */
void pmm_init(struct pmm *p, uint64_t *bitmap, uint64_t npages);
/* Range helpers round inward for free, outward for reserve. */
void pmm_free_range(struct pmm *p, uint64_t base, uint64_t len);
void pmm_reserve_range(struct pmm *p, uint64_t base, uint64_t len);
/* Returns the physical address of n contiguous free pages, or 0. */
uint64_t pmm_alloc_pages(struct pmm *p, uint64_t n);
void pmm_free_pages(struct pmm *p, uint64_t addr, uint64_t n);
bool pmm_page_in_use(const struct pmm *p, uint64_t addr);

/* The kernel's allocator, set up by memory_init(). */
extern struct pmm kernel_pmm;

#endif
