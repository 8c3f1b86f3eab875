/*
 * Socket options: setsockopt and getsockopt at SOL_SOCKET and
 * IPPROTO_TCP, with the values in kernel memory (lib/sys/sys_net.c
 * checks the application's pointers).  Options of the TCP engine go to
 * it by name (tcp.h's enum tcp_opt); the rest live in struct socket.
 * Lengths and errors follow Linux: an int option needs an int (EINVAL),
 * getsockopt truncates to the caller's room, an unknown option or level
 * is ENOPROTOOPT.  SO_REUSEPORT is taken as SO_REUSEADDR (one process:
 * no load spreading between listeners).  Not here: IPPROTO_IP options,
 * TCP_CORK, TCP_DEFER_ACCEPT (ENOPROTOOPT).
 */
#define _GNU_SOURCE		/* struct tcp_info */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

#include "lib/net/net.h"
#include "lib/net/socket.h"
#include "lib/net/tcp.h"
#include "lib/net/udp.h"

#define UDP_DEFAULT_BUF	212992	/* what Linux reports for a new UDP socket */

/* An SO_RCVTIMEO/SO_SNDTIMEO value: ns (0: wait for ever); -EDOM. */
static int
timeo_from(const struct timeval *tv, uint64_t *ns)
{
	if (tv->tv_usec < 0 || tv->tv_usec >= 1000000)
		return -EDOM;
	if (tv->tv_sec < 0)
		*ns = 1;		/* Linux: do not wait at all */
	else if ((uint64_t)tv->tv_sec > 400ULL * 365 * 86400)
		*ns = 0;		/* far enough to be for ever */
	else
		*ns = (uint64_t)tv->tv_sec * 1000000000ULL + (uint64_t)tv->tv_usec * 1000;
	return 0;
}

/* TCP_KEEP* bounds, Linux's (MAX_TCP_KEEPIDLE and friends). */
static bool
tcp_int_ok(int name, int v)
{
	switch (name) {
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		return v >= 1 && v <= 32767;
	case TCP_KEEPCNT:
		return v >= 1 && v <= 127;
	}
	return true;
}

static int
set_tcp(struct socket *s, int name, int v)
{
	enum tcp_opt opt;

	if (!s->tcp)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		opt = TCP_OPT_NODELAY;
		v = v != 0;
		break;
	case TCP_KEEPIDLE:
		opt = TCP_OPT_KEEPIDLE;
		break;
	case TCP_KEEPINTVL:
		opt = TCP_OPT_KEEPINTVL;
		break;
	case TCP_KEEPCNT:
		opt = TCP_OPT_KEEPCNT;
		break;
	case TCP_MAXSEG:
		opt = TCP_OPT_MAXSEG;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (!tcp_int_ok(name, v))
		return -EINVAL;
	net_lock();
	int r = tcp_setopt(s->tcp, opt, v);
	if (!r && name == TCP_NODELAY)
		s->nodelay = v;
	net_unlock();
	return r;
}

/* SOL_SOCKET options whose value is an int. */
static int
set_socket_int(struct socket *s, int name, int v)
{
	int r = 0;

	net_lock();
	switch (name) {
	case SO_REUSEADDR:
	case SO_REUSEPORT:
		s->reuse = v != 0;
		break;
	case SO_BROADCAST:
		s->broadcast = v != 0;
		break;
	case SO_KEEPALIVE:
		if (s->tcp)
			r = tcp_setopt(s->tcp, TCP_OPT_KEEPALIVE, v != 0);
		if (!r)
			s->keepalive = v != 0;
		break;
	case SO_SNDBUF:
		if (v < 0)
			v = 0;
		if (s->tcp)
			r = tcp_setopt(s->tcp, TCP_OPT_SNDBUF, v);
		else
			s->sndbuf = v;
		break;
	case SO_RCVBUF:
		if (v < 0)
			v = 0;
		if (s->tcp)
			r = tcp_setopt(s->tcp, TCP_OPT_RCVBUF, v);
		else if (!(r = udp_set_rcvbuf(s->udp, v)))
			s->rcvbuf = v;
		break;
	default:
		r = -ENOPROTOOPT;
	}
	net_unlock();
	return r;
}

