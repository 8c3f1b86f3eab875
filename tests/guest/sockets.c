/*
 * Berkeley sockets over loopback, without a NIC (sockets.test boots it
 * with -smp 1 and 2): TCP echo between a client and a server thread on
 * different cores, blocking and non-blocking (poll, select, epoll), many
 * connections, UDP datagrams, the options, the Linux errors of bad
 * calls, eventfd, and getaddrinfo() for a numeric address and for names
 * in /etc/hosts.  Prints TAP; exits 0 only if every check passed.  With
 * the argument "hosts NAME", NAME must resolve through an /etc/hosts
 * that came in the initrd (the test makes its own otherwise).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <toro/thread.h>

#include "tap.h"

static int ncpu;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static struct sockaddr_in
loopback(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A listening TCP socket on 127.0.0.1:port (0: any), its port in *port. */
static int
listener(int *port, int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | flags, 0), one = 1;
	struct sockaddr_in a = loopback(*port);
	socklen_t len = sizeof(a);

	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		close(s);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return s;
}

static int
connect_to(int port, int flags)
{
	int s = socket(AF_INET, SOCK_STREAM | flags, 0);
	struct sockaddr_in a = loopback(port);

	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* The byte at offset i of the test stream. */
static unsigned char
pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 11) * 13 + 1);
}

/* ------------------------------------------------------------ errors */

