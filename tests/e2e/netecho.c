/*
 * The guest half of tests/e2e/net-user.test and net-tap.test: a TCP and
 * UDP echo server on port 7 that real clients on the host talk to, and
 * optionally a TCP client of a server on the host.  Words on the command
 * line, done in this order:
 *
 *   dhcp                   eth0 must have 10.0.2.15/24 via 10.0.2.2 from
 *                          DHCP (QEMU user networking)
 *   static ADDR            eth0 must have ADDR, from ip=, not DHCP
 *   client HOST PORT BYTES connect to HOST:PORT, send BYTES pseudo-random
 *                          bytes, then shut down the sending side; the
 *                          server must echo them and then send the 64 hex
 *                          digits of their SHA-256 (tests/e2e/
 *                          netecho-host.py server)
 *   serve SECONDS          echo TCP and UDP on port 7, many connections at
 *                          once (poll), until a UDP datagram "quit" comes
 *                          (or SECONDS pass: a failure); then the summary
 *                          and every counter of toro_net_stats()
 *
 * It prints "# netbufs_in_use N at start" and "# serving" once it
 * listens, "# tcp PEER: N bytes sha256 HEX" for every connection that
 * brought at least 1 MiB (the host compares the hash with what it sent),
 * "# peak N connections", "stat NAME VALUE" for each counter, and one TAP
 * line per check; the exit status is 0 only if every check passed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <toro/net.h>

#include "../guest/net-guest.h"
#include "../guest/tap.h"
#include "sha256.h"

#define PORT 7
#define MAX_CONNS 256
#define CONN_BUF 16384
#define BIG (1u << 20)		/* connections this large are logged */

struct conn {
	int fd;
	struct sockaddr_in peer;
	struct sha256 sha;	/* of everything received */
	uint64_t bytes;
	size_t off, len;	/* buf[off, len) still to be echoed */
	int eof;
	unsigned char buf[CONN_BUF];
};

static struct conn *conns[MAX_CONNS];
static int nconns, peak;
static unsigned long long served, resets, failures, tcp_bytes, datagrams;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void
check_config(const char *mode, const char *addr)
{
	struct toro_net_config c = { .dhcp = 0 };
	int r = toro_net_config("eth0", &c);

	ok(r == 0, "eth0 exists");
	printf("# eth0 %s/%s gw %s dhcp %d\n", ntoa(c.addr), ntoa(c.netmask),
	       ntoa(c.gateway), c.dhcp);
	if (!strcmp(mode, "dhcp"))
		ok(r == 0 && c.dhcp && c.addr == inet_addr("10.0.2.15") &&
		   c.netmask == inet_addr("255.255.255.0") && c.gateway == inet_addr("10.0.2.2"),
		   "DHCP: eth0 is %s/%s via %s", ntoa(c.addr), ntoa(c.netmask), ntoa(c.gateway));
	else
		ok(r == 0 && !c.dhcp && c.addr == inet_addr(addr),
		   "ip=: eth0 is %s (want %s, not from DHCP)", ntoa(c.addr), addr);
}

/* xorshift64*: the client's data, reproducible from the seed. */
static uint64_t
prng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/*
 * The guest as a client: BYTES out while the echo comes back, then the
 * server's digest.  At most 90 seconds.
 */
