/*
 * The network stack's internal interface: what the layers of lib/net
 * offer each other.  Ethernet/ARP/IPv4/ICMP/UDP/DHCP/loopback and the
 * stack's thread live in lib/net (ip.c, arp.c, ...); TCP (tcp*.c) uses
 * only what is declared here and in tcp.h, so its logic can be driven by
 * the host unit tests with these functions stubbed.  Sockets (socket.c)
 * sit on top and reach TCP only through tcp.h.
 *
 * Addresses and ports are in network byte order everywhere (uint32_t /
 * uint16_t holding the wire bytes), as in struct sockaddr_in.
 *
 * Locking: one lock for the whole stack, net_lock(), a spinlock taken
 * with interrupts off (all kernel code runs so).  Every function here
 * and in tcp.h expects it held unless its comment says otherwise.  The
 * stack's thread takes it to process received frames and timers; socket
 * calls take it around each step and drop it before they sleep.
 */
#ifndef TORO_NET_NET_H
#define TORO_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/net/netbuf.h"

#define IPPROTO_ICMP_	1
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

#define ETH_HLEN	14
#define IP_HLEN		20	/* without options */
#define TCP_HLEN	20	/* without options */
#define UDP_HLEN	8

void net_lock(void);
/*
 * net_lock() for a thread in a system call that holds no other lock:
 * after a short spin it sleeps until the lock is dropped, so that a core
 * waiting for the one serving the NIC halts instead of spinning.
 */
void net_lock_sleep(void);
void net_unlock(void);

/* Monotonic time in milliseconds and in microseconds (lock not needed). */
uint64_t net_now_ms(void);
uint64_t net_now_us(void);

/* 32 random bits, for initial sequence numbers and ports (lock not needed). */
uint32_t net_random32(void);

/*
 * Internet checksum (RFC 1071).  net_csum_add() folds len bytes at p
 * into the running 32-bit sum; net_csum_fold() gives the final 16-bit
 * one's complement checksum (in network order when stored with memcpy).
 * net_csum_pseudo() starts the sum with the IPv4 pseudo-header (len is
 * the L4 length in host order).  A sum may be built from several pieces;
 * every piece but the last must have an even length.
 */
uint32_t net_csum_add(uint32_t sum, const void *p, size_t len);
uint16_t net_csum_fold(uint32_t sum);
uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/*
 * Sends an L4 packet: nb->data is the L4 header, nb->len the L4 length.
 * Adds the IPv4 header (id, TTL 64, DF set) and sends it from src to dst
 * (src 0: the outgoing interface's address): routes it, resolves the
 * next hop through ARP (queueing the packet while it waits), or loops it
 * back for 127.0.0.0/8 and the host's own addresses.  Consumes the
 * caller's reference in every case.  0, or -EHOSTUNREACH (no route),
 * -ENOBUFS, -EMSGSIZE (longer than the MTU; TCP never sends that).
 * With csum_partial the L4 checksum field (at csum_offset from the L4
 * header) holds the pseudo-header sum and the rest is left to the
 * device when it can, else computed here.
 * The headers go into nb's headroom in place, so afterwards nb->data
 * and nb->len are no longer the L4 segment's: a caller that keeps a
 * reference (TCP's retransmission queue) finds the L4 header again at
 * nb->buf + nb->l4.  ip_output() never links a netbuf that others
 * still hold through nb->next: one that must wait (for ARP) or loop
 * back is copied first when shared.
 */
int ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto,
	      bool csum_partial, uint16_t csum_offset);

/*
 * The local address a packet to dst would leave from (0: no route), and
 * that path's MTU (IP packet bytes) in *mtu if mtu is not NULL.
 */
uint32_t ip_route_src(uint32_t dst, uint16_t *mtu);
/*
 * The NETDEV_F_* features of the device the route to dst leaves through:
 * 0 without a route and through loopback, which takes linear frames only.
 */
unsigned ip_route_features(uint32_t dst);
/* Whether addr is one of ours (including 127.0.0.0/8 and INADDR_ANY). */
bool ip_is_local(uint32_t addr);

