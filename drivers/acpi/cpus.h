/*
 * The CPUs the firmware describes: from the ACPI MADT when there is one
 * (pc, q35, microvm with ACPI), else from the Intel MP table (microvm with
 * acpi=off).  Pure parsers over a struct phys_window: every read is bounds
 * checked, so a malformed table is an error with a reason, never a wild read.
 * They only describe; arch/x86_64/smp.c acts on the CPUs, ioapic.c on
 * the interrupt routing and drivers/pci on the ECAM windows.
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

/*
 * The checksummed table with signature sig ("APIC", "MCFG", ...) listed in
 * the RSDT/XSDT the RSDP at rsdp points to: 0, -ENOENT when none is listed,
 * -EINVAL when the RSDP, root table or the table itself is bad.
 */
int acpi_find_table(const struct phys_window *w, uint64_t rsdp, const char *sig,
		    const uint8_t **table, uint32_t *len, const char **why);

/* Interrupt routing from the MADT: I/O APICs and ISA IRQ overrides. */
#define FW_IOAPIC_MAX		8
#define FW_IRQ_OVERRIDE_MAX	16
struct fw_ioapic {
	uint8_t id;
	uint32_t addr, gsi_base;
};
struct fw_irq_override {
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI: polarity 1:0, trigger 3:2 */
};
struct fw_irqs {
	unsigned nioapic, nover;
	struct fw_ioapic ioapic[FW_IOAPIC_MAX];
	struct fw_irq_override over[FW_IRQ_OVERRIDE_MAX];
};
int acpi_madt_irqs(const struct phys_window *w, uint64_t rsdp,
		   struct fw_irqs *out, const char **why);

/* PCI Express ECAM windows from the MCFG table (q35). */
struct fw_ecam {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};
int acpi_mcfg(const struct phys_window *w, uint64_t rsdp, struct fw_ecam *out,
	      unsigned max, unsigned *n, const char **why);

#endif
