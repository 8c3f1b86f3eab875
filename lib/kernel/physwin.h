/*
 * Reading structures that firmware and boot loaders leave in physical
 * memory (boot information, ACPI tables, the MP table) through a window
 * whose every access is bounds-checked: a corrupt pointer or length gives
 * NULL, never a wild read.  Shared by bootinfo.c and drivers/acpi/.
 */
#ifndef TORO_PHYSWIN_H
#define TORO_PHYSWIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * [base, base + len) of physical memory appears at host address mem.  The
 * kernel passes an identity window over the first 4 GiB; the unit tests
 * pass a buffer holding a recorded structure.
 */
struct phys_window {
	uint64_t base;
	uint64_t len;
	const uint8_t *mem;
};

/* The len bytes at physical addr, or NULL when they leave the window. */
static inline const uint8_t *
phys_ptr(const struct phys_window *w, uint64_t addr, uint64_t len)
{
	if (addr < w->base || len > w->len || addr - w->base > w->len - len)
		return NULL;
	return w->mem + (addr - w->base);
}

/* Little-endian fields at any alignment. */
static inline uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t
get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* The 8-bit sum ACPI and MP-table checksums make zero. */
static inline uint8_t
checksum8(const uint8_t *p, uint64_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

#endif
