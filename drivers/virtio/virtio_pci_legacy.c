/*
 * The legacy virtio-pci transport (virtio 0.9.5; virtio 1.x 4.1.4.8):
 * registers in I/O BAR 0, 32 feature bits, a queue the device sizes, laid
 * out contiguously with the used ring 4096-aligned and given as a page
 * frame number.  With MSI-X on, two vector registers precede the device
 * configuration, which moves from offset 20 to 24.  Only register access
 * lives here; probing and interrupts are in virtio_pci.c.
 */
#include "drivers/virtio/virtio_pci.h"

#include <errno.h>

#include "arch/x86_64/io.h"
#include "lib/kernel/printk.h"

#define L_HOST_FEATURES		0
#define L_GUEST_FEATURES	4
#define L_QUEUE_PFN		8
#define L_QUEUE_SIZE		12
#define L_QUEUE_SEL		14
#define L_QUEUE_NOTIFY		16
#define L_STATUS		18
#define L_ISR			19
#define L_MSIX_CONFIG		20
#define L_MSIX_QUEUE		22

static struct virtio_pci *
priv(struct virtio_dev *d)
{
	return d->transport_priv;
}

static uint64_t
l_get_features(struct virtio_dev *d)
{
	return inl((uint16_t)(priv(d)->io + L_HOST_FEATURES));
}

static void
l_set_features(struct virtio_dev *d, uint64_t f)
{
	outl((uint16_t)(priv(d)->io + L_GUEST_FEATURES), (uint32_t)f);
}

static uint8_t
l_get_status(struct virtio_dev *d)
{
	return inb((uint16_t)(priv(d)->io + L_STATUS));
}

static void
l_set_status(struct virtio_dev *d, uint8_t s)
{
	outb((uint16_t)(priv(d)->io + L_STATUS), s);
	/* A legacy reset is done when the write returns. */
}

static uint32_t
l_config_read(struct virtio_dev *d, unsigned off, unsigned size)
{
	struct virtio_pci *p = priv(d);
	uint16_t port = (uint16_t)(p->io + (p->use_msix ? 24 : 20) + off);

	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static uint16_t
l_queue_max(struct virtio_dev *d, unsigned q)
{
	uint16_t io = priv(d)->io;

	outw((uint16_t)(io + L_QUEUE_SEL), (uint16_t)q);
	return inw((uint16_t)(io + L_QUEUE_SIZE));
}

static int
l_queue_enable(struct virtio_dev *d, unsigned q, struct virtq *vq)
{
	struct virtio_pci *p = priv(d);

	outw((uint16_t)(p->io + L_QUEUE_SEL), (uint16_t)q);
	if (p->use_msix) {
		outw((uint16_t)(p->io + L_MSIX_CONFIG), VIRTIO_MSI_NO_VECTOR);
		outw((uint16_t)(p->io + L_MSIX_QUEUE), 0);
		if (inw((uint16_t)(p->io + L_MSIX_QUEUE)) != 0) {
			pr_warn("virtio: %s: MSI-X vector refused\n", d->where);
			return -EIO;
		}
	}
	uint64_t addr = (uint64_t)vq->desc;
	if (addr >> 44)
		return -ENOMEM;	/* 32-bit page frame number */
	outl((uint16_t)(p->io + L_QUEUE_PFN), (uint32_t)(addr >> 12));
	return 0;
}

static void
l_notify(struct virtio_dev *d, unsigned q)
{
	outw((uint16_t)(priv(d)->io + L_QUEUE_NOTIFY), (uint16_t)q);
}

static int
l_setup_irq(struct virtio_dev *d, unsigned cpu)
{
	return virtio_pci_setup_irq(priv(d), cpu);
}

static int
l_move_irq(struct virtio_dev *d, unsigned cpu)
{
	return virtio_pci_move_irq(priv(d), cpu);
}

uint8_t
virtio_pci_legacy_isr(struct virtio_pci *p)
{
	return inb((uint16_t)(p->io + L_ISR));
}

static const struct virtio_ops legacy_ops = {
	.get_features = l_get_features,
	.set_features = l_set_features,
	.get_status = l_get_status,
	.set_status = l_set_status,
	.config_read = l_config_read,
	.queue_max = l_queue_max,
	.queue_enable = l_queue_enable,
	.notify = l_notify,
	.setup_irq = l_setup_irq,
	.move_irq = l_move_irq,
};

int
virtio_pci_legacy_init(struct virtio_pci *p)
{
	struct pci_bar b;

	if (pci_bar(&p->pci, 0, &b) || !b.io || b.size < 20)
		return -ENODEV;
	p->io = (uint16_t)b.addr;
	p->vdev.ops = &legacy_ops;
	p->vdev.modern = false;
	p->vdev.fixed_queue_size = true;
	p->vdev.transport = "legacy PCI";
	return 0;
}
