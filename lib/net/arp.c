/*
 * ARP (RFC 826) for IPv4 over Ethernet: a bounded cache from next-hop
 * address to MAC, asking for unknown ones while a few packets wait.
 *
 * The cache is a fixed table of ARP_MAX entries hashed by address, so
 * no flood can make it grow.  Entries are made only for addresses we
 * send to and for hosts that ask for our address (at a limited rate);
 * other ARP traffic only refreshes entries we already have.  When the
 * table is full the stalest resolved entry gives way; entries still
 * being resolved never do (then the new request fails, counted in
 * arp_drop_storm).  A resolved entry lives ARP_VALID_MS after its last
 * confirmation; one still in use is refreshed a little before with a
 * new request.  An unanswered address is asked ARP_TRIES times a second
 * apart, then fails: its queued packets are dropped and TCP/UDP told
 * (EHOSTUNREACH), and for ARP_FAILED_MS packets to it fail at once.
 * Replies are rate-limited too.  Not the place for IP routing (ip.c
 * picks the next hop) or for Ethernet framing (eth.c).
 */
#include <errno.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/kernel/printk.h"
#include "lib/net/inet.h"

#define ARP_MAX			256
#define ARP_BUCKETS		64
#define ARP_QUEUE_MAX		4	/* packets waiting per entry */
#define ARP_QUEUED_MAX		64	/* ... and in all */
#define ARP_TRIES		3
#define ARP_RETRY_MS		1000
#define ARP_VALID_MS		60000
#define ARP_REFRESH_MS		55000	/* in use and older: ask again */
#define ARP_FAILED_MS		3000

#define ARP_LEN			28
#define ARP_OP_REQUEST		1
#define ARP_OP_REPLY		2

enum arp_state { ARP_FREE, ARP_INCOMPLETE, ARP_REACHABLE, ARP_FAILED };

struct arp_entry {
	struct arp_entry *hnext;
	struct netif *nif;
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;			/* enum arp_state */
	uint8_t tries;
	uint64_t confirmed_ms;		/* REACHABLE: the last reply */
	uint64_t deadline_ms;		/* INCOMPLETE: next try; FAILED: removal */
	uint64_t asked_ms;		/* REACHABLE: the last refresh request */
	struct netbuf *q, *qtail;	/* waiting packets, data at the IP header */
	unsigned qlen;
};

static struct arp_entry table[ARP_MAX];
static struct arp_entry *buckets[ARP_BUCKETS];
static unsigned used, queued;
static struct net_timer arp_timer;
static struct net_ratelimit reply_limit = { .per_s = 200, .burst = 100 };
static struct net_ratelimit learn_limit = { .per_s = 100, .burst = 50 };
static struct net_ratelimit conflict_log = { .per_s = 1, .burst = 1 };

static struct arp_entry **
bucket_of(const struct netif *nif, uint32_t ip)
{
	uint32_t h = ip * 0x9E3779B1u ^ (uint32_t)(uintptr_t)nif;

	return &buckets[(h >> 16) % ARP_BUCKETS];
}

static struct arp_entry *
lookup(const struct netif *nif, uint32_t ip)
{
	for (struct arp_entry *e = *bucket_of(nif, ip); e; e = e->hnext)
		if (e->ip == ip && e->nif == nif)
			return e;
	return NULL;
}

static void
unhash(struct arp_entry *e)
{
	for (struct arp_entry **p = bucket_of(e->nif, e->ip); *p; p = &(*p)->hnext) {
		if (*p == e) {
			*p = e->hnext;
			break;
		}
	}
}

/* Detaches e's queue (the caller sends or drops it). */
static struct netbuf *
take_queue(struct arp_entry *e)
{
	struct netbuf *q = e->q;

	queued -= e->qlen;
	e->q = e->qtail = NULL;
	e->qlen = 0;
	return q;
}

static void
remove_entry(struct arp_entry *e)
{
	netbuf_put_list(take_queue(e));
	unhash(e);
	e->state = ARP_FREE;
	used--;
}

/* A free entry, or the stalest resolved/failed one; NULL when all are pending. */
static struct arp_entry *
alloc_entry(struct netif *nif, uint32_t ip)
{
	struct arp_entry *victim = NULL;

	for (unsigned i = 0; i < ARP_MAX; i++) {
		struct arp_entry *e = &table[i];
		if (e->state == ARP_FREE) {
			victim = e;
			break;
		}
		if (e->state != ARP_INCOMPLETE &&
		    (!victim || e->confirmed_ms < victim->confirmed_ms))
			victim = e;
	}
	if (!victim)
		return NULL;
	if (victim->state != ARP_FREE)
		remove_entry(victim);
	memset(victim, 0, sizeof(*victim));
	victim->nif = nif;
	victim->ip = ip;
	struct arp_entry **b = bucket_of(nif, ip);
	victim->hnext = *b;
	*b = victim;
	used++;
	return victim;
}

static void arp_tick(struct net_timer *t);

