/*
 * What the TCP unit tests (test-tcp*.c) put around lib/net/tcp*.c: the
 * rest of the stack as net.h declares it, faked.  A clock the test moves
 * (timers fire in order as it does), a deterministic random source, the
 * Internet checksum, a route to one peer, and an ip_output() that either
 * records each segment (scripted tests inspect them: header, options,
 * payload, and whether the checksum the "device" completed is right) or
 * puts it on a simulated wire with delay, loss and reordering that
 * delivers to tcp_input() again (two TCP endpoints of the same engine
 * talking to each other).  sock_wakeup() records events per owner and
 * fails the test if an owner is woken after tcp_close().
 *
 * Header-only, like tap.h: each test program is one translation unit.
 */
#ifndef TORO_TESTS_TCP_HARNESS_H
#define TORO_TESTS_TCP_HARNESS_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/net/net.h"
#include "lib/net/netbuf.h"
#include "lib/net/tcp.h"
#include "lib/net/tcp_internal.h"
#include "tap.h"

struct net_stats net_stats;

static inline uint32_t
ipaddr(unsigned a, unsigned b, unsigned c, unsigned d)
{
	uint8_t x[4] = { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d };
	uint32_t v;

	memcpy(&v, x, 4);
	return v;
}

static inline uint16_t
port(unsigned p)
{
	return (uint16_t)((p >> 8 & 0xff) | (p & 0xff) << 8);
}

static inline unsigned
port_host(uint16_t p)
{
	return (unsigned)((p >> 8 & 0xff) | (p & 0xff) << 8);
}

#define LOCAL	ipaddr(10, 0, 0, 1)
#define PEER	ipaddr(10, 0, 0, 2)

/* ---------------------------------------------------------------- clock */

static uint64_t h_now_us = 1000000;	/* start at 1 s: 0 means "unset" */

uint64_t
net_now_ms(void)
{
	return h_now_us / 1000;
}

uint64_t
net_now_us(void)
{
	return h_now_us;
}

void
net_lock(void)
{
}

void
net_unlock(void)
{
}

static uint64_t h_rng = 0x9e3779b97f4a7c15ull;

uint32_t
net_random32(void)
{
	h_rng ^= h_rng << 13;
	h_rng ^= h_rng >> 7;
	h_rng ^= h_rng << 17;
	return (uint32_t)(h_rng >> 11);
}

/* A second generator for the wire, so loss patterns do not shift ISNs. */
static uint64_t w_rng = 0x2545f4914f6cdd1dull;

static inline uint32_t
wire_random(void)
{
	w_rng ^= w_rng << 13;
	w_rng ^= w_rng >> 7;
	w_rng ^= w_rng << 17;
	return (uint32_t)(w_rng >> 11);
}

/* ------------------------------------------------------------- checksum */

/* Little-endian 16-bit words: stored with memcpy the result is network order. */
uint32_t
net_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = sum;

	for (; len >= 2; b += 2, len -= 2)
		acc += (uint32_t)b[0] | (uint32_t)b[1] << 8;
	if (len)
		acc += b[0];
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t
net_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t
net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t acc = (uint64_t)(src & 0xffff) + (src >> 16) + (dst & 0xffff) + (dst >> 16);

	acc += (uint32_t)proto << 8;
	acc += (uint16_t)(len << 8 | len >> 8);
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

/* ---------------------------------------------------------------- route */

static uint16_t h_mtu = 1500;
/* Segments ip_output() refused as longer than the MTU: always a TCP bug. */
static unsigned long h_oversize;
static bool h_no_route;

/* The route's device offers TCP segmentation offload, and takes frames
 * in pieces (ip_route_features). */
static bool h_tso, h_sg;
/* Frames TCP handed over for segmentation, and those that broke its rules;
 * single segments in pieces (a header netbuf and slices of lent bytes). */
static unsigned long h_gso_frames, h_gso_bad, h_gso_max_segs, h_sg_frames;

