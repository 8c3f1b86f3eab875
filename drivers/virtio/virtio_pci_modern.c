/*
 * The modern virtio-pci transport (virtio 1.x 4.1): vendor capabilities
 * point at the common configuration, notification, ISR and device
 * configuration structures inside memory BARs; 64 feature bits; queues
 * the driver sizes and places anywhere.  Only register access lives here;
 * probing and interrupts are in virtio_pci.c.
 */
#include "drivers/virtio/virtio_pci.h"

#include <errno.h>

#include "lib/kernel/printk.h"

#define CAP_COMMON	1
#define CAP_NOTIFY	2
#define CAP_ISR		3
#define CAP_DEVICE	4

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0C
#define C_MSIX_CONFIG	0x10
#define C_NUM_QUEUES	0x12
#define C_STATUS	0x14
#define C_Q_SELECT	0x16
#define C_Q_SIZE	0x18
#define C_Q_MSIX	0x1A
#define C_Q_ENABLE	0x1C
#define C_Q_NOFF	0x1E
#define C_Q_DESC	0x20
#define C_Q_DRIVER	0x28
#define C_Q_DEVICE	0x30

static struct virtio_pci *
priv(struct virtio_dev *d)
{
	return d->transport_priv;
}

static void
w8(volatile uint8_t *b, unsigned off, uint8_t v)
{
	*(volatile uint8_t *)(b + off) = v;
}

static void
w16(volatile uint8_t *b, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(b + off) = v;
}

static void
w32(volatile uint8_t *b, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}

static uint16_t
r16(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint16_t *)(b + off);
}

static uint32_t
r32(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint32_t *)(b + off);
}

static void
w64(volatile uint8_t *b, unsigned off, uint64_t v)
{
	w32(b, off, (uint32_t)v);
	w32(b, off + 4, (uint32_t)(v >> 32));
}

static uint64_t
m_get_features(struct virtio_dev *d)
{
	volatile uint8_t *c = priv(d)->common;

	w32(c, C_DFSELECT, 0);
	uint64_t lo = r32(c, C_DF);
	w32(c, C_DFSELECT, 1);
	return (uint64_t)r32(c, C_DF) << 32 | lo;
}

static void
m_set_features(struct virtio_dev *d, uint64_t f)
{
	volatile uint8_t *c = priv(d)->common;

	w32(c, C_GFSELECT, 0);
	w32(c, C_GF, (uint32_t)f);
	w32(c, C_GFSELECT, 1);
	w32(c, C_GF, (uint32_t)(f >> 32));
}

static uint8_t
m_get_status(struct virtio_dev *d)
{
	return priv(d)->common[C_STATUS];
}

static void
m_set_status(struct virtio_dev *d, uint8_t s)
{
	volatile uint8_t *c = priv(d)->common;

	w8(c, C_STATUS, s);
	if (s)
		return;
	/* 4.1.4.3.2: the reset is done when status reads back 0. */
	for (unsigned n = 0; n < 1000000 && c[C_STATUS]; n++)
		__builtin_ia32_pause();
}

static uint32_t
m_config_read(struct virtio_dev *d, unsigned off, unsigned size)
{
	volatile uint8_t *b = priv(d)->device + off;

	return size == 1 ? *b : size == 2 ? *(volatile uint16_t *)b
					  : *(volatile uint32_t *)b;
}

static uint16_t
m_queue_max(struct virtio_dev *d, unsigned q)
{
	volatile uint8_t *c = priv(d)->common;

	if (q >= r16(c, C_NUM_QUEUES))
		return 0;
	w16(c, C_Q_SELECT, (uint16_t)q);
	return r16(c, C_Q_SIZE);
}

static int
m_queue_enable(struct virtio_dev *d, unsigned q, struct virtq *vq)
{
	struct virtio_pci *p = priv(d);
	volatile uint8_t *c = p->common;

	if (q >= sizeof(p->notify_off) / sizeof(p->notify_off[0]))
		return -ENOSPC;
	w16(c, C_Q_SELECT, (uint16_t)q);
	w16(c, C_Q_SIZE, vq->size);
	if (p->use_msix) {
		w16(c, C_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
		w16(c, C_Q_MSIX, 0);
		if (r16(c, C_Q_MSIX) != 0) {
			pr_warn("virtio: %s: MSI-X vector refused\n", d->where);
			return -EIO;
		}
	}
	w64(c, C_Q_DESC, (uint64_t)vq->desc);
	w64(c, C_Q_DRIVER, (uint64_t)vq->avail);
	w64(c, C_Q_DEVICE, (uint64_t)vq->used);
	p->notify_off[q] = r16(c, C_Q_NOFF);
	w16(c, C_Q_ENABLE, 1);
	return 0;
}

static void
m_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_pci *p = priv(d);

	w16(p->notify_base, p->notify_off[q] * p->notify_mult, (uint16_t)q);
}

static int
m_setup_irq(struct virtio_dev *d, unsigned cpu)
{
	return virtio_pci_setup_irq(priv(d), cpu);
}

static int
m_move_irq(struct virtio_dev *d, unsigned cpu)
{
	return virtio_pci_move_irq(priv(d), cpu);
}

uint8_t
virtio_pci_modern_isr(struct virtio_pci *p)
{
	return *p->isr;
}

static const struct virtio_ops modern_ops = {
	.get_features = m_get_features,
	.set_features = m_set_features,
	.get_status = m_get_status,
	.set_status = m_set_status,
	.config_read = m_config_read,
	.queue_max = m_queue_max,
	.queue_enable = m_queue_enable,
	.notify = m_notify,
	.setup_irq = m_setup_irq,
	.move_irq = m_move_irq,
};

/* The structure a capability describes, mapped; NULL if unusable. */
static volatile uint8_t *
cap_map(struct virtio_pci *p, unsigned cap)
{
	unsigned bar = pci_read8(&p->pci, cap + 4);
	uint32_t off = pci_read32(&p->pci, cap + 8);
	uint32_t len = pci_read32(&p->pci, cap + 12);
	uint64_t size;
	volatile uint8_t *base = bar < 6 ? pci_map_bar(&p->pci, bar, &size) : NULL;

	if (!base || off > size || len > size - off)
		return NULL;
	return base + off;
}

int
virtio_pci_modern_init(struct virtio_pci *p)
{
	for (unsigned cap = pci_find_cap(&p->pci, PCI_CAP_VENDOR, 0); cap;
	     cap = pci_find_cap(&p->pci, PCI_CAP_VENDOR, cap)) {
		uint8_t type = pci_read8(&p->pci, cap + 3);
		volatile uint8_t **slot =
			type == CAP_COMMON ? &p->common : type == CAP_NOTIFY ? &p->notify_base
			: type == CAP_ISR ? &p->isr : type == CAP_DEVICE ? &p->device : NULL;
		if (!slot || *slot)
			continue;	/* the first of each type is preferred */
		*slot = cap_map(p, cap);
		if (type == CAP_NOTIFY)
			p->notify_mult = pci_read32(&p->pci, cap + 16);
	}
	if (!p->common || !p->notify_base || !p->isr || !p->device)
		return -ENODEV;
	p->vdev.ops = &modern_ops;
	p->vdev.modern = true;
	p->vdev.fixed_queue_size = false;
	p->vdev.transport = "modern PCI";
	return 0;
}
