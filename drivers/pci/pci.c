/*
 * PCI configuration access and enumeration.  Configuration space is read
 * through the ECAM window the MCFG table gives (q35: needed for offsets
 * past 256, and faster), else through ports 0xCF8/0xCFC (pc).  The
 * firmware (SeaBIOS) has already assigned BARs and INTx lines; we only
 * read them, never reassign.  Enumeration starts at bus 0 and follows
 * PCI-to-PCI bridges; a machine without a host bridge at 00:00.0
 * (microvm) costs one read.  Not a driver model: callers get each
 * function and decide themselves.
 */
#include "drivers/pci/pci.h"

#include <errno.h>

#include "arch/x86_64/io.h"
#include "arch/x86_64/irq.h"
#include "drivers/acpi/cpus.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"

#define PCI_VENDOR	0x00
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_CLASS	0x08
#define PCI_HEADER	0x0E
#define PCI_BAR0	0x10
#define PCI_SUBSYS	0x2C
#define PCI_CAP_PTR	0x34
#define PCI_IRQ_LINE	0x3C

#define CMD_IO		(1u << 0)
#define CMD_MEM		(1u << 1)
#define CMD_MASTER	(1u << 2)
#define CMD_INTX_OFF	(1u << 10)
#define STATUS_CAPS	(1u << 4)

static struct fw_ecam ecam;		/* segment 0's window, if any */
static bool have_ecam;
static struct spinlock cf8_lock;

void
pci_init(uint64_t acpi_rsdp)
{
	const struct phys_window low4g = { 0, 4ULL << 30, (const uint8_t *)0 };
	struct fw_ecam e[4];
	unsigned n = 0;
	const char *why;

	if (!acpi_rsdp || acpi_mcfg(&low4g, acpi_rsdp, e, 4, &n, &why))
		return;
	for (unsigned i = 0; i < n; i++) {
		if (e[i].segment || e[i].bus_end < e[i].bus_start)
			continue;
		uint64_t base = e[i].base + ((uint64_t)e[i].bus_start << 20);
		uint64_t len = (uint64_t)(e[i].bus_end - e[i].bus_start + 1) << 20;
		if (base + len > (4ULL << 30) || vm_map_uncached(base, len)) {
			pr_warn("pci: ECAM at 0x%llx unusable; port I/O instead\n",
				(unsigned long long)e[i].base);
			continue;
		}
		ecam = e[i];
		have_ecam = true;
		pr_debug("pci: ECAM at 0x%llx, buses %u-%u\n",
			 (unsigned long long)ecam.base, ecam.bus_start, ecam.bus_end);
		return;
	}
}

static uint32_t
cf8_address(const struct pci_dev *d, unsigned off)
{
	return 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 |
	       (uint32_t)d->fn << 8 | (off & 0xFC);
}

uint32_t
pci_read32(const struct pci_dev *d, unsigned off)
{
	if (d->ecam)
		return *(volatile uint32_t *)(d->ecam + (off & 0xFFC));
	if (off > 0xFF)
		return 0xFFFFFFFFu;
	spin_lock(&cf8_lock);
	outl(0xCF8, cf8_address(d, off));
	uint32_t v = inl(0xCFC);
	spin_unlock(&cf8_lock);
	return v;
}

uint16_t
pci_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t
pci_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

void
pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	if (d->ecam) {
		*(volatile uint32_t *)(d->ecam + (off & 0xFFC)) = v;
		return;
	}
	if (off > 0xFF)
		return;
	spin_lock(&cf8_lock);
	outl(0xCF8, cf8_address(d, off));
	outl(0xCFC, v);
	spin_unlock(&cf8_lock);
}

void
pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	if (d->ecam) {
		*(volatile uint16_t *)(d->ecam + (off & 0xFFE)) = v;
		return;
	}
	if (off > 0xFF)
		return;
	spin_lock(&cf8_lock);
	outl(0xCF8, cf8_address(d, off));
	outw((uint16_t)(0xCFC + (off & 2)), v);
	spin_unlock(&cf8_lock);
}

