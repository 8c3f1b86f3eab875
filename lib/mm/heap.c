/*
 * Per-core heaps: size classes, spans, the remote-free stacks and large
 * blocks (the layout is described in heap.h).  This file is the logic
 * only: it knows neither cores nor system calls.  The caller hands it the
 * heap of the core it runs on and memory comes from heap_env; the
 * application's malloc() and friends are in malloc.c, and tests/unit
 * drives this file on the host with one heap per thread.
 *
 * Errors: every allocation failure returns NULL and the caller reports
 * ENOMEM; argument checks (EINVAL) are the caller's.
 */
#include "lib/mm/heap.h"

#include <string.h>

_Static_assert(HEAP_SMALL_MAX == TORO_HEAP_SMALL_MAX, "public limit");
_Static_assert(sizeof(struct heap_span) <= HEAP_HDR, "span header");
_Static_assert(sizeof(struct heap_large) <= HEAP_HDR, "large header");

/*
 * Classes: steps of 16 up to 128, then four per power of two up to 4 KiB
 * (at most 25% rounding), then the largest sizes that fit 15, 14, ... 1
 * blocks in a span, so that the big classes waste no span space.
 */
const uint32_t heap_class_size[HEAP_CLASSES] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1280, 1536, 1792, 2048,
	2560, 3072, 3584, 4096,
	4352, 4672, 5024, 5456, 5952, 6544, 7264, 8176,
	9344, 10912, 13088, 16368, 21824, 32736, 65472,
};

/* Class of sizes up to 1024, by (n + 15) / 16 (test-heap checks both). */
const uint8_t heap_class_tab[HEAP_TAB_MAX / 16 + 1] = {
	0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11,
	12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15,
	16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17,
	18, 18, 18, 18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19,
};

/* First class that may fit sizes in ((i) KiB, (i + 1) KiB]. */
static const uint8_t class_kib_tab[HEAP_SPAN / 1024] = {
	0, 20, 24, 26, 28, 31, 33, 34, 36, 36, 37, 38, 38, 39, 39, 39,
	40, 40, 40, 40, 40, 40, 41, 41, 41, 41, 41, 41, 41, 41, 41, 41,
	42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42,
	42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42,
};

unsigned
heap_class_of(size_t n)
{
	if (n <= HEAP_TAB_MAX)
		return heap_class_tab[(n + 15) >> 4];
	unsigned c = class_kib_tab[(n - 1) >> 10];
	while (heap_class_size[c] < n)
		c++;
	return c;
}

static size_t
round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

void
heap_cpu_init(struct heap_cpu *h, const struct heap_env *env)
{
	memset(h, 0, sizeof(*h));
	h->env = env;
	h->tick = HEAP_TICK;
}

/* ------------------------------------------------------------ spans */

static void
list_push_head(struct heap_cpu *h, struct heap_span *s)
{
	struct heap_span **head = &h->avail[s->cls];

	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
	s->listed = 1;
}

/*
 * A span that was full goes second: allocation keeps to the current span,
 * then to the ones nearly full, and lets the others drain towards empty.
 */
static void
list_push_second(struct heap_cpu *h, struct heap_span *s)
{
	struct heap_span *t = h->avail[s->cls];

	if (!t) {
		list_push_head(h, s);
		return;
	}
	s->prev = t;
	s->next = t->next;
	if (t->next)
		t->next->prev = s;
	t->next = s;
	s->listed = 1;
}

