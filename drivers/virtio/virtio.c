/*
 * The transport-independent half of device initialisation (virtio 1.x
 * 3.1): reset, status bits, feature negotiation, queue memory, DRIVER_OK,
 * FAILED, moving the interrupt to another core, and picking a driver by
 * device type.  Not the ring logic (virtqueue.c) and not register access
 * (the transports).
 */
#include "drivers/virtio/virtio.h"

#include <errno.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "lib/kernel/printk.h"
#include "lib/mm/vm.h"

/* Only in images that make sockets (lib/crt/optional.c; main.c). */
#pragma weak virtio_net_attach

void
virtio_attach(struct virtio_dev *d)
{
	int err;

	switch (d->type) {
	case VIRTIO_ID_NET:
		if (!virtio_net_attach) {
			pr_info("virtio: %s: a network device, left alone: the program "
				"makes no socket, so the image has no network stack\n",
				d->where);
			d->ops->set_status(d, 0);
			return;
		}
		err = virtio_net_attach(d);
		break;
	case VIRTIO_ID_BLOCK:
		err = virtio_blk_attach(d);
		break;
	case VIRTIO_ID_CONSOLE:
		err = virtio_console_attach(d);
		break;
	case VIRTIO_ID_FS:
		err = virtio_fs_attach(d);
		break;
	default:
		pr_debug("virtio: %s: device type %u (%s) has no driver\n",
			 d->where, d->type, d->transport);
		d->ops->set_status(d, 0);
		return;
	}
	if (err)
		pr_warn("virtio: %s: device type %u not attached (error %d)\n",
			d->where, d->type, err);
}

int
virtio_negotiate(struct virtio_dev *d, uint64_t wanted)
{
	d->ops->set_status(d, 0);
	d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	d->ops->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint64_t offered = d->ops->get_features(d);
	wanted |= 1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX;
	if (d->modern)
		wanted |= 1ULL << VIRTIO_F_VERSION_1;
	else
		wanted &= 0xFFFFFFFFULL;	/* legacy: 32 feature bits */
	if (d->features_fixup)
		wanted = d->features_fixup(offered, wanted);
	d->features = offered & wanted;
	if (d->modern && !virtio_has(d, VIRTIO_F_VERSION_1)) {
		pr_warn("virtio: %s: modern transport without VERSION_1\n", d->where);
		virtio_fail(d);
		return -EIO;
	}
	d->ops->set_features(d, d->features);
	if (!d->modern)
		return 0;
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
		    VIRTIO_STATUS_FEATURES_OK;
	d->ops->set_status(d, s);
	if (!(d->ops->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		pr_warn("virtio: %s: device refused features 0x%llx\n", d->where,
			(unsigned long long)d->features);
		virtio_fail(d);
		return -EIO;
	}
	return 0;
}

int
virtio_queue_setup(struct virtio_dev *d, unsigned q, struct virtq *vq,
		   unsigned max)
{
	unsigned size = d->ops->queue_max(d, q);

	if (!size)
		return -ENOENT;
	if (size & (size - 1)) {
		pr_warn("virtio: %s: queue %u size %u is not a power of two\n",
			d->where, q, size);
		return -EIO;
	}
	if (!d->fixed_queue_size)
		while (size > max && size > 1)
			size /= 2;
	uint64_t ring = vq_legacy_bytes((uint16_t)size, 4096);
	uint64_t bytes = ring + sizeof(void *) * size;
	uint64_t pages = (bytes + 4095) / 4096;
	uint8_t *mem = (uint8_t *)vm_alloc_pages(pages);
	if (!mem)
		return -ENOMEM;
	vq_init_legacy(vq, (uint16_t)size, mem, 4096, (void **)(mem + ring));
	vq->event_idx = virtio_has(d, VIRTIO_F_EVENT_IDX);
	vq->indirect = virtio_has(d, VIRTIO_F_INDIRECT_DESC);
	int err = d->ops->queue_enable(d, q, vq);
	if (err) {
		vm_free_pages((uint64_t)mem, pages);
		return err;
	}
	return 0;
}

void
virtio_driver_ok(struct virtio_dev *d)
{
	d->ops->set_status(d, (uint8_t)(d->ops->get_status(d) |
					VIRTIO_STATUS_DRIVER_OK));
}

void
virtio_fail(struct virtio_dev *d)
{
	d->ops->set_status(d, 0);
	d->ops->set_status(d, VIRTIO_STATUS_FAILED);
}

void
virtio_kick(struct virtio_dev *d, unsigned q, struct virtq *vq)
{
	/* The avail index store before reading the device's event index. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq_kick_needed(vq))
		d->ops->notify(d, q);
}

int
virtio_move_irq(struct virtio_dev *d, unsigned cpu, const char *name)
{
	if (cpu >= CPU_MAX || !(smp_online_mask() >> cpu & 1))
		return -EINVAL;
	if (!d->ops->move_irq || d->irq_vector <= 0)
		return -EIO;
	unsigned old = d->irq_cpu;
	struct irq_counts was, failed;
	/* Before the route: what reaches the old core from now on is late. */
	irq_set_cpu(d->irq_vector, cpu, &was);
	int err = d->ops->move_irq(d, cpu);
	if (err) {
		irq_set_cpu(d->irq_vector, old, &failed);
		pr_warn("%s: interrupts not moved to cpu %u (error %d)\n", name,
			cpu, err);
		return -EIO;
	}
	d->irq_cpu = cpu;
	pr_info("%s: %s interrupts moved from cpu %u (%lu taken there, %lu "
		"elsewhere) to cpu %u\n", name, d->irq_kind, old, was.on_cpu,
		was.elsewhere, cpu);
	return 0;
}

uint32_t
virtio_config32(struct virtio_dev *d, unsigned off)
{
	return d->ops->config_read(d, off, 4);
}

uint64_t
virtio_config64(struct virtio_dev *d, unsigned off)
{
	uint32_t hi, lo;

	/* Re-read until the high half is stable (no generation on legacy). */
	do {
		hi = d->ops->config_read(d, off + 4, 4);
		lo = d->ops->config_read(d, off, 4);
	} while (hi != d->ops->config_read(d, off + 4, 4));
	return (uint64_t)hi << 32 | lo;
}
