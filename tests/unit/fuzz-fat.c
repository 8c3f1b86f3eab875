/*
 * libFuzzer target for lib/fs/fat*.c: mounts the input bytes as a disk
 * image (512-byte sectors, zeros past the input up to the size the BPB
 * claims), walks every directory, reads every file, then creates,
 * writes, renames, truncates and removes through it and unmounts.  Whatever the bytes, every call must return; the sanitizers
 * catch the rest.  Seeds are in fat-corpus/.  Build with
 * clang -fsanitize=fuzzer,address,undefined (see `make fuzz-fat`).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fs/fat.h"

struct memimg {
	uint8_t *data;
	size_t size;
};

static int
img_read(void *ctx, uint64_t sector, void *buf, uint32_t count)
{
	struct memimg *m = ctx;
	uint64_t n = m->size / 512;

	if (sector >= n || count > n - sector)
		return -EIO;
	memcpy(buf, m->data + sector * 512, (size_t)count * 512);
	return 0;
}

static int
img_write(void *ctx, uint64_t sector, const void *buf, uint32_t count)
{
	struct memimg *m = ctx;
	uint64_t n = m->size / 512;

	if (sector >= n || count > n - sector)
		return -EIO;
	memcpy(m->data + sector * 512, buf, (size_t)count * 512);
	return 0;
}

static void *
alloc(size_t n)
{
	return malloc(n);
}

static uint8_t buf[65536];
static unsigned budget;		/* entries visited, to keep one input quick */

static void
walk(struct fat_vol *v, struct fat_node *dir, int depth)
{
	struct fat_dirent *de = malloc(sizeof(*de));
	uint64_t cookie = 0;
	struct fat_node n;
	struct fat_attr a;

	while (budget++ < 4096 && fat_readdir(v, dir, &cookie, de) == 1) {
		fat_getattr(v, &de->node, &a);
		fat_lookup(v, dir, de->name, strlen(de->name), &n);
		if (a.is_dir) {
			if (depth < 6)
				walk(v, &de->node, depth + 1);
			continue;
		}
		for (uint64_t off = 0; off < (1 << 20); off += sizeof(buf))
			if (fat_read(v, &de->node, off, buf, sizeof(buf)) <= 0)
				break;
	}
	fat_lookup(v, dir, "..", 2, &n);
	free(de);
}

static void
change(struct fat_vol *v, struct fat_node *root)
{
	struct fat_node f, d, g;

	memset(buf, 0x5A, 5000);
	if (!fat_create(v, root, "Fuzz File.txt", 13, &f)) {
		fat_write(v, &f, 0, buf, 5000);
		fat_write(v, &f, 9000, buf, 10);
		fat_truncate(v, &f, 100);
	}
	if (!fat_mkdir(v, root, "fuzzdir", 7, &d)) {
		fat_create(v, &d, "inner", 5, &g);
		fat_rename(v, root, "Fuzz File.txt", 13, &d, "inner", 5, NULL);
		fat_unlink(v, &d, "inner", 5);
		fat_rmdir(v, root, "fuzzdir", 7);
	}
	fat_unlink(v, root, "FUZZ FILE.TXT", 13);
	fat_sync(v);
}

/*
 * The disk is as large as the BPB says (up to DISK_MAX), the input its
 * first bytes and zeros after them: so a seed of a few KiB can be a FAT16
 * or FAT32 volume, whose cluster counts need megabytes.
 */
#define DISK_MAX	(34u << 20)

static size_t
disk_size(const uint8_t *d, size_t size)
{
	if (size < 64)
		return size;
	uint64_t bps = d[11] | d[12] << 8;
	uint64_t tot = d[19] | d[20] << 8;
	if (!tot)
		tot = d[32] | d[33] << 8 | d[34] << 16 | (uint64_t)d[35] << 24;
	uint64_t want = bps * tot;
	if (want > DISK_MAX)
		want = DISK_MAX;
	return want > size ? want : size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t disk = disk_size(data, size);
	struct memimg m = { calloc(1, disk ? disk : 1), disk };
	struct fat_dev dev = {
		.read = img_read, .write = img_write, .sector_size = 512,
		.sectors = disk / 512, .ctx = &m,
	};
	struct fat_mount_opts opts = {
		.mem = { alloc, free }, .cache_sectors = 8,
	};
	struct fat_vol *v;
	struct fat_statfs st;
	struct fat_node root;
	const char *why;

	memcpy(m.data, data, size);
	if (!fat_mount(&dev, &opts, &v, &why)) {
		budget = 0;
		fat_statfs(v, &st);
		fat_root(v, &root);
		walk(v, &root, 0);
		change(v, &root);
		budget = 0;
		walk(v, &root, 0);
		fat_unmount(v);
	}
	free(m.data);
	return 0;
}
