/*
 * The stack's interfaces (netif.h): one per netdev plus loopback, their
 * addresses, the stack's counters, and the ip= kernel option parsed the
 * way Linux's ipconfig reads it.  Pure: no threads, no waiting; stack.c
 * applies the configuration at boot and dhcp.c obtains one.
 */
#include <errno.h>
#include <string.h>

#include "lib/dev/netdev.h"
#include "lib/kernel/kstring.h"
#include "lib/net/inet.h"

struct net_stats net_stats;
struct netif netifs[NETDEV_MAX];
unsigned netif_count;
struct netif loopback_if = {
	.addr = NET_LOOPBACK,
	.mask = NET_ADDR(255, 0, 0, 0),
	.mtu = 1500,
};
struct ip_config net_ip_config;

struct netif *
netif_add(struct netdev *nd)
{
	if (netif_count == NETDEV_MAX)
		return NULL;
	struct netif *nif = &netifs[netif_count++];
	memset(nif, 0, sizeof(*nif));
	nif->dev = nd;
	nif->mtu = nd->mtu ? nd->mtu : 1500;
	if (nif->mtu > NETBUF_CAPACITY - NETBUF_HEADROOM)
		nif->mtu = NETBUF_CAPACITY - NETBUF_HEADROOM;	/* one netbuf a frame */
	nd->stack = nif;
	return nif;
}

struct netif *
netif_of(const struct netdev *nd)
{
	return nd ? nd->stack : NULL;
}

void
netif_set_addr(struct netif *nif, uint32_t addr, uint32_t mask, uint32_t gw,
	       const uint32_t dns[NETIF_DNS_MAX])
{
	if (nif->addr && nif->addr != addr)
		arp_flush(nif);
	nif->addr = addr;
	nif->mask = addr ? mask : 0;
	nif->gw = addr ? gw : 0;
	for (unsigned i = 0; i < NETIF_DNS_MAX; i++)
		nif->dns[i] = addr && dns ? dns[i] : 0;
	if (!addr)
		nif->lease_s = 0;
	arp_announce(nif);
}

/* ------------------------------------------------------------- ip= */

uint32_t
ip_class_mask(uint32_t a)
{
	uint8_t first = (uint8_t)a;	/* network order: the first byte */

	return first < 128 ? NET_ADDR(255, 0, 0, 0)
	       : first < 192 ? NET_ADDR(255, 255, 0, 0)
			     : NET_ADDR(255, 255, 255, 0);
}

int
ip_parse_addr(const char *s, size_t len, uint32_t *addr)
{
	uint8_t b[4];
	unsigned part = 0, v = 0, digits = 0;

	for (size_t i = 0; i <= len; i++) {
		char ch = i < len ? s[i] : '.';
		if (ch >= '0' && ch <= '9') {
			v = v * 10 + (unsigned)(ch - '0');
			if (++digits > 3 || v > 255)
				return -EINVAL;
		} else if (ch == '.' && digits && part < 4) {
			b[part++] = (uint8_t)v;
			v = digits = 0;
		} else {
			return -EINVAL;
		}
	}
	if (part != 4)
		return -EINVAL;
	*addr = NET_ADDR(b[0], b[1], b[2], b[3]);
	return 0;
}

static bool
word_is(const char *s, size_t len, const char *w)
{
	return kstrlen(w) == len && !kstrncmp(s, w, len);
}

static bool
autoconf_dhcp(const char *s, size_t len)
{
	return word_is(s, len, "dhcp") || word_is(s, len, "on") ||
	       word_is(s, len, "any") || word_is(s, len, "bootp") ||
	       word_is(s, len, "both");
}

static bool
autoconf_off(const char *s, size_t len)
{
	return word_is(s, len, "off") || word_is(s, len, "none");
}

/* An address field: empty leaves *a at 0. */
static int
addr_field(const char *s, size_t len, uint32_t *a)
{
	*a = 0;
	return len ? ip_parse_addr(s, len, a) : 0;
}

static int
text_field(const char *s, size_t len, char *out, size_t size)
{
	if (len >= size)
		return -EINVAL;
	memcpy(out, s, len);
	out[len] = 0;
	return 0;
}

int
ip_config_parse(const char *v, struct ip_config *out)
{
	struct ip_config c;
	const char *f[10];
	size_t flen[10];
	unsigned n = 0;
	uint32_t ignored;

	if (!v || !*v)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	size_t all = kstrlen(v);
	if (autoconf_off(v, all) || autoconf_dhcp(v, all)) {
		c.mode = autoconf_off(v, all) ? IPCFG_OFF : IPCFG_DHCP;
		*out = c;
		return 0;
	}
	for (const char *p = v;; p++) {
		if (n == 10)
			return -EINVAL;
		const char *colon = kstrchr(p, ':');
		f[n] = p;
		flen[n] = colon ? (size_t)(colon - p) : kstrlen(p);
		n++;
		if (!colon)
			break;
		p = colon;
	}
	for (unsigned i = n; i < 10; i++) {
		f[i] = "";
		flen[i] = 0;
	}
	if (addr_field(f[0], flen[0], &c.client) ||
	    addr_field(f[1], flen[1], &c.server) ||
	    addr_field(f[2], flen[2], &c.gw) ||
	    addr_field(f[3], flen[3], &c.mask) ||
	    text_field(f[4], flen[4], c.hostname, sizeof(c.hostname)) ||
	    text_field(f[5], flen[5], c.device, sizeof(c.device)) ||
	    addr_field(f[7], flen[7], &c.dns[0]) ||
	    addr_field(f[8], flen[8], &c.dns[1]) ||
	    addr_field(f[9], flen[9], &ignored))
		return -EINVAL;
	const char *ac = f[6];
	size_t aclen = flen[6];
	if (aclen && !autoconf_off(ac, aclen) && !autoconf_dhcp(ac, aclen))
		return -EINVAL;
	if (c.mask) {
		/* Contiguous ones, then zeros. */
		uint32_t h = net_ntohl(c.mask);
		if (~h & (~h + 1))
			return -EINVAL;
	}
	if (aclen && autoconf_dhcp(ac, aclen))
		c.mode = IPCFG_DHCP;
	else if (c.client)
		c.mode = IPCFG_STATIC;
	else if (aclen)
		c.mode = IPCFG_OFF;		/* off/none and no address */
	else
		c.mode = IPCFG_DHCP;		/* empty autoconf means "any" */
	if (c.mode == IPCFG_STATIC && !c.mask)
		c.mask = ip_class_mask(c.client);
	if (c.mode == IPCFG_STATIC &&
	    (ip_is_multicast(c.client) || c.client == NET_BROADCAST ||
	     ip_is_loopback_net(c.client)))
		return -EINVAL;
	*out = c;
	return 0;
}

int
net_ip_option(const char *v)
{
	return ip_config_parse(v, &net_ip_config);
}
