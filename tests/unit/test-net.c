/*
 * lib/net below TCP on the host: checksums against a reference, the
 * timer wheel, Ethernet/ARP/IPv4/ICMP/UDP input with good and malformed
 * frames, fragment reassembly (out of order, overlaps, duplicates,
 * timeouts, limits, the 65535-byte bound), fragmentation of large UDP
 * sends, loopback, the DHCP client (parsing with bad options, the whole
 * DISCOVER-OFFER-REQUEST-ACK exchange, renewal) and ip= parsing.  The
 * NIC is net-fake.h's, which records what the stack transmits; TCP is a
 * recorder too.  Every netbuf must be back at the end.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net-fake.h"
#include "tap.h"

#define OUR	NET_ADDR(10, 0, 0, 2)
#define PEER	NET_ADDR(10, 0, 0, 1)
#define GW	NET_ADDR(10, 0, 0, 254)
#define FAR	NET_ADDR(192, 0, 2, 9)
#define MASK24	NET_ADDR(255, 255, 255, 0)

static struct frame f, g;	/* big: static */
static struct netif *nif;
static int owner;		/* what the UDP endpoints belong to */

/* An ARP request from PEER for us: PEER is in the cache (answered). */
static void learn_peer(void);

/* An echo request of len bytes (>= 8) with its checksum, into p. */
static void
make_echo(uint8_t *p, size_t len)
{
	memset(p, 0xAB, len);
	p[0] = ICMP_ECHO;
	p[1] = 0;
	put16(p + 2, 0);
	put16(p + 2, ref_csum(p, len, 0));
}

static uint64_t
stat_of(const uint64_t *counter)
{
	return *counter;
}
#define STAT(x) stat_of(&net_stats.x)

/*
 * A TCP frame a NIC received offloaded (virtio's GUEST_TSO4 over merged
 * buffers): Ethernet, IPv4 and TCP headers and parts[0] bytes in the
 * head, then one receive buffer per further part; IP total length and
 * ip_flags as given.  Handed to the stack as the driver does.
 */
static void
rx_offloaded(const unsigned *parts, unsigned n, uint16_t ip_total, uint8_t proto,
	     uint32_t nbflags)
{
	static struct frame fr;
	uint8_t tcp[20 + 2048] = { 0 };
	uint32_t at = 0;

	put16(tcp, 80);
	put16(tcp + 2, 5000);
	put32(tcp + 4, 1000);
	tcp[12] = 5 << 4;
	tcp[13] = 0x19;			/* FIN PSH ACK */
	for (unsigned i = 0; i < parts[0]; i++)
		tcp[20 + i] = (uint8_t)(at++ * 7);
	uint8_t *h = frame_ip(&fr, PEER, OUR, proto, 1, 0, tcp, 20 + parts[0]);
	put16(h + 2, ip_total);		/* the whole frame's, past this buffer */
	put16(h + 10, 0);
	put16(h + 10, ref_csum(h, 20, 0));
	struct netbuf *head = netbuf_alloc(16), *tail = head;
	memcpy(netbuf_put_tail(head, (uint32_t)fr.len), fr.b, fr.len);
	for (unsigned k = 1; k < n; k++) {
		struct netbuf *c = netbuf_alloc(100);
		uint8_t *p = netbuf_put_tail(c, parts[k]);
		for (unsigned i = 0; i < parts[k]; i++)
			p[i] = (uint8_t)(at++ * 7);
		tail->frag = c;
		tail = c;
	}
	head->gso_size = 1000;
	head->flags = nbflags;
	head->dev = &fake_nd;
	net_lock();
	eth_input(&fake_nd, head);
	net_unlock();
}

static void
test_offload_rx(void)
{
	static const unsigned parts[3] = { 1000, 1200, 333 };
	unsigned total = 20 + 20 + 1000 + 1200 + 333;
	int inputs = rec.inputs;
	uint64_t offl = STAT(ip_rx_offload);

	learn_peer();
	rx_offloaded(parts, 3, (uint16_t)total, IPPROTO_TCP_, NB_CSUM_VALID);
	is_int(rec.inputs - inputs, 3, "an offloaded frame over 3 buffers: 3 segments to TCP");
	is_int((long)(STAT(ip_rx_offload) - offl), 1, "counted in ip_rx_offload");
	bool seqs = true, bytes = true, flags = true, more = true;
	uint32_t at = 0;
	for (unsigned k = 0; k < 3; k++) {
		const uint8_t *t = rec.seg[(unsigned)(inputs + (int)k) % 8].bytes;
		uint32_t len = rec.seg[(unsigned)(inputs + (int)k) % 8].len;
		uint32_t nbf = rec.seg[(unsigned)(inputs + (int)k) % 8].nbflags;
		seqs &= get32(t + 4) == 1000 + at && len == 20 + parts[k] &&
			get16(t) == 80 && get16(t + 2) == 5000 && (t[12] >> 4) == 5;
		for (unsigned i = 0; i < parts[k]; i++)
			bytes &= t[20 + i] == (uint8_t)((at + i) * 7);
		flags &= t[13] == (k == 2 ? 0x19 : 0x10);
		more &= !!(nbf & NB_MORE) == (k < 2) && (nbf & NB_CSUM_VALID) && (nbf & NB_GRO);
		at += parts[k];
	}
	ok(seqs, "each with the TCP header, its own sequence number and length");
	ok(bytes, "and its bytes, in order");
	ok(flags, "FIN and PSH on the last only");
	ok(more, "NB_MORE on all but the last, NB_GRO on each; the checksum vouched for");

	/* One buffer only: an ordinary segment, FIN and PSH kept, no NB_MORE. */
	static const unsigned one[1] = { 700 };
	inputs = rec.inputs;
	rx_offloaded(one, 1, (uint16_t)(20 + 20 + 700), IPPROTO_TCP_, NB_CSUM_VALID);
	unsigned gi = (unsigned)inputs % 8;
	ok(rec.inputs == inputs + 1 && rec.seg[gi].bytes[13] == 0x19 &&
	   !(rec.seg[gi].nbflags & (NB_MORE | NB_GRO)),
	   "an offloaded frame in one buffer: one ordinary segment, FIN and PSH kept, no NB_MORE");

	/* The device's word is needed, the lengths must agree, TCP only. */
	inputs = rec.inputs;
	uint64_t d = STAT(tcp_drop_short);
	rx_offloaded(parts, 3, (uint16_t)total, IPPROTO_TCP_, 0);
	ok(rec.inputs == inputs && STAT(tcp_drop_short) == d + 1,
	   "without a checked checksum: dropped (tcp_drop_short)");
	d = STAT(ip_drop_len);
	rx_offloaded(parts, 3, (uint16_t)(total - 1), IPPROTO_TCP_, NB_CSUM_VALID);
	rx_offloaded(parts, 3, (uint16_t)(total + 1), IPPROTO_TCP_, NB_CSUM_VALID);
	rx_offloaded(parts, 3, (uint16_t)total, IPPROTO_UDP_, NB_CSUM_VALID);
	ok(rec.inputs == inputs && STAT(ip_drop_len) == d + 3,
	   "a total length short of or past the chain, or not TCP: dropped (ip_drop_len)");
}

/* ------------------------------------------------------------ checksums */

