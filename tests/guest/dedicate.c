/*
 * Moving a device's interrupts between cores through toro/dev.h
 * (dedicate.test boots it with -smp 2 and a disk on each virtio
 * transport).  "move": vda starts on core 0; I/O from core 0; then
 * toro_dedicate("vda", 1), which must report 1; I/O from a thread on each
 * core, every sector checked; back to core 0 (the kernel's line for that
 * move tells the test how many interrupts core 1 took); the error cases;
 * finally threads on both cores keep requests in flight while the main
 * thread moves vda back and forth, and every sector they read must be
 * what they wrote (a lost interrupt would leave a request waiting for
 * virtio_blk.timeout=, which the test sees in the log).  "boot CPU":
 * dedicate=vda:CPU was on the command line: vda starts there, I/O works
 * from both cores, and vdb (dedicate=vdb:7, an offline core) stays on 0.
 * "console": hvc0 moves to core 1 and back.  Prints TAP; exits 0 only if
 * every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <toro/blk.h>
#include <toro/dev.h>
#include <toro/thread.h>

#include "blk-pattern.h"
#include "tap.h"

#define REGION		512	/* sectors per worker */
#define CHUNK_MAX	64

struct worker {
	int cpu;
	uint64_t first;
	uint64_t seed;
	int rounds;		/* 0: until stop is set */
	int done;		/* rounds done */
	int err, bad, wrong_cpu;
};

static volatile int stop;

static void
fill(uint64_t seed, uint64_t sector, uint64_t n, uint8_t *buf)
{
	for (uint64_t s = 0; s < n; s++)
		blk_pattern_sector(seed, sector + s, (uint64_t *)(buf + s * 512));
}

/* Writes its region with a new seed each round, reads it back, checks. */
static void *
work(void *arg)
{
	struct worker *w = arg;
	uint8_t *buf = malloc(CHUNK_MAX * 512), *want = malloc(CHUNK_MAX * 512);
	static const unsigned sizes[] = { 1, 8, 64, 3, 17, 32, 2, 5 };

	for (int r = 0; w->rounds ? r < w->rounds : !stop; r++) {
		uint64_t seed = w->seed + (uint64_t)r, s, n, end = w->first + REGION;
		unsigned k;
		for (s = w->first, k = 0; s < end; s += n, k++) {
			n = sizes[k % 8] < end - s ? sizes[k % 8] : end - s;
			fill(seed, s, n, buf);
			int err = toro_blk_write("vda", s, buf, n);
			if (err && !w->err)
				w->err = err;
		}
		for (s = w->first, k = 3; s < end; s += n, k++) {
			n = sizes[k % 8] < end - s ? sizes[k % 8] : end - s;
			memset(buf, 0xA5, n * 512);
			int err = toro_blk_read("vda", s, buf, n);
			if (err && !w->err)
				w->err = err;
			fill(seed, s, n, want);
			if (memcmp(buf, want, n * 512))
				w->bad++;
		}
		if (toro_cpu_current() != w->cpu)
			w->wrong_cpu++;
		w->done++;
	}
	free(buf);
	free(want);
	return NULL;
}

/* Runs a worker on each of cores 0 and 1 for rounds rounds (0: until stop). */
static void
start_workers(struct worker w[2], pthread_t t[2], uint64_t seed, int rounds)
{
	for (int c = 0; c < 2; c++) {
		w[c] = (struct worker){ .cpu = c, .first = (uint64_t)(1 + c) * REGION,
					.seed = seed + 100 * (uint64_t)c, .rounds = rounds };
		if (toro_thread_spawn(&t[c], c, work, &w[c]))
			w[c].err = -1;
	}
}

static void
join_workers(struct worker w[2], pthread_t t[2], const char *what)
{
	for (int c = 0; c < 2; c++) {
		if (w[c].err != -1)
			pthread_join(t[c], NULL);
		ok(!w[c].err && !w[c].bad && !w[c].wrong_cpu && w[c].done > 0,
		   "%s: core %d wrote and read back %d rounds of %d sectors "
		   "(error %d, %d bad chunks)", what, c, w[c].done, REGION,
		   w[c].err, w[c].bad);
	}
}

