/*
 * UDP (RFC 768) behind udp.h: endpoints hashed by local port, receive
 * queues of the netbufs datagrams arrived in (bounded by the endpoint's
 * receive buffer, each netbuf charged at its full 2 KiB as Linux charges
 * truesize), sending with one copy of the caller's bytes (datagrams
 * larger than the MTU are fragmented by IPv4, up to 65507 bytes), the
 * ephemeral range 49152-65535 from a random start, SO_REUSEADDR, and
 * ICMP port unreachable for datagrams nobody waits for.  DHCP's replies
 * (port 68) are handed to dhcp.c before any socket sees them.  No
 * multicast groups, no UDP-Lite; blocking and socket options beyond
 * these are the socket layer's.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "lib/mm/kheap.h"
#include "lib/net/inet.h"
#include "lib/net/udp.h"

#define UDP_BUCKETS		256
#define UDP_RCVBUF_DEFAULT	212992	/* Linux's net.core.rmem_default */
#define UDP_RCVBUF_MIN		4608
#define UDP_RCVBUF_MAX		(4u << 20)
#define UDP_MAX_PAYLOAD		(IP_MAX_LEN - IP_HLEN - UDP_HLEN)
#define EPHEMERAL_FIRST		49152
#define EPHEMERAL_COUNT		16384

struct udp_pcb {
	struct udp_pcb *hnext;		/* in its local port's bucket, once bound */
	void *owner;
	uint32_t laddr, raddr;		/* network order */
	uint16_t lport, rport;		/* network order; lport 0: unbound */
	bool reuse;
	int err;			/* pending, negative */
	struct netbuf *rxq, *rxtail;	/* data at the payload */
	uint32_t rx_bytes, rcvbuf;
};

static struct udp_pcb *table[UDP_BUCKETS];
static unsigned npcbs;

static struct udp_pcb **
bucket(uint16_t port)
{
	return &table[net_ntohs(port) % UDP_BUCKETS];
}

static void
wake(struct udp_pcb *pcb, unsigned events)
{
	if (sock_wakeup && pcb->owner)
		sock_wakeup(pcb->owner, events);
}

struct udp_pcb *
udp_new(void *owner)
{
	struct udp_pcb *pcb = kzalloc(sizeof(*pcb));

	if (!pcb)
		return NULL;
	pcb->owner = owner;
	pcb->rcvbuf = UDP_RCVBUF_DEFAULT;
	npcbs++;
	return pcb;
}

/* Whether binding addr:port (reuse) would clash with an endpoint. */
static bool
in_use(uint32_t addr, uint16_t port, bool reuse)
{
	for (struct udp_pcb *p = *bucket(port); p; p = p->hnext)
		if (p->lport == port && (!p->laddr || !addr || p->laddr == addr) &&
		    !(reuse && p->reuse))
			return true;
	return false;
}

static uint16_t
pick_ephemeral(void)
{
	uint32_t start = net_random32() % EPHEMERAL_COUNT;

	for (uint32_t i = 0; i < EPHEMERAL_COUNT; i++) {
		uint16_t port = net_htons((uint16_t)(EPHEMERAL_FIRST +
						     (start + i) % EPHEMERAL_COUNT));
		if (!*bucket(port) || !in_use(0, port, false))
			return port;
	}
	return 0;
}

int
udp_bind(struct udp_pcb *pcb, uint32_t addr, uint16_t port, bool reuse)
{
	if (pcb->lport)
		return -EINVAL;
	if (addr && !ip_is_local(addr) && !ip_is_broadcast(addr))
		return -EADDRNOTAVAIL;
	if (!port) {
		port = pick_ephemeral();
		if (!port)
			return -EADDRINUSE;
	} else if (in_use(addr, port, reuse)) {
		return -EADDRINUSE;
	}
	pcb->laddr = addr;
	pcb->lport = port;
	pcb->reuse = reuse;
	struct udp_pcb **b = bucket(port);
	pcb->hnext = *b;
	*b = pcb;
	return 0;
}

int
udp_connect(struct udp_pcb *pcb, uint32_t addr, uint16_t port)
{
	if (!addr) {
		pcb->raddr = 0;
		pcb->rport = 0;
		return 0;
	}
	if (!port)
		return -EINVAL;
	uint32_t src = ip_route_src(addr, NULL);
	if (!src)
		return -ENETUNREACH;
	if (!pcb->lport) {
		int err = udp_bind(pcb, 0, 0, false);
		if (err)
			return err;
	}
	if (!pcb->laddr || ip_is_broadcast(pcb->laddr))
		pcb->laddr = src;
	pcb->raddr = addr;
	pcb->rport = port;
	pcb->err = 0;
	return 0;
}

