/*
 * The file cache: a response for a small static file is its header plus a
 * pointer into this cache, written with one writev, so the common request
 * costs no file system call at all.  One table, shared by every worker
 * under one mutex: a lookup holds it for a hash walk and a reference
 * count, which is short next to the system calls around it, and a shared
 * table means each file is read once, not once per core.
 *
 * Entries are whole files up to file_max bytes (larger ones are streamed
 * by the caller); the total is bounded by max_bytes with least-recently-
 * used eviction.  A file that a RAM file system holds already (the
 * initrd's) is not copied once more: its entry keeps the file open and
 * responses sendfile() from it, which on Toro puts the file's own bytes
 * on the wire without any copy.  An entry handed to a response is reference-counted, so
 * eviction or replacement never frees bytes a connection is still
 * sending.  Files may change under us (a virtio-fs share being edited):
 * an entry is trusted for a second after its file was last stat'ed, then
 * the caller stats the file again and cache_load() keeps the entry if the
 * identity, size and modification time are unchanged.
 */
#define _GNU_SOURCE
#include "cache.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

/* statfs f_type of the file systems whose files are memory already. */
#define RAMFS_MAGIC	0x858458f6
#define TMPFS_MAGIC	0x01021994

#define CACHE_BUCKETS	4096
#define REVALIDATE_MS	1000
#define LENT_MAX	256	/* entries that hold a descriptor instead of bytes */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry **table;
static struct cache_entry lru;	/* sentinel: lru.lru_next is the most recent */
static size_t max_bytes, file_max, lend_min, bytes_used, entries;
static uint64_t hits, misses, evictions;
static int lent;		/* entries with a descriptor, atomic */

static size_t
bucket_of(const char *key)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ull;
	return (size_t)(h % CACHE_BUCKETS);
}

int
cache_init(size_t max, size_t fmax, size_t lmin)
{
	lend_min = lmin;
	table = calloc(CACHE_BUCKETS, sizeof(*table));
	if (!table)
		return -1;
	lru.lru_next = lru.lru_prev = &lru;
	max_bytes = max;
	file_max = fmax < max ? fmax : max;
	return 0;
}

static void
entry_free(struct cache_entry *e)
{
	free(e->key);
	free(e->data);
	if (e->fd >= 0) {
		close(e->fd);
		__atomic_sub_fetch(&lent, 1, __ATOMIC_RELAXED);
	}
	free(e);
}

