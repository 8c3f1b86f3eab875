/*
 * A FAT volume: mounting (BPB validation and FAT12/16/32 detection by
 * cluster count, as the Microsoft FAT specification defines it), the
 * write-back sector cache, the allocation table with its copies and the
 * FAT32 FSInfo free count, cluster chains (walked with bounds, so a cycle
 * or a stray cluster number is -EIO, never a hang), sync and statfs.
 * Names live in fat_name.c, directory reads in fat_dir.c and changes in
 * fat_dir_change.c, file data in fat_file.c.  Not
 * for exFAT, and not for volumes whose sectors are smaller than the
 * device's.
 */
#include "lib/fs/fat_internal.h"

#define DEFAULT_CACHE	64

/* ------------------------------------------------------------ device I/O */

static int
dev_read(struct fat_vol *v, uint64_t sec, void *buf, uint32_t count)
{
	if (sec >= v->tot_sec || count > v->tot_sec - sec)
		return -EIO;
	int r = v->dev.read(v->dev.ctx, sec * v->dev_per_sec, buf,
			    count * v->dev_per_sec);
	return r < 0 ? r : 0;
}

static int
dev_write(struct fat_vol *v, uint64_t sec, const void *buf, uint32_t count)
{
	if (sec >= v->tot_sec || count > v->tot_sec - sec)
		return -EIO;
	if (v->ro)
		return -EROFS;
	int r = v->dev.write(v->dev.ctx, sec * v->dev_per_sec, buf,
			     count * v->dev_per_sec);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ sector cache */

/* A dirty sector of the FAT in use goes to every copy when mirrored. */
static int
cache_writeback(struct fat_vol *v, struct fat_cent *e)
{
	int r;

	if (!e->valid || !e->dirty)
		return 0;
	if (v->mirror && e->sec >= v->fat_start &&
	    e->sec < (uint64_t)v->fat_start + v->fat_sz) {
		uint64_t rel = e->sec - v->fat_start;
		for (uint32_t i = 0; i < v->nfats; i++) {
			r = dev_write(v, v->rsvd + (uint64_t)i * v->fat_sz + rel,
				      e->buf, 1);
			if (r)
				return r;
		}
	} else {
		r = dev_write(v, e->sec, e->buf, 1);
		if (r)
			return r;
	}
	e->dirty = false;
	return 0;
}

static struct fat_cent *
cache_find(struct fat_vol *v, uint64_t sec)
{
	for (unsigned i = 0; i < v->ncache; i++)
		if (v->cache[i].valid && v->cache[i].sec == sec)
			return &v->cache[i];
	return NULL;
}

int
fat_cache_get(struct fat_vol *v, uint64_t sec, bool fill, struct fat_cent **out)
{
	struct fat_cent *e = cache_find(v, sec);
	int r;

	if (!e) {
		struct fat_cent *victim = &v->cache[0];
		for (unsigned i = 0; i < v->ncache; i++) {
			struct fat_cent *c = &v->cache[i];
			if (!c->valid) {
				victim = c;
				break;
			}
			if (c->used < victim->used)
				victim = c;
		}
		r = cache_writeback(v, victim);
		if (r)
			return r;
		victim->valid = false;
		if (fill) {
			r = dev_read(v, sec, victim->buf, 1);
			if (r)
				return r;
		} else {
			memset(victim->buf, 0, v->bps);
		}
		victim->sec = sec;
		victim->valid = true;
		victim->dirty = false;
		e = victim;
	}
	e->used = ++v->clock;
	*out = e;
	return 0;
}

int
fat_cache_flush(struct fat_vol *v)
{
	int err = 0;

	for (unsigned i = 0; i < v->ncache; i++) {
		int r = cache_writeback(v, &v->cache[i]);
		if (r && !err)
			err = r;
	}
	return err;
}

/* Runs of sectors the cache does not hold go straight to the device. */
int
fat_sectors_read(struct fat_vol *v, uint64_t sec, uint8_t *buf, uint32_t count)
{
	while (count) {
		struct fat_cent *e = cache_find(v, sec);
		if (e) {
			memcpy(buf, e->buf, v->bps);
			sec++, buf += v->bps, count--;
			continue;
		}
		uint32_t run = 1;
		while (run < count && !cache_find(v, sec + run))
			run++;
		int r = dev_read(v, sec, buf, run);
		if (r)
			return r;
		sec += run, buf += (size_t)run * v->bps, count -= run;
	}
	return 0;
}

int
fat_sectors_write(struct fat_vol *v, uint64_t sec, const uint8_t *buf,
		  uint32_t count)
{
	while (count) {
		struct fat_cent *e = cache_find(v, sec);
		if (e) {
			memcpy(e->buf, buf, v->bps);
			e->dirty = true;
			sec++, buf += v->bps, count--;
			continue;
		}
		uint32_t run = 1;
		while (run < count && !cache_find(v, sec + run))
			run++;
		int r = dev_write(v, sec, buf, run);
		if (r)
			return r;
		sec += run, buf += (size_t)run * v->bps, count -= run;
	}
	return 0;
}

/* ------------------------------------------------------------ the FAT */

static int
fat_byte(struct fat_vol *v, uint32_t off, uint8_t **p, struct fat_cent **e)
{
	int r = fat_cache_get(v, v->fat_start + off / v->bps, true, e);
	if (r)
		return r;
	*p = (*e)->buf + off % v->bps;
	return 0;
}

int
fat_get(struct fat_vol *v, uint32_t c, uint32_t *val)
{
	struct fat_cent *e;
	uint8_t *p;
	int r;

	if (c >= v->clusters + 2)
		return -EIO;
	if (v->type == 12) {
		uint32_t off = c + c / 2;
		r = fat_byte(v, off, &p, &e);
		if (r)
			return r;
		uint32_t lo = *p;
		r = fat_byte(v, off + 1, &p, &e);
		if (r)
			return r;
		uint32_t w = lo | (uint32_t)*p << 8;
		*val = c & 1 ? w >> 4 : w & 0xFFF;
		return 0;
	}
	uint32_t width = v->type / 8;
	r = fat_byte(v, c * width, &p, &e);
	if (r)
		return r;
	*val = width == 2 ? le16(p) : le32(p) & 0x0FFFFFFF;
	return 0;
}

int
fat_set(struct fat_vol *v, uint32_t c, uint32_t val)
{
	struct fat_cent *e;
	uint8_t *p;
	int r;

	if (v->ro)
		return -EROFS;
	if (c >= v->clusters + 2)
		return -EIO;
	if (v->type == 12) {
		uint32_t off = c + c / 2;
		val &= 0xFFF;
		r = fat_byte(v, off, &p, &e);
		if (r)
			return r;
		*p = c & 1 ? (*p & 0x0F) | (val << 4 & 0xF0) : val & 0xFF;
		e->dirty = true;
		r = fat_byte(v, off + 1, &p, &e);
		if (r)
			return r;
		*p = c & 1 ? val >> 4 : (*p & 0xF0) | (val >> 8 & 0x0F);
		e->dirty = true;
		return 0;
	}
	if (v->type == 16) {
		r = fat_byte(v, c * 2, &p, &e);
		if (r)
			return r;
		p[0] = val;
		p[1] = val >> 8;
	} else {
		r = fat_byte(v, c * 4, &p, &e);
		if (r)
			return r;
		put32(p, (le32(p) & 0xF0000000) | (val & 0x0FFFFFFF));
	}
	e->dirty = true;
	return 0;
}

int
fat_next(struct fat_vol *v, uint32_t c, uint32_t *next)
{
	uint32_t val;
	int r = fat_get(v, c, &val);

	if (r)
		return r;
	if (val >= v->eoc_min) {
		*next = 0;
		return 0;
	}
	if (!fat_cluster_ok(v, val))
		return -EIO;		/* free, reserved, bad or beyond the volume */
	*next = val;
	return 0;
}

int
fat_chain_length(struct fat_vol *v, uint32_t first, uint32_t max, uint32_t *len)
{
	uint32_t n = 0;

	if (max > v->clusters)
		max = v->clusters;
	for (uint32_t c = first; c; n++) {
		if (n >= max || !fat_cluster_ok(v, c))
			return -EIO;
		int r = fat_next(v, c, &c);
		if (r)
			return r;
	}
	*len = n;
	return 0;
}

static void
free_count_add(struct fat_vol *v, int32_t d)
{
	v->free_count += d;
	v->fsinfo_dirty = true;
}

int
fat_zero_cluster(struct fat_vol *v, uint32_t c)
{
	uint64_t sec = fat_cluster_sector(v, c);

	for (uint32_t i = 0; i < v->spc; i++) {
		struct fat_cent *e;
		int r = fat_cache_get(v, sec + i, false, &e);
		if (r)
			return r;
		memset(e->buf, 0, v->bps);
		e->dirty = true;
	}
	return 0;
}

int
fat_alloc_cluster(struct fat_vol *v, uint32_t prev, uint32_t *out)
{
	uint32_t c = v->next_free;
	int r;

	if (v->ro)
		return -EROFS;
	if (!v->free_count)
		return -ENOSPC;
	for (uint32_t i = 0; i < v->clusters; i++, c++) {
		uint32_t val;
		if (!fat_cluster_ok(v, c))
			c = 2;
		r = fat_get(v, c, &val);
		if (r)
			return r;
		if (val)
			continue;
		r = fat_set(v, c, 0x0FFFFFFF);
		if (!r && prev)
			r = fat_set(v, prev, c);
		if (r)
			return r;
		free_count_add(v, -1);
		v->next_free = c + 1;
		*out = c;
		return 0;
	}
	v->free_count = 0;	/* the count was wrong */
	return -ENOSPC;
}

int
fat_free_chain(struct fat_vol *v, uint32_t first)
{
	/* A freed entry reads as free, so a cycle stops at its second lap. */
	for (uint32_t c = first, n = 0; c; n++) {
		uint32_t next;
		if (n >= v->clusters || !fat_cluster_ok(v, c))
			return -EIO;
		int r = fat_next(v, c, &next);
		if (!r)
			r = fat_set(v, c, 0);
		if (r)
			return r;
		free_count_add(v, 1);
		c = next;
	}
	return 0;
}

/* ------------------------------------------------------------ mounting */

struct bpb {
	uint32_t bps, spc, rsvd, nfats, root_ents, tot_sec, fat_sz, media;
	uint32_t root_cluster, fsinfo, ext_flags, fs_ver;
	bool fat32_layout;
};

static void
bpb_parse(const uint8_t *b, struct bpb *p)
{
	p->bps = le16(b + 11);
	p->spc = b[13];
	p->rsvd = le16(b + 14);
	p->nfats = b[16];
	p->root_ents = le16(b + 17);
	p->tot_sec = le16(b + 19) ? le16(b + 19) : le32(b + 32);
	p->media = b[21];
	p->fat32_layout = le16(b + 22) == 0;
	p->fat_sz = p->fat32_layout ? le32(b + 36) : le16(b + 22);
	p->ext_flags = le16(b + 40);
	p->fs_ver = le16(b + 42);
	p->root_cluster = le32(b + 44);
	p->fsinfo = le16(b + 48);
}

static bool
pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* The geometry from the BPB, or the reason it is not a FAT volume. */
static const char *
bpb_check(struct fat_vol *v, const struct bpb *p)
{
	if (p->bps != 512 && p->bps != 1024 && p->bps != 2048 && p->bps != 4096)
		return "bytes per sector is not 512, 1024, 2048 or 4096";
	if (p->bps < v->dev.sector_size || p->bps % v->dev.sector_size)
		return "volume sectors smaller than the device's";
	if (!pow2(p->spc) || p->spc > 128)
		return "sectors per cluster is not a power of two up to 128";
	if (!p->rsvd)
		return "no reserved sectors";
	if (!p->nfats)
		return "no FAT copies";
	if (p->media != 0xF0 && p->media < 0xF8)
		return "bad media byte";
	if (!p->tot_sec)
		return "zero total sectors";
	v->dev_per_sec = p->bps / v->dev.sector_size;
	if (p->tot_sec > v->dev.sectors / v->dev_per_sec)
		return "total sectors beyond the end of the device";
	if (!p->fat_sz)
		return "zero sectors per FAT";
	v->bps = p->bps;
	v->spc = p->spc;
	v->csize = p->bps * p->spc;
	v->tot_sec = p->tot_sec;
	v->rsvd = p->rsvd;
	v->nfats = p->nfats;
	v->fat_sz = p->fat_sz;
	v->root_entries = p->root_ents;
	v->root_secs = (p->root_ents * 32 + p->bps - 1) / p->bps;
	uint64_t meta = (uint64_t)p->rsvd + (uint64_t)p->nfats * p->fat_sz +
			v->root_secs;
	if (meta >= p->tot_sec)
		return "no room for data after the FATs and root directory";
	v->root_start = p->rsvd + p->nfats * p->fat_sz;
	v->data_start = v->root_start + v->root_secs;
	v->clusters = (p->tot_sec - v->data_start) / p->spc;
	if (!v->clusters)
		return "no data clusters";
	v->type = v->clusters < 4085 ? 12 : v->clusters < 65525 ? 16 : 32;
	if ((v->type == 32) != p->fat32_layout)
		return v->type == 32 ? "too many clusters for FAT12/16" :
				       "too few clusters for FAT32";
	if (v->type == 32 && p->root_ents)
		return "FAT32 with a fixed root directory";
	if (v->type != 32 && !p->root_ents)
		return "FAT12/16 without root directory entries";
	uint64_t need = v->type == 12 ? ((uint64_t)v->clusters + 2) * 3 / 2 + 1 :
			((uint64_t)v->clusters + 2) * (v->type / 8);
	if ((uint64_t)p->fat_sz * p->bps < need)
		return "FAT too small for the cluster count";
	v->eoc_min = v->type == 12 ? 0xFF8 : v->type == 16 ? 0xFFF8 : 0x0FFFFFF8;
	v->fat_start = p->rsvd;
	v->mirror = true;
	if (v->type == 32) {
		if (p->fs_ver)
			return "unknown FAT32 version";
		if (!fat_cluster_ok(v, p->root_cluster))
			return "root cluster out of range";
		v->root_cluster = p->root_cluster;
		if (p->ext_flags & 0x80) {
			if ((p->ext_flags & 0xF) >= p->nfats)
				return "active FAT beyond the FAT count";
			v->mirror = false;
			v->fat_start = p->rsvd + (p->ext_flags & 0xF) * p->fat_sz;
		}
		if (p->fsinfo && p->fsinfo < p->rsvd && p->fsinfo != 0xFFFF)
			v->fsinfo_sec = p->fsinfo;
	}
	return NULL;
}

/* The FSInfo hint for the next free cluster; the free count is counted. */
static int
fsinfo_read(struct fat_vol *v)
{
	struct fat_cent *e;

	if (!v->fsinfo_sec)
		return 0;
	int r = fat_cache_get(v, v->fsinfo_sec, true, &e);
	if (r)
		return r;
	const uint8_t *b = e->buf;
	if (le32(b) != 0x41615252 || le32(b + 484) != 0x61417272 ||
	    le32(b + 508) != 0xAA550000) {
		v->fsinfo_sec = 0;	/* not one: leave that sector alone */
		return 0;
	}
	uint32_t hint = le32(b + 492);
	if (fat_cluster_ok(v, hint))
		v->next_free = hint;
	v->fsinfo_dirty = le32(b + 488) != v->free_count;
	return 0;
}

static int
fsinfo_write(struct fat_vol *v)
{
	struct fat_cent *e;

	if (!v->fsinfo_sec || !v->fsinfo_dirty || v->ro)
		return 0;
	int r = fat_cache_get(v, v->fsinfo_sec, true, &e);
	if (r)
		return r;
	put32(e->buf + 488, v->free_count);
	put32(e->buf + 492, v->next_free);
	e->dirty = true;
	v->fsinfo_dirty = false;
	return 0;
}

static int
count_free(struct fat_vol *v)
{
	v->free_count = 0;
	for (uint32_t c = 2; c < v->clusters + 2; c++) {
		uint32_t val;
		int r = fat_get(v, c, &val);
		if (r)
			return r;
		if (!val)
			v->free_count++;
	}
	return 0;
}

static void
vol_free(struct fat_vol *v)
{
	if (v->cache)
		for (unsigned i = 0; i < v->ncache; i++)
			v->mem.free(v->cache[i].buf);
	v->mem.free(v->cache);
	v->mem.free(v);
}

static int
cache_init(struct fat_vol *v, unsigned n)
{
	v->cache = v->mem.alloc(n * sizeof(*v->cache));
	if (!v->cache)
		return -ENOMEM;
	memset(v->cache, 0, n * sizeof(*v->cache));
	v->ncache = n;
	for (unsigned i = 0; i < n; i++) {
		v->cache[i].buf = v->mem.alloc(v->bps);
		if (!v->cache[i].buf)
			return -ENOMEM;
	}
	return 0;
}

int
fat_mount(const struct fat_dev *dev, const struct fat_mount_opts *opts,
	  struct fat_vol **out, const char **why)
{
	const char *reason = NULL;
	struct bpb p;
	int r;

	if (why)
		*why = NULL;
	if (!dev || !opts || !out || !opts->mem.alloc || !opts->mem.free ||
	    !dev->read || !dev->write)
		return -EINVAL;
	if (dev->sector_size < 512 || dev->sector_size > 4096 ||
	    !pow2(dev->sector_size)) {
		if (why)
			*why = "device sector size is not 512..4096";
		return -EINVAL;
	}
	struct fat_vol *v = opts->mem.alloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	v->dev = *dev;
	v->mem = opts->mem;
	v->now = opts->now;
	v->ro = opts->read_only;

	uint8_t *boot = v->mem.alloc(4096);
	if (!boot) {
		vol_free(v);
		return -ENOMEM;
	}
	r = dev->sectors * dev->sector_size < 512 ? -EINVAL :
	    dev->read(dev->ctx, 0, boot, 4096 / dev->sector_size < dev->sectors ?
			    4096 / dev->sector_size : (uint32_t)dev->sectors);
	if (r == -EINVAL)
		reason = "device smaller than a boot sector";
	else if (r)
		r = -EIO;
	if (!r) {
		bpb_parse(boot, &p);
		reason = bpb_check(v, &p);
		r = reason ? -EINVAL : 0;
	}
	v->mem.free(boot);
	if (!r)
		r = cache_init(v, opts->cache_sectors ? opts->cache_sectors :
					   DEFAULT_CACHE);
	if (!r)
		r = count_free(v);
	if (!r) {
		v->next_free = 2;
		r = fsinfo_read(v);
	}
	if (r) {
		if (why)
			*why = reason ? reason : r == -EIO ? "I/O error" : "out of memory";
		vol_free(v);
		return r;
	}
	*out = v;
	return 0;
}

int
fat_sync(struct fat_vol *v)
{
	if (v->ro)
		return 0;
	int r = fsinfo_write(v);
	if (!r)
		r = fat_cache_flush(v);
	if (!r && v->dev.flush)
		r = v->dev.flush(v->dev.ctx) < 0 ? -EIO : 0;
	return r;
}

int
fat_fsync(struct fat_vol *v, struct fat_node *n)
{
	(void)n;
	return fat_sync(v);
}

int
fat_unmount(struct fat_vol *v)
{
	int r = fat_sync(v);

	vol_free(v);
	return r;
}

int
fat_statfs(struct fat_vol *v, struct fat_statfs *st)
{
	st->type = v->type;
	st->cluster_size = v->csize;
	st->clusters = v->clusters;
	st->free_clusters = v->free_count;
	return 0;
}
