/*
 * libFuzzer target for lib/net's receive path: the input is a mode byte
 * and a sequence of frames (a 2-byte big-endian length, then the frame's
 * bytes) handed to eth_input() one after another, so fragments, ARP
 * exchanges and DHCP replies can span frames.  Mode bit 0 runs a DHCP
 * client (its xid is always the same, so replies can match), bit 1 marks
 * frames as checked by the device (NB_CSUM_VALID).  A UDP endpoint on
 * port 7 echoes what it gets, which drives the output side (ARP
 * queueing, fragmentation).  After every input all state that holds
 * buffers is flushed or timed out, and every netbuf must be back: a
 * leak aborts.  Built and run by `make fuzz-net` in tests/unit; seeds in
 * tests/unit/net-corpus.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net-fake.h"

#define OUR	NET_ADDR(10, 0, 0, 2)
#define MASK24	NET_ADDR(255, 255, 255, 0)
#define GW	NET_ADDR(10, 0, 0, 254)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netif *nif;
static struct udp_pcb *echo;
static int owner;
static unsigned long baseline;

static void
setup(void)
{
	baseline = netbuf_in_use();
	nif = fake_attach();
	tx.keep = false;	/* count transmitted frames, keep none */
	netif_set_addr(nif, OUR, MASK24, GW, NULL);
	echo = udp_new(&owner);
	udp_bind(echo, 0, net_htons(7), false);
}

static void
echo_back(void)
{
	static uint8_t buf[70000];
	uint32_t addr;
	uint16_t port;
	ssize_t n;

	while ((n = udp_recv(echo, buf, sizeof(buf), NULL, &addr, &port, false)) != -EAGAIN) {
		if (n >= 0)
			udp_send(echo, buf, (size_t)n, addr, port);
	}
	udp_error(echo, true);
	net_unlock();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!nif)
		setup();
	if (size < 1)
		return 0;
	uint8_t mode = *data++;
	size--;
	if (mode & 1) {
		fake_rand = 12345;	/* the xid the seeds use */
		dhcp_start(nif);
	}
	while (size >= 2) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		struct netbuf *nb = netbuf_alloc(16);
		if (len > netbuf_tailroom(nb))
			len = netbuf_tailroom(nb);
		memcpy(netbuf_put_tail(nb, (uint32_t)len), data, len);
		nb->flags = mode & 2 ? NB_CSUM_VALID : 0;
		nb->dev = &fake_nd;
		net_lock();
		eth_input(&fake_nd, nb);
		net_unlock();
		data += len;
		size -= len;
		echo_back();
	}
	/* Let go of everything: DHCP, ARP's queues, reassembly (timed out). */
	dhcp_stop(nif);
	netif_set_addr(nif, OUR, MASK24, GW, NULL);
	arp_flush(nif);
	advance(200000);
	echo_back();
	if (netbuf_in_use() != baseline)
		abort();	/* a leak */
	return 0;
}
