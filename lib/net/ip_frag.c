/*
 * IPv4 fragments: reassembling received ones (RFC 791 3.2, RFC 815's
 * hole idea reduced to a sorted list) and cutting outgoing datagrams
 * larger than the MTU.
 *
 * Reassembly is bounded so that fragments cannot hold memory hostage:
 * at most FRAG_DATAGRAMS datagrams at once (a new one pushes out the
 * oldest), FRAG_PIECES fragments each, FRAG_BUFS netbufs in all, and
 * FRAG_TIMEOUT_MS to complete.  A fragment that overlaps another one
 * (RFC 5722's rule, applied to IPv4 as Linux does) or would make the
 * datagram longer than 65535 bytes discards the whole datagram; an
 * exact duplicate is only dropped itself.  A completed datagram is
 * copied into one netbuf when it fits, else the fragments themselves
 * are chained (netbuf frag) for UDP and ICMP, the only users of such
 * datagrams.  Not the place for routing or for the protocols.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lib/mm/kheap.h"
#include "lib/net/inet.h"

#define FRAG_DATAGRAMS		16
#define FRAG_PIECES		64
#define FRAG_BUFS		256
#define FRAG_TIMEOUT_MS		30000

struct reasm {
	struct reasm *next;
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	struct netbuf *pieces;		/* by offset (in ->seq), data at the payload */
	unsigned npieces;
	uint32_t have;			/* payload bytes held */
	int32_t total;			/* payload length; -1 until the last piece */
	struct net_timer timer;
};

static struct reasm *reasms;		/* newest first */
static unsigned nreasm, nbufs;