static void
test_checksums(void)
{
	static uint8_t buf[4096 + 8];
	int bad = 0;

	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t len = 0; len <= 2100 && !bad; len++) {
		for (size_t off = 0; off < 8; off++) {
			uint16_t got = net_csum_fold(net_csum_add(0, buf + off, len));
			uint16_t want = ref_csum(buf + off, len, 0);
			uint8_t w[2] = { (uint8_t)(want >> 8), (uint8_t)want };
			if (memcmp(&got, w, 2))
				bad++;
		}
	}
	ok(!bad, "net_csum_add/fold match the reference for lengths 0-2100 at 8 alignments");

	/* All 0xFF: the sum that needs the most carries. */
	memset(buf, 0xFF, sizeof(buf));
	uint16_t got = net_csum_fold(net_csum_add(0, buf, 4096));
	is_int(got, 0, "an all-ones buffer sums to 0xFFFF: checksum 0");
	is_int(ref_csum(buf, 4096, 0), 0, "the reference agrees");

	/* Pieces of even length add up to the whole. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	uint32_t s = net_csum_add(0, buf, 100);
	s = net_csum_add(s, buf + 100, 1000);
	s = net_csum_add(s, buf + 1100, 333);
	is_int(net_csum_fold(s), net_csum_fold(net_csum_add(0, buf, 1433)),
	       "a sum in even pieces equals the sum at once");

	/* A chain of odd-length pieces. */
	struct netbuf *a = netbuf_alloc(0), *b = netbuf_alloc(0), *c = netbuf_alloc(0);
	memcpy(netbuf_put_tail(a, 7), buf, 7);
	memcpy(netbuf_put_tail(b, 13), buf + 7, 13);
	memcpy(netbuf_put_tail(c, 100), buf + 20, 100);
	a->frag = b;
	b->frag = c;
	is_int(net_csum_fold(nb_csum_chain(0, a)), net_csum_fold(net_csum_add(0, buf, 120)),
	       "nb_csum_chain handles odd pieces");
	is_int(nb_total_len(a), 120, "nb_total_len of a chain");
	uint8_t out[120];
	ok(nb_copy_out(a, 0, out, 120) && !memcmp(out, buf, 120), "nb_copy_out of a chain");
	ok(!nb_copy_out(a, 100, out, 21), "nb_copy_out past the end fails");
	netbuf_put(a);	/* frees b and c too */

	/* The pseudo-header against the reference. */
	uint32_t src = NET_ADDR(192, 168, 1, 2), dst = NET_ADDR(10, 9, 8, 7);
	uint8_t ph[12];
	put_addr(ph, src);
	put_addr(ph + 4, dst);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, 1234);
	uint16_t want = ref_csum(ph, 12, 0);
	uint16_t have = net_csum_fold(net_csum_pseudo(src, dst, 17, 1234));
	uint8_t w[2] = { (uint8_t)(want >> 8), (uint8_t)want };
	ok(!memcmp(&have, w, 2), "net_csum_pseudo matches the reference");
}

/* --------------------------------------------------------------- timers */

static int fired[16], fire_order[16], nfired;

static void
on_timer(struct net_timer *t)
{
	extern struct net_timer timers_under_test[16];
	int i = (int)(t - timers_under_test);

	fired[i]++;
	if (nfired < 16)
		fire_order[nfired++] = i;
}

struct net_timer timers_under_test[16];

static struct net_timer rearm_t;
static int rearm_count;

static void
on_rearm(struct net_timer *t)
{
	if (++rearm_count < 5)
		net_timer_set(t, net_now_ms() + 10, on_rearm);
}

static void
test_timers(void)
{
	struct net_timer *t = timers_under_test;
	uint64_t base = fake_now;
	unsigned long before = net_timer_count();

	net_timer_set(&t[0], base + 50, on_timer);
	net_timer_set(&t[1], base + 10, on_timer);
	net_timer_set(&t[2], base + 5000, on_timer);	/* five revolutions ahead */
	net_timer_set(&t[3], base + 30, on_timer);
	net_timer_set(&t[4], base + 1024 + 10, on_timer);	/* same slot as t[1] */
	is_int(net_timer_count(), before + 5, "five timers pending");
	is_int(net_timer_next(), base + 10, "next deadline is the earliest");
	net_timer_cancel(&t[3]);
	net_timer_cancel(&t[3]);
	ok(!net_timer_pending(&t[3]), "cancelled (twice is fine)");
	net_timer_set(&t[0], base + 20, on_timer);	/* moved earlier */
	advance(10);
	is_int(fired[1], 1, "t1 fired at its time");
	is_int(fired[4], 0, "t4 in the same slot a revolution later did not");
	is_int(net_timer_next(), base + 20, "next is the moved t0");
	advance(15);
	is_int(fired[0], 1, "moved timer fired at its new time");
	is_int(net_timer_next(), base + 1034, "next is t4, a revolution on");
	advance(2000);	/* a long sleep: more than a revolution at once */
	is_int(fired[4], 1, "t4 fired after a long sleep");
	is_int(fired[2], 0, "t2 still waits");
	is_int(fired[3], 0, "cancelled t3 never fired");
	advance(3000);
	is_int(fired[2], 1, "t2 fired five revolutions later");
	ok(fire_order[0] == 1 && fire_order[1] == 0 && fire_order[2] == 4 &&
	   fire_order[3] == 2, "in order");
	is_int(net_timer_count(), before, "none left");
	is_int(net_timer_next(), UINT64_MAX, "no next deadline");

	net_timer_set(&rearm_t, fake_now + 10, on_rearm);
	for (int i = 0; i < 10; i++)
		advance(10);
	is_int(rearm_count, 5, "a callback re-arming itself runs each time");

	/* Many timers: all fire, none early. */
	static struct net_timer many[5000];
	for (int i = 0; i < 5000; i++)
		net_timer_set(&many[i], fake_now + 1 + (uint64_t)(i * 7919) % 20000, on_rearm);
	rearm_count = 100;
	advance(10000);
	unsigned long left = net_timer_count();
	ok(left > 2000 && left < 3000, "about half of 5000 timers fired after half the time (%lu left)", left);
	advance(10001);
	is_int(net_timer_count(), 0, "all 5000 fired");
}

/* ------------------------------------------------------------- Ethernet */

static void
test_ethernet(void)
{
	uint64_t d;

	f.len = 10;
	memset(f.b, 0, 10);
	d = STAT(eth_drop_short);
	rx(&f, 0);
	is_int(STAT(eth_drop_short), d + 1, "a 10-byte frame: eth_drop_short");

	frame_eth(&f, NULL, 0x86DD);	/* IPv6 */
	f.len = 60;
	d = STAT(eth_drop_type);
	rx(&f, 0);
	is_int(STAT(eth_drop_type), d + 1, "IPv6: eth_drop_type");

	static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
	frame_eth(&f, other, ETHERTYPE_IP);
	f.len = 60;
	d = STAT(eth_drop_dst);
	rx(&f, 0);
	is_int(STAT(eth_drop_dst), d + 1, "unicast to another MAC: eth_drop_dst");
}

/* ------------------------------------------------------------------ ARP */

static void
arp_frame(struct frame *fr, uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa,
	  const uint8_t *eth_dst)
{
	uint8_t *p = frame_eth(fr, eth_dst, ETHERTYPE_ARP);

	memset(p, 0, 46);
	put16(p, 1);
	put16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, sha, 6);
	put_addr(p + 14, spa);
	put_addr(p + 24, tpa);
	fr->len = 14 + 46;
}

