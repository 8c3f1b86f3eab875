/*
 * A single-producer single-consumer ring of variable-length records, the
 * lock-free core of the inter-core channels (channel.c).  One side pushes,
 * the other pops, each without a lock; anything that might make two
 * pushers or two poppers (several threads on one core) is the caller's to
 * serialise.  Pure logic, unit-tested on the host, also under TSan.
 *
 * Layout: head and tail count bytes ever popped and pushed (64-bit, so
 * they never wrap in practice, and free space is size - (tail - head)
 * without a spare slot).  A record is an 8-byte header holding the length
 * and then the payload, padded to a multiple of 8.  Records start at
 * multiples of 8, so a header never straddles the end of the buffer; a
 * payload may, and is copied in two pieces.  That wastes nothing at the
 * end of the buffer and lets an empty ring take any record up to its whole
 * size, which a "no record wraps" rule would not.
 */
#ifndef TORO_SCHED_RING_H
#define TORO_SCHED_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_CACHELINE 64
/* Bytes of header in front of each record. */
#define RING_HEADER 8

struct ring {
	/* Written by the producer only. */
	uint64_t tail __attribute__((aligned(RING_CACHELINE)));
	uint64_t head_seen;	/* producer's last look at head */
	/* Written by the consumer only. */
	uint64_t head __attribute__((aligned(RING_CACHELINE)));
	uint64_t tail_seen;	/* consumer's last look at tail */
	/* Set by ring_init(), read-only after. */
	unsigned char *data __attribute__((aligned(RING_CACHELINE)));
	uint64_t size;		/* bytes in data, a power of two */
};

/* Bytes a record of len payload bytes takes in the ring. */
static inline uint64_t
ring_record_bytes(size_t len)
{
	return RING_HEADER + (((uint64_t)len + 7) & ~(uint64_t)7);
}

/*
 * An empty ring over size bytes at data (a power of two, at least 16;
 * data 8-byte aligned).  Returns 0 or -EINVAL.
 */
int ring_init(struct ring *r, void *data, size_t size);
/* Largest payload the ring can ever hold: size - RING_HEADER. */
size_t ring_max_len(const struct ring *r);

/* Producer side.  Returns 0, -EAGAIN (no room now) or -EMSGSIZE (never). */
int ring_try_push(struct ring *r, const void *msg, size_t len);

/* Consumer side.  The next record's length, or -EAGAIN when empty. */
long ring_peek_len(struct ring *r);
/*
 * Copies the next record into buf and removes it: returns its length,
 * -EAGAIN when empty, or -EMSGSIZE when it is longer than cap (it stays).
 */
long ring_try_pop(struct ring *r, void *buf, size_t cap);

#endif
