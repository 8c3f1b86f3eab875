/*
 * The DHCP client (RFC 2131, options RFC 2132): DISCOVER, OFFER,
 * REQUEST, ACK on one interface, then renewal at T1 and rebinding until
 * the lease ends (broadcast REQUESTs carrying our address), when the
 * address is given up and discovery starts again.  Every reply is
 * parsed with bounds checks and must carry our transaction id and MAC;
 * anything else is counted (dhcp_drop_bad) and ignored.  Requests are
 * repeated with exponential back-off (1, 2, 4 ... 32 s) for as long as
 * it takes: net_init() waits only a bounded time for the first lease.
 * Not supported: option overload (52: options in sname/file), static
 * routes, hostname and NTP options, DHCPINFORM/DECLINE (no ARP probe of
 * the offered address), relay agents.
 */
#include <errno.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/kernel/printk.h"
#include "lib/mm/kheap.h"
#include "lib/net/inet.h"

#define BOOTREQUEST		1
#define BOOTREPLY		2
#define DHCP_FIXED_LEN		236
#define DHCP_MIN_LEN		300	/* BOOTP's size: some servers want it */
#define DHCP_MAGIC		0x63825363

#define OPT_PAD			0
#define OPT_MASK		1
#define OPT_ROUTER		3
#define OPT_DNS			6
#define OPT_HOSTNAME		12
#define OPT_REQUESTED_IP	50
#define OPT_LEASE		51
#define OPT_MSG_TYPE		53
#define OPT_SERVER_ID		54
#define OPT_PARAMS		55
#define OPT_MAX_SIZE		57
#define OPT_T1			58
#define OPT_T2			59
#define OPT_END			255

#define RETRY_FIRST_MS		1000
#define RETRY_MAX_MS		32000
#define REQUEST_TRIES		4	/* then back to DISCOVER */

enum dhcp_state {
	DHCP_SELECTING,		/* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING,	/* REQUEST for an offer sent, waiting for ACK */
	DHCP_BOUND,
	DHCP_RENEWING,		/* past T1: REQUESTs for our lease */
};

struct dhcp_client {
	struct netif *nif;
	enum dhcp_state state;
	uint32_t xid;
	uint32_t offered, server;
	unsigned tries;
	uint64_t started_ms;		/* of this exchange (the secs field) */
	uint64_t bound_ms, lease_end_ms;
	struct dhcp_msg lease;
	struct net_timer timer;
};

/* -------------------------------------------------------------- parsing */

static int
parse_option(struct dhcp_msg *m, uint8_t code, const uint8_t *v, unsigned len)
{
	switch (code) {
	case OPT_MSG_TYPE:
		if (len != 1)
			return -EINVAL;
		m->type = v[0];
		break;
	case OPT_MASK:
	case OPT_SERVER_ID:
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2:
		if (len != 4)
			return -EINVAL;
		if (code == OPT_MASK)
			m->mask = get_addr(v);
		else if (code == OPT_SERVER_ID)
			m->server = get_addr(v);
		else if (code == OPT_LEASE)
			m->lease_s = get32(v);
		else if (code == OPT_T1)
			m->t1_s = get32(v);
		else
			m->t2_s = get32(v);
		break;
	case OPT_ROUTER:
	case OPT_DNS:
		if (!len || len % 4)
			return -EINVAL;
		if (code == OPT_ROUTER) {
			m->router = get_addr(v);
			break;
		}
		for (unsigned i = 0; i < len / 4 && m->ndns < NETIF_DNS_MAX; i++)
			m->dns[m->ndns++] = get_addr(v + 4 * i);
		break;
	}
	return 0;
}

int
dhcp_parse(const uint8_t *p, size_t len, struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < DHCP_FIXED_LEN + 4 || p[0] != BOOTREPLY || p[1] != 1 || p[2] != 6 ||
	    get32(p + DHCP_FIXED_LEN) != DHCP_MAGIC)
		return -EINVAL;
	m->xid = get32(p + 4);
	m->yiaddr = get_addr(p + 16);
	memcpy(m->chaddr, p + 28, 6);
	for (size_t i = DHCP_FIXED_LEN + 4; i < len;) {
		uint8_t code = p[i];
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (code == OPT_END)
			break;
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return -EINVAL;	/* an option running off the end */
		if (parse_option(m, code, p + i + 2, p[i + 1]))
			return -EINVAL;
		i += 2 + (size_t)p[i + 1];
	}
	return m->type ? 0 : -EINVAL;	/* plain BOOTP: not ours */
}

/* ------------------------------------------------------------- sending */

static uint8_t *
put_option(uint8_t *o, uint8_t code, const void *v, uint8_t len)
{
	o[0] = code;
	o[1] = len;
	memcpy(o + 2, v, len);
	return o + 2 + len;
}