static void
test_arp(void)
{
	tx_clear();
	arp_frame(&f, 1, peer_mac, PEER, OUR, eth_broadcast);
	rx(&f, 0);
	ok(tx.n == 1 && get16(tx.frame[0] + 12) == ETHERTYPE_ARP &&
	   get16(tx.frame[0] + 14 + 6) == 2, "a request for our address is answered");
	ok(tx.n == 1 && !memcmp(tx.frame[0], peer_mac, 6) &&
	   !memcmp(tx.frame[0] + 14 + 8, fake_nd.mac, 6) &&
	   get_addr(tx.frame[0] + 14 + 14) == OUR && get_addr(tx.frame[0] + 14 + 24) == PEER,
	   "the reply says our MAC, to the asker");
	is_int(arp_count(), 1, "the asker is cached");

	tx_clear();
	arp_frame(&f, 1, peer_mac, PEER, NET_ADDR(10, 0, 0, 77), eth_broadcast);
	rx(&f, 0);
	is_int(tx.n, 0, "a request for another address is not answered");

	uint64_t bad = STAT(arp_drop_bad);
	arp_frame(&f, 1, peer_mac, PEER, OUR, eth_broadcast);
	f.b[14 + 4] = 8;	/* hlen */
	rx(&f, 0);
	arp_frame(&f, 9, peer_mac, PEER, OUR, eth_broadcast);	/* op */
	rx(&f, 0);
	arp_frame(&f, 1, eth_broadcast, PEER, OUR, eth_broadcast);	/* sender MAC */
	rx(&f, 0);
	arp_frame(&f, 1, peer_mac, PEER, OUR, eth_broadcast);
	f.len = 14 + 20;	/* truncated */
	rx(&f, 0);
	is_int(STAT(arp_drop_bad), bad + 4, "bad hlen, op, sender MAC, length: arp_drop_bad");
	is_int(tx.n, 0, "none answered");

	/* Sending to an unknown neighbour: request, queue, then the reply releases it. */
	tx_clear();
	uint32_t nb_ip = NET_ADDR(10, 0, 0, 33);
	struct udp_pcb *u = udp_new(&owner);
	ok(udp_send(u, "hi", 2, nb_ip, net_htons(9)) == 2, "udp_send to an unresolved neighbour");
	ok(tx.n == 1 && get16(tx.frame[0] + 12) == ETHERTYPE_ARP &&
	   get_addr(tx.frame[0] + 14 + 24) == nb_ip, "an ARP request went out");
	static const uint8_t nb_mac[6] = { 0x02, 0, 0, 0, 0, 0x33 };
	tx_clear();
	arp_frame(&f, 2, nb_mac, nb_ip, OUR, fake_nd.mac);
	rx(&f, 0);
	ok(tx.n == 1 && !memcmp(tx.frame[0], nb_mac, 6) &&
	   get16(tx.frame[0] + 12) == ETHERTYPE_IP, "the reply sent the queued datagram");
	/* Now known: straight out. */
	tx_clear();
	udp_send(u, "again", 5, nb_ip, net_htons(9));
	ok(tx.n == 1 && !memcmp(tx.frame[0], nb_mac, 6), "resolved: sent at once");
	/* Near expiry, use triggers a refresh request. */
	tx_clear();
	advance(56000);
	udp_send(u, "x", 1, nb_ip, net_htons(9));
	ok(tx.n == 2 && get16(tx.frame[0] + 12) == ETHERTYPE_ARP, "used after 56 s: refreshed");

	/* Nobody answers: three requests, then the queued TCP packet's sender hears. */
	tx_clear();
	uint32_t ghost = NET_ADDR(10, 0, 0, 99);
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);
	uint8_t *tcph = netbuf_put_tail(nb, 20);
	memset(tcph, 0, 20);
	put16(tcph, 40000);
	put16(tcph + 2, 80);
	net_lock();
	ok(ip_output(nb, 0, ghost, IPPROTO_TCP_, false, 0) == 0, "TCP to a silent neighbour is queued");
	net_unlock();
	int errors = rec.errors;
	advance(1000);
	advance(1000);
	is_int(tx.n, 3, "asked three times");
	advance(1000);
	is_int(rec.errors, errors + 1, "then TCP is told");
	ok(rec.err == -EHOSTUNREACH && rec.err_dst == ghost &&
	   rec.err_dport == net_htons(80) && rec.err_sport == net_htons(40000),
	   "EHOSTUNREACH for dst:80 from 40000");
	nb = netbuf_alloc(NETBUF_HEADROOM);
	memset(netbuf_put_tail(nb, 20), 0, 20);
	net_lock();
	is_int(ip_output(nb, 0, ghost, IPPROTO_TCP_, false, 0), -EHOSTUNREACH,
	       "while failed, sends fail at once");
	net_unlock();
	advance(4000);

	/* A storm of requests from random senders: bounded cache, limited replies. */
	tx_clear();
	uint64_t storm = STAT(arp_drop_storm);
	for (unsigned i = 0; i < 5000; i++) {
		uint8_t mac[6] = { 0x02, 1, 2, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
		arp_frame(&f, 1, mac, NET_ADDR(10, 0, (i >> 8) & 0xFF, i & 0xFF), OUR, eth_broadcast);
		rx(&f, 0);
	}
	ok(arp_count() <= 256, "the cache stays bounded (%u)", arp_count());
	ok(STAT(arp_drop_storm) > storm, "the storm is counted (%llu)",
	   (unsigned long long)(STAT(arp_drop_storm) - storm));
	ok(tx.n + tx.dropped < 5000, "replies are rate-limited (%u sent)", tx.n + tx.dropped);
	udp_close(u);
	tx_clear();
}

/* ----------------------------------------------------------------- IPv4 */