static struct cache_entry *
find_locked(const char *key)
{
	for (struct cache_entry *e = table[bucket_of(key)]; e; e = e->hash_next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static void
lru_unlink(struct cache_entry *e)
{
	e->lru_prev->lru_next = e->lru_next;
	e->lru_next->lru_prev = e->lru_prev;
}

static void
lru_push_front(struct cache_entry *e)
{
	e->lru_next = lru.lru_next;
	e->lru_prev = &lru;
	lru.lru_next->lru_prev = e;
	lru.lru_next = e;
}

/* Takes e out of the table; returns 1 when the caller must free it. */
static int
remove_locked(struct cache_entry *e)
{
	struct cache_entry **pp = &table[bucket_of(e->key)];

	while (*pp != e)
		pp = &(*pp)->hash_next;
	*pp = e->hash_next;
	lru_unlink(e);
	e->in_table = 0;
	bytes_used -= e->data ? e->size : 0;
	entries--;
	return --e->refs == 0;
}

static void
insert_locked(struct cache_entry *e)
{
	size_t b = bucket_of(e->key);

	e->hash_next = table[b];
	table[b] = e;
	lru_push_front(e);
	e->in_table = 1;
	e->refs++;
	bytes_used += e->data ? e->size : 0;
	entries++;
}

struct cache_entry *
cache_lookup(const char *key, int64_t now_ms)
{
	struct cache_entry *e;

	pthread_mutex_lock(&cache_lock);
	e = find_locked(key);
	if (e && now_ms - e->checked_ms < REVALIDATE_MS) {
		e->refs++;
		lru_unlink(e);
		lru_push_front(e);
		hits++;
	} else {
		e = NULL;
	}
	pthread_mutex_unlock(&cache_lock);
	return e;
}

static int
same_file(const struct cache_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	       e->size == (size_t)st->st_size && e->mtime == st->st_mtime;
}

/* Room for one more entry with a descriptor (LENT_MAX)? */
static int
lend_one(void)
{
	if (__atomic_add_fetch(&lent, 1, __ATOMIC_RELAXED) <= LENT_MAX)
		return 1;
	__atomic_sub_fetch(&lent, 1, __ATOMIC_RELAXED);
	return 0;
}

/* A new entry holding fs_path's bytes (or its descriptor), with one
 * reference (the caller's). */
static struct cache_entry *
read_entry(const char *key, const char *fs_path, int *err)
{
	struct cache_entry *e = calloc(1, sizeof(*e));
	struct statfs sf;
	struct stat st;
	size_t got = 0;
	int fd = -1;

	if (e)
		e->fd = -1;
	if (!e || !(e->key = strdup(key))) {
		*err = -ENOMEM;
		goto fail;
	}
	fd = open(fs_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > file_max) {
		*err = S_ISREG(st.st_mode) ? -EFBIG : -EACCES;
		goto fail;
	}
	if (lend_min && (uint64_t)st.st_size >= lend_min && fstatfs(fd, &sf) == 0 &&
	    ((unsigned long)sf.f_type == RAMFS_MAGIC || (unsigned long)sf.f_type == TMPFS_MAGIC) &&
	    lend_one()) {
		e->fd = fd;	/* lent by the file system: nothing to read */
		fd = -1;
		got = (size_t)st.st_size;
	} else if (!(e->data = malloc(st.st_size ? (size_t)st.st_size : 1))) {
		*err = -ENOMEM;
		goto fail;
	}
	while (e->data && got < (size_t)st.st_size) {
		ssize_t n = pread(fd, e->data + got, (size_t)st.st_size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*err = -errno;
			goto fail;
		}
		if (n == 0)
			break;	/* truncated meanwhile: serve what is there */
		got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	e->size = got;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->mtime = st.st_mtime;
	e->content_type = http_content_type(fs_path);
	http_format_date(st.st_mtime, e->last_modified);
	e->refs = 1;
	return e;
fail:
	if (fd >= 0)
		close(fd);
	if (e)
		entry_free(e);
	return NULL;
}

struct cache_entry *
cache_load(const char *key, const char *fs_path, const struct stat *st,
	   int64_t now_ms, int *err)
{
	struct cache_entry *e, *old, *victim = NULL;
	int free_old = 0;

	pthread_mutex_lock(&cache_lock);
	e = find_locked(key);
	if (e && same_file(e, st)) {
		e->checked_ms = now_ms;
		e->refs++;
		hits++;
		pthread_mutex_unlock(&cache_lock);
		return e;
	}
	if (e && remove_locked(e))
		victim = e;
	misses++;
	pthread_mutex_unlock(&cache_lock);
	if (victim)
		entry_free(victim);

	/* The read happens unlocked: other workers keep serving meanwhile. */
	e = read_entry(key, fs_path, err);
	if (!e)
		return NULL;
	e->checked_ms = now_ms;

	pthread_mutex_lock(&cache_lock);
	old = find_locked(key);	/* another worker read it at the same time */
	if (old)
		free_old = remove_locked(old);
	size_t cost = e->data ? e->size : 0;
	while (bytes_used + cost > max_bytes && lru.lru_prev != &lru) {
		struct cache_entry *last = lru.lru_prev;

		evictions++;
		if (remove_locked(last)) {
			/* Free outside the lock would need a list; these are rare. */
			entry_free(last);
		}
	}
	if (bytes_used + cost <= max_bytes)
		insert_locked(e);
	pthread_mutex_unlock(&cache_lock);
	if (free_old)
		entry_free(old);
	return e;
}

void
cache_put(struct cache_entry *e)
{
	int last;

	pthread_mutex_lock(&cache_lock);
	last = --e->refs == 0;
	pthread_mutex_unlock(&cache_lock);
	if (last)
		entry_free(e);
}

void
cache_get_stats(struct cache_stats *out)
{
	pthread_mutex_lock(&cache_lock);
	out->entries = entries;
	out->bytes = bytes_used;
	out->max_bytes = max_bytes;
	out->file_max = file_max;
	out->hits = hits;
	out->misses = misses;
	out->evictions = evictions;
	pthread_mutex_unlock(&cache_lock);
}

void
cache_destroy(void)
{
	while (lru.lru_next && lru.lru_next != &lru) {
		struct cache_entry *e = lru.lru_next;

		if (remove_locked(e))
			entry_free(e);
	}
	free(table);
	table = NULL;
}
