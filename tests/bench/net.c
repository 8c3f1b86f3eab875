/*
 * The guest side of the network benchmarks, built unchanged for Toro and
 * for the Linux guest (tests/bench/net.sh boots both on the same machine
 * with the same NIC, and drives them with the same host program,
 * tests/bench/bench-netclient.c).  A TCP server on one port that serves,
 * one after another, the modes named on its command line:
 *
 *   net [-p PORT] MODE [ARG...] [MODE [ARG...]]...
 *
 *   sink                 accepts one connection, reads and discards
 *                        everything until the peer closes, then closes
 *   source BYTES         accepts one connection, writes BYTES bytes to it,
 *                        then closes
 *   echo REQ REPLY       accepts one connection (a persistent one) and,
 *                        until the peer closes, reads a REQ-byte request
 *                        and answers it with a REPLY-byte reply
 *   accept COUNT REPLY   accepts COUNT connections, one after another;
 *                        writes a REPLY-byte reply to each and closes it
 *
 * After the last mode it accepts one more connection, the client's
 * goodbye, and reads it until the client closes: the program exits only
 * then, once the client has everything.  (Exiting right after the last
 * close() would stop the machine, Toro's at once, maybe before the last
 * reply and FIN have left it.)
 *
 * The host measures everything; the guest reports nothing while the
 * client runs.  It prints "net: listening on port PORT" once it listens
 * (the host waits for that line) and, after the goodbye, one line per
 * mode with what it moved ("net: sink: N bytes", ...) and "net: done",
 * which the host checks against what it sent; then it exits 0.
 * Any failure prints "ERROR what: reason" and exits with status 1.
 * Accepted connections of the echo and accept modes get TCP_NODELAY (a
 * small reply must leave at once, on both systems).
 *
 * The address: the kernel command line's ip= option (Linux's syntax),
 * which Toro applies itself and the Linux guest's init (linux-init.c)
 * applies for it, so the program finds its address on both systems.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_PORT 5001
#define BUF_SIZE (64 * 1024)	/* bytes per read() and write() */
#define MAX_MODES 16

static char buf[BUF_SIZE];	/* what the guest writes: 'a' + i % 26 */
static char rbuf[BUF_SIZE];	/* what it reads */

static void
die(const char *what)
{
	printf("ERROR %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
fail(const char *what)
{
	printf("ERROR %s\n", what);
	exit(1);
}

static unsigned long long
number(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	if (!s)
		fail(what);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		fail(what);
	return v;
}

static int
accept_one(int ls, int nodelay)
{
	int c, one = 1;

	while ((c = accept(ls, NULL, NULL)) < 0)
		if (errno != EINTR)
			die("accept");
	if (nodelay && setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt TCP_NODELAY");
	return c;
}

/* Writes all of buf[0..n); fails on error or a closed peer. */
static void
write_all(int fd, const char *p, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(what);
		p += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes; returns 0 at a clean end of stream before the
 * first byte, 1 when it has all n, and fails otherwise. */
static int
read_full(int fd, char *p, size_t n, const char *what)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(what);
		if (r == 0) {
			if (got == 0)
				return 0;
			printf("ERROR %s: the peer closed in the middle of a request\n", what);
			exit(1);
		}
		got += (size_t)r;
	}
	return 1;
}

static unsigned long long
do_sink(int ls)
{
	int c = accept_one(ls, 0);
	unsigned long long total = 0;
	ssize_t r;

	while ((r = read(c, rbuf, sizeof(rbuf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("sink: read");
		}
		total += (unsigned long long)r;
	}
	close(c);
	return total;
}

static void
do_source(int ls, unsigned long long bytes)
{
	int c = accept_one(ls, 0);

	while (bytes > 0) {
		size_t n = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
		write_all(c, buf, n, "source: write");
		bytes -= n;
	}
	close(c);
}

static unsigned long long
do_echo(int ls, size_t req, size_t reply)
{
	int c = accept_one(ls, 1);
	unsigned long long n = 0;

	while (read_full(c, rbuf, req, "echo: read")) {
		write_all(c, buf, reply, "echo: write");
		n++;
	}
	close(c);
	return n;
}

static void
do_accept(int ls, unsigned long long count, size_t reply)
{
	for (unsigned long long i = 0; i < count; i++) {
		int c = accept_one(ls, 1);
		write_all(c, buf, reply, "accept: write");
		close(c);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	unsigned long long done[MAX_MODES];
	int ls, one = 1, port = DEFAULT_PORT, a = 1, nmodes = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "-p")) {
		port = (int)number(argv[2], "-p wants a port");
		a = 3;
	}
	if (a >= argc)
		fail("usage: net [-p PORT] MODE [ARG...]... (sink, source BYTES, echo REQ REPLY, accept COUNT REPLY)");
	/* Check the whole command line before serving anything. */
	for (int i = a; i < argc; nmodes++) {
		const char *m = argv[i];
		int nargs = !strcmp(m, "sink") ? 0 : !strcmp(m, "source") ? 1 :
			    !strcmp(m, "echo") || !strcmp(m, "accept") ? 2 : -1;
		if (nargs < 0) {
			printf("ERROR unknown mode \"%s\"\n", m);
			return 1;
		}
		if (nmodes == MAX_MODES || i + nargs >= argc)
			fail("bad command line: too many modes, or a mode misses its arguments");
		for (int j = 1; j <= nargs; j++) {
			unsigned long long v = number(argv[i + j], "a mode's arguments are numbers");
			int size = !strcmp(m, "echo") || j == 2;	/* a request or reply */
			if (size && v > BUF_SIZE)
				fail("a request or reply is larger than 64 KiB");
			if (!strcmp(m, "echo") && j == 1 && v == 0)
				fail("echo: a request has at least one byte");
		}
		i += 1 + nargs;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);

	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		die("setsockopt SO_REUSEADDR");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("bind");
	if (listen(ls, 128) < 0)
		die("listen");
	printf("net: listening on port %d\n", port);

	nmodes = 0;
	for (int i = a; i < argc; nmodes++) {
		const char *m = argv[i];
		if (!strcmp(m, "sink")) {
			done[nmodes] = do_sink(ls);
			i += 1;
		} else if (!strcmp(m, "source")) {
			done[nmodes] = number(argv[i + 1], "source");
			do_source(ls, done[nmodes]);
			i += 2;
		} else if (!strcmp(m, "echo")) {
			done[nmodes] = do_echo(ls, (size_t)number(argv[i + 1], "echo"),
					       (size_t)number(argv[i + 2], "echo"));
			i += 3;
		} else {
			done[nmodes] = number(argv[i + 1], "accept");
			do_accept(ls, done[nmodes], (size_t)number(argv[i + 2], "accept"));
			i += 3;
		}
	}
	/* The goodbye: the client has read everything it wanted. */
	int c = accept_one(ls, 0);
	for (;;) {
		ssize_t r = read(c, rbuf, sizeof(rbuf));
		if (r <= 0 && !(r < 0 && errno == EINTR))
			break;	/* its close (or a reset): either way, it is done */
	}
	close(c);
	close(ls);

	/* What each mode moved, outside every measurement. */
	nmodes = 0;
	for (int i = a; i < argc; nmodes++) {
		const char *m = argv[i];
		const char *unit = !strcmp(m, "echo") ? "requests" :
				   !strcmp(m, "accept") ? "connections" : "bytes";
		printf("net: %s: %llu %s\n", m, done[nmodes], unit);
		i += !strcmp(m, "sink") ? 1 : !strcmp(m, "source") ? 2 : 3;
	}
	printf("net: done\n");
	return 0;
}