static void
test_ipv4(void)
{
	uint8_t echo[64], echo8[8];
	uint64_t d;

	make_echo(echo, sizeof(echo));
	make_echo(echo8, sizeof(echo8));
	learn_peer();
	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 1, 0, echo, sizeof(echo));
	rx(&f, 0);
	ok(tx.n == 1 && tx.frame[0][14 + 20] == ICMP_ECHO_REPLY &&
	   get_addr(tx.frame[0] + 14 + 16) == PEER && get_addr(tx.frame[0] + 14 + 12) == OUR,
	   "echo request answered");
	ok(tx.n == 1 && ref_csum(tx.frame[0] + 14, 20, 0) == 0 &&
	   ref_csum(tx.frame[0] + 34, sizeof(echo), 0) == 0, "reply checksums are right");
	ok(tx.n == 1 && !memcmp(tx.frame[0] + 34 + 8, echo + 8, sizeof(echo) - 8),
	   "reply carries the data");

	/* With Ethernet padding after the packet. */
	tx_clear();
	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 2, 0, echo8, 8);
	f.len += 12;
	rx(&f, 0);
	ok(tx.n == 1 && get16(tx.frame[0] + 14 + 2) == 28, "padding trimmed: reply is 28 bytes");

	/* With a 4-byte option (IHL 6). */
	tx_clear();
	uint8_t *h = frame_eth(&f, NULL, ETHERTYPE_IP);
	memset(h, 0, 24);
	h[0] = 0x46;
	put16(h + 2, 24 + 8);
	h[8] = 64;
	h[9] = IPPROTO_ICMP_;
	put_addr(h + 12, PEER);
	put_addr(h + 16, OUR);
	h[20] = 1;	/* NOP options */
	h[21] = 1;
	h[22] = 1;
	h[23] = 0;
	put16(h + 10, ref_csum(h, 24, 0));
	memcpy(h + 24, echo, 8);
	put16(h + 26, 0);
	put16(h + 26, ref_csum(h + 24, 8, 0));
	f.len = 14 + 32;
	rx(&f, 0);
	is_int(tx.n, 1, "a packet with options is answered");

	tx_clear();
	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	f.b[14] = 0x65;
	d = STAT(ip_drop_version);
	rx(&f, 0);
	is_int(STAT(ip_drop_version), d + 1, "version 6 header: ip_drop_version");

	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	f.b[14] = 0x44;
	d = STAT(ip_drop_len);
	rx(&f, 0);
	is_int(STAT(ip_drop_len), d + 1, "IHL 4: ip_drop_len");

	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	f.b[14] = 0x4F;	/* 60-byte header in a 28-byte packet */
	rx(&f, 0);
	is_int(STAT(ip_drop_len), d + 2, "IHL past the packet: ip_drop_len");

	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	put16(f.b + 16, 1000);
	rx(&f, 0);
	is_int(STAT(ip_drop_len), d + 3, "total length past the frame: ip_drop_len");

	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	f.b[14 + 10] ^= 0x55;
	d = STAT(ip_drop_csum);
	rx(&f, 0);
	is_int(STAT(ip_drop_csum), d + 1, "bad header checksum: ip_drop_csum");
	rx(&f, NB_CSUM_VALID);
	is_int(STAT(ip_drop_csum), d + 2,
	       "...also when the device vouched for the frame (that is the L4 checksum)");
	tx_clear();

	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	f.b[14 + 8] = 0;
	put16(f.b + 14 + 10, 0);
	put16(f.b + 14 + 10, ref_csum(f.b + 14, 20, 0));
	/* RFC 1122 3.2.1.7: a host must not discard a datagram for a TTL
	 * below 2; TTL is a router's business, and we forward nothing. */
	d = STAT(ip_drop_ttl);
	rx(&f, 0);
	ok(STAT(ip_drop_ttl) == d && tx.n == 1 && tx.frame[0][14 + 20] == ICMP_ECHO_REPLY &&
	   tx.frame[0][14 + 8] == 64, "an echo request with TTL 0 is answered, with TTL 64");
	tx_clear();

	d = STAT(ip_drop_not_ours);
	frame_ip(&f, PEER, NET_ADDR(10, 0, 0, 3), IPPROTO_ICMP_, 3, 0, echo8, 8);
	rx(&f, 0);
	frame_ip(&f, PEER, NET_LOOPBACK, IPPROTO_ICMP_, 3, 0, echo8, 8);
	rx(&f, 0);
	is_int(STAT(ip_drop_not_ours), d + 2, "another host's or 127.0.0.1 from the wire: not ours");

	d = STAT(ip_drop_martian);
	frame_ip(&f, NET_ADDR(224, 0, 0, 1), OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	rx(&f, 0);
	frame_ip(&f, NET_ADDR(127, 0, 0, 1), OUR, IPPROTO_ICMP_, 3, 0, echo8, 8);
	rx(&f, 0);
	is_int(STAT(ip_drop_martian), d + 2, "multicast or loopback source: ip_drop_martian");

	f.len = 14 + 12;
	d = STAT(ip_drop_short);
	rx(&f, 0);
	is_int(STAT(ip_drop_short), d + 1, "12 bytes: ip_drop_short");

	/* Echo to the broadcast address: ignored (no smurf). */
	frame_ip(&f, PEER, NET_ADDR(10, 0, 0, 255), IPPROTO_ICMP_, 4, 0, echo, sizeof(echo));
	rx(&f, 0);
	is_int(tx.n, 0, "broadcast echo is not answered");

	/* Unknown protocol: protocol unreachable. */
	frame_ip(&f, PEER, OUR, 99, 5, 0, echo, 8);
	d = STAT(ip_drop_proto);
	rx(&f, 0);
	is_int(STAT(ip_drop_proto), d + 1, "protocol 99: ip_drop_proto");
	ok(tx.n == 1 && tx.frame[0][34] == ICMP_UNREACH && tx.frame[0][35] == ICMP_UNREACH_PROTO,
	   "...answered with protocol unreachable");
	tx_clear();

	/* TCP goes to TCP. */
	int inputs = rec.inputs;
	frame_ip(&f, PEER, OUR, IPPROTO_TCP_, 6, 0, echo, 20);
	rx(&f, 0);
	is_int(rec.inputs, inputs + 1, "a TCP segment reaches tcp_input");

	/* ICMP port unreachable about our TCP: tcp_icmp_error with its ports. */
	uint8_t err[8 + 20 + 8];
	memset(err, 0, sizeof(err));
	err[0] = ICMP_UNREACH;
	err[1] = ICMP_UNREACH_PORT;
	uint8_t *in = err + 8;
	in[0] = 0x45;
	put16(in + 2, 40);
	in[8] = 64;
	in[9] = IPPROTO_TCP_;
	put_addr(in + 12, OUR);
	put_addr(in + 16, FAR);
	put16(in + 20, 5555);
	put16(in + 22, 443);
	put16(err + 2, ref_csum(err, sizeof(err), 0));
	int errors = rec.errors;
	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 7, 0, err, sizeof(err));
	rx(&f, 0);
	ok(rec.errors == errors + 1 && rec.err == -ECONNREFUSED && rec.err_dst == FAR &&
	   rec.err_dport == net_htons(443) && rec.err_sport == net_htons(5555),
	   "port unreachable reaches tcp_icmp_error(dst, 443, 5555, -ECONNREFUSED)");
	err[8 + 12] = 1;	/* not from us */
	put16(err + 2, 0);
	put16(err + 2, ref_csum(err, 8 + 20, 0));
	frame_ip(&f, PEER, OUR, IPPROTO_ICMP_, 7, 0, err, 8 + 20);
	d = STAT(icmp_drop_bad);
	rx(&f, 0);
	is_int(STAT(icmp_drop_bad), d + 1, "an error about someone else's packet: icmp_drop_bad");

	/* Routing. */
	uint16_t mtu = 0;
	is_int(ip_route_src(PEER, &mtu), OUR, "route to the subnet: our address");
	is_int(mtu, 1500, "...MTU 1500");
	is_int(ip_route_src(FAR, NULL), OUR, "route through the gateway");
	is_int(ip_route_src(NET_ADDR(127, 1, 2, 3), NULL), NET_LOOPBACK, "127/8: loopback");
	is_int(ip_route_src(OUR, NULL), OUR, "our own address: loopback, from itself");
	ok(ip_is_local(0) && ip_is_local(OUR) && ip_is_local(NET_ADDR(127, 9, 9, 9)) &&
	   !ip_is_local(PEER), "ip_is_local");
}

static void
learn_peer(void)
{
	arp_frame(&f, 1, peer_mac, PEER, OUR, eth_broadcast);
	rx(&f, 0);
	tx_clear();
}

/* ------------------------------------------------------------ fragments */

/* Sends bytes [off, off+len) of UDP datagram d (id) as one fragment. */
static void
send_frag(const uint8_t *d, size_t total, uint16_t id, size_t off, size_t len)
{
	uint16_t fw = (uint16_t)(off / 8) | (off + len < total ? IP_MF : 0);

	frame_ip(&g, PEER, OUR, IPPROTO_UDP_, id, fw, d + off, len);
	rx(&g, 0);
}

static bool
recv_is(struct udp_pcb *u, const uint8_t *want, size_t len)
{
	static uint8_t got[70000];
	size_t full = 0;
	uint32_t addr;
	uint16_t port;
	ssize_t n = udp_recv(u, got, sizeof(got), &full, &addr, &port, false);

	return n == (ssize_t)len && full == len && !memcmp(got, want, len) && addr == PEER &&
	       port == net_htons(1111);
}

