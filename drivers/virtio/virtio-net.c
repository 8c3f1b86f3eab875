/*
 * virtio-net (virtio 1.x 5.1) as a netdev: one receive queue (0) and one
 * transmit queue (1), on every transport of the virtio core.  No control
 * queue, no multiqueue and no merged receive buffers: a received frame
 * fits one 2 KiB netbuf together with its virtio_net_hdr (12 bytes on
 * modern devices, 10 on legacy ones).  TCP segmentation offload on
 * transmit (HOST_TSO4, with CSUM; virtio_net.tso=0 turns it off): a frame
 * of up to 64 KiB is a header netbuf followed by slices of TCP's queued
 * segments, one indirect descriptor table (in the header netbuf's block)
 * for all of it, and the device cuts it into MSS-sized segments.
 *
 * Receive: the whole ring holds netbufs the device writes into (header,
 * then the frame, placed so that the IP header is 4-byte aligned); poll()
 * pulls the header off and hands each frame to nd->input(), replacing its
 * buffer at once.  When no netbuf can be had, the frame is dropped and its
 * buffer goes straight back to the ring, so the device never starves.
 * Transmit: the header goes into the netbuf's headroom without touching
 * the netbuf itself (TCP may hold the same one on its retransmission
 * queue), one descriptor per frame; completed frames are released in
 * xmit() and poll(), and the transmit queue never interrupts.  The
 * receive interrupt goes to virtio_net.cpu= (default 0); the handler only
 * masks it and calls nd->notify(), the stack's thread does the rest.
 * Checksums: NB_CSUM_PARTIAL becomes NEEDS_CSUM (VIRTIO_NET_F_CSUM; the
 * stack asks for it only when the device offers it), and a
 * frame the device says it checked (DATA_VALID, or NEEDS_CSUM from a
 * local peer, 5.1.6.4) is NB_CSUM_VALID (VIRTIO_NET_F_GUEST_CSUM).
 * Lengths and ids the device returns are checked; bad ones are counted
 * in rx_errors/tx_errors and the frame dropped.  Not the place for
 * Ethernet: frames pass through unparsed, whoever they are addressed to.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86_64/clock.h"
#include "arch/x86_64/io.h"
#include "drivers/virtio/virtio.h"
#include "lib/dev/netdev.h"
#include "lib/kernel/kstring.h"
#include "lib/kernel/printk.h"
#include "lib/kernel/random.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#include "lib/net/netbuf.h"

#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_F_ANY_LAYOUT		27	/* legacy only; implied by VERSION_1 */

#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1

#define VIRTIO_NET_S_LINK_UP		1

#define CFG_MAC				0
#define CFG_STATUS			6

#define RXQ				0
#define TXQ				1
#define QUEUE_MAX			256

#define ETH_HLEN			14
#define ETH_FRAME_MAX			(ETH_HLEN + 1500 + 4)	/* one VLAN tag */
/*
 * Where a received frame starts in the block: its IP header 4-byte
 * aligned at +92, and at least 60 bytes in front of what the device
 * writes, where IPv4 puts a TCP header when it cuts up an offloaded frame
 * (a merged buffer carries payload only).
 */
#define RX_ETH_OFFSET			78

