/*
 * The toro_blk_* API (include/toro/blk.h): application calls onto the
 * block-device class.  The application runs with interrupts on and the
 * kernel with them off, so each call turns them off around the class
 * call (which may block the thread) and checks the buffer first.  Only
 * argument checking and errno conversion live here.
 */
#include <errno.h>

#include <toro/blk.h>

#include "arch/x86_64/io.h"
#include "lib/dev/blkdev.h"
#include "lib/mm/vm.h"

int
toro_blk_count(void)
{
	return (int)blkdev_count();
}

const char *
toro_blk_name(int i)
{
	struct blkdev *d = i >= 0 ? blkdev_get((unsigned)i) : NULL;

	return d ? d->name : NULL;
}

int
toro_blk_info(const char *disk, struct toro_blk_info *info)
{
	struct blkdev *d = blkdev_find(disk);

	if (!d)
		return ENODEV;
	if (!info || !vm_user_range_ok(info, sizeof(*info)))
		return EINVAL;
	info->sectors = d->sectors;
	info->block_size = d->logical_block;
	info->read_only = d->read_only;
	return 0;
}

static int
transfer(const char *disk, uint64_t sector, void *buf, size_t count, bool write)
{
	struct blkdev *d = blkdev_find(disk);

	if (!d)
		return ENODEV;
	if (count > (SIZE_MAX >> 9) ||
	    (count && !vm_user_range_ok(buf, count * TORO_BLK_SECTOR)))
		return EINVAL;
	unsigned long flags = irq_save();
	int err = write ? blkdev_write(d, sector, buf, count)
			: blkdev_read(d, sector, buf, count);
	irq_restore(flags);
	return -err;
}

int
toro_blk_read(const char *disk, uint64_t sector, void *buf, size_t count)
{
	return transfer(disk, sector, buf, count, false);
}

int
toro_blk_write(const char *disk, uint64_t sector, const void *buf, size_t count)
{
	return transfer(disk, sector, (void *)buf, count, true);
}

int
toro_blk_flush(const char *disk)
{
	struct blkdev *d = blkdev_find(disk);

	if (!d)
		return ENODEV;
	unsigned long flags = irq_save();
	int err = blkdev_flush(d);
	irq_restore(flags);
	return -err;
}