unsigned
ip_route_features(uint32_t dst)
{
	(void)dst;
	return (h_tso ? NETDEV_F_TSO | NETDEV_F_TX_CSUM : 0) | (h_sg || h_tso ? NETDEV_F_SG : 0);
}

uint32_t
ip_route_src(uint32_t dst, uint16_t *mtu)
{
	(void)dst;
	if (mtu)
		*mtu = h_mtu;
	return h_no_route ? 0 : LOCAL;
}

bool
ip_is_local(uint32_t addr)
{
	uint8_t b[4];

	memcpy(b, &addr, 4);
	return addr == 0 || addr == LOCAL || b[0] == 127;
}

/* --------------------------------------------------------------- timers */

static struct net_timer *h_timers;	/* sorted by when_ms */

void
net_timer_cancel(struct net_timer *t)
{
	if (!t->pprev)
		return;
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void
net_timer_set(struct net_timer *t, uint64_t when_ms, void (*fn)(struct net_timer *t))
{
	struct net_timer **pp = &h_timers;

	net_timer_cancel(t);
	t->when_ms = when_ms;
	t->fn = fn;
	while (*pp && (*pp)->when_ms <= when_ms)
		pp = &(*pp)->next;
	t->next = *pp;
	if (t->next)
		t->next->pprev = &t->next;
	*pp = t;
	t->pprev = pp;
}

/* Fires every timer due by now. */
static inline void
fire_due(void)
{
	while (h_timers && h_timers->when_ms * 1000 <= h_now_us) {
		struct net_timer *t = h_timers;

		net_timer_cancel(t);
		t->fn(t);
	}
}

/* ------------------------------------------------------------ wake-ups */

struct owner {
	unsigned events;	/* all events so far */
	unsigned wakes;
	bool closed;		/* tcp_close() was called on its PCB */
};

static unsigned h_wake_after_close;

void
sock_wakeup(void *sock, unsigned events)
{
	struct owner *o = sock;

	if (o->closed)
		h_wake_after_close++;
	o->events |= events;
	o->wakes++;
}

/* ------------------------------------------------------------- segments */

struct seg {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	bool csum_ok;
	bool has_mss, has_ws, sack_ok;
	uint16_t mss;
	uint8_t ws, nsack;
	uint32_t sack[4][2];
	uint32_t len;
	uint8_t data[2048];
};

#define MAX_OUT 4096
static struct seg *h_out;	/* recorded segments */
static unsigned h_nout;
static unsigned h_ip_calls;

/* Parses a segment's bytes as the tests see it. */
static inline void
seg_parse(struct seg *g, const uint8_t *th, uint32_t len)
{
	uint32_t doff = (uint32_t)(th[12] >> 4) * 4;

	memcpy(&g->sport, th, 2);
	memcpy(&g->dport, th + 2, 2);
	g->seq = tcp_get32(th + 4);
	g->ack = tcp_get32(th + 8);
	g->flags = th[13];
	g->wnd = tcp_get16(th + 14);
	for (uint32_t i = TCP_HLEN; i < doff;) {
		uint8_t k = th[i];

		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		uint8_t l = th[i + 1];

		if (k == 2)
			g->has_mss = true, g->mss = tcp_get16(th + i + 2);
		if (k == 3)
			g->has_ws = true, g->ws = th[i + 2];
		if (k == 4)
			g->sack_ok = true;
		if (k == 5) {
			g->nsack = (uint8_t)((l - 2) / 8);
			for (int b = 0; b < g->nsack && b < 4; b++) {
				g->sack[b][0] = tcp_get32(th + i + 2 + 8 * b);
				g->sack[b][1] = tcp_get32(th + i + 6 + 8 * b);
			}
		}
		i += l;
	}
	g->len = len - doff;
	memcpy(g->data, th + doff, g->len);
}

/*
 * The wire: segments in flight between two endpoints of the engine.
 * Each is delivered (as a fresh netbuf, like a NIC would) after delay
 * ms, plus up to jitter ms more (which reorders), unless lost.
 */
struct wire_pkt {
	struct wire_pkt *next;
	uint64_t due_us;
	uint32_t src, dst, len;
	uint8_t bytes[];
};

static bool h_wire;			/* deliver instead of only recording */
static unsigned h_loss_pct, h_delay_ms = 5, h_jitter_ms;
static struct wire_pkt *h_inflight;
static unsigned long h_wire_sent, h_wire_lost;
/* Sync mode: ip_output hands each segment straight back to tcp_input. */
static bool h_sync;
/* Hold mode: ip_output keeps netbufs as a driver would until released. */
static struct netbuf *h_held[256];
static unsigned h_nheld;

static inline void
wire_put(uint32_t src, uint32_t dst, const uint8_t *p, uint32_t len)
{
	struct wire_pkt *w, **pp = &h_inflight;

	h_wire_sent++;
	if (h_loss_pct && wire_random() % 100 < h_loss_pct) {
		h_wire_lost++;
		return;
	}
	w = malloc(sizeof(*w) + len);
	w->src = src;
	w->dst = dst;
	w->len = len;
	memcpy(w->bytes, p, len);
	w->due_us = h_now_us + h_delay_ms * 1000ull +
		    (h_jitter_ms ? wire_random() % (h_jitter_ms * 1000) : 0);
	while (*pp && (*pp)->due_us <= w->due_us)
		pp = &(*pp)->next;
	w->next = *pp;
	*pp = w;
}

int ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto,
	      bool csum_partial, uint16_t csum_offset);