/* virtio 1.x 5.1.6; legacy devices without MRG_RXBUF omit num_buffers. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr layout");
_Static_assert(offsetof(struct netbuf, buf) % 4 == 0,
	       "received IP headers are aligned relative to buf");
_Static_assert(RX_ETH_OFFSET + ETH_FRAME_MAX <= NETBUF_CAPACITY,
	       "a received frame fits a netbuf");

struct vnet {
	struct netdev nd;
	struct virtio_dev *vdev;
	struct virtq rxq;		/* on nd.cpu only: poll, irq_enable, handler */
	struct virtq txq;		/* under tx_lock, from any core */
	struct spinlock tx_lock;
	uint16_t hdr_len;		/* 12 (VERSION_1) or 10 (legacy) */
	uint16_t rx_headroom;		/* RX_ETH_OFFSET - hdr_len */
	bool split_hdr;			/* legacy without ANY_LAYOUT: header alone */
	bool tx_csum;			/* the device fills checksums */
	bool tso;			/* and cuts TCP segments (HOST_TSO4) */
	bool mrg;			/* merged receive buffers, for GUEST_TSO4 */
	bool queues_ready;		/* the handler may touch rxq */
	uint32_t rx_bad_seen, tx_bad_seen;	/* the queues' bad_used, counted */
	uint16_t tx_used_seen;		/* txq.last_used at the last poll */
	uint64_t tx_still_since;	/* TSC: frames waiting, none sent since */
	char driver[80];
};

static unsigned opt_cpu, opt_tso = 1;

int
virtio_net_set_cpu(const char *v)
{
	return kparse_uint(v, 63, &opt_cpu);
}

int
virtio_net_set_tso(const char *v)
{
	return kparse_uint(v, 1, &opt_tso);
}

/*
 * Asks the device for no interrupt on q's completions: the NO_INTERRUPT
 * flag, or with an event index one behind the used entries already
 * consumed (the device passes it only after 65536 more).
 */
static void
quiet_queue(struct virtq *q)
{
	if (q->event_idx)
		((volatile uint16_t *)q->avail->ring)[q->size] =
			(uint16_t)(q->last_used - 1);
	else
		q->avail->flags = VQ_AVAIL_F_NO_INTERRUPT;
}

/* ------------------------------------------------------------ receive */

/*
 * A fresh receive buffer: a page where the device merges offloaded
 * frames (MRG_RXBUF), so that a 64 KiB frame takes 17 buffers instead of
 * 35 -- each one a descriptor the device pops and a part TCP handles --
 * else a 2 KiB block, one frame each.
 */
static struct netbuf *
rx_alloc(struct vnet *n)
{
	return n->mrg ? netbuf_alloc_page(n->rx_headroom) : netbuf_alloc(n->rx_headroom);
}

/* Gives nb (all the driver's) to the device as a receive buffer. */
static bool
rx_post(struct vnet *n, struct netbuf *nb)
{
	uint8_t *p = nb->buf + n->rx_headroom;
	uint32_t room = netbuf_capacity(nb) - n->rx_headroom;
	struct vq_buf b[2] = {
		{ (uint64_t)p, room, true },
		{ (uint64_t)p + n->hdr_len, room - n->hdr_len, true },
	};
	int head;

	nb->data = p;
	nb->len = 0;
	nb->flags = 0;
	if (n->split_hdr) {
		b[0].len = n->hdr_len;
		head = vq_add_chain(&n->rxq, b, 2, nb);
	} else {
		head = vq_add_chain(&n->rxq, b, 1, nb);
	}
	if (head < 0)
		return false;
	vq_publish(&n->rxq, (uint16_t)head);
	return true;
}

/* Fills the free slots of the receive ring; how many buffers it posted. */
static unsigned
rx_refill(struct vnet *n)
{
	unsigned need = n->split_hdr ? 2 : 1, posted = 0;

	while (n->rxq.num_free >= need) {
		struct netbuf *nb = rx_alloc(n);
		if (!nb)
			break;	/* poll() and irq_enable() try again */
		if (!rx_post(n, nb)) {
			netbuf_put(nb);
			break;
		}
		posted++;
	}
	return posted;
}

/*
 * Checks a received buffer of len bytes (header included) and turns it
 * into a frame: data at the Ethernet header, flags from the header.
 * False when the device broke the rules: the caller drops it.
 */
