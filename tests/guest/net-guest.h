/*
 * What the guest programs of the network tests (tests/guest/net-stack.c,
 * tests/e2e/netecho.c) share: dotted-quad addresses for their messages,
 * and every counter of toro_net_stats() as "stat NAME VALUE" lines, which
 * the shell tests read by name.
 */
#ifndef TORO_TESTS_NET_GUEST_H
#define TORO_TESTS_NET_GUEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include <toro/net.h>

/* a (network order) as text; four calls may share one printf. */
__attribute__((unused)) static const char *
ntoa(uint32_t a)
{
	static char s[4][16];
	static int k;
	struct in_addr in = { a };

	k = (k + 1) % 4;
	return inet_ntop(AF_INET, &in, s[k], sizeof(s[k]));
}

/* Every counter and gauge, "stat NAME VALUE" a line. */
__attribute__((unused)) static void
print_stats(void)
{
	struct toro_net_stats s;

	if (toro_net_stats(&s, sizeof(s)))
		return;
#define P(x) printf("stat " #x " %llu\n", (unsigned long long)s.x)
	P(rx_packets); P(rx_bytes); P(rx_dropped); P(rx_errors);
	P(tx_packets); P(tx_bytes); P(tx_dropped); P(tx_errors);
	P(eth_rx); P(eth_tx); P(eth_drop_short); P(eth_drop_type); P(eth_drop_dst);
	P(arp_rx); P(arp_tx); P(arp_drop_bad); P(arp_drop_storm); P(arp_queue_drop);
	P(ip_rx); P(ip_tx); P(ip_drop_short); P(ip_drop_csum); P(ip_drop_len);
	P(ip_drop_version); P(ip_drop_ttl); P(ip_drop_martian); P(ip_drop_not_ours);
	P(ip_drop_proto); P(ip_drop_noroute);
	P(ip_frag_rx); P(ip_frag_reasm); P(ip_frag_drop); P(ip_frag_timeout);
	P(ip_frag_overlap); P(ip_frag_limit);
	P(icmp_rx); P(icmp_tx); P(icmp_drop_bad); P(icmp_rate_limited);
	P(udp_rx); P(udp_tx); P(udp_drop_csum); P(udp_drop_short); P(udp_drop_noport);
	P(udp_drop_full); P(udp_drop_nomem);
	P(tcp_rx); P(tcp_tx); P(tcp_drop_csum); P(tcp_drop_short); P(tcp_drop_bad);
	P(tcp_drop_window); P(tcp_drop_noport); P(tcp_rst_tx); P(tcp_retransmit);
	P(tcp_fast_retransmit); P(tcp_syn_drop); P(tcp_syncookie_tx); P(tcp_syncookie_ok);
	P(tcp_active_open); P(tcp_passive_open); P(tcp_timewait); P(tcp_keepalive_drop);
	P(dhcp_tx); P(dhcp_rx); P(dhcp_drop_bad);
	P(udp_endpoints); P(arp_entries); P(frag_datagrams); P(timers); P(netbufs_in_use);
	P(tcp_tx_offload); P(ip_rx_offload); P(tcp_rx_inorder);
#undef P
	for (int i = 0; i < TORO_TCP_STATES; i++)
		printf("stat tcp_state_%d %u\n", i, s.tcp_states[i]);
}

#endif