static void
test_errors(void)
{
	struct sockaddr_in a = loopback(1);
	int s, port = 0, l;

	FAILS(socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
	FAILS(socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
	FAILS(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	FAILS(socket(AF_INET, 77, 0), EINVAL);
	int sv[2];
	FAILS(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
	FAILS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), EAFNOSUPPORT);

	s = socket(AF_INET, SOCK_STREAM, 0);
	ok(s >= 0, "socket(AF_INET, SOCK_STREAM) = %d", s);
	struct stat st;
	int r = fstat(s, &st);
	ok(r == 0 && S_ISSOCK(st.st_mode), "fstat says S_IFSOCK (mode %o)", (unsigned)st.st_mode);
	FAILS(lseek(s, 0, SEEK_SET), ESPIPE);
	FAILS(bind(s, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL);
	FAILS(bind(s, (struct sockaddr *)&a, -1), EINVAL);
	FAILS(bind(s, (struct sockaddr *)8, sizeof(a)), EFAULT);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	FAILS(bind(s, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT);
	FAILS(connect(s, (struct sockaddr *)&a, 3), EINVAL);
	FAILS(bind(0, (struct sockaddr *)&a, sizeof(a)), ENOTSOCK);
	FAILS(bind(99, (struct sockaddr *)&a, sizeof(a)), EBADF);
	char c;
	FAILS(recv(s, &c, 1, 0), ENOTCONN);
	FAILS(read(s, &c, 1), ENOTCONN);
	FAILS(accept(s, NULL, NULL), EINVAL);
	socklen_t len = sizeof(a);
	FAILS(getpeername(s, (struct sockaddr *)&a, &len), ENOTCONN);
	FAILS(recv(s, (void *)8, 1, 0), EFAULT);
	int v = 0;
	FAILS(setsockopt(s, SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	FAILS(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, 2), EINVAL);
	FAILS(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, sizeof(v)), EFAULT);
	FAILS(setsockopt(s, IPPROTO_TCP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM &&
	   len == sizeof(v), "SO_TYPE is SOCK_STREAM");
	close(s);

	/* Two binds of one port: EADDRINUSE; connect to nobody: ECONNREFUSED. */
	l = listener(&port, 0);
	ok(l >= 0 && port > 0, "listening on 127.0.0.1:%d", port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	a = loopback(port);
	FAILS(bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE);
	close(s);
	int u = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = loopback(0);
	len = sizeof(ua);
	bind(u, (struct sockaddr *)&ua, sizeof(ua));
	getsockname(u, (struct sockaddr *)&ua, &len);
	FAILS(bind(u2, (struct sockaddr *)&ua, sizeof(ua)), EADDRINUSE);
	close(u);
	close(u2);
	close(l);
	s = socket(AF_INET, SOCK_STREAM, 0);
	FAILS(connect(s, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED);
	close(s);
	/* The same, non-blocking: EINPROGRESS, then SO_ERROR says refused. */
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	struct pollfd p = { s, POLLOUT, 0 };
	int pr = poll(&p, 1, 5000);
	len = sizeof(v);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &len);
	ok((r == 0 || e == EINPROGRESS || e == ECONNREFUSED) && pr == 1 &&
	   (v == ECONNREFUSED || e == ECONNREFUSED),
	   "non-blocking connect to a closed port: SO_ERROR ECONNREFUSED (r %d errno %d, poll %d revents %x, SO_ERROR %d)",
	   r, e, pr, p.revents, v);
	FAILS(connect(s, (struct sockaddr *)&a, sizeof(a)), ECONNABORTED);
	close(s);
}

/* ------------------------------------------------------------ blocking echo */

struct echo_arg {
	int lfd;
	int conns;			/* connections to serve */
	long bytes;			/* echoed in all */
	int cpu;
};

/* Accepts conns connections one after the other and echoes each to EOF. */
static void *
echo_server(void *p)
{
	struct echo_arg *e = p;
	static char buf[16384];

	e->cpu = toro_cpu_current();
	for (int i = 0; i < e->conns; i++) {
		int c = accept(e->lfd, NULL, NULL);
		if (c < 0)
			break;
		ssize_t n;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(c, buf + off, (size_t)(n - off));
				if (w <= 0)
					goto done;
				off += w;
			}
			e->bytes += n;
		}
done:
		close(c);
	}
	return NULL;
}

/* Client side of a blocking echo: sends total bytes while a thread reads. */
struct reader_arg {
	int fd;
	size_t total, got, bad;
};

static void *
reader(void *p)
{
	struct reader_arg *r = p;
	static char buf[10000];

	while (r->got < r->total) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			r->bad += (unsigned char)buf[i] != pattern(r->got + (size_t)i);
		r->got += (size_t)n;
	}
	return NULL;
}

static void
test_blocking_echo(void)
{
	int port = 0, l = listener(&port, 0);
	struct echo_arg e = { .lfd = l, .conns = 1, .cpu = -1 };
	pthread_t st, rt;
	const size_t total = 1 << 20;

	toro_thread_spawn(&st, ncpu > 1 ? 1 : 0, echo_server, &e);
	int c = connect_to(port, 0);
	ok(c >= 0, "blocking connect to 127.0.0.1:%d (errno %d)", port, errno);
	struct sockaddr_in peer, me;
	socklen_t len = sizeof(peer), len2 = sizeof(me);
	ok(getpeername(c, (struct sockaddr *)&peer, &len) == 0 && len == sizeof(peer) &&
	   peer.sin_port == htons(port) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "getpeername is 127.0.0.1:%d", port);
	ok(getsockname(c, (struct sockaddr *)&me, &len2) == 0 && me.sin_port != 0 &&
	   me.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "getsockname: 127.0.0.1 and an ephemeral port (%d)", ntohs(me.sin_port));
	int one = 1, v = 0;
	len = sizeof(v);
	ok(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
	   getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v,
	   "TCP_NODELAY set and read back");

	struct reader_arg r = { .fd = c, .total = total };
	pthread_create(&rt, NULL, reader, &r);
	static char out[7001];
	double t0 = now_ms();
	size_t sent = 0;
	while (sent < total) {
		size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
		for (size_t i = 0; i < n; i++)
			out[i] = (char)pattern(sent + i);
		ssize_t w = send(c, out, n, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	shutdown(c, SHUT_WR);
	pthread_join(rt, NULL);
	double ms = now_ms() - t0;
	ok(sent == total && r.got == total && !r.bad,
	   "1 MiB echoed intact through a server on core %d (sent %zu, got %zu, %zu bad bytes, %.0f ms)",
	   e.cpu, sent, r.got, r.bad, ms);
	char ch;
	ok(recv(c, &ch, 1, 0) == 0, "end of stream after the server closes");
	pthread_join(st, NULL);
	ok(ncpu < 2 || e.cpu == 1, "the server ran on core 1 (%d)", e.cpu);
	close(c);
	close(l);
}

/* ------------------------------------------------------------ non-blocking */

/* Sends and reads back len bytes on a non-blocking socket, waiting with poll. */
static int
nb_roundtrip(int c, size_t len)
{
	static char buf[32768];
	size_t sent = 0, got = 0;
	int bad = 0;

	while (got < len) {
		struct pollfd p = { c, POLLIN | (sent < len ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 10000) != 1)
			return -1;
		if ((p.revents & POLLOUT) && sent < len) {
			size_t n = len - sent < 5000 ? len - sent : 5000;
			char out[5000];
			for (size_t i = 0; i < n; i++)
				out[i] = (char)pattern(sent + i);
			ssize_t w = send(c, out, n, 0);
			if (w > 0)
				sent += (size_t)w;
			else if (errno != EAGAIN)
				return -1;
		}
		if (p.revents & POLLIN) {
			ssize_t n = recv(c, buf, sizeof(buf), 0);
			if (n > 0) {
				for (ssize_t i = 0; i < n; i++)
					bad += (unsigned char)buf[i] != pattern(got + (size_t)i);
				got += (size_t)n;
			} else if (n == 0 || errno != EAGAIN) {
				return -1;
			}
		}
	}
	return bad ? -2 : 0;
}

/* Waits for events on one descriptor; 1, or 0 on a timeout or error. */
static int
wait_fd(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };

	return poll(&p, 1, 10000) == 1;
}

/* Echoes a non-blocking socket to end of stream; NULL when all went well. */
static void *
nb_echo(void *p)
{
	int s = (int)(long)p;
	char buf[8192];

	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno != EAGAIN || !wait_fd(s, POLLIN))
				return (void *)1;
			continue;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(s, buf + off, (size_t)(n - off), 0);
			if (w > 0)
				off += w;
			else if (errno != EAGAIN || !wait_fd(s, POLLOUT))
				return (void *)1;
		}
	}
	close(s);
	return NULL;
}

static void
test_nonblocking_poll(void)
{
	int port = 0, l = listener(&port, SOCK_NONBLOCK);
	pthread_t st;
	char c1;

	FAILS(accept(l, NULL, NULL), EAGAIN);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ok(fcntl(c, F_GETFL) & O_NONBLOCK, "SOCK_NONBLOCK shows in F_GETFL");
	ok(fcntl(c, F_GETFD) & FD_CLOEXEC, "SOCK_CLOEXEC shows in F_GETFD");
	struct sockaddr_in a = loopback(port);
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	ok(r == 0 || errno == EINPROGRESS, "non-blocking connect: 0 or EINPROGRESS (%d, errno %d)",
	   r, errno);
	struct pollfd p = { c, POLLOUT, 0 };
	r = poll(&p, 1, 5000);
	ok(r == 1 && (p.revents & POLLOUT), "poll: connected (revents %x)", p.revents);
	int v = -1;
	socklen_t len = sizeof(v);
	ok(getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len) == 0 && v == 0, "SO_ERROR 0");
	struct pollfd lp = { l, POLLIN, 0 };
	ok(poll(&lp, 1, 5000) == 1 && (lp.revents & POLLIN), "poll: the listener is readable");
	struct sockaddr_in from;
	len = sizeof(from);
	int s = accept4(l, (struct sockaddr *)&from, &len, SOCK_NONBLOCK);
	ok(s >= 0 && len == sizeof(from) && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "accept4(SOCK_NONBLOCK) gives the peer's address");
	ok(fcntl(s, F_GETFL) & O_NONBLOCK, "the accepted socket is non-blocking");
	FAILS(recv(s, &c1, 1, 0), EAGAIN);
	FAILS(recv(c, &c1, 1, MSG_DONTWAIT), EAGAIN);
	/* FIONBIO off, then SO_RCVTIMEO: a blocking recv that times out. */
	int off = 0;
	ok(ioctl(s, FIONBIO, &off) == 0 && !(fcntl(s, F_GETFL) & O_NONBLOCK), "FIONBIO clears O_NONBLOCK");
	struct timeval tv = { 0, 200000 };
	ok(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO 200 ms");
	double t0 = now_ms();
	r = (int)recv(s, &c1, 1, 0);
	int er = errno;
	double waited = now_ms() - t0;
	ok(r == -1 && er == EAGAIN && waited >= 150, "recv times out with EAGAIN after %.0f ms", waited);
	struct timeval tv2;
	len = sizeof(tv2);
	ok(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv2, &len) == 0 && tv2.tv_usec == 200000,
	   "SO_RCVTIMEO reads back");

	/* An echo thread on the accepted socket, poll()ing; the client too. */
	fcntl(s, F_SETFL, O_NONBLOCK);
	toro_thread_spawn(&st, ncpu > 1 ? 1 : 0, nb_echo, (void *)(long)s);
	ok(nb_roundtrip(c, 300000) == 0, "300 kB through a poll()ing echo thread, both sides non-blocking");
	shutdown(c, SHUT_WR);
	void *res;
	pthread_join(st, &res);
	ok(res == NULL, "the echo thread saw the end of stream");
	p.events = POLLIN;
	ok(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN) && recv(c, &c1, 1, 0) == 0,
	   "poll: readable at end of stream, recv 0");
	close(c);
	close(l);
}