int
sock_setopt(struct socket *s, int level, int name, const void *val,
	    socklen_t len)
{
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		uint64_t ns;
		int r;
		if (len < sizeof(struct timeval))
			return -EINVAL;
		if ((r = timeo_from(val, &ns)))
			return r;
		if (name == SO_RCVTIMEO)
			s->rcvtimeo_ns = ns;
		else
			s->sndtimeo_ns = ns;
		return 0;
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		const struct linger *l = val;
		if (len < sizeof(*l))
			return -EINVAL;
		int secs = l->l_linger < 0 ? 0 : l->l_linger, r = 0;
		net_lock();
		if (s->tcp)
			r = tcp_setopt(s->tcp, TCP_OPT_LINGER, l->l_onoff ? secs : -1);
		if (!r)
			s->linger = l->l_onoff ? secs : -1;
		net_unlock();
		return r;
	}
	if (level != SOL_SOCKET && level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	return level == SOL_SOCKET ? set_socket_int(s, name, v) : set_tcp(s, name, v);
}

/* ------------------------------------------------------------ getsockopt */

static int
get_tcp_opt(struct socket *s, enum tcp_opt opt, int *v)
{
	net_lock();
	int r = tcp_getopt(s->tcp, opt, v);
	net_unlock();
	return r;
}

static int
get_socket_int(struct socket *s, int name, int *v)
{
	switch (name) {
	case SO_TYPE:
		*v = s->type;
		return 0;
	case SO_DOMAIN:
		*v = AF_INET;
		return 0;
	case SO_PROTOCOL:
		*v = s->tcp ? IPPROTO_TCP : IPPROTO_UDP;
		return 0;
	case SO_ACCEPTCONN:
		*v = s->listening;
		return 0;
	case SO_REUSEADDR:
	case SO_REUSEPORT:
		*v = s->reuse;
		return 0;
	case SO_BROADCAST:
		*v = s->broadcast;
		return 0;
	case SO_KEEPALIVE:
		*v = s->keepalive;
		return 0;
	case SO_ERROR:
		net_lock();
		*v = s->tcp ? -tcp_error(s->tcp, true) : 0;
		net_unlock();
		return 0;
	case SO_SNDBUF:
		if (s->tcp)
			return get_tcp_opt(s, TCP_OPT_SNDBUF, v);
		*v = s->sndbuf ? s->sndbuf : UDP_DEFAULT_BUF;
		return 0;
	case SO_RCVBUF:
		if (s->tcp)
			return get_tcp_opt(s, TCP_OPT_RCVBUF, v);
		*v = s->rcvbuf ? s->rcvbuf : UDP_DEFAULT_BUF;
		return 0;
	}
	return -ENOPROTOOPT;
}

static int
get_tcp_int(struct socket *s, int name, int *v)
{
	if (!s->tcp)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return get_tcp_opt(s, TCP_OPT_NODELAY, v);
	case TCP_KEEPIDLE:
		return get_tcp_opt(s, TCP_OPT_KEEPIDLE, v);
	case TCP_KEEPINTVL:
		return get_tcp_opt(s, TCP_OPT_KEEPINTVL, v);
	case TCP_KEEPCNT:
		return get_tcp_opt(s, TCP_OPT_KEEPCNT, v);
	case TCP_MAXSEG:
		return get_tcp_opt(s, TCP_OPT_MAXSEG, v);
	}
	return -ENOPROTOOPT;
}

/* Copies the value, truncated to the caller's room, and its length. */
static int
give(void *val, socklen_t *len, const void *v, size_t n)
{
	if (*len > n)
		*len = (socklen_t)n;
	memcpy(val, v, *len);
	return 0;
}

int
sock_getopt(struct socket *s, int level, int name, void *val, socklen_t *len)
{
	int v = 0, r;

	if ((int)*len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		uint64_t ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
		struct timeval tv = { (time_t)(ns / 1000000000ULL),
				      (suseconds_t)(ns % 1000000000ULL / 1000) };
		return give(val, len, &tv, sizeof(tv));
	}
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger l = { s->linger >= 0, s->linger >= 0 ? s->linger : 0 };
		return give(val, len, &l, sizeof(l));
	}
	if (level == IPPROTO_TCP && name == TCP_INFO && s->tcp) {
		struct tcp_info info;
		memset(&info, 0, sizeof(info));
		if ((r = get_tcp_opt(s, TCP_OPT_STATE, &v)))
			return r;
		info.tcpi_state = (uint8_t)v;
		return give(val, len, &info, sizeof(info));
	}
	if (level == SOL_SOCKET)
		r = get_socket_int(s, name, &v);
	else if (level == IPPROTO_TCP)
		r = get_tcp_int(s, name, &v);
	else
		r = -ENOPROTOOPT;
	return r ? r : give(val, len, &v, sizeof(v));
}
