/*
 * Packet buffers: one frame (or one TCP segment's worth of payload) in one
 * physically contiguous block, with room in front for the headers the
 * layers below will add.  The network stack, the netdev class and the
 * NIC drivers all pass frames as netbufs, so a payload byte is copied at
 * most once each way: the device writes a received frame straight into a
 * netbuf that ends up on a socket's receive queue (recv() copies it out);
 * send() copies the caller's bytes into netbufs that the device reads,
 * and sendfile() from a RAM file copies nothing: TCP's netbufs point at
 * the file's bytes (ext below).
 *
 * A netbuf is reference-counted: TCP keeps a sent segment on its
 * retransmission queue while the driver still holds it for the device.
 * Its memory is identity-mapped kernel memory, so the address of data is
 * also what a device is given (virt == phys below 4 GiB).
 *
 * Safe from any core with interrupts off (kernel code); never sleeps.
 * In the host unit tests (TORO_HOST_TEST) the same code runs on malloc.
 */
#ifndef TORO_NET_NETBUF_H
#define TORO_NET_NETBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/kernel/kbuf.h"

/* Room for virtio-net's header + Ethernet + IPv4 + TCP with options. */
#define NETBUF_HEADROOM		128
/* What one netbuf holds in all: headroom + a 1514-byte frame, rounded. */
#define NETBUF_SIZE		2048
/* A page netbuf's (netbuf_alloc_page): a receive buffer for merged frames. */
#define NETBUF_PAGE_SIZE	4096
/* A bare netbuf's slot (netbuf_alloc_bare): the struct alone, 32 to a page. */
#define NETBUF_BARE_SIZE	128

/* pool */
#define NB_POOL_BLOCK		0	/* NETBUF_SIZE */
#define NB_POOL_BARE		1	/* NETBUF_BARE_SIZE: the struct alone */
#define NB_POOL_PAGE		2	/* NETBUF_PAGE_SIZE */

/* flags */
#define NB_CSUM_VALID		1	/* rx: the L4 checksum is known good (device, loopback) */
#define NB_CSUM_PARTIAL		2	/* tx: device fills the L4 checksum (csum_*) */
#define NB_BCAST		4	/* rx: link-layer broadcast/multicast */
#define NB_MORE			8	/* rx: more of one offloaded TCP frame follows at once */
#define NB_GRO			16	/* rx: a part of an offloaded TCP frame */

struct netdev;
struct netbuf;

/*
 * A piece of another netbuf's bytes, referenced: the payload of a frame
 * built by TCP segmentation offload (a header netbuf followed by slices
 * of the segments on TCP's send queue, which stay where they are).
 */
struct nb_slice {
	struct netbuf *nb;		/* holds one reference */
	const uint8_t *data;
	uint32_t len;
};
/* At most this many slices follow a header netbuf. */
#define NB_SLICES_MAX		40

struct netbuf {
	/*
	 * For whoever queues it -- but a netbuf that someone else also
	 * holds (refs > 1: TCP's send queue links its segments through
	 * next while the driver has them) must be copied before it is
	 * queued again (nb_unshare), never relinked.
	 */
	struct netbuf *next;
	uint8_t *data;			/* the first valid byte */
	uint32_t len;			/* valid bytes from data */
	uint32_t flags;			/* NB_* */
	/*
	 * NB_CSUM_PARTIAL: the checksum of the bytes from data+csum_start
	 * (data as the driver gets it: the Ethernet header) to the end is
	 * stored at data+csum_start+csum_offset (virtio_net_hdr's meaning).
	 */
	uint16_t csum_start, csum_offset;
	int refs;			/* atomic */
	struct netdev *dev;		/* rx: received on; tx: leaving through */
	/* Layer offsets from the start of the buffer, set as headers are parsed. */
	uint16_t l3, l4;
	/* Free for the owner of the moment (TCP: sequence number, send time). */
	uint32_t seq;
	uint64_t stamp;
	/*
	 * More of the same datagram when it does not fit one netbuf (an IPv4
	 * datagram reassembled from fragments, a large UDP send): its bytes
	 * continue at frag->data, and so on.  Only IPv4, ICMP and UDP make
	 * or see such chains; TCP never gets one.  netbuf_put() of the head
	 * releases the whole chain.
	 */
	struct netbuf *frag;
	/*
	 * tx only, never with frag: the frame's bytes are data..data+len
	 * (the headers) and then each of slices[0..nslices) in order; the
	 * array lives in this netbuf's own block (netbuf_slice_area).
	 * gso_size: TCP segmentation offload, the payload bytes of each
	 * segment the device cuts the frame into (0: one packet).  On
	 * receive, nonzero marks a TCP/IPv4 frame the device received
	 * offloaded (up to 64 KiB, continued in frag): IPv4 cuts it up.
	 */
	struct nb_slice *slices;
	uint16_t nslices;
	uint16_t gso_size;
	/* Which pool: NB_POOL_* (the block's size). */
	uint8_t pool;
	/*
	 * TCP's send queue only (tcp_snd_payload): the segment's payload is
	 * not in this block but at ext_data, read-only memory lent without
	 * a copy (a RAM file's bytes, sendfile()) that the reference in ext
	 * keeps alive; the last netbuf_put() drops it.
	 */
	struct kbuf *ext;
	const uint8_t *ext_data;
	uint8_t buf[];			/* the block, up to NETBUF_SIZE in all */
};

