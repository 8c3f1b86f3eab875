/*
 * Disks through toro/blk.h (blk.test boots it with virtio-blk on every
 * transport).  "pattern SEED": on every disk i, several threads write the
 * pseudo-random pattern of blk-pattern.h with seed SEED + i in requests of
 * varied sizes, all in flight at once, read it back with other sizes and
 * compare, then flush; plus the argument checks (no such disk, a range
 * past the end, a bad buffer).  The host then compares the images' bytes.
 * "eio SECTOR": a read covering SECTOR must fail with EIO (the test makes
 * QEMU's blkdebug inject it) while reads elsewhere and writes still work
 * and the program goes on.  "timeout": on a disk too slow to answer, a
 * request fails with EIO after virtio_blk.timeout= and later ones at
 * once.  Prints TAP; exits 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <toro/blk.h>

#include "blk-pattern.h"
#include "tap.h"

#define THREADS 4
#define CHUNK_MAX 300		/* sectors: > 128 KiB, several descriptors' worth */

struct job {
	const char *disk;
	uint64_t seed, first, count;
	int write_err, read_err, mismatches;
};

static void
fill(uint64_t seed, uint64_t sector, uint64_t n, uint8_t *buf)
{
	for (uint64_t s = 0; s < n; s++)
		blk_pattern_sector(seed, sector + s, (uint64_t *)(buf + s * 512));
}

static void *
writer(void *arg)
{
	struct job *j = arg;
	uint8_t *buf = malloc(CHUNK_MAX * 512), *want = malloc(CHUNK_MAX * 512);
	uint64_t s = j->first, end = j->first + j->count, n;
	unsigned k;

	/* Sizes 1, 8, 64, CHUNK_MAX, 3, ... so requests vary and overlap in time. */
	static const unsigned sizes[] = { 1, 8, 64, CHUNK_MAX, 3, 17, 128, 2 };
	for (k = 0; s < end; s += n, k++) {
		n = sizes[k % 8];
		if (n > end - s)
			n = end - s;
		fill(j->seed, s, n, buf);
		int err = toro_blk_write(j->disk, s, buf, n);
		if (err && !j->write_err)
			j->write_err = err;
	}
	for (s = j->first, k = 0; s < end; s += n, k++) {
		n = sizes[(k + 3) % 8];
		if (n > end - s)
			n = end - s;
		memset(buf, 0xA5, n * 512);
		int err = toro_blk_read(j->disk, s, buf, n);
		if (err && !j->read_err)
			j->read_err = err;
		fill(j->seed, s, n, want);
		if (memcmp(buf, want, n * 512))
			j->mismatches++;
	}
	free(buf);
	free(want);
	return NULL;
}