static bool h_hold;

/*
 * The device's half of TCP segmentation offload (virtio's GSO_TCPV4, as
 * Linux's tcp_gso_segment does it): the header netbuf and its slices cut
 * into segments of gso_size payload bytes, each with the first's header,
 * its own sequence number and length, FIN and PSH only on the last; each
 * then goes through ip_output like any other segment.  Without gso_size,
 * one segment in pieces (NETDEV_F_SG): gathered into one.
 */
static int
gso_output(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	static uint8_t all[65536 + 128];
	uint32_t hl = nb->len, total = hl, doff = (uint32_t)(nb->data[12] >> 4) * 4;
	uint32_t gso = nb->gso_size;

	for (unsigned i = 0; i < nb->nslices; i++)
		total += nb->slices[i].len;
	if (!gso) {
		h_sg_frames++;
		if (!(h_sg || h_tso) || hl != doff || nb->nslices < 1 || nb->nslices > NB_SLICES_MAX ||
		    total + IP_HLEN > h_mtu)
			h_gso_bad++;
		gso = total;
	} else {
		h_gso_frames++;
		if (!h_tso || hl != doff || nb->nslices < 2 || nb->nslices > NB_SLICES_MAX ||
		    total + IP_HLEN > 65535 || gso + IP_HLEN + hl > h_mtu)
			h_gso_bad++;
	}
	memcpy(all, nb->data, hl);
	uint32_t at = hl;
	for (unsigned i = 0; i < nb->nslices && at + nb->slices[i].len <= sizeof(all); i++) {
		/* Every slice but the last is a whole segment. */
		if (i + 1 < nb->nslices && nb->slices[i].len != gso)
			h_gso_bad++;
		memcpy(all + at, nb->slices[i].data, nb->slices[i].len);
		at += nb->slices[i].len;
	}
	/* The checksum field holds the pseudo-header sum of the whole. */
	uint16_t want = (uint16_t)~net_csum_fold(net_csum_pseudo(src, dst, 6, (uint16_t)total));
	if (memcmp(all + 16, &want, 2))
		h_gso_bad++;
	uint32_t seq = tcp_get32(all + 4), segs = 0;
	uint8_t flags = all[13];
	for (uint32_t off = hl; off < at; off += gso, segs++) {
		uint32_t len = at - off < gso ? at - off : gso;
		struct netbuf *p = netbuf_alloc(64);
		uint8_t *th = netbuf_put_tail(p, hl + len);
		memcpy(th, all, hl);
		memcpy(th + hl, all + off, len);
		tcp_put32(th + 4, seq + (off - hl));
		th[13] = off + len < at ? (uint8_t)(flags & ~(TH_FIN | TH_PSH)) : flags;
		uint16_t sum = (uint16_t)~net_csum_fold(net_csum_pseudo(src, dst, 6, (uint16_t)(hl + len)));
		memcpy(th + 16, &sum, 2);
		bool hold = h_hold;
		h_hold = false;
		ip_output(p, src, dst, IPPROTO_TCP_, true, 16);
		h_hold = hold;
	}
	if (nb->gso_size && segs > h_gso_max_segs)
		h_gso_max_segs = segs;
	return 0;
}