static bool
rx_frame(struct vnet *n, struct netbuf *nb, uint32_t len, unsigned *nbufs)
{
	struct virtio_net_hdr h = { 0 };

	if (len < (uint32_t)n->hdr_len + ETH_HLEN ||
	    len > netbuf_capacity(nb) - n->rx_headroom)
		return false;
	memcpy(&h, nb->data, n->hdr_len);
	*nbufs = n->mrg ? h.num_buffers : 1;
	nb->len = len;
	netbuf_pull(nb, n->hdr_len);
	if (*nbufs == 0 || *nbufs > 64)
		return false;
	if (h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	    virtio_has(n->vdev, VIRTIO_NET_F_GUEST_TSO4) && h.gso_size &&
	    (h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)))
		nb->gso_size = h.gso_size;	/* tcp_gro.c cuts it up */
	else if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE || *nbufs > 1)
		return false;	/* not negotiated, or a frame too big unoffloaded */
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/*
		 * 5.1.6.4: the device validated everything up to the checksum,
		 * which holds the pseudo-header sum: a frame from a local peer
		 * that was never summed.  Trusted as checked; nobody reads the
		 * field again.
		 */
		if (!virtio_has(n->vdev, VIRTIO_NET_F_GUEST_CSUM) ||
		    (uint32_t)h.csum_start + h.csum_offset + 2 > nb->len)
			return false;
		nb->flags |= NB_CSUM_VALID;
	} else if (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		nb->flags |= NB_CSUM_VALID;
	}
	if (nb->data[0] & 1)
		nb->flags |= NB_BCAST;
	nb->dev = &n->nd;
	return true;
}

/*
 * The rest of a frame spread over nbufs merged receive buffers
 * (MRG_RXBUF), linked to head as its frag chain, each replaced in the
 * ring by a fresh buffer; false (and the frame's buffers back in the
 * ring, or freed) when one is missing, bad, or cannot be replaced.
 */
static bool
rx_merge(struct vnet *n, struct netbuf *head, unsigned nbufs, unsigned *posted)
{
	struct netbuf *tail = head;
	bool ok = head != NULL;		/* else only give the buffers back */

	for (unsigned i = 1; i < nbufs; i++) {
		uint32_t len;
		struct netbuf *c = vq_get_used(&n->rxq, &len);
		if (!c)
			return false;	/* the device publishes a frame whole: never */
		struct netbuf *fresh = ok ? rx_alloc(n) : NULL;
		if (!fresh || len == 0 || len > netbuf_capacity(c) - n->rx_headroom) {
			ok = false;
			if (fresh)
				netbuf_put(fresh);
			fresh = c;	/* back to the ring as it is */
		} else {
			c->len = len;
			tail->frag = c;
			tail = c;
		}
		if (rx_post(n, fresh))
			(*posted)++;
		else
			netbuf_put(fresh);
	}
	return ok;
}

/* Adds the queue's newly skipped bogus used entries to *counter. */
static void
count_bad(struct virtq *q, uint32_t *seen, uint64_t *counter)
{
	if (q->bad_used != *seen) {
		*counter += (uint32_t)(q->bad_used - *seen);
		*seen = q->bad_used;
	}
}

/* ------------------------------------------------------------ transmit */

/* Releases the frames the device has sent; with tx_lock held. */
static void
tx_reclaim(struct vnet *n)
{
	struct netbuf *nb;

	while ((nb = vq_get_used(&n->txq, NULL)))
		netbuf_put(nb);
	count_bad(&n->txq, &n->tx_bad_seen, &n->nd.stats.tx_errors);
	quiet_queue(&n->txq);
}

/*
 * Kicks the transmit queue whatever the event index says when frames have
 * waited there for 5 ms with none sent meanwhile; with tx_lock held, from
 * poll(), which the stack's thread runs at every wake-up and timer.  Under
 * load (QEMU 7.2, TCG, a tap) we have seen the device stop with frames
 * published and its avail_event behind them, so that no later frame
 * crossed it and the NIC fell silent for good; a spurious notification
 * costs the device one look at an empty ring.
 */