static void
test_fragments(void)
{
	static uint8_t dgram[70000], data[66000];
	struct udp_pcb *u = udp_new(&owner);

	ok(!udp_bind(u, 0, net_htons(7), false), "a UDP endpoint on port 7");
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 7);

	/* 3000 bytes, three fragments, out of order: fits one netbuf? no: a chain. */
	size_t n = make_udp(dgram, PEER, OUR, 1111, 7, data, 3000);
	send_frag(dgram, n, 100, 2000, n - 2000);
	send_frag(dgram, n, 100, 0, 1000);
	is_int(ip_frag_count(), 1, "a datagram under reassembly");
	send_frag(dgram, n, 100, 1000, 1000);
	is_int(ip_frag_count(), 0, "complete");
	ok(recv_is(u, data, 3000), "3000 bytes out of order arrive intact");

	/* Small enough for one netbuf: copied whole. */
	n = make_udp(dgram, PEER, OUR, 1111, 7, data, 1000);
	send_frag(dgram, n, 101, 504, n - 504);
	send_frag(dgram, n, 101, 0, 504);
	ok(recv_is(u, data, 1000), "1000 bytes in two fragments arrive intact");

	/* The largest datagram, 65507 bytes of data, in 1480-byte fragments, backwards. */
	n = make_udp(dgram, PEER, OUR, 1111, 7, data, 65507);
	size_t last = (n - 1) / 1480 * 1480;
	for (size_t off = last + 1480; off > 0; off -= 1480) {
		size_t o = off - 1480;
		send_frag(dgram, n, 102, o, o + 1480 > n ? n - o : 1480);
	}
	ok(recv_is(u, data, 65507), "65507 bytes in 45 fragments, last first");

	/* Overlap: the datagram is dropped. */
	uint64_t d = STAT(ip_frag_overlap);
	n = make_udp(dgram, PEER, OUR, 1111, 7, data, 3000);
	send_frag(dgram, n, 103, 0, 1600);
	send_frag(dgram, n, 103, 1592, n - 1592);
	is_int(STAT(ip_frag_overlap), d + 1, "overlapping fragments: ip_frag_overlap");
	is_int(ip_frag_count(), 0, "...and the datagram is gone");
	ok(udp_recv(u, dgram, 10, NULL, NULL, NULL, false) == -EAGAIN, "nothing delivered");

	/* An exact duplicate is only itself dropped. */
	send_frag(dgram, n, 104, 0, 1600);
	send_frag(dgram, n, 104, 0, 1600);
	send_frag(dgram, n, 104, 1600, n - 1600);
	ok(recv_is(u, data, 3000), "a duplicated fragment does not spoil the datagram");

	/* Timeout. */
	d = STAT(ip_frag_timeout);
	send_frag(dgram, n, 105, 0, 1600);
	advance(29000);
	is_int(ip_frag_count(), 1, "still waiting after 29 s");
	advance(1500);
	is_int(ip_frag_count(), 0, "gone after 30 s");
	is_int(STAT(ip_frag_timeout), d + 1, "ip_frag_timeout");

	/* Past 65535 bytes (the ping of death). */
	d = STAT(ip_frag_drop);
	send_frag(dgram, n, 106, 0, 1600);
	frame_ip(&g, PEER, OUR, IPPROTO_UDP_, 106, (65528 / 8), data, 100);
	rx(&g, 0);
	is_int(ip_frag_count(), 0, "a fragment ending past 65535 kills the datagram");
	ok(STAT(ip_frag_drop) > d, "ip_frag_drop");

	/* A middle fragment whose length is not a multiple of 8. */
	d = STAT(ip_frag_drop);
	frame_ip(&g, PEER, OUR, IPPROTO_UDP_, 107, IP_MF, data, 13);
	rx(&g, 0);
	is_int(STAT(ip_frag_drop), d + 1, "a non-final fragment of 13 bytes is dropped");

	/* Too many pieces. */
	d = STAT(ip_frag_limit);
	for (unsigned i = 0; i < 70; i++) {
		frame_ip(&g, PEER, OUR, IPPROTO_UDP_, 108, (uint16_t)(i * 2) | IP_MF, data, 8);
		rx(&g, 0);
	}
	ok(STAT(ip_frag_limit) > d, "more than 64 pieces: ip_frag_limit");

	/* Too many datagrams: the oldest go. */
	for (unsigned i = 0; i < 40; i++) {
		frame_ip(&g, PEER, OUR, IPPROTO_UDP_, (uint16_t)(200 + i), IP_MF, data, 8);
		rx(&g, 0);
	}
	ok(ip_frag_count() <= 16, "at most 16 datagrams at once (%u)", ip_frag_count());
	advance(31000);
	is_int(ip_frag_count(), 0, "all timed out");

	/* Inconsistent ends. */
	d = STAT(ip_frag_drop);
	frame_ip(&g, PEER, OUR, IPPROTO_UDP_, 300, 10, data, 8);	/* last: ends at 88 */
	rx(&g, 0);
	frame_ip(&g, PEER, OUR, IPPROTO_UDP_, 300, 20, data, 8);	/* last again: ends at 168 */
	rx(&g, 0);
	is_int(STAT(ip_frag_drop), d + 1, "two different last fragments: dropped");
	is_int(ip_frag_count(), 0, "...the datagram too");

	udp_close(u);
}

/* ------------------------------------------------------------------ UDP */

