/*
 * virtio over PCI: finds virtio functions (vendor 0x1AF4) and picks the
 * transport: modern (virtio 1.x capabilities; device ids 0x1040+ or a
 * transitional 0x1000-0x103F device that has them) unless
 * virtio_pci.legacy is set, else legacy (0.9.5, I/O BAR 0).  Interrupts:
 * MSI-X entry 0 for every queue when the function has MSI-X (both
 * transports), else the INTx line the firmware assigned, through the I/O
 * APIC (virtio_pci.msix=0 forces that); either can be moved to another
 * core later.  Register access is in virtio_pci_legacy.c and
 * virtio_pci_modern.c.
 */
#include "drivers/virtio/virtio_pci.h"

#include <errno.h>

#include "arch/x86_64/irq.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

#define VIRTIO_PCI_VENDOR	0x1AF4

static bool no_msix;		/* virtio_pci.msix=0 */
static bool force_legacy;	/* virtio_pci.legacy */

int
virtio_pci_set_msix(const char *v)
{
	if (!v || (v[0] != '0' && v[0] != '1') || v[1])
		return -EINVAL;
	no_msix = v[0] == '0';
	return 0;
}

int
virtio_pci_set_legacy(const char *v)
{
	if (v)
		return -EINVAL;
	force_legacy = true;
	return 0;
}

static void
intx_handler(void *arg)
{
	struct virtio_pci *p = arg;
	uint8_t isr = p->vdev.modern ? virtio_pci_modern_isr(p)
				     : virtio_pci_legacy_isr(p);

	if (isr & 1)	/* queue interrupt; bit 1 is a config change */
		p->vdev.irq_fn(p->vdev.irq_arg);
}

static void
msix_handler(void *arg)
{
	struct virtio_pci *p = arg;

	p->vdev.irq_fn(p->vdev.irq_arg);
}

int
virtio_pci_setup_irq(struct virtio_pci *p, unsigned cpu)
{
	cpu = irq_cpu_or_boot(cpu);
	p->vdev.irq_cpu = cpu;
	if (!no_msix && !pci_msix_enable(&p->pci, &p->msix)) {
		int vector = irq_register(msix_handler, p, cpu);
		if (vector < 0)
			return vector;
		p->vdev.irq_vector = vector;
		p->use_msix = true;
		p->vdev.irq_kind = "MSI-X";
		return pci_msix_route(&p->msix, 0, (unsigned)vector, cpu);
	}
	if (!p->pci.irq_pin || p->pci.irq_line == 0xFF || !p->pci.irq_line) {
		pr_warn("virtio: %s: neither MSI-X nor an INTx line\n", p->vdev.where);
		return -ENODEV;
	}
	uint32_t gsi;
	bool level, low;
	/* The firmware's line is an ISA IRQ number; PCI lines are level. */
	ioapic_isa_irq(p->pci.irq_line, &gsi, &level, &low);
	int vector = irq_register(intx_handler, p, cpu);
	if (vector < 0)
		return vector;
	p->vdev.irq_vector = vector;
	p->gsi = gsi;
	p->vdev.irq_kind = "INTx";
	return ioapic_route(gsi, (unsigned)vector, cpu, true, low);
}

/*
 * MSI-X: pci_msix_route() masks entry 0 while it rewrites the message, so
 * an interrupt raised meanwhile waits in the pending bit and goes to the
 * new core on unmask (PCI 3.0, 6.8.3.5).  INTx: the pin's destination.
 */
int
virtio_pci_move_irq(struct virtio_pci *p, unsigned cpu)
{
	if (p->use_msix)
		return pci_msix_route(&p->msix, 0, (unsigned)p->vdev.irq_vector, cpu);
	return ioapic_set_cpu(p->gsi, cpu);
}

static void
probe_one(struct pci_dev *d, void *arg)
{
	(void)arg;
	if (d->vendor != VIRTIO_PCI_VENDOR || d->device < 0x1000 || d->device > 0x107F)
		return;
	struct virtio_pci *p = (struct virtio_pci *)vm_alloc_pages(1);
	_Static_assert(sizeof(struct virtio_pci) <= 4096, "one page");
	if (!p)
		return;
	p->pci = *d;
	p->vdev.transport_priv = p;
	struct virtio_dev *v = &p->vdev;
	const char hex[] = "0123456789abcdef";
	char *w = v->where;
	*w++ = 'p'; *w++ = 'c'; *w++ = 'i'; *w++ = ' ';
	*w++ = hex[d->bus >> 4]; *w++ = hex[d->bus & 15]; *w++ = ':';
	*w++ = hex[d->dev >> 4]; *w++ = hex[d->dev & 15]; *w++ = '.';
	*w++ = hex[d->fn & 7]; *w = 0;
	/* Transitional devices carry the type in the subsystem id. */
	v->type = d->device >= 0x1040 ? d->device - 0x1040u : d->subsys_id;
	pci_enable(&p->pci);
	int err = -ENODEV;
	if (!force_legacy || d->device >= 0x1040)
		err = virtio_pci_modern_init(p);
	if (err && d->device < 0x1040)
		err = virtio_pci_legacy_init(p);
	if (err) {
		pr_warn("virtio: %s: no usable transport\n", v->where);
		vm_free_pages((uint64_t)p, 1);
		return;
	}
	virtio_attach(v);
}

void
virtio_pci_probe(void)
{
	pci_enumerate(probe_one, NULL);
}
