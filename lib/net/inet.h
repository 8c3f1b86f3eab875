/*
 * What the lower layers of lib/net offer each other: Ethernet, ARP,
 * IPv4 (and its fragments), ICMP, UDP's input side, DHCP, loopback and
 * the timer wheel's hooks.  TCP and the sockets never include this: they
 * see only net.h, tcp.h and udp.h.  Everything here expects net_lock()
 * held, like net.h.
 */
#ifndef TORO_NET_INET_H
#define TORO_NET_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/net/net.h"
#include "lib/net/netbuf.h"
#include "lib/net/netif.h"

struct netdev;

/*
 * TCP and the socket layer are linked only into images that use them
 * (an application that never opens a socket still answers ARP and
 * ping): the lower layers refer to them weakly and check for NULL.
 */
#pragma weak tcp_input
#pragma weak tcp_input_inorder
#pragma weak tcp_icmp_error
#pragma weak tcp_count_states
#pragma weak sock_wakeup

/* Host/network byte order (x86 is little-endian). */
static inline uint16_t
net_htons(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t
net_htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

#define net_ntohs net_htons
#define net_ntohl net_htonl

/* An address from its four dotted-quad bytes (network order). */
#define NET_ADDR(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define NET_BROADCAST	0xFFFFFFFFu
#define NET_LOOPBACK	NET_ADDR(127, 0, 0, 1)

static inline bool
ip_is_loopback_net(uint32_t a)
{
	return (a & 0xFF) == 127;
}

static inline bool
ip_is_multicast(uint32_t a)
{
	return (a & 0xF0) == 0xE0;
}

/* Big-endian fields at any alignment. */
static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Network-order addresses, copied as they lie on the wire. */
static inline uint32_t
get_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return a;
}

static inline void
put_addr(uint8_t *p, uint32_t a)
{
	memcpy(p, &a, 4);
}

/* ---------------------------------------------------------- netbufs */

/* The bytes of a datagram: nb and its frag chain. */
uint32_t nb_total_len(const struct netbuf *nb);
/* Copies len bytes from offset off of the chain at nb into dst; false if short. */
bool nb_copy_out(const struct netbuf *nb, uint32_t off, void *dst, uint32_t len);
/* The checksum sum of a chain's bytes (pieces of odd length handled). */
uint32_t nb_csum_chain(uint32_t sum, const struct netbuf *nb);
/*
 * A private copy of nb (its whole used block: headroom, headers and data,
 * at the same offsets, and its frag chain), one reference; NULL when
 * memory runs out.  For netbufs others still hold.
 */
struct netbuf *nb_copy(const struct netbuf *nb);
/* nb itself when no one else holds it, else a private copy (nb released). */
struct netbuf *nb_unshare(struct netbuf *nb);
/*
 * A frame with slices (TCP's lent or offloaded payload) as one linear
 * netbuf of its own, for a path that reads bytes at data (loopback); nb
 * itself without slices.  nb is released; NULL if it does not fit one
 * netbuf or memory runs out.
 */
struct netbuf *nb_linear(struct netbuf *nb);

/* ------------------------------------------------------------- core */

/* core.c (kernel only): the TSC value at monotonic time ms. */
uint64_t net_ms_to_tsc(uint64_t ms);

/* Token-bucket rate limit: true (and a token spent) when allowed. */
struct net_ratelimit {
	uint64_t last_ms;
	uint32_t tokens;
	uint32_t per_s, burst;
};
bool net_ratelimit_ok(struct net_ratelimit *r);

/* timer.c: runs every timer due at now; the earliest pending one (or UINT64_MAX). */
void net_timer_run(uint64_t now_ms);
uint64_t net_timer_next(void);
/* How many timers are pending (tests, statistics). */
unsigned long net_timer_count(void);
/*
 * stack.c: the earliest deadline moved to when_ms: make sure whoever runs
 * the timers wakes by then (starts that thread on first use).
 */
void net_timer_kick(uint64_t when_ms);

/* ---------------------------------------------------------- Ethernet */

#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806

extern const uint8_t eth_broadcast[6];

/* A frame from nd (netdev input hook); data at the Ethernet header. */
void eth_input(struct netdev *nd, struct netbuf *nb);
/* Adds the Ethernet header (to dst, type) and transmits; consumes nb. */
int eth_output(struct netif *nif, const uint8_t dst[6], uint16_t type,
	       struct netbuf *nb);
/*
 * After net_lock is dropped (net_unlock): tells each device sent through
 * since the last call about its new frames (netdev ops->flush).
 */
bool eth_flush_wanted(void);
void eth_flush(void);

/* --------------------------------------------------------------- ARP */

/* An ARP packet (data after the Ethernet header). */
void arp_input(struct netif *nif, struct netbuf *nb);
/*
 * Sends an IPv4 packet (data at the IP header) to next hop nexthop on
 * nif: at once when its MAC is known, else queued while ARP asks.
 * Consumes nb.  0 (sent or queued), -EHOSTUNREACH, -ENOBUFS.
 */
int arp_output(struct netif *nif, uint32_t nexthop, struct netbuf *nb);
/* Broadcasts a gratuitous ARP for nif's address. */
void arp_announce(struct netif *nif);
/* Forgets every entry of nif (address change), dropping queued packets. */
void arp_flush(struct netif *nif);
/* Entries in use (tests, statistics). */
unsigned arp_count(void);

