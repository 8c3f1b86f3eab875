/*
 * The kernel's page tables (see vm.h).  Everything the boot identity map
 * covered stays identity mapped, but read/write and no-execute; the image
 * is then remapped section by section: text read+execute, rodata read-only,
 * data and bss read/write.  Page 0 and stack guard pages are left unmapped
 * so a NULL dereference or a stack overflow faults.
 */
#include "lib/mm/vm.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/paging.h"
#include "lib/mm/pmm.h"

#define MAX_GUARDS 512	/* named in fault reports; more are still unmapped */

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

static uint64_t root;
static uint64_t guards[MAX_GUARDS];
static unsigned nguards;
/*
 * The page allocator and the page tables are shared by every core: one
 * lock around each operation on them.  Per-core heaps keep it off the
 * malloc fast path.
 */
static struct spinlock vm_lock;

static uint64_t
table_page(void *ctx)
{
	uint64_t page = pmm_alloc_pages(&kernel_pmm, 1);

	if (page)
		memset((void *)page, 0, 4096);
	return page;
}

static void *
identity(void *ctx, uint64_t phys)
{
	return (void *)phys;
}

static struct pt_env env = { table_page, identity, NULL, 0 };

static void
map_or_panic(uint64_t start, uint64_t end, uint64_t flags, const char *what)
{
	if (pt_map(&env, root, start, start, end - start, flags))
		panic("out of memory mapping %s", what);
}

void
vm_init(void)
{
	uint64_t low = 4ULL << 30;

	env.nx = cpu_has_nx() ? PTE_NX : 0;
	root = table_page(NULL);
	if (!root)
		panic("out of memory for page tables");
	map_or_panic(0, low, PTE_W | PTE_NX, "low memory");
	if (vm_ram_top > low)
		map_or_panic(low, (vm_ram_top + 0xFFF) & ~0xFFFULL,
			     PTE_W | PTE_NX, "high memory");
	map_or_panic((uint64_t)__image_start, (uint64_t)__text_end, 0, "text");
	map_or_panic((uint64_t)__text_end, (uint64_t)__rodata_end, PTE_NX,
		     "rodata");
	map_or_panic((uint64_t)__rodata_end, (uint64_t)__image_end,
		     PTE_W | PTE_NX, "data");
	pt_unmap(&env, root, 0, PAGE_4K);

	uint64_t stack_guards[8];
	unsigned n;
	cpu_stack_guards(stack_guards, &n);
	for (unsigned i = 0; i < n; i++)
		vm_guard_page(stack_guards[i]);
	write_cr3(root);
}

/* Unmaps a guard page; past MAX_GUARDS it is still unmapped, only not
 * named in fault reports. */
static int
guard_page_locked(uint64_t addr)
{
	addr &= ~0xFFFULL;
	if (nguards < MAX_GUARDS)
		guards[nguards++] = addr;
	int err = pt_unmap(&env, root, addr, PAGE_4K);
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
	return err;
}

int
vm_guard_page(uint64_t addr)
{
	spin_lock(&vm_lock);
	int err = guard_page_locked(addr);
	spin_unlock(&vm_lock);
	return err;
}

bool
vm_is_guard_page(uint64_t addr)
{
	for (unsigned i = 0; i < nguards; i++)
		if (addr - guards[i] < PAGE_4K)
			return true;
	return false;
}

bool
vm_range_mapped(uint64_t addr, uint64_t len)
{
	uint64_t pa, flags;

	if (addr + len < addr)
		return false;
	if (!root)	/* before vm_init(): the entry code maps the low 4 GiB */
		return addr + len <= (4ULL << 30);
	for (uint64_t p = addr & ~0xFFFULL; p < addr + len; p += PAGE_4K)
		if (!pt_lookup(&env, root, p, &pa, &flags))
			return false;
	return true;
}

bool
vm_user_range_ok(const void *p, size_t len)
{
	uint64_t a = (uint64_t)p;

	return a >= PAGE_4K && a + len >= a && a + len <= vm_ram_top;
}

static void
flush_tlb(uint64_t addr, uint64_t len)
{
	if (len > 64 * PAGE_4K) {
		write_cr3(root);
		return;
	}
	for (uint64_t p = addr; p < addr + len; p += PAGE_4K)
		__asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}

int
vm_protect(uint64_t addr, uint64_t len, int prot)
{
	int err;

	spin_lock(&vm_lock);
	if (prot == PROT_NONE) {
		err = pt_unmap(&env, root, addr, len);
	} else {
		uint64_t flags = (prot & PROT_WRITE ? PTE_W : 0) |
				 (prot & PROT_EXEC ? 0 : PTE_NX);
		err = pt_map(&env, root, addr, addr, len, flags);
	}
	flush_tlb(addr, len);
	spin_unlock(&vm_lock);
	return err ? -ENOMEM : 0;
}

int
vm_map_uncached(uint64_t addr, uint64_t len)
{
	spin_lock(&vm_lock);
	int err = pt_map(&env, root, addr, addr, len,
			 PTE_W | PTE_NX | PTE_PCD | PTE_PWT);

	flush_tlb(addr, len);
	spin_unlock(&vm_lock);
	return err ? -ENOMEM : 0;
}

uint64_t
vm_root(void)
{
	return root;
}

uint64_t
vm_alloc_pages(uint64_t npages)
{
	spin_lock(&vm_lock);
	uint64_t addr = pmm_alloc_pages(&kernel_pmm, npages);
	spin_unlock(&vm_lock);

	if (addr)
		memset((void *)addr, 0, npages * PAGE_4K);
	return addr;
}

void
vm_free_pages(uint64_t addr, uint64_t npages)
{
	spin_lock(&vm_lock);
	pmm_free_pages(&kernel_pmm, addr, npages);
	spin_unlock(&vm_lock);
}

uint64_t
vm_alloc_stack(size_t size)
{
	uint64_t pages = (size + 0xFFF) / PAGE_4K + 1;
	uint64_t base = vm_alloc_pages(pages);

	if (!base)
		return 0;
	vm_guard_page(base);
	return base + pages * PAGE_4K;
}

void
vm_free_stack(uint64_t top, size_t size)
{
	uint64_t pages = (size + 0xFFF) / PAGE_4K + 1;
	uint64_t base = top - pages * PAGE_4K;

	spin_lock(&vm_lock);
	for (unsigned i = 0; i < nguards; i++) {
		if (guards[i] == base) {
			guards[i] = guards[--nguards];
			break;
		}
	}
	pt_map(&env, root, base, base, PAGE_4K, PTE_W | PTE_NX);
	pmm_free_pages(&kernel_pmm, base, pages);
	spin_unlock(&vm_lock);
}
