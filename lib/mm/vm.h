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
/* Gives back a stack from vm_alloc_stack(size), guard page included. */
void vm_free_stack(uint64_t top, size_t size);

/* Anonymous memory for mmap(): zeroed pages, or 0. */
uint64_t vm_alloc_pages(uint64_t npages);
void vm_free_pages(uint64_t addr, uint64_t npages);

/*
 * Changes the protection of [addr, addr+len) (page aligned) to the PROT_*
 * bits: PROT_NONE unmaps, otherwise readable, writable with PROT_WRITE and
 * executable only with PROT_EXEC.  Returns 0 or -ENOMEM.
 */
int vm_protect(uint64_t addr, uint64_t len, int prot);

/* Maps [addr, addr+len) (page aligned) read/write, no-execute, uncached:
 * device registers such as the local APIC's. */
int vm_map_uncached(uint64_t addr, uint64_t len);
/* The physical address of the kernel's top-level page table (for CR3). */
uint64_t vm_root(void);

/* A free page of RAM below 1 MiB, reserved for good (the AP start-up
 * trampoline), or 0 when there is none. */
uint64_t memory_alloc_low_page(void);

/* The highest RAM address + 1. */
extern uint64_t vm_ram_top;

#endif
