/*
 * I/O APICs: where line interrupts (ISA IRQs, PCI INTx, virtio-mmio) become
 * vectors on a chosen core.  The MADT lists them and the ISA overrides;
 * microvm without ACPI has one at the architectural default address
 * 0xFEC00000 with GSIs from 0 and no overrides, which is what we assume
 * when there is no MADT.  Every pin starts masked; ioapic_route() unmasks
 * the ones drivers ask for.  MSI/MSI-X bypass this file (irq.c).
 */
#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "drivers/acpi/cpus.h"
#include "lib/kernel/bootinfo.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"

#define IOAPIC_DEFAULT	0xFEC00000u
#define IOREGSEL	0x00
#define IOWIN		0x10
#define IOAPICVER	0x01
#define IOREDTBL(n)	(0x10 + 2 * (n))

#define RTE_MASKED	(1u << 16)
#define RTE_LEVEL	(1u << 15)
#define RTE_LOW		(1u << 13)

struct ioapic {
	volatile uint32_t *regs;
	uint32_t addr, gsi_base;
	unsigned pins;
};

static struct fw_irqs fw;
static struct ioapic ioapics[FW_IOAPIC_MAX];
static unsigned nioapic;
static uint64_t rsdp;
static struct spinlock lock;	/* IOREGSEL/IOWIN pairs */

static uint32_t
ioapic_read(struct ioapic *a, uint32_t reg)
{
	a->regs[IOREGSEL / 4] = reg;
	return a->regs[IOWIN / 4];
}

static void
ioapic_write(struct ioapic *a, uint32_t reg, uint32_t v)
{
	a->regs[IOREGSEL / 4] = reg;
	a->regs[IOWIN / 4] = v;
}

void
ioapic_discover(const struct boot_info *bi)
{
	const struct phys_window low4g = { 0, 4ULL << 30, (const uint8_t *)0 };
	const char *why = "no RSDP";
	int err = -ENOENT;

	if (!acpi_find_rsdp(&low4g, bi->rsdp, &rsdp))
		err = acpi_madt_irqs(&low4g, rsdp, &fw, &why);
	else
		rsdp = 0;
	if (!err)
		return;
	if (err != -ENOENT)
		pr_warn("ioapic: MADT unusable (%s); assuming one at 0x%x\n",
			why, IOAPIC_DEFAULT);
	fw.nioapic = 1;
	fw.nover = 0;
	fw.ioapic[0].addr = IOAPIC_DEFAULT;
	fw.ioapic[0].gsi_base = 0;
}

bool
acpi_present(void)
{
	return rsdp != 0;
}

uint64_t
acpi_rsdp(void)
{
	return rsdp;
}

void
ioapic_init(void)
{
	for (unsigned i = 0; i < fw.nioapic; i++) {
		struct ioapic *a = &ioapics[nioapic];
		a->addr = fw.ioapic[i].addr;
		a->gsi_base = fw.ioapic[i].gsi_base;
		if (vm_map_uncached(a->addr & ~0xFFFu, 4096)) {
			pr_warn("ioapic: cannot map 0x%x\n", a->addr);
			continue;
		}
		a->regs = (volatile uint32_t *)(uintptr_t)a->addr;
		uint32_t ver = ioapic_read(a, IOAPICVER);
		if (ver == 0xFFFFFFFFu) {
			pr_warn("ioapic: nothing answers at 0x%x\n", a->addr);
			continue;
		}
		a->pins = ((ver >> 16) & 0xFF) + 1;
		for (unsigned p = 0; p < a->pins; p++) {
			ioapic_write(a, IOREDTBL(p) + 1, 0);
			ioapic_write(a, IOREDTBL(p), RTE_MASKED);
		}
		pr_debug("ioapic: 0x%x, GSIs %u-%u\n", a->addr, a->gsi_base,
			 a->gsi_base + a->pins - 1);
		nioapic++;
	}
}

static struct ioapic *
ioapic_of(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapic; i++)
		if (gsi >= ioapics[i].gsi_base &&
		    gsi - ioapics[i].gsi_base < ioapics[i].pins) {
			*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	return NULL;
}

int
ioapic_route(uint32_t gsi, unsigned vector, unsigned cpu, bool level,
	     bool active_low)
{
	unsigned pin;
	struct ioapic *a = ioapic_of(gsi, &pin);

	if (!a)
		return -ENODEV;
	uint32_t lo = (vector & 0xFF) | (level ? RTE_LEVEL : 0) |
		      (active_low ? RTE_LOW : 0);	/* fixed, physical */
	uint32_t hi = irq_cpu_apic_id(cpu) << 24;
	spin_lock(&lock);
	ioapic_write(a, IOREDTBL(pin), RTE_MASKED);
	ioapic_write(a, IOREDTBL(pin) + 1, hi);
	ioapic_write(a, IOREDTBL(pin), lo);
	spin_unlock(&lock);
	return 0;
}

/*
 * The destination is the whole high word of the entry, so one 32-bit
 * write moves the pin at once, without masking it (masking could drop
 * an edge).  The vector stays: a level interrupt the old core has taken
 * is still ended by its EOI, which the local APIC broadcasts by vector,
 * and a line still asserted is delivered to the new core.
 */
int
ioapic_set_cpu(uint32_t gsi, unsigned cpu)
{
	unsigned pin;
	struct ioapic *a = ioapic_of(gsi, &pin);

	if (!a)
		return -ENODEV;
	uint32_t hi = irq_cpu_apic_id(cpu) << 24;
	spin_lock(&lock);
	ioapic_write(a, IOREDTBL(pin) + 1, hi);
	spin_unlock(&lock);
	return 0;
}

void
ioapic_mask(uint32_t gsi)
{
	unsigned pin;
	struct ioapic *a = ioapic_of(gsi, &pin);

	if (!a)
		return;
	spin_lock(&lock);
	ioapic_write(a, IOREDTBL(pin), ioapic_read(a, IOREDTBL(pin)) | RTE_MASKED);
	spin_unlock(&lock);
}

void
ioapic_isa_irq(unsigned irq, uint32_t *gsi, bool *level, bool *active_low)
{
	*gsi = irq;
	*level = false;
	*active_low = false;
	for (unsigned i = 0; i < fw.nover; i++) {
		if (fw.over[i].source != irq)
			continue;
		uint16_t f = fw.over[i].flags;
		*gsi = fw.over[i].gsi;
		*active_low = (f & 3) == 3;
		*level = ((f >> 2) & 3) == 3;
	}
}

unsigned
ioapic_count(void)
{
	return nioapic;
}

bool
ioapic_has_gsi_base(uint32_t base)
{
	for (unsigned i = 0; i < nioapic; i++)
		if (ioapics[i].gsi_base == base)
			return true;
	return false;
}
