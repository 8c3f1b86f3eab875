/*
 * Physical memory set-up from the boot memory map: the page bitmap is placed
 * in the first RAM that holds nothing of ours, every RAM range is freed, and
 * what is in use (page 0, the image, the boot data, modules, the bitmap) is
 * reserved.  No fixed heap base: the image runs in as little RAM as the
 * memory map offers.
 */
#include <string.h>

#include <toro/status.h>

#include "lib/kernel/bootinfo.h"
#include "lib/kernel/panic.h"
#include "lib/kernel/printk.h"
#include "lib/mm/pmm.h"
#include "lib/mm/vm.h"

extern char __image_start[], __image_end[];

uint64_t vm_ram_top;

struct range {
	uint64_t base, end;
};

/* Ranges that must not be handed out before they are reserved. */
static unsigned
busy_ranges(const struct boot_info *bi, struct range *r)
{
	unsigned n = 0;

	r[n++] = (struct range){ 0, 0x1000 };
	r[n++] = (struct range){ (uint64_t)__image_start, (uint64_t)__image_end };
	if (bi->data_len)
		r[n++] = (struct range){ bi->data_base, bi->data_base + bi->data_len };
	for (unsigned i = 0; i < bi->nmod; i++)
		r[n++] = (struct range){ bi->mod[i].base,
					 bi->mod[i].base + bi->mod[i].len };
	return n;
}

/* Lowest page-aligned spot of len bytes in RAM clear of every busy range. */
static uint64_t
place(const struct boot_info *bi, uint64_t len)
{
	struct range busy[4 + BOOT_MAX_MODULES];
	unsigned nbusy = busy_ranges(bi, busy);

	for (unsigned i = 0; i < bi->nmem; i++) {
		const struct boot_mem_region *m = &bi->mem[i];
		if (m->type != BOOT_MEM_RAM)
			continue;
		uint64_t at = (m->base + 0xFFF) & ~0xFFFULL;
		for (bool moved = true; moved;) {
			moved = false;
			for (unsigned b = 0; b < nbusy; b++) {
				if (at < busy[b].end && at + len > busy[b].base) {
					at = (busy[b].end + 0xFFF) & ~0xFFFULL;
					moved = true;
				}
			}
		}
		if (at + len <= m->base + m->len && at + len <= (4ULL << 30))
			return at;
	}
	return 0;
}

/* Whether RAM ranges of the memory map cover [base, end) without a gap. */
static bool
ram_covers(const struct boot_info *bi, uint64_t base, uint64_t end)
{
	for (bool moved = true; moved && base < end;) {
		moved = false;
		for (unsigned i = 0; i < bi->nmem; i++) {
			const struct boot_mem_region *m = &bi->mem[i];
			if (m->type == BOOT_MEM_RAM && m->base <= base &&
			    base < m->base + m->len) {
				base = m->base + m->len;
				moved = true;
			}
		}
	}
	return base >= end;
}

void
memory_init(const struct boot_info *bi)
{
	/*
	 * A loader puts the image's file contents in memory but nothing
	 * checks that its .bss (kernel tables, stacks, libc state) is RAM:
	 * with too little memory it is not, and everything after is chaos.
	 */
	if (!ram_covers(bi, (uint64_t)__image_start, (uint64_t)__image_end)) {
		kprintf("toro: the image (0x%llx-0x%llx) does not fit in RAM; "
			"boot with more memory\n",
			(unsigned long long)(uint64_t)__image_start,
			(unsigned long long)(uint64_t)__image_end);
		kernel_exit(TORO_EXIT_PANIC);
	}
	for (unsigned i = 0; i < bi->nmem; i++) {
		const struct boot_mem_region *m = &bi->mem[i];
		if (m->type == BOOT_MEM_RAM && m->base + m->len > vm_ram_top)
			vm_ram_top = m->base + m->len;
	}
	uint64_t npages = vm_ram_top / 4096;
	uint64_t bytes = (pmm_bitmap_bytes(npages) + 0xFFF) & ~0xFFFULL;
	uint64_t at = place(bi, bytes);
	if (!at)
		panic("no room for the %llu-byte page bitmap in the memory map",
		      (unsigned long long)bytes);

	struct pmm *p = &kernel_pmm;
	pmm_init(p, (uint64_t *)at, npages);
	for (unsigned i = 0; i < bi->nmem; i++)
		if (bi->mem[i].type == BOOT_MEM_RAM)
			pmm_free_range(p, bi->mem[i].base, bi->mem[i].len);
	struct range busy[4 + BOOT_MAX_MODULES];
	unsigned nbusy = busy_ranges(bi, busy);
	for (unsigned b = 0; b < nbusy; b++)
		pmm_reserve_range(p, busy[b].base, busy[b].end - busy[b].base);
	pmm_reserve_range(p, at, bytes);
	pr_debug("memory: %llu KiB RAM, %llu KiB free, top 0x%llx\n",
		 (unsigned long long)(bootinfo_ram_total(bi) >> 10),
		 (unsigned long long)(p->free_pages * 4),
		 (unsigned long long)vm_ram_top);
}

uint64_t
memory_alloc_low_page(void)
{
	/* Real mode reaches only the first MiB; stay below the EBDA too. */
	for (uint64_t a = 0x1000; a < 0x9F000; a += 0x1000)
		if (a < kernel_pmm.npages * 4096 && !pmm_page_in_use(&kernel_pmm, a)) {
			pmm_reserve_range(&kernel_pmm, a, 0x1000);
			return a;
		}
	return 0;
}
