/*
 * Shared by the two virtio-pci transports (virtio_pci.c, which probes and
 * routes interrupts, virtio_pci_legacy.c and virtio_pci_modern.c, which
 * access registers).  Private to drivers/virtio.
 */
#ifndef TORO_VIRTIO_PCI_H
#define TORO_VIRTIO_PCI_H

#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio.h"

#define VIRTIO_MSI_NO_VECTOR	0xFFFF

struct virtio_pci {
	struct virtio_dev vdev;
	struct pci_dev pci;
	struct pci_msix msix;
	bool use_msix;			/* else INTx through the I/O APIC */
	uint32_t gsi;			/* INTx */
	/* legacy */
	uint16_t io;
	/* modern: the four structures the vendor capabilities point at */
	volatile uint8_t *common, *isr, *device, *notify_base;
	uint32_t notify_mult;
	uint16_t notify_off[8];		/* per queue, read at enable */
};

/* Fill in ops and the register pointers; -ENODEV when not usable. */
int virtio_pci_legacy_init(struct virtio_pci *p);
int virtio_pci_modern_init(struct virtio_pci *p);
/* Reads and clears the ISR byte (INTx). */
uint8_t virtio_pci_legacy_isr(struct virtio_pci *p);
uint8_t virtio_pci_modern_isr(struct virtio_pci *p);
/* Routes interrupts (MSI-X entry 0 or INTx) to p->vdev.irq_fn on cpu. */
int virtio_pci_setup_irq(struct virtio_pci *p, unsigned cpu);
/* Re-routes them to online core cpu (virtio_ops.move_irq). */
int virtio_pci_move_irq(struct virtio_pci *p, unsigned cpu);

#endif