static void
client(const char *host, int port, uint64_t bytes)
{
	static unsigned char out[CONN_BUF], in[CONN_BUF];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sha256 tx, rx;
	uint64_t seed = 0x70726f746f726f31ull, sent = 0, got = 0;
	size_t ooff = 0, olen = 0, dlen = 0;
	char digest[65] = "", want[65], echo[65];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), shut = 0, eof = 0, err = 0;
	double end = now() + 90;

	inet_pton(AF_INET, host, &a.sin_addr);
	sha256_init(&tx);
	sha256_init(&rx);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		socklen_t len = sizeof(err);
		if (errno != EINPROGRESS || poll(&p, 1, 20000) != 1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno ? errno : ETIMEDOUT;
	}
	ok(fd >= 0 && !err, "client: connected to %s:%d (errno %d)", host, port, err);
	if (fd < 0 || err) {
		close(fd);
		return;
	}
	while (!eof && !err && now() < end) {
		if (ooff == olen && sent < bytes) {
			olen = sizeof(out) < bytes - sent ? sizeof(out) : (size_t)(bytes - sent);
			for (size_t i = 0; i < olen; i += 8) {
				uint64_t v = prng(&seed);
				memcpy(out + i, &v, olen - i < 8 ? olen - i : 8);
			}
			sha256_update(&tx, out, olen);
			ooff = 0;
			sent += olen;
		}
		if (ooff == olen && sent == bytes && !shut) {
			shut = 1;
			if (shutdown(fd, SHUT_WR) < 0)
				err = errno;
		}
		struct pollfd p = { fd, POLLIN | (ooff < olen ? POLLOUT : 0), 0 };
		if (poll(&p, 1, 500) <= 0)
			continue;
		if (ooff < olen) {
			ssize_t n = send(fd, out + ooff, olen - ooff, MSG_NOSIGNAL);
			if (n > 0)
				ooff += (size_t)n;
			else if (n < 0 && errno != EAGAIN)
				err = errno;
		}
		ssize_t n = recv(fd, in, sizeof(in), 0);
		if (n == 0)
			eof = 1;
		else if (n < 0 && errno != EAGAIN)
			err = errno;
		for (ssize_t i = 0; i < n;) {
			if (got < bytes) {
				size_t k = (size_t)n - i < bytes - got ? (size_t)n - i : bytes - got;
				sha256_update(&rx, in + i, k);
				i += k;
				got += k;
			} else {
				if (dlen < 64)
					digest[dlen++] = (char)in[i];
				i++;
				got++;
			}
		}
	}
	close(fd);
	digest[dlen] = 0;
	sha256_hex(&tx, want);
	sha256_hex(&rx, echo);
	printf("# client sent %llu bytes sha256 %s\n", (unsigned long long)sent, want);
	ok(eof && !err && got == bytes + 64, "client: %s:%d: %llu bytes sent, %llu back (want %llu), errno %d",
	   host, port, (unsigned long long)sent, (unsigned long long)got,
	   (unsigned long long)bytes + 64, err);
	ok(!strcmp(echo, want), "client: the echo is what was sent (sha256 %s)", echo);
	ok(!strcmp(digest, want), "client: the server's sha256 of what it got matches (%s)", digest);
}

/*
 * The guest's last act: BYTES to HOST:PORT with blocking sends, close(),
 * and the program ends at once (blast is the last argument).  What the
 * send buffer still held and the FIN reach the peer only because exit
 * waits for TCP to deliver them (lib/net/sock_exit.c).
 */
static void
blast(const char *host, int port, uint64_t bytes)
{
	static unsigned char out[CONN_BUF];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sha256 tx;
	uint64_t seed = 0x626c617374ull, sent = 0;
	char want[65];
	int fd = socket(AF_INET, SOCK_STREAM, 0), err = 0;

	inet_pton(AF_INET, host, &a.sin_addr);
	sha256_init(&tx);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		err = errno;
	while (!err && sent < bytes) {
		size_t n = sizeof(out) < bytes - sent ? sizeof(out) : (size_t)(bytes - sent);
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = prng(&seed);
			memcpy(out + i, &v, n - i < 8 ? n - i : 8);
		}
		sha256_update(&tx, out, n);
		for (size_t off = 0; off < n && !err;) {
			ssize_t k = send(fd, out + off, n - off, MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else
				err = errno;
		}
		sent += n;
	}
	sha256_hex(&tx, want);
	ok(!err, "blast: %llu bytes handed to send() for %s:%d (errno %d)",
	   (unsigned long long)sent, host, port, err);
	printf("# blast sent %llu bytes sha256 %s\n", (unsigned long long)sent, want);
	close(fd);
}

static void
conn_close(int i, int error)
{
	struct conn *c = conns[i];
	char hex[65];

	if (c->bytes >= BIG) {
		sha256_hex(&c->sha, hex);
		printf("# tcp %s:%u: %llu bytes sha256 %s\n", ntoa(c->peer.sin_addr.s_addr),
		       ntohs(c->peer.sin_port), (unsigned long long)c->bytes, hex);
	}
	if (error == ECONNRESET)
		resets++;
	else if (error) {
		failures++;
		printf("# tcp %s:%u: error %d after %llu bytes\n", ntoa(c->peer.sin_addr.s_addr),
		       ntohs(c->peer.sin_port), error, (unsigned long long)c->bytes);
	} else
		served++;
	close(c->fd);
	free(c);
	conns[i] = conns[--nconns];
}

