/*
 * Single-producer single-consumer record ring (see ring.h).  Only the
 * ordering of two counters is shared: the producer fills bytes and then
 * publishes tail with a release store, the consumer reads tail with an
 * acquire load before it reads those bytes; the consumer copies a record
 * out and then publishes head with a release store, the producer reads
 * head with an acquire load before it overwrites that space.  Each side
 * keeps a private copy of the other's counter and rereads the shared one
 * only when the copy says "full" or "empty", so a stream of messages does
 * not bounce the other side's cache line on every call.  Waiting, waking
 * and deciding who may push or pop are not here: that is channel.c.
 */
#include <errno.h>
#include <string.h>

#include "lib/sched/ring.h"

int
ring_init(struct ring *r, void *data, size_t size)
{
	if (size < 16 || (size & (size - 1)) || ((uintptr_t)data & 7))
		return -EINVAL;
	r->tail = 0;
	r->head_seen = 0;
	r->head = 0;
	r->tail_seen = 0;
	r->data = data;
	r->size = size;
	return 0;
}

size_t
ring_max_len(const struct ring *r)
{
	return r->size - RING_HEADER;
}

/* Copies len bytes into the ring at position pos, in two pieces at the end. */
static void
copy_in(struct ring *r, uint64_t pos, const void *src, size_t len)
{
	uint64_t off = pos & (r->size - 1);
	size_t first = len < r->size - off ? len : r->size - off;

	if (!len)
		return;		/* src may be NULL, which memcpy() may not */
	memcpy(r->data + off, src, first);
	if (first < len)
		memcpy(r->data, (const unsigned char *)src + first, len - first);
}

static void
copy_out(const struct ring *r, uint64_t pos, void *dst, size_t len)
{
	uint64_t off = pos & (r->size - 1);
	size_t first = len < r->size - off ? len : r->size - off;

	if (!len)
		return;
	memcpy(dst, r->data + off, first);
	if (first < len)
		memcpy((unsigned char *)dst + first, r->data, len - first);
}

int
ring_try_push(struct ring *r, const void *msg, size_t len)
{
	uint64_t need = ring_record_bytes(len);
	uint64_t tail = r->tail;	/* ours: no other writer */

	if (len > ring_max_len(r))
		return -EMSGSIZE;
	if (r->size - (tail - r->head_seen) < need) {
		r->head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (r->size - (tail - r->head_seen) < need)
			return -EAGAIN;
	}
	uint64_t header = len;
	copy_in(r, tail, &header, sizeof(header));
	copy_in(r, tail + RING_HEADER, msg, len);
	__atomic_store_n(&r->tail, tail + need, __ATOMIC_RELEASE);
	return 0;
}

long
ring_peek_len(struct ring *r)
{
	uint64_t head = r->head;	/* ours: no other writer */
	uint64_t header;

	if (head == r->tail_seen) {
		r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head == r->tail_seen)
			return -EAGAIN;
	}
	copy_out(r, head, &header, sizeof(header));
	return (long)header;
}

long
ring_try_pop(struct ring *r, void *buf, size_t cap)
{
	long len = ring_peek_len(r);
	uint64_t head = r->head;

	if (len < 0)
		return len;
	if ((size_t)len > cap)
		return -EMSGSIZE;
	copy_out(r, head + RING_HEADER, buf, (size_t)len);
	__atomic_store_n(&r->head, head + ring_record_bytes((size_t)len),
			 __ATOMIC_RELEASE);
	return len;
}
