/*
 * Per-core heaps (lib/mm/heap.c): the allocator's logic, free of anything
 * kernel-specific so that tests/unit runs it on the host.  The caller
 * passes the heap of the core it runs on and keeps that core for the
 * whole call (lib/mm/malloc.c: interrupts off); memory comes from the page
 * source in struct heap_env.
 *
 * Layout.  Blocks of up to HEAP_SMALL_MAX bytes live in 64 KiB spans
 * aligned to their size, one size class per span, with the span's header
 * in its first HEAP_HDR bytes.  A larger block has a mapping of its own
 * with a header of the same kind field.  Either header sits at
 * (p - 1) & ~(HEAP_SPAN - 1) for every pointer p the heap hands out: small
 * blocks start after their span's header, and a large block whose pointer
 * is itself span-aligned (alignment >= 64 KiB) keeps its header in the
 * 64 KiB just below it.
 *
 * Ownership.  A span belongs to the core that mapped it; only that core
 * touches its free list and counts.  A block freed on another core is
 * pushed on the owner's remote stack (lock-free, many producers); the
 * owner takes the whole stack with one exchange and frees the blocks
 * locally.  Large blocks need no owner: any core unmaps them.
 */
#ifndef TORO_MM_HEAP_H
#define TORO_MM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "include/toro/heap.h"

#define HEAP_SPAN	65536UL		/* span size and alignment */
#define HEAP_PAGE	4096UL		/* the page source's granule */
#define HEAP_HDR	64UL		/* span header; the first block follows */
#define HEAP_SMALL_MAX	(HEAP_SPAN - HEAP_HDR)	/* = TORO_HEAP_SMALL_MAX */
#define HEAP_CLASSES	43
#define HEAP_TAB_MAX	1024		/* sizes up to this: class by table */
#define HEAP_TICK	1024		/* local frees between looks at remote */
#define HEAP_SPAN_CACHE	8		/* empty spans a core keeps */

#define HEAP_KIND_SMALL	0x5350414eU	/* "SPAN" */
#define HEAP_KIND_LARGE	0x4c415247U	/* "LARG" */

/*
 * Where memory comes from.  map() returns bytes (a multiple of HEAP_PAGE)
 * of zeroed memory aligned to align (a power of two >= HEAP_PAGE), or
 * NULL; unmap() gives back any page-aligned part of what map() returned.
 * The heap is consistent whenever it calls them, so they may let other
 * threads of the same core run, but they must not move the caller to
 * another core: it still holds its core's heap.
 */
struct heap_env {
	void *(*map)(size_t bytes, size_t align);
	void (*unmap)(void *p, size_t bytes);
};

struct heap_block {
	struct heap_block *next;
};

struct heap_cpu;

/* The first HEAP_HDR bytes of a small span. */
struct heap_span {
	uint32_t kind;			/* HEAP_KIND_SMALL */
	uint8_t cls;
	uint8_t listed;			/* on its class's avail list */
	uint8_t aligned;		/* has blocks handed out at an offset */
	uint8_t unused;
	struct heap_cpu *owner;		/* written once, read by every core */
	struct heap_block *free;
	uint32_t used;			/* handed out, remote-pending included */
	uint32_t size;			/* the class's block size */
	char *bump, *limit;		/* never-used blocks: [bump, limit) */
	struct heap_span *prev, *next;	/* avail list, or the empty cache */
};

/* The header of a large block's mapping. */
struct heap_large {
	uint32_t kind;			/* HEAP_KIND_LARGE */
	uint32_t unused;
	struct heap_cpu *owner;		/* whose counters it is on, or NULL */
	const struct heap_env *env;
	char *base;			/* the mapping (from the header on) */
	size_t length;
};

/*
 * One core's heap.  Everything before `remote` is written by the owner
 * only (counters with relaxed atomic stores, so that other cores may read
 * them); `remote` and what follows on its cache line are written by any
 * core with atomic read-modify-writes.
 */
struct heap_cpu {
	struct heap_span *avail[HEAP_CLASSES];	/* spans with free blocks */
	const struct heap_env *env;
	struct heap_span *cache;	/* empty spans kept for reuse */
	unsigned tick;			/* local frees until heap_tick() */
	struct {
		uint64_t small_blocks, small_bytes;
		uint64_t remote_sent, remote_received;
		uint64_t spans, spans_cached;
	} st;
	struct heap_block *remote __attribute__((aligned(64)));
	uint64_t remote_pending;
	uint64_t large_blocks, large_bytes;
} __attribute__((aligned(64)));

