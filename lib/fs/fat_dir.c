/*
 * FAT directories: reading and writing 32-byte entries, long file names
 * (UTF-16 pieces with the short name's checksum), 8.3 short names with
 * ~N tails for new files, and the name operations on top: lookup, create,
 * mkdir, unlink, rmdir, rename and readdir.  A directory's chain is
 * walked in full (bounded) before it is used, so a cyclic or broken
 * directory is -EIO rather than entries seen twice.  Not for file data
 * (fat_file.c) nor the FAT itself (fat.c).
 */
#include "lib/fs/fat_internal.h"

/* UTF-8 of a long name: at most 255 UTF-16 units, 3 bytes each. */
#define NAMEBUF		(3 * 255 + 1)
#define LFN_CHARS	13
#define LFN_MAX_ENTRIES	20

static const uint8_t lfn_off[LFN_CHARS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22,
					    24, 28, 30 };

/* Our own: musl's memcmp may use SSE registers, which the kernel leaves
 * to the application (see lib/kernel/kstring.h). */
static bool
bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static char
ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

static bool
name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (ascii_upper(a[i]) != ascii_upper(b[i]))
			return false;
	return true;
}

static uint8_t
lfn_checksum(const uint8_t *sn)
{
	uint8_t sum = 0;

	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sn[i]);
	return sum;
}

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

struct dcur {
	struct fat_vol *v;
	uint32_t first;			/* 0: the fixed root */
	uint32_t nent;			/* entries the directory holds */
	uint32_t last;			/* its last cluster */
	uint32_t cl_idx, cl;		/* a cluster of it and its index */
};

static uint32_t
node_cluster(const struct fat_vol *v, const struct fat_node *dir)
{
	return dir->is_root ? (v->type == 32 ? v->root_cluster : 0) :
			      dir->first_cluster;
}

/* Opens the directory whose first cluster is first (0: fixed root). */
static int
dcur_open(struct fat_vol *v, uint32_t first, struct dcur *c)
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
dcur_opendir(struct fat_vol *v, const struct fat_node *dir, struct dcur *c)
{
	if (!dir->is_root && !(dir->attr & FAT_ATTR_DIRECTORY))
		return -ENOTDIR;
	uint32_t first = node_cluster(v, dir);
	if (!dir->is_root && !first)
		return -EIO;
	return dcur_open(v, first, c);
}

/* The sector holding entry idx (< nent) and its offset there. */
static int
dcur_locate(struct dcur *c, uint32_t idx, uint64_t *sec, uint32_t *off)
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
static int
dcur_entry(struct dcur *c, uint32_t idx, uint8_t **e, struct fat_cent **ce)
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

/* One more zeroed cluster at the end of the directory. */
static int
dcur_grow(struct dcur *c)
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

/* ------------------------------------------------------------ scanning */

struct dscan {
	struct dcur c;
	uint32_t idx;			/* next entry to read */
	/* The long name being gathered. */
	uint16_t lfn[LFN_MAX_ENTRIES * LFN_CHARS];
	int lfn_next;			/* ordinal expected next; 0: none */
	int lfn_count;
	uint8_t lfn_sum;
	uint32_t lfn_start;
	/* What dscan_next() found. */
	uint8_t ent[FAT_DIRENT_SIZE];
	uint32_t at;			/* its index */
	uint32_t first_lfn;		/* its first long-name entry (== at: none) */
	bool has_lfn;
	uint32_t end;			/* index of the end marker (nent: none seen) */
};

