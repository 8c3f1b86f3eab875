/*
 * Memory calls.  Kernel and application share one identity-mapped address
 * space, so anonymous mmap() hands out zeroed physical pages directly and
 * munmap() returns them.  A bitmap remembers which pages mmap() handed out:
 * munmap() never frees memory it did not allocate.  brk() cannot grow (the
 * pages after the image are not reserved for it); musl's malloc then uses
 * mmap(), as it does on Linux when brk fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/pmm.h"
#include "lib/mm/vm.h"
#include "lib/sys/syscall.h"

#define PAGE 4096UL

extern char __image_end[];

static uint64_t *owned;		/* bit set = page handed out by mmap() */
static struct spinlock owned_lock;	/* threads on every core map memory */

static bool
owned_test(uint64_t page)
{
	return owned && page < kernel_pmm.npages &&
	       (owned[page / 64] >> (page % 64) & 1);
}

static void
owned_set(uint64_t first, uint64_t n, bool on)
{
	for (uint64_t p = first; p < first + n; p++) {
		if (on)
			owned[p / 64] |= 1ULL << (p % 64);
		else
			owned[p / 64] &= ~(1ULL << (p % 64));
	}
}

static bool
owned_init(void)
{
	if (!owned) {
		uint64_t bytes = pmm_bitmap_bytes(kernel_pmm.npages);
		owned = (uint64_t *)vm_alloc_pages((bytes + PAGE - 1) / PAGE);
	}
	return owned != NULL;
}

/* Frees the pages of [addr, addr+len) that mmap() handed out. */
static void
release(uint64_t addr, uint64_t len)
{
	for (uint64_t p = addr / PAGE; p < (addr + len) / PAGE; p++) {
		if (owned_test(p)) {
			owned_set(p, 1, false);
			vm_protect(p * PAGE, PAGE, PROT_READ | PROT_WRITE);
			vm_free_pages(p * PAGE, 1);
		}
	}
}

long
sys_brk(long addr, long a1, long a2, long a3, long a4, long a5)
{
	return (long)__image_end;
}

static long
mmap_locked(long addr, long len, long prot, long flags, long fd, long off)
{
	if (len <= 0)
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return -ENODEV;		/* file mappings need a file system */
	if (flags & MAP_FIXED)
		return -ENOMEM;		/* one identity map: no placement */
	uint64_t pages = ((uint64_t)len + PAGE - 1) / PAGE;
	if (!owned_init())
		return -ENOMEM;
	uint64_t at = vm_alloc_pages(pages);
	if (!at)
		return -ENOMEM;
	owned_set(at / PAGE, pages, true);
	if (prot != (PROT_READ | PROT_WRITE) &&
	    vm_protect(at, pages * PAGE, (int)prot)) {
		release(at, pages * PAGE);
		return -ENOMEM;
	}
	return (long)at;
}

static long
munmap_locked(long addr, long len, long a2, long a3, long a4, long a5)
{
	if ((addr & (PAGE - 1)) || len <= 0)
		return -EINVAL;
	release((uint64_t)addr, ((uint64_t)len + PAGE - 1) & ~(PAGE - 1));
	return 0;
}

static long
mremap_locked(long old, long old_len, long new_len, long flags, long a4, long a5)
{
	uint64_t o = ((uint64_t)old_len + PAGE - 1) & ~(PAGE - 1);
	uint64_t n = ((uint64_t)new_len + PAGE - 1) & ~(PAGE - 1);

	if ((old & (PAGE - 1)) || new_len <= 0 || (flags & ~MREMAP_MAYMOVE))
		return -EINVAL;
	for (uint64_t p = (uint64_t)old; p < (uint64_t)old + o; p += PAGE)
		if (!owned_test(p / PAGE))
			return -EFAULT;
	if (n <= o) {
		release((uint64_t)old + n, o - n);
		return old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	long moved = mmap_locked(0, (long)n, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (moved < 0)
		return moved;
	memcpy((void *)moved, (const void *)old, o);
	release((uint64_t)old, o);
	return moved;
}

static long
mprotect_locked(long addr, long len, long prot, long a3, long a4, long a5)
{
	uint64_t n = ((uint64_t)len + PAGE - 1) & ~(PAGE - 1);

	if ((addr & (PAGE - 1)) || len < 0 ||
	    (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)))
		return -EINVAL;
	for (uint64_t p = (uint64_t)addr; p < (uint64_t)addr + n; p += PAGE)
		if (!owned_test(p / PAGE))
			return -ENOMEM;	/* not memory mmap() handed out */
	return vm_protect((uint64_t)addr, n, (int)prot);
}

long
sys_madvise(long addr, long len, long advice, long a3, long a4, long a5)
{
	return 0;	/* advice only; pages stay as they are */
}

/* One lock over the page-ownership bitmap: threads on every core map. */
long
sys_mmap(long addr, long len, long prot, long flags, long fd, long off)
{
	spin_lock(&owned_lock);
	long r = mmap_locked(addr, len, prot, flags, fd, off);
	spin_unlock(&owned_lock);
	return r;
}

long
sys_munmap(long addr, long len, long a2, long a3, long a4, long a5)
{
	spin_lock(&owned_lock);
	long r = munmap_locked(addr, len, a2, a3, a4, a5);
	spin_unlock(&owned_lock);
	return r;
}

long
sys_mremap(long old, long old_len, long new_len, long flags, long a4, long a5)
{
	spin_lock(&owned_lock);
	long r = mremap_locked(old, old_len, new_len, flags, a4, a5);
	spin_unlock(&owned_lock);
	return r;
}

long
sys_mprotect(long addr, long len, long prot, long a3, long a4, long a5)
{
	spin_lock(&owned_lock);
	long r = mprotect_locked(addr, len, prot, a3, a4, a5);
	spin_unlock(&owned_lock);
	return r;
}