static void
send_msg(struct dhcp_client *c, uint8_t type)
{
	struct netif *nif = c->nif;
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);
	static const uint8_t params[] = { OPT_MASK, OPT_ROUTER, OPT_DNS, OPT_LEASE,
					  OPT_SERVER_ID, OPT_T1, OPT_T2 };

	if (!nb)
		return;
	uint8_t *u = netbuf_put_tail(nb, UDP_HLEN + DHCP_MIN_LEN);
	uint8_t *p = u + UDP_HLEN;
	memset(p, 0, DHCP_MIN_LEN);
	p[0] = BOOTREQUEST;
	p[1] = 1;
	p[2] = 6;
	put32(p + 4, c->xid);
	uint64_t secs = (net_now_ms() - c->started_ms) / 1000;
	put16(p + 8, (uint16_t)(secs > 0xFFFF ? 0xFFFF : secs));
	bool renewing = c->state == DHCP_RENEWING;
	if (renewing)
		put_addr(p + 12, nif->addr);	/* ciaddr */
	else
		put16(p + 10, 0x8000);		/* broadcast the replies */
	memcpy(p + 28, nif->dev->mac, 6);
	put32(p + DHCP_FIXED_LEN, DHCP_MAGIC);
	uint8_t *o = p + DHCP_FIXED_LEN + 4;
	o = put_option(o, OPT_MSG_TYPE, &type, 1);
	uint8_t max[2] = { 1500 >> 8, 1500 & 0xFF };
	o = put_option(o, OPT_MAX_SIZE, max, 2);
	if (type == DHCPREQUEST && !renewing) {
		o = put_option(o, OPT_REQUESTED_IP, &c->offered, 4);
		o = put_option(o, OPT_SERVER_ID, &c->server, 4);
	}
	o = put_option(o, OPT_PARAMS, params, sizeof(params));
	*o = OPT_END;

	uint32_t src = renewing ? nif->addr : 0;
	uint16_t ulen = UDP_HLEN + DHCP_MIN_LEN;
	put16(u, DHCP_CLIENT_PORT);
	put16(u + 2, DHCP_SERVER_PORT);
	put16(u + 4, ulen);
	uint16_t pseudo = (uint16_t)~net_csum_fold(
		net_csum_pseudo(src, NET_BROADCAST, IPPROTO_UDP_, ulen));
	memcpy(u + 6, &pseudo, 2);
	NET_STAT(dhcp_tx);
	ip_output_if(nif, NET_BROADCAST, nb, src, NET_BROADCAST, IPPROTO_UDP_,
		     true, 6);
}

/* ------------------------------------------------------------- states */

static void dhcp_timeout(struct net_timer *t);

static uint64_t
backoff(unsigned tries)
{
	uint64_t ms = RETRY_FIRST_MS;

	while (tries-- > 1 && ms < RETRY_MAX_MS)
		ms *= 2;
	return ms;
}

/* Sends (again) what the state calls for and arms the retry. */
static void
transmit(struct dhcp_client *c)
{
	c->tries++;
	send_msg(c, c->state == DHCP_SELECTING ? DHCPDISCOVER : DHCPREQUEST);
	net_timer_set(&c->timer, net_now_ms() + backoff(c->tries), dhcp_timeout);
}

static void
discover(struct dhcp_client *c)
{
	c->state = DHCP_SELECTING;
	c->xid = net_random32();
	c->tries = 0;
	c->offered = c->server = 0;
	c->started_ms = net_now_ms();
	transmit(c);
}

static void
log_lease(const struct dhcp_client *c)
{
	const struct netif *n = c->nif;
	const uint8_t *a = (const uint8_t *)&n->addr, *g = (const uint8_t *)&n->gw;
	const uint8_t *d = (const uint8_t *)&n->dns[0];
	unsigned prefix = (unsigned)__builtin_popcount(n->mask);

	pr_info("%s: DHCP: %u.%u.%u.%u/%u, gateway %u.%u.%u.%u, DNS %u.%u.%u.%u, "
		"lease %u s\n", n->dev->name, a[0], a[1], a[2], a[3], prefix,
		g[0], g[1], g[2], g[3], d[0], d[1], d[2], d[3], n->lease_s);
}

