/*
 * FAT directories, changed: a new name's entries (its long-name pieces
 * and a short name made unique with a ~N tail) placed in a run of free
 * entries, the directory grown by a cluster when no run fits, and on top
 * of that fat_create(), fat_mkdir(), fat_unlink(), fat_rmdir() and
 * fat_rename(), plus fat_node_store() for fat_file.c.  A name is checked
 * against every entry before anything is written, and a rename adds the
 * new entry before it frees the old one.  Not for reading directories
 * (fat_dir.c) nor for the rules of names themselves (fat_name.c).
 */
#include "lib/fs/fat_internal.h"

/* ------------------------------------------------------------ new names */

/* One more zeroed cluster at the end of the directory. */
static int
dcur_grow(struct fat_dcur *c)
{
	struct fat_vol *v = c->v;
	uint32_t per = v->csize / FAT_DIRENT_SIZE, cl;

	if (!c->first || c->nent + per > FAT_DIR_MAX_ENTRIES)
		return -ENOSPC;
	int r = fat_alloc_cluster(v, c->last, &cl);
	if (r)
		return r;
	r = fat_zero_cluster(v, cl);
	if (r)
		return r;
	c->last = cl;
	c->nent += per;
	return 0;
}

struct newent {
	uint16_t u[255];
	int units;
	uint8_t sn[11];
	bool need_lfn;
	int slots;
	uint32_t skip_lo, skip_hi;	/* entries to ignore (a rename's source) */
};

/*
 * One pass over dir: -EEXIST if the name is taken, the short name made
 * unique, and a run of ne->slots free entries (*at; nent if none).
 */
static int
plan_entry(struct fat_vol *v, const char *name, size_t len, struct fat_dscan *s,
	   struct newent *ne, bool lossless, uint32_t *at)
{
	char buf[FAT_NAMEBUF];
	uint8_t *used = v->mem.alloc(FAT_TAIL_MAX / 8 + 1);
	bool exact = false;
	uint32_t run = 0, run_start = 0;
	int r = 0;

	if (!used)
		return -ENOMEM;
	memset(used, 0, FAT_TAIL_MAX / 8 + 1);
	*at = s->c.nent;
	for (uint32_t idx = 0; idx < s->c.nent && *at == s->c.nent; idx++) {
		struct fat_cent *ce;
		uint8_t *e;
		r = fat_dcur_entry(&s->c, idx, &e, &ce);
		if (r)
			goto out;
		if (e[0] == 0) {
			/* Everything from here on is free. */
			if (!run)
				run_start = idx;
			if (s->c.nent - run_start >= (uint32_t)ne->slots)
				*at = run_start;
			s->end = idx;
			break;
		}
		if (e[0] == FAT_DELETED) {
			if (!run++)
				run_start = idx;
			if (run >= (uint32_t)ne->slots)
				*at = run_start;
			continue;
		}
		run = 0;
	}
	/* Names and short names: a second, full pass through dscan. */
	s->idx = 0;
	s->lfn_next = 0;
	while ((r = fat_dscan_next(s)) == 1) {
		if (s->at >= ne->skip_lo && s->at <= ne->skip_hi)
			continue;
		if (fat_is_visible(s->ent)) {
			size_t n = s->has_lfn ? fat_dscan_long_name(s, buf) : 0;
			if ((n && fat_name_eq(buf, n, name, len)) ||
			    fat_name_eq(buf, fat_short_name(s->ent, buf), name, len)) {
				r = -EEXIST;
				goto out;
			}
		}
		fat_tail_note(s->ent, ne->sn, used, &exact);
	}
	if (r)
		goto out;
	if (!lossless || exact) {
		uint32_t num = 1;
		while (num <= FAT_TAIL_MAX && used[num / 8] & 1 << num % 8)
			num++;
		if (num > FAT_TAIL_MAX) {
			r = -ENOSPC;
			goto out;
		}
		fat_tail_apply(ne->sn, num);
	}
out:
	v->mem.free(used);
	return r;
}

