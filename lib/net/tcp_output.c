/*
 * Sending: building segments (header, options, checksum offload) and
 * deciding what may go now.  tcp_output() walks the send queue from
 * snd_nxt and sends whole queued netbufs while the peer's window and the
 * congestion window allow, holding small segments back for Nagle
 * (unless TCP_NODELAY) or MSG_MORE, avoiding silly windows (RFC 9293
 * 3.8.6.2.1), putting the FIN after the data, and starting the persist
 * timer when only a closed window stands in the way.  Also the lone
 * control segments: SYN, pure ACK, window probes and RSTs.
 *
 * A queued netbuf is handed to ip_output() itself with an extra
 * reference (one copy in all: tcp_send's).  ip_output() and the driver
 * move its data/len, so a queued netbuf's payload is always found at
 * buf + NETBUF_HEADROOM (or, lent by sendfile, at ext_data) and its
 * length from its neighbour's sequence number; a retransmission rewrites
 * the headers in place only if nobody else holds the netbuf any more,
 * else it sends a copy.  Lent bytes go as a slice behind a header netbuf
 * where the device takes frames in pieces (TF_SG), copied elsewhere
 * (loopback).
 *
 * Not here: what ACKs do to the queue and the windows, retransmission
 * and congestion control (tcp_ack.c); SYN cookies (tcp_syn.c).
 */
#include "lib/net/tcp_internal.h"

/* Writes MSS, window scale and SACK-permitted for a SYN; the length. */
static int
syn_options(const struct tcp_pcb *pcb, uint8_t *o, bool wscale, bool sack)
{
	int n = 0;

	o[n++] = TCPOPT_MSS;
	o[n++] = 4;
	tcp_put16(o + n, pcb->adv_mss);
	n += 2;
	if (wscale) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WSCALE;
		o[n++] = 3;
		o[n++] = pcb->rcv_wscale;
	}
	if (sack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_OK;
		o[n++] = 2;
	}
	return n;
}

/*
 * Pushes the TCP header (and options) in front of nb's payload, fills
 * it, and sends it from src to dst.  The checksum field gets the
 * pseudo-header sum and the rest is left to the device (or ip_output).
 */
static void
emit(struct netbuf *nb, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
     int optlen)
{
	uint32_t hlen = TCP_HLEN + (uint32_t)optlen;
	uint8_t *th = netbuf_push(nb, hlen);
	uint16_t sum;

	if (!th) {
		netbuf_put(nb);
		return;
	}
	memcpy(th, &sport, 2);
	memcpy(th + 2, &dport, 2);
	tcp_put32(th + 4, seq);
	tcp_put32(th + 8, (flags & TH_ACK) ? ack : 0);
	th[12] = (uint8_t)(hlen / 4 << 4);
	th[13] = flags;
	tcp_put16(th + 14, wnd);
	tcp_put16(th + 18, 0);
	if (optlen)
		memcpy(th + TCP_HLEN, opt, (size_t)optlen);
	uint32_t total = nb->len;
	for (unsigned i = 0; i < nb->nslices; i++)
		total += nb->slices[i].len;
	sum = (uint16_t)~net_csum_fold(net_csum_pseudo(src, dst, IPPROTO_TCP_, (uint16_t)total));
	memcpy(th + 16, &sum, 2);
	NET_STAT(tcp_tx);
	ip_output(nb, src, dst, IPPROTO_TCP_, true, 16);
}

void
tcp_send_ctl(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd)
{
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);

	if (nb)
		emit(nb, src, dst, sport, dport, seq, ack, flags, wnd, NULL, 0);
}

/* Every segment we send with ACK settles the ACK we owed. */
static void
acked_now(struct tcp_pcb *pcb)
{
	pcb->rcv_acked = pcb->rcv_nxt;
	pcb->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED);
	tcp_timer_stop(pcb, TT_DELACK);
}

/*
 * Sends seq..seq+len of the send queue from netbuf q (NULL: no data)
 * with flags, ACK and our window, plus SACK blocks when we have some.
 */