static void
test_udp(void)
{
	struct udp_pcb *a = udp_new(&owner), *b = udp_new(&owner), *c = udp_new(&owner);
	static uint8_t buf[70000], data[66000];

	ok(!udp_bind(a, 0, net_htons(5000), false), "bind *:5000");
	is_int(udp_bind(b, OUR, net_htons(5000), false), -EADDRINUSE, "OUR:5000 clashes");
	is_int(udp_bind(b, NET_ADDR(10, 0, 0, 8), net_htons(5001), false), -EADDRNOTAVAIL,
	       "an address that is not ours");
	ok(!udp_bind(b, 0, 0, false), "port 0 picks one");
	uint32_t la;
	uint16_t lp;
	udp_local(b, &la, &lp);
	ok(net_ntohs(lp) >= 49152, "ephemeral port %u in 49152-65535", net_ntohs(lp));
	udp_close(b);
	b = udp_new(&owner);
	struct udp_pcb *r1 = udp_new(&owner), *r2 = udp_new(&owner);
	ok(!udp_bind(r1, 0, net_htons(6000), true) && !udp_bind(r2, 0, net_htons(6000), true),
	   "two SO_REUSEADDR endpoints share a port");
	udp_close(r1);
	udp_close(r2);

	learn_peer();
	/* Send: one frame, checksum right (filled by us: the fake NIC has no offload). */
	tx_clear();
	ok(udp_send(a, "hello", 5, PEER, net_htons(9999)) == 5, "udp_send 5 bytes");
	ok(tx.n == 1, "one frame");
	if (tx.n == 1) {
		uint8_t *ip = tx.frame[0] + 14;
		const uint8_t *s = ip + 12, *dd = ip + 16;
		uint32_t pseudo = (uint32_t)(s[0] << 8 | s[1]) + (uint32_t)(s[2] << 8 | s[3]) +
				  (uint32_t)(dd[0] << 8 | dd[1]) + (uint32_t)(dd[2] << 8 | dd[3]) + 17 + 13;
		is_int(ref_csum(ip + 20, 13, pseudo), 0, "UDP checksum verifies");
		is_int(ref_csum(ip, 20, 0), 0, "IP checksum verifies");
		is_int(get16(ip + 6) & IP_DF, 0, "UDP is sent without DF");
	}
	/* With offload the pseudo-header sum is left for the device. */
	tx_clear();
	fake_nd.features = NETDEV_F_TX_CSUM;
	udp_send(a, "hello", 5, PEER, net_htons(9999));
	ok(tx.n == 1 && (tx.flags[0] & NB_CSUM_PARTIAL), "offload: NB_CSUM_PARTIAL");
	fake_nd.features = 0;

	/* A large datagram is fragmented. */
	tx_clear();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	ok(udp_send(a, data, 5000, PEER, net_htons(9999)) == 5000, "udp_send 5000 bytes");
	is_int(tx.n, 4, "four fragments");
	bool sizes = true;
	for (unsigned i = 0; i < tx.n; i++)
		sizes = sizes && tx.len[i] <= 1514 &&
			(i + 1 == tx.n || (get16(tx.frame[i] + 14 + 6) & IP_MF));
	ok(sizes, "each at most 1514 bytes, MF on all but the last");
	is_int(udp_send(a, data, 65508, PEER, net_htons(9999)), -EMSGSIZE, "65508 bytes: EMSGSIZE");
	is_int(udp_send(b, "x", 1, 0, 0), -EDESTADDRREQ, "unconnected without address");

	/* Receive. */
	size_t n = make_udp(buf, PEER, OUR, 1111, 5000, "ping", 4);
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 9, 0, buf, n);
	int wakeups = rec.wakeups;
	rx(&f, 0);
	ok(rec.wakeups == wakeups + 1 && (rec.last_events & POLLIN), "arrival wakes the socket");
	ok(udp_poll(a) & POLLIN, "POLLIN");
	size_t full;
	uint32_t addr;
	uint16_t port;
	ok(udp_recv(a, buf, 2, &full, &addr, &port, true) == 2 && full == 4, "peek, truncated: 2 of 4");
	ok(udp_recv(a, buf, 100, &full, &addr, &port, false) == 4 && !memcmp(buf, "ping", 4) &&
	   addr == PEER && port == net_htons(1111), "recv: ping from PEER:1111");
	ok(udp_recv(a, buf, 100, NULL, NULL, NULL, false) == -EAGAIN, "then EAGAIN");

	/* Bad checksum, bad length. */
	n = make_udp(buf, PEER, OUR, 1111, 5000, "ping", 4);
	buf[8] ^= 1;
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 10, 0, buf, n);
	uint64_t d = STAT(udp_drop_csum);
	rx(&f, 0);
	is_int(STAT(udp_drop_csum), d + 1, "bad UDP checksum: udp_drop_csum");
	n = make_udp(buf, PEER, OUR, 1111, 5000, "ping", 4);
	put16(buf + 4, 40);
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 11, 0, buf, n);
	d = STAT(udp_drop_short);
	rx(&f, 0);
	is_int(STAT(udp_drop_short), d + 1, "UDP length past the packet: udp_drop_short");
	n = make_udp(buf, PEER, OUR, 1111, 5000, "ping", 4);
	put16(buf + 6, 0);	/* no checksum: allowed */
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 12, 0, buf, n);
	rx(&f, 0);
	ok(udp_recv(a, buf, 100, NULL, NULL, NULL, false) == 4, "checksum 0 means none");

	/* Closed port: port unreachable, rate-limited. */
	tx_clear();
	n = make_udp(buf, PEER, OUR, 1111, 5999, "ping", 4);
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 13, 0, buf, n);
	d = STAT(udp_drop_noport);
	rx(&f, 0);
	is_int(STAT(udp_drop_noport), d + 1, "closed port: udp_drop_noport");
	ok(tx.n == 1 && tx.frame[0][34] == ICMP_UNREACH && tx.frame[0][35] == ICMP_UNREACH_PORT &&
	   get_addr(tx.frame[0] + 34 + 8 + 16) == OUR, "...port unreachable quoting the datagram");
	tx_clear();
	advance(2000);
	for (int i = 0; i < 500; i++)
		rx(&f, 0);
	ok(tx.n + tx.dropped <= 60, "500 more: at most the burst answered (%u)", tx.n + tx.dropped);
	ok(STAT(icmp_rate_limited) > 0, "icmp_rate_limited counts the rest");

	/* A full receive buffer drops. */
	udp_set_rcvbuf(a, 1);	/* the minimum: 4608, two netbufs */
	n = make_udp(buf, PEER, OUR, 1111, 5000, "x", 1);
	frame_ip(&f, PEER, OUR, IPPROTO_UDP_, 14, 0, buf, n);
	d = STAT(udp_drop_full);
	for (int i = 0; i < 5; i++)
		rx(&f, 0);
	is_int(STAT(udp_drop_full), d + 3, "past the receive buffer: udp_drop_full");
	while (udp_recv(a, buf, 100, NULL, NULL, NULL, false) > 0)
		;

	/* Loopback, no NIC involved: a connected pair on 127.0.0.1. */
	tx_clear();
	struct udp_pcb *lo = udp_new(&owner);
	ok(!udp_bind(lo, NET_LOOPBACK, net_htons(7000), false), "bind 127.0.0.1:7000");
	ok(!udp_connect(c, NET_LOOPBACK, net_htons(7000)), "connect to it");
	net_lock();
	ok(udp_send(c, "loop", 4, 0, 0) == 4, "send over loopback");
	ok(udp_recv(lo, buf, 100, NULL, NULL, NULL, false) == -EAGAIN,
	   "not delivered inside the send");
	net_unlock();
	ok(udp_recv(lo, buf, 100, &full, &addr, NULL, false) == 4 && !memcmp(buf, "loop", 4) &&
	   addr == NET_LOOPBACK, "delivered when the lock is dropped");
	net_lock();
	ok(udp_send(c, data, 30000, 0, 0) == 30000, "30000 bytes over loopback");
	net_unlock();
	ok(udp_recv(lo, buf, sizeof(buf), &full, NULL, NULL, false) == 30000 &&
	   !memcmp(buf, data, 30000), "fragmented and reassembled on loopback");
	is_int(tx.n, 0, "loopback never reached the NIC");
	/* To our own address. */
	struct udp_pcb *own = udp_new(&owner), *from = udp_new(&owner);
	udp_bind(own, 0, net_htons(7001), false);
	udp_send(from, "me", 2, OUR, net_htons(7001));
	udp_close(from);
	net_unlock();
	ok(udp_recv(own, buf, 100, NULL, &addr, NULL, false) == 2 && addr == OUR,
	   "to our own address: looped back, from it");
	/* Port unreachable on loopback reaches the connected sender. */
	udp_close(lo);
	advance(2000);	/* the ICMP rate limit spent above refills */
	udp_send(c, "gone", 4, 0, 0);
	net_unlock();
	is_int(udp_error(c, false), -ECONNREFUSED, "connected sender gets ECONNREFUSED");
	ok(udp_poll(c) & POLLERR, "POLLERR");
	is_int(udp_send(c, "again", 5, 0, 0), -ECONNREFUSED, "reported once by send");
	is_int(udp_error(c, true), 0, "then cleared");

	udp_close(own);
	udp_close(a);
	udp_close(b);
	udp_close(c);
	is_int(udp_count(), 0, "no endpoints left");
	net_unlock();
	tx_clear();
}

/* ----------------------------------------------------------------- DHCP */

/* A server's reply to xid with options opts (olen bytes), into buf. */
static size_t
dhcp_reply(uint8_t *p, uint32_t xid, uint32_t yiaddr, const uint8_t *opts, size_t olen)
{
	memset(p, 0, 240);
	p[0] = 2;
	p[1] = 1;
	p[2] = 6;
	put32(p + 4, xid);
	put_addr(p + 16, yiaddr);
	memcpy(p + 28, fake_nd.mac, 6);
	put32(p + 236, 0x63825363);
	memcpy(p + 240, opts, olen);
	return 240 + olen;
}