/* Writes the long-name entries and the short entry e at index at. */
static int
write_entries(struct fat_dscan *s, const struct newent *ne, uint32_t at,
	      const uint8_t *e)
{
	uint8_t sum = fat_lfn_checksum(ne->sn);
	int nlfn = ne->slots - 1;

	for (int k = 0; k < ne->slots; k++) {
		struct fat_cent *ce;
		uint8_t *p;
		int r = fat_dcur_entry(&s->c, at + k, &p, &ce);
		if (r)
			return r;
		if (k == nlfn) {
			memcpy(p, e, FAT_DIRENT_SIZE);
			memcpy(p, ne->sn, 11);
		} else {
			fat_lfn_pack(p, nlfn - k, k == 0, sum, ne->u, ne->units);
		}
		ce->dirty = true;
	}
	return 0;
}

/*
 * Adds name to dir with the short entry e (attributes, cluster, size,
 * times; its name is made here).  *out is the new node.
 */
static int
dir_add(struct fat_vol *v, const struct fat_node *dir, const char *name,
	size_t len, const uint8_t *e, uint32_t skip_lo, uint32_t skip_hi,
	struct fat_node *out)
{
	struct newent ne;
	struct fat_dscan s;
	bool has_lower;
	uint32_t at;
	int r = fat_name_check(name, len);

	if (r)
		return r;
	if (v->ro)
		return -EROFS;
	r = fat_utf8_to_utf16(name, len, ne.u);
	if (r < 0)
		return r;
	ne.units = r;
	ne.skip_lo = skip_lo;
	ne.skip_hi = skip_hi;
	bool lossless = fat_short_basis(ne.u, ne.units, ne.sn, &has_lower);
	ne.need_lfn = !lossless || has_lower;
	ne.slots = 1 + (ne.need_lfn ? (ne.units + FAT_LFN_CHARS - 1) / FAT_LFN_CHARS : 0);
	r = fat_dscan_open(v, dir, &s);
	if (!r)
		r = plan_entry(v, name, len, &s, &ne, lossless, &at);
	if (r)
		return r;
	while (at == s.c.nent) {
		/* Grow until a run fits: the free tail plus new clusters. */
		uint32_t free_tail = s.end < s.c.nent ? s.c.nent - s.end : 0;
		uint32_t old = s.c.nent;
		r = dcur_grow(&s.c);
		if (r)
			return r;
		if (free_tail + (s.c.nent - old) >= (uint32_t)ne.slots)
			at = free_tail ? s.end : old;
		else if (!free_tail)
			s.end = old;
	}
	r = write_entries(&s, &ne, at, e);
	if (r)
		return r;
	/* Past the old end marker: keep the directory ending after us. */
	uint32_t after = at + ne.slots;
	if (after < s.c.nent && at >= s.end) {
		struct fat_cent *ce;
		uint8_t *p;
		r = fat_dcur_entry(&s.c, after, &p, &ce);
		if (r)
			return r;
		if (p[0]) {
			p[0] = 0;
			ce->dirty = true;
		}
	}
	s.at = after - 1;
	s.first_lfn = at;
	memcpy(s.ent, e, FAT_DIRENT_SIZE);
	memcpy(s.ent, ne.sn, 11);
	fat_node_from(v, &s, out);
	return 0;
}

/* ------------------------------------------------------------ changes */

static void
entry_init(struct fat_vol *v, uint8_t *e, uint8_t attr, uint32_t cluster)
{
	uint16_t d, t;

	memset(e, 0, FAT_DIRENT_SIZE);
	memset(e, ' ', 11);
	e[11] = attr;
	fat_timestamp(v, &d, &t);
	put16(e + 14, t);
	put16(e + 16, d);
	put16(e + 18, d);
	put16(e + 20, cluster >> 16);
	put16(e + 22, t);
	put16(e + 24, d);
	put16(e + 26, cluster);
}

/* n's short entry, after checking it still is n's. */
static int
node_entry(struct fat_vol *v, const struct fat_node *n, struct fat_dcur *c,
	   uint8_t **e, struct fat_cent **ce)
{
	int r = fat_dcur_open(v, n->dir_cluster, c);

	if (!r)
		r = fat_dcur_entry(c, n->entry, e, ce);
	if (r)
		return r;
	if ((*e)[0] == 0 || (*e)[0] == FAT_DELETED ||
	    ((*e)[11] & 0x3F) == FAT_ATTR_LFN || !fat_bytes_eq(*e, n->short_name, 11))
		return -EIO;	/* the entry went away under a stale node */
	return 0;
}

