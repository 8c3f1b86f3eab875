/*
 * FAT directories, read: a cursor over a directory's 32-byte entries
 * (the FAT12/16 fixed root or a cluster chain), a scan that gathers each
 * entry's long-name pieces, and on top of it fat_lookup(), fat_readdir()
 * and fat_getattr(); also FAT dates and times to and from Unix time.  A
 * directory's chain is walked in full (bounded) before it is used, so a
 * cyclic or broken directory is -EIO rather than entries seen twice.
 * Not for adding, removing or renaming entries (fat_dir_change.c), for
 * what names look like (fat_name.c), nor for file data (fat_file.c) or
 * the FAT itself (fat.c).
 */
#include "lib/fs/fat_internal.h"

/* ------------------------------------------------------------ timestamps */

static int64_t
fat_to_unix(uint16_t date, uint16_t time)
{
	unsigned m = date >> 5 & 15, d = date & 31;

	if (m < 1 || m > 12)
		m = 1;
	if (d < 1)
		d = 1;
	return days_from_civil(1980 + (date >> 9), m, d) * 86400 +
	       (time >> 11) * 3600 + (time >> 5 & 63) * 60 + (time & 31) * 2;
}

void
fat_timestamp(struct fat_vol *v, uint16_t *date, uint16_t *time)
{
	int64_t t = v->now ? v->now() : 0;
	int64_t min = days_from_civil(1980, 1, 1) * 86400;
	int64_t max = days_from_civil(2107, 12, 31) * 86400 + 86399;

	t = t < min ? min : t > max ? max : t;
	int64_t z = t / 86400 + 719468, secs = t % 86400;
	int64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);

	*date = (uint16_t)((y - 1980) << 9 | m << 5 | d);
	*time = (uint16_t)(secs / 3600 << 11 | (secs / 60 % 60) << 5 | (secs % 60) / 2);
}

/* ------------------------------------------------------------ directory cursor */

/* Opens the directory whose first cluster is first (0: fixed root). */
int
fat_dcur_open(struct fat_vol *v, uint32_t first, struct fat_dcur *c)
{
	uint32_t per = v->csize / FAT_DIRENT_SIZE, n = 0, last = 0;
	uint32_t max = (FAT_DIR_MAX_ENTRIES + per - 1) / per;

	c->v = v;
	c->first = first;
	if (!first) {
		if (v->type == 32)
			return -EIO;
		c->nent = v->root_entries;
		return 0;
	}
	for (uint32_t cl = first; cl; n++) {
		if (n >= max || n >= v->clusters || !fat_cluster_ok(v, cl))
			return -EIO;
		last = cl;
		int r = fat_next(v, cl, &cl);
		if (r)
			return r;
	}
	c->nent = n * per;
	if (c->nent > FAT_DIR_MAX_ENTRIES)
		c->nent = FAT_DIR_MAX_ENTRIES;
	c->last = last;
	c->cl_idx = 0;
	c->cl = first;
	return 0;
}

static int
dcur_opendir(struct fat_vol *v, const struct fat_node *dir, struct fat_dcur *c)
{
	if (!dir->is_root && !(dir->attr & FAT_ATTR_DIRECTORY))
		return -ENOTDIR;
	uint32_t first = fat_node_cluster(v, dir);
	if (!dir->is_root && !first)
		return -EIO;
	return fat_dcur_open(v, first, c);
}

/* The sector holding entry idx (< nent) and its offset there. */
static int
dcur_locate(struct fat_dcur *c, uint32_t idx, uint64_t *sec, uint32_t *off)
{
	struct fat_vol *v = c->v;
	uint64_t byte = (uint64_t)idx * FAT_DIRENT_SIZE;

	if (idx >= c->nent)
		return -EIO;
	if (!c->first) {
		*sec = v->root_start + byte / v->bps;
		*off = byte % v->bps;
		return 0;
	}
	uint32_t want = byte / v->csize;
	if (want < c->cl_idx) {
		c->cl_idx = 0;
		c->cl = c->first;
	}
	while (c->cl_idx < want) {
		int r = fat_next(v, c->cl, &c->cl);
		if (r)
			return r;
		if (!c->cl)
			return -EIO;
		c->cl_idx++;
	}
	uint32_t in = byte % v->csize;
	*sec = fat_cluster_sector(v, c->cl) + in / v->bps;
	*off = in % v->bps;
	return 0;
}