static void
tx_watchdog(struct vnet *n)
{
	uint64_t now = rdtsc();

	if (n->txq.avail_idx == n->txq.last_used || n->txq.last_used != n->tx_used_seen) {
		n->tx_used_seen = n->txq.last_used;
		n->tx_still_since = now;
		return;
	}
	if (now - n->tx_still_since >= tsc_hz() / 200) {
		if (!n->nd.stats.tx_kicks_forced++)
			pr_warn("%s: transmit queue: no progress in 5 ms with %u "
				"frames waiting; notified the device again\n", n->nd.name,
				(unsigned)(uint16_t)(n->txq.avail_idx - n->txq.last_used));
		n->vdev->ops->notify(n->vdev, TXQ);
		n->tx_still_since = now;
	}
}

/*
 * Checks a frame from the stack and writes the virtio header in front of
 * it.  The netbuf's fields stay as they are: others may hold it.
 */
static int
tx_prepare(struct vnet *n, struct netbuf *nb, uint32_t *total)
{
	uint32_t room = netbuf_headroom(nb), cap = netbuf_capacity(nb);

	if (room > cap || nb->len > cap - room ||
	    room < n->hdr_len || nb->len < ETH_HLEN || nb->frag || nb->nslices > NB_SLICES_MAX)
		return -EINVAL;
	*total = nb->len;
	for (unsigned i = 0; i < nb->nslices; i++)
		*total += nb->slices[i].len;
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	if (nb->gso_size) {
		/* One TCP/IPv4 segment the device cuts up: headers in nb, all of them. */
		if (!n->tso || !(nb->flags & NB_CSUM_PARTIAL) || *total > ETH_HLEN + 65535u)
			return -EINVAL;
		h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h.gso_size = nb->gso_size;
		h.hdr_len = (uint16_t)nb->len;
	} else if (*total > ETH_FRAME_MAX) {
		return -EMSGSIZE;
	}
	if (nb->flags & NB_CSUM_PARTIAL) {
		if ((uint32_t)nb->csum_start + nb->csum_offset + 2 > nb->len)
			return -EINVAL;
		/* Only offered with NETDEV_F_TX_CSUM: the stack sums it otherwise. */
		if (!n->tx_csum)
			return -EINVAL;
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.csum_start = nb->csum_start;
		h.csum_offset = nb->csum_offset;
	}
	memcpy(nb->data - n->hdr_len, &h, n->hdr_len);
	return 0;
}

static int
vnet_xmit(struct netdev *nd, struct netbuf *nb)
{
	struct vnet *n = nd->priv;
	struct vq_buf b[NB_SLICES_MAX + 2];
	uint32_t total;
	int err, head;
	unsigned k = 0;

	spin_lock(&n->tx_lock);
	err = tx_prepare(n, nb, &total);
	if (err) {
		nd->stats.tx_errors++;
		goto drop;
	}
	tx_reclaim(n);
	uint8_t *p = nb->data - n->hdr_len;
	if (n->split_hdr) {
		b[k++] = (struct vq_buf){ (uint64_t)p, n->hdr_len, false };
		b[k++] = (struct vq_buf){ (uint64_t)nb->data, nb->len, false };
	} else {
		b[k++] = (struct vq_buf){ (uint64_t)p, n->hdr_len + nb->len, false };
	}
	for (unsigned i = 0; i < nb->nslices; i++)
		b[k++] = (struct vq_buf){ (uint64_t)nb->slices[i].data, nb->slices[i].len, false };
	if (k > 2 && n->txq.indirect) {
		/* A header netbuf keeps room for the table in its own block. */
		struct vq_desc *t = netbuf_desc_area(nb);
		head = vq_add_indirect(&n->txq, t, (uint64_t)t, b, k, nb);
	} else {
		head = vq_add_chain(&n->txq, b, k, nb);
	}
	if (head < 0) {
		err = -ENOBUFS;
		nd->stats.tx_dropped++;
		goto drop;
	}
	/* An empty queue starts the watchdog's clock now, not at the
	 * last frame the device finished, maybe seconds ago. */
	if (n->txq.avail_idx == n->txq.last_used)
		n->tx_still_since = rdtsc();
	vq_publish(&n->txq, (uint16_t)head);
	/* The notification waits for vnet_flush(), after net_lock. */
	nd->stats.tx_packets++;
	nd->stats.tx_bytes += total;
	spin_unlock(&n->tx_lock);
	return 0;
drop:
	spin_unlock(&n->tx_lock);
	netbuf_put(nb);
	return err;
}