static void
arm(uint64_t when)
{
	if (!net_timer_pending(&arp_timer) || when < arp_timer.when_ms)
		net_timer_set(&arp_timer, when, arp_tick);
}

/* Sends an ARP packet: op, to target tip (MAC tha) in a frame to eth_dst. */
static void
send_arp(struct netif *nif, uint16_t op, const uint8_t *tha, uint32_t tip,
	 const uint8_t *eth_dst)
{
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);
	static const uint8_t zero[6];

	if (!nb)
		return;
	/* 46 bytes: the Ethernet minimum, so no one has to pad it. */
	uint8_t *p = netbuf_put_tail(nb, 46);
	memset(p, 0, 46);
	put16(p, 1);			/* Ethernet */
	put16(p + 2, ETHERTYPE_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, op);
	memcpy(p + 8, nif->dev->mac, 6);
	put_addr(p + 14, nif->addr);
	memcpy(p + 18, tha ? tha : zero, 6);
	put_addr(p + 24, tip);
	NET_STAT(arp_tx);
	eth_output(nif, eth_dst, ETHERTYPE_ARP, nb);
}

static void
request(struct netif *nif, uint32_t ip)
{
	send_arp(nif, ARP_OP_REQUEST, NULL, ip, eth_broadcast);
}

void
arp_announce(struct netif *nif)
{
	if (nif->dev && nif->addr)
		request(nif, nif->addr);	/* sender = target: gratuitous */
}

/* Sends what waited for e (just resolved). */
static void
flush_queue(struct arp_entry *e)
{
	struct netbuf *nb = take_queue(e);

	while (nb) {
		struct netbuf *next = nb->next;
		nb->next = NULL;
		eth_output(e->nif, e->mac, ETHERTYPE_IP, nb);
		nb = next;
	}
}

/* Tells the packet's sender that its destination cannot be reached. */
static void
report_unreachable(const struct netbuf *nb)
{
	const uint8_t *ip = nb->data;
	unsigned ihl = (ip[0] & 15) * 4u;

	if (nb->len < ihl + 4 || (get16(ip + 6) & IP_OFFMASK))
		return;
	uint32_t dst = get_addr(ip + 16);
	uint16_t sport, dport;
	memcpy(&sport, ip + ihl, 2);
	memcpy(&dport, ip + ihl + 2, 2);
	if (ip[9] == IPPROTO_TCP_ && tcp_icmp_error)
		tcp_icmp_error(dst, dport, sport, -EHOSTUNREACH);
	else if (ip[9] == IPPROTO_UDP_)
		udp_icmp_error(dst, dport, sport, -EHOSTUNREACH);
}

static void
fail_entry(struct arp_entry *e, uint64_t now)
{
	struct netbuf *nb = take_queue(e);

	e->state = ARP_FAILED;
	e->deadline_ms = now + ARP_FAILED_MS;
	while (nb) {
		struct netbuf *next = nb->next;
		report_unreachable(nb);
		netbuf_put(nb);
		nb = next;
	}
}

static void
arp_tick(struct net_timer *t)
{
	uint64_t now = net_now_ms(), next = UINT64_MAX;

	for (unsigned i = 0; i < ARP_MAX; i++) {
		struct arp_entry *e = &table[i];
		switch (e->state) {
		case ARP_INCOMPLETE:
			if (now >= e->deadline_ms) {
				if (e->tries >= ARP_TRIES) {
					fail_entry(e, now);
				} else {
					e->tries++;
					e->deadline_ms = now + ARP_RETRY_MS;
					request(e->nif, e->ip);
				}
			}
			break;
		case ARP_FAILED:
			if (now >= e->deadline_ms)
				remove_entry(e);
			break;
		case ARP_REACHABLE:
			if (now >= e->confirmed_ms + ARP_VALID_MS)
				remove_entry(e);
			else
				e->deadline_ms = e->confirmed_ms + ARP_VALID_MS;
			break;
		}
		if (e->state != ARP_FREE && e->deadline_ms < next)
			next = e->deadline_ms;
	}
	if (next != UINT64_MAX)
		net_timer_set(t, next, arp_tick);
}

/* Queues nb on e (a private copy if others hold it). */
static int
enqueue(struct arp_entry *e, struct netbuf *nb)
{
	if (queued >= ARP_QUEUED_MAX) {
		NET_STAT(arp_queue_drop);
		netbuf_put(nb);
		return -ENOBUFS;
	}
	nb = nb_unshare(nb);
	if (!nb) {
		NET_STAT(arp_queue_drop);
		return -ENOBUFS;
	}
	if (e->qlen == ARP_QUEUE_MAX) {
		/* The oldest goes: the newest is likelier to matter (a retransmission). */
		struct netbuf *old = e->q;
		e->q = old->next;
		if (!e->q)
			e->qtail = NULL;
		e->qlen--;
		queued--;
		NET_STAT(arp_queue_drop);
		netbuf_put(old);
	}
	nb->next = NULL;
	if (e->qtail)
		e->qtail->next = nb;
	else
		e->q = nb;
	e->qtail = nb;
	e->qlen++;
	queued++;
	return 0;
}

