/*
 * The per-core heaps (lib/mm/heap.c) on the host, with host mmap() as the
 * page source and one struct heap_cpu per simulated core: the class
 * tables against a linear search for every small size, a round trip
 * through every class, alignments from 1 to 2 MiB, realloc and calloc,
 * large blocks, exact statistics after a known sequence (remote frees
 * included), allocation failure, a storm of four threads passing blocks
 * to each other and freeing them on the wrong core, and a long random
 * sequence over two heaps checked against a shadow model.  Every test ends
 * with the heaps trimmed and every mapping given back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/mm/heap.h"
#include "tap.h"

#define NCORES 4

/* ------------------------------------------------------------ page source */

static uint64_t mapped_bytes;	/* outstanding, over all heaps */
static uint64_t map_calls;
static int map_fail;		/* > 0: that many map() calls fail */

static void *
host_map(size_t bytes, size_t align)
{
	if (__atomic_load_n(&map_fail, __ATOMIC_RELAXED) > 0) {
		__atomic_fetch_sub(&map_fail, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	if (bytes % HEAP_PAGE || align < HEAP_PAGE || (align & (align - 1)))
		abort();
	/* As malloc.c does with the guest's mmap: map more, trim. */
	size_t len = bytes + align - HEAP_PAGE;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1));

	if (a > m)
		munmap(m, (size_t)(a - m));
	if (m + len > a + bytes)
		munmap(a + bytes, (size_t)(m + len - (a + bytes)));
	__atomic_fetch_add(&mapped_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&map_calls, 1, __ATOMIC_RELAXED);
	return a;
}

static void
host_unmap(void *p, size_t bytes)
{
	if ((uintptr_t)p % HEAP_PAGE || bytes % HEAP_PAGE)
		abort();
	munmap(p, bytes);
	__atomic_fetch_sub(&mapped_bytes, bytes, __ATOMIC_RELAXED);
}

static const struct heap_env env = { host_map, host_unmap };
static struct heap_cpu heaps[NCORES];

