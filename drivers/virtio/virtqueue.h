/*
 * Split virtqueues (virtio 1.x section 2.7; legacy layout 2.7.2): the
 * descriptor table, the available ring the driver fills and the used ring
 * the device returns buffers on, with indirect descriptors and
 * VIRTIO_F_EVENT_IDX.  Pure ring logic over memory the caller provides, so
 * that it compiles and is unit-tested on the host: no locking (the caller
 * serialises), no interrupts, no transport.
 */
#ifndef TORO_VIRTQUEUE_H
#define TORO_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VQ_DESC_F_NEXT		1
#define VQ_DESC_F_WRITE		2
#define VQ_DESC_F_INDIRECT	4
#define VQ_AVAIL_F_NO_INTERRUPT	1
#define VQ_USED_F_NO_NOTIFY	1

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq_used {
	uint16_t flags;
	uint16_t idx;
	struct vq_used_elem ring[];	/* then avail_event */
};

/* One buffer of a request: device-readable, or device-writable. */
struct vq_buf {
	uint64_t addr;		/* guest physical */
	uint32_t len;
	bool device_writes;
};

struct virtq {
	uint16_t size;			/* a power of two */
	struct vq_desc *desc;
	struct vq_avail *avail;
	struct vq_used *used;
	void **cookie;			/* size entries: what each head carries */
	uint16_t free_head, num_free;
	uint16_t avail_idx;		/* our copy of avail->idx */
	uint16_t kicked_idx;		/* avail_idx at the last notify decision */
	uint16_t last_used;		/* next used->ring slot to read */
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	uint32_t bad_used;		/* used entries naming no request: skipped */
};

/* Bytes of each part, and of the legacy contiguous layout (used ring
 * aligned to align, 4096 for legacy PCI and MMIO version 1). */
size_t vq_desc_bytes(uint16_t size);
size_t vq_avail_bytes(uint16_t size);
size_t vq_used_bytes(uint16_t size);
size_t vq_legacy_bytes(uint16_t size, size_t align);

/*
 * Sets up vq over zeroed memory: desc, avail and used where the caller put
 * them (vq_init_legacy() places them in one block as legacy devices
 * require).  cookie must have size entries.
 */
void vq_init(struct virtq *vq, uint16_t size, void *desc, void *avail,
	     void *used, void **cookie);
void vq_init_legacy(struct virtq *vq, uint16_t size, void *mem, size_t align,
		    void **cookie);

/*
 * Puts a chain of n buffers (all device-readable ones first) in the
 * descriptor table and returns its head, or -ENOSPC when fewer than n
 * descriptors are free, -EINVAL for n == 0.  Not yet visible to the
 * device: vq_publish() does that.
 */
int vq_add_chain(struct virtq *vq, const struct vq_buf *bufs, unsigned n,
		 void *cookie);
/*
 * The same through one descriptor pointing at table (n entries the caller
 * owns until the request completes, at guest physical table_addr).
 */
int vq_add_indirect(struct virtq *vq, struct vq_desc *table,
		    uint64_t table_addr, const struct vq_buf *bufs, unsigned n,
		    void *cookie);
/* Makes head available to the device (release order). */
void vq_publish(struct virtq *vq, uint16_t head);
/*
 * Whether the device wants a notification for what was published since
 * the last call (event index or the NO_NOTIFY flag).  Call after a full
 * fence following vq_publish().
 */
bool vq_kick_needed(struct virtq *vq);
/* The next completed request: its cookie and the bytes the device
 * wrote; NULL when the used ring holds nothing new.  Frees its chain.
 * Entries with an id out of range or without a request are skipped and
 * counted in bad_used. */
void *vq_get_used(struct virtq *vq, uint32_t *len);
/*
 * Asks for an interrupt on the next completion (event index: used_event =
 * last_used) and returns true if completions arrived meanwhile (the
 * caller then polls again).
 */
bool vq_enable_interrupts(struct virtq *vq);

/* virtio's vring_need_event(): did new_idx pass event since old? */
static inline bool
vq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