int
fat_node_store(struct fat_vol *v, struct fat_node *n, bool touch)
{
	struct fat_cent *ce;
	struct fat_dcur c;
	uint8_t *e;

	if (n->is_root)
		return 0;
	if (v->ro)
		return -EROFS;
	int r = node_entry(v, n, &c, &e, &ce);
	if (r)
		return r;
	put16(e + 20, n->first_cluster >> 16);
	put16(e + 26, n->first_cluster);
	if (!(n->attr & FAT_ATTR_DIRECTORY))
		put32(e + 28, n->size);
	if (touch) {
		fat_timestamp(v, &n->wdate, &n->wtime);
		put16(e + 22, n->wtime);
		put16(e + 24, n->wdate);
		put16(e + 18, n->wdate);
		e[11] |= FAT_ATTR_ARCHIVE;
		n->attr |= FAT_ATTR_ARCHIVE;
	}
	ce->dirty = true;
	return 0;
}

/* Marks n's entries (long-name pieces and short entry) free. */
static int
dir_remove(struct fat_vol *v, const struct fat_node *n)
{
	struct fat_cent *ce;
	struct fat_dcur c;
	uint8_t *e;
	uint32_t lo = n->lfn_entry <= n->entry &&
		      n->entry - n->lfn_entry <= FAT_LFN_MAX_ENTRIES ? n->lfn_entry : n->entry;
	int r = node_entry(v, n, &c, &e, &ce);

	if (r)
		return r;
	for (uint32_t idx = lo; idx <= n->entry; idx++) {
		r = fat_dcur_entry(&c, idx, &e, &ce);
		if (r)
			return r;
		e[0] = FAT_DELETED;
		ce->dirty = true;
	}
	return 0;
}

static int
dir_is_empty(struct fat_vol *v, const struct fat_node *dir)
{
	struct fat_dscan s;
	int r = fat_dscan_open(v, dir, &s);

	while (r >= 0 && (r = fat_dscan_next(&s)) == 1)
		if (!fat_is_dot(s.ent))
			return -ENOTEMPTY;
	return r;
}

int
fat_create(struct fat_vol *v, const struct fat_node *dir, const char *name,
	   size_t len, struct fat_node *out)
{
	uint8_t e[FAT_DIRENT_SIZE];

	if (!dir->is_root && !(dir->attr & FAT_ATTR_DIRECTORY))
		return -ENOTDIR;
	entry_init(v, e, FAT_ATTR_ARCHIVE, 0);
	return dir_add(v, dir, name, len, e, 1, 0, out);
}

/* Points the "." and ".." entries of the directory at cluster c. */
static int
write_dots(struct fat_vol *v, uint32_t c, uint32_t parent, bool both)
{
	struct fat_cent *ce;
	int r = fat_cache_get(v, fat_cluster_sector(v, c), true, &ce);

	if (r)
		return r;
	if (both) {
		entry_init(v, ce->buf, FAT_ATTR_DIRECTORY, c);
		ce->buf[0] = '.';
		memcpy(ce->buf + 32, ce->buf, FAT_DIRENT_SIZE);
		ce->buf[33] = '.';
	}
	put16(ce->buf + 32 + 20, parent >> 16);
	put16(ce->buf + 32 + 26, parent);
	ce->dirty = true;
	return 0;
}

int
fat_mkdir(struct fat_vol *v, const struct fat_node *dir, const char *name,
	  size_t len, struct fat_node *out)
{
	uint8_t e[FAT_DIRENT_SIZE];
	uint32_t c;

	if (!dir->is_root && !(dir->attr & FAT_ATTR_DIRECTORY))
		return -ENOTDIR;
	int r = fat_name_check(name, len);
	if (r)
		return r;
	if (v->ro)
		return -EROFS;
	r = fat_alloc_cluster(v, 0, &c);
	if (r)
		return r;
	r = fat_zero_cluster(v, c);
	if (!r)
		r = write_dots(v, c, dir->is_root ? 0 : dir->first_cluster, true);
	if (!r) {
		entry_init(v, e, FAT_ATTR_DIRECTORY, c);
		r = dir_add(v, dir, name, len, e, 1, 0, out);
	}
	if (r)
		fat_free_chain(v, c);
	return r;
}