static void
fresh(void)
{
	for (int i = 0; i < NCORES; i++)
		heap_cpu_init(&heaps[i], &env);
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint8_t
pat(uint64_t seed, size_t i)
{
	return (uint8_t)(seed * 0x9e3779b97f4a7c15ULL >> 56) ^ (uint8_t)(i * 7 + (i >> 8));
}

static void
fill(void *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = pat(seed, i);
}

static int
check(const void *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (((const uint8_t *)p)[i] != pat(seed, i))
			return 0;
	return 1;
}

/* Everything freed: counters zero after a drain, no mapping left. */
static void
all_back(const char *what)
{
	struct toro_heap_stats st;
	int bad = 0;

	for (int i = 0; i < NCORES; i++) {
		heap_drain(&heaps[i]);
		heap_trim(&heaps[i]);
		heap_stats(&heaps[i], &st);
		if (st.small_blocks || st.small_bytes || st.remote_pending ||
		    st.spans || st.spans_cached || st.large_blocks || st.large_bytes) {
			diag("%s: core %d: small %llu/%llu pending %llu spans %llu/%llu large %llu/%llu",
			     what, i, (unsigned long long)st.small_blocks,
			     (unsigned long long)st.small_bytes,
			     (unsigned long long)st.remote_pending,
			     (unsigned long long)st.spans, (unsigned long long)st.spans_cached,
			     (unsigned long long)st.large_blocks,
			     (unsigned long long)st.large_bytes);
			bad = 1;
		}
	}
	ok(!bad, "%s: every core's counters back to zero", what);
	is_int(mapped_bytes, 0, "%s: every mapping given back", what);
}

/* ------------------------------------------------------------ tests */

static void
classes(void)
{
	int bad = 0;

	for (unsigned c = 0; c < HEAP_CLASSES; c++) {
		uint32_t sz = heap_class_size[c];

		if (sz % 16 || (c && sz <= heap_class_size[c - 1]) ||
		    HEAP_HDR + sz > HEAP_SPAN)
			bad = 1;
	}
	ok(!bad, "classes: increasing multiples of 16 that fit a span");
	is_int(heap_class_size[HEAP_CLASSES - 1], HEAP_SMALL_MAX,
	       "the last class is HEAP_SMALL_MAX (%lu)", HEAP_SMALL_MAX);
	is_int(HEAP_SMALL_MAX, TORO_HEAP_SMALL_MAX, "the public limit agrees");

	unsigned c = 0;

	bad = 0;
	for (size_t n = 0; n <= HEAP_SMALL_MAX; n++) {
		while (heap_class_size[c] < n)
			c++;
		if (heap_class_of(n) != c ||
		    (n <= HEAP_TAB_MAX && heap_class_tab[(n + 15) >> 4] != c)) {
			if (!bad)
				diag("size %zu: class %u, want %u", n, heap_class_of(n), c);
			bad = 1;
		}
	}
	ok(!bad, "every size 0 .. %lu maps to the smallest class that holds it",
	   HEAP_SMALL_MAX);

	/* Span space lost to rounding, for the record. */
	unsigned worst = 0;

	for (c = 0; c < HEAP_CLASSES; c++) {
		unsigned lost = (HEAP_SPAN - HEAP_HDR) % heap_class_size[c];

		if (lost > worst)
			worst = lost;
	}
	ok(worst < HEAP_SPAN / 16, "at most 1/16 of a span lost to a class's rounding (%u B)", worst);
}

static int
cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void
every_class(void)
{
	struct heap_cpu *h = &heaps[0];
	int bad_fill = 0, bad_usable = 0, bad_align = 0, bad_overlap = 0;
	int bad_count = 0, bad_span = 0;

	fresh();
	for (unsigned c = 0; c < HEAP_CLASSES; c++) {
		size_t sz = heap_class_size[c];
		size_t cap = (HEAP_SPAN - HEAP_HDR) / sz;
		size_t nb = 2 * cap + 3;
		uintptr_t *v = calloc(nb, sizeof(*v));

		heap_trim(h);
		for (size_t i = 0; i < nb; i++) {
			size_t n = i % 2 ? sz : sz - 15;
			void *p = heap_alloc(h, n);

			v[i] = (uintptr_t)p;
			if (!p || (uintptr_t)p % 16)
				bad_align = 1;
			if (p && heap_usable_size(p) != sz)
				bad_usable = 1;
			if (p && (heap_span_of(p)->owner != h || heap_span_of(p)->cls != c))
				bad_span = 1;
			if (p)
				fill(p, n, i + c * 1000);
		}
		struct toro_heap_stats st;

		heap_stats(h, &st);
		if (st.small_blocks != nb || st.small_bytes != nb * sz ||
		    st.spans != (nb + cap - 1) / cap)
			bad_count = 1;
		for (size_t i = 0; i < nb; i++)
			if (!check((void *)v[i], i % 2 ? sz : sz - 15, i + c * 1000))
				bad_fill = 1;
		qsort(v, nb, sizeof(*v), cmp_ptr);
		for (size_t i = 1; i < nb; i++)
			if (v[i] - v[i - 1] < sz)
				bad_overlap = 1;
		/* Free in a scrambled order. */
		for (size_t i = 0; i < nb; i++) {
			size_t j = (i * 7919) % nb;

			if (v[j]) {
				heap_free(h, (void *)v[j]);
				v[j] = 0;
			}
		}
		for (size_t i = 0; i < nb; i++)
			heap_free(h, (void *)v[i]);
		/* The class's current span stays, the others are cached. */
		heap_stats(h, &st);
		if (st.small_blocks || st.small_bytes ||
		    st.spans != (nb + cap - 1) / cap ||
		    st.spans_cached != st.spans - 1) {
			diag("class %u: %llu blocks, %llu spans, %llu cached", c,
			     (unsigned long long)st.small_blocks,
			     (unsigned long long)st.spans,
			     (unsigned long long)st.spans_cached);
			bad_count = 1;
		}
		free(v);
	}
	ok(!bad_align, "every class: 16-byte aligned blocks");
	ok(!bad_usable, "every class: usable size is the class size");
	ok(!bad_span, "every class: span header names the owner and class");
	ok(!bad_overlap, "every class: blocks do not overlap");
	ok(!bad_fill, "every class: fill patterns intact");
	ok(!bad_count, "every class: blocks, bytes and spans counted exactly");

	/* One-block spans: twelve full, then empty: the cache keeps eight. */
	struct toro_heap_stats st;
	void *one[12];

	heap_trim(h);
	for (int i = 0; i < 12; i++)
		one[i] = heap_alloc(h, HEAP_SMALL_MAX);
	heap_stats(h, &st);
	is_int(st.spans, 12, "twelve one-block spans");
	for (int i = 0; i < 12; i++)
		heap_free(h, one[i]);
	heap_stats(h, &st);
	is_int(st.spans_cached, HEAP_SPAN_CACHE, "emptied: the cache is full");
	is_int(st.spans, HEAP_SPAN_CACHE + 1, "plus the class's current span; the rest went back");

	void *a = heap_alloc(h, 0), *b = heap_alloc(h, 0);

	ok(a && b && a != b, "malloc(0) twice: two distinct pointers");
	heap_free(h, a);
	heap_free(h, b);
	heap_free(h, NULL);
	ok(1, "free(NULL) is a no-op");
	is_int(heap_usable_size(NULL), 0, "usable size of NULL is 0");
	all_back("every class");
}

static void
alignment(void)
{
	static const size_t sizes[] = { 0, 1, 24, 100, 4000, 40000, 65472, 70000, 300000 };
	struct heap_cpu *h = &heaps[0];
	int bad = 0, bad_fill = 0;
	void *v[24][9];

	fresh();
	for (int k = 0; k < 23; k++) {
		size_t a = k ? (size_t)1 << (k - 1) : 0;	/* 0, 1, 2 .. 2 MiB */

		for (int j = 0; j < 9; j++) {
			size_t n = sizes[j];
			char *p = heap_memalign(h, a, n);

			v[k][j] = p;
			if (!p || (a && (uintptr_t)p % a) || (uintptr_t)p % 16 ||
			    heap_usable_size(p) < n) {
				if (!bad)
					diag("align %zu size %zu: %p usable %zu", a, n, (void *)p,
					     p ? heap_usable_size(p) : 0);
				bad = 1;
				continue;
			}
			fill(p, heap_usable_size(p), k * 10 + j);
		}
	}
	for (int k = 0; k < 23; k++)
		for (int j = 0; j < 9; j++)
			if (v[k][j] && !check(v[k][j], heap_usable_size(v[k][j]), k * 10 + j))
				bad_fill = 1;
	ok(!bad, "memalign 0 .. 2 MiB x 9 sizes: aligned, usable >= asked");
	ok(!bad_fill, "aligned blocks do not overlap");

	/* Offset pointers mark their span until its last block is back. */
	char *x = heap_memalign(h, 64, 48), *y = heap_memalign(h, 64, 48);
	struct heap_span *sp = heap_span_of(x);

	ok(sp == heap_span_of(y) && sp->aligned, "an offset aligned block marks its span");
	heap_free(h, x);
	ok(sp->aligned, "the mark stays while one is out");
	heap_free(h, y);
	ok(!sp->aligned && sp->used == 0, "and goes with the span's last block");

	/* Half freed by their owner, half by another core (remote). */
	for (int k = 0; k < 23; k++)
		for (int j = 0; j < 9; j++)
			heap_free(&heaps[(k + j) % 2], v[k][j]);
	struct toro_heap_stats st;

	heap_stats(&heaps[1], &st);
	ok(st.remote_sent > 0, "aligned blocks freed on another core go remote (%llu)",
	   (unsigned long long)st.remote_sent);
	all_back("alignment");
}

static void
reallocs(void)
{
	struct heap_cpu *h = &heaps[0];
	struct toro_heap_stats st;

	fresh();
	char *p = heap_realloc(h, NULL, 10);

	ok(p != NULL, "realloc(NULL, 10) allocates");
	fill(p, 10, 1);
	static const size_t grow[] = { 10, 100, 1000, 5000, 30000, 65472, 65473, 200000, 3000000 };
	int bad = 0;

	for (int i = 1; i < 9; i++) {
		p = heap_realloc(h, p, grow[i]);
		if (!p || !check(p, grow[i - 1], i))
			bad = 1;
		fill(p, grow[i], i + 1);
	}
	ok(!bad, "realloc grows 10 B -> 3 MB keeping the contents");
	for (int i = 7; i >= 0; i--) {
		p = heap_realloc(h, p, grow[i]);
		if (!p || !check(p, grow[i], i + 2))
			bad = 1;
		fill(p, grow[i], i + 1);
	}
	ok(!bad, "realloc shrinks back to 10 B keeping the contents");

	char *q = heap_realloc(h, p, 9);

	ok(q == p, "realloc 10 -> 9 stays in place");
	q = heap_realloc(h, p, 0);
	ok(q == p && q != NULL, "realloc to 0 of a 16-byte block: in place, not NULL");
	heap_free(h, q);

	p = heap_alloc(h, 1000);
	fill(p, 1000, 9);
	q = heap_realloc(h, p, 600);
	ok(q == p, "realloc 1000 -> 600 (more than half) stays in place");
	q = heap_realloc(h, p, 100);
	ok(q != p && check(q, 100, 9), "realloc 1000 -> 100 moves to a smaller class, contents kept");
	heap_free(h, q);

	p = heap_alloc(h, 1 << 20);
	fill(p, 1 << 20, 3);
	heap_stats(h, &st);
	uint64_t before = st.large_bytes;
	q = heap_realloc(h, p, 300000);
	heap_stats(h, &st);
	ok(q == p && check(q, 300000, 3), "large realloc 1 MiB -> 300000 in place");
	is_int(st.large_bytes, (300000 + HEAP_HDR + HEAP_PAGE - 1) / HEAP_PAGE * HEAP_PAGE,
	       "its tail pages went back (%llu before)", (unsigned long long)before);
	heap_free(h, q);

	/* realloc of another core's block: in place, or moved to this core. */
	p = heap_alloc(&heaps[1], 200);
	fill(p, 200, 5);
	ok(heap_realloc(h, p, 190) == p, "realloc on core 0 of core 1's block: in place");
	q = heap_realloc(h, p, 2000);
	ok(q && heap_span_of(q)->owner == h && check(q, 200, 5),
	   "grown on core 0: the copy is core 0's");
	heap_stats(h, &st);
	is_int(st.remote_sent, 1, "the old block went back to core 1 as a remote free");
	heap_free(h, q);
	heap_free(h, heap_realloc(h, NULL, 0));
	all_back("realloc");
}

static void
callocs(void)
{
	struct heap_cpu *h = &heaps[0];
	void *v[64];
	int bad = 0;

	fresh();
	for (int i = 0; i < 64; i++) {
		v[i] = heap_alloc(h, 300);
		memset(v[i], 0xa5, 300);
	}
	for (int i = 0; i < 64; i++)
		heap_free(h, v[i]);
	for (int i = 0; i < 64; i++) {
		unsigned char *p = heap_calloc(h, 30, 10);

		for (int j = 0; j < 300; j++)
			bad |= p[j];
		v[i] = p;
	}
	ok(!bad, "calloc zeroes recycled (dirty) blocks");
	for (int i = 0; i < 64; i++)
		heap_free(h, v[i]);

	unsigned char *p = heap_calloc(h, 1000, 1000);

	bad = 0;
	for (int j = 0; j < 1000000; j++)
		bad |= p[j];
	ok(!bad, "calloc of a large block: zero");
	heap_free(h, p);
	ok(heap_calloc(h, SIZE_MAX / 2, 3) == NULL, "calloc(SIZE_MAX/2, 3) overflows: NULL");
	ok(heap_calloc(h, (size_t)1 << 33, (size_t)1 << 33) == NULL, "calloc(2^33, 2^33): NULL");
	p = heap_calloc(h, 0, 5);
	ok(p != NULL, "calloc(0, 5): a unique pointer");
	heap_free(h, p);
	all_back("calloc");
}

static void
large(void)
{
	struct heap_cpu *h = &heaps[0];
	struct toro_heap_stats st;

	fresh();
	void *s = heap_alloc(h, HEAP_SMALL_MAX);
	void *l = heap_alloc(h, HEAP_SMALL_MAX + 1);
	void *m = heap_alloc(h, 5 << 20);

	ok(heap_span_of(s)->kind == HEAP_KIND_SMALL, "HEAP_SMALL_MAX bytes: a span block");
	ok(heap_span_of(l)->kind == HEAP_KIND_LARGE, "HEAP_SMALL_MAX + 1: a large block");
	ok(heap_usable_size(l) >= HEAP_SMALL_MAX + 1 && heap_usable_size(m) >= 5 << 20,
	   "large usable sizes >= asked");
	fill(l, HEAP_SMALL_MAX + 1, 1);
	fill(m, 5 << 20, 2);
	heap_stats(h, &st);
	is_int(st.large_blocks, 2, "two large blocks counted");
	is_int(st.large_bytes, 69632 + (5 << 20) + HEAP_PAGE, "their mapped bytes counted");
	ok(heap_alloc(h, SIZE_MAX) == NULL && heap_alloc(h, SIZE_MAX - 70000) == NULL,
	   "absurd sizes: NULL, no overflow");
	ok(heap_memalign(h, (size_t)1 << 60, 10) == NULL, "alignment 2^60: NULL");
	/* A large block freed on another core: no queue, counted on its owner. */
	heap_free(&heaps[1], l);
	heap_stats(h, &st);
	is_int(st.large_blocks, 1, "a large block freed on core 1 leaves core 0's count");
	heap_stats(&heaps[1], &st);
	is_int(st.large_blocks + st.remote_sent, 0, "and is no remote free of core 1's");
	ok(check(m, 5 << 20, 2), "the other large block is intact");
	heap_free(h, m);
	heap_free(h, s);
	all_back("large");
}

static void
exact_stats(void)
{
	struct heap_cpu *a = &heaps[0], *b = &heaps[1];
	struct toro_heap_stats st;
	void *v[10], *w[3], *big;

	fresh();
	for (int i = 0; i < 10; i++)
		v[i] = heap_alloc(a, 100);
	for (int i = 0; i < 3; i++)
		w[i] = heap_alloc(a, 5000);
	big = heap_memalign(a, 4096, 100000);
	heap_stats(a, &st);
	is_int(st.small_blocks, 13, "13 small blocks");
	is_int(st.small_bytes, 10 * 112 + 3 * 5024, "bytes: 10 x 112 + 3 x 5024");
	is_int(st.spans, 2, "two spans");
	is_int(st.large_blocks, 1, "one large block");
	is_int(st.large_bytes, (4096 + 100000 + 4095) / 4096 * 4096, "its bytes, padding included");

	heap_free(b, v[0]);
	heap_free(b, v[1]);
	heap_free(b, w[0]);
	heap_stats(a, &st);
	is_int(st.small_blocks, 13, "remote frees: still counted on the owner");
	is_int(st.remote_pending, 3, "three pending on the owner");
	heap_stats(b, &st);
	is_int(st.remote_sent, 3, "three sent by core 1");
	is_int(st.small_blocks + st.spans, 0, "core 1 holds nothing");

	is_int(heap_drain(a), 3, "the owner takes three back");
	heap_stats(a, &st);
	is_int(st.small_blocks, 10, "10 small blocks left");
	is_int(st.small_bytes, 8 * 112 + 2 * 5024, "bytes: 8 x 112 + 2 x 5024");
	is_int(st.remote_pending, 0, "nothing pending");
	is_int(st.remote_received, 3, "three received");
	for (int i = 2; i < 10; i++)
		heap_free(a, v[i]);
	heap_free(a, w[1]);
	heap_free(a, w[2]);
	heap_free(a, big);
	heap_stats(a, &st);
	is_int(st.small_blocks + st.small_bytes + st.large_blocks + st.large_bytes, 0,
	       "all freed: zero");
	is_int(st.spans, 2, "the two empty spans are kept (each its class's current)");
	is_int(heap_trim(a), 2 * HEAP_SPAN, "trim gives back 128 KiB");
	all_back("statistics");
}

static void
failures(void)
{
	struct heap_cpu *h = &heaps[0];

	fresh();
	map_fail = 1;
	errno = 0;
	ok(heap_alloc(h, 50) == NULL, "no span to be had: NULL");
	map_fail = 1;
	ok(heap_alloc(h, 1 << 20) == NULL, "no mapping for a large block: NULL");
	char *p = heap_alloc(h, 50);

	ok(p != NULL, "the next allocation works");
	fill(p, 50, 4);
	map_fail = 1;
	ok(heap_realloc(h, p, 1 << 20) == NULL, "realloc that cannot map: NULL");
	ok(check(p, 50, 4), "and the old block is intact");
	map_fail = 0;
	heap_free(h, p);
	all_back("failures");
}

/* ------------------------------------------------------------ the storm */

#define STORM_OPS	100000
#define INBOX		256

struct msg {
	void *p;
	size_t n;
	uint64_t seed;
};

static struct inbox {
	pthread_mutex_t lock;
	struct msg m[INBOX];
	unsigned head, count;
} inbox[NCORES];

static pthread_barrier_t storm_bar;
static int storm_errors;

static int
post(int to, struct msg m)
{
	struct inbox *q = &inbox[to];
	int done = 0;

	pthread_mutex_lock(&q->lock);
	if (q->count < INBOX) {
		q->m[(q->head + q->count++) % INBOX] = m;
		done = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return done;
}

static int
take(int me, struct msg *m)
{
	struct inbox *q = &inbox[me];
	int got = 0;

	pthread_mutex_lock(&q->lock);
	if (q->count) {
		*m = q->m[q->head];
		q->head = (q->head + 1) % INBOX;
		q->count--;
		got = 1;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

static size_t
storm_size(uint64_t *r)
{
	uint64_t x = rnd(r) % 1000;

	if (x < 700)
		return rnd(r) % 128;
	if (x < 950)
		return rnd(r) % 4096;
	if (x < 998)
		return rnd(r) % HEAP_SMALL_MAX;
	return HEAP_SMALL_MAX + rnd(r) % 200000;
}

/* A received block: check, maybe realloc here, free here (remote). */
static void
consume(struct heap_cpu *h, struct msg m, uint64_t *r)
{
	if (!check(m.p, m.n, m.seed))
		__atomic_fetch_add(&storm_errors, 1, __ATOMIC_RELAXED);
	if (rnd(r) % 8 == 0) {
		m.p = heap_realloc(h, m.p, m.n + rnd(r) % 300);
		if (!m.p || !check(m.p, m.n, m.seed))
			__atomic_fetch_add(&storm_errors, 1, __ATOMIC_RELAXED);
	}
	heap_free(h, m.p);
}

static void *
storm(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct heap_cpu *h = &heaps[me];
	uint64_t r = 0x1234567 + me * 0x9e3779b9ULL;
	void *keep[64] = { 0 };
	struct msg m;

	for (int i = 0; i < STORM_OPS; i++) {
		size_t n = storm_size(&r);
		size_t a = rnd(&r) % 16 == 0 ? (size_t)16 << rnd(&r) % 8 : 0;
		char *p = a ? heap_memalign(h, a, n) : heap_alloc(h, n);

		if (!p || (a && (uintptr_t)p % a)) {
			__atomic_fetch_add(&storm_errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		m = (struct msg){ p, n < 512 ? n : 512, ((uint64_t)me << 32) | i };
		fill(p, m.n, m.seed);
		int to = (me + 1 + rnd(&r) % (NCORES - 1)) % NCORES;

		if (rnd(&r) % 4 == 0 || !post(to, m)) {
			/* Some stay here a while, then are freed locally. */
			unsigned k = rnd(&r) % 64;

			heap_free(h, keep[k]);
			keep[k] = p;
		}
		while (rnd(&r) % 2 && take(me, &m))
			consume(h, m, &r);
	}
	for (int k = 0; k < 64; k++)
		heap_free(h, keep[k]);
	pthread_barrier_wait(&storm_bar);	/* nothing is posted after this */
	while (take(me, &m))
		consume(h, m, &r);
	pthread_barrier_wait(&storm_bar);	/* nothing is freed after this */
	heap_drain(h);
	return NULL;
}

static void
storm_test(void)
{
	pthread_t t[NCORES];
	struct toro_heap_stats st;
	uint64_t sent = 0, received = 0, pending = 0;

	fresh();
	pthread_barrier_init(&storm_bar, NULL, NCORES);
	for (int i = 0; i < NCORES; i++)
		pthread_mutex_init(&inbox[i].lock, NULL);
	for (int i = 0; i < NCORES; i++)
		pthread_create(&t[i], NULL, storm, (void *)(intptr_t)i);
	for (int i = 0; i < NCORES; i++)
		pthread_join(t[i], NULL);
	is_int(storm_errors, 0, "storm: %d threads x %d blocks, every one intact",
	       NCORES, STORM_OPS);
	int bad = 0;

	for (int i = 0; i < NCORES; i++) {
		heap_stats(&heaps[i], &st);
		sent += st.remote_sent;
		received += st.remote_received;
		pending += st.remote_pending;
		if (st.small_blocks || st.small_bytes || st.large_blocks || st.large_bytes)
			bad = 1;
		diag("core %d: sent %llu received %llu spans %llu (%llu cached)", i,
		     (unsigned long long)st.remote_sent,
		     (unsigned long long)st.remote_received,
		     (unsigned long long)st.spans, (unsigned long long)st.spans_cached);
	}
	ok(!bad, "storm: after the owners drain, no block counted anywhere");
	ok(sent > INBOX / 2, "storm: blocks crossed cores (%llu)", (unsigned long long)sent);
	is_int(received, sent, "storm: every block sent was received");
	is_int(pending, 0, "storm: nothing pending");
	all_back("storm");
}

/* ------------------------------------------------------------ the model */

#define SLOTS	1500
#ifdef __SANITIZE_THREAD__
#define STEPS	30000		/* single-threaded: little for TSan to see */
#else
#define STEPS	300000
#endif

static struct slot {
	char *p;
	size_t n;		/* bytes asked for (and filled) */
	uint64_t seed;
	int owner;		/* heap it came from */
	size_t cls_bytes;	/* small: its class size; 0 = large */
	size_t large_len;	/* large: bytes mapped */
} slot[SLOTS];

static size_t
model_size(uint64_t *r)
{
	uint64_t x = rnd(r) % 100;

	if (x < 60)
		return rnd(r) % 256;
	if (x < 90)
		return rnd(r) % 8192;
	if (x < 99)
		return rnd(r) % (HEAP_SMALL_MAX + 1);
	return rnd(r) % 400000;
}

static size_t
page_up(size_t n)
{
	return (n + HEAP_PAGE - 1) / HEAP_PAGE * HEAP_PAGE;
}

/* What the heap should record for a block of n bytes aligned to a. */
static void
model_kind(struct slot *s, size_t n, size_t a)
{
	size_t need = n < 16 ? 16 : n;

	if (a <= 16 && n <= HEAP_SMALL_MAX) {
		s->cls_bytes = heap_class_size[heap_class_of(n)];
		s->large_len = 0;
	} else if (a > 16 && need + a - 16 <= HEAP_SMALL_MAX) {
		s->cls_bytes = heap_class_size[heap_class_of(need + a - 16)];
		s->large_len = 0;
	} else {
		size_t off = a > HEAP_HDR ? a : HEAP_HDR;

		s->cls_bytes = 0;
		s->large_len = off < HEAP_SPAN ? page_up(off + n) : HEAP_SPAN + page_up(n);
	}
}

static int
model_check_stats(void)
{
	uint64_t blocks[2] = { 0 }, bytes[2] = { 0 }, lb[2] = { 0 }, lbytes[2] = { 0 };
	struct toro_heap_stats st;

	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slot[i];

		if (!s->p)
			continue;
		if (s->cls_bytes) {
			blocks[s->owner]++;
			bytes[s->owner] += s->cls_bytes;
		} else {
			lb[s->owner]++;
			lbytes[s->owner] += s->large_len;
		}
	}
	for (int c = 0; c < 2; c++) {
		heap_drain(&heaps[c]);
		heap_stats(&heaps[c], &st);
		if (st.small_blocks != blocks[c] || st.small_bytes != bytes[c] ||
		    st.large_blocks != lb[c] || st.large_bytes != lbytes[c] ||
		    st.remote_pending) {
			diag("core %d: blocks %llu/%llu bytes %llu/%llu large %llu/%llu %llu/%llu",
			     c, (unsigned long long)st.small_blocks,
			     (unsigned long long)blocks[c],
			     (unsigned long long)st.small_bytes, (unsigned long long)bytes[c],
			     (unsigned long long)st.large_blocks, (unsigned long long)lb[c],
			     (unsigned long long)st.large_bytes, (unsigned long long)lbytes[c]);
			return 0;
		}
	}
	return 1;
}

static void
model(void)
{
	uint64_t r = 42, sent[2] = { 0 };
	int bad_content = 0, bad_shape = 0, bad_stats = 0, bad_live = 0;
	int stat_checks = 0;

	fresh();
	for (int step = 0; step < STEPS; step++) {
		int core = rnd(&r) % 2;
		struct heap_cpu *h = &heaps[core];
		struct slot *s = &slot[rnd(&r) % SLOTS];
		unsigned op = rnd(&r) % 10;

		if (s->p) {
			if (!check(s->p, s->n, s->seed))
				bad_content = 1;
			if (op < 7) {
				if (s->cls_bytes && s->owner != core)
					sent[core]++;
				heap_free(h, s->p);
				s->p = NULL;
			} else {
				size_t n = model_size(&r);
				char *q = heap_realloc(h, s->p, n);
				size_t keep = n < s->n ? n : s->n;

				if (!q || !check(q, keep, s->seed) || heap_usable_size(q) < n) {
					bad_shape = 1;
					continue;
				}
				if (q != s->p) {
					if (s->cls_bytes && s->owner != core)
						sent[core]++;
					s->owner = core;
					model_kind(s, n, 0);
				} else if (!s->cls_bytes) {
					s->large_len = page_up(
					    (size_t)(q - (char *)heap_span_of(q)) + n);
				}
				s->p = q;
				s->n = n;
				s->seed = step;
				fill(q, n, step);
			}
		} else {
			size_t n = model_size(&r), a = 0;
			char *p;

			if (op < 6) {
				p = heap_alloc(h, n);
			} else if (op < 8) {
				p = heap_calloc(h, 1, n);
				for (size_t i = 0; p && i < n; i++)
					if (p[i])
						bad_content = 1;
			} else {
				a = (size_t)1 << rnd(&r) % 18;
				p = heap_memalign(h, a, n);
			}
			if (!p || (a && (uintptr_t)p % a) || (uintptr_t)p % 16 ||
			    heap_usable_size(p) < n) {
				bad_shape = 1;
				continue;
			}
			*s = (struct slot){ p, n, step, core, 0, 0 };
			model_kind(s, n, a);
			fill(p, n, step);
		}
		if (step % 5000 == 0) {
			stat_checks++;
			if (!model_check_stats())
				bad_stats = 1;
		}
	}
	/* Live blocks never overlap (by their usable extent). */
	uintptr_t v[SLOTS];
	int nv = 0;

	for (int i = 0; i < SLOTS; i++)
		if (slot[i].p)
			v[nv++] = (uintptr_t)slot[i].p;
	qsort(v, nv, sizeof(*v), cmp_ptr);
	for (int i = 1; i < nv; i++)
		if (v[i - 1] + heap_usable_size((void *)v[i - 1]) > v[i])
			bad_live = 1;
	ok(!bad_content, "model: %d steps, contents always intact", STEPS);
	ok(!bad_shape, "model: aligned, usable >= asked, realloc keeps the prefix");
	ok(!bad_stats, "model: statistics exact at %d checkpoints", stat_checks);
	ok(!bad_live, "model: %d live blocks do not overlap", nv);
	struct toro_heap_stats st;

	for (int c = 0; c < 2; c++) {
		heap_stats(&heaps[c], &st);
		is_int(st.remote_sent, sent[c], "model: core %d's remote frees counted", c);
	}
	for (int i = 0; i < SLOTS; i++) {
		heap_free(&heaps[rnd(&r) % 2], slot[i].p);
		slot[i].p = NULL;
	}
	all_back("model");
}

int
main(void)
{
	classes();
	every_class();
	alignment();
	reallocs();
	callocs();
	large();
	exact_stats();
	failures();
	storm_test();
	model();
	return done_testing();
}