/* ------------------------------------------------------------ select */

/* Accepts one connection with select() and echoes it with select(). */
static void *
select_echo(void *p)
{
	int l = (int)(long)p, c = -1;
	char buf[4096];
	fd_set rs;

	FD_ZERO(&rs);
	FD_SET(l, &rs);
	struct timeval tv = { 10, 0 };
	if (select(l + 1, &rs, NULL, NULL, &tv) != 1 || !FD_ISSET(l, &rs))
		return (void *)1;
	if ((c = accept(l, NULL, NULL)) < 0)
		return (void *)2;
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (;;) {
		FD_ZERO(&rs);
		FD_SET(c, &rs);
		tv = (struct timeval){ 10, 0 };
		if (select(c + 1, &rs, NULL, NULL, &tv) != 1)
			return (void *)3;
		ssize_t n = recv(c, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < 0)
			return (void *)4;
		for (ssize_t off = 0; off < n;) {
			fd_set ws;
			FD_ZERO(&ws);
			FD_SET(c, &ws);
			tv = (struct timeval){ 10, 0 };
			if (select(c + 1, NULL, &ws, NULL, &tv) != 1 || !FD_ISSET(c, &ws))
				return (void *)5;
			ssize_t w = send(c, buf + off, (size_t)(n - off), 0);
			if (w > 0)
				off += w;
			else if (errno != EAGAIN)
				return (void *)6;
		}
	}
	close(c);
	return NULL;
}

