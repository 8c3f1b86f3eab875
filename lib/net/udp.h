/*
 * UDP as the socket layer sees it: endpoints bound to a local address and
 * port, optionally connected to one peer.  Like tcp.h, every call is
 * non-blocking (-EAGAIN, then sock_wakeup(owner, POLLIN) when a datagram
 * arrives) and expects net_lock() held.  Received datagrams wait on the
 * endpoint's queue as the netbufs they arrived in (bounded by its
 * receive buffer size; past it they are dropped and counted).
 */
#ifndef TORO_NET_UDP_H
#define TORO_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct udp_pcb;

struct udp_pcb *udp_new(void *owner);
/* Network order; port 0 picks an ephemeral one.  -EADDRINUSE. */
int udp_bind(struct udp_pcb *pcb, uint32_t addr, uint16_t port, bool reuse);
/* addr 0 (AF_UNSPEC) disconnects. */
int udp_connect(struct udp_pcb *pcb, uint32_t addr, uint16_t port);
/*
 * One datagram of len bytes to addr:port (0/0: the connected peer,
 * else -EDESTADDRREQ); binds an ephemeral port first if needed.  len, or
 * -EMSGSIZE (over 65507 bytes; larger than the MTU is fragmented),
 * -EHOSTUNREACH, -ENOBUFS.
 */
ssize_t udp_send(struct udp_pcb *pcb, const void *buf, size_t len,
		 uint32_t addr, uint16_t port);
/*
 * The next datagram, truncated to len (its full length is returned in
 * *full), its source in addr/port; -EAGAIN when none.  peek leaves it.
 */
ssize_t udp_recv(struct udp_pcb *pcb, void *buf, size_t len, size_t *full,
		 uint32_t *addr, uint16_t *port, bool peek);
/* POLLIN, POLLOUT, POLLERR as they stand now. */
unsigned udp_poll(const struct udp_pcb *pcb);
/*
 * The pending error (SO_ERROR): an ICMP port unreachable answering a
 * connected endpoint's datagram is -ECONNREFUSED, as on Linux; cleared
 * when clear.  udp_send() and udp_recv() also return it once.
 */
int udp_error(struct udp_pcb *pcb, bool clear);
void udp_local(const struct udp_pcb *pcb, uint32_t *addr, uint16_t *port);
int udp_peer(const struct udp_pcb *pcb, uint32_t *addr, uint16_t *port);
int udp_set_rcvbuf(struct udp_pcb *pcb, int bytes);
void udp_close(struct udp_pcb *pcb);

#endif