static void
xmit(struct tcp_pcb *pcb, struct netbuf *q, uint32_t seq, uint32_t len, uint8_t flags)
{
	uint8_t opt[TCP_MAX_OPTLEN];
	int optlen = 0;
	struct netbuf *nb;

	if (q && q->ext && (pcb->flags & TF_SG)) {
		/* Lent bytes: a header netbuf and the payload as a slice. */
		if (!(nb = netbuf_alloc(NETBUF_HEADROOM)))
			return;
		nb->slices = netbuf_slice_area(nb);
		nb->nslices = 1;
		nb->slices[0] = (struct nb_slice){ netbuf_ref(q), tcp_snd_payload(q), len };
	} else if (q && !q->ext && __atomic_load_n(&q->refs, __ATOMIC_ACQUIRE) == 1) {
		/* Nobody else holds it: send the queued netbuf itself. */
		nb = netbuf_ref(q);
		nb->data = tcp_snd_payload(q);
		nb->len = len;
	} else {
		nb = netbuf_alloc(NETBUF_HEADROOM);
		if (!nb)
			return;
		if (q)
			memcpy(netbuf_put_tail(nb, len), tcp_snd_payload(q), len);
	}
	flags |= TH_ACK;
	/*
	 * SACK blocks ride on a data segment only when they fit within the
	 * MSS beside its data (RFC 6691): the send queue is cut at a full
	 * MSS and IPv4 refuses a DF packet over the MTU, so a full segment
	 * with blocks was dropped whole.  Pure ACKs, which out-of-order
	 * arrivals trigger at once, always carry them.
	 */
	if ((pcb->flags & TF_SACK_OK) && len + TCP_MAX_OPTLEN <= pcb->mss)
		optlen = tcp_sack_option(pcb, opt);
	uint16_t wnd = tcp_rcv_window(pcb);

	acked_now(pcb);
	emit(nb, pcb->c.laddr, pcb->c.raddr, pcb->c.lport, pcb->c.rport, seq,
	     pcb->rcv_nxt, flags, wnd, opt, optlen);
}

/* Sends queued netbuf q whole, with the FIN if it is the last and fin. */
void
tcp_xmit_nb(struct tcp_pcb *pcb, struct netbuf *q, bool fin)
{
	uint32_t len = tcp_snd_end(pcb, q) - q->seq;

	xmit(pcb, q, q->seq, len, (uint8_t)(TH_PSH * !q->next | (fin ? TH_FIN : 0)));
}

void
tcp_send_fin_only(struct tcp_pcb *pcb)
{
	xmit(pcb, NULL, pcb->write_seq, 0, TH_FIN);
}

/*
 * A pure ACK carries snd_max, not snd_nxt (as BSD does): after an RTO
 * pulled snd_nxt back, the peer would find snd_nxt below its rcv_nxt
 * and discard the segment, ACK field and all.
 */
void
tcp_send_ack(struct tcp_pcb *pcb)
{
	xmit(pcb, NULL, pcb->snd_max, 0, 0);
}

/* A segment the peer must answer with an ACK: keep-alive, window probe. */
void
tcp_send_probe(struct tcp_pcb *pcb)
{
	xmit(pcb, NULL, pcb->snd_una - 1, 0, 0);
}

void
tcp_send_rst(struct tcp_pcb *pcb)
{
	NET_STAT(tcp_rst_tx);
	tcp_send_ctl(pcb->c.laddr, pcb->c.raddr, pcb->c.lport, pcb->c.rport,
		     pcb->snd_max, pcb->rcv_nxt, TH_RST | TH_ACK, 0);
}

/* RFC 9293 3.10.7.1: the RST that answers a segment nobody wants. */
void
tcp_reply_rst(const struct tcp_seg *s)
{
	NET_STAT(tcp_rst_tx);
	if (s->flags & TH_ACK)
		tcp_send_ctl(s->dst, s->src, s->dport, s->sport, s->ack, 0, TH_RST, 0);
	else
		tcp_send_ctl(s->dst, s->src, s->dport, s->sport, 0,
			     s->seq + s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN),
			     TH_RST | TH_ACK, 0);
}