static void
lfn_take(struct dscan *s, const uint8_t *e, uint32_t idx)
{
	int ord = e[0] & 0x1F;

	if (e[0] & FAT_LAST_LFN) {
		if (!ord || ord > LFN_MAX_ENTRIES) {
			s->lfn_next = 0;
			return;
		}
		s->lfn_count = ord;
		s->lfn_sum = e[13];
		s->lfn_start = idx;
		for (int i = 0; i < LFN_CHARS; i++)
			s->lfn[ord * LFN_CHARS + i - LFN_CHARS + 0] = 0xFFFF;
	} else if (!s->lfn_next || ord != s->lfn_next || e[13] != s->lfn_sum) {
		s->lfn_next = 0;
		return;
	}
	for (int i = 0; i < LFN_CHARS; i++)
		s->lfn[(ord - 1) * LFN_CHARS + i] = le16(e + lfn_off[i]);
	s->lfn_next = ord - 1;
	if (!s->lfn_next)
		s->lfn_next = -1;	/* complete: the short entry comes next */
}

static int
dscan_open(struct fat_vol *v, const struct fat_node *dir, struct dscan *s)
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
static int
dscan_next(struct dscan *s)
{
	while (s->idx < s->c.nent) {
		struct fat_cent *ce;
		uint8_t *e;
		uint32_t idx = s->idx++;
		int r = dcur_entry(&s->c, idx, &e, &ce);
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
			     lfn_checksum(e) == s->lfn_sum;
		s->first_lfn = s->has_lfn ? s->lfn_start : idx;
		s->lfn_next = 0;
		return 1;
	}
	return 0;
}

static bool
is_dot(const uint8_t *e)
{
	return e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '));
}

static bool
is_visible(const uint8_t *e)
{
	return !(e[11] & FAT_ATTR_VOLUME_ID) && !is_dot(e);
}

