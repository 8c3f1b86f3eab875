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

/*
 * Some device has frames to be told about (netdev.h: ops->flush); the
 * devices with a flush op that ever sent (added under net_lock, read
 * without: the array only grows).
 */
static int flush_wanted;
static struct netdev *flushable[NETDEV_MAX];
static unsigned nflushable;

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
	int r = nd->ops->xmit(nd, nb);
	if (nd->ops->flush && !__atomic_load_n(&nd->flush_pending, __ATOMIC_RELAXED)) {
		unsigned i = 0;
		while (i < nflushable && flushable[i] != nd)
			i++;
		if (i == nflushable && i < NETDEV_MAX) {
			flushable[i] = nd;
			__atomic_store_n(&nflushable, i + 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&nd->flush_pending, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&flush_wanted, 1, __ATOMIC_RELEASE);
	}
	return r;
}

bool
eth_flush_wanted(void)
{
	return __atomic_load_n(&flush_wanted, __ATOMIC_ACQUIRE);
}

void
eth_flush(void)
{
	if (!__atomic_exchange_n(&flush_wanted, 0, __ATOMIC_ACQ_REL))
		return;
	for (unsigned i = 0, n = __atomic_load_n(&nflushable, __ATOMIC_ACQUIRE); i < n; i++) {
		struct netdev *nd = flushable[i];

		if (__atomic_exchange_n(&nd->flush_pending, 0, __ATOMIC_ACQ_REL))
			nd->ops->flush(nd);
	}
}