/* Moves what it can without blocking; 0, or the connection is closed. */
static int
conn_run(int i)
{
	struct conn *c = conns[i];

	for (int round = 0; round < 4; round++) {
		while (c->off < c->len) {
			ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				return 0;
			if (n <= 0) {
				conn_close(i, n < 0 ? errno : EIO);
				return 1;
			}
			c->off += (size_t)n;
		}
		if (c->eof)
			break;
		ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			conn_close(i, errno);
			return 1;
		}
		if (n == 0) {
			c->eof = 1;
			break;
		}
		sha256_update(&c->sha, c->buf, (size_t)n);
		c->bytes += (uint64_t)n;
		tcp_bytes += (uint64_t)n;
		c->off = 0;
		c->len = (size_t)n;
	}
	if (c->eof && c->off == c->len) {
		conn_close(i, 0);
		return 1;
	}
	return 0;
}

static int
listener(int type)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0))
		return -1;
	return fd;
}

static void
serve(int seconds)
{
	static unsigned char dgram[65536];
	static struct pollfd p[2 + MAX_CONNS];
	int lfd = listener(SOCK_STREAM), ufd = listener(SOCK_DGRAM), quit = 0;
	double end = now() + seconds;
	struct toro_net_stats st;

	ok(lfd >= 0 && ufd >= 0, "TCP and UDP echo servers on port %d", PORT);
	if (toro_net_stats(&st, sizeof(st)) == 0)
		printf("# netbufs_in_use %llu at start\n", (unsigned long long)st.netbufs_in_use);
	printf("# serving\n");
	while (lfd >= 0 && ufd >= 0 && !quit && now() < end) {
		p[0] = (struct pollfd){ lfd, nconns < MAX_CONNS ? POLLIN : 0, 0 };
		p[1] = (struct pollfd){ ufd, POLLIN, 0 };
		int n = nconns;
		for (int i = 0; i < n; i++)
			p[2 + i] = (struct pollfd){ conns[i]->fd,
				conns[i]->off < conns[i]->len ? POLLOUT : POLLIN, 0 };
		if (poll(p, 2 + (nfds_t)n, 200) <= 0)
			continue;
		/* Backwards: conn_close() moves the last connection into slot i. */
		for (int i = n - 1; i >= 0; i--)
			if (p[2 + i].revents)
				conn_run(i);
		while (nconns < MAX_CONNS) {
			struct conn *c = malloc(sizeof(*c));
			socklen_t len = sizeof(c->peer);
			int fd = c ? accept4(lfd, (struct sockaddr *)&c->peer, &len, SOCK_NONBLOCK) : -1;
			if (fd < 0) {
				if (errno != EAGAIN)
					printf("# accept: errno %d\n", errno);
				free(c);
				break;
			}
			*c = (struct conn){ .fd = fd, .peer = c->peer };
			sha256_init(&c->sha);
			conns[nconns++] = c;
			peak = nconns > peak ? nconns : peak;
		}
		for (;;) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t len = recvfrom(ufd, dgram, sizeof(dgram), MSG_DONTWAIT,
					       (struct sockaddr *)&from, &fl);
			if (len < 0)
				break;
			if (len == 4 && !memcmp(dgram, "quit", 4))
				quit = 1;
			if (sendto(ufd, dgram, (size_t)len, 0, (struct sockaddr *)&from, fl) == len)
				datagrams++;
		}
	}
	printf("# peak %d connections\n", peak);
	ok(quit, "told to stop by the host: %llu TCP connections echoed (%llu bytes), "
	   "%llu reset by the peer, %d still open, %llu datagrams echoed",
	   served, tcp_bytes, resets, nconns, datagrams);
	ok(failures == 0, "no connection ended in an error other than a reset (%llu did)", failures);
	print_stats();
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "dhcp"))
			check_config("dhcp", NULL);
		else if (!strcmp(argv[i], "static") && i + 1 < argc)
			check_config("static", argv[++i]);
		else if (!strcmp(argv[i], "client") && i + 3 < argc) {
			client(argv[i + 1], atoi(argv[i + 2]), strtoull(argv[i + 3], NULL, 0));
			i += 3;
		} else if (!strcmp(argv[i], "blast") && i + 3 < argc) {
			blast(argv[i + 1], atoi(argv[i + 2]), strtoull(argv[i + 3], NULL, 0));
			i += 3;
		} else if (!strcmp(argv[i], "serve") && i + 1 < argc)
			serve(atoi(argv[++i]));
		else
			ok(0, "unknown argument '%s'", argv[i]);
	}
	return tap_end();
}