/*
 * The device told about the frames vnet_xmit() published: whether it
 * wants a notification is decided under tx_lock (the event index), the
 * notification itself, a VM exit, happens with no lock held.
 */
static void
vnet_flush(struct netdev *nd)
{
	struct vnet *n = nd->priv;
	bool kick;

	spin_lock(&n->tx_lock);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	kick = vq_kick_needed(&n->txq);
	spin_unlock(&n->tx_lock);
	if (kick)
		n->vdev->ops->notify(n->vdev, TXQ);
}

/* ------------------------------------------------------------ the class */

static int
vnet_poll(struct netdev *nd, int budget)
{
	struct vnet *n = nd->priv;
	void (*input)(struct netdev *, struct netbuf *) =
		__atomic_load_n(&nd->input, __ATOMIC_ACQUIRE);
	struct netbuf *nb;
	uint32_t len;
	unsigned posted = 0;
	int done = 0;

	if (!input)
		return 0;	/* frames wait in the ring for the stack */
	/* Budget counts every used entry, so a storm of bad ones ends too. */
	for (int seen = 0; seen < budget && (nb = vq_get_used(&n->rxq, &len)); seen++) {
		struct netbuf *fresh = NULL;
		unsigned nbufs = 1;
		bool good = rx_frame(n, nb, len, &nbufs);
		if (!good)
			nd->stats.rx_errors++;
		else if (!(fresh = rx_alloc(n)))
			nd->stats.rx_dropped++;
		/* The fresh buffer takes nb's place; a dropped frame's own goes back. */
		struct netbuf *back = fresh ? fresh : nb;
		if (rx_post(n, back))
			posted++;
		else
			netbuf_put(back);
		if (nbufs > 1 && !rx_merge(n, fresh ? nb : NULL, nbufs, &posted)) {
			nd->stats.rx_errors++;
			if (fresh)
				netbuf_put(nb);	/* and whatever was merged */
			continue;
		}
		if (!fresh)
			continue;
		nd->stats.rx_packets++;
		for (struct netbuf *p = nb; p; p = p->frag)
			nd->stats.rx_bytes += p->len;
		input(nd, nb);
		done++;
	}
	count_bad(&n->rxq, &n->rx_bad_seen, &nd->stats.rx_errors);
	posted += rx_refill(n);
	if (posted)
		virtio_kick(n->vdev, RXQ, &n->rxq);
	spin_lock(&n->tx_lock);
	tx_reclaim(n);
	tx_watchdog(n);
	spin_unlock(&n->tx_lock);
	return done;
}

static bool
vnet_irq_enable(struct netdev *nd)
{
	struct vnet *n = nd->priv;

	if (rx_refill(n))
		virtio_kick(n->vdev, RXQ, &n->rxq);
	return vq_enable_interrupts(&n->rxq);
}

