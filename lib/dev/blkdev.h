/*
 * The block-device class: what a disk driver offers and what file systems,
 * /dev/vdX and the toro_blk_* API use.  A driver fills a struct blkdev
 * (operations, capacity, sector size) and registers it; the registry names
 * devices "vda", "vdb", ... in registration (probe) order.  Upper layers
 * include only this header, never a driver's.
 *
 * Every operation blocks the calling thread until the device is done and
 * returns 0 or a negative errno: -EINVAL for a bad range or a buffer the
 * device cannot reach, -EROFS for a write to a read-only device, -EIO when
 * the device reports an error or does not answer.  Sectors are always 512
 * bytes (the virtio unit); logical_block is the size the device prefers,
 * a multiple of 512.  Called with interrupts off, like all kernel code.
 */
#ifndef TORO_DEV_BLKDEV_H
#define TORO_DEV_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BLKDEV_SECTOR		512
#define BLKDEV_NAME_MAX		8
#define BLKDEV_MAX		26	/* vda .. vdz */

struct blkdev;

struct blkdev_ops {
	/* count sectors from sector into / out of buf (physically contiguous). */
	int (*read)(struct blkdev *d, uint64_t sector, void *buf, uint32_t count);
	int (*write)(struct blkdev *d, uint64_t sector, const void *buf,
		     uint32_t count);
	/* Makes completed writes durable; 0 when the device has no cache. */
	int (*flush)(struct blkdev *d);
};

struct blkdev {
	const struct blkdev_ops *ops;
	void *priv;			/* the driver's */
	char name[BLKDEV_NAME_MAX];	/* set by blkdev_register() */
	uint64_t sectors;		/* capacity in 512-byte sectors */
	uint32_t logical_block;		/* bytes, a multiple of 512 */
	uint32_t max_sectors;		/* most sectors in one request (0: any) */
	bool read_only;
	const char *driver;		/* "virtio-blk (modern PCI)", for logs */
};

/* Names d ("vda", ...) and adds it; -ENOSPC when BLKDEV_MAX are taken. */
int blkdev_register(struct blkdev *d);
/* The device called name ("vda" or "/dev/vda"), or NULL. */
struct blkdev *blkdev_find(const char *name);
/* The i-th registered device (0, 1, ...), or NULL past the last. */
struct blkdev *blkdev_get(unsigned i);
unsigned blkdev_count(void);

/*
 * Range-checked I/O through d's operations, split into requests of at
 * most max_sectors: the calls upper layers make.
 */
int blkdev_read(struct blkdev *d, uint64_t sector, void *buf, uint64_t count);
int blkdev_write(struct blkdev *d, uint64_t sector, const void *buf,
		 uint64_t count);
int blkdev_flush(struct blkdev *d);

#endif
