/*
 * IPv4 (RFC 791, RFC 1122 as a host): checking every received packet
 * before anything reads it, handing it to ICMP, UDP or TCP; adding the
 * header to what they send, routing it (the interface's subnet, else its
 * gateway; 127/8 and our own addresses loop back) and passing it to ARP
 * or the loopback queue.  A host, not a router: nothing is forwarded,
 * options are skipped, not honoured.  Fragments are ip_frag.c's.
 */
#include <errno.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/net/inet.h"

static uint16_t next_id;

uint16_t
ip_next_id(void)
{
	if (!next_id)
		next_id = (uint16_t)(net_random32() | 1);
	return next_id++;
}

void
ip_header(uint8_t *h, uint16_t total, uint16_t id, uint16_t frag,
	  uint8_t proto, uint32_t src, uint32_t dst)
{
	h[0] = 0x45;
	h[1] = 0;
	put16(h + 2, total);
	put16(h + 4, id);
	put16(h + 6, frag);
	h[8] = IP_TTL;
	h[9] = proto;
	h[10] = h[11] = 0;
	put_addr(h + 12, src);
	put_addr(h + 16, dst);
	uint16_t c = net_csum_fold(net_csum_add(0, h, IP_HLEN));
	memcpy(h + 10, &c, 2);
}

/* ------------------------------------------------------------ routing */

bool
ip_is_local(uint32_t addr)
{
	if (!addr || ip_is_loopback_net(addr))
		return true;
	for (unsigned i = 0; i < netif_count; i++)
		if (netifs[i].addr == addr)
			return true;
	return false;
}

bool
ip_is_broadcast(uint32_t a)
{
	if (a == NET_BROADCAST)
		return true;
	for (unsigned i = 0; i < netif_count; i++) {
		const struct netif *n = &netifs[i];
		if (n->addr && n->mask != 0xFFFFFFFFu && a == (n->addr | ~n->mask))
			return true;
	}
	return false;
}

struct netif *
ip_route(uint32_t dst, uint32_t *nexthop)
{
	struct netif *first = NULL;

	*nexthop = dst;
	if (!dst || ip_is_loopback_net(dst))
		return &loopback_if;	/* 0.0.0.0 means this host, as on Linux */
	for (unsigned i = 0; i < netif_count; i++)
		if (netifs[i].addr == dst && dst)
			return &loopback_if;
	for (unsigned i = 0; i < netif_count; i++) {
		struct netif *n = &netifs[i];
		if (!n->addr)
			continue;
		if (!first)
			first = n;
		if (!((dst ^ n->addr) & n->mask))
			return n;
	}
	if (dst == NET_BROADCAST || ip_is_multicast(dst))
		return first;
	for (unsigned i = 0; i < netif_count; i++) {
		struct netif *n = &netifs[i];
		if (n->addr && n->gw) {
			*nexthop = n->gw;
			return n;
		}
	}
	return NULL;
}

uint32_t
ip_route_src(uint32_t dst, uint16_t *mtu)
{
	uint32_t nexthop;
	struct netif *nif = ip_route(dst, &nexthop);

	if (!nif)
		return 0;
	if (mtu)
		*mtu = nif->mtu;
	if (nif == &loopback_if)
		return !dst || ip_is_loopback_net(dst) ? NET_LOOPBACK : dst;
	return nif->addr;
}

unsigned
ip_route_features(uint32_t dst)
{
	uint32_t nexthop;
	struct netif *nif = ip_route(dst, &nexthop);

	return nif && nif != &loopback_if ? nif->dev->features : 0;
}

/* ------------------------------------------------------------- output */

int
ip_send_packet(struct netif *nif, uint32_t nexthop, struct netbuf *nb)
{
	NET_STAT(ip_tx);
	if (nif == &loopback_if)
		return loop_enqueue(nb);
	return arp_output(nif, nexthop, nb);
}