static void
vnet_irq_poll(struct netdev *nd, const volatile uint16_t **idx,
	      const volatile uint16_t **seen)
{
	struct vnet *n = nd->priv;

	quiet_queue(&n->rxq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* then the caller reads idx */
	*idx = &n->rxq.used->idx;
	*seen = &n->rxq.last_used;
}

/*
 * Moves the interrupt to cpu.  One already on its way may still reach
 * the old core, which masks the receive interrupt again and calls
 * notify(): the stack's thread, now on cpu, polls and re-arms it, so the
 * race costs a poll, never a lost frame.
 */
static int
vnet_set_cpu(struct netdev *nd, unsigned cpu)
{
	struct vnet *n = nd->priv;
	int err = virtio_move_irq(n->vdev, cpu, nd->name);

	if (!err)
		__atomic_store_n(&nd->cpu, cpu, __ATOMIC_RELEASE);
	return err;
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.poll = vnet_poll,
	.irq_enable = vnet_irq_enable,
	.irq_poll = vnet_irq_poll,
	.set_cpu = vnet_set_cpu,
	.flush = vnet_flush,
};

/* On nd.cpu with interrupts off: mask, and wake the stack's thread. */
static void
vnet_interrupt(void *arg)
{
	struct vnet *n = arg;
	void (*notify)(struct netdev *) =
		__atomic_load_n(&n->nd.notify, __ATOMIC_ACQUIRE);

	if (!__atomic_load_n(&n->queues_ready, __ATOMIC_ACQUIRE))
		return;	/* a device interrupting before its queues exist */
	quiet_queue(&n->rxq);
	if (notify)
		notify(&n->nd);
}

/* ------------------------------------------------------------ probe */

static void
read_mac(struct vnet *n)
{
	uint8_t *mac = n->nd.mac;

	if (virtio_has(n->vdev, VIRTIO_NET_F_MAC)) {
		for (unsigned i = 0; i < 6; i++)
			mac[i] = (uint8_t)n->vdev->ops->config_read(n->vdev,
								    CFG_MAC + i, 1);
		if (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])
			return;
	}
	random_fill(mac, 6);
	/* Unicast, locally administered. */
	mac[0] = (uint8_t)((mac[0] & 0xFE) | 0x02);
	pr_info("virtio-net: %s: no MAC from the device; using a random one\n",
		n->vdev->where);
}

/* "virtio-net, modern PCI pci 00:03.0, MSI-X to cpu 0, tx csum, rx csum" */
static void
describe(struct vnet *n)
{
	struct virtio_dev *d = n->vdev;
	char cpu[3] = { (char)('0' + d->irq_cpu / 10 % 10),
			(char)('0' + d->irq_cpu % 10), 0 };
	const char *parts[] = {
		"virtio-net, ", d->transport, " ", d->where, ", ",
		d->irq_kind ? d->irq_kind : "?", " to cpu ",
		d->irq_cpu >= 10 ? cpu : cpu + 1,
		n->tx_csum ? ", tx csum" : "",
		virtio_has(d, VIRTIO_NET_F_GUEST_CSUM) ? ", rx csum" : "",
	};
	char *w = n->driver, *end = n->driver + sizeof(n->driver) - 1;

	for (unsigned i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const char *p = parts[i]; *p && w < end;)
			*w++ = *p++;
	*w = 0;
}

/* Returns the receive ring's netbufs after the device was reset. */
static void
rx_release(struct vnet *n)
{
	for (unsigned i = 0; i < n->rxq.size; i++)
		if (n->rxq.cookie[i]) {
			netbuf_put(n->rxq.cookie[i]);
			n->rxq.cookie[i] = NULL;
		}
}

/*
 * Offloaded receive only with merged buffers (our buffers are pages,
 * not the 64 KiB ones it would need otherwise), on a legacy device also
 * ANY_LAYOUT, and receive checksums (5.1.3.1).
 */
static uint64_t
features_fixup(uint64_t offered, uint64_t wanted)
{
	uint64_t need = 1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_MRG_RXBUF |
			1ULL << VIRTIO_NET_F_GUEST_CSUM;

	/* A legacy device without ANY_LAYOUT would want the header alone. */
	if (!(offered >> VIRTIO_F_VERSION_1 & 1) && !(offered >> VIRTIO_F_ANY_LAYOUT & 1))
		need |= 1ULL << 63;
	if ((offered & need) != need)
		wanted &= ~(1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_MRG_RXBUF);
	return wanted;
}

