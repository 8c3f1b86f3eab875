/*
 * toro/heap.h - the per-core heaps behind malloc().
 *
 * malloc(), free() and the rest of the C allocator are served by one heap
 * per core: a thread allocates from the heap of the core it runs on,
 * without a lock.  A block freed on another core goes back to the core
 * that handed it out through a lock-free queue, and that core takes the
 * queue back when one of its size classes runs out, after every 1024 frees
 * of its own blocks, or at toro_heap_trim().  Blocks up to TORO_HEAP_SMALL_MAX bytes come from
 * 64 KiB spans that a core keeps; larger ones are mapped one by one.
 * These calls report each core's numbers (see toro_heap(3)).
 *
 * The counters of struct toro_heap_stats, for core cpu:
 *
 *   small_blocks, small_bytes  Blocks of at most TORO_HEAP_SMALL_MAX bytes
 *	handed out from core cpu's spans that are not back in them yet, and
 *	the sum of their size-class sizes (at least what was asked for).  A
 *	block freed on another core stays counted here, and in
 *	remote_pending, until core cpu takes it back.
 *   remote_pending  Blocks other cores have freed to core cpu that it has
 *	not taken back yet.  small_blocks - remote_pending is what is live.
 *   remote_sent  Blocks that threads running on core cpu freed and that
 *	belong to another core (cumulative).
 *   remote_received  Blocks core cpu took back from its queue
 *	(cumulative).  Over all cores, the sum of remote_sent equals the sum
 *	of remote_received plus the sum of remote_pending.
 *   spans, spans_cached  64 KiB spans core cpu holds, and how many of
 *	them are empty and kept for reuse.
 *   large_blocks, large_bytes  Blocks over TORO_HEAP_SMALL_MAX allocated
 *	on core cpu and not freed yet (wherever they are freed), and the
 *	bytes mapped for them, header and alignment padding included.
 *
 * Counters are read without stopping the core: while it allocates they are
 * each exact but not a snapshot of one instant.  Once the threads that
 * allocate have stopped and each core has called toro_heap_trim() (or
 * allocated again), they are exact and, when every block has been freed,
 * back to the values read before.
 */
#ifndef TORO_HEAP_H
#define TORO_HEAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest block served from a core's spans; larger ones are mapped. */
#define TORO_HEAP_SMALL_MAX 65472

struct toro_heap_stats {
	uint64_t small_blocks;
	uint64_t small_bytes;
	uint64_t remote_pending;
	uint64_t remote_sent;
	uint64_t remote_received;
	uint64_t spans;
	uint64_t spans_cached;
	uint64_t large_blocks;
	uint64_t large_bytes;
};

/*
 * Fills *out with core cpu's counters.  Returns 0, or -1 with errno
 * EINVAL when cpu is not an online core or out is NULL.  A core whose
 * heap has not been used yet reports zeros.
 */
int toro_heap_stats(int cpu, struct toro_heap_stats *out);
/*
 * On the caller's core: takes back the blocks other cores freed to it and
 * gives the empty spans it keeps back to the system.  Returns 1 when
 * memory went back to the system, else 0.
 */
int toro_heap_trim(void);

#ifdef __cplusplus
}
#endif

#endif
