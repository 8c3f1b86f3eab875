/*
 * x86_64 four-level page tables: build, change and inspect them.  The
 * environment supplies page allocation and physical-to-pointer translation
 * so the same code runs in the kernel and in the host unit tests.
 */
#ifndef TORO_PAGING_H
#define TORO_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR	0x000FFFFFFFFFF000ULL

#define PAGE_4K		0x1000ULL
#define PAGE_2M		0x200000ULL

struct pt_env {
	uint64_t (*alloc_page)(void *ctx);	/* zeroed page, 0 on failure */
	void *(*ptr)(void *ctx, uint64_t phys);
	void *ctx;
	uint64_t nx;				/* PTE_NX, or 0 without NX */
};

/*
 * Maps [va, va+len) to [pa, pa+len) with flags (PTE_W, PTE_NX, PTE_PCD...;
 * PTE_P is implied).  Uses 2 MiB pages where alignment allows and splits
 * existing large pages where it does not.  Returns 0 or -ENOMEM/-EINVAL.
 */
int pt_map(const struct pt_env *env, uint64_t root, uint64_t va, uint64_t pa,
	   uint64_t len, uint64_t flags);
/* Removes the mappings of [va, va+len) (4 KiB aligned). */
int pt_unmap(const struct pt_env *env, uint64_t root, uint64_t va, uint64_t len);
/*
 * Translates va.  Returns true when mapped, with the physical address and
 * the effective flags (W only if writable at every level, NX if any level
 * forbids execution).
 */
bool pt_lookup(const struct pt_env *env, uint64_t root, uint64_t va,
	       uint64_t *pa, uint64_t *flags);

#endif
