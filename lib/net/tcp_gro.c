/*
 * The receive half of TCP segmentation offload: a frame the device
 * merged from the peer's segments, cut back into segments for TCP.
 * Apart from ip.c, so that TCP's tests can feed it frames without the
 * rest of IPv4.
 */
#include <string.h>

#include "lib/net/inet.h"
#include "lib/net/netbuf.h"

/*
 * A TCP segment the device received offloaded (virtio's GUEST_TSO4: the
 * peer's segments merged, up to 64 KiB, in a chain of receive buffers),
 * data at its TCP header, cut back into segments without moving the
 * payload: the head keeps its part, and each buffer of the chain becomes
 * a segment of its own behind a copy of the TCP header (the receive
 * buffers have the headroom), its sequence number advanced, FIN and PSH
 * on the last only.  All but the last carry NB_MORE, so TCP acknowledges
 * the frame once, as Linux does after GRO.  The device vouched for the
 * checksum of the whole (the driver set NB_CSUM_VALID or drops it).
 */
void
tcp_split_offloaded(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	uint8_t th[60];
	uint32_t doff = nb->len >= 20 ? (uint32_t)(nb->data[12] >> 4) * 4 : 0;

	if (doff < 20 || doff > nb->len || !(nb->flags & NB_CSUM_VALID)) {
		NET_STAT(tcp_drop_short);
		netbuf_put(nb);
		return;
	}
	enum { FIN = 0x01, PSH = 0x08 };
	NET_STAT(ip_rx_offload);
	memcpy(th, nb->data, doff);
	uint32_t seq = get32(th + 4) + (nb->len - doff), nbflags = nb->flags;
	uint8_t flags = th[13];
	struct netdev *dev = nb->dev;
	struct netbuf *c = nb->frag;
	nb->frag = NULL;
	nb->gso_size = 0;
	nb->data[13] = (uint8_t)(flags & ~(FIN | PSH));
	nb->flags |= NB_MORE | NB_GRO;	/* ip_input: never without frag */
	tcp_input(nb, src, dst);
	if (tcp_input_inorder)	/* weak: NULL where a test fakes TCP */
		c = tcp_input_inorder(src, dst, th, &seq, c);
	while (c) {
		struct netbuf *next = c->frag;
		uint8_t *h = netbuf_push(c, doff);
		c->frag = NULL;
		if (!h) {
			netbuf_put(c);
			netbuf_put(next);	/* and the rest of the chain */
			NET_STAT(tcp_drop_short);
			return;
		}
		memcpy(h, th, doff);
		put32(h + 4, seq);
		seq += c->len - doff;
		h[13] = next ? (uint8_t)(flags & ~(FIN | PSH)) : flags;
		c->flags = nbflags | NB_GRO | (next ? NB_MORE : 0);
		c->dev = dev;
		tcp_input(c, src, dst);
		c = next;
	}
}
