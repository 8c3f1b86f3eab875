/*
 * The toro_net_* API (include/toro/net.h): snapshots of the stack's
 * counters and of an interface's configuration for the application.
 * The application runs with interrupts on, so each call turns them off
 * around net_lock(); pointers are checked before anything is written.
 * Only copying and errno conversion live here.
 */
#include <errno.h>
#include <string.h>

#include <toro/net.h>

#include "arch/x86_64/io.h"
#include "lib/dev/netdev.h"
#include "lib/kernel/kstring.h"
#include "lib/mm/vm.h"
#include "lib/net/inet.h"
#include "lib/net/tcp.h"

_Static_assert(TORO_TCP_STATES == 12, "tcp_count_states() fills 12");

static void
copy_counters(struct toro_net_stats *s)
{
	const struct net_stats *n = &net_stats;

#define C(x) s->x = n->x
	C(eth_rx); C(eth_tx); C(eth_drop_short); C(eth_drop_type); C(eth_drop_dst);
	C(arp_rx); C(arp_tx); C(arp_drop_bad); C(arp_drop_storm); C(arp_queue_drop);
	C(ip_rx); C(ip_tx); C(ip_drop_short); C(ip_drop_csum); C(ip_drop_len);
	C(ip_drop_version); C(ip_drop_ttl); C(ip_drop_martian); C(ip_drop_not_ours);
	C(ip_drop_proto); C(ip_drop_noroute);
	C(ip_frag_rx); C(ip_frag_reasm); C(ip_frag_drop); C(ip_frag_timeout);
	C(ip_frag_overlap); C(ip_frag_limit);
	C(icmp_rx); C(icmp_tx); C(icmp_drop_bad); C(icmp_rate_limited);
	C(udp_rx); C(udp_tx); C(udp_drop_csum); C(udp_drop_short); C(udp_drop_noport);
	C(udp_drop_full); C(udp_drop_nomem);
	C(tcp_rx); C(tcp_tx); C(tcp_drop_csum); C(tcp_drop_short); C(tcp_drop_bad);
	C(tcp_drop_window); C(tcp_drop_noport); C(tcp_rst_tx); C(tcp_retransmit);
	C(tcp_fast_retransmit); C(tcp_syn_drop); C(tcp_syncookie_tx);
	C(tcp_syncookie_ok); C(tcp_active_open); C(tcp_passive_open);
	C(tcp_timewait); C(tcp_keepalive_drop);
	C(dhcp_tx); C(dhcp_rx); C(dhcp_drop_bad);
	C(loop_rx); C(loop_drop);
	C(tcp_tx_offload); C(ip_rx_offload); C(tcp_rx_inorder);
#undef C
}

int
toro_net_stats(struct toro_net_stats *stats, size_t size)
{
	struct toro_net_stats s;
	unsigned states[TORO_TCP_STATES] = { 0 };

	if (!stats || !vm_user_range_ok(stats, size))
		return EINVAL;
	memset(&s, 0, sizeof(s));
	unsigned long flags = irq_save();
	for (unsigned i = 0; i < netdev_count(); i++) {
		const struct netdev_stats *d = &netdev_get(i)->stats;
		s.rx_packets += d->rx_packets;
		s.rx_bytes += d->rx_bytes;
		s.rx_dropped += d->rx_dropped;
		s.rx_errors += d->rx_errors;
		s.tx_packets += d->tx_packets;
		s.tx_bytes += d->tx_bytes;
		s.tx_dropped += d->tx_dropped;
		s.tx_errors += d->tx_errors;
	}
	net_lock();
	copy_counters(&s);
	if (tcp_count_states)
		tcp_count_states(states);
	s.udp_endpoints = udp_count();
	s.arp_entries = arp_count();
	s.frag_datagrams = ip_frag_count();
	s.timers = (uint32_t)net_timer_count();
	net_unlock();
	s.netbufs_in_use = netbuf_in_use();
	irq_restore(flags);
	for (unsigned i = 0; i < TORO_TCP_STATES; i++)
		s.tcp_states[i] = states[i];
	memcpy(stats, &s, size < sizeof(s) ? size : sizeof(s));
	return 0;
}

/* The application's interface name, or -ENODEV / -EINVAL. */
static int
name_in(const char *u, char buf[16])
{
	for (size_t i = 0; i < 16; i++) {
		if ((i == 0 || ((uintptr_t)(u + i) & 4095) == 0) &&
		    !vm_user_range_ok(u + i, 1))
			return -EINVAL;
		if (!(buf[i] = u[i]))
			return 0;
	}
	return -ENODEV;
}

static void
fill(struct toro_net_config *c, const struct netif *n)
{
	memset(c, 0, sizeof(*c));
	if (n->dev) {
		kstrlcpy(c->name, n->dev->name, sizeof(c->name));
		memcpy(c->mac, n->dev->mac, 6);
		c->cpu = (int)n->dev->cpu;
	} else {
		kstrlcpy(c->name, "lo", sizeof(c->name));
		c->cpu = -1;
	}
	c->mtu = n->mtu;
	c->addr = n->addr;
	c->netmask = n->mask;
	c->gateway = n->gw;
	c->dns[0] = n->dns[0];
	c->dns[1] = n->dns[1];
	c->dhcp = n->dhcp;
	c->lease_seconds = n->lease_s;
}

int
toro_net_config(const char *ifname, struct toro_net_config *config)
{
	char name[16] = "eth0";
	struct toro_net_config c;
	int err = ifname ? name_in(ifname, name) : 0;

	if (err)
		return -err;
	if (!config || !vm_user_range_ok(config, sizeof(*config)))
		return EINVAL;
	err = ENODEV;
	unsigned long flags = irq_save();
	net_lock();
	if (!kstrcmp(name, "lo")) {
		fill(&c, &loopback_if);
		err = 0;
	}
	for (unsigned i = 0; i < netif_count && err; i++) {
		if (!kstrcmp(netifs[i].dev->name, name)) {
			fill(&c, &netifs[i]);
			err = 0;
		}
	}
	net_unlock();
	irq_restore(flags);
	if (!err)
		*config = c;
	return err;
}
