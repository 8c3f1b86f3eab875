/*
 * Passive opens and the numbers that make connections hard to spoof.
 * A listener answers a SYN with a child PCB in SYN_RECEIVED on its SYN
 * queue; the handshake's last ACK moves the child to the accept queue,
 * where tcp_accept() finds it.  Both queues are bounded: a full accept
 * queue drops SYNs (the peer retries), and a full SYN queue switches to
 * SYN cookies, which keep no state at all until a valid ACK comes back,
 * so a SYN flood costs memory for at most syn_max children per listener.
 *
 * Initial sequence numbers follow RFC 6528: a keyed hash (SipHash-2-4,
 * with a secret from net_random32()) of the 4-tuple plus a 4 us clock.
 * SYN cookies (Bernstein's layout): 5 bits of a 64-second counter, 3
 * bits naming the MSS from a table, 24 bits of the keyed hash of the
 * 4-tuple, the counter and the peer's ISN.  Without TCP timestamps a
 * cookie cannot carry window scaling or SACK-permitted, so connections
 * made from cookies go without them (as on Linux without timestamps).
 *
 * Not here: the segment processing a child does once it exists
 * (tcp_input.c).
 */
#include "lib/net/tcp_internal.h"

#define COOKIE_PERIOD_MS	64000

static uint64_t sip_key[2];

/* The MSS values a cookie can name (3 bits). */
static const uint16_t cookie_mss[8] = { 216, 536, 1200, 1360, 1400, 1440, 1452, 1460 };

void
tcp_syn_init(void)
{
	sip_key[0] = (uint64_t)net_random32() << 32 | net_random32();
	sip_key[1] = (uint64_t)net_random32() << 32 | net_random32();
}

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND						\
	do {							\
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0;		\
		v0 = ROTL(v0, 32);				\
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2;		\
		v2 = ROTL(v2, 32);				\
	} while (0)

