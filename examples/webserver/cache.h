/*
 * The in-memory file cache: whole files, looked up by request path,
 * shared by every worker, bounded in bytes.  See cache.c.
 */
#ifndef WEBSERVER_CACHE_H
#define WEBSERVER_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

struct cache_entry {
	struct cache_entry *hash_next;
	struct cache_entry *lru_prev, *lru_next;
	char *key;			/* the request path, "/" or "/a/b.html" */
	char *data;			/* the bytes, or NULL with fd */
	int fd;				/* -1, or the open file of a RAM file */
	size_t size;
	dev_t dev;
	ino_t ino;
	time_t mtime;
	int64_t checked_ms;		/* when the file was last stat'ed */
	const char *content_type;
	char last_modified[30];
	unsigned refs;			/* the table's one, plus one per response */
	int in_table;
};

struct cache_stats {
	uint64_t entries, bytes, max_bytes, file_max;
	uint64_t hits, misses, evictions;
};

/*
 * max_bytes in all, files of at most file_max bytes; 0 or -1 (ENOMEM).
 * Files of at least lend_min bytes (0: none) that live in memory already
 * (ramfs, tmpfs: the initrd) keep an open descriptor instead of a copy
 * (fd), for sendfile(), and cost the cache nothing.
 */
int cache_init(size_t max_bytes, size_t file_max, size_t lend_min);
/* Frees every entry; no response may still hold one. */
void cache_destroy(void);
/*
 * The entry for request path key if it was checked against its file less
 * than a second ago; a reference the caller gives back with cache_put().
 * NULL otherwise: the caller resolves the file and calls cache_load().
 */
struct cache_entry *cache_lookup(const char *key, int64_t now_ms);
/*
 * Reads the regular file at fs_path (whose stat is *st, at most file_max
 * bytes) into the cache under key, or refreshes the entry that already
 * holds it.  Returns a reference, or NULL with *err a negative errno.
 * When the cache is full of files in use, the entry is handed out
 * uncached and freed with the last cache_put().
 */
struct cache_entry *cache_load(const char *key, const char *fs_path,
			       const struct stat *st, int64_t now_ms, int *err);
void cache_put(struct cache_entry *e);
void cache_get_stats(struct cache_stats *out);

#endif
