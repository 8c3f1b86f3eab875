/*
 * Storage benchmarks, built unchanged for Toro and for the Linux guest
 * (tests/bench/storage.sh boots both on the same machine with the same two
 * virtio-blk disks and the same virtio-fs share).  Each prints one
 * machine-readable line, like micro.c and threads.c:
 *
 *   RESULT name value unit
 *
 * blk_seq_read      the raw disk (the one without a FAT volume on it),
 *                   read from its start in 1 MiB pread() requests, MiB/s
 * blk_rand_read_4k  4 KiB pread() requests at 4 KiB-aligned offsets from
 *                   a fixed xorshift sequence over the same range, IOPS
 * blk_seq_write     the same range written in 1 MiB pwrite() requests,
 *                   then fsync(), which is timed too, MiB/s
 * fat_read          the FAT32 volume on the other disk mounted on /fat
 *                   (read-only) and /fat/big.bin read once to its end in
 *                   1 MiB read() calls, MiB/s
 * virtiofs_read     the host directory shared with tag "bench" mounted on
 *                   /share and /share/big.bin read the same way, MiB/s
 *
 * Arguments: MIB (how much of the raw disk to read and write; the host
 * makes the disk exactly this size) and OPS (how many random reads).
 *
 * The raw disk is opened with O_DIRECT on both systems.  Linux needs it:
 * without it reads and writes go through its page cache, a write returns
 * once the data is copied there, and a re-read never reaches the device,
 * which would make Linux look faster than its disk.  Toro has no page
 * cache, every request goes to the device anyway, and its open() accepts
 * and ignores the flag.  The buffers are 4 KiB-aligned, as O_DIRECT
 * wants.  The two files are read without O_DIRECT: right after the mount
 * nothing of them is cached yet, so each read is a cold read on both
 * systems (on Linux through its page cache and readahead, as an
 * application reads a file).  The virtio-fs daemon runs with cache=none,
 * so Linux asks the host for every read too.
 *
 * The sequential read and the random reads begin with a short warm-up
 * that is not timed (the first requests pay for QEMU translating each
 * guest's code paths); the file reads have none, since the point is the
 * one cold read.  The clock is the guest's CLOCK_MONOTONIC.  Any failure
 * prints "ERROR what: reason" and exits with status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 20)		/* bytes per sequential request */
#define RBLOCK 4096		/* bytes per random read */
#define ALIGN 4096		/* what O_DIRECT wants of buffers, and more */
#define SHARE_TAG "bench"	/* storage.sh's virtio-fs tag */

static const char *const disks[] = { "/dev/vda", "/dev/vdb" };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	printf("ERROR %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *
aligned(size_t n)
{
	void *p = NULL;

	errno = posix_memalign(&p, ALIGN, n);
	if (errno)
		die("posix_memalign");
	return p;
}

/* Whether the disk holds a FAT32 volume: the boot sector's signature and
 * its file-system type field (offset 82, "FAT32   "). */
static int
is_fat32(const char *dev, unsigned char *buf)
{
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0)
		die(dev);
	if (pread(fd, buf, RBLOCK, 0) != RBLOCK)
		die(dev);
	close(fd);
	return buf[510] == 0x55 && buf[511] == 0xAA && !memcmp(buf + 82, "FAT32   ", 8);
}

/* Reads n bytes at off in CHUNK requests; dies unless all of it came. */
static void
read_range(int fd, unsigned char *buf, off_t off, off_t n)
{
	for (off_t end = off + n; off < end; off += CHUNK)
		if (pread(fd, buf, CHUNK, off) != CHUNK)
			die("pread (sequential)");
}

/* xorshift64: the same offsets on both systems, in every boot. */
static uint64_t
next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
random_reads(int fd, unsigned char *buf, uint64_t *seed, long ops, uint64_t blocks)
{
	for (long i = 0; i < ops; i++) {
		off_t off = (off_t)(next_rand(seed) % blocks) * RBLOCK;
		if (pread(fd, buf, RBLOCK, off) != RBLOCK)
			die("pread (random)");
	}
}

