/*
 * FAT file data: read, write and truncate at byte offsets over a file's
 * cluster chain.  The first access to a node walks its whole chain once
 * (bounded by the volume's cluster count) and checks that it can hold the
 * size in the directory entry, so a cycle, a cluster number beyond the
 * volume or a short chain is -EIO before a single byte is returned; after
 * that a hint makes sequential access cost one FAT lookup per cluster.
 * Whole sectors move between the caller's buffer and the device without a
 * copy; partial sectors go through the volume's cache.  Not for
 * directories (fat_dir.c).
 */
#include "lib/fs/fat_internal.h"

int
fat_node_check(struct fat_vol *v, struct fat_node *n)
{
	uint32_t len;

	if (n->is_root || n->attr & FAT_ATTR_DIRECTORY)
		return -EISDIR;
	if (n->checked)
		return 0;
	int r = fat_chain_length(v, n->first_cluster, v->clusters, &len);
	if (r)
		return r;
	if (len < ((uint64_t)n->size + v->csize - 1) / v->csize)
		return -EIO;	/* the size claims clusters the chain lacks */
	n->nclusters = len;
	n->hint_index = n->hint_cluster = 0;
	n->checked = true;
	return 0;
}

int
fat_file_cluster(struct fat_vol *v, struct fat_node *n, uint32_t index,
		 uint32_t *out)
{
	uint32_t i = 0, c = n->first_cluster;

	if (index >= n->nclusters)
		return -EIO;
	if (n->hint_cluster && n->hint_index <= index) {
		i = n->hint_index;
		c = n->hint_cluster;
	}
	for (; i < index; i++) {
		int r = fat_next(v, c, &c);
		if (r)
			return r;
		if (!c)
			return -EIO;
	}
	n->hint_index = index;
	n->hint_cluster = c;
	*out = c;
	return 0;
}

/* The most sectors one pass of xfer() hands to the sector layer. */
#define XFER_MAX_SECTORS	65536

/*
 * Moves len bytes at off of n's data: into rbuf, out of wbuf, or (both
 * NULL) zeros out.  The clusters must exist.
 */
static int
xfer(struct fat_vol *v, struct fat_node *n, uint64_t off, size_t len,
     uint8_t *rbuf, const uint8_t *wbuf)
{
	while (len) {
		uint32_t c, in = off % v->csize, soff = in % v->bps;
		int r = fat_file_cluster(v, n, off / v->csize, &c);
		if (r)
			return r;
		uint64_t sec = fat_cluster_sector(v, c) + in / v->bps;
		size_t chunk;
		if (!soff && len >= v->bps && (rbuf || wbuf)) {
			uint64_t want = len / v->bps;
			uint32_t count = v->spc - in / v->bps;
			uint32_t idx = (uint32_t)(off / v->csize), last = c, next;
			/*
			 * Clusters that follow each other on the disk make one
			 * request: a file laid out in a row (mcopy, or our own
			 * allocator on a fresh volume) moves in a few large
			 * requests instead of one per cluster.  A lookup error
			 * just ends the run; the next pass reports it.
			 */
			while (count < want && count <= XFER_MAX_SECTORS - v->spc &&
			       idx + 1 < n->nclusters &&
			       !fat_file_cluster(v, n, idx + 1, &next) && next == last + 1) {
				idx++, last = next;
				count += v->spc;
			}
			if (count > want)
				count = (uint32_t)want;
			chunk = (size_t)count * v->bps;
			r = rbuf ? fat_sectors_read(v, sec, rbuf, count) :
				   fat_sectors_write(v, sec, wbuf, count);
		} else {
			struct fat_cent *e;
			chunk = v->bps - soff;
			if (chunk > len)
				chunk = len;
			r = fat_cache_get(v, sec, rbuf || chunk < v->bps, &e);
			if (r)
				return r;
			if (rbuf) {
				memcpy(rbuf, e->buf + soff, chunk);
			} else {
				if (wbuf)
					memcpy(e->buf + soff, wbuf, chunk);
				else
					memset(e->buf + soff, 0, chunk);
				e->dirty = true;
			}
		}
		if (r)
			return r;
		off += chunk, len -= chunk;
		if (rbuf)
			rbuf += chunk;
		if (wbuf)
			wbuf += chunk;
	}
	return 0;
}

