/*
 * bench-netclient: the host side of the network benchmarks of `make bench`
 * (tests/bench/net.sh).  It drives the guest program tests/bench/net.c,
 * Toro's and the Linux guest's alike, over TCP and measures on the host's
 * CLOCK_MONOTONIC.  It is a host program (built with CC_FOR_BUILD, like
 * bench-timer), not part of Toro.
 *
 *   bench-netclient [-v] [-t SECONDS] [-w SECONDS] [-c CONC] HOST PORT TEST [ARG...]...
 *
 * Runs the TESTs in the order given against HOST:PORT (an IPv4 address),
 * each one matching the guest's mode in the same place on its command
 * line, and prints one or more lines per test on standard output:
 *
 *   RESULT name value unit
 *
 *   sink BYTES          (guest mode sink) one connection; writes BYTES
 *                       bytes, shuts its side down and waits until the
 *                       guest closes, which it does once it has read them
 *                       all: bulk_to_guest MB/s (10^6 bytes), timed from
 *                       the established connection to the guest's close
 *   source BYTES        (guest mode source BYTES) one connection; reads
 *                       until the guest closes and checks that it got
 *                       BYTES bytes of the guest's pattern:
 *                       bulk_from_guest MB/s, timed from the established
 *                       connection to the end of the stream
 *   rr REQ REPLY COUNT  (guest mode echo REQ REPLY) one persistent
 *                       connection with TCP_NODELAY; a warm-up of
 *                       min(COUNT/10, 100) requests, then COUNT requests
 *                       one at a time: write REQ bytes, read the REPLY-byte
 *                       reply, each timed: rr_rate requests/s (COUNT over
 *                       their total time), rr_p50 and rr_p99 latency, µs
 *   cps COUNT REPLY     (guest mode accept COUNT REPLY) COUNT connections,
 *                       CONC at a time (-c, default 1): connect, read the
 *                       REPLY-byte reply until the guest closes, close;
 *                       cps connections/s over the connections after the
 *                       first min(COUNT/10, 50) (a warm-up)
 *
 * After the last test, a goodbye: one more connection, closed at once,
 * which tells the guest that the client has everything (net.c exits
 * after it).
 *
 * Every test must finish within -t SECONDS (default 60) or the client
 * fails, saying where the test was and, for the one-connection tests, what
 * the host's TCP says about the connection (TCP_INFO: retransmitting with
 * backoff, probing a closed window, how long since the guest last sent
 * anything), which tells a stalled guest from a slow one.  The very first connection is retried while it is refused, for
 * up to -w SECONDS (default 0): the guest may still be booting.  -v adds
 * the spread of the round trips (more percentiles) on standard error.  Any
 * failure prints "bench-netclient: TEST: what: reason" on standard error
 * and exits with status 1, after the RESULT lines of the tests that
 * completed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)	/* net.c's: its pattern repeats every BUF_SIZE bytes */
#define MAX_CONC 64

static struct sockaddr_in peer;
static const char *test = "setup";
static int64_t deadline;	/* of the current test, ns */
static int64_t wait_ns;		/* -w */
static int first_connection = 1;
static int verbose;		/* -v */
static char buf[BUF_SIZE];

static int64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench-netclient: %s: ", test);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
die(const char *what)
{
	fail("%s: %s", what, strerror(errno));
}

static unsigned long long
number(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = s ? strtoull(s, &end, 10) : 0;
	if (!s || errno || end == s || *end)
		fail("%s: not a number: %s", what, s ? s : "(missing)");
	return v;
}

static char progress[256];	/* where the test is, for a timeout's message */
static int cur_fd = -1;		/* the connection of sink, source or rr */

/* What the host's TCP says about cur_fd, for a timeout's message: is it
 * retransmitting (backoff), probing a closed window (probes), waiting? */
