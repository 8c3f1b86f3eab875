/*
 * virtio-blk (virtio 1.x 5.2) as a blkdev: read, write and flush over one
 * request queue, any number of requests in flight.  A request (header,
 * status byte, indirect table and a completion word) lives on the calling
 * thread's stack, which like all memory is identity mapped, and the data
 * moves straight to or from the caller's buffer: no copy.  The caller
 * futex-waits on its completion word; the queue's interrupt, delivered to
 * the core the queue is dedicated to (virtio_blk.cpu=N, default 0, or per
 * disk dedicate=vdX:N; toro_dedicate() moves it while the disk is in use),
 * marks requests done and wakes them.  A device error becomes -EIO; a request
 * that gets no answer within virtio_blk.timeout= seconds (default 30)
 * resets the device, fails every request and every later one with -EIO,
 * and says so on the console.  Not a cache and not a scheduler: requests
 * go to the device in the order threads submit them.
 */
#include <errno.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/virtio/virtio.h"
#include "lib/dev/blkdev.h"
#include "lib/dev/dedicate.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#include "lib/sched/futex.h"

#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4

#define VIRTIO_BLK_S_OK		0

#define CFG_CAPACITY		0
#define CFG_SIZE_MAX		8
#define CFG_BLK_SIZE		20

#define REQ_MAX_BYTES		(1u << 20)	/* one data descriptor */

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct vblk_req {
	struct vblk_hdr hdr;
	struct vq_desc table[3];	/* indirect descriptors */
	uint8_t status;
	uint32_t done;			/* futex word: 0 in flight, 1 done */
};

struct vblk {
	struct blkdev blk;
	struct virtio_dev *vdev;
	struct virtq vq;
	struct spinlock lock;		/* vq, from any core and the interrupt */
	uint32_t space;			/* futex word: bumped when descriptors free up */
	uint32_t space_waiters;
	bool broken;			/* reset after a timeout: everything fails */
	char driver[72];
	struct dedicated dedicated;	/* under the disk's name */
};

static unsigned opt_cpu;
static unsigned opt_timeout_s = 30;

int
virtio_blk_set_cpu(const char *v)
{
	return kparse_uint(v, 63, &opt_cpu);
}

int
virtio_blk_set_timeout(const char *v)
{
	unsigned s;
	int err = kparse_uint(v, 3600, &s);

	if (!err && !s)
		err = -EINVAL;
	if (!err)
		opt_timeout_s = s;
	return err;
}

/* Completes what the device has finished; with b->lock held. */
static void
reap(struct vblk *b)
{
	void *c;

	do {
		while ((c = vq_get_used(&b->vq, NULL))) {
			struct vblk_req *r = c;
			__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
			futex_wake(&r->done, 1, ~0U);
		}
	} while (vq_enable_interrupts(&b->vq));
	if (__atomic_load_n(&b->space_waiters, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&b->space, 1, __ATOMIC_RELEASE);
		futex_wake(&b->space, 1 << 30, ~0U);
	}
}

static void
vblk_interrupt(void *arg)
{
	struct vblk *b = arg;

	spin_lock(&b->lock);
	if (!b->broken)
		reap(b);
	spin_unlock(&b->lock);
}

/*
 * Moves the queue's interrupt to cpu, then reaps: a completion whose
 * interrupt was on its way to the old core is not left waiting for the
 * next one.
 */
static int
vblk_move(void *arg, unsigned cpu)
{
	struct vblk *b = arg;
	int err = virtio_move_irq(b->vdev, cpu, b->blk.name);

	if (err)
		return err;
	spin_lock(&b->lock);
	if (!b->broken)
		reap(b);
	spin_unlock(&b->lock);
	return 0;
}

/* Resets the device so that it stops using memory, and fails it for good. */
static void
vblk_break(struct vblk *b, const char *why)
{
	spin_lock(&b->lock);
	if (!b->broken) {
		b->broken = true;
		virtio_fail(b->vdev);
		pr_err("%s: %s; device reset, every request now fails with EIO\n",
			b->blk.name, why);
	}
	spin_unlock(&b->lock);
	__atomic_fetch_add(&b->space, 1, __ATOMIC_RELEASE);
	futex_wake(&b->space, 1 << 30, ~0U);
}

static int
submit(struct vblk *b, struct vblk_req *r, const struct vq_buf *bufs,
       unsigned n)
{
	for (;;) {
		spin_lock(&b->lock);
		if (b->broken) {
			spin_unlock(&b->lock);
			return -EIO;
		}
		int head;
		if (b->vq.indirect)
			head = vq_add_indirect(&b->vq, r->table, (uint64_t)r->table,
					       bufs, n, r);
		else
			head = vq_add_chain(&b->vq, bufs, n, r);
		if (head >= 0) {
			vq_publish(&b->vq, (uint16_t)head);
			virtio_kick(b->vdev, 0, &b->vq);
			spin_unlock(&b->lock);
			return 0;
		}
		/* Queue full: wait for the interrupt to free descriptors. */
		uint32_t seen = __atomic_load_n(&b->space, __ATOMIC_ACQUIRE);
		__atomic_fetch_add(&b->space_waiters, 1, __ATOMIC_ACQ_REL);
		spin_unlock(&b->lock);
		futex_wait(&b->space, seen, ~0U, 0);
		__atomic_fetch_sub(&b->space_waiters, 1, __ATOMIC_ACQ_REL);
	}
}