/* -------------------------------------------------------------- IPv4 */

#define IP_DF		0x4000
#define IP_MF		0x2000
#define IP_OFFMASK	0x1FFF
#define IP_TTL		64
#define IP_MAX_LEN	65535

/* An IPv4 packet received on nif (data at the IP header); consumes nb. */
void ip_input(struct netif *nif, struct netbuf *nb);
/*
 * Where a packet to dst goes: the interface (&loopback_if for ours and
 * 127/8) and the next hop in *nexthop; NULL when there is no route.
 */
struct netif *ip_route(uint32_t dst, uint32_t *nexthop);
/* Whether a is the limited broadcast or a configured subnet's broadcast. */
bool ip_is_broadcast(uint32_t a);
/*
 * ip_output() through a given interface, without routing: for DHCP,
 * which broadcasts from 0.0.0.0 on an interface with no address yet.
 */
int ip_output_if(struct netif *nif, uint32_t nexthop, struct netbuf *nb,
		 uint32_t src, uint32_t dst, uint8_t proto, bool csum_partial,
		 uint16_t csum_offset);
/* ip_frag.c: a fragment in (data at its IP header, header checked); the
 * whole datagram when it is complete (data at its payload, l3 at an IP
 * header describing all of it), else NULL. */
struct netbuf *ip_frag_input(struct netif *nif, struct netbuf *nb);
/* Datagrams being reassembled (tests, statistics). */
unsigned ip_frag_count(void);
/*
 * Sends datagram nb (data at the L4 header, its checksum done, maybe a
 * frag chain) as fragments of at most mtu bytes each; consumes nb.
 */
int ip_frag_output(struct netif *nif, uint32_t nexthop, struct netbuf *nb,
		   uint32_t src, uint32_t dst, uint8_t proto, uint16_t mtu);
/* Fills the 20-byte header at h and its checksum. */
void ip_header(uint8_t *h, uint16_t total, uint16_t id, uint16_t frag,
	       uint8_t proto, uint32_t src, uint32_t dst);
/* The next IPv4 identification. */
uint16_t ip_next_id(void);
/* Sends an IP packet (data at the IP header) to next hop on nif (ARP or loopback). */
int ip_send_packet(struct netif *nif, uint32_t nexthop, struct netbuf *nb);

/* -------------------------------------------------------------- ICMP */

#define ICMP_ECHO_REPLY		0
#define ICMP_UNREACH		3
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11

#define ICMP_UNREACH_NET	0
#define ICMP_UNREACH_HOST	1
#define ICMP_UNREACH_PROTO	2
#define ICMP_UNREACH_PORT	3
#define ICMP_UNREACH_NEEDFRAG	4

/* An ICMP message for us (data at the ICMP header). */
void icmp_input(struct netif *nif, struct netbuf *nb, uint32_t src, uint32_t dst);
/*
 * Answers the packet nb (its IP header at nb->buf + nb->l3) with
 * destination unreachable / code, rate-limited.  Does not consume nb.
 */
void icmp_send_unreach(const struct netbuf *nb, uint8_t code);

/* --------------------------------------------------------------- UDP */

/* An ICMP error about a datagram we sent from sport to dst:dport. */
void udp_icmp_error(uint32_t dst, uint16_t dport, uint16_t sport, int err);
/* Endpoints in use (tests, statistics). */
unsigned udp_count(void);

/* -------------------------------------------------------------- DHCP */

#define DHCP_SERVER_PORT	67
#define DHCP_CLIENT_PORT	68

#define DHCPDISCOVER		1
#define DHCPOFFER		2
#define DHCPREQUEST		3
#define DHCPACK			5
#define DHCPNAK			6

/* What the client takes from a server's message. */
struct dhcp_msg {
	uint8_t type;			/* DHCP* (option 53) */
	uint32_t xid;
	uint8_t chaddr[6];
	uint32_t yiaddr, server, mask, router;	/* network order; 0: absent */
	uint32_t dns[NETIF_DNS_MAX];
	unsigned ndns;
	uint32_t lease_s, t1_s, t2_s;	/* 0: absent */
};
/*
 * Parses a BOOTREPLY (the UDP payload, len bytes) with every length
 * checked: 0, or -EINVAL for anything malformed, truncated or not DHCP.
 */
int dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m);

/* Starts DHCP on nif (replacing any lease it has). -ENOMEM. */
int dhcp_start(struct netif *nif);
/* Stops it (the address stays). */
void dhcp_stop(struct netif *nif);
/* A datagram to port 68 on nif, data at the UDP payload; consumes nb.
 * false: not DHCP's (no client running there), nb untouched. */
bool dhcp_input(struct netif *nif, struct netbuf *nb);
/* Whether DHCP on nif has finished (bound, or given up for now). */
bool dhcp_done(const struct netif *nif);
/* Called when DHCP binds nif or fails (stack.c wakes net_init's wait). */
void net_config_changed(void);

/* ---------------------------------------------------------- loopback */

/* Queues an IP packet (data at the IP header) for ip_input() on loopback. */
int loop_enqueue(struct netbuf *nb);
/* Delivers what is queued (with net_lock held, from net_unlock()). */
void loop_drain(void);
bool loop_pending(void);

#endif