int64_t
fat_read(struct fat_vol *v, struct fat_node *n, uint64_t off, void *buf,
	 size_t len)
{
	int r = fat_node_check(v, n);

	if (r)
		return r;
	if (off >= n->size)
		return 0;
	if (len > n->size - off)
		len = n->size - off;
	r = xfer(v, n, off, len, buf, NULL);
	return r ? r : (int64_t)len;
}

/* Makes the chain at least want clusters long. */
static int
grow_chain(struct fat_vol *v, struct fat_node *n, uint32_t want)
{
	uint32_t last = 0, c;
	int r;

	if (want <= n->nclusters)
		return 0;
	if (n->nclusters && (r = fat_file_cluster(v, n, n->nclusters - 1, &last)))
		return r;
	while (n->nclusters < want) {
		r = fat_alloc_cluster(v, last, &c);
		if (r)
			return r;
		if (!n->first_cluster)
			n->first_cluster = c;
		n->hint_index = n->nclusters++;
		n->hint_cluster = last = c;
	}
	return 0;
}

/* Cuts the chain to keep clusters and frees the rest. */
static int
shrink_chain(struct fat_vol *v, struct fat_node *n, uint32_t keep)
{
	uint32_t c, next;
	int r;

	if (keep >= n->nclusters)
		return 0;
	if (!keep) {
		r = fat_free_chain(v, n->first_cluster);
		n->first_cluster = 0;
	} else {
		r = fat_file_cluster(v, n, keep - 1, &c);
		if (!r)
			r = fat_next(v, c, &next);
		if (!r)
			r = fat_set(v, c, 0x0FFFFFFF);
		if (!r)
			r = fat_free_chain(v, next);
	}
	n->nclusters = keep;
	if (n->hint_index >= keep)
		n->hint_index = n->hint_cluster = 0;
	return r;
}

static uint32_t
clusters_for(const struct fat_vol *v, uint64_t size)
{
	return (uint32_t)((size + v->csize - 1) / v->csize);
}

int64_t
fat_write(struct fat_vol *v, struct fat_node *n, uint64_t off, const void *buf,
	  size_t len)
{
	int r = fat_node_check(v, n);

	if (r)
		return r;
	if (v->ro)
		return -EROFS;
	if (!len)
		return 0;
	if (off >= FAT_FILE_MAX)
		return -EFBIG;
	if (len > FAT_FILE_MAX - off)
		len = FAT_FILE_MAX - off;
	if (off > n->size) {
		r = fat_truncate(v, n, off);
		if (r)
			return r;
	}
	r = grow_chain(v, n, clusters_for(v, off + len));
	if (r == -ENOSPC && (uint64_t)n->nclusters * v->csize > off) {
		/* Write what fits. */
		uint64_t room = (uint64_t)n->nclusters * v->csize - off;
		len = room < len ? room : len;
		r = 0;
	}
	if (!r)
		r = xfer(v, n, off, len, NULL, buf);
	if (!r && off + len > n->size)
		n->size = off + len;
	/* Even after an error: the entry must name a first cluster we took. */
	int s = fat_node_store(v, n, !r);
	if (r)
		return r;
	return s ? s : (int64_t)len;
}

int
fat_truncate(struct fat_vol *v, struct fat_node *n, uint64_t size)
{
	int r = fat_node_check(v, n);

	if (r)
		return r;
	if (v->ro)
		return -EROFS;
	if (size > FAT_FILE_MAX)
		return -EFBIG;
	uint32_t old = n->size;
	if (size > old) {
		uint32_t had = n->nclusters;
		r = grow_chain(v, n, clusters_for(v, size));
		if (!r)
			r = xfer(v, n, old, size - old, NULL, NULL);
		if (r) {
			shrink_chain(v, n, had);
			fat_node_store(v, n, false);
			return r;
		}
	} else {
		r = shrink_chain(v, n, clusters_for(v, size));
	}
	if (!r)
		n->size = size;
	int s = fat_node_store(v, n, true);
	return r ? r : s;
}
