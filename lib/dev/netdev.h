/*
 * The network-device class: what a NIC driver offers and what the network
 * stack (lib/net) uses.  A driver fills a struct netdev and registers it;
 * the registry names devices "eth0", "eth1", ... in probe order.  The
 * stack never names a driver, and a driver never sees a socket.
 *
 * Receive is interrupt-driven with polling under load (the NAPI shape):
 * the driver's interrupt handler disables further receive interrupts and
 * calls nd->notify(nd), which the stack set: it wakes the stack's thread
 * on the core the device is dedicated to (nd->cpu).  That thread calls
 * ops->poll(nd, budget), which hands each received frame to
 * nd->input(nd, nb) and refills the receive ring; when poll() finds fewer
 * frames than its budget, the thread calls ops->irq_enable(nd), which
 * re-enables the interrupt and answers true if frames arrived meanwhile
 * (then the thread polls again instead of sleeping).
 *
 * Transmit is from any core: ops->xmit() takes the netbuf (data at the
 * Ethernet header) and its reference, whatever it returns; the driver
 * drops the reference once the device has read the frame.  A full ring
 * is -ENOBUFS (the frame is dropped and counted: TCP retransmits).  With
 * NB_CSUM_PARTIAL set the device fills the L4 checksum (only offered if
 * NETDEV_F_TX_CSUM).  Received frames carry NB_CSUM_VALID when the device
 * checked them (NETDEV_F_RX_CSUM).  A frame whose payload continues in
 * slices (netbuf.h) is read from all of them; with gso_size set (only
 * offered if NETDEV_F_TSO) it is one TCP/IPv4 segment of up to 64 KiB
 * that the device cuts into segments of gso_size payload bytes, as
 * Linux's GSO does: the IPv4 and TCP headers are the first segment's,
 * with the total length and the pseudo-header sum over all of it.
 *
 * The stack transmits with net_lock held.  A driver whose notification
 * of the device is slow (virtio: a VM exit) may leave it out of xmit and
 * do it in ops->flush(), which the stack calls for each device it sent
 * through once it has dropped net_lock (eth_flush()), so that other cores
 * do not wait on the lock through the exit.
 *
 * Everything here runs with interrupts off (kernel code).  xmit must not
 * sleep; poll runs only on nd->cpu, in the stack's thread.
 */
#ifndef TORO_DEV_NETDEV_H
#define TORO_DEV_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/net/netbuf.h"

#define NETDEV_NAME_MAX		8
#define NETDEV_MAX		8

/* features */
#define NETDEV_F_TX_CSUM	1	/* honours NB_CSUM_PARTIAL */
#define NETDEV_F_RX_CSUM	2	/* may set NB_CSUM_VALID */
#define NETDEV_F_TSO		4	/* honours gso_size on TCP/IPv4 frames (with TX_CSUM) */
#define NETDEV_F_SG		8	/* takes a header netbuf with slices (netbuf.h) */

struct netdev;

struct netdev_ops {
	int (*xmit)(struct netdev *nd, struct netbuf *nb);
	/* At most budget frames to nd->input(); returns how many. */
	int (*poll)(struct netdev *nd, int budget);
	/* Re-arms the receive interrupt; true when more frames are waiting. */
	bool (*irq_enable)(struct netdev *nd);
	/*
	 * Turns the receive interrupt off for a core that checks the device
	 * instead (sched_idle_watch): frames are waiting while *idx and *seen
	 * differ.  On nd->cpu, memory only.  NULL: the interrupt alone.
	 */
	void (*irq_poll)(struct netdev *nd, const volatile uint16_t **idx,
			 const volatile uint16_t **seen);
	/* Routes the device's interrupts to core cpu (re-dedication); may be NULL. */
	int (*set_cpu)(struct netdev *nd, unsigned cpu);
	/* Tells the device about frames xmit() queued; NULL: xmit() does. */
	void (*flush)(struct netdev *nd);
};

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	uint64_t tx_kicks_forced;	/* the driver's transmit watchdog */
};

struct netdev {
	const struct netdev_ops *ops;
	void *priv;			/* the driver's */
	char name[NETDEV_NAME_MAX];	/* set by netdev_register() */
	uint8_t mac[6];
	uint16_t mtu;			/* IP MTU: 1500 for Ethernet */
	unsigned features;		/* NETDEV_F_* */
	unsigned cpu;			/* the core its queues are dedicated to (may
					 * change: set_cpu, then the stack's thread follows) */
	const char *driver;		/* "virtio-net (modern PCI)", for logs */
	/*
	 * Set by the stack (net_init, after the probe); until then the
	 * driver leaves received frames in its ring.  The stack then calls
	 * ops->irq_enable() once to start receiving.
	 */
	void (*notify)(struct netdev *nd);
	void (*input)(struct netdev *nd, struct netbuf *nb);
	void *stack;			/* the stack's interface for it */
	int flush_pending;		/* atomic: sent through since the last flush */
	struct netdev_stats stats;	/* the driver counts; anyone reads */
};

/* Names nd ("eth0", ...) and adds it; -ENOSPC past NETDEV_MAX. */
int netdev_register(struct netdev *nd);
struct netdev *netdev_find(const char *name);
struct netdev *netdev_get(unsigned i);
unsigned netdev_count(void);

#endif