static void
test_select(void)
{
	int port = 0, l = listener(&port, 0);
	pthread_t st;
	void *res = (void *)-1;

	toro_thread_spawn(&st, ncpu > 1 ? 1 : 0, select_echo, (void *)(long)l);
	int c = connect_to(port, SOCK_NONBLOCK);
	ok(c >= 0, "non-blocking connect for the select() test");
	fd_set ws;
	FD_ZERO(&ws);
	FD_SET(c, &ws);
	struct timeval tv = { 10, 0 };
	ok(select(c + 1, NULL, &ws, NULL, &tv) == 1 && FD_ISSET(c, &ws), "select: connected");
	ok(nb_roundtrip(c, 100000) == 0, "100 kB through a select()ing echo thread");
	shutdown(c, SHUT_WR);
	pthread_join(st, &res);
	ok(res == NULL, "the select() echo thread finished cleanly (%ld)", (long)res);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(c, &rs);
	tv = (struct timeval){ 0, 0 };
	ok(select(c + 1, &rs, NULL, NULL, &tv) == 1, "select: readable at end of stream");
	tv = (struct timeval){ 0, 100000 };
	FD_ZERO(&rs);
	FD_SET(l, &rs);
	double t0 = now_ms();
	int r = select(l + 1, &rs, NULL, NULL, &tv);
	double waited = now_ms() - t0;
	ok(r == 0 && !FD_ISSET(l, &rs) && waited >= 90, "select times out after %.0f ms", waited);
	close(c);
	close(l);
}

/* ------------------------------------------------------------ epoll */

#define EP_CONNS	20
#define EP_BYTES	3000

/*
 * An edge-triggered epoll echo server: the listener and every connection
 * non-blocking in one set, until EP_CONNS connections have come and gone.
 */
static void *
epoll_echo(void *p)
{
	int l = (int)(long)p, ep = epoll_create1(EPOLL_CLOEXEC), done = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = l }, evs[16];
	char buf[4096];

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev))
		return (void *)1;
	while (done < EP_CONNS) {
		int n = epoll_wait(ep, evs, 16, 10000);
		if (n <= 0)
			return (void *)2;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct epoll_event ce = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
								  .data.fd = c };
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce))
						return (void *)3;
				}
				continue;
			}
			/* Edge-triggered: read until EAGAIN. */
			for (;;) {
				ssize_t r = recv(fd, buf, sizeof(buf), 0);
				if (r > 0) {
					for (ssize_t off = 0; off < r;) {
						ssize_t w = send(fd, buf + off, (size_t)(r - off), 0);
						if (w > 0)
							off += w;
						else if (errno != EAGAIN || !wait_fd(fd, POLLOUT))
							return (void *)4;
					}
					continue;
				}
				if (r < 0 && errno == EAGAIN)
					break;
				/* End of stream (or an error): closing drops it from the set. */
				close(fd);
				done++;
				break;
			}
		}
	}
	close(ep);
	return NULL;
}

