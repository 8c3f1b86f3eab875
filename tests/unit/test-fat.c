/*
 * FAT12/16/32 (lib/fs/fat*.c) against real images: the test makes them at
 * run time with mkfs.fat and fills them with mtools, reads every file back
 * byte-exact through the library, changes the volume through the library
 * (new files and directories, renames, deletes, truncates, a directory
 * that grows), and has the host tools check the result: mtype for the
 * bytes, mdir for the names, fsck.fat -n for a clean volume.  Then corrupt
 * images made by the test (bad BPB fields, a cyclic chain, a cluster
 * beyond the volume, garbage directory entries): every call errs, none
 * crashes or hangs.  Without dosfstools and mtools the test fails.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fs/fat.h"
#include "tap.h"

struct memimg {
	uint8_t *data;
	size_t size;
	uint32_t sector_size;
	uint64_t fail_from;		/* sectors from here on answer -EIO */
	unsigned writes, flushes;
};

static int
memimg_read(void *ctx, uint64_t sector, void *buf, uint32_t count)
{
	struct memimg *m = ctx;
	uint64_t n = m->size / m->sector_size;

	if (sector >= n || count > n - sector || sector + count > m->fail_from)
		return -EIO;
	memcpy(buf, m->data + sector * m->sector_size, (size_t)count * m->sector_size);
	return 0;
}

static int
memimg_write(void *ctx, uint64_t sector, const void *buf, uint32_t count)
{
	struct memimg *m = ctx;
	uint64_t n = m->size / m->sector_size;

	if (sector >= n || count > n - sector || sector + count > m->fail_from)
		return -EIO;
	memcpy(m->data + sector * m->sector_size, buf, (size_t)count * m->sector_size);
	m->writes++;
	return 0;
}

static int
memimg_flush(void *ctx)
{
	struct memimg *m = ctx;

	m->flushes++;
	return 0;
}

static void
memimg_dev(struct memimg *m, struct fat_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->read = memimg_read;
	d->write = memimg_write;
	d->flush = memimg_flush;
	d->sector_size = m->sector_size;
	d->sectors = m->size / m->sector_size;
	d->ctx = m;
	if (!m->fail_from)
		m->fail_from = UINT64_MAX;
}

static void *
memimg_alloc(size_t n)
{
	return malloc(n);
}

static void
memimg_free(void *p)
{
	free(p);
}

static const struct fat_mount_opts memimg_opts = {
	.mem = { memimg_alloc, memimg_free },
	.cache_sectors = 16,
};


/* ------------------------------------------------------------ host helpers */

static char tmpdir[64];
static char img_path[128];

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* A command's standard output; its length, or -1. */
static long
sh_out(const char *cmd, uint8_t *buf, size_t max)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;

	if (!p)
		return -1;
	for (size_t k; n < max && (k = fread(buf + n, 1, max - n, p)) > 0;)
		n += k;
	int st = pclose(p);
	return st == 0 ? (long)n : -1;
}

static void
gen(unsigned seed, uint8_t *buf, size_t n)
{
	uint32_t x = seed * 2654435761u + 12345;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = x >> 24;
	}
}

static int
host_file(const char *name, unsigned seed, size_t n)
{
	char path[256];
	uint8_t *b = malloc(n + 1);

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	gen(seed, b, n);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b, 1, n, f) != n) {
		free(b);
		return -1;
	}
	fclose(f);
	free(b);
	return 0;
}

static int
img_load(struct memimg *m)
{
	FILE *f = fopen(img_path, "rb");

	memset(m, 0, sizeof(*m));
	m->sector_size = 512;
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	m->size = ftell(f);
	fseek(f, 0, SEEK_SET);
	m->data = malloc(m->size);
	size_t got = fread(m->data, 1, m->size, f);
	fclose(f);
	return got == m->size ? 0 : -1;
}

static int
img_save(struct memimg *m)
{
	FILE *f = fopen(img_path, "wb");

	if (!f)
		return -1;
	size_t put = fwrite(m->data, 1, m->size, f);
	fclose(f);
	return put == m->size ? 0 : -1;
}

static int
mount_img(struct memimg *m, struct fat_vol **v, const char **why)
{
	struct fat_dev d;

	memimg_dev(m, &d);
	return fat_mount(&d, &memimg_opts, v, why);
}

