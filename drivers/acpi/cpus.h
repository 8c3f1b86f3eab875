/*
 * The CPUs the firmware describes: from the ACPI MADT when there is one
 * (pc, q35, microvm with ACPI), else from the Intel MP table (microvm with
 * acpi=off).  Pure parsers over a struct phys_window: every read is bounds
 * checked, so a malformed table is an error with a reason, never a wild read.
 * They only describe; arch/x86_64/smp.c acts on the result.
 */
#ifndef TORO_ACPI_CPUS_H
#define TORO_ACPI_CPUS_H

#include <stdint.h>

#include "lib/kernel/bootinfo.h"

#define FW_CPUS_MAX		64
#define FW_LAPIC_DEFAULT	0xFEE00000ULL

struct fw_cpus {
	unsigned n;			/* enabled CPUs listed, BSP included */
	uint32_t apic_id[FW_CPUS_MAX];
	uint64_t lapic_base;		/* local APIC MMIO address */
	unsigned dropped;		/* enabled CPUs beyond FW_CPUS_MAX */
	const char *source;		/* "MADT" or "MP table" */
};

/*
 * The RSDP: at hint when it is nonzero (the boot loader's copy), else found
 * by scanning the first KiB of the EBDA and 0xE0000-0xFFFFF on 16-byte
 * boundaries for a valid one.  Returns 0 or -ENOENT.
 */
int acpi_find_rsdp(const struct phys_window *w, uint64_t hint, uint64_t *rsdp);
/* CPUs from the MADT reached through the RSDP at rsdp (RSDT or XSDT). */
int acpi_madt_cpus(const struct phys_window *w, uint64_t rsdp,
		   struct fw_cpus *out, const char **why);
/*
 * CPUs from the MP table: finds the "_MP_" floating pointer (EBDA, last KiB
 * of base memory, 0xF0000-0xFFFFF) and walks the configuration table's
 * entries by its length field (QEMU leaves the entry count at 0).
 */
int mptable_cpus(const struct phys_window *w, struct fw_cpus *out,
		 const char **why);

#endif