/* The short name as text: "NAME.EXT", lower case where the NT flags say. */
static size_t
short_name(const uint8_t *e, char *out)
{
	size_t n = 0;
	int b = 8, x = 3;

	while (b > 0 && e[b - 1] == ' ')
		b--;
	while (x > 0 && e[8 + x - 1] == ' ')
		x--;
	for (int i = 0; i < b; i++) {
		char c = i == 0 && e[0] == 0x05 ? 0xE5 : e[i];
		if (e[12] & FAT_NT_LOWER_BASE && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[n++] = (uint8_t)c >= 0x80 || (uint8_t)c < 0x20 ? '_' : c;
	}
	if (x)
		out[n++] = '.';
	for (int i = 0; i < x; i++) {
		char c = e[8 + i];
		if (e[12] & FAT_NT_LOWER_EXT && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		out[n++] = (uint8_t)c >= 0x80 || (uint8_t)c < 0x20 ? '_' : c;
	}
	out[n] = 0;
	return n;
}

/* The gathered long name as UTF-8; 0 if it is not valid UTF-16. */
static size_t
long_name(const struct dscan *s, char *out)
{
	size_t n = 0;
	int units = s->lfn_count * LFN_CHARS;

	for (int i = 0; i < units; i++) {
		uint32_t u = s->lfn[i];
		if (u == 0 || u == 0xFFFF)
			break;
		if (u >= 0xDC00 && u <= 0xDFFF)
			return 0;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (i + 1 >= units || s->lfn[i + 1] < 0xDC00 ||
			    s->lfn[i + 1] > 0xDFFF)
				return 0;
			u = 0x10000 + ((u - 0xD800) << 10) + (s->lfn[++i] - 0xDC00);
		}
		if (u == '/' || u < 0x20)
			return 0;
		if (u < 0x80) {
			out[n++] = u;
		} else if (u < 0x800) {
			out[n++] = 0xC0 | u >> 6;
			out[n++] = 0x80 | (u & 0x3F);
		} else if (u < 0x10000) {
			out[n++] = 0xE0 | u >> 12;
			out[n++] = 0x80 | (u >> 6 & 0x3F);
			out[n++] = 0x80 | (u & 0x3F);
		} else {
			out[n++] = 0xF0 | u >> 18;
			out[n++] = 0x80 | (u >> 12 & 0x3F);
			out[n++] = 0x80 | (u >> 6 & 0x3F);
			out[n++] = 0x80 | (u & 0x3F);
		}
		if (n > FAT_NAME_MAX)
			return 0;
	}
	out[n] = 0;
	return n;
}

/* The name readdir reports: the long one if it is usable, else the short. */
static size_t
entry_name(const struct dscan *s, char *out)
{
	size_t n = s->has_lfn ? long_name(s, out) : 0;

	return n ? n : short_name(s->ent, out);
}

static void
node_from(struct fat_vol *v, const struct dscan *s, struct fat_node *n)
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
static int
find_name(struct fat_vol *v, const struct fat_node *dir, const char *name,
	  size_t len, struct dscan *s)
{
	char buf[NAMEBUF];
	int r = dscan_open(v, dir, s);

	while (r >= 0 && (r = dscan_next(s)) == 1) {
		if (!is_visible(s->ent))
			continue;
		size_t n = s->has_lfn ? long_name(s, buf) : 0;
		if (n && name_eq(buf, n, name, len))
			return 1;
		n = short_name(s->ent, buf);
		if (name_eq(buf, n, name, len))
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
static int
dotdot_cluster(struct fat_vol *v, uint32_t dir, uint32_t *parent)
{
	struct dcur c;
	struct fat_cent *ce;
	uint8_t *e;
	int r = dcur_open(v, dir, &c);

	if (!r)
		r = dcur_entry(&c, 1, &e, &ce);
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
	struct dscan s;
	uint32_t p, g;
	int r;

	if (dir->is_root) {
		fat_root(v, out);
		return 0;
	}
	r = dotdot_cluster(v, dir->first_cluster, &p);
	if (r)
		return r;
	if (!p) {
		fat_root(v, out);
		return 0;
	}
	/* The parent's own entry is in the grandparent: find it by cluster. */
	r = dotdot_cluster(v, p, &g);
	if (r)
		return r;
	if (g)
		gp = (struct fat_node){ .first_cluster = g, .attr = FAT_ATTR_DIRECTORY };
	else
		fat_root(v, &gp);
	r = dscan_open(v, &gp, &s);
	while (r >= 0 && (r = dscan_next(&s)) == 1) {
		if (!is_visible(s.ent) || !(s.ent[11] & FAT_ATTR_DIRECTORY))
			continue;
		node_from(v, &s, out);
		if (out->first_cluster == p)
			return 0;
	}
	return r < 0 ? r : -EIO;
}

int
fat_lookup(struct fat_vol *v, const struct fat_node *dir, const char *name,
	   size_t len, struct fat_node *out)
{
	struct dscan s;

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
	int r = find_name(v, dir, name, len, &s);
	if (r < 0)
		return r;
	if (!r)
		return -ENOENT;
	node_from(v, &s, out);
	return 0;
}

int
fat_readdir(struct fat_vol *v, const struct fat_node *dir, uint64_t *cookie,
	    struct fat_dirent *ent)
{
	char buf[NAMEBUF];
	struct dscan s;
	int r = dscan_open(v, dir, &s);

	if (r)
		return r;
	if (*cookie >= s.c.nent)
		return 0;
	s.idx = *cookie;
	while ((r = dscan_next(&s)) == 1) {
		if (!is_visible(s.ent))
			continue;
		size_t n = entry_name(&s, buf);
		memcpy(ent->name, buf, n + 1);
		node_from(v, &s, &ent->node);
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

/* ------------------------------------------------------------ new names */

/* Decodes UTF-8 into UTF-16; the unit count, or -EINVAL. */
static int
utf8_to_utf16(const char *name, size_t len, uint16_t *u)
{
	int n = 0;

	for (size_t i = 0; i < len;) {
		uint8_t c = name[i];
		uint32_t cp;
		int more;
		if (c < 0x80)
			cp = c, more = 0;
		else if ((c & 0xE0) == 0xC0)
			cp = c & 0x1F, more = 1;
		else if ((c & 0xF0) == 0xE0)
			cp = c & 0x0F, more = 2;
		else if ((c & 0xF8) == 0xF0)
			cp = c & 0x07, more = 3;
		else
			return -EINVAL;
		if (len - i - 1 < (size_t)more)
			return -EINVAL;
		for (int k = 1; k <= more; k++) {
			uint8_t cc = name[i + k];
			if ((cc & 0xC0) != 0x80)
				return -EINVAL;
			cp = cp << 6 | (cc & 0x3F);
		}
		static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
		if (cp < min[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return -EINVAL;
		i += more + 1;
		if (n + (cp >= 0x10000 ? 2 : 1) > 255)
			return -ENAMETOOLONG;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[n++] = 0xD800 + (cp >> 10);
			u[n++] = 0xDC00 + (cp & 0x3FF);
		} else {
			u[n++] = cp;
		}
	}
	return n;
}

/* A name a new entry may have: 1..255 bytes, no reserved characters. */
static int
name_check(const char *name, size_t len)
{
	if (!len)
		return -ENOENT;
	if (len > FAT_NAME_MAX)
		return -ENAMETOOLONG;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EEXIST;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		if (c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' ||
		    c == '<' || c == '>' || c == '?' || c == '\\' || c == '|' || c == 0x7F)
			return -EINVAL;
	}
	if (name[len - 1] == '.' || name[len - 1] == ' ')
		return -EINVAL;	/* other systems would drop them */
	return 0;
}

static bool
short_char_ok(uint8_t c)
{
	static const bool special[0x80] = {
		['$'] = 1, ['%'] = 1, ['\''] = 1, ['-'] = 1, ['_'] = 1, ['@'] = 1,
		['~'] = 1, ['`'] = 1, ['!'] = 1, ['('] = 1, [')'] = 1, ['{'] = 1,
		['}'] = 1, ['^'] = 1, ['#'] = 1, ['&'] = 1,
	};

	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && c < 0x80 && special[c]);
}

/*
 * The 8.3 basis of a long name (spec section 7.4): upper case, invalid
 * characters as '_', spaces and dots dropped.  true if nothing was lost
 * but case, so the basis may be used without a tail.
 */
static bool
short_basis(const uint16_t *u, int n, uint8_t *sn, bool *has_lower)
{
	bool lossless = true;
	int dot = -1, i, b = 0, x = 0;

	memset(sn, ' ', 11);
	*has_lower = false;
	for (i = n - 1; i > 0; i--)
		if (u[i] == '.') {
			dot = i;
			break;
		}
	for (i = 0; i < n && (u[i] == '.' || u[i] == ' '); i++)
		lossless = false;
	for (; i < (dot < 0 ? n : dot); i++) {
		uint16_t c = u[i];
		if (c == ' ' || c == '.') {
			lossless = false;
			continue;
		}
		if (b == 8) {
			lossless = false;
			break;
		}
		if (c >= 'a' && c <= 'z')
			*has_lower = true, c -= 'a' - 'A';
		if (c > 0x7F || !short_char_ok(c))
			c = '_', lossless = false;
		sn[b++] = c;
	}
	for (i = dot + 1; dot >= 0 && i < n; i++) {
		uint16_t c = u[i];
		if (c == ' ') {
			lossless = false;
			continue;
		}
		if (x == 3) {
			lossless = false;
			break;
		}
		if (c >= 'a' && c <= 'z')
			*has_lower = true, c -= 'a' - 'A';
		if (c > 0x7F || !short_char_ok(c))
			c = '_', lossless = false;
		sn[8 + x++] = c;
	}
	if (!b) {
		sn[0] = '_';
		lossless = false;
	}
	return lossless;
}

#define TAIL_MAX	65535

/*
 * Marks in used[] every tail number N for which dir holds basis~N, and
 * says whether it holds the basis itself.
 */
static void
tail_note(const uint8_t *sn, const uint8_t *basis, uint8_t *used, bool *exact)
{
	if (!bytes_eq(sn + 8, basis + 8, 3))
		return;
	if (bytes_eq(sn, basis, 8)) {
		*exact = true;
		return;
	}
	int len = 8, t, blen = 8;
	while (len > 0 && sn[len - 1] == ' ')
		len--;
	while (blen > 0 && basis[blen - 1] == ' ')
		blen--;
	for (t = len - 1; t >= 0 && sn[t] != '~'; t--)
		;
	int digits = len - t - 1;
	if (t < 0 || digits < 1 || digits > 5 || sn[t + 1] == '0')
		return;
	uint32_t num = 0;
	for (int i = t + 1; i < len; i++) {
		if (sn[i] < '0' || sn[i] > '9')
			return;
		num = num * 10 + (sn[i] - '0');
	}
	int keep = blen < 7 - digits ? blen : 7 - digits;
	if (t != keep || !bytes_eq(sn, basis, keep) || num > TAIL_MAX)
		return;
	used[num / 8] |= 1 << num % 8;
}

static void
tail_apply(uint8_t *sn, uint32_t num)
{
	char d[8];
	int nd = 0, blen = 8;

	while (blen > 0 && sn[blen - 1] == ' ')
		blen--;
	for (uint32_t k = num; k; k /= 10)
		d[nd++] = '0' + k % 10;
	int keep = blen < 7 - nd ? blen : 7 - nd;
	sn[keep] = '~';
	for (int i = 0; i < nd; i++)
		sn[keep + 1 + i] = d[nd - 1 - i];
	for (int i = keep + 1 + nd; i < 8; i++)
		sn[i] = ' ';
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
plan_entry(struct fat_vol *v, const char *name, size_t len, struct dscan *s,
	   struct newent *ne, bool lossless, uint32_t *at)
{
	char buf[NAMEBUF];
	uint8_t *used = v->mem.alloc(TAIL_MAX / 8 + 1);
	bool exact = false;
	uint32_t run = 0, run_start = 0;
	int r = 0;

	if (!used)
		return -ENOMEM;
	memset(used, 0, TAIL_MAX / 8 + 1);
	*at = s->c.nent;
	for (uint32_t idx = 0; idx < s->c.nent && *at == s->c.nent; idx++) {
		struct fat_cent *ce;
		uint8_t *e;
		r = dcur_entry(&s->c, idx, &e, &ce);
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
	while ((r = dscan_next(s)) == 1) {
		if (s->at >= ne->skip_lo && s->at <= ne->skip_hi)
			continue;
		if (is_visible(s->ent)) {
			size_t n = s->has_lfn ? long_name(s, buf) : 0;
			if ((n && name_eq(buf, n, name, len)) ||
			    name_eq(buf, short_name(s->ent, buf), name, len)) {
				r = -EEXIST;
				goto out;
			}
		}
		tail_note(s->ent, ne->sn, used, &exact);
	}
	if (r)
		goto out;
	if (!lossless || exact) {
		uint32_t num = 1;
		while (num <= TAIL_MAX && used[num / 8] & 1 << num % 8)
			num++;
		if (num > TAIL_MAX) {
			r = -ENOSPC;
			goto out;
		}
		tail_apply(ne->sn, num);
	}
out:
	v->mem.free(used);
	return r;
}

/* Writes the long-name entries and the short entry e at index at. */
static int
write_entries(struct dscan *s, const struct newent *ne, uint32_t at,
	      const uint8_t *e)
{
	uint8_t sum = lfn_checksum(ne->sn);
	int nlfn = ne->slots - 1;

	for (int k = 0; k < ne->slots; k++) {
		struct fat_cent *ce;
		uint8_t *p;
		int r = dcur_entry(&s->c, at + k, &p, &ce);
		if (r)
			return r;
		if (k == nlfn) {
			memcpy(p, e, FAT_DIRENT_SIZE);
			memcpy(p, ne->sn, 11);
		} else {
			int ord = nlfn - k;
			memset(p, 0, FAT_DIRENT_SIZE);
			p[0] = ord | (k == 0 ? FAT_LAST_LFN : 0);
			p[11] = FAT_ATTR_LFN;
			p[13] = sum;
			for (int i = 0; i < LFN_CHARS; i++) {
				int j = (ord - 1) * LFN_CHARS + i;
				uint16_t c = j < ne->units ? ne->u[j] :
					     j == ne->units ? 0 : 0xFFFF;
				put16(p + lfn_off[i], c);
			}
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
	struct dscan s;
	bool has_lower;
	uint32_t at;
	int r = name_check(name, len);

	if (r)
		return r;
	if (v->ro)
		return -EROFS;
	r = utf8_to_utf16(name, len, ne.u);
	if (r < 0)
		return r;
	ne.units = r;
	ne.skip_lo = skip_lo;
	ne.skip_hi = skip_hi;
	bool lossless = short_basis(ne.u, ne.units, ne.sn, &has_lower);
	ne.need_lfn = !lossless || has_lower;
	ne.slots = 1 + (ne.need_lfn ? (ne.units + LFN_CHARS - 1) / LFN_CHARS : 0);
	r = dscan_open(v, dir, &s);
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
		r = dcur_entry(&s.c, after, &p, &ce);
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
	node_from(v, &s, out);
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
node_entry(struct fat_vol *v, const struct fat_node *n, struct dcur *c,
	   uint8_t **e, struct fat_cent **ce)
{
	int r = dcur_open(v, n->dir_cluster, c);

	if (!r)
		r = dcur_entry(c, n->entry, e, ce);
	if (r)
		return r;
	if ((*e)[0] == 0 || (*e)[0] == FAT_DELETED ||
	    ((*e)[11] & 0x3F) == FAT_ATTR_LFN || !bytes_eq(*e, n->short_name, 11))
		return -EIO;	/* the entry went away under a stale node */
	return 0;
}

int
fat_node_store(struct fat_vol *v, struct fat_node *n, bool touch)
{
	struct fat_cent *ce;
	struct dcur c;
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
	struct dcur c;
	uint8_t *e;
	uint32_t lo = n->lfn_entry <= n->entry &&
		      n->entry - n->lfn_entry <= LFN_MAX_ENTRIES ? n->lfn_entry : n->entry;
	int r = node_entry(v, n, &c, &e, &ce);

	if (r)
		return r;
	for (uint32_t idx = lo; idx <= n->entry; idx++) {
		r = dcur_entry(&c, idx, &e, &ce);
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
	struct dscan s;
	int r = dscan_open(v, dir, &s);

	while (r >= 0 && (r = dscan_next(&s)) == 1)
		if (!is_dot(s.ent))
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
	int r = name_check(name, len);
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
	uint32_t cur = node_cluster(v, dir);

	for (uint32_t depth = 0; depth <= v->clusters; depth++) {
		if (cur == c)
			return -EINVAL;
		if (!cur || (v->type == 32 && cur == v->root_cluster))
			return 0;
		int r = dotdot_cluster(v, cur, &cur);
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
	struct dscan s;
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
	r = name_check(nname, nlen);
	if (r)
		return r == -EEXIST ? -EINVAL : r;
	r = find_name(v, odir, oname, olen, &s);
	if (r <= 0)
		return r ? r : -ENOENT;
	node_from(v, &s, &src);
	memcpy(e, s.ent, FAT_DIRENT_SIZE);
	bool is_dir = src.attr & FAT_ATTR_DIRECTORY;
	bool same_dir = node_cluster(v, odir) == node_cluster(v, ndir);
	if (is_dir && !same_dir) {
		r = check_not_under(v, src.first_cluster, ndir);
		if (r)
			return r;
	}
	r = find_name(v, ndir, nname, nlen, &s);
	if (r < 0)
		return r;
	if (r) {
		node_from(v, &s, &dst);
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