static void
bind_lease(struct dhcp_client *c, const struct dhcp_msg *m)
{
	struct netif *nif = c->nif;
	uint64_t now = net_now_ms();
	uint32_t lease = m->lease_s ? m->lease_s : 3600;
	uint32_t t1 = m->t1_s && m->t1_s < lease ? m->t1_s : lease / 2;
	bool changed = nif->addr != m->yiaddr;
	uint32_t mask = m->mask;

	if (!mask)
		mask = ip_class_mask(m->yiaddr);
	c->lease = *m;
	c->state = DHCP_BOUND;
	c->tries = 0;
	c->bound_ms = now;
	c->lease_end_ms = lease == 0xFFFFFFFFu ? UINT64_MAX : now + (uint64_t)lease * 1000;
	nif->lease_s = lease;
	if (changed || nif->mask != mask || nif->gw != m->router) {
		uint32_t dns[NETIF_DNS_MAX] = { m->dns[0], m->dns[1] };
		netif_set_addr(nif, m->yiaddr, mask, m->router, dns);
		log_lease(c);
	}
	if (lease == 0xFFFFFFFFu)
		net_timer_cancel(&c->timer);	/* infinite: nothing to renew */
	else
		net_timer_set(&c->timer, now + (uint64_t)t1 * 1000, dhcp_timeout);
	net_config_changed();
}

static void
dhcp_timeout(struct net_timer *t)
{
	struct dhcp_client *c = (struct dhcp_client *)((char *)t -
						      offsetof(struct dhcp_client, timer));
	uint64_t now = net_now_ms();

	switch (c->state) {
	case DHCP_SELECTING:
		transmit(c);
		break;
	case DHCP_REQUESTING:
		if (c->tries >= REQUEST_TRIES)
			discover(c);
		else
			transmit(c);
		break;
	case DHCP_BOUND:
		c->state = DHCP_RENEWING;
		c->tries = 0;
		c->xid = net_random32();
		c->started_ms = now;
		/* fall through */
	case DHCP_RENEWING:
		if (now >= c->lease_end_ms) {
			pr_warn("%s: DHCP lease ended without renewal\n",
				c->nif->dev->name);
			netif_set_addr(c->nif, 0, 0, 0, NULL);
			discover(c);
			break;
		}
		c->tries++;
		send_msg(c, DHCPREQUEST);
		/* RFC 2131 4.4.5: half the remaining time, at least a minute. */
		uint64_t wait = (c->lease_end_ms - now) / 2;
		if (wait < 60000)
			wait = c->lease_end_ms - now < 60000 ? c->lease_end_ms - now : 60000;
		net_timer_set(&c->timer, now + wait, dhcp_timeout);
		break;
	}
}

int
dhcp_start(struct netif *nif)
{
	struct dhcp_client *c = nif->dhcpc;

	if (!c) {
		c = kzalloc(sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->nif = nif;
		nif->dhcpc = c;
	}
	nif->dhcp = true;
	discover(c);
	return 0;
}

void
dhcp_stop(struct netif *nif)
{
	struct dhcp_client *c = nif->dhcpc;

	if (!c)
		return;
	net_timer_cancel(&c->timer);
	nif->dhcpc = NULL;
	kfree(c);
}

bool
dhcp_done(const struct netif *nif)
{
	const struct dhcp_client *c = nif->dhcpc;

	return !c || c->state == DHCP_BOUND || c->state == DHCP_RENEWING;
}

/* A reply that parsed, is ours, and came in state c->state. */
static void
handle(struct dhcp_client *c, const struct dhcp_msg *m)
{
	switch (c->state) {
	case DHCP_SELECTING:
		if (m->type != DHCPOFFER || !m->server)
			return;
		c->offered = m->yiaddr;
		c->server = m->server;
		c->state = DHCP_REQUESTING;
		c->tries = 0;
		transmit(c);
		return;
	case DHCP_REQUESTING:
	case DHCP_RENEWING:
		if (m->type == DHCPACK &&
		    (c->state == DHCP_RENEWING || m->yiaddr == c->offered)) {
			bind_lease(c, m);
		} else if (m->type == DHCPNAK) {
			pr_warn("%s: DHCP server refused the address\n",
				c->nif->dev->name);
			if (c->state == DHCP_RENEWING)
				netif_set_addr(c->nif, 0, 0, 0, NULL);
			discover(c);
		}
		return;
	case DHCP_BOUND:
		return;
	}
}

static bool
usable_addr(uint32_t a)
{
	return a && a != NET_BROADCAST && !ip_is_multicast(a) && !ip_is_loopback_net(a);
}

bool
dhcp_input(struct netif *nif, struct netbuf *nb)
{
	struct dhcp_client *c = nif ? nif->dhcpc : NULL;
	struct dhcp_msg m;

	if (!c)
		return false;	/* an application's DHCP, maybe: the sockets' */
	NET_STAT(dhcp_rx);
	uint16_t sport = get16(nb->buf + nb->l4);
	if (nb->frag || sport != DHCP_SERVER_PORT || dhcp_parse(nb->data, nb->len, &m) ||
	    m.xid != c->xid || memcmp(m.chaddr, nif->dev->mac, 6) ||
	    (m.type != DHCPNAK && !usable_addr(m.yiaddr))) {
		NET_STAT(dhcp_drop_bad);
		netbuf_put(nb);
		return true;
	}
	handle(c, &m);
	netbuf_put(nb);
	return true;
}
