/*
 * Network interfaces as the stack keeps them: one struct netif per
 * netdev (its address, mask, gateway and DNS servers, however they were
 * obtained) and the loopback interface, which has no netdev.  Also the
 * boot-time side: the ip= kernel option (Linux's syntax) and net_init(),
 * which lib/kernel/main.c calls once the file systems are up.
 *
 * Addresses are in network byte order, as everywhere in lib/net.
 */
#ifndef TORO_NET_NETIF_H
#define TORO_NET_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/net/net.h"

struct netdev;
struct dhcp_client;

#define NETIF_HOSTNAME_MAX	64
#define NETIF_DNS_MAX		2

struct netif {
	struct netdev *dev;		/* NULL: the loopback interface */
	uint32_t addr, mask, gw;	/* addr 0: not configured (yet) */
	uint32_t dns[NETIF_DNS_MAX];
	uint16_t mtu;			/* IP MTU */
	bool dhcp;			/* configured (or being) by DHCP */
	uint32_t lease_s;		/* DHCP lease, seconds (0: static) */
	struct dhcp_client *dhcpc;	/* dhcp.c's state while it runs */
	void *worker;			/* stack.c's thread for dev */
};

/* The interfaces with a netdev, in netdev order, and the loopback one. */
extern struct netif netifs[];
extern unsigned netif_count;
extern struct netif loopback_if;

/* Makes the interface for nd (unconfigured); NULL past NETDEV_MAX. */
struct netif *netif_add(struct netdev *nd);
/* The interface of nd, or NULL. */
struct netif *netif_of(const struct netdev *nd);
/*
 * Gives nif its address (and mask, gateway, DNS servers): logs it and
 * announces it with a gratuitous ARP.  addr 0 unconfigures it.
 */
void netif_set_addr(struct netif *nif, uint32_t addr, uint32_t mask,
		    uint32_t gw, const uint32_t dns[NETIF_DNS_MAX]);

/* ------------------------------------------------------ configuration */

enum ip_config_mode {
	IPCFG_DEFAULT,		/* no ip= given: DHCP on every NIC */
	IPCFG_STATIC,		/* an address was given */
	IPCFG_DHCP,		/* ip=dhcp (or autoconf dhcp/on/any/bootp) */
	IPCFG_OFF,		/* ip=off / ip=none: no configuration at all */
};

struct ip_config {
	enum ip_config_mode mode;
	uint32_t client, server, gw, mask;
	uint32_t dns[NETIF_DNS_MAX];
	char hostname[NETIF_HOSTNAME_MAX];
	char device[16];	/* "" : the first NIC */
};

/*
 * Parses Linux's ip= value,
 * <client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>:<ntp0>,
 * any field may be empty and trailing ones left out; or "dhcp", "on",
 * "any", "bootp", "off", "none".  An address without a netmask gets its
 * class's (as Linux does).  0 or -EINVAL (out untouched).
 */
int ip_config_parse(const char *v, struct ip_config *out);
/* The netmask of a's class (A, B or C), as Linux guesses one. */
uint32_t ip_class_mask(uint32_t a);
/* A dotted quad into *addr (network order); -EINVAL on anything else. */
int ip_parse_addr(const char *s, size_t len, uint32_t *addr);

/* What ip= said (mode IPCFG_DEFAULT when it was not given). */
extern struct ip_config net_ip_config;

/* The kernel option ip= (lib/kernel/main.c's table). */
int net_ip_option(const char *v);
/*
 * Boot: attaches every netdev (its thread, receive interrupts), then
 * configures them (ip=, else DHCP) and waits a bounded time for DHCP so
 * that main() starts with an address.  With no netdev it only sets up
 * loopback: no thread, no wait.
 */
void net_init(void);

#endif