/* Mounts source on dir, opens dir/big.bin and reads it once, to its end,
 * in CHUNK read() calls; returns MiB/s. */
static double
file_read(const char *source, const char *dir, const char *type,
	  unsigned long flags, unsigned char *buf, const char *name)
{
	char path[64];
	struct stat st;
	long long total = 0;
	ssize_t got;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die(dir);
	if (mount(source, dir, type, flags, NULL))
		die(name);
	snprintf(path, sizeof(path), "%s/big.bin", dir);
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		die(path);
	double t = now_s();
	while ((got = read(fd, buf, CHUNK)) > 0)
		total += got;
	t = now_s() - t;
	if (got < 0)
		die(path);
	if (total != (long long)st.st_size || !total) {
		printf("ERROR %s: read %lld bytes of %lld\n", path, total,
		       (long long)st.st_size);
		exit(1);
	}
	close(fd);
	printf("NOTE %s: %lld bytes in %.3f s\n", name, total, t);
	return (double)total / (1 << 20) / t;
}

int
main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 64;
	long ops = argc > 2 ? atol(argv[2]) : 2000;
	unsigned char *buf = aligned(CHUNK);
	const char *raw = NULL, *fat = NULL;
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	double t;

	if (mib < 2 || ops < 1) {
		printf("ERROR usage: storage MIB OPS (MIB >= 2, OPS >= 1)\n");
		return 1;
	}
	/* Which disk is which: the order in which the kernels find two
	 * virtio-mmio devices is theirs, so look at what is on them. */
	int kind[2];
	for (unsigned i = 0; i < 2; i++) {
		kind[i] = is_fat32(disks[i], buf);
		if (kind[i])
			fat = disks[i];
		else
			raw = disks[i];
	}
	if (kind[0] == kind[1]) {
		printf("ERROR want one raw disk and one FAT32 disk, found two %s disks\n",
		       kind[0] ? "FAT32" : "raw");
		return 1;
	}
	printf("NOTE raw disk %s (%ld MiB), FAT32 on %s, %ld random reads\n",
	       raw, mib, fat, ops);

	int fd = open(raw, O_RDWR | O_DIRECT);
	if (fd < 0)
		die(raw);
	off_t size = (off_t)mib << 20;

	/* Sequential read; the warm-up reads the first MiB. */
	read_range(fd, buf, 0, CHUNK);
	t = now_s();
	read_range(fd, buf, 0, size);
	t = now_s() - t;
	printf("RESULT blk_seq_read %.1f MiB/s\n", (double)mib / t);

	/* Random 4 KiB reads; the warm-up is a tenth as many, from another
	 * seed. */
	uint64_t warm = 0x2545F4914F6CDD1Dull;
	random_reads(fd, buf, &warm, ops / 10 + 1, (uint64_t)size / RBLOCK);
	t = now_s();
	random_reads(fd, buf, &seed, ops, (uint64_t)size / RBLOCK);
	t = now_s() - t;
	printf("RESULT blk_rand_read_4k %.0f IOPS\n", (double)ops / t);

	/* Sequential write of the same range, made durable by fsync(). */
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	t = now_s();
	for (off_t off = 0; off < size; off += CHUNK)
		if (pwrite(fd, buf, CHUNK, off) != CHUNK)
			die("pwrite");
	if (fsync(fd))
		die("fsync");
	t = now_s() - t;
	printf("RESULT blk_seq_write %.1f MiB/s\n", (double)mib / t);
	close(fd);

	printf("RESULT fat_read %.1f MiB/s\n",
	       file_read(fat, "/fat", "vfat", MS_RDONLY, buf, "fat_read"));
	printf("RESULT virtiofs_read %.1f MiB/s\n",
	       file_read(SHARE_TAG, "/share", "virtiofs", 0, buf, "virtiofs_read"));
	return 0;
}
