/*
 * What the pieces of the FAT driver share and nobody else sees: the
 * mounted volume, its sector cache, the FAT table and cluster chains
 * (fat.c), names (fat_name.c), walking directories (fat_dir.c), changing
 * them (fat_dir_change.c) and file data (fat_file.c).  Sector numbers
 * here are volume sectors (the BPB's bytes-per-sector), counted from the
 * start of the volume.
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

/* Our own: musl's memcmp may use SSE registers, which the kernel leaves
 * to the application (see lib/kernel/kstring.h). */
static inline bool
fat_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
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

/* ------------------------------------------------------------ names */

#define FAT_NAMEBUF		(3 * 255 + 1)	/* UTF-8 of a long name: at most
						 * 255 UTF-16 units, 3 bytes each */
#define FAT_LFN_CHARS		13		/* UTF-16 units per long-name entry */
#define FAT_LFN_MAX_ENTRIES	20
#define FAT_TAIL_MAX		65535		/* the largest ~N of a short name */

/* fat_name.c: names, pure (no volume, no I/O). */
/* Equal but for the case of ASCII letters. */
bool fat_name_eq(const char *a, size_t alen, const char *b, size_t blen);
/* The checksum of an 8.3 name that its long-name entries carry. */
uint8_t fat_lfn_checksum(const uint8_t *sn);
/* The short name of entry e as text: "NAME.EXT", lower case where the NT
 * flags say; its length (at most 12). */
size_t fat_short_name(const uint8_t *e, char *out);
/* The FAT_LFN_CHARS UTF-16 units of long-name entry e into u. */
void fat_lfn_unpack(const uint8_t *e, uint16_t *u);
/* Long-name entry number ord (1-based; last: the first one stored) of the
 * name u[0..units), with the short name's checksum sum. */
void fat_lfn_pack(uint8_t *e, int ord, bool last, uint8_t sum,
		  const uint16_t *u, int units);
/* UTF-16 units (up to a 0 or 0xFFFF) as UTF-8 in out (FAT_NAMEBUF);
 * the length, 0 if they are not a valid name. */
size_t fat_lfn_to_utf8(const uint16_t *lfn, int units, char *out);
/* Decodes UTF-8 into at most 255 UTF-16 units; the unit count, or
 * -EINVAL / -ENAMETOOLONG. */
int fat_utf8_to_utf16(const char *name, size_t len, uint16_t *u);
/* A name a new entry may have: 1..255 bytes, no reserved characters. */
int fat_name_check(const char *name, size_t len);
/* The 8.3 basis of a long name; true if nothing was lost but case. */
bool fat_short_basis(const uint16_t *u, int n, uint8_t *sn, bool *has_lower);
/* Notes in used[] (a bit per N up to FAT_TAIL_MAX) that sn is basis~N,
 * or sets *exact if sn is basis itself. */
void fat_tail_note(const uint8_t *sn, const uint8_t *basis, uint8_t *used,
		   bool *exact);
/* Turns the basis sn into sn~num. */
void fat_tail_apply(uint8_t *sn, uint32_t num);

/* ------------------------------------------------------------ directories */

static inline bool
fat_is_dot(const uint8_t *e)
{
	return e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '));
}

/* Neither a volume label nor "." or "..". */
static inline bool
fat_is_visible(const uint8_t *e)
{
	return !(e[11] & FAT_ATTR_VOLUME_ID) && !fat_is_dot(e);
}

/* The first cluster of dir's entries (0: the FAT12/16 fixed root). */
static inline uint32_t
fat_node_cluster(const struct fat_vol *v, const struct fat_node *dir)
{
	return dir->is_root ? (v->type == 32 ? v->root_cluster : 0) :
			      dir->first_cluster;
}

/* fat_dir.c: a cursor on a directory's entries. */
struct fat_dcur {
	struct fat_vol *v;
	uint32_t first;			/* 0: the fixed root */
	uint32_t nent;			/* entries the directory holds */
	uint32_t last;			/* its last cluster */
	uint32_t cl_idx, cl;		/* a cluster of it and its index */
};

/* Opens the directory whose first cluster is first (0: fixed root),
 * walking its whole chain (bounded). */
int fat_dcur_open(struct fat_vol *v, uint32_t first, struct fat_dcur *c);
/* A pointer to entry idx in the cache, valid until the next cache call. */
int fat_dcur_entry(struct fat_dcur *c, uint32_t idx, uint8_t **e,
		   struct fat_cent **ce);

/* fat_dir.c: a scan of a directory's entries, gathering long names. */
struct fat_dscan {
	struct fat_dcur c;
	uint32_t idx;			/* next entry to read */
	/* The long name being gathered. */
	uint16_t lfn[FAT_LFN_MAX_ENTRIES * FAT_LFN_CHARS];
	int lfn_next;			/* ordinal expected next; 0: none */
	int lfn_count;
	uint8_t lfn_sum;
	uint32_t lfn_start;
	/* What fat_dscan_next() found. */
	uint8_t ent[FAT_DIRENT_SIZE];
	uint32_t at;			/* its index */
	uint32_t first_lfn;		/* its first long-name entry (== at: none) */
	bool has_lfn;
	uint32_t end;			/* index of the end marker (nent: none seen) */
};

int fat_dscan_open(struct fat_vol *v, const struct fat_node *dir,
		   struct fat_dscan *s);
/* The next entry that is neither free nor a long-name piece: 1, or 0 at
 * the end of the directory. */
int fat_dscan_next(struct fat_dscan *s);
/* The node for the entry s found. */
void fat_node_from(struct fat_vol *v, const struct fat_dscan *s,
		   struct fat_node *n);
/* Finds name (not "." or "..") in dir: 1 with s->ent, 0 if absent. */
int fat_find_name(struct fat_vol *v, const struct fat_node *dir,
		  const char *name, size_t len, struct fat_dscan *s);
/* The first cluster a directory's ".." entry names (0: the root). */
int fat_dotdot_cluster(struct fat_vol *v, uint32_t dir, uint32_t *parent);

/* The long name s gathered, as UTF-8; 0 if it is not a valid name. */
static inline size_t
fat_dscan_long_name(const struct fat_dscan *s, char *out)
{
	return fat_lfn_to_utf8(s->lfn, s->lfn_count * FAT_LFN_CHARS, out);
}

/* fat_dir_change.c, for fat_file.c: rewrites n's directory entry (size,
 * cluster, time). */
int fat_node_store(struct fat_vol *v, struct fat_node *n, bool touch);
/* fat_dir.c: the FAT date and time of now (v->now, clamped to 1980..2107). */
void fat_timestamp(struct fat_vol *v, uint16_t *date, uint16_t *time);
/* fat_file.c, for fat_dir.c: n's cluster holding byte off (chain checked). */
int fat_file_cluster(struct fat_vol *v, struct fat_node *n, uint32_t index,
		     uint32_t *out);
int fat_node_check(struct fat_vol *v, struct fat_node *n);

#endif