static void
test_dhcp_parse(void)
{
	static uint8_t p[600];
	struct dhcp_msg m;
	const uint8_t good[] = { 53, 1, 5, 1, 4, 255, 255, 255, 0, 3, 8, 10, 0, 2, 2, 10, 0, 2, 3,
				 6, 12, 1, 1, 1, 1, 8, 8, 8, 8, 9, 9, 9, 9, 51, 4, 0, 1, 81, 128,
				 54, 4, 10, 0, 2, 2, 0, 0, 255 };
	size_t n = dhcp_reply(p, 42, NET_ADDR(10, 0, 2, 15), good, sizeof(good));

	ok(!dhcp_parse(p, n, &m), "a good ACK parses");
	ok(m.type == DHCPACK && m.xid == 42 && m.yiaddr == NET_ADDR(10, 0, 2, 15) &&
	   m.mask == MASK24 && m.router == NET_ADDR(10, 0, 2, 2) &&
	   m.server == NET_ADDR(10, 0, 2, 2) && m.lease_s == 86400 && m.ndns == 2 &&
	   m.dns[0] == NET_ADDR(1, 1, 1, 1) && m.dns[1] == NET_ADDR(8, 8, 8, 8),
	   "its fields (first router, two DNS servers)");
	ok(dhcp_parse(p, 239, &m), "shorter than the fixed part + cookie");
	p[236] = 0;
	ok(dhcp_parse(p, n, &m), "bad magic cookie");
	p[236] = 0x63;
	p[0] = 1;
	ok(dhcp_parse(p, n, &m), "a BOOTREQUEST");
	p[0] = 2;
	const uint8_t overrun[] = { 53, 1, 5, 6, 200, 1, 2, 3 };
	n = dhcp_reply(p, 42, 1, overrun, sizeof(overrun));
	ok(dhcp_parse(p, n, &m), "an option running off the end");
	const uint8_t half[] = { 53, 1, 5, 1 };
	n = dhcp_reply(p, 42, 1, half, sizeof(half));
	ok(dhcp_parse(p, n, &m), "an option code with no length byte");
	const uint8_t badlen[] = { 53, 2, 5, 5, 255 };
	n = dhcp_reply(p, 42, 1, badlen, sizeof(badlen));
	ok(dhcp_parse(p, n, &m), "message type of length 2");
	const uint8_t badmask[] = { 53, 1, 5, 1, 3, 255, 255, 0, 255 };
	n = dhcp_reply(p, 42, 1, badmask, sizeof(badmask));
	ok(dhcp_parse(p, n, &m), "netmask of length 3");
	const uint8_t badrouter[] = { 53, 1, 5, 3, 6, 1, 2, 3, 4, 5, 6, 255 };
	n = dhcp_reply(p, 42, 1, badrouter, sizeof(badrouter));
	ok(dhcp_parse(p, n, &m), "router list of 6 bytes");
	const uint8_t bootp[] = { 1, 4, 255, 255, 255, 0, 255 };
	n = dhcp_reply(p, 42, 1, bootp, sizeof(bootp));
	ok(dhcp_parse(p, n, &m), "no message type: plain BOOTP, not ours");
	const uint8_t noend[] = { 53, 1, 2, 0, 0 };
	n = dhcp_reply(p, 42, 1, noend, sizeof(noend));
	ok(!dhcp_parse(p, n, &m) && m.type == DHCPOFFER, "no end option: fine (padding to the end)");
	/* Random damage never reads past the buffer (the -san build checks). */
	n = dhcp_reply(p, 42, 1, good, sizeof(good));
	for (int i = 0; i < 20000; i++) {
		uint8_t q[600];
		memcpy(q, p, n);
		q[240 + rand() % (n - 240)] = (uint8_t)rand();
		size_t len = 240 + (size_t)rand() % (n - 240 + 1);
		dhcp_parse(q, len, &m);
	}
	ok(1, "20000 randomly damaged replies parsed without a fault");
}

/* The last DHCP message we sent: its type and xid; 0 if none. */
static uint8_t
sent_dhcp(uint32_t *xid, uint32_t *ciaddr, uint32_t *requested)
{
	for (unsigned i = tx.n; i-- > 0;) {
		uint8_t *ip = tx.frame[i] + 14;
		if (get16(tx.frame[i] + 12) != ETHERTYPE_IP || ip[9] != IPPROTO_UDP_ ||
		    get16(ip + 22) != 67)
			continue;
		uint8_t *p = ip + 28;
		*xid = get32(p + 4);
		*ciaddr = get_addr(p + 12);
		*requested = 0;
		uint8_t type = 0;
		for (size_t k = 240; k + 1 < tx.len[i] - 42 && p[k] != 255; k += 2u + p[k + 1]) {
			if (p[k] == 53)
				type = p[k + 2];
			if (p[k] == 50)
				*requested = get_addr(p + k + 2);
		}
		return type;
	}
	return 0;
}

static void
server_says(uint32_t xid, uint8_t type)
{
	static uint8_t p[600], u[700];
	const uint8_t opts[] = { 53, 1, type, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2,
				 6, 4, 10, 0, 2, 3, 51, 4, 0, 0, 0x0E, 0x10 /* 3600 s */,
				 54, 4, 10, 0, 2, 2, 255 };
	size_t n = dhcp_reply(p, xid, NET_ADDR(10, 0, 2, 15), opts, sizeof(opts));
	size_t un = make_udp(u, NET_ADDR(10, 0, 2, 2), NET_BROADCAST, 67, 68, p, n);

	frame_ip(&f, NET_ADDR(10, 0, 2, 2), NET_BROADCAST, IPPROTO_UDP_, 77, 0, u, un);
	memcpy(f.b, eth_broadcast, 6);
	rx(&f, 0);
}

