/*
 * What the pieces of the FAT driver share and nobody else sees: the
 * mounted volume, its sector cache, the FAT table and cluster chains
 * (fat.c), directory entries and names (fat_dir.c) and file data
 * (fat_file.c).  Sector numbers here are volume sectors (the BPB's
 * bytes-per-sector), counted from the start of the volume.
 */
#ifndef TORO_FS_FAT_INTERNAL_H
#define TORO_FS_FAT_INTERNAL_H

#include <errno.h>
#include <string.h>

#include "lib/fs/fat.h"
#include "lib/kernel/civil.h"

/* Little-endian fields of the on-disk structures. */
static inline uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

#define FAT_DIRENT_SIZE		32
#define FAT_DIR_MAX_ENTRIES	65536	/* 2 MiB of entries, the spec's limit */
#define FAT_FILE_MAX		0xFFFFFFFFu
#define FAT_ATTR_LFN		0x0F
#define FAT_LAST_LFN		0x40
#define FAT_DELETED		0xE5
#define FAT_NT_LOWER_BASE	0x08
#define FAT_NT_LOWER_EXT	0x10

struct fat_cent {
	uint64_t sec;
	uint8_t *buf;
	uint32_t used;			/* clock of the last access, for LRU */
	bool valid, dirty;
};

struct fat_vol {
	struct fat_dev dev;
	struct fat_alloc mem;
	int64_t (*now)(void);
	bool ro;

	int type;			/* 12, 16, 32 */
	uint32_t bps;			/* bytes per volume sector */
	uint32_t dev_per_sec;		/* device sectors per volume sector */
	uint32_t spc;			/* sectors per cluster */
	uint32_t csize;			/* bytes per cluster */
	uint32_t tot_sec;
	uint32_t fat_start;		/* first sector of the FAT in use */
	uint32_t fat_sz;		/* sectors per FAT */
	uint32_t nfats;
	uint32_t rsvd;
	bool mirror;			/* every FAT copy kept equal */
	uint32_t root_start, root_secs;	/* FAT12/16 fixed root directory */
	uint32_t root_entries;
	uint32_t data_start;
	uint32_t clusters;		/* data clusters: numbers 2 .. clusters+1 */
	uint32_t root_cluster;		/* FAT32 */
	uint32_t eoc_min;		/* values from here up end a chain */
	uint32_t fsinfo_sec;		/* 0: none */
	uint32_t free_count, next_free;
	bool fsinfo_dirty;

	struct fat_cent *cache;
	unsigned ncache;
	uint32_t clock;
};

/* fat.c: the sector cache (one buffer of bps bytes per entry). */
int fat_cache_get(struct fat_vol *v, uint64_t sec, bool fill,
		  struct fat_cent **out);
int fat_cache_flush(struct fat_vol *v);
/* Bulk data: count whole sectors, through the cache where it has them. */
int fat_sectors_read(struct fat_vol *v, uint64_t sec, uint8_t *buf, uint32_t count);
int fat_sectors_write(struct fat_vol *v, uint64_t sec, const uint8_t *buf,
		      uint32_t count);

/* fat.c: the FAT and cluster chains. */
static inline uint64_t
fat_cluster_sector(const struct fat_vol *v, uint32_t c)
{
	return v->data_start + (uint64_t)(c - 2) * v->spc;
}

static inline bool
fat_cluster_ok(const struct fat_vol *v, uint32_t c)
{
	return c >= 2 && c - 2 < v->clusters;
}

int fat_get(struct fat_vol *v, uint32_t c, uint32_t *val);
int fat_set(struct fat_vol *v, uint32_t c, uint32_t val);
/* The cluster after c in its chain, 0 at its end; -EIO when c's entry is
 * free, bad or out of range. */
int fat_next(struct fat_vol *v, uint32_t c, uint32_t *next);
/* Clusters in the chain from first (0: none), at most max; -EIO if longer
 * (a cycle), or broken. */
int fat_chain_length(struct fat_vol *v, uint32_t first, uint32_t max,
		     uint32_t *len);
/* A free cluster marked end-of-chain, linked after prev (0: none). */
int fat_alloc_cluster(struct fat_vol *v, uint32_t prev, uint32_t *out);
/* Frees the chain from first on. */
int fat_free_chain(struct fat_vol *v, uint32_t first);
int fat_zero_cluster(struct fat_vol *v, uint32_t c);

/* fat_dir.c, for fat_file.c: rewrites n's directory entry (size, cluster, time). */
int fat_node_store(struct fat_vol *v, struct fat_node *n, bool touch);
void fat_timestamp(struct fat_vol *v, uint16_t *date, uint16_t *time);
/* fat_file.c, for fat_dir.c: n's cluster holding byte off (chain checked). */
int fat_file_cluster(struct fat_vol *v, struct fat_node *n, uint32_t index,
		     uint32_t *out);
int fat_node_check(struct fat_vol *v, struct fat_node *n);

#endif
