/*
 * Sockets as the system-call layer (lib/sys/sys_net.c) sees them: an
 * AF_INET stream (TCP) or datagram (UDP) socket is an open file whose
 * anonymous vnode (S_IFSOCK) holds a struct socket; read/write/close/
 * dup/fcntl/poll go through the file layer, the socket calls through
 * the functions below.  They answer negative errno values, Linux's.
 * Addresses and ports are in network byte order.  socket.c does the
 * data path and the blocking, sockopt.c the options.
 */
#ifndef TORO_NET_SOCKET_H
#define TORO_NET_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lib/fs/poll.h"
#include "lib/fs/vfs.h"

struct tcp_pcb;
struct udp_pcb;

struct socket {
	struct vnode vn;
	int type;			/* SOCK_STREAM or SOCK_DGRAM */
	struct tcp_pcb *tcp;		/* the one its type uses */
	struct udp_pcb *udp;
	struct file *file;		/* its open file (not referenced: it holds us) */
	/*
	 * Blocking calls sleep on seq (sock_wakeup() bumps it under
	 * net_lock); waiters says whether a wake-up must call futex_wake.
	 */
	uint32_t seq;
	uint32_t waiters;
	struct pollq pollq;		/* poll/select/epoll hooks */
	uint64_t rcvtimeo_ns, sndtimeo_ns;	/* SO_RCVTIMEO/SO_SNDTIMEO; 0: none */
	int sndbuf, rcvbuf;		/* UDP's SO_SNDBUF (kept only), SO_RCVBUF */
	int linger;			/* SO_LINGER seconds, -1 off */
	bool reuse;			/* SO_REUSEADDR/SO_REUSEPORT */
	bool broadcast;			/* SO_BROADCAST */
	bool keepalive;			/* SO_KEEPALIVE, as set */
	bool nodelay;			/* TCP_NODELAY, as set */
	bool listening;
	bool connecting;		/* TCP: a connect() not yet reported */
	bool udp_connected;
	bool shut_rd, shut_wr;		/* UDP's shutdown() */
};

/* A new socket as an open file (one reference), or a negative errno. */
int sock_create(int domain, int type, int protocol, struct file **out);
/* The socket behind f, or NULL (ENOTSOCK) if it is something else. */
struct socket *sock_of(struct file *f);
/*
 * exit_group's last act with sockets linked: closes every descriptor and
 * waits up to wait_ms for the peers to acknowledge the data and FINs
 * (sock_exit.c).
 */
void sock_exit_drain(unsigned wait_ms);
/* The file's non-blocking flag as it stands now (fcntl may change it). */
bool sock_nonblock(const struct socket *s);

int sock_bind(struct socket *s, uint32_t addr, uint16_t port);
int sock_listen(struct socket *s, int backlog);
/* A connection as a new open file (flags SOCK_NONBLOCK), with its peer. */
int sock_accept(struct socket *s, int flags, struct file **out,
		uint32_t *addr, uint16_t *port);
/* unspec: AF_UNSPEC, which dissolves a UDP association. */
int sock_connect(struct socket *s, uint32_t addr, uint16_t port, bool unspec);
int sock_shutdown(struct socket *s, int how);
/* getsockname (peer false) and getpeername (peer true). */
int sock_name(struct socket *s, bool peer, uint32_t *addr, uint16_t *port);

/*
 * Where a datagram goes (sendto/sendmsg msg_name), or NULL for the
 * connected peer.
 */
struct sock_dest {
	uint32_t addr;
	uint16_t port;
};

/*
 * Sends the bytes of iov[0..cnt) (checked user memory) with MSG_* flags;
 * the count, or an error if nothing was sent.
 */
ssize_t sock_sendv(struct socket *s, const struct iovec *iov, int cnt,
		   int flags, const struct sock_dest *to);
/*
 * Receives into iov[0..cnt); the count (for MSG_TRUNC on UDP, the
 * datagram's length), 0 at end of stream.  from (may be NULL) gets the
 * source; *msg_flags gets MSG_TRUNC when a datagram was cut short.
 */
ssize_t sock_recvv(struct socket *s, const struct iovec *iov, int cnt,
		   int flags, struct sock_dest *from, int *msg_flags);

/* setsockopt/getsockopt with the option in kernel memory (sockopt.c). */
int sock_setopt(struct socket *s, int level, int name, const void *val,
		socklen_t len);
/* *len: room in val on entry, the option's length on return. */
int sock_getopt(struct socket *s, int level, int name, void *val,
		socklen_t *len);

#endif