/*
 * Protocol inputs, called by IPv4 for packets addressed to us: nb->data
 * at the L4 header, nb->len the L4 length (IP padding removed), l3/l4
 * offsets set.  They consume the reference.  The checksum is theirs to
 * verify (NB_CSUM_VALID: the device already did).
 */
void tcp_input(struct netbuf *nb, uint32_t src, uint32_t dst);
/* A TCP frame the device received offloaded, cut into segments for tcp_input (tcp_gro.c). */
void tcp_split_offloaded(struct netbuf *nb, uint32_t src, uint32_t dst);
/* Its middle parts, payload only, queued straight (tcp_rcvq.c). */
struct netbuf *tcp_input_inorder(uint32_t src, uint32_t dst, const uint8_t *th,
				 uint32_t *seq, struct netbuf *c);
void udp_input(struct netbuf *nb, uint32_t src, uint32_t dst);
/* An ICMP error about a packet we sent (destination unreachable, ...). */
void tcp_icmp_error(uint32_t dst, uint16_t dport, uint16_t sport,
		    int err);

/*
 * Timers, run by the stack's thread with the lock held; a one-shot
 * callback at (or a little after) a monotonic time in ms.  A timer is
 * embedded in its owner and starts zeroed (= not pending).  Setting a
 * pending timer moves it.  Cancel is safe on an idle timer.
 */
struct net_timer {
	struct net_timer *next, **pprev;	/* the stack's */
	uint64_t when_ms;
	void (*fn)(struct net_timer *t);
};
void net_timer_set(struct net_timer *t, uint64_t when_ms,
		   void (*fn)(struct net_timer *t));
void net_timer_cancel(struct net_timer *t);
static inline bool
net_timer_pending(const struct net_timer *t)
{
	return t->pprev != NULL;
}

/*
 * Statistics: every dropped packet is counted under a reason, readable
 * through the Toro API (toro/net.h).  NET_STAT(x) bumps net_stats.x.
 */
struct net_stats {
	uint64_t eth_rx, eth_tx, eth_drop_short, eth_drop_type;
	uint64_t arp_rx, arp_tx, arp_drop_bad, arp_drop_storm, arp_queue_drop;
	uint64_t ip_rx, ip_tx, ip_drop_short, ip_drop_csum, ip_drop_len,
		 ip_drop_version, ip_drop_not_ours, ip_drop_proto, ip_drop_noroute;
	uint64_t ip_frag_rx, ip_frag_reasm, ip_frag_drop, ip_frag_timeout;
	uint64_t icmp_rx, icmp_tx, icmp_drop_bad;
	uint64_t udp_rx, udp_tx, udp_drop_csum, udp_drop_short, udp_drop_noport,
		 udp_drop_full;
	uint64_t tcp_rx, tcp_tx, tcp_drop_csum, tcp_drop_short, tcp_drop_bad,
		 tcp_drop_window, tcp_drop_noport, tcp_rst_tx, tcp_retransmit,
		 tcp_fast_retransmit, tcp_syn_drop, tcp_syncookie_tx,
		 tcp_syncookie_ok, tcp_active_open, tcp_passive_open,
		 tcp_timewait, tcp_keepalive_drop;
	uint64_t dhcp_tx, dhcp_rx, dhcp_drop_bad;
	/* lib/net's own, added with its implementation */
	uint64_t eth_drop_dst;		/* unicast to another MAC */
	uint64_t ip_drop_ttl, ip_drop_martian, ip_frag_overlap, ip_frag_limit;
	uint64_t icmp_rate_limited;	/* errors we chose not to send */
	uint64_t loop_rx, loop_drop;
	uint64_t udp_drop_nomem;
	uint64_t tcp_tx_offload, ip_rx_offload, tcp_rx_inorder;
};
extern struct net_stats net_stats;
#define NET_STAT(x)	(__atomic_add_fetch(&net_stats.x, 1, __ATOMIC_RELAXED))

/*
 * The socket layer's wake-up, called by TCP/UDP with the lock held when
 * a socket's state changed (data or a connection arrived, room to send,
 * an error, the peer closed).  events are POLL* bits.
 */
void sock_wakeup(void *sock, unsigned events);

#endif