/* Copies the caller's bytes after an 8-byte header: a netbuf, chained if big. */
static struct netbuf *
build(const void *buf, size_t len)
{
	struct netbuf *head = netbuf_alloc(NETBUF_HEADROOM), *tail = head;
	const uint8_t *src = buf;

	if (!head)
		return NULL;
	uint32_t room = netbuf_tailroom(head) - UDP_HLEN;
	uint32_t n = len < room ? (uint32_t)len : room;
	uint8_t *p = netbuf_put_tail(head, UDP_HLEN + n);
	memcpy(p + UDP_HLEN, src, n);
	src += n;
	len -= n;
	while (len) {
		struct netbuf *more = netbuf_alloc(0);
		if (!more) {
			netbuf_put(head);
			return NULL;
		}
		tail->frag = more;
		tail = more;
		n = len < netbuf_tailroom(more) ? (uint32_t)len : netbuf_tailroom(more);
		memcpy(netbuf_put_tail(more, n), src, n);
		src += n;
		len -= n;
	}
	return head;
}

ssize_t
udp_send(struct udp_pcb *pcb, const void *buf, size_t len, uint32_t addr,
	 uint16_t port)
{
	if (pcb->err) {
		int err = pcb->err;
		pcb->err = 0;
		return err;
	}
	if (!addr && !port) {
		if (!pcb->rport)
			return -EDESTADDRREQ;
		addr = pcb->raddr;
		port = pcb->rport;
	}
	if (!port || !addr)
		return -EINVAL;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	uint32_t src = pcb->laddr;
	if (!src || ip_is_broadcast(src))
		src = ip_route_src(addr, NULL);
	if (!src) {
		NET_STAT(ip_drop_noroute);
		return -EHOSTUNREACH;
	}
	if (!pcb->lport) {
		int err = udp_bind(pcb, 0, 0, false);
		if (err)
			return err;
	}
	struct netbuf *nb = build(buf, len);
	if (!nb) {
		NET_STAT(udp_drop_nomem);
		return -ENOBUFS;
	}
	uint8_t *h = nb->data;
	uint16_t ulen = (uint16_t)(UDP_HLEN + len);
	memcpy(h, &pcb->lport, 2);
	memcpy(h + 2, &port, 2);
	put16(h + 4, ulen);
	/* The pseudo-header sum, for whoever finishes the checksum. */
	uint16_t pseudo = (uint16_t)~net_csum_fold(net_csum_pseudo(src, addr, IPPROTO_UDP_, ulen));
	memcpy(h + 6, &pseudo, 2);
	NET_STAT(udp_tx);
	int err = ip_output(nb, src, addr, IPPROTO_UDP_, true, 6);
	return err ? err : (ssize_t)len;
}

ssize_t
udp_recv(struct udp_pcb *pcb, void *buf, size_t len, size_t *full,
	 uint32_t *addr, uint16_t *port, bool peek)
{
	struct netbuf *nb = pcb->rxq;

	if (pcb->err && !peek) {
		int err = pcb->err;
		pcb->err = 0;
		return err;
	}
	if (!nb)
		return -EAGAIN;
	uint32_t total = nb_total_len(nb);
	uint32_t n = len < total ? (uint32_t)len : total;
	nb_copy_out(nb, 0, buf, n);
	if (full)
		*full = total;
	if (addr)
		*addr = get_addr(nb->buf + nb->l3 + 12);
	if (port)
		memcpy(port, nb->buf + nb->l4, 2);
	if (!peek) {
		pcb->rxq = nb->next;
		if (!pcb->rxq)
			pcb->rxtail = NULL;
		for (struct netbuf *p = nb; p; p = p->frag)
			pcb->rx_bytes -= netbuf_truesize(p);
		netbuf_put(nb);
	}
	return n;
}

unsigned
udp_poll(const struct udp_pcb *pcb)
{
	return (pcb->rxq ? POLLIN | POLLRDNORM : 0) | POLLOUT | POLLWRNORM |
	       (pcb->err ? POLLERR : 0);
}

int
udp_error(struct udp_pcb *pcb, bool clear)
{
	int err = pcb->err;

	if (clear)
		pcb->err = 0;
	return err;
}

void
udp_local(const struct udp_pcb *pcb, uint32_t *addr, uint16_t *port)
{
	*addr = pcb->laddr;
	*port = pcb->lport;
}

int
udp_peer(const struct udp_pcb *pcb, uint32_t *addr, uint16_t *port)
{
	if (!pcb->rport)
		return -ENOTCONN;
	*addr = pcb->raddr;
	*port = pcb->rport;
	return 0;
}

int
udp_set_rcvbuf(struct udp_pcb *pcb, int bytes)
{
	/* As Linux: the value is doubled for bookkeeping overhead. */
	uint64_t v = bytes > 0 ? (uint64_t)bytes * 2 : 0;

	pcb->rcvbuf = (uint32_t)(v < UDP_RCVBUF_MIN ? UDP_RCVBUF_MIN
				 : v > UDP_RCVBUF_MAX ? UDP_RCVBUF_MAX : v);
	return 0;
}