static void
test_epoll(void)
{
	int port = 0, l = listener(&port, SOCK_NONBLOCK), c[EP_CONNS], good = 0;
	pthread_t st;
	void *res = (void *)-1;
	char out[EP_BYTES], in[EP_BYTES];

	toro_thread_spawn(&st, ncpu > 1 ? 1 : 0, epoll_echo, (void *)(long)l);
	for (int i = 0; i < EP_CONNS; i++)
		c[i] = connect_to(port, 0);
	for (int i = 0; i < EP_CONNS; i++) {
		for (int k = 0; k < EP_BYTES; k++)
			out[k] = (char)(i * 31 + k);
		if (c[i] >= 0)
			send(c[i], out, sizeof(out), 0);
	}
	for (int i = 0; i < EP_CONNS; i++) {
		size_t got = 0;
		while (c[i] >= 0 && got < sizeof(in)) {
			ssize_t n = recv(c[i], in + got, sizeof(in) - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		int same = got == sizeof(in);
		for (int k = 0; same && k < EP_BYTES; k++)
			same = in[k] == (char)(i * 31 + k);
		good += same;
		close(c[i]);
	}
	pthread_join(st, &res);
	ok(good == EP_CONNS, "%d of %d concurrent connections echoed by one epoll (EPOLLET) thread",
	   good, EP_CONNS);
	ok(res == NULL, "the epoll thread saw every connection close (%ld)", (long)res);
	close(l);
}

/* Level-triggered, EPOLLONESHOT, EPOLLRDHUP, MOD/DEL on a socket pair. */
static void
test_epoll_modes(void)
{
	int port = 0, l = listener(&port, 0);
	int c = connect_to(port, 0), s = accept(l, NULL, NULL);
	int ep = epoll_create(1);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1234567890ULL }, out[4];

	ok(c >= 0 && s >= 0 && ep >= 0, "a connected pair and an epoll set");
	ok(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "EPOLL_CTL_ADD");
	FAILS(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), EEXIST);
	FAILS(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	FAILS(epoll_ctl(ep, EPOLL_CTL_MOD, c, &ev), ENOENT);
	FAILS(epoll_ctl(s, EPOLL_CTL_ADD, c, &ev), EINVAL);
	FAILS(epoll_wait(ep, out, 0, 0), EINVAL);
	ok(epoll_wait(ep, out, 4, 0) == 0, "nothing to read: epoll_wait(0) is 0");
	double t0 = now_ms();
	int n = epoll_wait(ep, out, 4, 100);
	double waited = now_ms() - t0;
	ok(n == 0 && waited >= 90, "epoll_wait times out after %.0f ms", waited);
	send(c, "ab", 2, 0);
	n = epoll_wait(ep, out, 4, 5000);
	ok(n == 1 && out[0].events == EPOLLIN && out[0].data.u64 == 0x1234567890ULL,
	   "data arrives: EPOLLIN with the caller's data");
	ok(epoll_wait(ep, out, 4, 0) == 1, "level-triggered: still ready while unread");
	int avail = -1;
	n = ioctl(s, FIONREAD, &avail);
	ok(n == 0 && avail == 2, "FIONREAD says 2 (%d)", avail);
	char b[4];
	ok(recv(s, b, sizeof(b), MSG_PEEK) == 2 && recv(s, b, sizeof(b), 0) == 2 &&
	   !memcmp(b, "ab", 2), "MSG_PEEK, then recv, the same 2 bytes");
	ok(epoll_wait(ep, out, 4, 0) == 0, "drained: not ready");
	ev.events = EPOLLIN | EPOLLONESHOT;
	ok(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == 0, "EPOLL_CTL_MOD to EPOLLONESHOT");
	send(c, "c", 1, 0);
	ok(epoll_wait(ep, out, 4, 5000) == 1, "one-shot: reported once");
	send(c, "d", 1, 0);
	ok(epoll_wait(ep, out, 4, 50) == 0, "one-shot: then disabled");
	ev.events = EPOLLIN | EPOLLRDHUP;
	ok(epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) == 0 && epoll_wait(ep, out, 4, 0) == 1,
	   "re-armed by EPOLL_CTL_MOD");
	recv(s, b, sizeof(b), 0);
	shutdown(c, SHUT_WR);
	n = epoll_wait(ep, out, 4, 5000);
	ok(n == 1 && (out[0].events & EPOLLRDHUP) && (out[0].events & EPOLLIN),
	   "the peer's shutdown: EPOLLIN|EPOLLRDHUP (events %x)", n == 1 ? out[0].events : 0);
	ok(epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL) == 0, "EPOLL_CTL_DEL");
	ok(epoll_wait(ep, out, 4, 0) == 0, "deleted: nothing reported");
	/* Closing a watched socket takes it out of the set. */
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	ok(epoll_wait(ep, out, 4, 0) == 1, "EPOLLOUT on a writable socket");
	close(s);
	ok(epoll_wait(ep, out, 4, 0) == 0, "a closed socket leaves the set");
	ok(close(ep) == 0, "closing the epoll set");
	close(c);
	close(l);
}

/* ------------------------------------------------------------ many connections */

static void
test_many(void)
{
	int port = 0, l = listener(&port, 0), good = 0;
	const int n = 100;
	struct echo_arg e = { .lfd = l, .conns = n };
	pthread_t st;

	toro_thread_spawn(&st, ncpu > 1 ? 1 : 0, echo_server, &e);
	for (int i = 0; i < n; i++) {
		int c = connect_to(port, 0);
		char b[8] = "ping", r[8] = { 0 };
		if (c < 0)
			continue;
		good += send(c, b, 4, 0) == 4 && recv(c, r, 4, MSG_WAITALL) == 4 && !memcmp(b, r, 4);
		close(c);
	}
	pthread_join(st, NULL);
	ok(good == n, "%d of %d connections one after another (connect, echo, close)", good, n);
	close(l);
}

/*
 * Thousands at once: far more descriptors than Linux's default soft limit
 * of 1024, each pair a live connection that carries a byte both ways;
 * then RLIMIT_NOFILE lowered below the highest one makes socket() fail
 * with EMFILE while every open descriptor keeps working.
 */