int
ip_output(struct netbuf *nb, uint32_t src, uint32_t dst, uint8_t proto,
	  bool csum_partial, uint16_t csum_offset)
{
	uint16_t c;

	h_ip_calls++;
	if (nb->gso_size || nb->nslices) {
		int r = gso_output(nb, src, dst);
		if (h_hold && h_nheld < 256)
			h_held[h_nheld++] = nb;	/* holds the slices' references too */
		else
			netbuf_put(nb);
		return r;
	}
	if (proto != IPPROTO_TCP_ || !csum_partial || csum_offset != 16 || nb->len < TCP_HLEN) {
		fprintf(stderr, "ip_output: bad call\n");
		abort();
	}
	/* IPv4 refuses what TCP sends with DF over the path's MTU (ip.c). */
	if (nb->len + IP_HLEN > h_mtu) {
		h_oversize++;
		netbuf_put(nb);
		return -EMSGSIZE;
	}
	/* The device: checksum from the TCP header on, over the pseudo-sum. */
	c = net_csum_fold(net_csum_add(0, nb->data, nb->len));
	memcpy(nb->data + 16, &c, 2);
	if (h_out && h_nout < MAX_OUT) {
		struct seg *g = &h_out[h_nout++];

		memset(g, 0, offsetof(struct seg, data));
		g->src = src;
		g->dst = dst;
		g->csum_ok = net_csum_fold(net_csum_add(net_csum_pseudo(src, dst, 6, (uint16_t)nb->len),
							nb->data, nb->len)) == 0;
		seg_parse(g, nb->data, nb->len);
	}
	if (h_wire)
		wire_put(src, dst, nb->data, nb->len);
	if (h_sync) {
		/* Loopback delivered on the spot: TCP re-entered from its own output. */
		struct netbuf *copy = netbuf_alloc(64);

		memcpy(netbuf_put_tail(copy, nb->len), nb->data, nb->len);
		tcp_input(copy, src, dst);
	}
	if (h_hold && h_nheld < 256) {
		h_held[h_nheld++] = nb;
		return 0;
	}
	/* IP and the driver move data/len of what they were given. */
	netbuf_push(nb, IP_HLEN);
	memset(nb->data, 0xee, IP_HLEN);
	netbuf_put(nb);
	return 0;
}

static inline void
release_held(void)
{
	for (unsigned i = 0; i < h_nheld; i++)
		netbuf_put(h_held[i]);
	h_nheld = 0;
}

/*
 * Receive offload (h_gro): the device's merging of GUEST_TSO4, as
 * Linux's tcp_gro_receive does it.  Packets due within h_gro_us (a
 * device's batch) that follow w on the wire and continue its segment
 * (same addresses and header but for the sequence number, checksum
 * and, on the last, PSH and FIN; the next byte; a full segment before
 * each) go to TCP as one offloaded frame,
 * through tcp_split_offloaded like a NIC's: the first part with the
 * header, the rest in buffers of their own (h_gro_pages: how full).  False when w has no
 * follower to merge with.
 */
