/*
 * The image's own symbol table, for symbolised backtraces.  The link
 * wrapper (boot/toro-ld) generates it from the linked image and links it
 * into the .toro.ksyms section; an image linked without the wrapper has an
 * empty table and backtraces show bare addresses.
 *
 * Layout: u64 count, u64 base, then count entries sorted by address (each
 * address an offset from base, to keep entries at 12 bytes), then the
 * NUL-terminated names.
 */
#ifndef TORO_KSYMS_H
#define TORO_KSYMS_H

#include <stddef.h>
#include <stdint.h>

#define KSYM_HEADER 16	/* count and base */

struct ksym_entry {
	uint32_t addr;		/* offset from the table's base */
	uint32_t name;		/* offset into the names after the entries */
	uint32_t size;		/* 0 when unknown */
};

/*
 * Name of the symbol containing addr in the table [table, table+len), with
 * the offset into it; NULL when no symbol covers addr or the table is
 * malformed.
 */
const char *ksym_lookup(const void *table, size_t len, uint64_t addr,
			uint64_t *offset);

/* The same over the running image's table. */
const char *ksym_lookup_self(uint64_t addr, uint64_t *offset);

#endif