static const char *
tcp_state(void)
{
	static char text[256];
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int unsent = -1;

	text[0] = 0;
	if (cur_fd < 0 || getsockopt(cur_fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return text;
	ioctl(cur_fd, SIOCOUTQ, &unsent);
	snprintf(text, sizeof(text), "; host TCP: state %u, %d bytes in the send queue, "
		 "%u segments in flight, retransmits %u (total %u), window probes %u, backoff %u, "
		 "rto %u ms, cwnd %u, last data received %u ms ago, last ACK %u ms ago",
		 ti.tcpi_state, unsent, ti.tcpi_unacked, ti.tcpi_retransmits, ti.tcpi_total_retrans,
		 ti.tcpi_probes, ti.tcpi_backoff, ti.tcpi_rto / 1000, ti.tcpi_snd_cwnd,
		 ti.tcpi_last_data_recv, ti.tcpi_last_ack_recv);
	return text;
}

/* Milliseconds left before the deadline, for poll(); fails past it. */
static int
left_ms(void)
{
	int64_t left = deadline - now_ns();

	if (left <= 0)
		fail("took longer than the time limit (-t)%s%s%s", progress[0] ? ": " : "", progress,
		     tcp_state());
	return (int)(left / 1000000) + 1;
}

/* Waits until fd is ready for events (POLLIN or POLLOUT). */
static void
wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&p, 1, left_ms())) <= 0)
		if (r < 0 && errno != EINTR)
			die("poll");
}

/* Starts a non-blocking connect; returns the socket. */
static int
start_connect(int nodelay)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		die("socket");
	if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("setsockopt TCP_NODELAY");
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* The outcome of a connect started by start_connect, once fd is writable:
 * 0 or an errno value. */
static int
connect_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		die("getsockopt SO_ERROR");
	return err;
}

/* An established connection.  The run's first connection is retried while
 * it is refused (or the guest is unreachable), for up to -w seconds. */
static int
connect_to(int nodelay)
{
	int64_t until = now_ns() + wait_ns;

	for (;;) {
		int fd = start_connect(nodelay);
		wait_fd(fd, POLLOUT);
		int err = connect_error(fd);
		if (!err) {
			first_connection = 0;
			return fd;
		}
		close(fd);
		if (!first_connection || now_ns() >= until ||
		    (err != ECONNREFUSED && err != EHOSTUNREACH && err != ENETUNREACH && err != ETIMEDOUT)) {
			errno = err;
			die("connect");
		}
		left_ms();
		usleep(50000);
	}
}

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* One read(): bytes read, 0 at the end of the stream; waits as needed. */
static size_t
read_some(int fd, char *p, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return (size_t)r;
		if (errno != EAGAIN && errno != EINTR)
			die("read");
		wait_fd(fd, POLLIN);
	}
}

static void
result(const char *name, double value, const char *unit)
{
	printf("RESULT %s %.*f %s\n", name, value >= 100 ? 0 : value >= 10 ? 1 : 2, value, unit);
	fflush(stdout);
}

static double
mb_per_s(unsigned long long bytes, int64_t ns)
{
	return (double)bytes / 1e6 / ((double)(ns > 0 ? ns : 1) / 1e9);
}