static int
pattern(uint64_t seed)
{
	int ndisks = toro_blk_count();

	ok(ndisks >= 1, "at least one disk (%d)", ndisks);
	for (int i = 0; i < ndisks; i++) {
		const char *disk = toro_blk_name(i);
		struct toro_blk_info info;
		char want[8];
		snprintf(want, sizeof(want), "vd%c", 'a' + i);
		ok(disk && !strcmp(disk, want), "disk %d is named %s", i, want);
		int ierr = toro_blk_info(disk, &info);
		ok(!ierr && info.sectors > 0 &&
		   info.block_size >= 512 && !info.read_only,
		   "%s: %llu sectors of 512 bytes, %u-byte blocks, writable", disk,
		   (unsigned long long)info.sectors, info.block_size);
		struct job jobs[THREADS];
		pthread_t t[THREADS];
		uint64_t per = info.sectors / THREADS;
		for (int k = 0; k < THREADS; k++) {
			jobs[k] = (struct job){ disk, seed + (uint64_t)i, per * (uint64_t)k,
						k == THREADS - 1 ? info.sectors - per * k : per,
						0, 0, 0 };
			pthread_create(&t[k], NULL, writer, &jobs[k]);
		}
		int werr = 0, rerr = 0, bad = 0;
		for (int k = 0; k < THREADS; k++) {
			pthread_join(t[k], NULL);
			werr |= jobs[k].write_err;
			rerr |= jobs[k].read_err;
			bad += jobs[k].mismatches;
		}
		ok(!werr, "%s: %d threads wrote the whole disk (error %d)", disk, THREADS, werr);
		ok(!rerr, "%s: and read it back (error %d)", disk, rerr);
		ok(!bad, "%s: every sector read back as written (%d bad chunks)", disk, bad);
		ok(toro_blk_flush(disk) == 0, "%s: flush", disk);

		uint8_t *buf = malloc(4096);
		ok(toro_blk_read(disk, info.sectors - 1, buf, 2) == EINVAL,
		   "%s: a read past the end is EINVAL", disk);
		ok(toro_blk_read(disk, info.sectors, buf, 0) == 0,
		   "%s: an empty read at the end is fine", disk);
		ok(toro_blk_read(disk, 0, NULL, 1) == EINVAL, "%s: a NULL buffer is EINVAL", disk);
		ok(toro_blk_read(disk, 0, buf, 1) == 0 && ({
			uint64_t w[64];
			blk_pattern_sector(seed + (uint64_t)i, 0, w);
			!memcmp(buf, w, 512);
		}), "%s: sector 0 reads back after the flush", disk);
		free(buf);
	}
	uint8_t b[512];
	ok(toro_blk_read("vdz", 0, b, 1) == ENODEV, "no such disk: ENODEV");
	ok(toro_blk_name(ndisks) == NULL, "no name past the last disk");
	return tap_end();
}

static int
eio(uint64_t bad)
{
	uint8_t *buf = malloc(64 * 512);
	const char *disk = "vda";

	ok(toro_blk_count() >= 1, "a disk is attached");
	ok(toro_blk_read(disk, bad, buf, 1) == EIO, "reading sector %llu fails with EIO",
	   (unsigned long long)bad);
	ok(toro_blk_read(disk, bad > 8 ? bad - 8 : 0, buf, 16) == EIO,
	   "a longer read covering it fails with EIO too");
	ok(toro_blk_read(disk, bad + 64, buf, 8) == 0, "a read elsewhere still works");
	memset(buf, 0x5A, 512);
	ok(toro_blk_write(disk, bad + 64, buf, 1) == 0, "so does a write");
	ok(toro_blk_read(disk, bad, buf, 1) == EIO, "the bad sector still fails");
	ok(toro_blk_flush(disk) == 0, "flush");
	printf("blk: still running after EIO\n");
	free(buf);
	return tap_end();
}

/*
 * The disk answers too slowly (blk.test throttles it to 1 KiB/s) and
 * virtio_blk.timeout= is short: a request must fail with EIO within the
 * timeout, never hang, and then every request fails at once.
 */
static int
timeout(void)
{
	uint8_t *buf = malloc(1 << 20);
	int err = 0, tries;

	/* QEMU lets a throttled drive's first request through at once. */
	for (tries = 0; tries < 4 && !err; tries++)
		err = toro_blk_read("vda", 0, buf, 2048);
	ok(err == EIO, "an unanswered request fails with EIO (after %d requests)", tries);
	ok(toro_blk_read("vda", 0, buf, 1) == EIO, "later requests fail at once");
	ok(toro_blk_flush("vda") == EIO, "and so does a flush");
	printf("blk: still running after the timeout\n");
	free(buf);
	return tap_end();
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "pattern"))
		return pattern(strtoull(argv[2], NULL, 0));
	if (argc >= 3 && !strcmp(argv[1], "eio"))
		return eio(strtoull(argv[2], NULL, 0));
	if (argc >= 2 && !strcmp(argv[1], "timeout"))
		return timeout();
	fprintf(stderr, "usage: blk pattern SEED | eio SECTOR | timeout\n");
	return 2;
}