static int
remove_name(struct fat_vol *v, const struct fat_node *dir, const char *name,
	    size_t len, bool want_dir)
{
	struct fat_node n;
	int r;

	if (v->ro)
		return -EROFS;
	if (len <= 2 && len && name[0] == '.' && (len == 1 || name[1] == '.'))
		return len == 1 ? -EINVAL : -ENOTEMPTY;
	r = fat_lookup(v, dir, name, len, &n);
	if (r)
		return r;
	bool is_dir = n.attr & FAT_ATTR_DIRECTORY;
	if (is_dir != want_dir)
		return is_dir ? -EISDIR : -ENOTDIR;
	if (is_dir) {
		r = dir_is_empty(v, &n);
		if (r)
			return r;
	}
	r = dir_remove(v, &n);
	if (!r && n.first_cluster)
		r = fat_free_chain(v, n.first_cluster);
	return r;
}

int
fat_unlink(struct fat_vol *v, const struct fat_node *dir, const char *name,
	   size_t len)
{
	return remove_name(v, dir, name, len, false);
}

int
fat_rmdir(struct fat_vol *v, const struct fat_node *dir, const char *name,
	  size_t len)
{
	return remove_name(v, dir, name, len, true);
}

/* -EINVAL if the directory whose first cluster is c holds (or is) dir. */
static int
check_not_under(struct fat_vol *v, uint32_t c, const struct fat_node *dir)
{
	uint32_t cur = fat_node_cluster(v, dir);

	for (uint32_t depth = 0; depth <= v->clusters; depth++) {
		if (cur == c)
			return -EINVAL;
		if (!cur || (v->type == 32 && cur == v->root_cluster))
			return 0;
		int r = fat_dotdot_cluster(v, cur, &cur);
		if (r)
			return r;
	}
	return -EIO;	/* the ".." entries form a loop */
}

int
fat_rename(struct fat_vol *v, const struct fat_node *odir, const char *oname,
	   size_t olen, const struct fat_node *ndir, const char *nname,
	   size_t nlen, struct fat_node *moved)
{
	struct fat_node src, dst, out;
	struct fat_dscan s;
	uint8_t e[FAT_DIRENT_SIZE];
	bool replace = false;
	int r;

	if (v->ro)
		return -EROFS;
	if ((!odir->is_root && !(odir->attr & FAT_ATTR_DIRECTORY)) ||
	    (!ndir->is_root && !(ndir->attr & FAT_ATTR_DIRECTORY)))
		return -ENOTDIR;
	if (!olen || (olen <= 2 && oname[0] == '.' && (olen == 1 || oname[1] == '.')))
		return olen ? -EINVAL : -ENOENT;
	r = fat_name_check(nname, nlen);
	if (r)
		return r == -EEXIST ? -EINVAL : r;
	r = fat_find_name(v, odir, oname, olen, &s);
	if (r <= 0)
		return r ? r : -ENOENT;
	fat_node_from(v, &s, &src);
	memcpy(e, s.ent, FAT_DIRENT_SIZE);
	bool is_dir = src.attr & FAT_ATTR_DIRECTORY;
	bool same_dir = fat_node_cluster(v, odir) == fat_node_cluster(v, ndir);
	if (is_dir && !same_dir) {
		r = check_not_under(v, src.first_cluster, ndir);
		if (r)
			return r;
	}
	r = fat_find_name(v, ndir, nname, nlen, &s);
	if (r < 0)
		return r;
	if (r) {
		fat_node_from(v, &s, &dst);
		replace = !(same_dir && dst.entry == src.entry);
	}
	if (replace) {
		bool dst_dir = dst.attr & FAT_ATTR_DIRECTORY;
		if (is_dir != dst_dir)
			return is_dir ? -ENOTDIR : -EISDIR;
		if (dst_dir && (r = dir_is_empty(v, &dst)))
			return r;
		r = dir_remove(v, &dst);
		if (r)
			return r;
	}
	r = dir_add(v, ndir, nname, nlen, e, same_dir ? src.lfn_entry : 1,
		    same_dir ? src.entry : 0, &out);
	if (r)
		return r;
	r = dir_remove(v, &src);
	if (!r && is_dir && !same_dir)
		r = write_dots(v, src.first_cluster,
			       ndir->is_root ? 0 : ndir->first_cluster, false);
	if (!r && replace && dst.first_cluster && dst.first_cluster != src.first_cluster)
		r = fat_free_chain(v, dst.first_cluster);
	if (moved)
		*moved = out;
	return r;
}