/* The L4 checksum, whose field holds the pseudo-header sum, done here. */
static void
csum_in_software(struct netbuf *nb, uint8_t proto, uint16_t csum_offset)
{
	uint16_t c = net_csum_fold(nb_csum_chain(0, nb));

	if (!c && proto == IPPROTO_UDP_)
		c = 0xFFFF;	/* 0 means "no checksum" in UDP */
	memcpy(nb->data + csum_offset, &c, 2);
}

int
ip_output_if(struct netif *nif, uint32_t nexthop, struct netbuf *nb,
	     uint32_t src, uint32_t dst, uint8_t proto, bool csum_partial,
	     uint16_t csum_offset)
{
	uint32_t len = nb_total_len(nb);
	bool loop = nif == &loopback_if;

	nb->flags &= ~(uint32_t)(NB_CSUM_PARTIAL | NB_CSUM_VALID);
	nb->l4 = (uint16_t)netbuf_headroom(nb);
	if (len > IP_MAX_LEN - IP_HLEN || (csum_partial && csum_offset + 2u > nb->len)) {
		netbuf_put(nb);
		return -EMSGSIZE;
	}
	bool fits = !nb->frag && IP_HLEN + len <= nif->mtu;
	/* TCP segmentation offload: the device cuts it into MTU-sized packets. */
	if (nb->gso_size && !loop && (nif->dev->features & NETDEV_F_TSO) &&
	    (nif->dev->features & NETDEV_F_TX_CSUM) && csum_partial && !nb->frag)
		fits = true;
	else
		nb->gso_size = 0;
	if (csum_partial) {
		if (loop && fits) {
			/* Never on a wire: the receiver trusts it unchecked. */
			nb->flags |= NB_CSUM_PARTIAL;
		} else if (fits && (nif->dev->features & NETDEV_F_TX_CSUM)) {
			nb->flags |= NB_CSUM_PARTIAL;
			nb->csum_start = IP_HLEN;	/* eth.c adds its header */
			nb->csum_offset = csum_offset;
		} else {
			csum_in_software(nb, proto, csum_offset);
		}
	}
	if (!fits) {
		if (proto == IPPROTO_TCP_) {	/* DF: TCP sizes its segments */
			netbuf_put(nb);
			return -EMSGSIZE;
		}
		return ip_frag_output(nif, nexthop, nb, src, dst, proto, nif->mtu);
	}
	uint8_t *h = netbuf_push(nb, IP_HLEN);
	if (!h) {
		netbuf_put(nb);
		return -ENOBUFS;
	}
	ip_header(h, (uint16_t)(IP_HLEN + len), ip_next_id(),
		  proto == IPPROTO_TCP_ ? IP_DF : 0, proto, src, dst);
	nb->l3 = (uint16_t)netbuf_headroom(nb);
	return ip_send_packet(nif, nexthop, nb);
}

int
ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto,
	  bool csum_partial, uint16_t csum_offset)
{
	uint32_t nexthop;
	struct netif *nif = ip_route(dst, &nexthop);

	if (!nif) {
		NET_STAT(ip_drop_noroute);
		netbuf_put(nb);
		return -EHOSTUNREACH;
	}
	if (!src)
		src = nif != &loopback_if ? nif->addr
		      : !dst || ip_is_loopback_net(dst) ? NET_LOOPBACK : dst;
	return ip_output_if(nif, nexthop, nb, src, dst, proto, csum_partial,
			    csum_offset);
}

/* -------------------------------------------------------------- input */

static void
drop(struct netbuf *nb, uint64_t *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
	netbuf_put(nb);
}

/* Whether a packet to dst is ours to take on nif. */
static bool
for_us(const struct netif *nif, uint32_t dst, uint8_t proto)
{
	if (ip_is_broadcast(dst))
		return true;
	if (nif == &loopback_if)
		return ip_is_local(dst);
	if (!dst || ip_is_loopback_net(dst))
		return false;
	if (ip_is_local(dst))
		return true;
	/* Unconfigured: DHCP's offer may be sent to the address it offers. */
	return !nif->addr && proto == IPPROTO_UDP_;
}

