/*
 * TCP as the socket layer sees it (RFC 9293): connections ("PCBs") that
 * socket.c creates, binds, connects, listens on, sends and receives
 * through.  Everything is non-blocking: a call that would wait answers
 * -EAGAIN and TCP calls sock_wakeup(owner, events) later; socket.c does
 * the sleeping.  All calls expect net_lock() held (net.h).
 *
 * Data moves with one copy each way: tcp_send() copies the caller's
 * bytes into netbufs (MSS-sized, headroom for the headers) that are sent
 * and kept for retransmission, or with none (tcp_send_ref: the netbufs
 * point at lent memory); tcp_recv() copies out of the received
 * netbufs queued in order.  Connections live in hash tables (no fixed
 * per-connection table); a PCB outlives its socket through FIN_WAIT/
 * TIME_WAIT and is freed by TCP itself.
 */
#ifndef TORO_NET_TCP_H
#define TORO_NET_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tcp_pcb;

/* A closed PCB owned by socket owner (passed back in sock_wakeup()). */
struct tcp_pcb *tcp_new(void *owner);
/*
 * addr/port in network order; port 0 picks an ephemeral one.
 * -EADDRINUSE unless reuse (SO_REUSEADDR) allows it, -EADDRNOTAVAIL.
 */
int tcp_bind(struct tcp_pcb *pcb, uint32_t addr, uint16_t port, bool reuse);
/* -EINVAL unless bound (binds an ephemeral port if not) and closed. */
int tcp_listen(struct tcp_pcb *pcb, int backlog);
/*
 * The next established connection from a listener's queue, or NULL
 * (-EAGAIN in *err) ; the new PCB's owner is set to owner.
 */
struct tcp_pcb *tcp_accept(struct tcp_pcb *listener, void *owner, int *err);
/*
 * Starts an active open; 0 (SYN sent: poll for POLLOUT, then
 * tcp_error() says how it went) or -errno (-EISCONN, -EALREADY,
 * -EHOSTUNREACH, -EADDRNOTAVAIL).
 */
int tcp_connect(struct tcp_pcb *pcb, uint32_t addr, uint16_t port);
/*
 * Copies up to len bytes into the send buffer; the count, or -EAGAIN
 * when it is full, -EPIPE after shutdown(WR)/close, -ENOTCONN, or the
 * connection's error (-ECONNRESET, -ETIMEDOUT).  more: MSG_MORE.
 */
ssize_t tcp_send(struct tcp_pcb *pcb, const void *buf, size_t len, bool more);
/*
 * The same without the copy where it can: buf..buf+len stays unchanged
 * while ref (not NULL) is held, and each queued segment keeps a
 * reference on it until it is acknowledged.  A partial segment already
 * queued is first filled by copying.
 */
struct kbuf;
ssize_t tcp_send_ref(struct tcp_pcb *pcb, const void *buf, size_t len, bool more,
		     struct kbuf *ref);
/*
 * Copies up to len received bytes; 0 at end of stream, -EAGAIN when
 * nothing is queued, -ENOTCONN, or the connection's error.  peek:
 * MSG_PEEK (leaves the bytes queued).
 */
ssize_t tcp_recv(struct tcp_pcb *pcb, void *buf, size_t len, bool peek);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. */
int tcp_shutdown(struct tcp_pcb *pcb, int how);
/*
 * The socket is gone: graceful close (FIN after the queued data), or RST
 * if unread data remains or SO_LINGER with 0 asked for it; listeners
 * reset their unaccepted connections.  pcb must not be used afterwards.
 */
void tcp_close(struct tcp_pcb *pcb);
/* POLLIN, POLLOUT, POLLRDHUP, POLLHUP, POLLERR as they stand now (also
 * called without net_lock, a racy read that sock_poll() makes safe). */
unsigned tcp_poll(const struct tcp_pcb *pcb);
/* tcp_poll() as of the last wake-up or call that changed it; no lock needed. */
unsigned tcp_poll_last(const struct tcp_pcb *pcb);
/* The pending error (SO_ERROR), cleared when clear. */
int tcp_error(struct tcp_pcb *pcb, bool clear);
/* Local and remote addresses/ports (network order); -ENOTCONN for peer. */
void tcp_local(const struct tcp_pcb *pcb, uint32_t *addr, uint16_t *port);
int tcp_peer(const struct tcp_pcb *pcb, uint32_t *addr, uint16_t *port);

/* Options (setsockopt/getsockopt), by name. */
enum tcp_opt {
	TCP_OPT_NODELAY,	/* TCP_NODELAY */
	TCP_OPT_KEEPALIVE,	/* SO_KEEPALIVE */
	TCP_OPT_KEEPIDLE,	/* TCP_KEEPIDLE, s */
	TCP_OPT_KEEPINTVL,	/* TCP_KEEPINTVL, s */
	TCP_OPT_KEEPCNT,	/* TCP_KEEPCNT */
	TCP_OPT_MAXSEG,		/* TCP_MAXSEG */
	TCP_OPT_SNDBUF,		/* SO_SNDBUF, bytes */
	TCP_OPT_RCVBUF,		/* SO_RCVBUF, bytes */
	TCP_OPT_LINGER,		/* SO_LINGER: -1 off, else seconds */
	TCP_OPT_STATE,		/* read-only: TCP_INFO's state (TCP_ESTABLISHED = 1, ...) */
};
int tcp_setopt(struct tcp_pcb *pcb, enum tcp_opt opt, int value);
int tcp_getopt(struct tcp_pcb *pcb, enum tcp_opt opt, int *value);

/* Connections in each state, for statistics (toro/net.h). */
void tcp_count_states(unsigned counts[12]);

#endif