static void
test_thousands(void)
{
	enum { N = 3000 };
	static int c[N], a[N];
	struct rlimit rl;
	int port = 0, l = listener(&port, 0), made = 0, good = 0, high = -1;

	ok(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 65536 && rl.rlim_max == 65536,
	   "getrlimit(RLIMIT_NOFILE): 65536 soft and hard");
	for (; made < N; made++) {
		if ((c[made] = connect_to(port, 0)) < 0)
			break;
		if ((a[made] = accept(l, NULL, NULL)) < 0) {
			close(c[made]);
			break;
		}
		high = a[made] > high ? a[made] : high;
	}
	ok(made == N && high > 2 * N, "%d connections open at once (%d descriptors, the highest %d; errno %d)",
	   made, 2 * made + 1, high, made == N ? 0 : errno);
	for (int i = 0; i < made; i++) {
		char x = (char)i, y = 0, z = 0;
		good += send(c[i], &x, 1, 0) == 1 && recv(a[i], &y, 1, MSG_WAITALL) == 1 &&
			send(a[i], &y, 1, 0) == 1 && recv(c[i], &z, 1, MSG_WAITALL) == 1 && z == x;
	}
	ok(good == made, "each of them carries a byte both ways (%d of %d)", good, made);
	rl.rlim_cur = (rlim_t)high;
	ok(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit lowers the soft limit to %d", high);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ok(s < 0 && errno == EMFILE, "then socket() fails with EMFILE (%d, errno %d)", s, errno);
	char x = 'q', y = 0;
	ok(made > 0 && send(a[made - 1], &x, 1, 0) == 1 && recv(c[made - 1], &y, 1, MSG_WAITALL) == 1 &&
	   y == 'q', "the descriptor at the old top still works");
	rl.rlim_cur = rl.rlim_max = 70000;
	ok(setrlimit(RLIMIT_NOFILE, &rl) == 0, "the hard limit goes up (the program is root)");
	rl.rlim_cur = rl.rlim_max = 65536;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < made; i++) {
		close(c[i]);
		close(a[i]);
	}
	close(l);
	if (s >= 0)
		close(s);
}

/* ------------------------------------------------------------ vectors and misc */

static void
test_vectors(void)
{
	int port = 0, l = listener(&port, 0);
	int c = connect_to(port, 0), s = accept(l, NULL, NULL);
	char a[3] = "abc", b[4] = "defg", r[7] = { 0 }, r2[7] = { 0 };
	struct iovec iov[2] = { { a, 3 }, { b, 4 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };

	ok(sendmsg(c, &m, 0) == 7, "sendmsg of two buffers");
	struct iovec riov[2] = { { r, 2 }, { r + 2, 5 } };
	struct msghdr rm = { .msg_iov = riov, .msg_iovlen = 2 };
	ok(recvmsg(s, &rm, MSG_WAITALL) == 7 && !memcmp(r, "abcdefg", 7) && rm.msg_flags == 0,
	   "recvmsg(MSG_WAITALL) into two buffers");
	ok(writev(c, iov, 2) == 7 && recv(s, r2, 7, MSG_WAITALL) == 7 && !memcmp(r2, "abcdefg", 7),
	   "writev and read on sockets");
	/* readv takes what is there, even when it fills the first buffer exactly. */
	char q1[3], q2[8];
	struct iovec qv[2] = { { q1, 3 }, { q2, 8 } };
	send(c, "123", 3, 0);
	struct pollfd pw = { s, POLLIN, 0 };
	poll(&pw, 1, 5000);
	ok(readv(s, qv, 2) == 3 && !memcmp(q1, "123", 3), "readv returns what is queued (3 bytes)");
	FAILS(pread(s, q2, 1, 0), ESPIPE);
	FAILS(pwrite(s, q2, 1, 0), ESPIPE);
	int d = dup(s);
	ok(write(d, "xyz", 3) == 3 && recv(c, r, 3, MSG_WAITALL) == 3 && !memcmp(r, "xyz", 3),
	   "a dup()ed socket writes to the same connection");
	close(d);
	struct msghdr bad = { .msg_iov = (struct iovec *)8, .msg_iovlen = 1 };
	FAILS(sendmsg(c, &bad, 0), EFAULT);
	/* musl's sendmsg copies the header itself: ask the kernel directly. */
	FAILS(syscall(SYS_sendmsg, c, 8, 0), EFAULT);
	FAILS(syscall(SYS_recvmsg, c, 8, 0), EFAULT);
	int v;
	socklen_t len = sizeof(v);
	ok(getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 0 &&
	   getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v == 1,
	   "SO_ACCEPTCONN: 1 on the listener only");
	struct linger lg = { 1, 0 }, lg2;
	len = sizeof(lg2);
	ok(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0 &&
	   getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &len) == 0 && lg2.l_onoff == 1,
	   "SO_LINGER set and read back");
	int ka = 1;
	ok(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &ka, sizeof(ka)) == 0 &&
	   setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka)) == 0,
	   "SO_KEEPALIVE and TCP_KEEPIDLE");
	int big = 1 << 18;
	ok(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) == 0 &&
	   setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) == 0, "SO_RCVBUF and SO_SNDBUF");
	/* The peer went away (RST: SO_LINGER 0): writes fail with EPIPE or ECONNRESET. */
	close(s);
	int e = 0;
	double t0 = now_ms();
	while (now_ms() - t0 < 5000) {
		if (send(c, "x", 1, MSG_NOSIGNAL) < 0) {
			e = errno;
			break;
		}
		usleep(10000);
	}
	ok(e == EPIPE || e == ECONNRESET, "writing to a reset connection fails (errno %d)", e);
	close(c);
	close(l);
}