/* Our SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED), first or again. */
void
tcp_send_syn(struct tcp_pcb *pcb)
{
	uint8_t opt[TCP_MAX_OPTLEN];
	bool active = pcb->c.state == TCPS_SYN_SENT;
	int optlen = syn_options(pcb, opt, active || (pcb->flags & TF_WSCALE),
				 active || (pcb->flags & TF_SACK_OK));
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);
	/* RFC 7323 2.2: the window in a SYN is never scaled. */
	uint16_t wnd = (uint16_t)tcp_min32(pcb->rcvbuf, 65535);

	pcb->snd_nxt = pcb->iss + 1;
	if (SEQ_GT(pcb->snd_nxt, pcb->snd_max))
		pcb->snd_max = pcb->snd_nxt;
	/* Karn: time only a SYN that was sent once. */
	if (pcb->retries == 0) {
		pcb->rtt_seq = pcb->iss;
		pcb->rtt_start_us = net_now_us();
		pcb->flags |= TF_RTT_TIMING;
	} else {
		pcb->flags &= ~TF_RTT_TIMING;
	}
	if (!active) {
		pcb->rcv_adv = pcb->rcv_nxt + wnd;
		acked_now(pcb);
	}
	if (nb)
		emit(nb, pcb->c.laddr, pcb->c.raddr, pcb->c.lport, pcb->c.rport, pcb->iss,
		     pcb->rcv_nxt, (uint8_t)(TH_SYN | (active ? 0 : TH_ACK)), wnd, opt, optlen);
}

/* A SYN-ACK for a connection that exists only as a SYN cookie. */
void
tcp_send_cookie_synack(const struct tcp_seg *s, uint32_t cookie, uint16_t mss,
		       uint16_t wnd)
{
	uint8_t opt[4] = { TCPOPT_MSS, 4, (uint8_t)(mss >> 8), (uint8_t)mss };
	struct netbuf *nb = netbuf_alloc(NETBUF_HEADROOM);

	if (nb)
		emit(nb, s->dst, s->src, s->dport, s->sport, cookie, s->seq + 1,
		     TH_SYN | TH_ACK, wnd, opt, (int)sizeof(opt));
}

static bool
can_send_data(const struct tcp_pcb *pcb)
{
	switch (pcb->c.state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		return true;
	}
	return false;
}

/* Whether [start, end) is all covered by the peer's SACK blocks. */
bool
tcp_sacked(const struct tcp_pcb *pcb, uint32_t start, uint32_t end)
{
	for (int i = 0; i < pcb->nsacked; i++)
		if (SEQ_LEQ(pcb->sacked[i].start, start) && SEQ_GEQ(pcb->sacked[i].end, end))
			return true;
	return false;
}

/*
 * Splits queued netbuf q (never sent) so that it holds n bytes; the rest
 * moves to a new netbuf after it.  Only when a small window forces a
 * short segment (rare with SWS avoidance), so the copy is acceptable.
 */
static bool
split(struct tcp_pcb *pcb, struct netbuf *q, uint32_t n)
{
	uint32_t len = tcp_snd_end(pcb, q) - q->seq;
	struct netbuf *r = q->ext ? netbuf_alloc_bare() : netbuf_alloc(NETBUF_HEADROOM);

	if (!r)
		return false;
	if (q->ext) {
		r->ext = kbuf_get(q->ext);
		r->ext_data = q->ext_data + n;
	} else {
		memcpy(tcp_snd_payload(r), tcp_snd_payload(q) + n, len - n);
	}
	r->seq = q->seq + n;
	r->next = q->next;
	q->next = r;
	if (pcb->sndq_tail == q)
		pcb->sndq_tail = r;
	return true;
}

/* Sends a queued netbuf and advances snd_nxt/snd_max past it. */
static void
send_nb(struct tcp_pcb *pcb, struct netbuf *q, bool fin)
{
	uint32_t end = tcp_snd_end(pcb, q);

	if (SEQ_GEQ(q->seq, pcb->snd_max) && !(pcb->flags & TF_RTT_TIMING)) {
		/* Time new data only (Karn's algorithm). */
		pcb->rtt_seq = q->seq;
		pcb->rtt_start_us = net_now_us();
		pcb->flags |= TF_RTT_TIMING;
	}
	tcp_xmit_nb(pcb, q, fin);
	pcb->last_tx_ms = net_now_ms();
	pcb->snd_nxt = end + (fin ? 1 : 0);
	if (SEQ_GT(pcb->snd_nxt, pcb->snd_max))
		pcb->snd_max = pcb->snd_nxt;
	pcb->snd_next_nb = q->next;
	if (!pcb->tmo[TT_REXMIT])
		tcp_rexmit_restart(pcb);
}