static void
do_sink(unsigned long long bytes)
{
	int fd = cur_fd = connect_to(0);
	int64_t t0 = now_ns();
	unsigned long long left = bytes;
	char extra;

	while (left > 0) {
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		snprintf(progress, sizeof(progress), "%llu of %llu bytes written", bytes - left, bytes);
		write_all(fd, buf, n);
		left -= n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	snprintf(progress, sizeof(progress), "all %llu bytes written, waiting for the guest to close", bytes);
	if (read_some(fd, &extra, 1) != 0)
		fail("the guest sent data to a sink");
	int64_t t1 = now_ns();
	close(fd);
	result("bulk_to_guest", mb_per_s(bytes, t1 - t0), "MB/s");
}

static void
do_source(unsigned long long bytes)
{
	int fd = cur_fd = connect_to(0);
	int64_t t0 = now_ns();
	unsigned long long got = 0;
	size_t n;

	for (;;) {
		snprintf(progress, sizeof(progress), "%llu of %llu bytes read", got, bytes);
		if ((n = read_some(fd, buf, sizeof(buf))) == 0)
			break;
		/* net.c writes BUF_SIZE-byte chunks of 'a' + i % 26. */
		for (size_t i = 0; i < n; i++)
			if (buf[i] != (char)('a' + (got + i) % BUF_SIZE % 26))
				fail("byte %llu of the stream is wrong", got + i);
		got += n;
	}
	int64_t t1 = now_ns();
	close(fd);
	if (got != bytes)
		fail("the guest sent %llu bytes, not %llu", got, bytes);
	result("bulk_from_guest", mb_per_s(bytes, t1 - t0), "MB/s");
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of sorted v[0..n). */
static int64_t
percentile(const int64_t *v, size_t n, double p)
{
	size_t rank = (size_t)(p / 100 * (double)n + 0.999999);

	return v[rank ? rank - 1 : 0];
}

static void
do_rr(size_t req, size_t reply, unsigned long long count)
{
	unsigned long long warm = count / 10 < 100 ? count / 10 : 100;
	int64_t *lat = malloc(count * sizeof(*lat)), t_start = 0;
	int fd = cur_fd = connect_to(1);

	if (!lat)
		die("malloc");
	memset(buf, 'q', req);
	for (unsigned long long i = 0; i < warm + count; i++) {
		int64_t t0 = now_ns();
		size_t got = 0;
		if (i == warm)
			t_start = t0;
		snprintf(progress, sizeof(progress), "round trip %llu of %llu", i + 1, warm + count);
		write_all(fd, buf, req);
		while (got < reply) {
			size_t n = read_some(fd, buf + req, reply - got);
			if (n == 0)
				fail("the guest closed after %zu bytes of reply %llu", got, i + 1);
			got += n;
		}
		if (i >= warm)
			lat[i - warm] = now_ns() - t0;
	}
	int64_t t_end = now_ns();
	if (shutdown(fd, SHUT_WR) < 0)
		die("shutdown");
	snprintf(progress, sizeof(progress), "all round trips done, waiting for the guest to close");
	char extra;
	if (read_some(fd, &extra, 1) != 0)
		fail("the guest sent more than its replies");
	close(fd);
	qsort(lat, count, sizeof(*lat), cmp_i64);
	result("rr_rate", (double)count / ((double)(t_end - t_start) / 1e9), "req/s");
	result("rr_p50", (double)percentile(lat, count, 50) / 1e3, "us");
	result("rr_p99", (double)percentile(lat, count, 99) / 1e3, "us");
	if (verbose) {
		unsigned long long slow = 0;
		for (unsigned long long i = 0; i < count; i++)
			slow += lat[i] >= 1000000;
		fprintf(stderr, "bench-netclient: rr: round trips in µs: min %.1f, p10 %.1f, p50 %.1f, p90 %.1f, p99 %.1f, p99.9 %.1f, max %.1f; %llu of %llu over 1 ms\n",
			(double)lat[0] / 1e3, (double)percentile(lat, count, 10) / 1e3,
			(double)percentile(lat, count, 50) / 1e3, (double)percentile(lat, count, 90) / 1e3,
			(double)percentile(lat, count, 99) / 1e3, (double)percentile(lat, count, 99.9) / 1e3,
			(double)lat[count - 1] / 1e3, slow, count);
	}
	free(lat);
}

struct slot {
	int fd;			/* -1: free */
	int connected;
	size_t got;
};

/* What the open connections of cps wait for. */
static void
cps_progress(const struct slot *s, int conc, unsigned long long done, unsigned long long count)
{
	size_t len = (size_t)snprintf(progress, sizeof(progress), "%llu of %llu connections done", done, count);

	for (int i = 0; i < conc && len < sizeof(progress); i++)
		if (s[i].fd >= 0)
			len += (size_t)snprintf(progress + len, sizeof(progress) - len, s[i].connected ?
						"; one connected, %zu reply bytes so far, no end" :
						"; one not connected yet (no SYN-ACK)", s[i].got);
}

static void
do_cps(unsigned long long count, size_t reply, int conc)
{
	unsigned long long warm = count / 10 < 50 ? count / 10 : 50;
	unsigned long long started = 0, done = 0;
	struct slot s[MAX_CONC];
	struct pollfd p[MAX_CONC];
	int64_t t_start = 0;

	if (count <= warm)
		fail("COUNT too small");
	for (int i = 0; i < conc; i++)
		s[i].fd = -1;
	if (first_connection) {
		/* The run's first connection, retried while refused (-w). */
		s[0].fd = connect_to(1);	/* non-blocking, as every socket here */
		s[0].connected = 1;
		s[0].got = 0;
		started = 1;
	}
	t_start = now_ns();
	while (done < count) {
		int n = 0;
		for (int i = 0; i < conc; i++) {
			if (s[i].fd < 0 && started < count) {
				s[i].fd = start_connect(1);
				s[i].connected = 0;
				s[i].got = 0;
				started++;
			}
			p[i].fd = s[i].fd;
			p[i].events = s[i].fd < 0 ? 0 : s[i].connected ? POLLIN : POLLOUT;
			p[i].revents = 0;
			n += s[i].fd >= 0;
		}
		if (n == 0)
			break;
		cps_progress(s, conc, done, count);
		if (poll(p, (nfds_t)conc, left_ms()) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (int i = 0; i < conc; i++) {
			if (s[i].fd < 0 || !p[i].revents)
				continue;
			if (!s[i].connected) {
				int err = connect_error(s[i].fd);
				if (err) {
					errno = err;
					die("connect");
				}
				s[i].connected = 1;
				continue;
			}
			ssize_t r;
			while ((r = read(s[i].fd, buf, sizeof(buf))) > 0)
				s[i].got += (size_t)r;
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r < 0)
				die("read");
			if (s[i].got != reply)
				fail("a connection brought %zu bytes, not %zu", s[i].got, reply);
			close(s[i].fd);
			s[i].fd = -1;
			if (++done == warm)
				t_start = now_ns();
		}
	}
	int64_t t_end = now_ns();
	result("cps", (double)(count - warm) / ((double)(t_end - t_start) / 1e9), "conn/s");
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-netclient [-v] [-t SECONDS] [-w SECONDS] [-c CONC] HOST PORT TEST [ARG...]...\n"
		"  tests: sink BYTES | source BYTES | rr REQ REPLY COUNT | cps COUNT REPLY\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double limit = 60, wait_s = 0;
	int opt, conc = 1;

	signal(SIGPIPE, SIG_IGN);
	while ((opt = getopt(argc, argv, "+vt:w:c:")) != -1) {
		switch (opt) {
		case 'v': verbose = 1; break;
		case 't': limit = atof(optarg); break;
		case 'w': wait_s = atof(optarg); break;
		case 'c': conc = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind < 3 || limit <= 0 || wait_s < 0 || conc < 1 || conc > MAX_CONC)
		usage();
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[optind], &peer.sin_addr) != 1)
		fail("not an IPv4 address: %s", argv[optind]);
	unsigned long long port = number(argv[optind + 1], "PORT");
	if (port == 0 || port > 65535)
		fail("not a port: %llu", port);
	peer.sin_port = htons((uint16_t)port);
	wait_ns = (int64_t)(wait_s * 1e9);

	for (int i = optind + 2; i < argc;) {
		const char *t = argv[i];
		test = t;
		/* The first connection's wait for the guest is not the test's. */
		deadline = now_ns() + (int64_t)(limit * 1e9) + (first_connection ? wait_ns : 0);
		if (!strcmp(t, "sink")) {
			do_sink(number(argv[i + 1], "sink BYTES"));
			i += 2;
		} else if (!strcmp(t, "source")) {
			do_source(number(argv[i + 1], "source BYTES"));
			i += 2;
		} else if (!strcmp(t, "rr")) {
			unsigned long long q = number(i + 1 < argc ? argv[i + 1] : NULL, "rr REQ");
			unsigned long long r = number(i + 2 < argc ? argv[i + 2] : NULL, "rr REPLY");
			unsigned long long c = number(i + 3 < argc ? argv[i + 3] : NULL, "rr COUNT");
			if (q == 0 || q + r > BUF_SIZE || c == 0)
				fail("REQ must be 1 or more, REQ + REPLY at most %d, COUNT 1 or more", BUF_SIZE);
			do_rr((size_t)q, (size_t)r, c);
			i += 4;
		} else if (!strcmp(t, "cps")) {
			unsigned long long c = number(i + 1 < argc ? argv[i + 1] : NULL, "cps COUNT");
			unsigned long long r = number(i + 2 < argc ? argv[i + 2] : NULL, "cps REPLY");
			if (r > BUF_SIZE)
				fail("REPLY at most %d", BUF_SIZE);
			do_cps(c, (size_t)r, conc);
			i += 3;
		} else {
			fail("unknown test (sink, source, rr, cps)");
		}
		progress[0] = 0;
		cur_fd = -1;
	}
	test = "goodbye";
	deadline = now_ns() + (int64_t)(limit * 1e9);
	close(connect_to(0));
	return 0;
}
