/*
 * Per-core heaps (toro/heap.h) as an application meets them, booted by
 * heap.test with -smp 1, 2 and 4: the allocator's entry points and their
 * errors, then a cross-core storm — one thread on each core allocates
 * blocks of every size (small and mapped), fills them, and hands half of
 * them through a channel to the next core, which checks and frees them —
 * after which every core's statistics must be back at their baseline and
 * the remote frees sent must equal those received.  Prints TAP; exits 0
 * only if every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <toro/channel.h>
#include <toro/heap.h>
#include <toro/thread.h>

#define BLOCKS 4000		/* allocated by each core's thread */
#define MAX_CPUS 64

#include "tap.h"

static int ncpu;

static void
fill(unsigned char *p, size_t n, uintptr_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 131 + i * 7);
}

static int
intact(const unsigned char *p, size_t n, uintptr_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 131 + i * 7))
			return 0;
	return 1;
}

/* ------------------------------------------------------- entry points */

static void
test_api(void)
{
	char *s = strdup("per-core heap");
	ok(s && !strcmp(s, "per-core heap"), "strdup goes through the heap");
	free(s);

	int good = 1;
	for (size_t n = 1; n <= 200000; n = n * 3 + 1) {
		unsigned char *p = malloc(n);
		if (!p || malloc_usable_size(p) < n) {
			good = 0;
			break;
		}
		fill(p, n, n);
		p = realloc(p, n * 2);
		good &= p && intact(p, n, n);
		free(p);
	}
	ok(good, "malloc/realloc keep contents from 1 byte to 200 KB; usable size >= asked");

	int aligned = 1;
	for (size_t a = 16; a <= (1 << 20); a <<= 1) {
		void *p = aligned_alloc(a, a * 3);
		aligned &= p && ((uintptr_t)p & (a - 1)) == 0;
		free(p);
	}
	ok(aligned, "aligned_alloc honours alignments from 16 B to 1 MiB");
	void *p = NULL;
	ok(posix_memalign(&p, 24, 64) == EINVAL, "posix_memalign with alignment 24 is EINVAL");
	errno = 0;
	volatile size_t huge = SIZE_MAX / 2;
	ok(calloc(huge, 4) == NULL && errno == ENOMEM, "calloc overflow is ENOMEM");
	unsigned char *z = calloc(1000, 100);
	int zero = z != NULL;
	for (size_t i = 0; z && i < 100000; i++)
		zero &= z[i] == 0;
	free(z);
	ok(zero, "calloc returns zeroed memory (100 KB)");
	void *a = malloc(0), *b = malloc(0);
	ok(a && b && a != b, "malloc(0) returns distinct pointers");
	free(a);
	free(b);
	free(NULL);
	ok(toro_heap_stats(ncpu, &(struct toro_heap_stats){ 0 }) == -1 && errno == EINVAL,
	   "toro_heap_stats of core %d (not online) is EINVAL", ncpu);
}

/* ------------------------------------------------------------ storm */

static struct toro_heap_stats base[MAX_CPUS], after[MAX_CPUS];
static int storm_errors[MAX_CPUS];

struct handoff {
	unsigned char *p;
	size_t n;
	uintptr_t seed;
};

