/*
 * The socket system calls: socket, socketpair, bind, listen, accept,
 * accept4, connect, sendto, recvfrom, sendmsg, recvmsg, shutdown,
 * setsockopt, getsockopt, getsockname and getpeername (musl's send and
 * recv are sendto and recvfrom).  Thin adapters: they check the
 * application's pointers and lengths the way Linux does (EFAULT, EINVAL,
 * EAFNOSUPPORT), turn sockaddr_in into address and port, and hand the
 * work to lib/net/socket.c.  Only AF_INET exists; socketpair answers
 * EOPNOTSUPP for it (as Linux does) and EAFNOSUPPORT for AF_UNIX.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "lib/fs/vfs.h"
#include "lib/mm/kheap.h"
#include "lib/net/socket.h"
#include "lib/sys/syscall.h"

#define SOCKADDR_MAX	128	/* sizeof(struct sockaddr_storage) */
#define OPTLEN_MAX	4096	/* more than any option we know */

/* The socket on fd, with a reference on its file in *f. */
static long
sock_get(long fd, struct file **f, struct socket **s)
{
	if (!(*f = fd_get((int)fd)))
		return -EBADF;
	if (!(*s = sock_of(*f))) {
		file_put(*f);
		return -ENOTSOCK;
	}
	return 0;
}

/* ------------------------------------------------------------ addresses */

enum sa_use { SA_BIND, SA_CONNECT, SA_SEND };

/*
 * An AF_INET address from the application, checked as Linux checks it
 * for bind, connect and sendto.  *unspec: AF_UNSPEC where that means
 * "dissolve the association" (connect).
 */
static long
sa_in(long uaddr, long len, enum sa_use use, struct sock_dest *d, bool *unspec)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;

	*unspec = false;
	if (len < 0 || len > SOCKADDR_MAX)
		return -EINVAL;
	if (!user_ok(sin, (size_t)len))
		return -EFAULT;
	if (use == SA_CONNECT && len >= (long)sizeof(sa_family_t) &&
	    sin->sin_family == AF_UNSPEC) {
		*unspec = true;
		return 0;
	}
	if (len < (long)sizeof(*sin))
		return -EINVAL;
	/* bind takes AF_UNSPEC with INADDR_ANY, sendto any AF_UNSPEC. */
	if (sin->sin_family != AF_INET &&
	    !(sin->sin_family == AF_UNSPEC &&
	      (use == SA_SEND || (use == SA_BIND && sin->sin_addr.s_addr == INADDR_ANY))))
		return -EAFNOSUPPORT;
	d->addr = sin->sin_addr.s_addr;
	d->port = sin->sin_port;
	return 0;
}

/*
 * Checks an output address buffer (uaddr, *ulen) before the call that
 * fills it, so that a bad pointer is EFAULT before, say, a connection is
 * taken off the accept queue.  NULL uaddr: the caller does not want it.
 */
static long
sa_out_check(long uaddr, long ulen)
{
	if (!uaddr)
		return 0;
	if (!user_ok((void *)ulen, sizeof(socklen_t)))
		return -EFAULT;
	int len = *(int *)ulen;
	if (len < 0)
		return -EINVAL;
	size_t n = (size_t)len < sizeof(struct sockaddr_in) ? (size_t)len :
							     sizeof(struct sockaddr_in);
	return user_ok((void *)uaddr, n) ? 0 : -EFAULT;
}

/* Linux's move_addr_to_user: as much as fits, and the full length. */
static void
sa_out(long uaddr, long ulen, const struct sock_dest *d, bool none)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = d->port,
				   .sin_addr.s_addr = d->addr };
	socklen_t full = none ? 0 : sizeof(sin);

	if (!uaddr)
		return;
	size_t len = (size_t)*(int *)ulen;
	memcpy((void *)uaddr, &sin, len < full ? len : full);
	*(socklen_t *)ulen = full;
}

/* ------------------------------------------------------------ making sockets */