static void
test_dhcp_client(void)
{
	uint32_t xid, ciaddr, req;

	netif_set_addr(nif, 0, 0, 0, NULL);
	tx_clear();
	ok(!dhcp_start(nif), "dhcp_start");
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPDISCOVER, "DISCOVER sent");
	ok(tx.n && !memcmp(tx.frame[tx.n - 1], eth_broadcast, 6) &&
	   get_addr(tx.frame[tx.n - 1] + 14 + 12) == 0 &&
	   get_addr(tx.frame[tx.n - 1] + 14 + 16) == NET_BROADCAST,
	   "from 0.0.0.0 to 255.255.255.255, Ethernet broadcast");
	ok(tx.n && tx.len[tx.n - 1] >= 14 + 20 + 8 + 300, "at least BOOTP's 300 bytes");
	uint32_t first = xid;
	tx_clear();
	advance(1000);
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPDISCOVER, "retransmitted after 1 s");
	is_int(xid, first, "same xid");
	ok(!dhcp_done(nif), "not done");

	uint64_t bad = STAT(dhcp_drop_bad);
	server_says(xid + 1, DHCPOFFER);
	is_int(STAT(dhcp_drop_bad), bad + 1, "an offer with another xid: dhcp_drop_bad");
	tx_clear();
	server_says(xid, DHCPOFFER);
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPREQUEST, "the offer is requested");
	is_int(req, NET_ADDR(10, 0, 2, 15), "...for the offered address");
	int changes = fake_config_changes;
	tx_clear();
	server_says(xid, DHCPACK);
	ok(dhcp_done(nif), "ACK: bound");
	ok(nif->addr == NET_ADDR(10, 0, 2, 15) && nif->mask == MASK24 &&
	   nif->gw == NET_ADDR(10, 0, 2, 2) && nif->dns[0] == NET_ADDR(10, 0, 2, 3) &&
	   nif->lease_s == 3600, "address, mask, gateway, DNS and lease taken");
	is_int(fake_config_changes, changes + 1, "net_config_changed() called");
	ok(tx.n == 1 && get16(tx.frame[0] + 12) == ETHERTYPE_ARP &&
	   get_addr(tx.frame[0] + 14 + 14) == nif->addr && get_addr(tx.frame[0] + 14 + 24) == nif->addr,
	   "gratuitous ARP announced it");

	/* Renewal at T1 (half the lease), with our address in ciaddr. */
	tx_clear();
	advance(1800 * 1000);
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPREQUEST, "at T1: REQUEST");
	is_int(ciaddr, NET_ADDR(10, 0, 2, 15), "...with ciaddr");
	server_says(xid, DHCPACK);
	ok(nif->addr == NET_ADDR(10, 0, 2, 15) && dhcp_done(nif), "renewed");
	/* No answer to the next renewal: the address goes at the lease end. */
	tx_clear();
	advance(1800 * 1000);
	advance(1800 * 1000);
	is_int(nif->addr, 0, "lease ended unanswered: address dropped");
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPDISCOVER, "...and discovery again");
	/* NAK while requesting: back to discovery. */
	server_says(xid, DHCPOFFER);
	sent_dhcp(&xid, &ciaddr, &req);
	tx_clear();
	server_says(xid, DHCPNAK);
	is_int(sent_dhcp(&xid, &ciaddr, &req), DHCPDISCOVER, "NAK: DISCOVER again");
	dhcp_stop(nif);
	netif_set_addr(nif, OUR, MASK24, GW, NULL);
	tx_clear();
}

/* ------------------------------------------------------------------ ip= */

static void
test_ip_option(void)
{
	struct ip_config c;

	ok(!ip_config_parse("192.168.7.2::192.168.7.1:255.255.255.0", &c) &&
	   c.mode == IPCFG_STATIC && c.client == NET_ADDR(192, 168, 7, 2) &&
	   c.gw == NET_ADDR(192, 168, 7, 1) && c.mask == MASK24 && !c.device[0],
	   "the issue's example: static");
	ok(!ip_config_parse("10.1.2.3:10.1.2.1:10.1.2.254:255.255.0.0:toro:eth1:off:8.8.8.8:8.8.4.4:1.2.3.4", &c) &&
	   c.mode == IPCFG_STATIC && c.server == NET_ADDR(10, 1, 2, 1) &&
	   c.mask == NET_ADDR(255, 255, 0, 0) && !strcmp(c.hostname, "toro") &&
	   !strcmp(c.device, "eth1") && c.dns[0] == NET_ADDR(8, 8, 8, 8) &&
	   c.dns[1] == NET_ADDR(8, 8, 4, 4), "all ten fields");
	ok(!ip_config_parse("10.1.2.3", &c) && c.mode == IPCFG_STATIC &&
	   c.client == NET_ADDR(10, 1, 2, 3), "a bare address: static");
	ok(!ip_config_parse("10.1.2.3:", &c) && c.mode == IPCFG_STATIC &&
	   c.mask == NET_ADDR(255, 0, 0, 0), "no mask: class A's");
	ok(!ip_config_parse("172.16.0.9::::", &c) && c.mask == NET_ADDR(255, 255, 0, 0), "class B");
	ok(!ip_config_parse("192.168.0.9:", &c) && c.mask == MASK24, "class C");
	ok(!ip_config_parse("dhcp", &c) && c.mode == IPCFG_DHCP, "dhcp");
	ok(!ip_config_parse("on", &c) && c.mode == IPCFG_DHCP, "on");
	ok(!ip_config_parse("off", &c) && c.mode == IPCFG_OFF, "off");
	ok(!ip_config_parse("none", &c) && c.mode == IPCFG_OFF, "none");
	ok(!ip_config_parse(":::::eth0:dhcp", &c) && c.mode == IPCFG_DHCP && !strcmp(c.device, "eth0"),
	   "dhcp on a named device");
	ok(!ip_config_parse("::::::", &c) && c.mode == IPCFG_DHCP, "all empty: autoconf any");
	ok(!ip_config_parse("::::::off", &c) && c.mode == IPCFG_OFF, "no address, autoconf off");
	ok(!ip_config_parse("10.0.0.5::::::dhcp", &c) && c.mode == IPCFG_DHCP,
	   "an address with autoconf dhcp: DHCP");

	const char *bad[] = {
		"", "rarp", "dhcpx", "256.1.1.1:", "1.2.3:", "1.2.3.4.5:", "1.2.3.a:",
		"1..2.3:", "1.2.3.4 :", "01234.1.1.1:", "1.2.3.4:::255.0.255.0",
		"1.2.3.4::::::maybe", "1:2:3:4:5:6:7:8:9:10:11",
		"1.2.3.4::::aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"1.2.3.4:::::eth0123456789abcdef", "127.0.0.1:", "224.0.0.1:", "255.255.255.255:",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0x5A, sizeof(c));
		struct ip_config before = c;
		ok(ip_config_parse(bad[i], &c) == -EINVAL && !memcmp(&c, &before, sizeof(c)),
		   "'%s' is refused, untouched", bad[i]);
	}
	uint32_t a;
	ok(!ip_parse_addr("0.0.0.0", 7, &a) && a == 0, "0.0.0.0");
	ok(!ip_parse_addr("255.255.255.255", 15, &a) && a == NET_BROADCAST, "255.255.255.255");
	ok(ip_parse_addr("1.2.3.4", 5, &a), "length counts: '1.2.3'");
}

/* What each pool's netbuf holds and what it pins (receive accounting). */
static void
test_pools(void)
{
	struct netbuf *b = netbuf_alloc(0), *p = netbuf_alloc_page(0), *x = netbuf_alloc_bare();

	ok(b && p && x, "a netbuf from each pool");
	if (!b || !p || !x)
		return;
	is_int(netbuf_capacity(b), NETBUF_SIZE - (int)sizeof(struct netbuf), "block: capacity");
	is_int(netbuf_truesize(b), NETBUF_SIZE, "block: pins 2 KiB");
	is_int(netbuf_capacity(p), NETBUF_PAGE_SIZE - (int)sizeof(struct netbuf), "page: capacity");
	is_int(netbuf_truesize(p), NETBUF_PAGE_SIZE, "page: pins 4 KiB");
	is_int(netbuf_capacity(x), 0, "bare: no block of its own");
	is_int(netbuf_truesize(x), NETBUF_BARE_SIZE, "bare: pins its 128-byte slot, not 2 KiB");
	ok(sizeof(struct netbuf) <= NETBUF_BARE_SIZE, "the struct fits a bare slot");
	netbuf_put(b);
	netbuf_put(p);
	netbuf_put(x);
}

int
main(void)
{
	unsigned long baseline = netbuf_in_use();

	nif = fake_attach();
	netif_set_addr(nif, OUR, MASK24, GW, NULL);
	tx_clear();

	test_pools();
	test_checksums();
	test_timers();
	test_ethernet();
	test_arp();
	test_ipv4();
	test_offload_rx();
	test_fragments();
	test_udp();
	test_dhcp_parse();
	test_dhcp_client();
	test_ip_option();

	arp_flush(nif);
	advance(120000);
	tx_clear();
	is_int(netbuf_in_use(), baseline, "every netbuf is back");
	is_int(ip_frag_count(), 0, "no reassembly left");
	return done_testing();
}
