/*
 * The virtio core: what every transport (legacy PCI, modern PCI, MMIO)
 * provides and what device drivers (virtio-blk, later net/fs/console) use.
 * A transport finds a device, fills a struct virtio_dev with its
 * operations and calls virtio_attach(); the core picks the driver by
 * device type.  Drivers negotiate features, set up queues and route the
 * interrupt through the helpers here and never touch transport registers.
 */
#ifndef TORO_VIRTIO_H
#define TORO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/virtqueue.h"
#include "lib/kernel/spinlock.h"

/* Device status bits (virtio 1.x 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* Transport-independent feature bits (virtio 1.x 6). */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32

#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_FS			26

#define VIRTIO_QUEUE_MAX		1024

struct virtio_dev;

struct virtio_ops {
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t f);
	uint8_t (*get_status)(struct virtio_dev *d);
	/* 0 resets the device and returns once the reset is done. */
	void (*set_status)(struct virtio_dev *d, uint8_t s);
	/* Device-specific configuration, 1, 2 or 4 bytes at off. */
	uint32_t (*config_read)(struct virtio_dev *d, unsigned off, unsigned size);
	/* Queue q's largest size (0: no such queue). */
	uint16_t (*queue_max)(struct virtio_dev *d, unsigned q);
	/* Gives the device queue q laid out as vq says, and enables it. */
	int (*queue_enable)(struct virtio_dev *d, unsigned q, struct virtq *vq);
	void (*notify)(struct virtio_dev *d, unsigned q);
	/*
	 * Routes the device's interrupts to d->irq_fn on core cpu (MSI-X,
	 * or the I/O APIC line); before queue_enable() so that queues can
	 * be bound to the vector.
	 */
	int (*setup_irq)(struct virtio_dev *d, unsigned cpu);
	/*
	 * Delivers the interrupts setup_irq() routed to online core cpu
	 * instead, keeping the vector: the MSI-X entry is masked while its
	 * message is rewritten (an interrupt meanwhile stays pending and is
	 * sent on unmask), the I/O APIC pin gets a new destination.  One
	 * already on its way still reaches the old core's handler; use
	 * virtio_move_irq(), after which the driver re-checks its queues.
	 */
	int (*move_irq)(struct virtio_dev *d, unsigned cpu);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	uint32_t type;			/* VIRTIO_ID_* */
	bool modern;			/* virtio 1.x: VERSION_1 required */
	bool fixed_queue_size;		/* legacy: the device's size only */
	uint64_t features;		/* negotiated */
	const char *transport;		/* "modern PCI", "legacy MMIO", ... */
	char where[32];			/* "pci 00:04.0", "mmio 0xfeb00e00" */
	void (*irq_fn)(void *arg);	/* set by the driver */
	void *irq_arg;
	unsigned irq_cpu;
	int irq_vector;			/* 0 until setup_irq() has one */
	const char *irq_kind;		/* "MSI-X", "INTx", "I/O APIC" */
	void *transport_priv;
	/* Set by a driver before virtio_negotiate(): what of wanted to ask
	 * for, given what the device offers (features that need others). */
	uint64_t (*features_fixup)(uint64_t offered, uint64_t wanted);
};

static inline bool
virtio_has(const struct virtio_dev *d, unsigned bit)
{
	return d->features >> bit & 1;
}

/* Hands a found device to the driver for its type (or leaves it reset). */
void virtio_attach(struct virtio_dev *d);
/*
 * Reset, ACKNOWLEDGE|DRIVER, then the features both sides have among
 * wanted (plus VERSION_1, INDIRECT_DESC and EVENT_IDX, which the core
 * handles); FEATURES_OK for modern devices.  0 or -EIO (device FAILED).
 */
int virtio_negotiate(struct virtio_dev *d, uint64_t wanted);
/*
 * Allocates queue q (at most max entries, a power of two), lays it out
 * for any transport, binds it to the interrupt and enables it.
 */
int virtio_queue_setup(struct virtio_dev *d, unsigned q, struct virtq *vq,
		       unsigned max);
void virtio_driver_ok(struct virtio_dev *d);
/* Marks the device FAILED after a reset: it stops touching memory. */
void virtio_fail(struct virtio_dev *d);
/* Notifies queue q if the device asked for it (call after vq_publish()). */
void virtio_kick(struct virtio_dev *d, unsigned q, struct virtq *vq);
/*
 * Moves the device's interrupts to online core cpu (ops->move_irq) and
 * logs it under name with the interrupts the old core took.  The caller
 * serialises moves of one device and then reaps its used rings: a
 * completion whose interrupt went to the old core may still be running
 * there or have just been handled.  0, -EINVAL (cpu not online) or -EIO
 * (the transport could not re-route it; then nothing changed).
 */
int virtio_move_irq(struct virtio_dev *d, unsigned cpu, const char *name);
/* Config fields, little-endian (64-bit: two reads, generation-safe enough). */
uint32_t virtio_config32(struct virtio_dev *d, unsigned off);
uint64_t virtio_config64(struct virtio_dev *d, unsigned off);

/* Transports' probes (called by virtio_probe_all()). */
void virtio_pci_probe(void);
void virtio_mmio_probe(void);
/* virtio_mmio.device=SIZE@ADDR:IRQ (kernel option): remembers a device. */
int virtio_mmio_option(const char *v);
/* virtio_pci.msix=0|1 and virtio_pci.legacy (kernel options). */
int virtio_pci_set_msix(const char *v);
int virtio_pci_set_legacy(const char *v);
/* Drivers. */
int virtio_net_attach(struct virtio_dev *d);
int virtio_blk_attach(struct virtio_dev *d);
int virtio_fs_attach(struct virtio_dev *d);
int virtio_console_attach(struct virtio_dev *d);
/* console=hvc0|ttyS0 (kernel option), and the warning if hvc0 is absent. */
int virtio_console_option(const char *v);
void virtio_console_check(void);
int virtio_net_set_cpu(const char *v);
int virtio_net_set_tso(const char *v);
int virtio_blk_set_cpu(const char *v);
int virtio_blk_set_timeout(const char *v);

#endif