static void
multicast_mac(uint32_t ip, uint8_t mac[6])
{
	const uint8_t *b = (const uint8_t *)&ip;

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5E;
	mac[3] = b[1] & 0x7F;
	mac[4] = b[2];
	mac[5] = b[3];
}

int
arp_output(struct netif *nif, uint32_t nexthop, struct netbuf *nb)
{
	uint64_t now = net_now_ms();

	if (nexthop == NET_BROADCAST ||
	    (nif->mask != 0xFFFFFFFFu && nif->addr &&
	     nexthop == (nif->addr | ~nif->mask)))
		return eth_output(nif, eth_broadcast, ETHERTYPE_IP, nb);
	if (ip_is_multicast(nexthop)) {
		uint8_t mac[6];
		multicast_mac(nexthop, mac);
		return eth_output(nif, mac, ETHERTYPE_IP, nb);
	}
	struct arp_entry *e = lookup(nif, nexthop);
	if (e && e->state == ARP_REACHABLE) {
		uint64_t age = now - e->confirmed_ms;
		if (age < ARP_VALID_MS) {
			if (age >= ARP_REFRESH_MS && now - e->asked_ms >= ARP_RETRY_MS) {
				e->asked_ms = now;
				request(nif, nexthop);
			}
			return eth_output(nif, e->mac, ETHERTYPE_IP, nb);
		}
		e->state = ARP_INCOMPLETE;	/* expired: ask again, hold the packet */
		e->tries = 0;
		e->deadline_ms = now;
	}
	if (e && e->state == ARP_FAILED) {
		netbuf_put(nb);
		return -EHOSTUNREACH;
	}
	if (!e) {
		e = alloc_entry(nif, nexthop);
		if (!e) {
			NET_STAT(arp_drop_storm);
			netbuf_put(nb);
			return -ENOBUFS;
		}
		e->state = ARP_INCOMPLETE;
		e->deadline_ms = now;
	}
	int err = enqueue(e, nb);
	if (e->tries == 0) {
		e->tries = 1;
		e->deadline_ms = now + ARP_RETRY_MS;
		request(nif, nexthop);
	}
	arm(e->deadline_ms);
	return err;
}

void
arp_input(struct netif *nif, struct netbuf *nb)
{
	const uint8_t *p = nb->data;
	uint64_t now = net_now_ms();

	NET_STAT(arp_rx);
	if (nb->len < ARP_LEN || get16(p) != 1 || get16(p + 2) != ETHERTYPE_IP ||
	    p[4] != 6 || p[5] != 4 ||
	    (get16(p + 6) != ARP_OP_REQUEST && get16(p + 6) != ARP_OP_REPLY) ||
	    (p[8] & 1)) {
		NET_STAT(arp_drop_bad);
		netbuf_put(nb);
		return;
	}
	uint16_t op = get16(p + 6);
	const uint8_t *sha = p + 8;
	uint32_t spa = get_addr(p + 14), tpa = get_addr(p + 24);

	if (!nif->addr) {	/* nothing to answer or learn for yet */
		netbuf_put(nb);
		return;
	}
	if (spa == nif->addr) {
		if (memcmp(sha, nif->dev->mac, 6) && net_ratelimit_ok(&conflict_log))
			pr_warn("%s: %02x:%02x:%02x:%02x:%02x:%02x claims our address\n",
				nif->dev->name, sha[0], sha[1], sha[2], sha[3], sha[4], sha[5]);
		NET_STAT(arp_drop_bad);
		netbuf_put(nb);
		return;
	}
	struct arp_entry *e = spa ? lookup(nif, spa) : NULL;
	bool for_us = tpa == nif->addr;
	if (!e && for_us && op == ARP_OP_REQUEST && spa && !ip_is_multicast(spa) &&
	    spa != NET_BROADCAST) {
		/* They will talk to us: learn them, unless it is a storm. */
		if (net_ratelimit_ok(&learn_limit))
			e = alloc_entry(nif, spa);
		if (!e)
			NET_STAT(arp_drop_storm);
	}
	if (e) {
		memcpy(e->mac, sha, 6);
		e->state = ARP_REACHABLE;
		e->confirmed_ms = now;
		e->tries = 0;
		flush_queue(e);
		arm(now + ARP_VALID_MS);
	}
	if (for_us && op == ARP_OP_REQUEST) {
		if (net_ratelimit_ok(&reply_limit))
			send_arp(nif, ARP_OP_REPLY, sha, spa, sha);
		else
			NET_STAT(arp_drop_storm);
	}
	netbuf_put(nb);
}

void
arp_flush(struct netif *nif)
{
	for (unsigned i = 0; i < ARP_MAX; i++)
		if (table[i].state != ARP_FREE && table[i].nif == nif)
			remove_entry(&table[i]);
}

unsigned
arp_count(void)
{
	return used;
}