static bool h_gro;
static uint64_t h_gro_us = 1000;
static unsigned long h_gro_frames, h_gro_parts;
/* The parts between the first and the last of each frame, summed. */
static unsigned long h_gro_middle;
/*
 * h_gro_pages: the frame arrives in page-sized buffers filled to the
 * brim (virtio-net's merged receive buffers), so that a part holds
 * several segments' bytes and most parts begin and end mid-segment;
 * else one buffer a segment.
 */
static bool h_gro_pages;

/* Appends len bytes at p to the chain ending at *tail, in new page buffers
 * once *tail is full; the parts it made. */
static inline unsigned
gro_fill(struct netbuf **tail, const uint8_t *p, uint32_t len)
{
	unsigned made = 0;

	while (len) {
		uint32_t room = netbuf_tailroom(*tail);
		if (!room) {
			struct netbuf *c = netbuf_alloc_page(64);
			(*tail)->frag = c;
			*tail = c;
			made++;
			continue;
		}
		uint32_t k = len < room ? len : room;
		memcpy(netbuf_put_tail(*tail, k), p, k);
		p += k;
		len -= k;
	}
	return made;
}

static inline bool
gro_deliver(struct wire_pkt *w)
{
	uint32_t doff = w->len >= TCP_HLEN ? (uint32_t)(w->bytes[12] >> 4) * 4 : 0;
	uint32_t seg = w->len - doff, total = w->len, n = 1;
	struct wire_pkt *last = w;

	if (doff < TCP_HLEN || doff > w->len || !seg || w->bytes[13] != TH_ACK)
		return false;
	for (struct wire_pkt *x = w->next; x && x->due_us <= h_now_us + h_gro_us && n < 32; x = x->next) {
		const uint8_t *a = w->bytes, *b = x->bytes;
		if (x->src != w->src || x->dst != w->dst || x->len <= doff || x->len - doff > seg ||
		    total + x->len - doff > 65535 - IP_HLEN || (last->len - doff) != seg ||
		    memcmp(a, b, 4) || memcmp(a + 8, b + 8, 8) || memcmp(a + 18, b + 18, doff - 18) ||
		    (a[12] != b[12]) || ((a[13] ^ b[13]) & ~(TH_PSH | TH_FIN)) ||
		    tcp_get32(b + 4) != tcp_get32(last->bytes + 4) + last->len - doff ||
		    (last->bytes[13] & (TH_PSH | TH_FIN)))
			break;
		last = x;
		total += x->len - doff;
		n++;
	}
	if (n < 2)
		return false;
	uint32_t src = w->src, dst = w->dst;
	struct netbuf *head = h_gro_pages ? netbuf_alloc_page(64) : netbuf_alloc(64), *tail = head;
	unsigned parts = 1;
	memcpy(netbuf_put_tail(head, w->len), w->bytes, w->len);
	head->data[13] |= last->bytes[13] & (TH_PSH | TH_FIN);
	head->gso_size = (uint16_t)seg;
	head->flags = NB_CSUM_VALID;
	h_inflight = w->next;
	free(w);
	for (uint32_t i = 1; i < n; i++) {
		struct wire_pkt *x = h_inflight;
		if (h_gro_pages) {
			parts += gro_fill(&tail, x->bytes + doff, x->len - doff);
		} else {
			struct netbuf *c = netbuf_alloc(64);
			memcpy(netbuf_put_tail(c, x->len - doff), x->bytes + doff, x->len - doff);
			tail->frag = c;
			tail = c;
			parts++;
		}
		h_inflight = x->next;
		free(x);
	}
	h_gro_frames++;
	h_gro_parts += parts;
	h_gro_middle += parts > 2 ? parts - 2 : 0;
	tcp_split_offloaded(head, src, dst);
	return true;
}