/* ------------------------------------------------------------ UDP */

static void
test_udp(void)
{
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in aa = loopback(0), ba = loopback(0), from;
	socklen_t len = sizeof(aa);
	char buf[100];

	ok(a >= 0 && b >= 0, "two UDP sockets");
	ok(bind(a, (struct sockaddr *)&aa, sizeof(aa)) == 0 &&
	   getsockname(a, (struct sockaddr *)&aa, &len) == 0 && aa.sin_port != 0,
	   "bind to 127.0.0.1:0 picks port %d", ntohs(aa.sin_port));
	ok(sendto(b, "hello", 5, 0, (struct sockaddr *)&aa, sizeof(aa)) == 5, "sendto 5 bytes");
	len = sizeof(ba);
	getsockname(b, (struct sockaddr *)&ba, &len);
	ok(ba.sin_port != 0, "sendto bound the sender to port %d", ntohs(ba.sin_port));
	len = sizeof(from);
	memset(buf, 0, sizeof(buf));
	ssize_t n = recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	ok(n == 5 && !memcmp(buf, "hello", 5) && len == sizeof(from) &&
	   from.sin_port == ba.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	   "recvfrom: the datagram and its source");
	FAILS(recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	FAILS(sendto(b, "x", 1, 0, (struct sockaddr *)&aa, 4), EINVAL);
	FAILS(send(b, "x", 1, 0), EDESTADDRREQ);
	/* Truncation: MSG_TRUNC in recvmsg's flags, and as a recv flag. */
	sendto(b, "0123456789", 10, 0, (struct sockaddr *)&aa, sizeof(aa));
	int avail = -1;
	struct pollfd p = { a, POLLIN, 0 };
	poll(&p, 1, 5000);
	n = ioctl(a, FIONREAD, &avail);
	ok(n == 0 && avail == 10, "FIONREAD: the next datagram's size (%d)", avail);
	struct iovec iov = { buf, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_name = &from,
			    .msg_namelen = sizeof(from) };
	n = recvmsg(a, &m, 0);
	ok(n == 4 && (m.msg_flags & MSG_TRUNC) && !memcmp(buf, "0123", 4) &&
	   m.msg_namelen == sizeof(from), "a 10-byte datagram into 4 bytes: MSG_TRUNC");
	sendto(b, "0123456789", 10, 0, (struct sockaddr *)&aa, sizeof(aa));
	ok(recv(a, buf, 4, MSG_TRUNC) == 10, "recv(MSG_TRUNC) gives the real length");
	/* Scatter and gather: one datagram from two buffers into two. */
	struct iovec out[2] = { { "abc", 3 }, { "defgh", 5 } };
	struct msghdr sm = { .msg_iov = out, .msg_iovlen = 2, .msg_name = &aa,
			     .msg_namelen = sizeof(aa) };
	ok(sendmsg(b, &sm, 0) == 8, "sendmsg gathers two buffers into one datagram");
	char x[5] = { 0 }, y[5] = { 0 };
	struct iovec in[2] = { { x, 5 }, { y, 5 } };
	struct msghdr rm = { .msg_iov = in, .msg_iovlen = 2 };
	ok(recvmsg(a, &rm, 0) == 8 && !memcmp(x, "abcde", 5) && !memcmp(y, "fgh", 3),
	   "recvmsg scatters it over two buffers");
	/* Connected UDP: send/recv without addresses, then dissolved. */
	ok(connect(b, (struct sockaddr *)&aa, sizeof(aa)) == 0 && send(b, "c", 1, 0) == 1 &&
	   recv(a, buf, 1, 0) == 1 && buf[0] == 'c', "connected UDP: send and recv");
	len = sizeof(from);
	ok(getpeername(b, (struct sockaddr *)&from, &len) == 0 && from.sin_port == aa.sin_port,
	   "getpeername on connected UDP");
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	ok(connect(b, &un, sizeof(un)) == 0, "connect(AF_UNSPEC) dissolves the association");
	FAILS(getpeername(b, (struct sockaddr *)&from, &len), ENOTCONN);
	/* A blocking recv woken by a datagram from another core. */
	struct timeval tv = { 0, 100000 };
	setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	FAILS(recv(a, buf, sizeof(buf), 0), EAGAIN);
	int bc = 1;
	struct sockaddr_in all = { .sin_family = AF_INET, .sin_port = aa.sin_port,
				   .sin_addr.s_addr = INADDR_BROADCAST };
	FAILS(sendto(b, "x", 1, 0, (struct sockaddr *)&all, sizeof(all)), EACCES);
	ok(setsockopt(b, SOL_SOCKET, SO_BROADCAST, &bc, sizeof(bc)) == 0, "SO_BROADCAST");
	close(a);
	close(b);
}

/* ------------------------------------------------------------ eventfd */

static int wake_fd;

static void *
poke(void *p)
{
	uint64_t v = 5;

	usleep(30000);
	write(wake_fd, &v, sizeof(v));
	return NULL;
}

static void
test_eventfd(void)
{
	int ep = epoll_create1(0);
	uint64_t v = 0;
	pthread_t t;

	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ok(wake_fd >= 0 && ep >= 0, "eventfd and an epoll set");
	FAILS(read(wake_fd, &v, sizeof(v)), EAGAIN);
	FAILS(read(wake_fd, &v, 4), EINVAL);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 7 }, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &ev);
	toro_thread_spawn(&t, ncpu > 1 ? 1 : 0, poke, NULL);
	int n = epoll_wait(ep, &out, 1, 5000);
	ok(n == 1 && out.data.u32 == 7, "epoll_wait woken by an eventfd write from another core");
	ok(read(wake_fd, &v, sizeof(v)) == 8 && v == 5, "read takes the count (5)");
	pthread_join(t, NULL);
	close(wake_fd);
	close(ep);
	int sem = eventfd(2, EFD_SEMAPHORE);
	ok(read(sem, &v, 8) == 8 && v == 1 && read(sem, &v, 8) == 8 && v == 1,
	   "EFD_SEMAPHORE: one at a time");
	close(sem);
}

