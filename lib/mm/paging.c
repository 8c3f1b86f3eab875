/*
 * Page-table construction (see paging.h).  Pure logic over an environment
 * that provides pages; unit-tested on the host.  Flushing the TLB is the
 * caller's business.
 */
#include "lib/mm/paging.h"

#include <errno.h>
#include <stddef.h>

static uint64_t *
table(const struct pt_env *env, uint64_t entry)
{
	return env->ptr(env->ctx, entry & PTE_ADDR);
}

static unsigned
index_at(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

/* The entry for va at level (0 = 4 KiB PTE, 1 = PD), creating tables. */
static uint64_t *
walk(const struct pt_env *env, uint64_t root, uint64_t va, int level,
     bool create)
{
	uint64_t *t = env->ptr(env->ctx, root);

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[index_at(va, l)];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			uint64_t page = env->alloc_page(env->ctx);
			if (!page)
				return NULL;
			*e = page | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			if (!create)
				return e;
			/* Split a large page into the next level's pages. */
			uint64_t page = env->alloc_page(env->ctx);
			if (!page)
				return NULL;
			uint64_t *nt = env->ptr(env->ctx, page);
			uint64_t step = 1ULL << (12 + 9 * (l - 1));
			uint64_t base = *e & PTE_ADDR & ~(step * 512 - 1);
			uint64_t flags = *e & ~PTE_ADDR & ~PTE_PS;
			for (int i = 0; i < 512; i++)
				nt[i] = (base + i * step) | flags |
					(l == 2 ? PTE_PS : 0);
			*e = page | PTE_P | PTE_W;
		}
		t = table(env, *e);
	}
	return &t[index_at(va, level)];
}

int
pt_map(const struct pt_env *env, uint64_t root, uint64_t va, uint64_t pa,
       uint64_t len, uint64_t flags)
{
	if ((va | pa | len) & (PAGE_4K - 1))
		return -EINVAL;
	flags = (flags & ~PTE_ADDR & ~PTE_PS) | PTE_P;
	if (!env->nx)
		flags &= ~PTE_NX;
	while (len) {
		bool big = !((va | pa) & (PAGE_2M - 1)) && len >= PAGE_2M;
		uint64_t *e = walk(env, root, va, big ? 1 : 0, true);
		if (!e)
			return -ENOMEM;
		if (big && (*e & PTE_P) && !(*e & PTE_PS)) {
			/* A table already covers this range: fill it instead. */
			big = false;
			e = walk(env, root, va, 0, true);
			if (!e)
				return -ENOMEM;
		}
		*e = pa | flags | (big ? PTE_PS : 0);
		uint64_t step = big ? PAGE_2M : PAGE_4K;
		va += step;
		pa += step;
		len -= step;
	}
	return 0;
}

int
pt_unmap(const struct pt_env *env, uint64_t root, uint64_t va, uint64_t len)
{
	if ((va | len) & (PAGE_4K - 1))
		return -EINVAL;
	for (; len; va += PAGE_4K, len -= PAGE_4K) {
		uint64_t pa, flags;
		if (!pt_lookup(env, root, va, &pa, &flags))
			continue;
		uint64_t *e = walk(env, root, va, 0, true);
		if (!e)
			return -ENOMEM;
		*e = 0;
	}
	return 0;
}

bool
pt_lookup(const struct pt_env *env, uint64_t root, uint64_t va, uint64_t *pa,
	  uint64_t *flags)
{
	uint64_t *t = env->ptr(env->ctx, root);
	uint64_t eff = PTE_W;

	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[index_at(va, l)];
		if (!(e & PTE_P))
			return false;
		if (!(e & PTE_W))
			eff &= ~PTE_W;
		eff |= e & PTE_NX;
		if (l == 0 || (e & PTE_PS)) {
			uint64_t size = 1ULL << (12 + 9 * l);
			*pa = (e & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
			*flags = eff | PTE_P;
			return true;
		}
		t = table(env, e);
	}
	return false;
}
