/*
 * toro/net.h - the network stack's counters and configuration.
 *
 * Everything the stack drops is counted under a reason, so that bad
 * input (truncated headers, bad checksums, overlapping fragments, ARP
 * storms, SYN floods ...) is visible without a debugger.  These calls
 * copy a snapshot; they never block.  They return 0 or an errno value
 * (not -1/errno).  Addresses are in network byte order, as in struct
 * in_addr.  See toro_net(3).
 */
#ifndef TORO_NET_H
#define TORO_NET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Connection states, indexed like Linux's TCP_ESTABLISHED (1) .. TCP_CLOSING (11). */
#define TORO_TCP_STATES 12

struct toro_net_stats {
	/* Every NIC together, as the drivers count. */
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	/* Ethernet: short frames, unknown types, unicast to another MAC. */
	uint64_t eth_rx, eth_tx, eth_drop_short, eth_drop_type, eth_drop_dst;
	/* ARP: malformed, storm (rate or cache limits), queue overflow. */
	uint64_t arp_rx, arp_tx, arp_drop_bad, arp_drop_storm, arp_queue_drop;
	/* IPv4. */
	uint64_t ip_rx, ip_tx, ip_drop_short, ip_drop_csum, ip_drop_len,
		 ip_drop_version, ip_drop_ttl /* always 0 */, ip_drop_martian, ip_drop_not_ours,
		 ip_drop_proto, ip_drop_noroute;
	/* Fragments: received, datagrams reassembled, dropped, timed out,
	 * overlapping, over the limits. */
	uint64_t ip_frag_rx, ip_frag_reasm, ip_frag_drop, ip_frag_timeout,
		 ip_frag_overlap, ip_frag_limit;
	uint64_t icmp_rx, icmp_tx, icmp_drop_bad, icmp_rate_limited;
	uint64_t udp_rx, udp_tx, udp_drop_csum, udp_drop_short, udp_drop_noport,
		 udp_drop_full, udp_drop_nomem;
	uint64_t tcp_rx, tcp_tx, tcp_drop_csum, tcp_drop_short, tcp_drop_bad,
		 tcp_drop_window, tcp_drop_noport, tcp_rst_tx, tcp_retransmit,
		 tcp_fast_retransmit, tcp_syn_drop, tcp_syncookie_tx,
		 tcp_syncookie_ok, tcp_active_open, tcp_passive_open,
		 tcp_timewait, tcp_keepalive_drop;
	uint64_t dhcp_tx, dhcp_rx, dhcp_drop_bad;
	uint64_t loop_rx, loop_drop;		/* loopback */
	/* Now: TCP connections by state, and what the stack holds. */
	uint32_t tcp_states[TORO_TCP_STATES];
	uint32_t udp_endpoints, arp_entries, frag_datagrams, timers;
	uint64_t netbufs_in_use;		/* packet buffers (2 KiB each) */
	/* TCP segmentation offload: frames TCP gave the NIC to cut up, and
	 * offloaded frames the NIC received that IPv4 cut into segments;
	 * of those segments, the ones queued for the reader as they came
	 * (neither first nor last of their frame, in order, with room). */
	uint64_t tcp_tx_offload, ip_rx_offload, tcp_rx_inorder;
};

/*
 * Copies the counters into *stats; size is sizeof(*stats) as the program
 * was built (a smaller, older structure gets its prefix).  EINVAL: stats
 * is not memory the program may write.
 */
int toro_net_stats(struct toro_net_stats *stats, size_t size);

struct toro_net_config {
	char name[16];			/* "eth0", ..., "lo" */
	uint8_t mac[6];			/* zero for lo */
	uint16_t mtu;
	uint32_t addr, netmask, gateway;	/* 0: none (yet) */
	uint32_t dns[2];
	int dhcp;			/* 1: the address came from DHCP */
	uint32_t lease_seconds;		/* DHCP's lease, 0 static */
	int cpu;			/* the core serving its queues, -1 for lo */
};

/*
 * The configuration of interface ifname ("eth0", "eth1", ..., "lo"; NULL
 * means eth0).  ENODEV: no such interface; EINVAL: a bad pointer.
 */
int toro_net_config(const char *ifname, struct toro_net_config *config);

#ifdef __cplusplus
}
#endif

#endif
