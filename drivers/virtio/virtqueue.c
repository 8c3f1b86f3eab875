/*
 * Split-virtqueue bookkeeping (virtqueue.h): the free-descriptor list,
 * building chains and indirect tables, publishing to the available ring,
 * the notification decision and reading the used ring.  Compiled into the
 * kernel and, unchanged, into the host unit test (tests/unit/test-virtqueue.c).
 * Memory ordering uses compiler builtins only; on x86 release/acquire
 * are compiler barriers and the caller's full fence orders publish
 * against the notification check.
 */
#include "drivers/virtio/virtqueue.h"

#include <errno.h>

size_t
vq_desc_bytes(uint16_t size)
{
	return 16u * size;
}

size_t
vq_avail_bytes(uint16_t size)
{
	return 6u + 2u * size;
}

size_t
vq_used_bytes(uint16_t size)
{
	return 6u + 8u * size;
}

static size_t
align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

size_t
vq_legacy_bytes(uint16_t size, size_t align)
{
	return align_up(vq_desc_bytes(size) + vq_avail_bytes(size), align) +
	       align_up(vq_used_bytes(size), align);
}

void
vq_init(struct virtq *vq, uint16_t size, void *desc, void *avail, void *used,
	void **cookie)
{
	*vq = (struct virtq){
		.size = size,
		.desc = desc,
		.avail = avail,
		.used = used,
		.cookie = cookie,
		.num_free = size,
	};
	for (uint16_t i = 0; i < size; i++) {
		vq->desc[i].next = (uint16_t)(i + 1);
		cookie[i] = NULL;
	}
}

void
vq_init_legacy(struct virtq *vq, uint16_t size, void *mem, size_t align,
	       void **cookie)
{
	uint8_t *p = mem;
	size_t used_off = align_up(vq_desc_bytes(size) + vq_avail_bytes(size), align);

	vq_init(vq, size, p, p + vq_desc_bytes(size), p + used_off, cookie);
}

static void
fill(struct vq_desc *d, const struct vq_buf *b)
{
	d->addr = b->addr;
	d->len = b->len;
	d->flags = b->device_writes ? VQ_DESC_F_WRITE : 0;
}

int
vq_add_chain(struct virtq *vq, const struct vq_buf *bufs, unsigned n,
	     void *cookie)
{
	if (!n)
		return -EINVAL;
	if (n > vq->num_free)
		return -ENOSPC;
	uint16_t head = vq->free_head, i = head;
	for (unsigned k = 0; k < n; k++) {
		struct vq_desc *d = &vq->desc[i];
		fill(d, &bufs[k]);
		if (k + 1 < n)
			d->flags |= VQ_DESC_F_NEXT;
		i = d->next;
	}
	/* i is the first descriptor after the chain: the new free head. */
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - n);
	vq->cookie[head] = cookie;
	return head;
}

int
vq_add_indirect(struct virtq *vq, struct vq_desc *table, uint64_t table_addr,
		const struct vq_buf *bufs, unsigned n, void *cookie)
{
	if (!n)
		return -EINVAL;
	if (!vq->num_free)
		return -ENOSPC;
	for (unsigned k = 0; k < n; k++) {
		fill(&table[k], &bufs[k]);
		if (k + 1 < n) {
			table[k].flags |= VQ_DESC_F_NEXT;
			table[k].next = (uint16_t)(k + 1);
		} else {
			table[k].next = 0;
		}
	}
	uint16_t head = vq->free_head;
	struct vq_desc *d = &vq->desc[head];
	vq->free_head = d->next;
	vq->num_free--;
	d->addr = table_addr;
	d->len = (uint32_t)(n * sizeof(struct vq_desc));
	d->flags = VQ_DESC_F_INDIRECT;
	vq->cookie[head] = cookie;
	return head;
}

void
vq_publish(struct virtq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	vq->avail_idx++;
	/* The ring entry (and the descriptors) before the index. */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

bool
vq_kick_needed(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, new_idx = vq->avail_idx;

	vq->kicked_idx = new_idx;
	/*
	 * A full barrier between publishing avail->idx and reading what
	 * the device asked for (virtio 1.x 2.7.13): x86 lets a load pass an
	 * earlier store, and a device that found the ring empty, asked to
	 * be told (avail_event/flags) and re-read avail->idx meanwhile would
	 * miss both this publication and its kick; it would wait for ever.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		/* avail_event sits after the used ring's entries. */
		volatile uint16_t *avail_event =
			(volatile uint16_t *)&vq->used->ring[vq->size];
		return vq_need_event(*avail_event, new_idx, old);
	}
	return !(__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE) &
		 VQ_USED_F_NO_NOTIFY);
}

/* Returns the chain at head to the free list. */
static void
free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t i = head, n = 1;

	while (vq->desc[i].flags & VQ_DESC_F_NEXT) {
		i = vq->desc[i].next;
		n++;
	}
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + n);
}

void *
vq_get_used(struct virtq *vq, uint32_t *len)
{
	uint16_t idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

	for (;;) {
		if (idx == vq->last_used)
			return NULL;
		struct vq_used_elem e = vq->used->ring[vq->last_used & (vq->size - 1)];
		vq->last_used++;
		if (e.id >= vq->size || !vq->cookie[e.id]) {
			vq->bad_used++;	/* a device bug: skip, never trust it */
			continue;
		}
		void *cookie = vq->cookie[e.id];
		vq->cookie[e.id] = NULL;
		free_chain(vq, (uint16_t)e.id);
		if (len)
			*len = e.len;
		return cookie;
	}
}

bool
vq_enable_interrupts(struct virtq *vq)
{
	if (vq->event_idx) {
		volatile uint16_t *used_event =
			(volatile uint16_t *)&vq->avail->ring[vq->size];
		*used_event = vq->last_used;
	} else {
		vq->avail->flags &= (uint16_t)~VQ_AVAIL_F_NO_INTERRUPT;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}