static void
list_remove(struct heap_cpu *h, struct heap_span *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->avail[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	s->listed = 0;
}

/* An empty span, not listed: keep it for reuse or give it back. */
static void
span_retire(struct heap_cpu *h, struct heap_span *s)
{
	if (h->st.spans_cached < HEAP_SPAN_CACHE) {
		s->next = h->cache;
		h->cache = s;
		heap_count(h, spans_cached, 1);
		return;
	}
	h->env->unmap(s, HEAP_SPAN);
	heap_count(h, spans, -1);
}

static struct heap_span *
span_new(struct heap_cpu *h, unsigned cls)
{
	struct heap_span *s = h->cache;

	if (s) {
		h->cache = s->next;
		heap_count(h, spans_cached, -1);
	} else {
		s = h->env->map(HEAP_SPAN, HEAP_SPAN);
		if (!s)
			return NULL;
		heap_count(h, spans, 1);
	}
	uint32_t size = heap_class_size[cls];

	s->kind = HEAP_KIND_SMALL;
	s->cls = (uint8_t)cls;
	s->listed = 0;
	__atomic_store_n(&s->aligned, 0, __ATOMIC_RELAXED);
	s->owner = h;
	s->free = NULL;
	s->used = 0;
	s->size = size;
	s->bump = (char *)s + HEAP_HDR;
	s->limit = s->bump + (HEAP_SPAN - HEAP_HDR) / size * size;
	s->prev = s->next = NULL;
	return s;
}

/*
 * Links up to a page's worth of never-used blocks into the free list, so
 * that a new span costs nothing up front and the fast path stays a pop.
 */
static void
span_carve(struct heap_span *s)
{
	size_t n = (size_t)(s->limit - s->bump) / s->size;
	size_t want = HEAP_PAGE / s->size;

	if (want == 0)
		want = 1;
	if (n > want)
		n = want;
	struct heap_block *first = (struct heap_block *)s->bump, *b = first;

	for (size_t i = 1; i < n; i++) {
		b->next = (struct heap_block *)((char *)b + s->size);
		b = b->next;
	}
	b->next = s->free;
	s->free = first;
	s->bump += n * s->size;
}

void
heap_span_adjust(struct heap_cpu *h, struct heap_span *s)
{
	if (!s->listed) {
		/* A full span got a block back; or a one-block span emptied. */
		if (s->used == 0 && h->avail[s->cls])
			span_retire(h, s);
		else
			list_push_second(h, s);
	} else if (s->used == 0 && h->avail[s->cls] != s) {
		list_remove(h, s);
		span_retire(h, s);
	}
}

void *
heap_alloc_class(struct heap_cpu *h, unsigned cls)
{
	for (;;) {
		struct heap_span *s = h->avail[cls];

		if (!s) {
			/* Blocks other cores gave back come before new memory. */
			if (__atomic_load_n(&h->remote, __ATOMIC_RELAXED) &&
			    heap_drain(h))
				continue;
			s = span_new(h, cls);
			if (!s)
				return NULL;
			list_push_head(h, s);
		}
		if (!s->free && s->bump < s->limit)
			span_carve(s);
		struct heap_block *b = s->free;

		if (!b) {
			list_remove(h, s);	/* full: back when a block is */
			continue;
		}
		s->free = b->next;
		s->used++;
		heap_count(h, small_blocks, 1);
		heap_count(h, small_bytes, s->size);
		return b;
	}
}

/* ------------------------------------------------------------ remote frees */

/*
 * Counted before the push, so that the owner, which subtracts what it
 * takes, never sees the counter below what is on its stack.
 */
static void
remote_push(struct heap_cpu *owner, struct heap_block *b)
{
	__atomic_fetch_add(&owner->remote_pending, 1, __ATOMIC_RELAXED);
	struct heap_block *head = __atomic_load_n(&owner->remote, __ATOMIC_RELAXED);

	do
		b->next = head;
	while (!__atomic_compare_exchange_n(&owner->remote, &head, b, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* The block that holds p (p may be an aligned pointer inside it). */
static struct heap_block *
block_of(struct heap_span *s, const void *p)
{
	uintptr_t first = (uintptr_t)s + HEAP_HDR;

	return (struct heap_block *)(first + ((uintptr_t)p - first) / s->size * s->size);
}

/*
 * Frees p, a block of a span h owns or an aligned pointer inside one.  A
 * span whose last block comes back has no offset pointers left: it drops
 * its aligned mark (which sends its frees down this slower path) before
 * heap_free_to_span() may retire it.
 */
static void
free_own(struct heap_cpu *h, struct heap_span *s, void *p)
{
	if (__atomic_load_n(&s->aligned, __ATOMIC_RELAXED)) {
		p = block_of(s, p);
		if (s->used == 1)
			__atomic_store_n(&s->aligned, 0, __ATOMIC_RELAXED);
	}
	heap_free_to_span(h, s, p);
}

/*
 * Takes the whole stack with one exchange: producers only ever push, so
 * there is no ABA problem and no lock.
 */
size_t
heap_drain(struct heap_cpu *h)
{
	struct heap_block *b = __atomic_exchange_n(&h->remote, NULL, __ATOMIC_ACQUIRE);
	size_t n = 0;

	while (b) {
		struct heap_block *next = b->next;

		free_own(h, heap_span_of(b), b);
		b = next;
		n++;
	}
	if (n) {
		heap_count(h, remote_received, n);
		__atomic_fetch_sub(&h->remote_pending, n, __ATOMIC_RELAXED);
	}
	return n;
}

void
heap_tick(struct heap_cpu *h)
{
	h->tick = HEAP_TICK;
	if (__atomic_load_n(&h->remote, __ATOMIC_RELAXED))
		heap_drain(h);
}

/* ------------------------------------------------------------ large blocks */

static void
large_count(struct heap_cpu *h, int64_t blocks, int64_t bytes)
{
	if (!h)
		return;
	__atomic_fetch_add(&h->large_blocks, (uint64_t)blocks, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->large_bytes, (uint64_t)bytes, __ATOMIC_RELAXED);
}

/*
 * Below 64 KiB of alignment the header is at the start of a span-aligned
 * mapping and the block at offset max(align, HEAP_HDR).  From 64 KiB on
 * the block itself is span-aligned, so its header goes 64 KiB below it and
 * the mapping's head below the header is given back at once.
 */
static void *
large_alloc(struct heap_cpu *h, size_t n, size_t align)
{
	const struct heap_env *env = h->env;
	size_t off = align > HEAP_HDR ? align : HEAP_HDR;
	char *map, *hdr, *p;
	size_t len;

	if (align > ((size_t)1 << 46) || n > SIZE_MAX / 2 - off - HEAP_SPAN)
		return NULL;
	if (off < HEAP_SPAN) {
		len = round_up(off + n, HEAP_PAGE);
		map = env->map(len, HEAP_SPAN);
		if (!map)
			return NULL;
		hdr = map;
		p = map + off;
	} else {
		len = off + round_up(n, HEAP_PAGE);
		map = env->map(len, off);
		if (!map)
			return NULL;
		p = map + off;
		hdr = p - HEAP_SPAN;
		if (hdr > map)
			env->unmap(map, (size_t)(hdr - map));
		len -= (size_t)(hdr - map);
	}
	struct heap_large *l = (struct heap_large *)hdr;

	l->kind = HEAP_KIND_LARGE;
	l->owner = h;
	l->env = env;
	l->base = hdr;
	l->length = len;
	large_count(h, 1, (int64_t)len);
	return p;
}

static void
large_free(struct heap_large *l)
{
	large_count(l->owner, -1, -(int64_t)l->length);
	l->env->unmap(l->base, l->length);
}

/* Gives back the pages past p + n; the block keeps its place. */
static void
large_shrink(struct heap_large *l, const char *p, size_t n)
{
	size_t keep = round_up((size_t)(p - l->base) + n, HEAP_PAGE);

	if (keep >= l->length)
		return;
	size_t cut = l->length - keep;

	l->length = keep;
	large_count(l->owner, 0, -(int64_t)cut);
	l->env->unmap(l->base + keep, cut);
}

/* ------------------------------------------------------------ the C API */

void *
heap_alloc_big(struct heap_cpu *h, size_t n)
{
	if (n <= HEAP_SMALL_MAX)
		return heap_alloc_class(h, heap_class_of(n));
	return large_alloc(h, n, 0);
}

void
heap_free_slow(struct heap_cpu *h, void *p)
{
	struct heap_span *s = heap_span_of(p);

	if (s->kind == HEAP_KIND_LARGE) {
		large_free((struct heap_large *)s);
		return;
	}
	if (s->kind != HEAP_KIND_SMALL)
		__builtin_trap();	/* not a pointer the heap handed out */
	if (s->owner == h) {
		free_own(h, s, p);
		if (--h->tick == 0)
			heap_tick(h);
		return;
	}
	/* Another core's block: its owner finds the start of it. */
	remote_push(s->owner, p);
	if (h)
		heap_count(h, remote_sent, 1);
}

size_t
heap_usable_size(const void *p)
{
	if (!p)
		return 0;
	struct heap_span *s = heap_span_of(p);

	if (s->kind == HEAP_KIND_LARGE) {
		struct heap_large *l = (struct heap_large *)s;

		return (size_t)(l->base + l->length - (const char *)p);
	}
	const char *b = (const char *)p;

	if (__atomic_load_n(&s->aligned, __ATOMIC_RELAXED))
		b = (const char *)block_of(s, p);
	return (size_t)(b + s->size - (const char *)p);
}

void *
heap_calloc(struct heap_cpu *h, size_t count, size_t n)
{
	size_t total;

	if (__builtin_mul_overflow(count, n, &total))
		return NULL;
	void *p = heap_alloc(h, total);

	/* A large block is a fresh mapping, zero already. */
	if (p && total <= HEAP_SMALL_MAX)
		memset(p, 0, total);
	return p;
}

void *
heap_memalign(struct heap_cpu *h, size_t align, size_t n)
{
	if (align <= 16)
		return heap_alloc(h, n);
	/*
	 * A block of n + align - 16 bytes (16-byte aligned itself) holds an
	 * align-aligned run of n; at least 16 bytes so that the remote-free
	 * link fits at the aligned pointer.
	 */
	size_t need = n < 16 ? 16 : n;

	if (need <= HEAP_SMALL_MAX && align <= HEAP_SMALL_MAX + 16 - need) {
		char *b = heap_alloc_class(h, heap_class_of(need + align - 16));
		char *p;

		if (!b)
			return NULL;
		p = (char *)round_up((uintptr_t)b, align);
		if (p != b)
			__atomic_store_n(&heap_span_of(b)->aligned, 1, __ATOMIC_RELAXED);
		return p;
	}
	return large_alloc(h, n, align);
}

/*
 * In place when the block still fits and at most halves (or is small
 * anyway); a large block that shrinks and stays large gives back its
 * tail.  Otherwise a new block, the copy, and a free of the old one.
 */
void *
heap_realloc(struct heap_cpu *h, void *p, size_t n)
{
	if (!p)
		return heap_alloc(h, n);
	size_t have = heap_usable_size(p);
	struct heap_span *s = heap_span_of(p);

	if (n <= have) {
		if (s->kind == HEAP_KIND_LARGE && n > HEAP_SMALL_MAX) {
			large_shrink((struct heap_large *)s, p, n);
			return p;
		}
		if (s->kind == HEAP_KIND_SMALL && (n >= have / 2 || have <= 64))
			return p;
	}
	void *q = heap_alloc(h, n);

	if (!q)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	heap_free(h, p);
	return q;
}

/* ------------------------------------------------------------ trim, stats */

size_t
heap_trim(struct heap_cpu *h)
{
	size_t bytes = 0;

	heap_drain(h);
	while (h->cache) {
		struct heap_span *s = h->cache;

		h->cache = s->next;
		heap_count(h, spans_cached, -1);
		heap_count(h, spans, -1);
		h->env->unmap(s, HEAP_SPAN);
		bytes += HEAP_SPAN;
	}
	for (unsigned c = 0; c < HEAP_CLASSES; c++) {
		struct heap_span *s = h->avail[c];

		/* Only the head may be empty (heap_span_adjust). */
		if (s && s->used == 0) {
			list_remove(h, s);
			heap_count(h, spans, -1);
			h->env->unmap(s, HEAP_SPAN);
			bytes += HEAP_SPAN;
		}
	}
	return bytes;
}

void
heap_stats(const struct heap_cpu *h, struct toro_heap_stats *out)
{
#define LOAD(x) __atomic_load_n(&h->x, __ATOMIC_RELAXED)
	out->small_blocks = LOAD(st.small_blocks);
	out->small_bytes = LOAD(st.small_bytes);
	out->remote_pending = LOAD(remote_pending);
	out->remote_sent = LOAD(st.remote_sent);
	out->remote_received = LOAD(st.remote_received);
	out->spans = LOAD(st.spans);
	out->spans_cached = LOAD(st.spans_cached);
	out->large_blocks = LOAD(large_blocks);
	out->large_bytes = LOAD(large_bytes);
#undef LOAD
}
