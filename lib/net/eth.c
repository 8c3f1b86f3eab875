/*
 * Ethernet II framing: a received frame is checked (length, destination
 * MAC, type) and handed to IPv4 or ARP; an outgoing packet gets its
 * 14-byte header and goes to the driver.  No VLANs, no IPv6, no
 * multicast groups: such frames are counted and dropped.  Resolving an
 * IP next hop to a MAC is arp.c's job, not this file's.
 */
#include <errno.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/net/inet.h"

const uint8_t eth_broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

void
eth_input(struct netdev *nd, struct netbuf *nb)
{
	struct netif *nif = netif_of(nd);
	const uint8_t *h = nb->data;

	NET_STAT(eth_rx);
	if (!nif || nb->len < ETH_HLEN) {
		NET_STAT(eth_drop_short);
		netbuf_put(nb);
		return;
	}
	if (h[0] & 1) {
		nb->flags |= NB_BCAST;	/* broadcast or multicast */
	} else if (memcmp(h, nd->mac, 6)) {
		NET_STAT(eth_drop_dst);	/* a bridge or tap flooding us */
		netbuf_put(nb);
		return;
	}
	uint16_t type = get16(h + 12);
	nb->dev = nd;
	netbuf_pull(nb, ETH_HLEN);
	switch (type) {
	case ETHERTYPE_IP:
		ip_input(nif, nb);
		return;
	case ETHERTYPE_ARP:
		arp_input(nif, nb);
		return;
	}
	NET_STAT(eth_drop_type);
	netbuf_put(nb);
}

int
eth_output(struct netif *nif, const uint8_t dst[6], uint16_t type,
	   struct netbuf *nb)
{
	struct netdev *nd = nif->dev;
	uint8_t *h = netbuf_push(nb, ETH_HLEN);

	if (!h) {
		netbuf_put(nb);
		return -ENOBUFS;
	}
	memcpy(h, dst, 6);
	memcpy(h + 6, nd->mac, 6);
	put16(h + 12, type);
	if (nb->flags & NB_CSUM_PARTIAL)
		nb->csum_start += ETH_HLEN;	/* it counted from the IP header */
	nb->dev = nd;
	NET_STAT(eth_tx);
	return nd->ops->xmit(nd, nb);
}