/* A whole datagram, data at its payload: to its protocol. */
static void
deliver(struct netif *nif, struct netbuf *nb, uint8_t proto, uint32_t src,
	uint32_t dst)
{
	switch (proto) {
	case IPPROTO_ICMP_:
		icmp_input(nif, nb, src, dst);
		return;
	case IPPROTO_UDP_:
		udp_input(nb, src, dst);
		return;
	case IPPROTO_TCP_:
		/* A chain is a reassembled datagram too big for one buffer, or
		 * the device's offloaded frame, cut into segments here. */
		if (tcp_input && nb->frag && nb->gso_size && !ip_is_broadcast(dst)) {
			tcp_split_offloaded(nb, src, dst);
			return;
		}
		if (tcp_input && !nb->frag && !ip_is_broadcast(dst)) {
			tcp_input(nb, src, dst);
			return;
		}
		break;
	}
	if (!ip_is_broadcast(dst) && !(nb->flags & NB_BCAST))
		icmp_send_unreach(nb, ICMP_UNREACH_PROTO);
	drop(nb, &net_stats.ip_drop_proto);
}

void
ip_input(struct netif *nif, struct netbuf *nb)
{
	const uint8_t *h = nb->data;
	uint64_t *why;

	NET_STAT(ip_rx);
	if (nb->len < IP_HLEN) {
		why = &net_stats.ip_drop_short;
		goto bad;
	}
	unsigned ihl = (h[0] & 15) * 4u;
	unsigned total = get16(h + 2);
	/* An offloaded frame from the device continues in its frag chain. */
	uint32_t have = nb->gso_size ? nb_total_len(nb) : nb->len;
	if (h[0] >> 4 != 4)
		why = &net_stats.ip_drop_version;
	else if (ihl < IP_HLEN || total < ihl || total > have || ihl > nb->len)
		why = &net_stats.ip_drop_len;
	/* Always: a device's DATA_VALID vouches for the L4 checksum only
	 * (virtio 5.1.6.4), and the header is 20-60 bytes. */
	else if (net_csum_fold(net_csum_add(0, h, ihl)))
		why = &net_stats.ip_drop_csum;
	/* No TTL check: a host MUST NOT discard a datagram for a TTL below 2
	 * (RFC 1122 3.2.1.7), and we forward nothing. */
	else
		why = NULL;
	if (why)
		goto bad;
	if (!nb->frag)
		netbuf_trim(nb, total);	/* Ethernet padding */
	else if (total != have || h[9] != IPPROTO_TCP_ || (get16(h + 6) & (IP_MF | IP_OFFMASK))) {
		why = &net_stats.ip_drop_len;	/* offload is TCP, whole, exact */
		goto bad;
	}
	uint32_t src = get_addr(h + 12), dst = get_addr(h + 16);
	uint8_t proto = h[9];
	if (ip_is_multicast(src) || src == NET_BROADCAST ||
	    (nif != &loopback_if && ip_is_loopback_net(src))) {
		why = &net_stats.ip_drop_martian;
		goto bad;
	}
	if (!for_us(nif, dst, proto)) {
		why = &net_stats.ip_drop_not_ours;
		goto bad;
	}
	nb->l3 = (uint16_t)netbuf_headroom(nb);
	if (get16(h + 6) & (IP_MF | IP_OFFMASK)) {
		nb = ip_frag_input(nif, nb);
		if (!nb)
			return;
	} else {
		netbuf_pull(nb, ihl);
	}
	nb->l4 = (uint16_t)netbuf_headroom(nb);
	deliver(nif, nb, proto, src, dst);
	return;
bad:
	drop(nb, why);
}