static int
move(void)
{
	struct worker w[2];
	pthread_t t[2];

	ok(toro_cpu_count() == 2, "two cores online (%d)", toro_cpu_count());
	ok(toro_dedicated_cpu("vda") == 0, "vda starts on core 0 (%d)",
	   toro_dedicated_cpu("vda"));
	w[0] = (struct worker){ .cpu = 0, .first = 0, .seed = 1, .rounds = 1 };
	work(&w[0]);
	ok(!w[0].err && !w[0].bad, "I/O from core 0 with vda on core 0 (error %d, %d bad)",
	   w[0].err, w[0].bad);

	int err = toro_dedicate("vda", 1);
	ok(err == 0, "toro_dedicate(\"vda\", 1) (%d)", err);
	ok(toro_dedicated_cpu("vda") == 1, "vda is now on core 1 (%d)",
	   toro_dedicated_cpu("vda"));
	start_workers(w, t, 10, 2);
	join_workers(w, t, "vda on core 1");
	ok(toro_dedicate("vda", 1) == 0 && toro_dedicated_cpu("vda") == 1,
	   "dedicating it to its own core again changes nothing");
	/* The kernel's line for this move counts what core 1 took. */
	err = toro_dedicate("vda", 0);
	ok(err == 0 && toro_dedicated_cpu("vda") == 0, "back to core 0 (%d)", err);

	ok(toro_dedicate("vdz", 1) == ENODEV, "unknown device: ENODEV");
	ok(toro_dedicate(NULL, 1) == ENODEV, "NULL device: ENODEV");
	ok(toro_dedicate("", 1) == ENODEV, "empty name: ENODEV");
	ok(toro_dedicate("vda", 7) == EINVAL, "core 7 of 2: EINVAL");
	ok(toro_dedicate("vda", -1) == EINVAL, "core -1: EINVAL");
	ok(toro_dedicate("vda", 64) == EINVAL, "core 64: EINVAL");
	ok(toro_dedicate((const char *)16, 1) == EINVAL, "unreadable name: EINVAL");
	ok(toro_dedicated_cpu("vdz") == -ENODEV, "toro_dedicated_cpu of an unknown device: -ENODEV");
	ok(toro_dedicated_cpu("vda") == 0, "vda still on core 0 after the errors");

	/* Moves while requests are in flight on both cores. */
	stop = 0;
	start_workers(w, t, 1000, 0);
	int moves = 0, failed = 0;
	for (int i = 0; i < 40; i++) {
		usleep(2000 + 500 * (i % 5));
		if (toro_dedicate("vda", (i + 1) % 2))
			failed++;
		else
			moves++;
	}
	usleep(20000);
	stop = 1;
	ok(!failed, "%d moves while both cores had requests in flight (%d failed)",
	   moves, failed);
	join_workers(w, t, "moving under load");
	ok(toro_dedicated_cpu("vda") == 0, "vda ends where the last move put it (%d)",
	   toro_dedicated_cpu("vda"));
	ok(toro_blk_flush("vda") == 0, "flush");
	return tap_end();
}

static int
boot(int cpu)
{
	struct worker w[2];
	pthread_t t[2];

	ok(toro_dedicated_cpu("vda") == cpu, "dedicate=vda:%d put vda on core %d (%d)",
	   cpu, cpu, toro_dedicated_cpu("vda"));
	start_workers(w, t, 20, 2);
	join_workers(w, t, "vda dedicated at boot");
	ok(toro_dedicated_cpu("vdb") == 0, "dedicate=vdb:7 left vdb on core 0 (%d)",
	   toro_dedicated_cpu("vdb"));
	ok(toro_dedicate("vdb", 1) == 0 && toro_dedicated_cpu("vdb") == 1,
	   "vdb moves to core 1 at run time");
	uint8_t b[512];
	ok(toro_blk_read("vdb", 0, b, 1) == 0, "and reads from it still work");
	return tap_end();
}

static int
console(void)
{
	ok(toro_dedicated_cpu("hvc0") == 0, "hvc0 starts on core 0 (%d)",
	   toro_dedicated_cpu("hvc0"));
	ok(toro_dedicate("hvc0", 1) == 0 && toro_dedicated_cpu("hvc0") == 1,
	   "hvc0 moves to core 1");
	printf("dedicate: a line on the console after the move\n");
	ok(toro_dedicate("hvc0", 0) == 0 && toro_dedicated_cpu("hvc0") == 0,
	   "and back to core 0");
	ok(toro_dedicate("hvc1", 0) == ENODEV, "hvc1: ENODEV");
	return tap_end();
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "move"))
		return move();
	if (argc >= 3 && !strcmp(argv[1], "boot"))
		return boot(atoi(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "console"))
		return console();
	fprintf(stderr, "usage: dedicate move | boot CPU | console\n");
	return 2;
}
