/*
 * The host side of lib/net for test-net and fuzz-net: what core.c and
 * stack.c give the kernel (the lock, a clock the test moves by hand,
 * deterministic random numbers, the timer thread's kick), TCP and the
 * sockets reduced to recorders, and a fake NIC whose transmitted frames
 * are kept for the test to look at.  Also builders for the frames a test
 * sends in.  Header-only, included by one translation unit each.
 */
#ifndef TORO_TESTS_NET_FAKE_H
#define TORO_TESTS_NET_FAKE_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/net/inet.h"
#include "lib/net/netif.h"
#include "lib/net/tcp.h"
#include "lib/net/udp.h"

/* ------------------------------------------------------ kernel services */

static uint64_t fake_now = 1000000;	/* ms: well after boot */
static uint32_t fake_rand = 12345;
static int fake_config_changes;

void
net_lock(void)
{
}

void
net_unlock(void)
{
	while (loop_pending())
		loop_drain();
}

uint64_t
net_now_ms(void)
{
	return fake_now;
}

uint64_t
net_now_us(void)
{
	return fake_now * 1000;
}

uint32_t
net_random32(void)
{
	fake_rand = fake_rand * 1103515245u + 12345u;
	return fake_rand;
}

void
net_timer_kick(uint64_t when_ms)
{
	(void)when_ms;
}

void
net_config_changed(void)
{
	fake_config_changes++;
}

void
klog(int level, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("NET_VERBOSE"))
		return;
	va_start(ap, fmt);
	fprintf(stderr, "[%d] ", level);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* Moves the clock and runs what came due. */
static void
advance(uint64_t ms)
{
	fake_now += ms;
	net_timer_run(fake_now);
	net_unlock();
}

/* ------------------------------------------------- TCP and the sockets */

static struct {
	int inputs, errors, wakeups;
	uint32_t err_dst;
	uint16_t err_dport, err_sport;
	int err;
	unsigned last_events;
	/* The last segments tcp_input got: TCP header and payload, flags. */
	struct {
		uint8_t bytes[2048];
		uint32_t len, nbflags;
	} seg[8];
} rec;

void
tcp_input(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	(void)src;
	(void)dst;
	unsigned i = (unsigned)rec.inputs++ % 8;
	rec.seg[i].len = nb->len < 2048 ? nb->len : 2048;
	memcpy(rec.seg[i].bytes, nb->data, rec.seg[i].len);
	rec.seg[i].nbflags = nb->flags;
	netbuf_put(nb);
}

void
tcp_icmp_error(uint32_t dst, uint16_t dport, uint16_t sport, int err)
{
	rec.errors++;
	rec.err_dst = dst;
	rec.err_dport = dport;
	rec.err_sport = sport;
	rec.err = err;
}

void
sock_wakeup(void *sock, unsigned events)
{
	(void)sock;
	rec.wakeups++;
	rec.last_events = events;
}

/* ------------------------------------------------------------ the NIC */

#define FAKE_TX_MAX 256

static struct {
	uint8_t *frame[FAKE_TX_MAX];
	uint32_t len[FAKE_TX_MAX];
	uint32_t flags[FAKE_TX_MAX];
	unsigned n;
	unsigned dropped;	/* more than FAKE_TX_MAX */
	bool keep;		/* false: count only (the fuzzer) */
} tx;

static int
fake_xmit(struct netdev *nd, struct netbuf *nb)
{
	(void)nd;
	if (tx.keep && tx.n < FAKE_TX_MAX) {
		tx.frame[tx.n] = malloc(nb->len);
		memcpy(tx.frame[tx.n], nb->data, nb->len);
		tx.len[tx.n] = nb->len;
		tx.flags[tx.n] = nb->flags;
		tx.n++;
	} else {
		tx.dropped++;
	}
	netbuf_put(nb);
	return 0;
}

static int
fake_poll(struct netdev *nd, int budget)
{
	(void)nd;
	(void)budget;
	return 0;
}

static bool
fake_irq_enable(struct netdev *nd)
{
	(void)nd;
	return false;
}

static const struct netdev_ops fake_ops = {
	.xmit = fake_xmit,
	.poll = fake_poll,
	.irq_enable = fake_irq_enable,
};

static struct netdev fake_nd = {
	.ops = &fake_ops,
	.name = "eth0",
	.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
	.mtu = 1500,
};

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void
tx_clear(void)
{
	for (unsigned i = 0; i < tx.n; i++)
		free(tx.frame[i]);
	tx.n = 0;
	tx.dropped = 0;
}

/* The fake NIC as eth0, netif added (unconfigured). */
static struct netif *
fake_attach(void)
{
	struct netif *nif = netif_add(&fake_nd);

	fake_nd.input = eth_input;
	tx.keep = true;
	return nif;
}

/* ---------------------------------------------------- frame builders */

/* The reference checksum: big-endian 16-bit words, folded at the end. */
static uint16_t
ref_csum(const uint8_t *p, size_t len, uint32_t start)
{
	uint64_t sum = start;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

struct frame {
	uint8_t b[70000];
	size_t len;
};

/* Ethernet header (to our MAC unless dst says otherwise). */
static uint8_t *
frame_eth(struct frame *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f->b, dst ? dst : fake_nd.mac, 6);
	memcpy(f->b + 6, peer_mac, 6);
	f->b[12] = (uint8_t)(type >> 8);
	f->b[13] = (uint8_t)type;
	f->len = 14;
	return f->b + 14;
}

/* IPv4 header + payload after the Ethernet header; checksum right. */
static uint8_t *
frame_ip(struct frame *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
	 uint16_t fragw, const void *payload, size_t plen)
{
	uint8_t *h = frame_eth(f, NULL, ETHERTYPE_IP);

	memset(h, 0, 20);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)(20 + plen));
	put16(h + 4, id);
	put16(h + 6, fragw);
	h[8] = 64;
	h[9] = proto;
	put_addr(h + 12, src);
	put_addr(h + 16, dst);
	put16(h + 10, ref_csum(h, 20, 0));
	memcpy(h + 20, payload, plen);
	f->len = 14 + 20 + plen;
	return h;
}

/* A UDP datagram (header + data) with its checksum, into out; its length. */
static size_t
make_udp(uint8_t *out, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	 const void *data, size_t len)
{
	put16(out, sport);
	put16(out + 2, dport);
	put16(out + 4, (uint16_t)(8 + len));
	put16(out + 6, 0);
	memcpy(out + 8, data, len);
	const uint8_t *s = (const uint8_t *)&src, *d = (const uint8_t *)&dst;
	uint32_t pseudo = (uint32_t)(s[0] << 8 | s[1]) + (uint32_t)(s[2] << 8 | s[3]) +
			  (uint32_t)(d[0] << 8 | d[1]) + (uint32_t)(d[2] << 8 | d[3]) +
			  17 + (uint32_t)(8 + len);
	uint16_t c = ref_csum(out, 8 + len, pseudo);
	put16(out + 6, c ? c : 0xFFFF);
	return 8 + len;
}

/* Hands a frame to the stack as the driver would. */
static void
rx(const struct frame *f, uint32_t flags)
{
	struct netbuf *nb = netbuf_alloc(16);

	if (f->len > netbuf_tailroom(nb)) {
		netbuf_put(nb);
		return;
	}
	memcpy(netbuf_put_tail(nb, (uint32_t)f->len), f->b, f->len);
	nb->flags = flags;
	nb->dev = &fake_nd;
	net_lock();
	eth_input(&fake_nd, nb);
	net_unlock();
}

#endif