static bool
probe_function(struct pci_dev *d, uint8_t bus, uint8_t dev, uint8_t fn)
{
	*d = (struct pci_dev){ .bus = bus, .dev = dev, .fn = fn };
	if (have_ecam)
		d->ecam = (volatile uint8_t *)(uintptr_t)(ecam.base +
			((uint64_t)bus << 20 | (uint64_t)dev << 15 | (uint64_t)fn << 12));
	uint32_t id = pci_read32(d, PCI_VENDOR);
	if ((id & 0xFFFF) == 0xFFFF || (id & 0xFFFF) == 0)
		return false;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cls = pci_read32(d, PCI_CLASS);
	d->revision = (uint8_t)cls;
	d->prog_if = (uint8_t)(cls >> 8);
	d->subclass = (uint8_t)(cls >> 16);
	d->class = (uint8_t)(cls >> 24);
	uint32_t sub = pci_read32(d, PCI_SUBSYS);
	d->subsys_vendor = (uint16_t)sub;
	d->subsys_id = (uint16_t)(sub >> 16);
	uint32_t irq = pci_read32(d, PCI_IRQ_LINE);
	d->irq_line = (uint8_t)irq;
	d->irq_pin = (uint8_t)(irq >> 8);
	return true;
}

static void scan_bus(unsigned bus, void (*fn)(struct pci_dev *, void *),
		     void *arg, unsigned depth);

/* A PCI-to-PCI bridge: scan the bus behind it. */
static void
scan_function(struct pci_dev *d, void (*fn)(struct pci_dev *, void *),
	      void *arg, unsigned depth)
{
	fn(d, arg);
	if (d->class == 0x06 && d->subclass == 0x04 && depth < 8) {
		unsigned secondary = pci_read8(d, 0x19);
		if (secondary > d->bus)
			scan_bus(secondary, fn, arg, depth + 1);
	}
}

static void
scan_bus(unsigned bus, void (*fn)(struct pci_dev *, void *), void *arg,
	 unsigned depth)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		struct pci_dev d;
		if (!probe_function(&d, (uint8_t)bus, (uint8_t)dev, 0))
			continue;
		bool multi = pci_read8(&d, PCI_HEADER) & 0x80;
		scan_function(&d, fn, arg, depth);
		for (unsigned f = 1; multi && f < 8; f++)
			if (probe_function(&d, (uint8_t)bus, (uint8_t)dev, (uint8_t)f))
				scan_function(&d, fn, arg, depth);
	}
}

bool
pci_present(void)
{
	struct pci_dev host;

	return probe_function(&host, 0, 0, 0);
}

void
pci_enumerate(void (*fn)(struct pci_dev *d, void *arg), void *arg)
{
	struct pci_dev host;

	/* No host bridge at 00:00.0 (microvm): no PCI at all. */
	if (!probe_function(&host, 0, 0, 0))
		return;
	scan_bus(have_ecam ? ecam.bus_start : 0, fn, arg, 0);
}

int
pci_bar(const struct pci_dev *d, unsigned i, struct pci_bar *out)
{
	if (i > 5 || (pci_read8(d, PCI_HEADER) & 0x7F) != 0)
		return -ENOENT;
	unsigned off = PCI_BAR0 + 4 * i;
	uint32_t lo = pci_read32(d, off);
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	/* Sizing writes all-ones: stop decoding meanwhile. */
	pci_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(CMD_IO | CMD_MEM)));
	pci_write32(d, off, 0xFFFFFFFFu);
	uint32_t mask = pci_read32(d, off);
	pci_write32(d, off, lo);
	uint64_t addr, size;
	if (lo & 1) {
		out->io = true;
		addr = lo & ~3u;
		size = (uint32_t)(~(mask & ~3u) + 1) & 0xFFFF;
	} else {
		out->io = false;
		addr = lo & ~0xFu;
		uint64_t m = mask & ~0xFu;
		if (((lo >> 1) & 3) == 2 && i < 5) {	/* 64-bit */
			uint32_t hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, 0xFFFFFFFFu);
			uint32_t mhi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, hi);
			addr |= (uint64_t)hi << 32;
			m |= (uint64_t)mhi << 32;
		} else {
			m |= 0xFFFFFFFF00000000ULL;
		}
		size = ~m + 1;
	}
	pci_write16(d, PCI_COMMAND, cmd);
	if (!addr || !size || (mask == 0 && !(lo & 1)))
		return -ENOENT;
	out->addr = addr;
	out->size = size;
	return 0;
}

