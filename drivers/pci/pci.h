/*
 * PCI: configuration space (port I/O 0xCF8/0xCFC, or ECAM windows from the
 * MCFG table on q35), enumeration, BARs, the capability list and MSI-X.
 * Drivers get a struct pci_dev per function found and use these helpers;
 * they never touch 0xCF8 or the ECAM themselves.
 */
#ifndef TORO_PCI_H
#define TORO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CAP_MSIX		0x11
#define PCI_CAP_VENDOR		0x09

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device, subsys_vendor, subsys_id;
	uint8_t class, subclass, prog_if, revision;
	uint8_t irq_line, irq_pin;	/* firmware's INTx assignment */
	volatile uint8_t *ecam;		/* this function's 4 KiB, or NULL */
};

struct pci_bar {
	uint64_t addr, size;
	bool io;			/* I/O ports (addr is the port) */
};

/* Finds the configuration mechanism (MCFG if the RSDP has one). */
void pci_init(uint64_t acpi_rsdp);
/* Whether there is a host bridge at 00:00.0 (false on microvm). */
bool pci_present(void);
/* Calls fn for every function present, in bus/device/function order. */
void pci_enumerate(void (*fn)(struct pci_dev *d, void *arg), void *arg);

uint32_t pci_read32(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);

/* BAR i (0-5): its address and size; -ENOENT when unused or unassigned. */
int pci_bar(const struct pci_dev *d, unsigned i, struct pci_bar *out);
/* A memory BAR mapped uncached, or NULL. */
volatile void *pci_map_bar(const struct pci_dev *d, unsigned i, uint64_t *size);
/* Turns on I/O and memory decoding and bus mastering (DMA). */
void pci_enable(const struct pci_dev *d);
/* The offset of the first capability with id after offset from (0: first), or 0. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from);

/* MSI-X: the table, mapped; entries start masked. */
struct pci_msix {
	const struct pci_dev *d;
	unsigned cap;
	unsigned size;			/* table entries */
	volatile uint32_t *table;
};
/* Maps the table, masks every entry and enables MSI-X; -ENOENT without. */
int pci_msix_enable(const struct pci_dev *d, struct pci_msix *m);
/* Entry i delivers vector to core cpu, unmasked. */
int pci_msix_route(struct pci_msix *m, unsigned i, unsigned vector, unsigned cpu);
void pci_msix_disable(struct pci_msix *m);

#endif