/* A pointer to entry idx in the cache, valid until the next cache call. */
int
fat_dcur_entry(struct fat_dcur *c, uint32_t idx, uint8_t **e, struct fat_cent **ce)
{
	uint64_t sec;
	uint32_t off;
	int r = dcur_locate(c, idx, &sec, &off);

	if (!r)
		r = fat_cache_get(c->v, sec, true, ce);
	if (r)
		return r;
	*e = (*ce)->buf + off;
	return 0;
}

/* ------------------------------------------------------------ scanning */

static void
lfn_take(struct fat_dscan *s, const uint8_t *e, uint32_t idx)
{
	int ord = e[0] & 0x1F;

	if (e[0] & FAT_LAST_LFN) {
		if (!ord || ord > FAT_LFN_MAX_ENTRIES) {
			s->lfn_next = 0;
			return;
		}
		s->lfn_count = ord;
		s->lfn_sum = e[13];
		s->lfn_start = idx;
		for (int i = 0; i < FAT_LFN_CHARS; i++)
			s->lfn[ord * FAT_LFN_CHARS + i - FAT_LFN_CHARS + 0] = 0xFFFF;
	} else if (!s->lfn_next || ord != s->lfn_next || e[13] != s->lfn_sum) {
		s->lfn_next = 0;
		return;
	}
	fat_lfn_unpack(e, s->lfn + (ord - 1) * FAT_LFN_CHARS);
	s->lfn_next = ord - 1;
	if (!s->lfn_next)
		s->lfn_next = -1;	/* complete: the short entry comes next */
}

int
fat_dscan_open(struct fat_vol *v, const struct fat_node *dir, struct fat_dscan *s)
{
	s->idx = 0;
	s->lfn_next = 0;
	int r = dcur_opendir(v, dir, &s->c);
	s->end = s->c.nent;
	return r;
}

/*
 * The next entry that is neither free nor a long-name piece (volume
 * labels and dot entries included): 1, or 0 at the end of the directory.
 */
int
fat_dscan_next(struct fat_dscan *s)
{
	while (s->idx < s->c.nent) {
		struct fat_cent *ce;
		uint8_t *e;
		uint32_t idx = s->idx++;
		int r = fat_dcur_entry(&s->c, idx, &e, &ce);
		if (r)
			return r;
		if (e[0] == 0) {
			s->end = idx;
			s->idx = s->c.nent;
			return 0;
		}
		if (e[0] == FAT_DELETED) {
			s->lfn_next = 0;
			continue;
		}
		if ((e[11] & 0x3F) == FAT_ATTR_LFN) {
			lfn_take(s, e, idx);
			continue;
		}
		memcpy(s->ent, e, FAT_DIRENT_SIZE);
		s->at = idx;
		s->has_lfn = s->lfn_next == -1 && s->lfn_start + s->lfn_count == idx &&
			     fat_lfn_checksum(e) == s->lfn_sum;
		s->first_lfn = s->has_lfn ? s->lfn_start : idx;
		s->lfn_next = 0;
		return 1;
	}
	return 0;
}

/* The name readdir reports: the long one if it is usable, else the short. */
static size_t
entry_name(const struct fat_dscan *s, char *out)
{
	size_t n = s->has_lfn ? fat_dscan_long_name(s, out) : 0;

	return n ? n : fat_short_name(s->ent, out);
}

void
fat_node_from(struct fat_vol *v, const struct fat_dscan *s, struct fat_node *n)
{
	const uint8_t *e = s->ent;

	memset(n, 0, sizeof(*n));
	n->first_cluster = le16(e + 26) | (v->type == 32 ? (uint32_t)le16(e + 20) << 16 : 0);
	n->attr = e[11];
	memcpy(n->short_name, e, 11);
	n->size = n->attr & FAT_ATTR_DIRECTORY ? 0 : le32(e + 28);
	n->wtime = le16(e + 22);
	n->wdate = le16(e + 24);
	n->dir_cluster = s->c.first;
	n->entry = s->at;
	n->lfn_entry = s->first_lfn;
}

/* Finds name (not "." or "..") in dir: 1 with s->ent, 0 if absent. */
int
fat_find_name(struct fat_vol *v, const struct fat_node *dir, const char *name,
	  size_t len, struct fat_dscan *s)
{
	char buf[FAT_NAMEBUF];
	int r = fat_dscan_open(v, dir, s);

	while (r >= 0 && (r = fat_dscan_next(s)) == 1) {
		if (!fat_is_visible(s->ent))
			continue;
		size_t n = s->has_lfn ? fat_dscan_long_name(s, buf) : 0;
		if (n && fat_name_eq(buf, n, name, len))
			return 1;
		n = fat_short_name(s->ent, buf);
		if (fat_name_eq(buf, n, name, len))
			return 1;
	}
	return r;
}

