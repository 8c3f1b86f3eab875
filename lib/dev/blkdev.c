/*
 * The block-device registry and the checked entry points upper layers
 * call (blkdev.h).  It names devices and validates ranges; it does no
 * caching, queueing or partition parsing: those belong to the file
 * systems above or the drivers below.
 */
#include "lib/dev/blkdev.h"

#include <errno.h>

#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/spinlock.h"

static struct blkdev *devices[BLKDEV_MAX];
static unsigned ndevices;	/* atomic: entries below it are set */
static struct spinlock lock;

int
blkdev_register(struct blkdev *d)
{
	spin_lock(&lock);
	unsigned i = ndevices;
	if (i == BLKDEV_MAX) {
		spin_unlock(&lock);
		pr_warn("blkdev: more than %d disks; %s ignored\n", BLKDEV_MAX,
			d->driver ? d->driver : "one");
		return -ENOSPC;
	}
	d->name[0] = 'v';
	d->name[1] = 'd';
	d->name[2] = (char)('a' + i);
	d->name[3] = 0;
	if (!d->logical_block || d->logical_block % BLKDEV_SECTOR)
		d->logical_block = BLKDEV_SECTOR;
	devices[i] = d;
	__atomic_store_n(&ndevices, i + 1, __ATOMIC_RELEASE);
	spin_unlock(&lock);
	pr_info("%s: %llu sectors (%llu MiB), %u-byte blocks%s, %s\n", d->name,
		(unsigned long long)d->sectors,
		(unsigned long long)(d->sectors >> 11), d->logical_block,
		d->read_only ? ", read-only" : "", d->driver ? d->driver : "?");
	return 0;
}

unsigned
blkdev_count(void)
{
	return __atomic_load_n(&ndevices, __ATOMIC_ACQUIRE);
}

struct blkdev *
blkdev_get(unsigned i)
{
	return i < blkdev_count() ? devices[i] : NULL;
}

struct blkdev *
blkdev_find(const char *name)
{
	if (!name)
		return NULL;
	if (!kstrncmp(name, "/dev/", 5))
		name += 5;
	for (unsigned i = 0, n = blkdev_count(); i < n; i++)
		if (!kstrcmp(devices[i]->name, name))
			return devices[i];
	return NULL;
}

static int
range_ok(const struct blkdev *d, uint64_t sector, uint64_t count)
{
	if (!d || sector > d->sectors || count > d->sectors - sector)
		return -EINVAL;
	return 0;
}

/* One chunk at most: what a single driver request may carry. */
static uint32_t
chunk(const struct blkdev *d, uint64_t left)
{
	uint64_t max = d->max_sectors ? d->max_sectors : 0xFFFFFFFFu;

	return (uint32_t)(left < max ? left : max);
}

int
blkdev_read(struct blkdev *d, uint64_t sector, void *buf, uint64_t count)
{
	int err = range_ok(d, sector, count);
	uint8_t *p = buf;

	while (!err && count) {
		uint32_t n = chunk(d, count);
		err = d->ops->read(d, sector, p, n);
		sector += n;
		p += (uint64_t)n * BLKDEV_SECTOR;
		count -= n;
	}
	return err;
}

int
blkdev_write(struct blkdev *d, uint64_t sector, const void *buf, uint64_t count)
{
	int err = range_ok(d, sector, count);
	const uint8_t *p = buf;

	if (!err && d->read_only)
		err = -EROFS;
	while (!err && count) {
		uint32_t n = chunk(d, count);
		err = d->ops->write(d, sector, p, n);
		sector += n;
		p += (uint64_t)n * BLKDEV_SECTOR;
		count -= n;
	}
	return err;
}

int
blkdev_flush(struct blkdev *d)
{
	if (!d)
		return -EINVAL;
	return d->ops->flush ? d->ops->flush(d) : 0;
}