/* ------------------------------------------------------------ getaddrinfo */

/* Resolves name and connects to port through the result; 0 on success. */
static int
resolve_and_connect(const char *name, int port, char *addr, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	char svc[8];

	snprintf(svc, sizeof(svc), "%d", port);
	int r = getaddrinfo(name, svc, &hints, &res);
	if (r)
		return r;
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr, (socklen_t)len);
	int c = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	r = connect(c, res->ai_addr, res->ai_addrlen) ? -1 : 0;
	close(c);
	freeaddrinfo(res);
	return r;
}

static void
test_getaddrinfo(const char *initrd_name)
{
	int port = 0, l = listener(&port, 0);
	char addr[32] = "";
	struct stat st;

	ok(resolve_and_connect("127.0.0.1", port, addr, sizeof(addr)) == 0 &&
	   !strcmp(addr, "127.0.0.1"), "getaddrinfo(\"127.0.0.1\") and connect");
	close(accept(l, NULL, NULL));
	if (initrd_name) {
		ok(stat("/etc/hosts", &st) == 0, "/etc/hosts came in the initrd");
	} else {
		mkdir("/etc", 0755);
		FILE *f = fopen("/etc/hosts", "w");
		ok(f && fprintf(f, "127.0.0.1 localhost\n127.0.0.1 toro-test.example toro-test\n") > 0 &&
		   fclose(f) == 0, "/etc/hosts written");
		initrd_name = "toro-test";
	}
	addr[0] = 0;
	ok(resolve_and_connect(initrd_name, port, addr, sizeof(addr)) == 0 &&
	   !strcmp(addr, "127.0.0.1"), "getaddrinfo(\"%s\") through /etc/hosts (%s) and connect",
	   initrd_name, addr);
	close(accept(l, NULL, NULL));
	addr[0] = 0;
	ok(resolve_and_connect("localhost", port, addr, sizeof(addr)) == 0,
	   "getaddrinfo(\"localhost\") and connect (%s)", addr);
	close(accept(l, NULL, NULL));
	struct addrinfo hints = { .ai_family = AF_INET, .ai_flags = AI_NUMERICHOST }, *res;
	ok(getaddrinfo("not-a-number", NULL, &hints, &res) == EAI_NONAME,
	   "AI_NUMERICHOST refuses a name");
	close(l);
}

int
main(int argc, char **argv)
{
	const char *hosts_name = argc > 2 && !strcmp(argv[1], "hosts") ? argv[2] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ncpu = toro_cpu_count();
	printf("# %d cores\n", ncpu);
	test_errors();
	test_blocking_echo();
	test_nonblocking_poll();
	test_select();
	test_epoll();
	test_epoll_modes();
	test_many();
	test_thousands();
	test_vectors();
	test_udp();
	test_eventfd();
	test_getaddrinfo(hosts_name);
	return tap_end();
}