volatile void *
pci_map_bar(const struct pci_dev *d, unsigned i, uint64_t *size)
{
	struct pci_bar b;

	if (pci_bar(d, i, &b) || b.io)
		return NULL;
	uint64_t base = b.addr & ~0xFFFULL;
	uint64_t len = (b.addr + b.size - base + 0xFFF) & ~0xFFFULL;
	if (base + len > (4ULL << 30) && b.addr + b.size > (4ULL << 30)) {
		/* vm_map_uncached() covers what lies below 4 GiB only. */
		pr_warn("pci %02x:%02x.%u: BAR%u at 0x%llx above 4 GiB\n", d->bus,
			d->dev, d->fn, i, (unsigned long long)b.addr);
		return NULL;
	}
	if (vm_map_uncached(base, len))
		return NULL;
	if (size)
		*size = b.size;
	return (volatile void *)(uintptr_t)b.addr;
}

void
pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND, (uint16_t)(cmd | CMD_IO | CMD_MEM | CMD_MASTER));
}

unsigned
pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned from)
{
	if (!(pci_read16(d, PCI_STATUS) & STATUS_CAPS))
		return 0;
	unsigned off = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	for (unsigned n = 0; off >= 0x40 && off < 0x100 && n < 48; n++) {
		off &= 0xFC;
		if (pci_read8(d, off) == id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

#define MSIX_CTRL	2
#define MSIX_TABLE	4
#define MSIX_ENABLE	(1u << 15)
#define MSIX_FMASK	(1u << 14)

int
pci_msix_enable(const struct pci_dev *d, struct pci_msix *m)
{
	unsigned cap = pci_find_cap(d, PCI_CAP_MSIX, 0);

	if (!cap)
		return -ENOENT;
	uint16_t ctrl = pci_read16(d, cap + MSIX_CTRL);
	uint32_t t = pci_read32(d, cap + MSIX_TABLE);
	struct pci_bar b;
	if (pci_bar(d, t & 7, &b) || b.io)
		return -ENOENT;
	m->d = d;
	m->cap = cap;
	m->size = (ctrl & 0x7FF) + 1u;
	uint64_t at = b.addr + (t & ~7u);
	uint64_t base = at & ~0xFFFULL;
	uint64_t len = (at + 16ULL * m->size - base + 0xFFF) & ~0xFFFULL;
	if (at + 16ULL * m->size > (4ULL << 30) || vm_map_uncached(base, len))
		return -ENOMEM;
	m->table = (volatile uint32_t *)(uintptr_t)at;
	/* Enable with the function masked, mask each entry, then unmask. */
	pci_write16(d, cap + MSIX_CTRL, (uint16_t)(ctrl | MSIX_ENABLE | MSIX_FMASK));
	for (unsigned i = 0; i < m->size; i++)
		m->table[i * 4 + 3] = 1;
	pci_write16(d, cap + MSIX_CTRL,
		    (uint16_t)((ctrl | MSIX_ENABLE) & ~MSIX_FMASK));
	/* INTx is not used once MSI-X is on; keep it quiet anyway. */
	pci_write16(d, PCI_COMMAND, (uint16_t)(pci_read16(d, PCI_COMMAND) | CMD_INTX_OFF));
	return 0;
}

int
pci_msix_route(struct pci_msix *m, unsigned i, unsigned vector, unsigned cpu)
{
	uint64_t addr;
	uint32_t data;

	if (i >= m->size)
		return -EINVAL;
	irq_msi_message(cpu, vector, &addr, &data);
	volatile uint32_t *e = m->table + i * 4;
	e[3] = 1;
	e[0] = (uint32_t)addr;
	e[1] = (uint32_t)(addr >> 32);
	e[2] = data;
	e[3] = 0;
	return 0;
}

void
pci_msix_disable(struct pci_msix *m)
{
	uint16_t ctrl = pci_read16(m->d, m->cap + MSIX_CTRL);

	pci_write16(m->d, m->cap + MSIX_CTRL, (uint16_t)(ctrl & ~MSIX_ENABLE));
}