static int
wait_done(struct vblk *b, struct vblk_req *r)
{
	uint64_t deadline = rdtsc() + tsc_hz() * opt_timeout_s;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		if (futex_wait(&r->done, 0, ~0U, deadline) != -ETIMEDOUT)
			continue;
		/* Lost interrupt, or a device that never answers? */
		spin_lock(&b->lock);
		if (!b->broken)
			reap(b);
		spin_unlock(&b->lock);
		if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
			pr_warn("%s: request completed without an interrupt\n",
				b->blk.name);
			break;
		}
		vblk_break(b, "request timed out (virtio_blk.timeout)");
		return -EIO;
	}
	return r->status == VIRTIO_BLK_S_OK ? 0 : -EIO;
}

static int
vblk_request(struct vblk *b, uint32_t type, uint64_t sector, void *buf,
	     uint32_t count)
{
	struct vblk_req r = {
		.hdr = { .type = type, .sector = sector },
		.status = 0xFF,
	};
	struct vq_buf bufs[3];
	unsigned n = 0;

	bufs[n++] = (struct vq_buf){ (uint64_t)&r.hdr, sizeof(r.hdr), false };
	if (count)
		bufs[n++] = (struct vq_buf){ (uint64_t)buf, count * BLKDEV_SECTOR,
					     type == VIRTIO_BLK_T_IN };
	bufs[n++] = (struct vq_buf){ (uint64_t)&r.status, 1, true };
	int err = submit(b, &r, bufs, n);
	if (err)
		return err;
	err = wait_done(b, &r);
	if (err && !b->broken)
		pr_warn("%s: device error (status %u) on %s of %u sectors at %llu\n",
			b->blk.name, r.status, type == VIRTIO_BLK_T_IN ? "read"
			: type == VIRTIO_BLK_T_OUT ? "write" : "flush", count,
			(unsigned long long)sector);
	return err;
}

static int
buffer_ok(const void *buf, uint32_t count)
{
	return buf && vm_range_mapped((uint64_t)buf, (uint64_t)count * BLKDEV_SECTOR)
		       ? 0 : -EINVAL;
}

static int
vblk_read(struct blkdev *d, uint64_t sector, void *buf, uint32_t count)
{
	int err = buffer_ok(buf, count);

	return err ? err : vblk_request(d->priv, VIRTIO_BLK_T_IN, sector, buf, count);
}

static int
vblk_write(struct blkdev *d, uint64_t sector, const void *buf, uint32_t count)
{
	int err = buffer_ok(buf, count);

	return err ? err : vblk_request(d->priv, VIRTIO_BLK_T_OUT, sector,
					(void *)buf, count);
}

static int
vblk_flush(struct blkdev *d)
{
	struct vblk *b = d->priv;

	if (!virtio_has(b->vdev, VIRTIO_BLK_F_FLUSH))
		return b->broken ? -EIO : 0;
	return vblk_request(b, VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
}

static const struct blkdev_ops vblk_ops = {
	.read = vblk_read,
	.write = vblk_write,
	.flush = vblk_flush,
};

int
virtio_blk_attach(struct virtio_dev *d)
{
	struct vblk *b = (struct vblk *)vm_alloc_pages(1);
	_Static_assert(sizeof(struct vblk) <= 4096, "one page");
	if (!b)
		return -ENOMEM;
	b->vdev = d;
	int err = virtio_negotiate(d, 1ULL << VIRTIO_BLK_F_SIZE_MAX |
				      1ULL << VIRTIO_BLK_F_RO |
				      1ULL << VIRTIO_BLK_F_BLK_SIZE |
				      1ULL << VIRTIO_BLK_F_FLUSH);
	if (!err) {
		d->irq_fn = vblk_interrupt;
		d->irq_arg = b;
		err = d->ops->setup_irq(d, opt_cpu);
	}
	if (!err)
		err = virtio_queue_setup(d, 0, &b->vq, 256);
	if (err) {
		virtio_fail(d);
		vm_free_pages((uint64_t)b, 1);
		return err;
	}
	b->blk.ops = &vblk_ops;
	b->blk.priv = b;
	b->blk.sectors = virtio_config64(d, CFG_CAPACITY);
	b->blk.logical_block = virtio_has(d, VIRTIO_BLK_F_BLK_SIZE)
				       ? virtio_config32(d, CFG_BLK_SIZE) : 512;
	uint32_t max = REQ_MAX_BYTES;
	if (virtio_has(d, VIRTIO_BLK_F_SIZE_MAX)) {
		uint32_t sm = virtio_config32(d, CFG_SIZE_MAX);
		if (sm >= BLKDEV_SECTOR && sm < max)
			max = sm;
	}
	b->blk.max_sectors = max / BLKDEV_SECTOR;
	b->blk.read_only = virtio_has(d, VIRTIO_BLK_F_RO);
	/* "virtio-blk, modern PCI pci 00:04.0, MSI-X to cpu 0" */
	char *w = b->driver;
	char cpu[3] = { (char)('0' + d->irq_cpu / 10 % 10), (char)('0' + d->irq_cpu % 10), 0 };
	const char *parts[] = { "virtio-blk, ", d->transport, " ", d->where, ", ",
				d->irq_kind ? d->irq_kind : "?", " to cpu ",
				d->irq_cpu >= 10 ? cpu : cpu + 1 };
	for (unsigned i = 0; i < 8; i++)
		for (const char *p = parts[i]; *p && w < b->driver + sizeof(b->driver) - 1;)
			*w++ = *p++;
	*w = 0;
	b->blk.driver = b->driver;
	virtio_driver_ok(d);
	err = blkdev_register(&b->blk);
	if (err) {
		virtio_fail(d);
		return err;
	}
	struct dedicated *dd = &b->dedicated;
	kstrlcpy(dd->name, b->blk.name, sizeof(dd->name));
	dd->move = vblk_move;
	dd->arg = b;
	dd->cpu = d->irq_cpu;
	if (dedicate_register(dd))
		pr_warn("%s: its interrupt stays on cpu %u\n", b->blk.name, d->irq_cpu);
	return 0;
}