/* Looks a slash-separated path up from the root. */
static int
walk(struct fat_vol *v, const char *path, struct fat_node *out)
{
	fat_root(v, out);
	while (*path) {
		const char *e = strchr(path, '/');
		size_t len = e ? (size_t)(e - path) : strlen(path);
		struct fat_node dir = *out;
		int r = fat_lookup(v, &dir, path, len, out);
		if (r)
			return r;
		path += len + (e != NULL);
	}
	return 0;
}

/* The whole file at path, in chunks of odd sizes; its length or an errno. */
static long
slurp(struct fat_vol *v, const char *path, uint8_t *buf, size_t max)
{
	struct fat_node n;
	size_t got = 0;
	int r = walk(v, path, &n);

	if (r)
		return r;
	for (size_t chunk = 1;; chunk = chunk * 3 + 7) {
		if (got >= max)
			return -EFBIG;
		int64_t k = fat_read(v, &n, got, buf + got,
				     chunk < max - got ? chunk : max - got);
		if (k < 0)
			return k;
		if (!k)
			return got;
		got += k;
	}
}

static int
same_as(const uint8_t *got, long len, unsigned seed, size_t n)
{
	uint8_t *want = malloc(n + 1);

	gen(seed, want, n);
	int r = len == (long)n && !memcmp(got, want, n);
	free(want);
	return r;
}

static int
put_file(struct fat_vol *v, const char *dirpath, const char *name,
	 const uint8_t *data, size_t n, size_t chunk)
{
	struct fat_node dir, f;
	int r = walk(v, dirpath, &dir);

	if (!r)
		r = fat_create(v, &dir, name, strlen(name), &f);
	for (size_t off = 0; !r && off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		int64_t w = fat_write(v, &f, off, data + off, k);
		r = w < 0 ? (int)w : w != (int64_t)k ? -EIO : 0;
	}
	return r;
}

static int
dir_has(struct fat_vol *v, const char *dirpath, const char *name, int *count)
{
	struct fat_node dir;
	struct fat_dirent *de = malloc(sizeof(*de));
	uint64_t cookie = 0;
	int found = 0, n = 0, r = walk(v, dirpath, &dir);

	while (!r && (r = fat_readdir(v, &dir, &cookie, de)) == 1 && n < 100000) {
		n++;
		if (!strcmp(de->name, name))
			found = 1;
		r = 0;
	}
	free(de);
	if (count)
		*count = n;
	return r < 0 ? r : found;
}

/* ------------------------------------------------------------ real images */

struct hfile {
	const char *path;
	unsigned seed;
	size_t size;
};

static const struct hfile host_files[] = {
	{ "small.txt", 1, 100 },
	{ "empty", 2, 0 },
	{ "multi.bin", 3, 70000 },
	{ "Mixed Case Long Name.Text", 4, 5000 },
	{ "UPPER.TXT", 5, 10 },
	{ "lower.txt", 6, 33 },
	{ "Sub Dir/a.txt", 7, 1 },
	{ "Sub Dir/nested/deep.dat", 8, 9000 },
	{ "Sub Dir/nested/A Rather Long Name For A Small File.data", 9, 2049 },
};
#define NHOST (sizeof(host_files) / sizeof(host_files[0]))

static int
make_image(int bits, const char *size_kib, const char *extra)
{
	sh("rm -f '%s'", img_path);
	if (sh("mkfs.fat -F %d %s -C '%s' %s >/dev/null 2>&1", bits, extra,
	       img_path, size_kib))
		return -1;
	if (sh("mmd -i '%s' '::/Sub Dir' '::/Sub Dir/nested'", img_path))
		return -1;
	for (size_t i = 0; i < NHOST; i++) {
		const struct hfile *h = &host_files[i];
		char local[32];
		snprintf(local, sizeof(local), "h%zu", i);
		if (host_file(local, h->seed, h->size) ||
		    sh("mcopy -i '%s' '%s/%s' '::/%s'", img_path, tmpdir, local, h->path))
			return -1;
	}
	return 0;
}

static uint8_t big[1 << 20];