/* SipHash-2-4 of n 64-bit words. */
static uint64_t
siphash(const uint64_t *m, int n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ sip_key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ sip_key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ sip_key[0];
	uint64_t v3 = 0x7465646279746573ull ^ sip_key[1];
	uint64_t b = (uint64_t)(8 * n) << 56;

	for (int i = 0; i < n; i++) {
		v3 ^= m[i];
		SIPROUND;
		SIPROUND;
		v0 ^= m[i];
	}
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t
tcp_isn(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint64_t m[2] = { (uint64_t)laddr | (uint64_t)raddr << 32,
			  (uint64_t)lport | (uint64_t)rport << 16 | 1ull << 32 };

	return (uint32_t)siphash(m, 2) + (uint32_t)(net_now_us() / 4);
}

static uint32_t
cookie_hash(const struct tcp_seg *s, uint32_t count, uint32_t peer_isn)
{
	uint64_t m[3] = { (uint64_t)s->src | (uint64_t)s->dst << 32,
			  (uint64_t)s->sport | (uint64_t)s->dport << 16 | (uint64_t)count << 32,
			  (uint64_t)peer_isn | 2ull << 32 };

	return (uint32_t)siphash(m, 3) & 0xffffff;
}

static uint32_t
cookie_make(const struct tcp_seg *s, uint16_t *mss)
{
	uint32_t count = (uint32_t)(net_now_ms() / COOKIE_PERIOD_MS);
	uint16_t want = s->has_mss ? s->opt_mss : TCP_DEFAULT_MSS;
	uint16_t mtu = 0;
	uint32_t idx = 0;

	ip_route_src(s->src, &mtu);
	if (mtu > IP_HLEN + TCP_HLEN && mtu - IP_HLEN - TCP_HLEN < want)
		want = (uint16_t)(mtu - IP_HLEN - TCP_HLEN);
	while (idx < 7 && cookie_mss[idx + 1] <= want)
		idx++;
	*mss = cookie_mss[idx];
	return (count & 31) << 27 | idx << 24 | cookie_hash(s, count, s->seq);
}

/* The MSS a returning ACK's cookie names, or 0 if it is not ours. */
static uint16_t
cookie_check(const struct tcp_seg *s)
{
	uint32_t cookie = s->ack - 1, now = (uint32_t)(net_now_ms() / COOKIE_PERIOD_MS);

	for (uint32_t age = 0; age < 2; age++) {
		uint32_t count = now - age;

		if ((count & 31) == cookie >> 27 &&
		    cookie_hash(s, count, s->seq - 1) == (cookie & 0xffffff))
			return cookie_mss[(cookie >> 24) & 7];
	}
	return 0;
}

void
tcp_parse_syn_options(struct tcp_pcb *pcb, const struct tcp_seg *s)
{
	tcp_set_mss(pcb, s->has_mss ? s->opt_mss : TCP_DEFAULT_MSS);
	if (s->has_ws) {
		pcb->flags |= TF_WSCALE;
		pcb->snd_wscale = s->opt_ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : s->opt_ws;
		if (pcb->flags & TF_PASSIVE)
			pcb->rcv_wscale = tcp_pick_wscale(pcb->rcvbuf);
	} else {
		/* RFC 7323 2.3: scaling needs both sides. */
		pcb->snd_wscale = pcb->rcv_wscale = 0;
	}
	if (s->sack_ok)
		pcb->flags |= TF_SACK_OK;
}

/* A child inherits the listener's options, as sockets do. */
static struct tcp_pcb *
child_new(struct tcp_pcb *l, const struct tcp_seg *s)
{
	struct tcp_pcb *c = tcp_pcb_alloc(NULL);

	if (!c)
		return NULL;
	c->flags = (l->flags & (TF_NODELAY | TF_KEEPALIVE | TF_LINGER0)) | TF_PASSIVE | TF_BOUND;
	c->c.reuse = l->c.reuse;
	c->sndbuf = l->sndbuf;
	c->rcvbuf = l->rcvbuf;
	c->user_mss = l->user_mss;
	c->keepidle_s = l->keepidle_s;
	c->keepintvl_s = l->keepintvl_s;
	c->keepcnt = l->keepcnt;
	c->c.laddr = s->dst;
	c->c.lport = s->dport;
	c->c.raddr = s->src;
	c->c.rport = s->sport;
	c->last_rx_ms = net_now_ms();
	c->listener = l;
	tcp_bind_insert(&c->c);
	tcp_set_state(c, TCPS_SYN_RECEIVED);
	tcp_htable_add(&tcp_ehash, &c->c.hnode, tcp_ehash_of(s->src, s->dport, s->sport));
	return c;
}

static void
synq_add(struct tcp_pcb *l, struct tcp_pcb *c)
{
	c->qprev = NULL;
	c->qnext = l->synq;
	if (l->synq)
		l->synq->qprev = c;
	l->synq = c;
	l->syn_len++;
}

void
tcp_child_unlink(struct tcp_pcb *c)
{
	struct tcp_pcb *l = c->listener;

	if (!l)
		return;
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else if (c->flags & TF_ACCEPTQ)
		l->acceptq = c->qnext;
	else
		l->synq = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else if (c->flags & TF_ACCEPTQ)
		l->acceptq_tail = c->qprev;
	if (c->flags & TF_ACCEPTQ)
		l->accept_len--;
	else
		l->syn_len--;
	c->qnext = c->qprev = NULL;
	c->listener = NULL;
	c->flags &= ~TF_ACCEPTQ;
}

/* The handshake completed: from the SYN queue to the accept queue. */
void
tcp_child_established(struct tcp_pcb *c)
{
	struct tcp_pcb *l = c->listener;

	tcp_child_unlink(c);
	c->listener = l;
	c->flags |= TF_ACCEPTQ;
	c->qnext = NULL;
	c->qprev = l->acceptq_tail;
	if (l->acceptq_tail)
		l->acceptq_tail->qnext = c;
	else
		l->acceptq = c;
	l->acceptq_tail = c;
	l->accept_len++;
	l->wake |= POLLIN;
	tcp_notify(l);
}

bool
tcp_accept_queue_full(const struct tcp_pcb *l)
{
	return l->accept_len >= l->backlog;
}

/* A returning cookie: the connection is made straight in ESTABLISHED. */
static void
cookie_ack(struct tcp_pcb *l, struct tcp_seg *s)
{
	uint16_t mss = cookie_check(s);
	struct tcp_pcb *c;

	if (!mss) {
		tcp_reply_rst(s);
		return;
	}
	if (tcp_accept_queue_full(l)) {
		NET_STAT(tcp_syn_drop);
		return;
	}
	c = child_new(l, s);
	if (!c)
		return;
	NET_STAT(tcp_syncookie_ok);
	NET_STAT(tcp_passive_open);
	synq_add(l, c);
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->rcv_adv = s->seq + tcp_min32(l->rcvbuf, 65535);
	c->iss = s->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = c->write_seq = s->ack;
	tcp_set_mss(c, mss);
	c->snd_wscale = c->rcv_wscale = 0;
	c->snd_wnd = c->max_sndwnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	tcp_established(c);
	tcp_child_established(c);
	/* The ACK may carry data or a FIN already. */
	tcp_process(c, s);
	tcp_finish(c);
}

/* RFC 9293 3.10.7.2: a segment for a listener. */
void
tcp_listen_input(struct tcp_pcb *l, struct tcp_seg *s)
{
	struct tcp_pcb *c;

	if (s->flags & TH_RST)
		return;
	if (s->flags & TH_ACK) {
		if (!(s->flags & TH_SYN) && l->cookie_ms &&
		    net_now_ms() - l->cookie_ms < 2 * COOKIE_PERIOD_MS)
			cookie_ack(l, s);
		else
			tcp_reply_rst(s);
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	if (tcp_accept_queue_full(l)) {
		NET_STAT(tcp_syn_drop);
		return;
	}
	if (l->syn_len >= l->syn_max) {
		uint16_t mss;
		uint32_t cookie = cookie_make(s, &mss);

		l->cookie_ms = net_now_ms();
		if (!l->cookie_ms)
			l->cookie_ms = 1;
		NET_STAT(tcp_syncookie_tx);
		tcp_send_cookie_synack(s, cookie, mss, (uint16_t)tcp_min32(l->rcvbuf, 65535));
		return;
	}
	c = child_new(l, s);
	if (!c) {
		NET_STAT(tcp_syn_drop);
		return;
	}
	NET_STAT(tcp_passive_open);
	synq_add(l, c);
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	tcp_parse_syn_options(c, s);
	c->iss = tcp_isn(c->c.laddr, c->c.lport, c->c.raddr, c->c.rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->write_seq = c->iss + 1;
	c->snd_wnd = c->max_sndwnd = s->wnd;	/* never scaled in a SYN */
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	tcp_send_syn(c);
	tcp_rexmit_restart(c);
}

/* The listener is closing: its unaccepted connections are reset. */
void
tcp_listener_close(struct tcp_pcb *l)
{
	while (l->synq || l->acceptq) {
		struct tcp_pcb *c = l->synq ? l->synq : l->acceptq;

		tcp_send_rst(c);
		tcp_drop(c, 0);
		tcp_finish(c);
	}
}
