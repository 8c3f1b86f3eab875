/*
 * Berkeley sockets over the non-blocking TCP and UDP engines (tcp.h,
 * udp.h): a socket is an anonymous vnode (S_IFSOCK) whose read and write
 * are recv and send, so the file layer gives it read/write/close/dup/
 * fcntl/poll for free.  This file is the data path and the sleeping;
 * options are sockopt.c's, the system calls lib/sys/sys_net.c's.
 *
 * Blocking is the classic loop: under net_lock, ask the engine; on
 * -EAGAIN in blocking mode, note the socket's sequence word and count
 * ourselves as a waiter (still under the lock), drop the lock,
 * futex_wait on the word until the SO_RCVTIMEO/SO_SNDTIMEO deadline, and
 * retry.  sock_wakeup(), which the engines call under net_lock when a
 * socket's state changes, bumps the word, futex-wakes the waiters and
 * calls the poll/epoll hooks; since both sides hold net_lock around
 * "check" and "bump", no wake-up falls between a check and the sleep.
 * The non-blocking flag is read from the open file at each call, so
 * fcntl(F_SETFL) and FIONBIO take effect at once.
 *
 * Not here: AF_UNIX and AF_INET6 (EAFNOSUPPORT), urgent data (MSG_OOB),
 * SIGPIPE (Toro delivers no signals: EPIPE only), a close() that waits
 * for SO_LINGER (the engine gets the option; close never blocks).
 */
#include "lib/net/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/mm/kheap.h"
#include "lib/net/net.h"
#include "lib/net/tcp.h"
#include "lib/net/udp.h"
#include "lib/sched/futex.h"

#define UDP_MAX		65507	/* the largest IPv4 UDP payload */
#define BACKLOG_MAX	4096	/* Linux's net.core.somaxconn */
#define TCPI_CLOSE	7	/* TCP_CLOSE in TCP_INFO's (and TCP_OPT_STATE's) numbering */

static const struct vnode_ops sock_ops;

/* exit_group refers to sock_exit_drain() weakly: a program with sockets links it. */
__attribute__((used)) static void (*const pull_exit_drain)(unsigned) = sock_exit_drain;

struct socket *
sock_of(struct file *f)
{
	return f && f->vn->ops == &sock_ops ? f->vn->priv : NULL;
}

bool
sock_nonblock(const struct socket *s)
{
	return __atomic_load_n(&s->file->flags, __ATOMIC_RELAXED) & O_NONBLOCK;
}

static uint64_t
deadline_of(uint64_t ns)
{
	return ns ? poll_deadline_in(ns) : 0;
}

/* ------------------------------------------------------------ waking and waiting */

/* POLLIN/POLLOUT imply their RDNORM/WRNORM twins, as on Linux. */
static unsigned
with_norm(unsigned ev)
{
	if (ev & POLLIN)
		ev |= POLLRDNORM;
	if (ev & POLLOUT)
		ev |= POLLWRNORM;
	return ev;
}

void
sock_wakeup(void *owner, unsigned events)
{
	struct socket *s = owner;

	if (!s)
		return;
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST))
		futex_wake(&s->seq, INT_MAX, ~0u);
	pollq_wake(&s->pollq, with_norm(events));
}

/*
 * Sleeps until the socket's state changes or deadline passes; called and
 * returns with net_lock held.  0, or -EAGAIN when the deadline passed.
 */
static int
sock_wait(struct socket *s, uint64_t deadline)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST);

	__atomic_add_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
	net_unlock();
	int r = futex_wait(&s->seq, seq, ~0u, deadline);
	__atomic_sub_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
	net_lock_sleep();
	return r == -ETIMEDOUT ? -EAGAIN : 0;
}

/* ------------------------------------------------------------ life */

static struct socket *
sock_alloc(int type)
{
	struct socket *s = kzalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->type = type;
	s->linger = -1;
	vn_init(&s->vn, &sock_ops, &anon_mount, S_IFSOCK, s);
	return s;
}

/* Wraps s (with its PCB) in an open file; on failure the socket is closed. */
static int
sock_file(struct socket *s, bool nonblock, struct file **out)
{
	struct file *f = file_new(&s->vn, O_RDWR | (nonblock ? O_NONBLOCK : 0));

	if (!f) {
		vn_put(&s->vn);
		return -ENOMEM;
	}
	s->file = f;
	*out = f;
	return 0;
}