static void
check_host_reads(struct fat_vol *v, int bits)
{
	for (size_t i = 0; i < NHOST; i++) {
		const struct hfile *h = &host_files[i];
		long n = slurp(v, h->path, big, sizeof(big));
		ok(same_as(big, n, h->seed, h->size), "FAT%d: %s read byte-exact (%ld)",
		   bits, h->path, n);
	}
	struct fat_node n;
	struct fat_attr a;
	is_int(walk(v, "sub dir/NESTED/DEEP.DAT", &n), 0,
	       "FAT%d: lookup ignores case", bits);
	fat_getattr(v, &n, &a);
	ok(a.size == 9000 && !a.is_dir && a.mtime > 946684800,
	   "FAT%d: getattr size %llu, mtime %lld", bits,
	   (unsigned long long)a.size, (long long)a.mtime);
	is_int(walk(v, "Sub Dir/nested/..", &n), 0, "FAT%d: .. resolves", bits);
	ok(n.attr & FAT_ATTR_DIRECTORY && dir_has(v, "Sub Dir", "nested", NULL) == 1,
	   "FAT%d: .. is Sub Dir", bits);
	is_int(walk(v, "nope", &n), -ENOENT, "FAT%d: missing name", bits);
	is_int(walk(v, "small.txt/x", &n), -ENOTDIR, "FAT%d: file as directory", bits);
	ok(dir_has(v, "", "Mixed Case Long Name.Text", NULL) == 1 &&
	   dir_has(v, "", "UPPER.TXT", NULL) == 1 && dir_has(v, "", "lower.txt", NULL) == 1,
	   "FAT%d: readdir keeps long names and case", bits);
	walk(v, "multi.bin", &n);
	uint8_t part[100], want[70000];
	gen(3, want, sizeof(want));
	ok(fat_read(v, &n, 40000, part, 100) == 100 && !memcmp(part, want + 40000, 100),
	   "FAT%d: read at an offset", bits);
	ok(fat_read(v, &n, 70000, part, 100) == 0, "FAT%d: read at the end", bits);
}

static void
change_volume(struct fat_vol *v, int bits)
{
	static uint8_t data[20000];
	struct fat_node root, d, n, m;
	struct fat_statfs st0, st1;
	char name[64];
	int r;

	fat_root(v, &root);
	fat_statfs(v, &st0);
	gen(10, data, 10000);
	is_int(put_file(v, "", "new file.txt", data, 10000, 4999), 0,
	       "FAT%d: new file written", bits);
	is_int(fat_mkdir(v, &root, "newdir", 6, &d), 0, "FAT%d: mkdir", bits);
	gen(11, data, 20000);
	is_int(put_file(v, "newdir", "inner.bin", data, 20000, 20000), 0,
	       "FAT%d: file in new dir", bits);
	r = 0;
	for (int i = 0; i < 40 && !r; i++) {
		snprintf(name, sizeof(name), "long file name number %02d.txt", i);
		r = put_file(v, "newdir", name, (const uint8_t *)name, strlen(name), 7);
	}
	is_int(r, 0, "FAT%d: 40 long names (directory grows)", bits);
	r = 0;
	for (int i = 1; i <= 12 && !r; i++) {
		snprintf(name, sizeof(name), "longfilename%d.txt", i);
		r = put_file(v, "newdir", name, (const uint8_t *)"x", 1, 1);
	}
	is_int(r, 0, "FAT%d: names needing ~N tails", bits);
	is_int(fat_create(v, &root, "NEW FILE.TXT", 12, &n), -EEXIST,
	       "FAT%d: create of an existing name (other case)", bits);
	is_int(fat_create(v, &root, "bad:name", 8, &n), -EINVAL, "FAT%d: bad name", bits);
	is_int(fat_mkdir(v, &root, ".", 1, &n), -EEXIST, "FAT%d: mkdir .", bits);

	is_int(fat_rename(v, &root, "small.txt", 9, &d, "moved.txt", 9, &m), 0,
	       "FAT%d: rename into another directory", bits);
	put_file(v, "", "a.txt", (const uint8_t *)"AAA", 3, 3);
	put_file(v, "", "b.txt", (const uint8_t *)"BBBB", 4, 4);
	is_int(fat_rename(v, &root, "a.txt", 5, &root, "b.txt", 5, NULL), 0,
	       "FAT%d: rename replacing a file", bits);
	is_int(fat_rename(v, &root, "lower.txt", 9, &root, "LOWER.TXT", 9, NULL), 0,
	       "FAT%d: rename changing case only", bits);
	is_int(fat_rename(v, &root, "Sub Dir", 7, &d, "Sub Moved", 9, NULL), 0,
	       "FAT%d: rename a directory elsewhere", bits);
	walk(v, "newdir/Sub Moved", &n);
	is_int(fat_rename(v, &root, "newdir", 6, &n, "x", 1, NULL), -EINVAL,
	       "FAT%d: a directory cannot move under itself", bits);
	ok(walk(v, "newdir/Sub Moved/nested/..", &m) == 0 && m.first_cluster == n.first_cluster,
	   "FAT%d: moved directory's .. updated", bits);
	is_int(fat_unlink(v, &root, "UPPER.TXT", 9), 0, "FAT%d: unlink", bits);
	is_int(fat_unlink(v, &root, "newdir", 6), -EISDIR, "FAT%d: unlink a dir", bits);
	is_int(fat_rmdir(v, &root, "newdir", 6), -ENOTEMPTY, "FAT%d: rmdir non-empty", bits);
	is_int(fat_rmdir(v, &root, "empty", 5), -ENOTDIR, "FAT%d: rmdir a file", bits);
	is_int(fat_mkdir(v, &root, "gone", 4, &n), 0, "FAT%d: mkdir gone", bits);
	is_int(fat_rmdir(v, &root, "GONE", 4), 0, "FAT%d: rmdir empty", bits);
	is_int(fat_unlink(v, &root, "gone", 4), -ENOENT, "FAT%d: gone is gone", bits);

	walk(v, "multi.bin", &n);
	is_int(fat_truncate(v, &n, 1000), 0, "FAT%d: truncate shrinks", bits);
	walk(v, "Mixed Case Long Name.Text", &n);
	is_int(fat_truncate(v, &n, 12000), 0, "FAT%d: truncate grows", bits);
	walk(v, "empty", &n);
	is_int(fat_write(v, &n, 3000, "0123456789", 10), 10,
	       "FAT%d: write past the end leaves a gap", bits);
	fat_statfs(v, &st1);
	ok(st1.free_clusters < st0.free_clusters, "FAT%d: free clusters %u -> %u",
	   bits, st0.free_clusters, st1.free_clusters);
}

