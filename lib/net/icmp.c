/*
 * ICMP for a host (RFC 792, RFC 1122 3.2.2): answers echo requests
 * (ping, including reassembled ones larger than a buffer), passes
 * destination-unreachable and time-exceeded messages about what we sent
 * to TCP or UDP, and sends destination unreachable for a closed UDP port
 * or an unknown protocol, rate-limited (RFC 1812 4.3.2.8) so a scan or a
 * flood cannot make us a traffic amplifier.  Echo requests to broadcast
 * addresses are ignored for the same reason.  No redirects, timestamps or
 * router discovery.
 */
#include <errno.h>
#include <string.h>

#include "lib/net/inet.h"

#define ICMP_HLEN	8

static struct net_ratelimit unreach_limit = { .per_s = 100, .burst = 50 };

static void
echo_reply(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	nb = nb_unshare(nb);
	if (!nb)
		return;
	nb->data[0] = ICMP_ECHO_REPLY;
	nb->data[2] = nb->data[3] = 0;
	uint16_t c = net_csum_fold(nb_csum_chain(0, nb));
	memcpy(nb->data + 2, &c, 2);
	NET_STAT(icmp_tx);
	ip_output(nb, dst, src, IPPROTO_ICMP_, false, 0);
}

static int
unreach_errno(uint8_t code)
{
	switch (code) {
	case ICMP_UNREACH_NET:
		return -ENETUNREACH;
	case ICMP_UNREACH_PROTO:
		return -ENOPROTOOPT;
	case ICMP_UNREACH_PORT:
		return -ECONNREFUSED;
	case ICMP_UNREACH_NEEDFRAG:
		return -EMSGSIZE;
	}
	return -EHOSTUNREACH;
}

/* An error about a packet we sent: its header and first 8 bytes follow. */
static void
error_input(struct netbuf *nb, uint8_t type, uint8_t code)
{
	const uint8_t *in = nb->data + ICMP_HLEN;
	uint32_t avail = nb->len - ICMP_HLEN;

	if (avail < IP_HLEN || (in[0] >> 4) != 4) {
		NET_STAT(icmp_drop_bad);
		return;
	}
	unsigned ihl = (in[0] & 15) * 4u;
	if (ihl < IP_HLEN || avail < ihl + 4 || !ip_is_local(get_addr(in + 12))) {
		NET_STAT(icmp_drop_bad);
		return;
	}
	uint32_t dst = get_addr(in + 16);
	uint16_t sport, dport;
	memcpy(&sport, in + ihl, 2);
	memcpy(&dport, in + ihl + 2, 2);
	int err = type == ICMP_UNREACH ? unreach_errno(code) : -EHOSTUNREACH;
	if (in[9] == IPPROTO_TCP_ && tcp_icmp_error)
		tcp_icmp_error(dst, dport, sport, err);
	else if (in[9] == IPPROTO_UDP_)
		udp_icmp_error(dst, dport, sport, err);
}

void
icmp_input(struct netif *nif, struct netbuf *nb, uint32_t src, uint32_t dst)
{
	(void)nif;
	NET_STAT(icmp_rx);
	if (nb->len < ICMP_HLEN ||
	    (!(nb->flags & NB_CSUM_VALID) && net_csum_fold(nb_csum_chain(0, nb)))) {
		NET_STAT(icmp_drop_bad);
		netbuf_put(nb);
		return;
	}
	uint8_t type = nb->data[0], code = nb->data[1];
	switch (type) {
	case ICMP_ECHO:
		if (ip_is_broadcast(dst) || ip_is_multicast(dst) ||
		    (nb->flags & NB_BCAST) || !src)
			break;
		echo_reply(nb, src, dst);
		return;
	case ICMP_UNREACH:
	case ICMP_TIME_EXCEEDED:
		error_input(nb, type, code);
		break;
	}
	netbuf_put(nb);
}

void
icmp_send_unreach(const struct netbuf *nb, uint8_t code)
{
	const uint8_t *orig = nb->buf + nb->l3;
	unsigned ihl = (orig[0] & 15) * 4u;
	uint32_t src = get_addr(orig + 12), dst = get_addr(orig + 16);
	const uint8_t *end = nb->data + nb->len;

	/* Never about an error, a broadcast, a later fragment or a nobody. */
	if (!src || ip_is_broadcast(src) || ip_is_multicast(src) ||
	    ip_is_broadcast(dst) || ip_is_multicast(dst) ||
	    (get16(orig + 6) & IP_OFFMASK) || orig[9] == IPPROTO_ICMP_ ||
	    end < orig + ihl)
		return;
	if (!net_ratelimit_ok(&unreach_limit)) {
		NET_STAT(icmp_rate_limited);
		return;
	}
	uint32_t quote = ihl + 8;
	if ((uint32_t)(end - orig) < quote)
		quote = (uint32_t)(end - orig);
	struct netbuf *r = netbuf_alloc(NETBUF_HEADROOM);
	if (!r)
		return;
	uint8_t *p = netbuf_put_tail(r, ICMP_HLEN + quote);
	memset(p, 0, ICMP_HLEN);
	p[0] = ICMP_UNREACH;
	p[1] = code;
	memcpy(p + ICMP_HLEN, orig, quote);
	uint16_t c = net_csum_fold(net_csum_add(0, p, ICMP_HLEN + quote));
	memcpy(p + 2, &c, 2);
	NET_STAT(icmp_tx);
	ip_output(r, dst, src, IPPROTO_ICMP_, false, 0);
}