/* Bytes available in a netbuf's block after the struct. */
#define NETBUF_CAPACITY		(NETBUF_SIZE - (uint32_t)sizeof(struct netbuf))
#define NETBUF_PAGE_CAPACITY	(NETBUF_PAGE_SIZE - (uint32_t)sizeof(struct netbuf))

/* Bytes available in nb's own block after the struct. */
static inline uint32_t
netbuf_capacity(const struct netbuf *nb)
{
	return nb->pool == NB_POOL_PAGE ? NETBUF_PAGE_CAPACITY :
	       nb->pool == NB_POOL_BARE ? 0 : NETBUF_CAPACITY;
}

/* The memory nb pins (receive-queue accounting). */
static inline uint32_t
netbuf_truesize(const struct netbuf *nb)
{
	return nb->pool == NB_POOL_PAGE ? NETBUF_PAGE_SIZE :
	       nb->pool == NB_POOL_BARE ? NETBUF_BARE_SIZE : NETBUF_SIZE;
}

/*
 * A header netbuf's slice array and, 16-byte aligned before it, room for
 * a driver's table of NB_SLICES_MAX + 2 descriptors (16 bytes each), both
 * at the end of its block, past NETBUF_HEADROOM: such a netbuf holds
 * headers only, in its headroom.
 */
#define NB_DESC_AREA		((NB_SLICES_MAX + 2) * 16u)
static inline struct nb_slice *
netbuf_slice_area(struct netbuf *nb)
{
	uintptr_t a = (uintptr_t)(nb->buf + NETBUF_CAPACITY -
				  NB_SLICES_MAX * sizeof(struct nb_slice));

	return (struct nb_slice *)(a & ~(uintptr_t)7);
}
static inline void *
netbuf_desc_area(struct netbuf *nb)
{
	uintptr_t end = (uintptr_t)netbuf_slice_area(nb);

	return (void *)((end - NB_DESC_AREA) & ~(uintptr_t)15);
}
_Static_assert(NETBUF_HEADROOM + NB_DESC_AREA + 16 +
	       NB_SLICES_MAX * sizeof(struct nb_slice) <= NETBUF_SIZE - 128,
	       "a header netbuf's block holds its slices and a descriptor table");

/*
 * A netbuf with one reference, len 0 and data headroom bytes into the
 * block (headroom <= NETBUF_CAPACITY), or NULL when memory runs out.
 */
struct netbuf *netbuf_alloc(uint32_t headroom);
/*
 * A netbuf without a block, one reference: for bytes that live elsewhere
 * (TCP's lent send-queue segments, ext); data, buf, push and put_tail
 * must not be used.  NULL when memory runs out.
 */
struct netbuf *netbuf_alloc_bare(void);
/* netbuf_alloc's twin with a page-sized block (NETBUF_PAGE_CAPACITY). */
struct netbuf *netbuf_alloc_page(uint32_t headroom);
static inline struct netbuf *
netbuf_ref(struct netbuf *nb)
{
	__atomic_add_fetch(&nb->refs, 1, __ATOMIC_RELAXED);
	return nb;
}
/* Drops a reference; the last one returns the netbuf (and its frag chain
 * and slices' and ext's references) to the pool. */
void netbuf_put(struct netbuf *nb);
/* Frees a whole ->next-linked list (one reference each). */
void netbuf_put_list(struct netbuf *nb);
/* How many netbufs exist / sit in the free pool (statistics, leak tests). */
unsigned long netbuf_in_use(void);

static inline uint32_t
netbuf_headroom(const struct netbuf *nb)
{
	return (uint32_t)(nb->data - nb->buf);
}

static inline uint32_t
netbuf_tailroom(const struct netbuf *nb)
{
	return netbuf_capacity(nb) - netbuf_headroom(nb) - nb->len;
}

/* Grows the front by n bytes (a header); NULL when headroom is short. */
static inline void *
netbuf_push(struct netbuf *nb, uint32_t n)
{
	if (netbuf_headroom(nb) < n)
		return NULL;
	nb->data -= n;
	nb->len += n;
	return nb->data;
}

/* Drops n bytes from the front (a parsed header); NULL if len < n. */
static inline void *
netbuf_pull(struct netbuf *nb, uint32_t n)
{
	if (nb->len < n)
		return NULL;
	nb->data += n;
	nb->len -= n;
	return nb->data;
}

/* Appends n bytes at the end and returns where they go; NULL if no room. */
static inline void *
netbuf_put_tail(struct netbuf *nb, uint32_t n)
{
	uint8_t *p = nb->data + nb->len;

	if (netbuf_tailroom(nb) < n)
		return NULL;
	nb->len += n;
	return p;
}

/* Shortens the valid bytes to n (n <= len): drops link-layer padding. */
static inline void
netbuf_trim(struct netbuf *nb, uint32_t n)
{
	if (n < nb->len)
		nb->len = n;
}

#endif