/* Delivers due wire packets and fires due timers, in time order. */
static inline void
run_due(void)
{
	for (;;) {
		uint64_t tnext = h_timers ? h_timers->when_ms * 1000 : UINT64_MAX;
		struct wire_pkt *w = h_inflight;

		if (w && w->due_us <= h_now_us && w->due_us <= tnext) {
			if (h_gro && gro_deliver(w))
				continue;
			struct netbuf *nb = netbuf_alloc(64);

			h_inflight = w->next;
			if (nb) {
				memcpy(netbuf_put_tail(nb, w->len), w->bytes, w->len);
				tcp_input(nb, w->src, w->dst);
			}
			free(w);
			continue;
		}
		if (tnext <= h_now_us) {
			fire_due();
			continue;
		}
		break;
	}
}

/* Moves the clock forward by us microseconds, firing what falls due. */
static inline void
advance_us(uint64_t us)
{
	uint64_t end = h_now_us + us;

	for (;;) {
		uint64_t next = end;

		if (h_timers && h_timers->when_ms * 1000 < next)
			next = h_timers->when_ms * 1000;
		if (h_inflight && h_inflight->due_us < next)
			next = h_inflight->due_us;
		if (next > h_now_us)
			h_now_us = next;
		run_due();
		if (h_now_us >= end)
			break;
	}
}

static inline void
advance(uint64_t ms)
{
	advance_us(ms * 1000);
}

static inline void
wire_flush(void)
{
	while (h_inflight) {
		struct wire_pkt *w = h_inflight;

		h_inflight = w->next;
		free(w);
	}
}

/* --------------------------------------------------------- crafted input */

struct spec {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opt;
	int optlen;
	const void *data;
	uint32_t len;
	bool bad_csum;
	bool csum_valid;	/* set NB_CSUM_VALID instead of a checksum */
};

/* Builds the segment with a correct checksum (unless asked) and feeds it. */
static inline void
inject(const struct spec *s)
{
	struct netbuf *nb = netbuf_alloc(64);
	uint32_t hlen = TCP_HLEN + (uint32_t)((s->optlen + 3) & ~3);
	uint8_t *th = netbuf_put_tail(nb, hlen + s->len);
	uint16_t c;

	memset(th, 0, hlen);
	memcpy(th, &s->sport, 2);
	memcpy(th + 2, &s->dport, 2);
	tcp_put32(th + 4, s->seq);
	tcp_put32(th + 8, s->ack);
	th[12] = (uint8_t)(hlen / 4 << 4);
	th[13] = s->flags;
	tcp_put16(th + 14, s->wnd);
	if (s->optlen)
		memcpy(th + TCP_HLEN, s->opt, (size_t)s->optlen);
	if (s->len)
		memcpy(th + hlen, s->data, s->len);
	c = net_csum_fold(net_csum_add(net_csum_pseudo(s->src, s->dst, 6, (uint16_t)(hlen + s->len)),
				       th, hlen + s->len));
	if (s->bad_csum)
		c ^= 0x1234;
	memcpy(th + 16, &c, 2);
	if (s->csum_valid)
		nb->flags |= NB_CSUM_VALID;
	tcp_input(nb, s->src, s->dst);
}

/* Raw bytes as a segment from PEER (for malformed input). */
static inline void
inject_raw(const void *p, uint32_t len, uint32_t flags)
{
	struct netbuf *nb = netbuf_alloc(64);

	memcpy(netbuf_put_tail(nb, len), p, len);
	nb->flags = flags;
	tcp_input(nb, PEER, LOCAL);
}

/*
 * A scripted peer at PEER:pport talking to LOCAL:lport: it tracks its own
 * sequence number (snd) and what it acknowledges (ack).
 */
struct peer {
	uint16_t pport, lport;
	uint32_t snd, ack;
	uint16_t wnd;
};