/* ------------------------------------------------------------ lookup, readdir */

void
fat_root(struct fat_vol *v, struct fat_node *out)
{
	memset(out, 0, sizeof(*out));
	out->is_root = true;
	out->attr = FAT_ATTR_DIRECTORY;
	out->first_cluster = v->type == 32 ? v->root_cluster : 0;
}

/* The first cluster a directory's ".." entry names (0: the root). */
int
fat_dotdot_cluster(struct fat_vol *v, uint32_t dir, uint32_t *parent)
{
	struct fat_dcur c;
	struct fat_cent *ce;
	uint8_t *e;
	int r = fat_dcur_open(v, dir, &c);

	if (!r)
		r = fat_dcur_entry(&c, 1, &e, &ce);
	if (r)
		return r;
	if (e[0] != '.' || e[1] != '.' || !(e[11] & FAT_ATTR_DIRECTORY))
		return -EIO;
	uint32_t p = le16(e + 26) | (v->type == 32 ? (uint32_t)le16(e + 20) << 16 : 0);
	*parent = v->type == 32 && p == v->root_cluster ? 0 : p;
	return 0;
}

static int
lookup_parent(struct fat_vol *v, const struct fat_node *dir, struct fat_node *out)
{
	struct fat_node gp;
	struct fat_dscan s;
	uint32_t p, g;
	int r;

	if (dir->is_root) {
		fat_root(v, out);
		return 0;
	}
	r = fat_dotdot_cluster(v, dir->first_cluster, &p);
	if (r)
		return r;
	if (!p) {
		fat_root(v, out);
		return 0;
	}
	/* The parent's own entry is in the grandparent: find it by cluster. */
	r = fat_dotdot_cluster(v, p, &g);
	if (r)
		return r;
	if (g)
		gp = (struct fat_node){ .first_cluster = g, .attr = FAT_ATTR_DIRECTORY };
	else
		fat_root(v, &gp);
	r = fat_dscan_open(v, &gp, &s);
	while (r >= 0 && (r = fat_dscan_next(&s)) == 1) {
		if (!fat_is_visible(s.ent) || !(s.ent[11] & FAT_ATTR_DIRECTORY))
			continue;
		fat_node_from(v, &s, out);
		if (out->first_cluster == p)
			return 0;
	}
	return r < 0 ? r : -EIO;
}

int
fat_lookup(struct fat_vol *v, const struct fat_node *dir, const char *name,
	   size_t len, struct fat_node *out)
{
	struct fat_dscan s;

	if (!dir->is_root && !(dir->attr & FAT_ATTR_DIRECTORY))
		return -ENOTDIR;
	if (!len || len > FAT_NAME_MAX)
		return len ? -ENAMETOOLONG : -ENOENT;
	if (len == 1 && name[0] == '.') {
		*out = *dir;
		return 0;
	}
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return lookup_parent(v, dir, out);
	int r = fat_find_name(v, dir, name, len, &s);
	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	fat_node_from(v, &s, out);
	return 0;
}

int
fat_readdir(struct fat_vol *v, const struct fat_node *dir, uint64_t *cookie,
	    struct fat_dirent *ent)
{
	char buf[FAT_NAMEBUF];
	struct fat_dscan s;
	int r = fat_dscan_open(v, dir, &s);

	if (r)
		return r;
	if (*cookie >= s.c.nent)
		return 0;
	s.idx = *cookie;
	while ((r = fat_dscan_next(&s)) == 1) {
		if (!fat_is_visible(s.ent))
			continue;
		size_t n = entry_name(&s, buf);
		memcpy(ent->name, buf, n + 1);
		fat_node_from(v, &s, &ent->node);
		*cookie = s.idx;
		return 1;
	}
	if (!r)
		*cookie = s.c.nent;
	return r;
}

void
fat_getattr(struct fat_vol *v, const struct fat_node *n, struct fat_attr *a)
{
	bool dir = n->is_root || n->attr & FAT_ATTR_DIRECTORY;

	memset(a, 0, sizeof(*a));
	a->is_dir = dir;
	a->mode = dir ? 0040755 : n->attr & FAT_ATTR_READ_ONLY ? 0100444 : 0100644;
	a->size = n->size;
	a->mtime = n->is_root ? 0 : fat_to_unix(n->wdate, n->wtime);
	a->blocks = (uint32_t)(((uint64_t)n->size + v->csize - 1) / v->csize *
			       (v->csize / 512));
	a->ino = n->is_root ? 1 : ((uint64_t)n->dir_cluster + 1) << 16 | n->entry;
}
