/*
 * toro/blk.h - raw access to the machine's disks.
 *
 * Disks are named "vda", "vdb", ... in the order the kernel found them
 * (toro-run attaches one per --disk, in command-line order).  These calls
 * move whole 512-byte sectors between a disk and memory, straight to or
 * from the buffer without a copy, and block the calling thread until the
 * disk is done; other threads keep running meanwhile, and several threads
 * may have requests in flight on one disk.  They return 0 or an errno
 * value (not -1/errno): ENODEV no such disk, EINVAL a range past the end
 * of the disk or a bad buffer, EROFS a write to a read-only disk, EIO the
 * disk reported an error or did not answer.  This is an interim interface
 * until /dev/vdX can be opened; see toro_blk(3).
 */
#ifndef TORO_BLK_H
#define TORO_BLK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TORO_BLK_SECTOR 512

struct toro_blk_info {
	uint64_t sectors;	/* capacity in 512-byte sectors */
	uint32_t block_size;	/* the disk's preferred I/O unit, bytes */
	int read_only;
};

/* How many disks there are, and the name of disk i (0-based), or NULL. */
int toro_blk_count(void);
const char *toro_blk_name(int i);
int toro_blk_info(const char *disk, struct toro_blk_info *info);
/* count sectors from sector into buf / from buf. */
int toro_blk_read(const char *disk, uint64_t sector, void *buf, size_t count);
int toro_blk_write(const char *disk, uint64_t sector, const void *buf,
		   size_t count);
/* Makes the writes that have returned durable on the disk. */
int toro_blk_flush(const char *disk);

#ifdef __cplusplus
}
#endif

#endif
