/*
 * The one address space the kernel and the application share: identity
 * mapped, with the image mapped W^X at 4 KiB granularity, page 0 unmapped
 * and an unmapped guard page below every stack.
 */
#ifndef TORO_VM_H
#define TORO_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* Physical memory from the boot memory map (sets up kernel_pmm). */
void memory_init(const struct boot_info *bi);
/* Builds the final page tables and switches to them. */
void vm_init(void);

/* Unmaps the page at addr and remembers it as a stack guard. */
int vm_guard_page(uint64_t addr);
bool vm_is_guard_page(uint64_t addr);
bool vm_range_mapped(uint64_t addr, uint64_t len);
/* A range the application may pass to a system call. */
bool vm_user_range_ok(const void *p, size_t len);

/* A zeroed stack of size bytes above a guard page; returns its top or 0. */
uint64_t vm_alloc_stack(size_t size);

/* Anonymous memory for mmap(): zeroed pages, or 0. */
uint64_t vm_alloc_pages(uint64_t npages);
void vm_free_pages(uint64_t addr, uint64_t npages);

/*
 * Changes the protection of [addr, addr+len) (page aligned) to the PROT_*
 * bits: PROT_NONE unmaps, otherwise readable, writable with PROT_WRITE and
 * executable only with PROT_EXEC.  Returns 0 or -ENOMEM.
 */
int vm_protect(uint64_t addr, uint64_t len, int prot);

/* The highest RAM address + 1. */
extern uint64_t vm_ram_top;

#endif