long
sys_socket(long domain, long type, long protocol, long a3, long a4, long a5)
{
	struct file *f;
	long r = sock_create((int)domain, (int)type, (int)protocol, &f);

	if (r)
		return r;
	r = fd_install(f, 0, type & SOCK_CLOEXEC);
	file_put(f);
	return r;
}

long
sys_socketpair(long domain, long type, long protocol, long sv, long a4, long a5)
{
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	return user_ok((void *)sv, 2 * sizeof(int)) ? -EOPNOTSUPP : -EFAULT;
}

long
sys_bind(long fd, long uaddr, long len, long a3, long a4, long a5)
{
	struct sock_dest d;
	struct socket *s;
	struct file *f;
	bool unspec;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!(r = sa_in(uaddr, len, SA_BIND, &d, &unspec)))
		r = sock_bind(s, d.addr, d.port);
	file_put(f);
	return r;
}

long
sys_listen(long fd, long backlog, long a2, long a3, long a4, long a5)
{
	struct socket *s;
	struct file *f;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	r = sock_listen(s, (int)backlog);
	file_put(f);
	return r;
}

long
sys_accept4(long fd, long uaddr, long ulen, long flags, long a4, long a5)
{
	struct sock_dest peer = { 0, 0 };
	struct file *f, *nf;
	struct socket *s;
	long r;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!(r = sa_out_check(uaddr, ulen)) &&
	    !(r = sock_accept(s, (int)flags, &nf, &peer.addr, &peer.port))) {
		r = fd_install(nf, 0, flags & SOCK_CLOEXEC);
		file_put(nf);
		if (r >= 0)
			sa_out(uaddr, ulen, &peer, false);
	}
	file_put(f);
	return r;
}

long
sys_accept(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return sys_accept4(fd, uaddr, ulen, 0, 0, 0);
}

long
sys_connect(long fd, long uaddr, long len, long a3, long a4, long a5)
{
	struct sock_dest d = { 0, 0 };
	struct socket *s;
	struct file *f;
	bool unspec;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!(r = sa_in(uaddr, len, SA_CONNECT, &d, &unspec)))
		r = sock_connect(s, d.addr, d.port, unspec);
	file_put(f);
	return r;
}

long
sys_shutdown(long fd, long how, long a2, long a3, long a4, long a5)
{
	struct socket *s;
	struct file *f;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	r = sock_shutdown(s, (int)how);
	file_put(f);
	return r;
}

static long
name_of(long fd, long uaddr, long ulen, bool peer)
{
	struct sock_dest d = { 0, 0 };
	struct socket *s;
	struct file *f;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!uaddr)
		r = -EFAULT;
	else if (!(r = sa_out_check(uaddr, ulen)) &&
		 !(r = sock_name(s, peer, &d.addr, &d.port)))
		sa_out(uaddr, ulen, &d, false);
	file_put(f);
	return r;
}

long
sys_getsockname(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return name_of(fd, uaddr, ulen, false);
}

long
sys_getpeername(long fd, long uaddr, long ulen, long a3, long a4, long a5)
{
	return name_of(fd, uaddr, ulen, true);
}

/* ------------------------------------------------------------ options */

long
sys_setsockopt(long fd, long level, long name, long val, long len, long a5)
{
	struct socket *s;
	struct file *f;
	long r;

	if ((int)len < 0)
		return -EINVAL;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	socklen_t n = (socklen_t)len > OPTLEN_MAX ? OPTLEN_MAX : (socklen_t)len;
	r = user_ok((void *)val, n) ? sock_setopt(s, (int)level, (int)name,
						  (const void *)val, n) : -EFAULT;
	file_put(f);
	return r;
}

long
sys_getsockopt(long fd, long level, long name, long val, long ulen, long a5)
{
	struct socket *s;
	struct file *f;
	long r;

	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!user_ok((void *)ulen, sizeof(socklen_t))) {
		r = -EFAULT;
	} else {
		int len = *(int *)ulen;
		socklen_t n = len > OPTLEN_MAX ? OPTLEN_MAX : (socklen_t)len;
		if (len < 0)
			r = -EINVAL;
		else if (!user_ok((void *)val, n))
			r = -EFAULT;
		else if (!(r = sock_getopt(s, (int)level, (int)name, (void *)val, &n)))
			*(socklen_t *)ulen = n;
	}
	file_put(f);
	return r;
}

