/*
 * FAT12, FAT16 and FAT32 volumes on any sector device: the file system
 * the kernel mounts from a blkdev and the host unit tests mount from an
 * image in memory.  It knows nothing of the VFS, of drivers or of the
 * kernel: the caller hands it a struct fat_dev (sector I/O) and a struct
 * fat_alloc (memory), and gets back a volume on which it looks names up,
 * reads, writes, creates, removes and renames through small caller-owned
 * handles (struct fat_node).
 *
 * Thread safety is the caller's: no function here takes a lock, and two
 * calls on one volume must never run at the same time (a VFS adapter
 * holds one mutex per mounted volume around every call).  Different
 * volumes are independent.
 *
 * Keep at most one fat_node per file in use (the adapter's inode): a node
 * carries the file's size, first cluster and a read-ahead hint, and a
 * second, stale copy would not see the first one's writes.
 *
 * Names are (pointer, length) in UTF-8, at most FAT_NAME_MAX bytes, never
 * containing '/' or NUL.  Lookup is case-insensitive for ASCII letters
 * only.  Every function returns 0 (or a count) or a negative errno value:
 * -EIO for a device error or a corrupt volume (a cyclic or out-of-range
 * cluster chain, a size the chain cannot hold), -EINVAL for a bad name or
 * argument, -ENOENT, -EEXIST, -ENOTDIR, -EISDIR, -ENOTEMPTY, -ENOSPC,
 * -ENOMEM, -EFBIG (files stop at 4 GiB - 1).  A corrupt volume never
 * makes a call crash, hang or hand back bytes that are not the file's.
 */
#ifndef TORO_FS_FAT_H
#define TORO_FS_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAT_NAME_MAX	255		/* bytes of UTF-8, like NAME_MAX */

/* The sector device under a volume.  Sectors of sector_size bytes. */
struct fat_dev {
	/* count sectors from sector; 0 or a negative errno (-EIO). */
	int (*read)(void *ctx, uint64_t sector, void *buf, uint32_t count);
	int (*write)(void *ctx, uint64_t sector, const void *buf, uint32_t count);
	/* Makes completed writes durable; may be NULL. */
	int (*flush)(void *ctx);
	uint32_t sector_size;		/* 512, 1024, 2048 or 4096 */
	uint64_t sectors;
	void *ctx;
};

/* Where the volume's memory comes from (malloc/free, kmalloc/kfree). */
struct fat_alloc {
	void *(*alloc)(size_t n);
	void (*free)(void *p);
};

struct fat_mount_opts {
	struct fat_alloc mem;
	/* Sectors the write-back cache holds (0: 64). */
	unsigned cache_sectors;
	/* Seconds since 1970 (UTC) for new timestamps; NULL: 1980-01-01. */
	int64_t (*now)(void);
	bool read_only;			/* every change answers -EROFS */
};

struct fat_vol;

/*
 * A file or directory: what the adapter keeps in its inode.  Filled by
 * fat_root(), fat_lookup(), fat_create(), fat_mkdir(), fat_readdir() and
 * fat_rename(); updated by fat_write() and fat_truncate().  Opaque to the
 * caller except through fat_getattr().
 */
struct fat_node {
	uint32_t first_cluster;		/* 0: empty file, or FAT12/16's root */
	uint32_t size;			/* bytes; 0 for directories */
	uint32_t dir_cluster;		/* parent's first cluster (0: fixed root) */
	uint32_t entry;			/* index of the short entry in the parent */
	uint32_t lfn_entry;		/* index of its first long-name entry */
	uint16_t wtime, wdate;		/* FAT last-write time and date */
	uint8_t attr;			/* FAT_ATTR_* */
	uint8_t short_name[11];		/* to tell a reused entry from ours */
	bool is_root;
	/* Set by the first read/write/truncate, which walks the whole chain
	 * once (a cycle or a chain too short for size is -EIO from then on):
	 * its length, and where the last access ended (cluster hint_cluster
	 * is the file's hint_index-th, 0-based; 0 when unknown). */
	bool checked;
	uint32_t nclusters;
	uint32_t hint_index, hint_cluster;
};