static void
unlink_reasm(struct reasm *r)
{
	for (struct reasm **p = &reasms; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	net_timer_cancel(&r->timer);
	nreasm--;
	nbufs -= r->npieces;
}

/* Drops a datagram and everything held for it. */
static void
discard(struct reasm *r, uint64_t *counter)
{
	unlink_reasm(r);
	netbuf_put_list(r->pieces);
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
	kfree(r);
}

static void
expire(struct net_timer *t)
{
	discard((struct reasm *)((char *)t - offsetof(struct reasm, timer)),
	     &net_stats.ip_frag_timeout);
}

static struct reasm *
oldest(void)
{
	struct reasm *r = reasms;

	while (r && r->next)
		r = r->next;
	return r;
}

static struct reasm *
find(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	for (struct reasm *r = reasms; r; r = r->next)
		if (r->src == src && r->dst == dst && r->id == id && r->proto == proto)
			return r;
	return NULL;
}

static struct reasm *
create(uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	if (nreasm >= FRAG_DATAGRAMS)
		discard(oldest(), &net_stats.ip_frag_limit);
	struct reasm *r = kzalloc(sizeof(*r));
	if (!r)
		return NULL;
	r->src = src;
	r->dst = dst;
	r->id = id;
	r->proto = proto;
	r->total = -1;
	r->next = reasms;
	reasms = r;
	nreasm++;
	net_timer_set(&r->timer, net_now_ms() + FRAG_TIMEOUT_MS, expire);
	return r;
}

/*
 * The finished datagram: one netbuf when it fits (the first fragment's
 * header, then all the payload), else the fragments chained.  Either
 * way the header at l3 describes the whole datagram.
 */
static struct netbuf *
assemble(struct reasm *r)
{
	struct netbuf *first = r->pieces;
	uint8_t *h = first->buf + first->l3;
	unsigned ihl = (h[0] & 15) * 4u;
	uint32_t total = (uint32_t)r->total;
	struct netbuf *whole = NULL;

	put16(h + 2, (uint16_t)(ihl + total));
	put16(h + 6, 0);
	h[10] = h[11] = 0;
	uint16_t c = net_csum_fold(net_csum_add(0, h, ihl));
	memcpy(h + 10, &c, 2);
	if (ihl + total <= NETBUF_CAPACITY - NETBUF_HEADROOM)
		whole = netbuf_alloc(NETBUF_HEADROOM);
	if (whole) {
		uint8_t *p = netbuf_put_tail(whole, ihl + total);
		memcpy(p, h, ihl);
		p += ihl;
		for (struct netbuf *nb = first; nb; nb = nb->next) {
			memcpy(p, nb->data, nb->len);
			p += nb->len;
		}
		whole->l3 = (uint16_t)netbuf_headroom(whole);
		netbuf_pull(whole, ihl);
		whole->dev = first->dev;
		whole->flags = first->flags & NB_BCAST;
		netbuf_put_list(first);
		return whole;
	}
	for (struct netbuf *nb = first; nb; nb = nb->next) {
		nb->frag = nb->next;
		nb->flags &= ~(uint32_t)NB_CSUM_VALID;
	}
	for (struct netbuf *nb = first; nb; nb = nb->frag)
		nb->next = NULL;
	return first;
}

/*
 * Files piece nb (payload off..off+len) in r: 0, or -EEXIST for an exact
 * duplicate, -EINVAL for an overlap.
 */
static int
insert(struct reasm *r, struct netbuf *nb, uint32_t off, uint32_t len)
{
	struct netbuf **p = &r->pieces;

	while (*p && (*p)->seq < off)
		p = &(*p)->next;
	struct netbuf *prev = p == &r->pieces ? NULL
			      : (struct netbuf *)((char *)p - offsetof(struct netbuf, next));
	if (*p && (*p)->seq == off && (*p)->len == len)
		return -EEXIST;
	if (prev && prev->seq + prev->len > off)
		return -EINVAL;
	if (*p && (*p)->seq < off + len)
		return -EINVAL;
	nb->seq = off;
	nb->next = *p;
	*p = nb;
	r->npieces++;
	r->have += len;
	nbufs++;
	return 0;
}

struct netbuf *
ip_frag_input(struct netif *nif, struct netbuf *nb)
{
	const uint8_t *h = nb->data;
	unsigned ihl = (h[0] & 15) * 4u;
	uint32_t len = get16(h + 2) - ihl;
	uint16_t fw = get16(h + 6);
	uint32_t off = (uint32_t)(fw & IP_OFFMASK) * 8;
	bool more = fw & IP_MF;
	uint32_t src = get_addr(h + 12), dst = get_addr(h + 16);

	(void)nif;
	NET_STAT(ip_frag_rx);
	struct reasm *r = find(src, dst, get16(h + 4), h[9]);
	if (!len || (more && (len & 7))) {
		NET_STAT(ip_frag_drop);
		netbuf_put(nb);
		return NULL;
	}
	if (ihl + off + len > IP_MAX_LEN) {	/* the ping of death */
		if (r)
			discard(r, &net_stats.ip_frag_drop);
		else
			NET_STAT(ip_frag_drop);
		netbuf_put(nb);
		return NULL;
	}
	if (!r && !(r = create(src, dst, get16(h + 4), h[9]))) {
		NET_STAT(ip_frag_drop);
		netbuf_put(nb);
		return NULL;
	}
	uint64_t *why = NULL;
	if (!more) {
		if (r->total >= 0 && (uint32_t)r->total != off + len)
			why = &net_stats.ip_frag_drop;	/* two different ends */
		r->total = (int32_t)(off + len);
		for (struct netbuf *p = r->pieces; p && !why; p = p->next)
			if (p->seq + p->len > off + len)
				why = &net_stats.ip_frag_drop;
	} else if (r->total >= 0 && off + len > (uint32_t)r->total) {
		why = &net_stats.ip_frag_drop;
	}
	if (!why && r->npieces >= FRAG_PIECES)
		why = &net_stats.ip_frag_limit;
	while (!why && nbufs >= FRAG_BUFS) {
		struct reasm *o = oldest();
		if (o == r)
			why = &net_stats.ip_frag_limit;
		else
			discard(o, &net_stats.ip_frag_limit);
	}
	if (why) {
		discard(r, why);
		netbuf_put(nb);
		return NULL;
	}
	netbuf_pull(nb, ihl);
	int err = insert(r, nb, off, len);
	if (err == -EEXIST) {
		NET_STAT(ip_frag_drop);
		netbuf_put(nb);
		return NULL;
	}
	if (err) {
		discard(r, &net_stats.ip_frag_overlap);
		netbuf_put(nb);
		return NULL;
	}
	if (r->total < 0 || r->have != (uint32_t)r->total)
		return NULL;
	/* No overlaps and every byte there: the pieces are contiguous. */
	unlink_reasm(r);
	struct netbuf *whole = assemble(r);
	kfree(r);
	NET_STAT(ip_frag_reasm);
	return whole;
}

unsigned
ip_frag_count(void)
{
	return nreasm;
}

int
ip_frag_output(struct netif *nif, uint32_t nexthop, struct netbuf *nb,
	       uint32_t src, uint32_t dst, uint8_t proto, uint16_t mtu)
{
	uint32_t total = nb_total_len(nb);
	uint32_t per = (uint32_t)(mtu - IP_HLEN);
	uint16_t id = ip_next_id();
	int err = 0;

	if (per > NETBUF_CAPACITY - NETBUF_HEADROOM)
		per = NETBUF_CAPACITY - NETBUF_HEADROOM;
	per &= ~7u;
	for (uint32_t off = 0; off < total && !err; off += per) {
		uint32_t n = total - off < per ? total - off : per;
		struct netbuf *f = netbuf_alloc(NETBUF_HEADROOM);
		if (!f) {
			err = -ENOBUFS;
			break;
		}
		nb_copy_out(nb, off, netbuf_put_tail(f, n), n);
		uint8_t *h = netbuf_push(f, IP_HLEN);
		uint16_t fw = (uint16_t)(off / 8) | (off + n < total ? IP_MF : 0);
		ip_header(h, (uint16_t)(IP_HLEN + n), id, fw, proto, src, dst);
		f->l3 = (uint16_t)netbuf_headroom(f);
		f->l4 = (uint16_t)(f->l3 + IP_HLEN);
		int e = ip_send_packet(nif, nexthop, f);
		if (e && e != -ENOBUFS)
			err = e;	/* no route: the rest would fail too */
	}
	netbuf_put(nb);
	return err;
}