/*
 * TCP segmentation offload: q (new data at snd_nxt, a full segment, and
 * allowed out) and the queued segments after it, as many as fit usable
 * bytes of window, NB_SLICES_MAX and an IPv4 datagram, go as one frame
 * that the device cuts into segments of mss bytes.  The frame is a fresh
 * header netbuf with slices of the queued netbufs (a reference each, no
 * copy), so the send queue, ACK processing and retransmission still see
 * one netbuf per segment.  A short segment rides along only last and only
 * if it would go at once anyway (TCP_NODELAY without MSG_MORE, or the
 * FIN's).  The number of segments sent, 0 when q goes alone.
 */
static unsigned
send_gso(struct tcp_pcb *pcb, struct netbuf *q, int32_t usable)
{
	struct netbuf *last = q, *r;
	uint32_t total = tcp_snd_end(pcb, q) - q->seq;
	unsigned k = 1;
	bool fin = false;

	if (!(pcb->flags & TF_TSO) || q->seq != pcb->snd_nxt || total != pcb->mss)
		return 0;
	for (r = q->next; r && k < NB_SLICES_MAX; r = r->next) {
		uint32_t len = tcp_snd_end(pcb, r) - r->seq;
		bool tail = !r->next, shut = tail && (pcb->flags & TF_SHUT_WR);
		if ((int32_t)(total + len) > usable ||
		    IP_HLEN + TCP_HLEN + total + len > 65535)
			break;
		if (len != pcb->mss && !(tail && (shut ||
		    ((pcb->flags & (TF_NODELAY | TF_CORK)) == TF_NODELAY))))
			break;
		total += len;
		last = r;
		k++;
		fin = shut;
	}
	if (k < 2)
		return 0;
	struct netbuf *h = netbuf_alloc(NETBUF_HEADROOM);
	if (!h)
		return 0;
	h->slices = netbuf_slice_area(h);
	h->nslices = (uint16_t)k;
	h->gso_size = pcb->mss;
	r = q;
	for (unsigned i = 0; i < k; i++, r = r->next)
		h->slices[i] = (struct nb_slice){ netbuf_ref(r), tcp_snd_payload(r),
						  tcp_snd_end(pcb, r) - r->seq };
	if (!(pcb->flags & TF_RTT_TIMING) && SEQ_GEQ(q->seq, pcb->snd_max)) {
		pcb->rtt_seq = q->seq;
		pcb->rtt_start_us = net_now_us();
		pcb->flags |= TF_RTT_TIMING;
	}
	acked_now(pcb);
	NET_STAT(tcp_tx_offload);
	emit(h, pcb->c.laddr, pcb->c.raddr, pcb->c.lport, pcb->c.rport, q->seq,
	     pcb->rcv_nxt, (uint8_t)(TH_ACK | TH_PSH * !last->next | (fin ? TH_FIN : 0)),
	     tcp_rcv_window(pcb), NULL, 0);
	pcb->last_tx_ms = net_now_ms();
	pcb->snd_nxt = tcp_snd_end(pcb, last) + (fin ? 1 : 0);
	if (SEQ_GT(pcb->snd_nxt, pcb->snd_max))
		pcb->snd_max = pcb->snd_nxt;
	pcb->snd_next_nb = last->next;
	if (!pcb->tmo[TT_REXMIT])
		tcp_rexmit_restart(pcb);
	return k;
}

/*
 * RFC 5681 4.1: after an idle period longer than an RTO, restart from
 * the initial window rather than burst a stale cwnd into the network.
 */
static void
restart_after_idle(struct tcp_pcb *pcb)
{
	uint64_t now = net_now_ms();
	uint32_t iw = tcp_min32(TCP_IW_SEGS * pcb->mss, tcp_max32(2 * pcb->mss, 14600));

	if (pcb->snd_una == pcb->snd_max && pcb->last_tx_ms &&
	    now - pcb->last_tx_ms > pcb->rto_ms && pcb->cwnd > iw)
		pcb->cwnd = iw;
}