#define FAT_ATTR_READ_ONLY	0x01
#define FAT_ATTR_HIDDEN		0x02
#define FAT_ATTR_SYSTEM		0x04
#define FAT_ATTR_VOLUME_ID	0x08
#define FAT_ATTR_DIRECTORY	0x10
#define FAT_ATTR_ARCHIVE	0x20

struct fat_attr {
	bool is_dir;
	uint32_t mode;			/* S_IFDIR|0755 or S_IFREG|0644 (0444 read-only) */
	uint64_t size;
	int64_t mtime;			/* seconds since 1970, from the FAT date/time */
	uint32_t blocks;		/* 512-byte units allocated */
	uint64_t ino;			/* stable while the file is not renamed */
};

struct fat_statfs {
	int type;			/* 12, 16 or 32 */
	uint32_t cluster_size;		/* bytes */
	uint32_t clusters;		/* data clusters on the volume */
	uint32_t free_clusters;
};

struct fat_dirent {
	char name[FAT_NAME_MAX + 1];	/* UTF-8, terminated */
	struct fat_node node;
};

/*
 * Mounts the volume on dev.  A BPB that is not a valid FAT volume answers
 * -EINVAL with *why (if why is not NULL) saying what is wrong; a device
 * error answers -EIO.
 */
int fat_mount(const struct fat_dev *dev, const struct fat_mount_opts *opts,
	      struct fat_vol **out, const char **why);
/* Writes everything back (fat_sync) and frees the volume, even on error. */
int fat_unmount(struct fat_vol *v);
/* Writes dirty sectors, every FAT copy and (FAT32) the FSInfo free count,
 * then flushes the device.  fat_fsync() does the same: one volume, one cache. */
int fat_sync(struct fat_vol *v);
int fat_fsync(struct fat_vol *v, struct fat_node *n);
int fat_statfs(struct fat_vol *v, struct fat_statfs *st);

void fat_root(struct fat_vol *v, struct fat_node *out);
/* One name in dir; ".." answers the parent (the root answers itself). */
int fat_lookup(struct fat_vol *v, const struct fat_node *dir, const char *name,
	       size_t len, struct fat_node *out);
void fat_getattr(struct fat_vol *v, const struct fat_node *n, struct fat_attr *a);

/* Bytes read at off (0 at or past the end), or a negative errno. */
int64_t fat_read(struct fat_vol *v, struct fat_node *n, uint64_t off,
		 void *buf, size_t len);
/* Bytes written at off (a gap before off reads as zeros), or an errno. */
int64_t fat_write(struct fat_vol *v, struct fat_node *n, uint64_t off,
		  const void *buf, size_t len);
/* Grows with zeros or shrinks, freeing the clusters past the end. */
int fat_truncate(struct fat_vol *v, struct fat_node *n, uint64_t size);

/* A new empty file / directory called name in dir; -EEXIST if taken. */
int fat_create(struct fat_vol *v, const struct fat_node *dir, const char *name,
	       size_t len, struct fat_node *out);
int fat_mkdir(struct fat_vol *v, const struct fat_node *dir, const char *name,
	      size_t len, struct fat_node *out);
/* Removes a file (-EISDIR for a directory) and frees its clusters at once. */
int fat_unlink(struct fat_vol *v, const struct fat_node *dir, const char *name,
	       size_t len);
/* Removes an empty directory (-ENOTEMPTY, -ENOTDIR). */
int fat_rmdir(struct fat_vol *v, const struct fat_node *dir, const char *name,
	      size_t len);
/*
 * Moves oname in odir to nname in ndir, replacing a file there (or an
 * empty directory, when moving a directory).  -EINVAL if a directory would
 * move under itself.  *moved (may be NULL) gets the node at its new place.
 */
int fat_rename(struct fat_vol *v, const struct fat_node *odir,
	       const char *oname, size_t olen, const struct fat_node *ndir,
	       const char *nname, size_t nlen, struct fat_node *moved);
/*
 * The entry at *cookie (0 = first) and the cookie of the next: 1, or 0 at
 * the end.  "." and ".." are not reported (the adapter adds them); cookies
 * are below 2^16, so the adapter may shift them.
 */
int fat_readdir(struct fat_vol *v, const struct fat_node *dir,
		uint64_t *cookie, struct fat_dirent *ent);

#endif