static inline void
peer_send(struct peer *p, uint8_t flags, const void *data, uint32_t len)
{
	struct spec s = { .src = PEER, .dst = LOCAL, .sport = port(p->pport),
			  .dport = port(p->lport), .seq = p->snd, .ack = p->ack,
			  .flags = flags, .wnd = p->wnd, .data = data, .len = len };

	inject(&s);
	p->snd += len + !!(flags & TH_SYN) + !!(flags & TH_FIN);
}

/* Same, but with an explicit sequence number and without moving snd. */
static inline void
peer_send_at(struct peer *p, uint32_t seq, uint8_t flags, const void *data, uint32_t len)
{
	struct spec s = { .src = PEER, .dst = LOCAL, .sport = port(p->pport),
			  .dport = port(p->lport), .seq = seq, .ack = p->ack,
			  .flags = flags, .wnd = p->wnd, .data = data, .len = len };

	inject(&s);
}

static inline void
peer_send_opt(struct peer *p, uint8_t flags, const uint8_t *opt, int optlen)
{
	struct spec s = { .src = PEER, .dst = LOCAL, .sport = port(p->pport),
			  .dport = port(p->lport), .seq = p->snd, .ack = p->ack,
			  .flags = flags, .wnd = p->wnd, .opt = opt, .optlen = optlen };

	inject(&s);
	p->snd += !!(flags & TH_SYN) + !!(flags & TH_FIN);
}

/* The last recorded segment (an all-zero one if none). */
static inline struct seg *
last_out(void)
{
	static struct seg none;

	if (!h_nout) {
		memset(&none, 0, sizeof(none));
		return &none;
	}
	return &h_out[h_nout - 1];
}

static inline void
clear_out(void)
{
	h_nout = 0;
}

static inline unsigned
count_out(uint8_t mask, uint8_t want)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h_nout; i++)
		n += (h_out[i].flags & mask) == want;
	return n;
}

static inline unsigned
count_states(int state)
{
	unsigned c[12];

	tcp_count_states(c);
	return c[state];
}

static inline unsigned
count_all_states(void)
{
	unsigned c[12], n = 0;

	tcp_count_states(c);
	for (int i = 0; i < 12; i++)
		n += c[i];
	return n;
}

/* -------------------------------------------------- common scenarios */

/* MSS 1460, window scale 7, SACK permitted. */
static const uint8_t syn_opt[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 1, 1, 4, 2 };

static inline struct tcp_pcb *
make_listener(unsigned p, int backlog, struct owner *o)
{
	struct tcp_pcb *l = tcp_new(o);

	if (tcp_bind(l, 0, port(p), true) || tcp_listen(l, backlog))
		return NULL;
	return l;
}

/* A passive open through the listener on p->lport; the accepted PCB. */
static inline struct tcp_pcb *
accept_one(struct tcp_pcb *l, struct peer *p, const uint8_t *opt, int optlen, struct owner *o)
{
	struct seg *sa;
	int err;

	clear_out();
	p->ack = 0;
	if (!p->wnd)
		p->wnd = 65535;
	peer_send_opt(p, TH_SYN, opt, optlen);
	sa = last_out();
	if (!sa || sa->flags != (TH_SYN | TH_ACK))
		return NULL;
	p->ack = sa->seq + 1;
	advance(100);
	peer_send(p, TH_ACK, NULL, 0);
	return tcp_accept(l, o, &err);
}

static inline void
fill(uint8_t *b, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

/* An established passive connection for the data tests. */
static inline struct tcp_pcb *
established(struct tcp_pcb **lp, struct peer *p, struct owner *lo, struct owner *co,
	    unsigned lport, const uint8_t *opt, int optlen)
{
	*lp = make_listener(lport, 16, lo);
	p->lport = (uint16_t)lport;
	return accept_one(*lp, p, opt, optlen, co);
}

static inline void
harness_init(void)
{
	if (!h_out)
		h_out = calloc(MAX_OUT, sizeof(*h_out));
}

static inline void
harness_fini(void)
{
	wire_flush();
	release_held();
	free(h_out);
	h_out = NULL;
}

#endif