int
sock_create(int domain, int type, int protocol, struct file **out)
{
	int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
		return -EINVAL;
	if (kind == SOCK_STREAM) {
		if (protocol && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
	} else if (kind == SOCK_DGRAM) {
		if (protocol && protocol != IPPROTO_UDP)
			return -EPROTONOSUPPORT;
	} else {
		return kind >= SOCK_RAW && kind <= SOCK_PACKET ? -ESOCKTNOSUPPORT :
								 -EINVAL;
	}
	struct socket *s = sock_alloc(kind);
	if (!s)
		return -ENOMEM;
	net_lock();
	if (kind == SOCK_STREAM)
		s->tcp = tcp_new(s);
	else
		s->udp = udp_new(s);
	net_unlock();
	if (!s->tcp && !s->udp) {
		kfree(s);
		return -ENOMEM;
	}
	return sock_file(s, type & SOCK_NONBLOCK, out);
}

/* The last reference to its file went away: close the endpoint. */
static void
sock_release(struct vnode *vn)
{
	struct socket *s = vn->priv;

	pollq_destroy(&s->pollq);
	net_lock();
	if (s->tcp)
		tcp_close(s->tcp);
	if (s->udp)
		udp_close(s->udp);
	net_unlock();
	kfree(s);
}

/* ------------------------------------------------------------ connections */

int
sock_bind(struct socket *s, uint32_t addr, uint16_t port)
{
	int r;

	net_lock();
	if (s->tcp)
		r = tcp_bind(s->tcp, addr, port, s->reuse);
	else
		r = udp_bind(s->udp, addr, port, s->reuse);
	net_unlock();
	return r;
}

int
sock_listen(struct socket *s, int backlog)
{
	int r = 0;

	if (!s->tcp)
		return -EOPNOTSUPP;
	if ((unsigned)backlog > BACKLOG_MAX)
		backlog = BACKLOG_MAX;
	net_lock();
	if (!s->listening && !(r = tcp_listen(s->tcp, backlog)))
		s->listening = true;
	net_unlock();
	return r;
}

int
sock_accept(struct socket *s, int flags, struct file **out, uint32_t *addr,
	    uint16_t *port)
{
	struct tcp_pcb *pcb;
	int err = 0;

	if (!s->tcp)
		return -EOPNOTSUPP;
	if (!s->listening)
		return -EINVAL;
	struct socket *ns = sock_alloc(SOCK_STREAM);
	if (!ns)
		return -ENOMEM;
	/* What Linux copies from the listener to its connections. */
	ns->rcvtimeo_ns = s->rcvtimeo_ns;
	ns->sndtimeo_ns = s->sndtimeo_ns;
	ns->linger = s->linger;
	ns->keepalive = s->keepalive;
	ns->nodelay = s->nodelay;
	ns->reuse = s->reuse;

	bool nb = sock_nonblock(s);
	uint64_t deadline = deadline_of(s->rcvtimeo_ns);
	net_lock();
	while (!(pcb = tcp_accept(s->tcp, ns, &err)) && err == -EAGAIN && !nb)
		if ((err = sock_wait(s, deadline)))
			break;
	if (pcb) {
		ns->tcp = pcb;
		if (tcp_peer(pcb, addr, port))
			*addr = 0, *port = 0;
		/* Whatever TCP carried over itself, the options match ours. */
		if (ns->nodelay)
			tcp_setopt(pcb, TCP_OPT_NODELAY, 1);
		if (ns->keepalive)
			tcp_setopt(pcb, TCP_OPT_KEEPALIVE, 1);
		if (ns->linger >= 0)
			tcp_setopt(pcb, TCP_OPT_LINGER, ns->linger);
	}
	net_unlock();
	if (!pcb) {
		kfree(ns);
		return err ? err : -EAGAIN;
	}
	return sock_file(ns, flags & SOCK_NONBLOCK, out);
}

/* How a connect() in progress ended (net_lock held); -EINPROGRESS: not yet. */
static int
connect_result(struct socket *s)
{
	unsigned ev = tcp_poll(s->tcp);

	if (!(ev & (POLLOUT | POLLERR | POLLHUP)))
		return -EINPROGRESS;
	s->connecting = false;
	int err = tcp_error(s->tcp, true), state = 0;
	if (err)
		return err;
	/* Closed with the error already taken (SO_ERROR): Linux's answer. */
	tcp_getopt(s->tcp, TCP_OPT_STATE, &state);
	return state == TCPI_CLOSE ? -ECONNABORTED : 0;
}

static int
tcp_connect_wait(struct socket *s, uint32_t addr, uint16_t port)
{
	bool nb = sock_nonblock(s), again = s->connecting;
	uint64_t deadline = deadline_of(s->sndtimeo_ns);
	int r;

	if (s->listening)
		return -EISCONN;
	if (!s->connecting) {
		if ((r = tcp_connect(s->tcp, addr, port)))
			return r;
		s->connecting = true;
	}
	while ((r = connect_result(s)) == -EINPROGRESS) {
		if (nb)
			return again ? -EALREADY : -EINPROGRESS;
		if (sock_wait(s, deadline))
			return -EINPROGRESS;	/* SO_SNDTIMEO ran out, as on Linux */
	}
	return r;
}

int
sock_connect(struct socket *s, uint32_t addr, uint16_t port, bool unspec)
{
	int r;

	if (s->tcp && unspec)
		return -EAFNOSUPPORT;
	net_lock();
	if (s->tcp) {
		r = tcp_connect_wait(s, addr, port);
	} else {
		r = udp_connect(s->udp, unspec ? 0 : addr, unspec ? 0 : port);
		if (!r)
			s->udp_connected = !unspec;
	}
	net_unlock();
	return r;
}

int
sock_shutdown(struct socket *s, int how)
{
	int r = 0;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	net_lock();
	if (s->tcp) {
		r = tcp_shutdown(s->tcp, how);
	} else if (!s->udp_connected) {
		r = -ENOTCONN;
	} else {
		s->shut_rd |= how != SHUT_WR;
		s->shut_wr |= how != SHUT_RD;
	}
	/* Sleepers in recv/send must see it whatever the engine tells them. */
	if (!r)
		sock_wakeup(s, 0);
	net_unlock();
	return r;
}

int
sock_name(struct socket *s, bool peer, uint32_t *addr, uint16_t *port)
{
	int r = 0;

	net_lock();
	if (s->tcp && peer)
		r = tcp_peer(s->tcp, addr, port);
	else if (s->tcp)
		tcp_local(s->tcp, addr, port);
	else if (peer)
		r = udp_peer(s->udp, addr, port);
	else
		udp_local(s->udp, addr, port);
	net_unlock();
	return r;
}

/* ------------------------------------------------------------ data */

static size_t
iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/*
 * Stream send: everything unless non-blocking, a timeout or an error;
 * with ref, the bytes are lent, not copied (tcp_send_ref).
 */
static ssize_t
tcp_sendv(struct socket *s, const struct iovec *iov, int cnt, int flags, bool nb,
	  struct kbuf *ref)
{
	uint64_t deadline = deadline_of(s->sndtimeo_ns);
	size_t total = iov_total(iov, cnt), sent = 0, off = 0;
	ssize_t r = 0;
	int i = 0;

	net_lock_sleep();
	while (i < cnt) {
		if (off == iov[i].iov_len) {
			i++, off = 0;
			continue;
		}
		size_t n = iov[i].iov_len - off;
		bool more = (flags & MSG_MORE) || sent + n < total;
		r = tcp_send_ref(s->tcp, (const char *)iov[i].iov_base + off, n, more, ref);
		if (r > 0) {
			sent += (size_t)r, off += (size_t)r;
			continue;
		}
		if (r == 0)
			r = -EAGAIN;
		if (r != -EAGAIN || nb || (r = sock_wait(s, deadline)))
			break;
	}
	net_unlock();
	return sent ? (ssize_t)sent : r;
}

/* A datagram, gathered first if it comes in pieces. */
static ssize_t
udp_sendv(struct socket *s, const struct iovec *iov, int cnt,
	  const struct sock_dest *to)
{
	size_t total = iov_total(iov, cnt);
	const void *buf = cnt ? iov[0].iov_base : NULL;
	char *gather = NULL;
	ssize_t r;

	if (total > UDP_MAX)
		return -EMSGSIZE;
	if (s->shut_wr)
		return -EPIPE;
	if (to && to->addr == INADDR_BROADCAST && !s->broadcast)
		return -EACCES;
	if (cnt > 1) {
		if (!(gather = kmalloc(total + 1)))
			return -ENOMEM;
		for (size_t i = 0, at = 0; i < (size_t)cnt; at += iov[i++].iov_len)
			memcpy(gather + at, iov[i].iov_base, iov[i].iov_len);
		buf = gather;
	}
	net_lock();
	r = udp_send(s->udp, buf, total, to ? to->addr : 0, to ? to->port : 0);
	net_unlock();
	kfree(gather);
	return r;
}

ssize_t
sock_sendv(struct socket *s, const struct iovec *iov, int cnt, int flags,
	   const struct sock_dest *to)
{
	bool nb = (flags & MSG_DONTWAIT) || sock_nonblock(s);

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (s->tcp)
		return s->listening ? -ENOTCONN : tcp_sendv(s, iov, cnt, flags, nb, NULL);
	return udp_sendv(s, iov, cnt, to);
}

/* The vnode's send_ref (sendfile): lent bytes go on a stream unchanged. */
static ssize_t
sock_send_ref(struct vnode *vn, const void *buf, size_t len, bool more,
	      struct kbuf *ref)
{
	struct socket *s = vn->priv;
	struct iovec iov = { (void *)(uintptr_t)buf, len };

	if (!s->tcp || s->listening)
		return sock_sendv(s, &iov, 1, more ? MSG_MORE : 0, NULL);
	return tcp_sendv(s, &iov, 1, more ? MSG_MORE : 0, sock_nonblock(s), ref);
}

/*
 * Stream receive: waits for the first byte (for all of them with
 * MSG_WAITALL), then takes what is queued.  MSG_PEEK looks only into the
 * first non-empty buffer (the engine peeks from the front).
 */
static ssize_t
tcp_recvv(struct socket *s, const struct iovec *iov, int cnt, int flags, bool nb)
{
	bool peek = flags & MSG_PEEK, all = (flags & MSG_WAITALL) && !peek;
	uint64_t deadline = deadline_of(s->rcvtimeo_ns);
	size_t got = 0, off = 0;
	ssize_t r = 0;
	int i = 0;

	net_lock_sleep();
	for (;;) {
		while (i < cnt) {
			if (off == iov[i].iov_len) {
				i++, off = 0;
				continue;
			}
			size_t n = iov[i].iov_len - off;
			r = tcp_recv(s->tcp, (char *)iov[i].iov_base + off, n, peek);
			if (r <= 0)
				break;
			got += (size_t)r, off += (size_t)r;
			if ((size_t)r < n || peek) {
				r = -EAGAIN;	/* drained for now */
				break;
			}
		}
		if (i == cnt || r != -EAGAIN || (got && !all) || (peek && got))
			break;
		if (nb || (r = sock_wait(s, deadline)))
			break;
	}
	net_unlock();
	return got ? (ssize_t)got : r;
}

/* Copies n bytes from buf out over the iovecs. */
static void
scatter(const struct iovec *iov, int cnt, const char *buf, size_t n)
{
	for (int i = 0; i < cnt && n; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
		memcpy(iov[i].iov_base, buf, k);
		buf += k, n -= k;
	}
}

static ssize_t
udp_recvv(struct socket *s, const struct iovec *iov, int cnt, int flags,
	  bool nb, struct sock_dest *from, int *msg_flags)
{
	uint64_t deadline = deadline_of(s->rcvtimeo_ns);
	size_t total = iov_total(iov, cnt), full = 0;
	char *buf = cnt ? iov[0].iov_base : NULL, *bounce = NULL;
	uint32_t addr = 0;
	uint16_t port = 0;
	ssize_t r;

	if (cnt > 1) {
		if (total > UDP_MAX)
			total = UDP_MAX;
		if (!(buf = bounce = kmalloc(total + 1)))
			return -ENOMEM;
	}
	net_lock();
	for (;;) {
		r = udp_recv(s->udp, buf, total, &full, &addr, &port, flags & MSG_PEEK);
		if (r != -EAGAIN)
			break;
		if (s->shut_rd) {
			r = 0;
			break;
		}
		if (nb || (r = sock_wait(s, deadline)))
			break;
	}
	net_unlock();
	if (r >= 0) {
		if (bounce)
			scatter(iov, cnt, bounce, (size_t)r);
		if (full > (size_t)r) {
			*msg_flags |= MSG_TRUNC;
			if (flags & MSG_TRUNC)
				r = (ssize_t)full;
		}
		if (from)
			from->addr = addr, from->port = port;
	}
	kfree(bounce);
	return r;
}

ssize_t
sock_recvv(struct socket *s, const struct iovec *iov, int cnt, int flags,
	   struct sock_dest *from, int *msg_flags)
{
	bool nb = (flags & MSG_DONTWAIT) || sock_nonblock(s);
	int ignored = 0;

	if (flags & MSG_OOB)
		return -EINVAL;		/* no urgent data, as Linux says then */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN;		/* the error queue is always empty */
	if (s->tcp)
		return s->listening ? -ENOTCONN : tcp_recvv(s, iov, cnt, flags, nb);
	return udp_recvv(s, iov, cnt, flags, nb, from, msg_flags ? msg_flags : &ignored);
}

/* ------------------------------------------------------------ the vnode */

static ssize_t
sock_read(struct vnode *vn, void *buf, size_t len, off_t off)
{
	struct iovec iov = { buf, len };

	return sock_recvv(vn->priv, &iov, 1, 0, NULL, NULL);
}

static ssize_t
sock_write(struct vnode *vn, const void *buf, size_t len, off_t *pos, bool append)
{
	struct iovec iov = { (void *)buf, len };

	return sock_sendv(vn->priv, &iov, 1, 0, NULL);
}

/* readv/writev: the whole vector at once (one wait, TCP segments filled). */
static ssize_t
sock_readv(struct vnode *vn, const struct iovec *iov, int cnt)
{
	return sock_recvv(vn->priv, iov, cnt, 0, NULL, NULL);
}

static ssize_t
sock_writev(struct vnode *vn, const struct iovec *iov, int cnt)
{
	return sock_sendv(vn->priv, iov, cnt, 0, NULL);
}

static unsigned
sock_poll(struct vnode *vn, struct poll_hook *h)
{
	struct socket *s = vn->priv;
	unsigned ev;

	pollq_add(&s->pollq, h);
	if (s->tcp) {
		/*
		 * First without net_lock: a worker's epoll_wait polled every
		 * ready socket under the lock that the NIC's core holds while
		 * it runs the stack, and spent most of its time waiting.  The
		 * fields tcp_poll() reads are words; a step that changes them
		 * under the lock ends in tcp_notify(), which wakes the hook
		 * added above for every bit that came on since the last
		 * wake-up (poll_last; both sides pass a locked instruction in
		 * between), so a bit read on too early is asked again.  A bit
		 * read off that poll_last has on may be a read in the middle
		 * of a step that no wake-up would correct: then under the lock.
		 */
		struct tcp_pcb *pcb = s->tcp;
		ev = tcp_poll(pcb);
		if (tcp_poll_last(pcb) & ~ev) {
			net_lock();
			ev = tcp_poll(pcb);
			net_unlock();
		}
		return with_norm(ev);
	}
	net_lock();
	{
		ev = udp_poll(s->udp);
		if (s->shut_rd)
			ev |= POLLIN | POLLRDHUP;
		if (s->shut_rd && s->shut_wr)
			ev |= POLLHUP;
	}
	net_unlock();
	return with_norm(ev);
}

/* Bytes a recv() would return now: the next datagram's, or the stream's queue. */
static int
sock_readable(struct socket *s, int *n)
{
	size_t full = 0;
	uint32_t addr;
	uint16_t port;
	int rcvbuf = 0;

	if (s->udp) {
		net_lock();
		ssize_t r = udp_recv(s->udp, NULL, 0, &full, &addr, &port, true);
		net_unlock();
		*n = r < 0 ? 0 : (int)full;
		return 0;
	}
	if (s->listening)
		return -EINVAL;
	/* tcp.h has no queue length: peek it all into a scratch buffer. */
	net_lock();
	tcp_getopt(s->tcp, TCP_OPT_RCVBUF, &rcvbuf);
	net_unlock();
	size_t cap = rcvbuf > 65536 ? (size_t)rcvbuf : 65536;
	char *buf = kmalloc(cap);
	if (!buf)
		return -ENOMEM;
	net_lock();
	ssize_t r = tcp_recv(s->tcp, buf, cap, true);
	net_unlock();
	kfree(buf);
	*n = r < 0 ? 0 : (int)r;
	return 0;
}

static int
sock_ioctl(struct vnode *vn, unsigned long req, void *arg)
{
	int n, r;

	switch (req) {
	case FIONREAD:
		if (!(r = sock_readable(vn->priv, &n)))
			*(int *)arg = n;
		return r;
	case SIOCATMARK:
		*(int *)arg = 0;	/* no urgent data */
		return 0;
	}
	return -ENOTTY;
}

static int
sock_getattr(struct vnode *vn, struct stat *st)
{
	st->st_mode = 0777;
	st->st_ino = (ino_t)(uintptr_t)vn->priv >> 4;
	st->st_blksize = 4096;
	return 0;
}

static const struct vnode_ops sock_ops = {
	.read = sock_read,
	.write = sock_write,
	.readv = sock_readv,
	.writev = sock_writev,
	.send_ref = sock_send_ref,
	.getattr = sock_getattr,
	.ioctl = sock_ioctl,
	.poll = sock_poll,
	.release = sock_release,
};
