/*
 * The network stack below TCP, seen from an application
 * (tests/guest/net-stack.test drives it):
 *
 *   lo                  no NIC: UDP over 127.0.0.1 (small, and large
 *                       enough to be fragmented and reassembled), to a
 *                       closed port, toro_net_config for lo and eth0
 *   dhcp SECONDS        QEMU user networking: the DHCP lease
 *                       (10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3) and
 *                       /etc/resolv.conf, then serve
 *   static ADDR SECONDS ip=: eth0 has ADDR, not from DHCP, then serve
 *   move SECONDS        (two cores) eth0 dedicated to core 1 while
 *                       running, then serve
 *   none                no DHCP answer: boot went on without an address
 *
 * Serving is a UDP echo server on port 7 until a datagram "quit" arrives
 * (or SECONDS pass: a failure), then the counters as "stat NAME VALUE"
 * lines.  Every check prints a TAP line; the exit status is 0 only if
 * all passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <toro/dev.h>
#include <toro/net.h>

#include "net-guest.h"
#include "tap.h"

static unsigned char buf[65536], big[65507];

static int
udp_socket(const char *addr, int port)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, addr, &a.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return s;
}

static struct sockaddr_in
to(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, addr, &a.sin_addr);
	return a;
}

static int
test_loopback(void)
{
	struct toro_net_config c;
	int a = udp_socket("127.0.0.1", 9000), b = udp_socket("0.0.0.0", 0);
	struct sockaddr_in ta = to("127.0.0.1", 9000), from;
	socklen_t fl = sizeof(from);

	ok(toro_net_config("eth0", &c) == ENODEV, "no NIC: eth0 is ENODEV");
	ok(toro_net_config("lo", &c) == 0 && c.addr == htonl(0x7F000001) &&
	   c.netmask == htonl(0xFF000000), "lo is 127.0.0.1/8");
	ok(a >= 0 && b >= 0, "two UDP sockets");
	ok(sendto(b, "hello", 5, 0, (struct sockaddr *)&ta, sizeof(ta)) == 5, "sendto 127.0.0.1:9000");
	ssize_t n = recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	ok(n == 5 && !memcmp(buf, "hello", 5) && from.sin_addr.s_addr == htonl(0x7F000001),
	   "received from 127.0.0.1 (%zd bytes)", n);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	ok(sendto(b, big, sizeof(big), 0, (struct sockaddr *)&ta, sizeof(ta)) == sizeof(big),
	   "sendto 65507 bytes (fragmented into 45)");
	n = recv(a, buf, sizeof(buf), 0);
	ok(n == (ssize_t)sizeof(big) && !memcmp(buf, big, sizeof(big)),
	   "65507 bytes reassembled intact (%zd)", n);
	errno = 0;
	ok(sendto(b, big, 65508, 0, (struct sockaddr *)&ta, sizeof(ta)) < 0 && errno == EMSGSIZE,
	   "65508 bytes: EMSGSIZE");
	/* A connected socket learns of the closed port (ICMP over loopback). */
	int c2 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in closed = to("127.0.0.1", 9001);
	connect(c2, (struct sockaddr *)&closed, sizeof(closed));
	send(c2, "x", 1, 0);
	struct pollfd p = { c2, POLLIN, 0 };
	poll(&p, 1, 1000);
	errno = 0;
	n = recv(c2, buf, 1, MSG_DONTWAIT);
	int e = errno;
	ok(n < 0 && e == ECONNREFUSED,
	   "connected socket to a closed port: ECONNREFUSED (errno %d)", e);
	struct toro_net_stats s;
	int r = toro_net_stats(&s, sizeof(s));
	ok(r == 0 && s.loop_rx >= 47 && s.ip_frag_reasm >= 1 && s.udp_drop_noport >= 1,
	   "counters: %llu looped, %llu reassembled, %llu to closed ports",
	   (unsigned long long)s.loop_rx, (unsigned long long)s.ip_frag_reasm,
	   (unsigned long long)s.udp_drop_noport);
	ok(toro_net_stats((void *)8, sizeof(s)) == EINVAL, "a bad pointer: EINVAL");
	close(a);
	close(b);
	close(c2);
	return tap_end();
}

/* Echoes UDP on port 7 until "quit" or the deadline. */
static void
serve(int seconds)
{
	int s = udp_socket("0.0.0.0", 7);
	time_t end = time(NULL) + seconds;
	unsigned echoed = 0;
	int quit = 0;

	ok(s >= 0, "UDP echo server on port 7");
	printf("# serving\n");
	fflush(stdout);
	while (s >= 0 && !quit && time(NULL) < end) {
		struct pollfd p = { s, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n == 4 && !memcmp(buf, "quit", 4))
			quit = 1;
		if (n >= 0 && sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) == n)
			echoed++;
	}
	ok(quit, "told to stop by the host (%u datagrams echoed)", echoed);
	print_stats();
}

int
main(int argc, char **argv)
{
	struct toro_net_config c;
	const char *mode = argc > 1 ? argv[1] : "lo";
	int seconds = argc > 2 ? atoi(argv[argc - 1]) : 60;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "lo"))
		return test_loopback();
	int got = toro_net_config(NULL, &c);
	ok(got == 0, "eth0 exists");
	printf("# eth0 %s/%s gw %s dns %s dhcp %d lease %u cpu %d mtu %u\n", ntoa(c.addr),
	       ntoa(c.netmask), ntoa(c.gateway), ntoa(c.dns[0]), c.dhcp, c.lease_seconds,
	       c.cpu, c.mtu);
	if (!strcmp(mode, "dhcp")) {
		ok(c.addr == inet_addr("10.0.2.15") && c.netmask == inet_addr("255.255.255.0") &&
		   c.gateway == inet_addr("10.0.2.2") && c.dns[0] == inet_addr("10.0.2.3") &&
		   c.dhcp && c.lease_seconds > 0, "DHCP gave 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3");
		FILE *f = fopen("/etc/resolv.conf", "r");
		char line[128] = "";
		if (f) {
			fgets(line, sizeof(line), f);
			fclose(f);
		}
		ok(!strcmp(line, "nameserver 10.0.2.3\n"), "/etc/resolv.conf names it");
	} else if (!strcmp(mode, "static") && argc > 3) {
		ok(c.addr == inet_addr(argv[2]) && !c.dhcp, "ip= gave %s", argv[2]);
	} else if (!strcmp(mode, "move")) {
		int r = toro_dedicate("eth0", 1);
		toro_net_config(NULL, &c);
		ok(r == 0 && c.cpu == 1 && toro_dedicated_cpu("eth0") == 1,
		   "eth0 moved to core 1 while running (%d, cpu %d)", r, c.cpu);
	} else if (!strcmp(mode, "none")) {
		ok(c.addr == 0, "no DHCP answer: no address, and the program runs");
		return tap_end();
	}
	serve(seconds);
	return tap_end();
}