extern const uint32_t heap_class_size[HEAP_CLASSES];
extern const uint8_t heap_class_tab[HEAP_TAB_MAX / 16 + 1];

/* Sets up an empty heap in zeroed or reused storage. */
void heap_cpu_init(struct heap_cpu *h, const struct heap_env *env);

/* The C allocator's operations; h may be NULL only for heap_free(). */
void *heap_alloc_class(struct heap_cpu *h, unsigned cls);
void *heap_alloc_big(struct heap_cpu *h, size_t n);
void heap_free_slow(struct heap_cpu *h, void *p);
void *heap_calloc(struct heap_cpu *h, size_t count, size_t n);
void *heap_realloc(struct heap_cpu *h, void *p, size_t n);
/* align: a power of two (or 0, taken as 1). */
void *heap_memalign(struct heap_cpu *h, size_t align, size_t n);
size_t heap_usable_size(const void *p);
/* Class index for n <= HEAP_SMALL_MAX. */
unsigned heap_class_of(size_t n);

/* Takes back blocks other cores freed to h; returns how many. */
size_t heap_drain(struct heap_cpu *h);
/* heap_drain() plus giving back every empty span; bytes given back. */
size_t heap_trim(struct heap_cpu *h);
void heap_stats(const struct heap_cpu *h, struct toro_heap_stats *out);

/*
 * In the guest (malloc.c): gives the calling CPU its heap now rather than
 * at its first malloc().  Maps nothing, so the kernel may call it at boot.
 */
void heap_init_cpu(void);

/* Slow-path helpers the inline fast paths below call. */
void heap_span_adjust(struct heap_cpu *h, struct heap_span *s);
void heap_tick(struct heap_cpu *h);

/* Counters only the owner writes: relaxed stores, readable from afar. */
#define heap_count(h, field, delta) \
	__atomic_store_n(&(h)->st.field, (h)->st.field + (delta), __ATOMIC_RELAXED)

static inline struct heap_span *
heap_span_of(const void *p)
{
	return (struct heap_span *)(((uintptr_t)p - 1) & ~(HEAP_SPAN - 1));
}

/*
 * The fast path: pop the first free block of the first span on the class's
 * avail list.  Anything else (no span, span exhausted, larger sizes) is
 * the slow path's business.
 */
static inline void *
heap_alloc(struct heap_cpu *h, size_t n)
{
	if (__builtin_expect(n <= HEAP_TAB_MAX, 1)) {
		unsigned c = heap_class_tab[(n + 15) >> 4];
		struct heap_span *s = h->avail[c];
		struct heap_block *b;

		if (__builtin_expect(s != NULL, 1) &&
		    __builtin_expect((b = s->free) != NULL, 1)) {
			s->free = b->next;
			s->used++;
			heap_count(h, small_blocks, 1);
			heap_count(h, small_bytes, s->size);
			return b;
		}
		return heap_alloc_class(h, c);
	}
	return heap_alloc_big(h, n);
}

/*
 * Puts block b back on span s, which h owns.  The span needs attention
 * only when it was full (not listed) or became empty while another span
 * of its class is being allocated from.
 */
static inline void
heap_free_to_span(struct heap_cpu *h, struct heap_span *s,
		  struct heap_block *b)
{
	b->next = s->free;
	s->free = b;
	s->used--;
	heap_count(h, small_blocks, -1);
	heap_count(h, small_bytes, -(uint64_t)s->size);
	if (__builtin_expect(!s->listed, 0) ||
	    __builtin_expect(s->used == 0 && h->avail[s->cls] != s, 0))
		heap_span_adjust(h, s);
}

static inline void
heap_free(struct heap_cpu *h, void *p)
{
	if (p == NULL)
		return;
	struct heap_span *s = heap_span_of(p);

	if (__builtin_expect(s->kind == HEAP_KIND_SMALL && s->owner == h &&
			     !__atomic_load_n(&s->aligned, __ATOMIC_RELAXED), 1)) {
		heap_free_to_span(h, s, p);
		if (__builtin_expect(--h->tick == 0, 0))
			heap_tick(h);
		return;
	}
	heap_free_slow(h, p);
}

#endif