/* mtype's bytes of path equal data. */
static int
mtype_is(const char *path, const uint8_t *data, size_t n)
{
	char cmd[512];
	uint8_t *buf = malloc(n + 16);

	snprintf(cmd, sizeof(cmd), "mtype -i '%s' '::/%s'", img_path, path);
	long got = sh_out(cmd, buf, n + 16);
	int r = got == (long)n && !memcmp(buf, data, n);
	free(buf);
	return r;
}

static void
check_on_host(int bits)
{
	static uint8_t d[20000];
	char cmd[512];
	uint8_t out[16384];

	int st = sh("fsck.fat -n '%s' >'%s/fsck.out' 2>&1", img_path, tmpdir);
	if (!is_int(st, 0, "FAT%d: fsck.fat -n reports a clean volume", bits))
		sh("sed 's/^/# /' '%s/fsck.out'", tmpdir);
	gen(10, d, 10000);
	ok(mtype_is("new file.txt", d, 10000), "FAT%d: mtype new file.txt", bits);
	gen(11, d, 20000);
	ok(mtype_is("newdir/inner.bin", d, 20000), "FAT%d: mtype newdir/inner.bin", bits);
	gen(1, d, 100);
	ok(mtype_is("newdir/moved.txt", d, 100), "FAT%d: mtype renamed file", bits);
	ok(mtype_is("b.txt", (const uint8_t *)"AAA", 3), "FAT%d: mtype replaced file", bits);
	gen(6, d, 33);
	ok(mtype_is("LOWER.TXT", d, 33), "FAT%d: mtype case-renamed file", bits);
	gen(3, d, 1000);
	ok(mtype_is("multi.bin", d, 1000), "FAT%d: mtype shrunk file", bits);
	gen(4, d, 5000);
	memset(d + 5000, 0, 7000);
	ok(mtype_is("Mixed Case Long Name.Text", d, 12000), "FAT%d: mtype grown file", bits);
	memset(d, 0, 3000);
	memcpy(d + 3000, "0123456789", 10);
	ok(mtype_is("empty", d, 3010), "FAT%d: mtype file with a gap", bits);
	gen(8, d, 9000);
	ok(mtype_is("newdir/Sub Moved/nested/deep.dat", d, 9000),
	   "FAT%d: mtype file in moved directory", bits);
	ok(mtype_is("newdir/long file name number 07.txt",
		    (const uint8_t *)"long file name number 07.txt", 28),
	   "FAT%d: mtype file in grown directory", bits);

	snprintf(cmd, sizeof(cmd), "mdir -b -i '%s' ::/newdir", img_path);
	long n = sh_out(cmd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	ok(n > 0 && strstr((char *)out, "/inner.bin") && strstr((char *)out, "/moved.txt") &&
	   strstr((char *)out, "/Sub Moved") && strstr((char *)out, "/longfilename12.txt"),
	   "FAT%d: mdir lists the new directory", bits);
	snprintf(cmd, sizeof(cmd), "mdir -b -i '%s' ::/", img_path);
	n = sh_out(cmd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	ok(n > 0 && !strstr((char *)out, "UPPER") && !strstr((char *)out, "a.txt") &&
	   !strstr((char *)out, "small.txt") && strstr((char *)out, "b.txt"),
	   "FAT%d: mdir shows removed names gone", bits);
	/* 52 names share the basis LONGFILE.TXT: ~1 .. ~9, then ~10 .. ~52. */
	snprintf(cmd, sizeof(cmd), "mdir -i '%s' ::/newdir", img_path);
	n = sh_out(cmd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	int tails = 0;
	for (char *l = (char *)out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		tails += !strncmp(l, "LONGFI~", 7) || !strncmp(l, "LONGF~", 6);
	ok(tails == 52 && strstr((char *)out, "LONGFI~9 TXT") &&
	   strstr((char *)out, "LONGF~52 TXT"), "FAT%d: 52 short names with ~N tails (%d)",
	   bits, tails);
}

static void
test_type(int bits, const char *size_kib, const char *extra)
{
	struct memimg m;
	struct fat_vol *v;
	struct fat_statfs st;
	const char *why;
	int count;

	snprintf(img_path, sizeof(img_path), "%s/fat%d.img", tmpdir, bits);
	if (!ok(make_image(bits, size_kib, extra) == 0, "FAT%d: image made", bits))
		return;
	img_load(&m);
	if (!is_int(mount_img(&m, &v, &why), 0, "FAT%d: mounts", bits)) {
		diag("why: %s", why ? why : "?");
		return;
	}
	fat_statfs(v, &st);
	is_int(st.type, bits, "FAT%d: detected by cluster count (%u clusters of %u)",
	       bits, st.clusters, st.cluster_size);
	check_host_reads(v, bits);
	change_volume(v, bits);
	is_int(fat_unmount(v), 0, "FAT%d: unmount writes back", bits);
	ok(m.flushes > 0, "FAT%d: device flushed", bits);
	img_save(&m);
	check_on_host(bits);

	/* Our own reader sees the same after a remount. */
	is_int(mount_img(&m, &v, &why), 0, "FAT%d: mounts again", bits);
	long n = slurp(v, "new file.txt", big, sizeof(big));
	ok(same_as(big, n, 10, 10000), "FAT%d: new file read back", bits);
	is_int(dir_has(v, "newdir", "longfilename12.txt", &count), 1,
	       "FAT%d: new names read back", bits);
	is_int(count, 55, "FAT%d: newdir holds 55 entries", bits);
	fat_unmount(v);
	free(m.data);
}

/* ------------------------------------------------------------ corrupt images */

static uint16_t
rd16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v);
	wr16(p + 2, v >> 16);
}

/* Sets FAT entry c in every copy (FAT12 or FAT16 images). */
static void
set_fat(struct memimg *m, int bits, uint32_t c, uint32_t val)
{
	uint8_t *b = m->data;
	uint32_t bps = rd16(b + 11), rsvd = rd16(b + 14), fatsz = rd16(b + 22);

	for (int i = 0; i < b[16]; i++) {
		uint8_t *f = b + (size_t)(rsvd + i * fatsz) * bps;
		if (bits == 12) {
			uint8_t *p = f + c + c / 2;
			uint16_t w = rd16(p);
			w = c & 1 ? (w & 0x000F) | val << 4 : (w & 0xF000) | (val & 0xFFF);
			wr16(p, w);
		} else {
			wr16(f + c * 2, val);
		}
	}
}

/* The bytes of node n's short entry (in a FAT12/16 image). */
static uint8_t *
entry_of(struct memimg *m, const struct fat_node *n)
{
	uint8_t *b = m->data;
	uint32_t bps = rd16(b + 11), rsvd = rd16(b + 14), fatsz = rd16(b + 22);
	uint32_t root = rsvd + b[16] * fatsz, rootsec = (rd16(b + 17) * 32 + bps - 1) / bps;

	if (!n->dir_cluster)
		return b + (size_t)root * bps + n->entry * 32;
	return b + (size_t)(root + rootsec + (n->dir_cluster - 2) * b[13]) * bps +
	       n->entry * 32;
}

/* Every operation on a volume: none may crash or hang; counts errors. */
static int
poke_everything(struct fat_vol *v, int depth, struct fat_node *dir)
{
	struct fat_dirent *de = malloc(sizeof(*de));
	struct fat_node n;
	uint64_t cookie = 0;
	int errors = 0, r, seen = 0;

	while ((r = fat_readdir(v, dir, &cookie, de)) == 1 && seen++ < 70000) {
		struct fat_attr a;
		fat_getattr(v, &de->node, &a);
		fat_lookup(v, dir, de->name, strlen(de->name), &n);
		if (a.is_dir && depth < 4) {
			errors += poke_everything(v, depth + 1, &de->node);
			continue;
		}
		for (uint64_t off = 0; off < (1 << 20); off += sizeof(big)) {
			int64_t k = fat_read(v, &de->node, off, big, sizeof(big));
			if (k <= 0) {
				errors += k < 0;
				break;
			}
		}
	}
	errors += r < 0;
	if (fat_lookup(v, dir, "..", 2, &n) < 0)
		errors++;
	if (fat_create(v, dir, "zz new", 6, &n) < 0)
		errors++;
	else if (fat_write(v, &n, 0, "hello", 5) < 0)
		errors++;
	if (fat_mkdir(v, dir, "zz dir", 6, &n) < 0)
		errors++;
	fat_rename(v, dir, "zz new", 6, dir, "zz renamed", 10, NULL);
	fat_unlink(v, dir, "zz renamed", 10);
	fat_rmdir(v, dir, "zz dir", 6);
	free(de);
	return errors;
}

static void
test_bad_bpb(void)
{
	static const struct {
		const char *what;
		int off, width;
		uint32_t val;
	} bad[] = {
		{ "bytes per sector 0", 11, 2, 0 },
		{ "bytes per sector 3000", 11, 2, 3000 },
		{ "sectors per cluster 3", 13, 1, 3 },
		{ "sectors per cluster 0", 13, 1, 0 },
		{ "zero reserved sectors", 14, 2, 0 },
		{ "zero FATs", 16, 1, 0 },
		{ "zero root entries", 17, 2, 0 },
		{ "zero total sectors", 19, 2, 0 },
		{ "total sectors beyond the device", 19, 2, 0xFFFF },
		{ "bad media byte", 21, 1, 0x12 },
		{ "zero sectors per FAT", 22, 2, 0 },
		{ "FAT too small", 22, 2, 1 },
	};
	struct memimg m;
	struct fat_vol *v;
	const char *why;

	snprintf(img_path, sizeof(img_path), "%s/bpb.img", tmpdir);
	sh("rm -f '%s'; mkfs.fat -F 12 -C '%s' 1024 >/dev/null", img_path, img_path);
	img_load(&m);
	uint8_t orig[64];
	memcpy(orig, m.data, 64);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(m.data, orig, 64);
		if (bad[i].width == 1)
			m.data[bad[i].off] = bad[i].val;
		else
			wr16(m.data + bad[i].off, bad[i].val);
		why = NULL;
		int r = mount_img(&m, &v, &why);
		if (!r)
			fat_unmount(v);
		ok(r == -EINVAL && why, "bad BPB (%s): -EINVAL, \"%s\"", bad[i].what,
		   why ? why : "(no reason)");
	}
	/* A 32-bit total beyond the device. */
	memcpy(m.data, orig, 64);
	wr16(m.data + 19, 0);
	wr32(m.data + 32, 4096);
	why = NULL;
	is_int(mount_img(&m, &v, &why), -EINVAL, "bad BPB (32-bit total beyond the device): %s",
	       why ? why : "?");
	memcpy(m.data, orig, 64);
	size_t real = m.size;
	m.size = 100;
	is_int(mount_img(&m, &v, &why), -EINVAL, "device smaller than a sector");
	m.size = real;
	m.fail_from = 0;
	struct fat_dev d;
	memimg_dev(&m, &d);
	m.fail_from = 0;
	is_int(fat_mount(&d, &memimg_opts, &v, &why), -EIO, "device error while mounting");
	m.fail_from = UINT64_MAX;
	is_int(mount_img(&m, &v, &why), 0, "the untouched image mounts");
	fat_unmount(v);
	free(m.data);
}

/* A FAT12 or FAT16 image with a few files, mounted; n = multi.bin. */
static int
corrupt_base(int bits, struct memimg *m)
{
	snprintf(img_path, sizeof(img_path), "%s/bad%d.img", tmpdir, bits);
	if (make_image(bits, bits == 12 ? "1024" : "20480", ""))
		return -1;
	return img_load(m);
}

static void
test_corrupt(int bits)
{
	struct memimg m;
	struct fat_vol *v;
	struct fat_node n, root, sub;
	const char *why;
	uint8_t *copy;

	if (!ok(corrupt_base(bits, &m) == 0, "FAT%d: corrupt-test image made", bits))
		return;
	copy = malloc(m.size);
	memcpy(copy, m.data, m.size);
	mount_img(&m, &v, &why);
	walk(v, "multi.bin", &n);
	uint32_t c0 = n.first_cluster;
	walk(v, "Sub Dir", &sub);
	struct fat_node small;
	walk(v, "small.txt", &small);
	struct fat_statfs st;
	fat_statfs(v, &st);
	fat_unmount(v);

	/* A cycle: c0 -> c0+1 -> c0+2 -> c0. */
	set_fat(&m, bits, c0 + 2, c0);
	mount_img(&m, &v, &why);
	fat_root(v, &root);
	walk(v, "multi.bin", &n);
	is_int(fat_read(v, &n, 0, big, 100), -EIO, "FAT%d: cyclic chain: read -EIO", bits);
	is_int(fat_write(v, &n, 0, "x", 1), -EIO, "FAT%d: cyclic chain: write -EIO", bits);
	is_int(fat_truncate(v, &n, 10), -EIO, "FAT%d: cyclic chain: truncate -EIO", bits);
	ok(fat_unlink(v, &root, "multi.bin", 9) < 0, "FAT%d: cyclic chain: unlink errs", bits);
	fat_unmount(v);

	/* A cluster number beyond the volume, in the FAT and in an entry. */
	memcpy(m.data, copy, m.size);
	set_fat(&m, bits, c0 + 1, st.clusters + 5);
	mount_img(&m, &v, &why);
	walk(v, "multi.bin", &n);
	is_int(fat_read(v, &n, 0, big, 100), -EIO, "FAT%d: out-of-range next cluster: -EIO", bits);
	fat_unmount(v);
	memcpy(m.data, copy, m.size);
	wr16(entry_of(&m, &small) + 26, st.clusters + 2);
	mount_img(&m, &v, &why);
	walk(v, "small.txt", &n);
	is_int(fat_read(v, &n, 0, big, 100), -EIO, "FAT%d: out-of-range first cluster: -EIO", bits);
	fat_unmount(v);

	/* A size the chain cannot hold; a free cluster inside a chain. */
	memcpy(m.data, copy, m.size);
	wr32(entry_of(&m, &small) + 28, 1000000);
	mount_img(&m, &v, &why);
	walk(v, "small.txt", &n);
	is_int(fat_read(v, &n, 0, big, 100), -EIO, "FAT%d: size beyond the chain: -EIO", bits);
	fat_unmount(v);
	memcpy(m.data, copy, m.size);
	set_fat(&m, bits, c0 + 1, 0);
	mount_img(&m, &v, &why);
	walk(v, "multi.bin", &n);
	is_int(fat_read(v, &n, 0, big, 100), -EIO, "FAT%d: free cluster in a chain: -EIO", bits);
	fat_unmount(v);

	/* A directory whose chain loops on itself. */
	memcpy(m.data, copy, m.size);
	set_fat(&m, bits, sub.first_cluster, sub.first_cluster);
	mount_img(&m, &v, &why);
	walk(v, "Sub Dir", &n);
	struct fat_dirent *de = malloc(sizeof(*de));
	uint64_t cookie = 0;
	is_int(fat_readdir(v, &n, &cookie, de), -EIO, "FAT%d: cyclic directory: readdir -EIO", bits);
	struct fat_node x;
	is_int(fat_lookup(v, &n, "a.txt", 5, &x), -EIO, "FAT%d: cyclic directory: lookup -EIO", bits);
	is_int(fat_create(v, &n, "new", 3, &x), -EIO, "FAT%d: cyclic directory: create -EIO", bits);
	fat_unmount(v);
	free(de);

	/* Garbage directory entries, many ways: nothing crashes or hangs. */
	int all_ok = 1;
	uint8_t *rootdir = entry_of(&m, &small) - small.entry * 32;
	for (unsigned seed = 1; seed <= 40; seed++) {
		memcpy(m.data, copy, m.size);
		uint8_t *sd = m.data + (entry_of(&m, &(struct fat_node){ .dir_cluster = sub.first_cluster }) - m.data);
		gen(seed, sd, 512);
		if (seed % 4 == 0)	/* also the root directory */
			gen(seed + 1000, m.data + (rootdir - m.data) + 64, 1024);
		if (seed % 3 == 0)	/* and some of the FAT */
			gen(seed + 2000, m.data + rd16(m.data + 14) * 512 + 8, 200);
		if (mount_img(&m, &v, &why)) {
			all_ok = 0;
			continue;
		}
		fat_root(v, &root);
		poke_everything(v, 0, &root);
		fat_unmount(v);
	}
	ok(all_ok, "FAT%d: 40 images with garbage entries: walked, no crash, no hang", bits);
	(void)rootdir;

	/* Device errors after the mount. */
	memcpy(m.data, copy, m.size);
	mount_img(&m, &v, &why);
	walk(v, "multi.bin", &n);
	m.fail_from = 0;
	is_int(fat_read(v, &n, 0, big, 70000), -EIO, "FAT%d: device error: read -EIO", bits);
	fat_root(v, &root);
	ok(fat_create(v, &root, "q", 1, &x) < 0 || fat_sync(v) == -EIO,
	   "FAT%d: device error: create/sync -EIO", bits);
	fat_unmount(v);
	m.fail_from = UINT64_MAX;
	free(copy);
	free(m.data);
}

/* A FAT32 image whose root directory's chain loops. */
static void
test_corrupt32(void)
{
	struct memimg m;
	struct fat_vol *v;
	struct fat_node root;
	const char *why;

	snprintf(img_path, sizeof(img_path), "%s/bad32.img", tmpdir);
	sh("rm -f '%s'; mkfs.fat -F 32 -C '%s' 34000 >/dev/null 2>&1", img_path, img_path);
	if (!ok(img_load(&m) == 0, "FAT32: corrupt-test image made"))
		return;
	uint8_t *b = m.data;
	uint32_t rsvd = rd16(b + 14), rc = b[44] | b[45] << 8;
	for (int i = 0; i < b[16]; i++) {
		uint32_t fatsz = b[36] | b[37] << 8 | b[38] << 16 | (uint32_t)b[39] << 24;
		wr32(b + (size_t)(rsvd + i * fatsz) * 512 + rc * 4, rc);
	}
	is_int(mount_img(&m, &v, &why), 0, "FAT32: mounts with a cyclic root");
	fat_root(v, &root);
	struct fat_dirent *de = malloc(sizeof(*de));
	uint64_t cookie = 0;
	is_int(fat_readdir(v, &root, &cookie, de), -EIO, "FAT32: cyclic root: readdir -EIO");
	free(de);
	fat_unmount(v);
	wr32(b + 44, 0x0FFFFFF0);
	is_int(mount_img(&m, &v, &why), -EINVAL, "FAT32: root cluster out of range: %s",
	       why ? why : "?");
	free(m.data);
}

int
main(void)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s:/usr/sbin:/sbin", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("MTOOLS_SKIP_CHECK", "1", 1);
	setenv("MTOOLS_NO_VFAT", "", 1);
	unsetenv("MTOOLS_NO_VFAT");
	if (sh("(command -v mkfs.fat && command -v fsck.fat && command -v mcopy && "
	       "command -v mtype && command -v mdir && command -v mmd) >/dev/null") != 0) {
		ok(0, "mkfs.fat, fsck.fat, mcopy, mtype, mdir and mmd are installed "
		      "(install dosfstools and mtools)");
		return done_testing();
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-fat.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		ok(0, "temporary directory");
		return done_testing();
	}
	test_type(12, "1440", "");
	test_type(16, "20480", "");
	test_type(32, "40960", "-s 1");
	test_bad_bpb();
	test_corrupt(12);
	test_corrupt(16);
	test_corrupt32();
	sh("rm -rf '%s'", tmpdir);
	return done_testing();
}