/* ------------------------------------------------------------ data */

/* sendmsg/recvmsg's iovec check: Linux answers EMSGSIZE for too many. */
static long
iov_ok(const struct iovec *iov, long cnt)
{
	return cnt > IOV_MAX ? -EMSGSIZE : user_iov_total(iov, cnt);
}

long
sys_sendto(long fd, long buf, long len, long flags, long uaddr, long alen)
{
	struct iovec iov = { (void *)buf, (size_t)len };
	struct sock_dest d;
	struct socket *s;
	struct file *f;
	bool unspec;
	long r;

	if (len < 0 || len > INT_MAX)
		len = INT_MAX;		/* Linux clamps it */
	iov.iov_len = (size_t)len;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!uaddr || !(r = sa_in(uaddr, alen, SA_SEND, &d, &unspec)))
		r = sock_sendv(s, &iov, 1, (int)flags, uaddr ? &d : NULL);
	file_put(f);
	return r;
}

long
sys_recvfrom(long fd, long buf, long len, long flags, long uaddr, long ulen)
{
	struct iovec iov = { (void *)buf, 0 };
	struct sock_dest from = { 0, 0 };
	struct socket *s;
	struct file *f;
	int mflags = 0;
	long r;

	if (len < 0 || len > INT_MAX)
		len = INT_MAX;
	iov.iov_len = (size_t)len;
	if (!user_ok((void *)buf, (size_t)len))
		return -EFAULT;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	if (!(r = sa_out_check(uaddr, ulen)) &&
	    (r = sock_recvv(s, &iov, 1, (int)flags, &from, &mflags)) >= 0)
		sa_out(uaddr, ulen, &from, s->type == SOCK_STREAM);
	file_put(f);
	return r;
}

long
sys_sendmsg(long fd, long umsg, long flags, long a3, long a4, long a5)
{
	const struct msghdr *m = (const struct msghdr *)umsg;
	struct sock_dest d;
	struct socket *s;
	struct file *f;
	bool unspec;
	long r;

	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	if ((r = iov_ok(m->msg_iov, m->msg_iovlen)) < 0)
		return r;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	/* Control messages (SCM_RIGHTS and friends) have no meaning here: ignored. */
	if (!m->msg_name || !m->msg_namelen ||
	    !(r = sa_in((long)m->msg_name, m->msg_namelen, SA_SEND, &d, &unspec)))
		r = sock_sendv(s, m->msg_iov, m->msg_iovlen, (int)flags,
			       m->msg_name && m->msg_namelen ? &d : NULL);
	file_put(f);
	return r;
}

long
sys_recvmsg(long fd, long umsg, long flags, long a3, long a4, long a5)
{
	struct msghdr *m = (struct msghdr *)umsg;
	struct sock_dest from = { 0, 0 };
	struct socket *s;
	struct file *f;
	int mflags = 0;
	long r;

	if (!user_ok(m, sizeof(*m)))
		return -EFAULT;
	if ((r = iov_ok(m->msg_iov, m->msg_iovlen)) < 0)
		return r;
	if ((int)m->msg_namelen < 0)
		return -EINVAL;
	size_t nl = m->msg_namelen < sizeof(struct sockaddr_in) ? m->msg_namelen :
								 sizeof(struct sockaddr_in);
	if (m->msg_name && !user_ok(m->msg_name, nl))
		return -EFAULT;
	if ((r = sock_get(fd, &f, &s)))
		return r;
	r = sock_recvv(s, m->msg_iov, m->msg_iovlen, (int)flags, &from, &mflags);
	if (r >= 0) {
		if (m->msg_name)
			sa_out((long)m->msg_name, (long)&m->msg_namelen, &from,
			       s->type == SOCK_STREAM);
		else
			m->msg_namelen = 0;
		m->msg_controllen = 0;
		m->msg_flags = mflags;
	}
	file_put(f);
	return r;
}