int
virtio_net_attach(struct virtio_dev *d)
{
	struct vnet *n = (struct vnet *)vm_alloc_pages(1);
	_Static_assert(sizeof(struct vnet) <= 4096, "one page");
	if (!n)
		return -ENOMEM;
	n->vdev = d;
	d->features_fixup = features_fixup;
	int err = virtio_negotiate(d, 1ULL << VIRTIO_NET_F_CSUM |
				      1ULL << VIRTIO_NET_F_GUEST_CSUM |
				      1ULL << VIRTIO_NET_F_MAC |
				      (opt_tso ? 1ULL << VIRTIO_NET_F_HOST_TSO4 |
						 1ULL << VIRTIO_NET_F_GUEST_TSO4 |
						 1ULL << VIRTIO_NET_F_MRG_RXBUF : 0) |
				      1ULL << VIRTIO_NET_F_STATUS |
				      1ULL << VIRTIO_F_ANY_LAYOUT);
	if (err) {
		vm_free_pages((uint64_t)n, 1);
		return err;
	}
	d->irq_fn = vnet_interrupt;
	d->irq_arg = n;
	err = d->ops->setup_irq(d, opt_cpu);
	if (!err)
		err = virtio_queue_setup(d, RXQ, &n->rxq, QUEUE_MAX);
	if (!err)
		err = virtio_queue_setup(d, TXQ, &n->txq, QUEUE_MAX);
	if (err) {
		virtio_fail(d);
		return err;	/* n stays: the interrupt may still name it */
	}
	/* Receive buffers are one or two descriptors: no indirect tables.
	 * A frame with slices goes through its header netbuf's table. */
	n->rxq.indirect = false;
	/* Receive waits for the stack's irq_enable(); transmit never interrupts. */
	quiet_queue(&n->rxq);
	quiet_queue(&n->txq);
	__atomic_store_n(&n->queues_ready, true, __ATOMIC_RELEASE);
	n->mrg = virtio_has(d, VIRTIO_NET_F_MRG_RXBUF);
	n->hdr_len = virtio_has(d, VIRTIO_F_VERSION_1) || n->mrg ? 12 : 10;
	n->rx_headroom = (uint16_t)(RX_ETH_OFFSET - n->hdr_len);
	n->split_hdr = !virtio_has(d, VIRTIO_F_VERSION_1) &&
		       !virtio_has(d, VIRTIO_F_ANY_LAYOUT);
	n->tx_csum = virtio_has(d, VIRTIO_NET_F_CSUM);
	/* virtio 5.1.3.1: HOST_TSO4 needs CSUM. */
	n->tso = n->tx_csum && virtio_has(d, VIRTIO_NET_F_HOST_TSO4);
	read_mac(n);
	describe(n);
	n->nd.ops = &vnet_ops;
	n->nd.priv = n;
	n->nd.mtu = 1500;
	n->nd.features = NETDEV_F_SG | (n->tx_csum ? NETDEV_F_TX_CSUM : 0) |
			 (n->tso ? NETDEV_F_TSO : 0) |
			 (virtio_has(d, VIRTIO_NET_F_GUEST_CSUM) ? NETDEV_F_RX_CSUM : 0);
	n->nd.cpu = d->irq_cpu;
	n->nd.driver = n->driver;
	if (!rx_refill(n))
		pr_warn("virtio-net: %s: no memory for receive buffers yet\n", d->where);
	virtio_driver_ok(d);
	virtio_kick(d, RXQ, &n->rxq);
	err = netdev_register(&n->nd);
	if (err) {
		virtio_fail(d);
		rx_release(n);
		return err;
	}
	if (virtio_has(d, VIRTIO_NET_F_STATUS) &&
	    !(d->ops->config_read(d, CFG_STATUS, 2) & VIRTIO_NET_S_LINK_UP))
		pr_warn("%s: link is down\n", n->nd.name);
	return 0;
}
