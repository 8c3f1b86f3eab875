/*
 * One description of what the boot loader handed us, whatever the protocol:
 * memory map, command line, modules (initrd) and the ACPI RSDP.  The entry
 * code records only "which protocol, which pointer"; bootinfo_parse() turns
 * that into a struct boot_info and nothing after it knows the protocol.
 */
#ifndef TORO_BOOTINFO_H
#define TORO_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/layout.h"
#include "lib/kernel/physwin.h"

#define BOOT_MAX_MEM		64
#define BOOT_MAX_MODULES	8
#define BOOT_CMDLINE_MAX	4096

enum boot_mem_type {
	BOOT_MEM_RAM = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI = 3,
	BOOT_MEM_NVS = 4,
	BOOT_MEM_BAD = 5,
};

struct boot_mem_region {
	uint64_t base, len;
	uint32_t type;
};

struct boot_module {
	uint64_t base, len;
	char name[64];
};

struct boot_info {
	int protocol;			/* BOOT_PROTO_* */
	char cmdline[BOOT_CMDLINE_MAX];
	/* Multiboot loaders put the image's path first on the command line. */
	bool cmdline_has_image_path;
	struct boot_mem_region mem[BOOT_MAX_MEM];
	unsigned nmem;
	struct boot_module mod[BOOT_MAX_MODULES];
	unsigned nmod;
	uint64_t rsdp;			/* physical address, 0 when unknown */
	char loader[48];
	/* Physical range of the loader's own data, to keep until parsed. */
	uint64_t data_base, data_len;
	/* Counters for what did not fit: reported, never silently dropped. */
	unsigned dropped_mem, dropped_mod;
	bool cmdline_truncated;
};

/*
 * Fills bi from the boot data at physical address data for the protocol.
 * Returns 0, or a negative errno with a reason in *why when the data is
 * missing or malformed (bad magic, pointers outside the window, no memory
 * map).
 */
int bootinfo_parse(struct boot_info *bi, int protocol, uint64_t data,
		   const struct phys_window *w, const char **why);

const char *bootinfo_protocol_name(int protocol);
uint64_t bootinfo_ram_total(const struct boot_info *bi);

#endif