static size_t
size_for(unsigned i)
{
	static const size_t sizes[] = { 16, 24, 64, 100, 256, 1000, 4096, 5000,
					32736, 65472, 70000, 200000 };

	return sizes[(i * 7 + i / 13) % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void *
snapshot(void *arg)
{
	struct toro_heap_stats *out = arg;
	int cpu = toro_cpu_current();

	toro_heap_trim();
	toro_heap_stats(cpu, &out[cpu]);
	return NULL;
}

static void
snapshot_all(struct toro_heap_stats *out)
{
	pthread_t t;

	for (int c = 0; c < ncpu; c++) {
		toro_thread_spawn(&t, c, snapshot, out);
		pthread_join(t, NULL);
	}
}

#define WINDOW 64		/* blocks a thread keeps alive at once */

static void
check_free(struct handoff *h, int me)
{
	storm_errors[me] += !intact(h->p, h->n, h->seed);
	free(h->p);
	h->p = NULL;
}

/*
 * Allocates, sends every other block to the next core and keeps the rest
 * in a window of the last WINDOW (freeing the oldest), and frees what the
 * previous core sends.
 */
static void *
stormer(void *arg)
{
	int me = toro_cpu_current(), next = (me + 1) % ncpu;
	int prev = (me + ncpu - 1) % ncpu;
	struct handoff keep[WINDOW] = { 0 };
	unsigned kept = 0, sent = 0, got = 0, expect = ncpu > 1 ? BLOCKS / 2 : 0;

	for (unsigned i = 0; i < BLOCKS; i++) {
		struct handoff h = { NULL, size_for(i), (uintptr_t)me * 100000 + i };
		h.p = malloc(h.n);
		if (!h.p) {
			storm_errors[me]++;
			continue;
		}
		fill(h.p, h.n, h.seed);
		if (i % 2 && ncpu > 1) {
			if (toro_channel_send(next, &h, sizeof(h), 0))
				storm_errors[me]++;
			sent++;
		} else {
			struct handoff *slot = &keep[kept++ % WINDOW];
			if (slot->p)
				check_free(slot, me);
			*slot = h;
		}
		/* Take in what arrived meanwhile, so no ring fills up. */
		struct handoff in;
		while (got < expect &&
		       toro_channel_recv(prev, NULL, &in, sizeof(in), TORO_CHANNEL_NONBLOCK) ==
			       (ssize_t)sizeof(in)) {
			check_free(&in, me);
			got++;
		}
	}
	for (unsigned i = 0; i < WINDOW; i++)
		if (keep[i].p)
			check_free(&keep[i], me);
	while (got < expect) {
		struct handoff in;
		if (toro_channel_recv(prev, NULL, &in, sizeof(in), 0) != (ssize_t)sizeof(in)) {
			storm_errors[me]++;
			break;
		}
		check_free(&in, me);
		got++;
	}
	return (void *)(uintptr_t)sent;
}

static void
test_storm(void)
{
	pthread_t t[MAX_CPUS];

	snapshot_all(base);
	for (int c = 0; c < ncpu; c++)
		toro_thread_spawn(&t[c], c, stormer, NULL);
	int errors = 0;
	for (int c = 0; c < ncpu; c++) {
		pthread_join(t[c], NULL);
		errors += storm_errors[c];
	}
	ok(errors == 0, "storm: %d blocks on each of %d cores, half freed on the next core, contents intact (%d errors)",
	   BLOCKS, ncpu, errors);
	snapshot_all(after);

	int same = 1;
	uint64_t sent = 0, received = 0, pending = 0, base_sent = 0, base_received = 0;
	for (int c = 0; c < ncpu; c++) {
		same &= after[c].small_blocks == base[c].small_blocks &&
			after[c].small_bytes == base[c].small_bytes &&
			after[c].large_blocks == base[c].large_blocks &&
			after[c].large_bytes == base[c].large_bytes &&
			after[c].remote_pending == 0;
		sent += after[c].remote_sent;
		received += after[c].remote_received;
		pending += after[c].remote_pending;
		base_sent += base[c].remote_sent;
		base_received += base[c].remote_received;
		printf("# core %d: small %llu blocks %llu bytes, large %llu, spans %llu "
		       "(%llu cached), remote sent %llu received %llu pending %llu\n",
		       c, (unsigned long long)after[c].small_blocks,
		       (unsigned long long)after[c].small_bytes,
		       (unsigned long long)after[c].large_blocks,
		       (unsigned long long)after[c].spans,
		       (unsigned long long)after[c].spans_cached,
		       (unsigned long long)after[c].remote_sent,
		       (unsigned long long)after[c].remote_received,
		       (unsigned long long)after[c].remote_pending);
	}
	ok(same, "storm: every core's small and large counts are back at their baseline");
	ok(sent == received && pending == 0,
	   "storm: remote frees sent (%llu) = received (%llu), none pending",
	   (unsigned long long)sent, (unsigned long long)received);
	uint64_t small_remote = 0;
	for (unsigned i = 1; i < BLOCKS; i += 2)
		small_remote += size_for(i) <= TORO_HEAP_SMALL_MAX;
	ok(ncpu == 1 || sent - base_sent == small_remote * (uint64_t)ncpu,
	   "storm: every small block freed on another core went back to its owner (%llu)",
	   (unsigned long long)(sent - base_sent));
}

int
main(void)
{
	ncpu = toro_cpu_count();
	printf("cpus: %d\n", ncpu);
	test_api();
	test_storm();
	return tap_end();
}