void
udp_close(struct udp_pcb *pcb)
{
	if (pcb->lport) {
		for (struct udp_pcb **p = bucket(pcb->lport); *p; p = &(*p)->hnext) {
			if (*p == pcb) {
				*p = pcb->hnext;
				break;
			}
		}
	}
	netbuf_put_list(pcb->rxq);
	npcbs--;
	kfree(pcb);
}

unsigned
udp_count(void)
{
	return npcbs;
}

/* ------------------------------------------------------------- input */

/* Cuts a chain to its first n bytes (n <= its length). */
static void
trim_chain(struct netbuf *nb, uint32_t n)
{
	for (; nb; nb = nb->frag) {
		if (n <= nb->len) {
			nb->len = n;
			struct netbuf *rest = nb->frag;
			nb->frag = NULL;
			netbuf_put(rest);
			return;
		}
		n -= nb->len;
	}
}

/* Whether pcb takes a datagram src:sport -> dst:dport (bcast: to a broadcast). */
static int
match(const struct udp_pcb *p, uint32_t src, uint16_t sport, uint32_t dst,
      uint16_t dport, bool bcast)
{
	int score = 1;

	if (p->lport != dport)
		return 0;
	if (p->laddr) {
		if (p->laddr != dst && !(bcast && ip_is_broadcast(p->laddr)))
			return 0;
		score += 2;
	}
	if (p->rport) {
		if (p->raddr != src || p->rport != sport)
			return 0;
		score += 4;
	}
	return score;
}

static void
enqueue(struct udp_pcb *pcb, struct netbuf *nb)
{
	uint32_t truesize = 0;

	for (struct netbuf *p = nb; p; p = p->frag)
		truesize += netbuf_truesize(p);
	if (pcb->rx_bytes && pcb->rx_bytes + truesize > pcb->rcvbuf) {
		NET_STAT(udp_drop_full);
		netbuf_put(nb);
		return;
	}
	pcb->rx_bytes += truesize;
	nb->next = NULL;
	if (pcb->rxtail)
		pcb->rxtail->next = nb;
	else
		pcb->rxq = nb;
	pcb->rxtail = nb;
	wake(pcb, POLLIN);
}

/* A broadcast: a copy to every endpoint that takes it. */
static bool
deliver_all(struct netbuf *nb, uint32_t src, uint16_t sport, uint32_t dst,
	    uint16_t dport)
{
	struct udp_pcb *last = NULL;

	for (struct udp_pcb *p = *bucket(dport); p; p = p->hnext) {
		if (!match(p, src, sport, dst, dport, true))
			continue;
		if (last) {
			struct netbuf *c = nb_copy(nb);
			if (c)
				enqueue(last, c);
			else
				NET_STAT(udp_drop_nomem);
		}
		last = p;
	}
	if (!last)
		return false;
	enqueue(last, nb);
	return true;
}

void
udp_input(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	uint32_t total = nb_total_len(nb);
	const uint8_t *h = nb->data;

	NET_STAT(udp_rx);
	if (nb->len < UDP_HLEN || get16(h + 4) < UDP_HLEN || get16(h + 4) > total) {
		NET_STAT(udp_drop_short);
		netbuf_put(nb);
		return;
	}
	uint16_t ulen = get16(h + 4);
	if (ulen < total)
		trim_chain(nb, ulen);
	if ((h[6] | h[7]) && !(nb->flags & NB_CSUM_VALID) &&
	    net_csum_fold(nb_csum_chain(net_csum_pseudo(src, dst, IPPROTO_UDP_, ulen), nb))) {
		NET_STAT(udp_drop_csum);
		netbuf_put(nb);
		return;
	}
	uint16_t sport, dport;
	memcpy(&sport, h, 2);
	memcpy(&dport, h + 2, 2);
	netbuf_pull(nb, UDP_HLEN);
	if (dport == net_htons(DHCP_CLIENT_PORT) && nb->dev &&
	    dhcp_input(netif_of(nb->dev), nb))
		return;
	bool bcast = ip_is_broadcast(dst) || ip_is_multicast(dst);
	if (bcast) {
		if (deliver_all(nb, src, sport, dst, dport))
			return;
	} else {
		struct udp_pcb *best = NULL;
		int best_score = 0;
		for (struct udp_pcb *p = *bucket(dport); p; p = p->hnext) {
			int s = match(p, src, sport, dst, dport, false);
			if (s > best_score) {
				best = p;
				best_score = s;
			}
		}
		if (best) {
			enqueue(best, nb);
			return;
		}
		if (!(nb->flags & NB_BCAST))
			icmp_send_unreach(nb, ICMP_UNREACH_PORT);
	}
	NET_STAT(udp_drop_noport);
	netbuf_put(nb);
}

void
udp_icmp_error(uint32_t dst, uint16_t dport, uint16_t sport, int err)
{
	for (struct udp_pcb *p = *bucket(sport); p; p = p->hnext) {
		if (p->lport == sport && p->rport == dport && p->raddr == dst) {
			p->err = err;
			wake(p, POLLERR);
		}
	}
}