/*
 * RFC 3042: each duplicate ACK short of the threshold lets one new
 * segment out beyond cwnd (a segment has left the network), so a small
 * window still gets the dup ACKs that trigger fast retransmit instead of
 * waiting for the RTO.
 */
static uint32_t
limited_transmit(const struct tcp_pcb *pcb)
{
	if (pcb->flags & TF_RECOVERY || pcb->dupacks >= pcb->reordering)
		return 0;
	return pcb->dupacks * (uint32_t)pcb->mss;
}

/*
 * Sends what the windows allow.  force: a persist timeout wants
 * whatever fits a small open window, SWS avoidance or not.
 */
static void
output(struct tcp_pcb *pcb, bool force)
{
	bool window_blocked = false;

	if (!can_send_data(pcb)) {
		if ((pcb->flags & TF_ACK_NOW) && pcb->c.state != TCPS_SYN_SENT &&
		    pcb->c.state != TCPS_CLOSED && pcb->c.state != TCPS_LISTEN)
			tcp_send_ack(pcb);
		return;
	}
	restart_after_idle(pcb);
	for (;;) {
		struct netbuf *q = pcb->snd_next_nb;
		uint32_t wnd = tcp_min32(pcb->snd_wnd, pcb->cwnd + limited_transmit(pcb));
		int32_t usable = (int32_t)(pcb->snd_una + wnd - pcb->snd_nxt);
		bool retrans = SEQ_LT(pcb->snd_nxt, pcb->snd_max);

		if (!q) {
			/* All data sent: the FIN, once (or again after an RTO). */
			if ((pcb->flags & TF_SHUT_WR) && pcb->snd_nxt == pcb->write_seq) {
				tcp_send_fin_only(pcb);
				pcb->snd_nxt = pcb->write_seq + 1;
				if (SEQ_GT(pcb->snd_nxt, pcb->snd_max))
					pcb->snd_max = pcb->snd_nxt;
				if (!pcb->tmo[TT_REXMIT])
					tcp_rexmit_restart(pcb);
			}
			break;
		}
		uint32_t end = tcp_snd_end(pcb, q);
		uint32_t len = end - q->seq;
		uint32_t need = end - pcb->snd_nxt;
		bool fin = (pcb->flags & TF_SHUT_WR) && !q->next;

		/* After an RTO, what the peer SACKed need not go again. */
		if (retrans && pcb->nsacked && tcp_sacked(pcb, q->seq, end)) {
			pcb->snd_nxt = end;
			pcb->snd_next_nb = q->next;
			continue;
		}
		if ((int32_t)need > usable) {
			uint32_t half = pcb->max_sndwnd / 2;

			if (!retrans && usable > 0 && q->seq == pcb->snd_nxt &&
			    (force || (uint32_t)usable >= tcp_max32(half, 1)) &&
			    usable < (int32_t)len && split(pcb, q, (uint32_t)usable))
				continue;
			window_blocked = true;
			break;
		}
		if (!retrans && len < pcb->mss && !fin) {
			/* Nagle (RFC 9293 3.7.4): one small segment in flight. */
			if (!(pcb->flags & TF_NODELAY) && pcb->snd_nxt != pcb->snd_una && !force)
				break;
			/* MSG_MORE: the rest of the segment is on its way. */
			if ((pcb->flags & TF_CORK) && !q->next)
				break;
		}
		if (retrans)
			tcp_note_retransmit(pcb);
		else if (send_gso(pcb, q, usable))
			continue;
		send_nb(pcb, q, fin);
	}
	if (pcb->flags & TF_ACK_NOW)
		tcp_send_ack(pcb);
	/* Data waits, nothing is in flight to bring an ACK: probe the window. */
	if (window_blocked && pcb->snd_una == pcb->snd_max && !pcb->tmo[TT_REXMIT] &&
	    !(pcb->flags & TF_PERSIST)) {
		pcb->flags |= TF_PERSIST;
		pcb->probes = 0;
		tcp_timer_arm(pcb, TT_PERSIST, net_now_ms() + pcb->rto_ms);
	}
}

void
tcp_output(struct tcp_pcb *pcb)
{
	output(pcb, false);
}

void
tcp_output_force(struct tcp_pcb *pcb)
{
	output(pcb, true);
}
