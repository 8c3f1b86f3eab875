/*
 * Received segments: parsing (every length checked before it is used,
 * checksum verified unless the device did, malformed options refused),
 * finding the connection, and the state machine of RFC 9293 3.10.7 for
 * SYN_SENT and the synchronized states, with the RFC 5961 defences: an
 * RST must hit rcv_nxt exactly (elsewhere in the window it earns a
 * challenge ACK, as does a SYN), and an ACK for data never sent or long
 * acknowledged is answered, not believed.  Out-of-window segments are
 * dropped, counted and ACKed.  Bad input only ever costs the segment.
 *
 * Not here: listeners (tcp_syn.c), TIME_WAIT (tcp_timer.c), what ACKs
 * do to the send side (tcp_ack.c), where data goes (tcp_rcvq.c).
 */
#include "lib/net/tcp_internal.h"

static uint64_t challenge_sec;
static unsigned challenge_count;

/* RFC 5961 7: a global budget of challenge ACKs per second. */
bool
tcp_challenge_ack_allowed(void)
{
	uint64_t sec = net_now_ms() / 1000;

	if (sec != challenge_sec) {
		challenge_sec = sec;
		challenge_count = 0;
	}
	return challenge_count++ < TCP_CHALLENGE_ACKS;
}

/* False for an option whose length is short of 2 or runs past the header. */
static bool
parse_options(const uint8_t *o, uint32_t len, struct tcp_seg *s)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		olen = o[i + 1];
		if (olen < 2 || olen > len - i)
			return false;
		/* A known option of the wrong length is ignored, as Linux does. */
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == 4) {
				s->has_mss = true;
				s->opt_mss = tcp_get16(o + i + 2);
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == 3) {
				s->has_ws = true;
				s->opt_ws = o[i + 2];
			}
			break;
		case TCPOPT_SACK_OK:
			if (olen == 2)
				s->sack_ok = true;
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				uint32_t n = (olen - 2) / 8u;

				if (n > TCP_SACK_BLOCKS)
					n = TCP_SACK_BLOCKS;
				for (uint32_t b = 0; b < n; b++) {
					s->sack[b][0] = tcp_get32(o + i + 2 + 8 * b);
					s->sack[b][1] = tcp_get32(o + i + 6 + 8 * b);
				}
				s->nsack = (uint8_t)n;
			}
			break;
		}
		i += olen;
	}
	return true;
}

/* Sources no segment may come from: 0.0.0.0, multicast, class E, broadcast. */
static bool
bad_source(uint32_t addr)
{
	uint8_t b[4];

	memcpy(b, &addr, 4);
	return addr == 0 || b[0] >= 224;
}

/* Checks and decodes the header; the payload is left at nb->data. */
static bool
parse(struct netbuf *nb, uint32_t src, uint32_t dst, struct tcp_seg *s)
{
	const uint8_t *th = nb->data;
	uint32_t doff;

	memset(s, 0, sizeof(*s));
	if (nb->len < TCP_HLEN) {
		NET_STAT(tcp_drop_short);
		return false;
	}
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < TCP_HLEN || doff > nb->len || nb->len > 65535) {
		NET_STAT(tcp_drop_bad);
		return false;
	}
	if (!(nb->flags & NB_CSUM_VALID)) {
		uint32_t sum = net_csum_pseudo(src, dst, IPPROTO_TCP_, (uint16_t)nb->len);

		if (net_csum_fold(net_csum_add(sum, nb->data, nb->len)) != 0) {
			NET_STAT(tcp_drop_csum);
			return false;
		}
	}
	memcpy(&s->sport, th, 2);
	memcpy(&s->dport, th + 2, 2);
	s->seq = tcp_get32(th + 4);
	s->ack = tcp_get32(th + 8);
	s->flags = th[13] & 0x3f;
	s->wnd = tcp_get16(th + 14);
	if ((nb->flags & NB_BCAST) || bad_source(src) || !s->sport || !s->dport ||
	    (s->flags & TH_SYN && s->flags & (TH_RST | TH_FIN)) ||
	    !parse_options(th + TCP_HLEN, doff - TCP_HLEN, s)) {
		NET_STAT(tcp_drop_bad);
		return false;
	}
	netbuf_pull(nb, doff);
	s->nb = nb;
	s->len = nb->len;
	s->src = src;
	s->dst = dst;
	return true;
}

void
tcp_established(struct tcp_pcb *pcb)
{
	tcp_set_state(pcb, TCPS_ESTABLISHED);
	pcb->flags |= TF_CONNECTED;
	/* RFC 6298 5.7: a SYN that timed out leaves a 3 s RTO until measured. */
	if (pcb->retries && !pcb->srtt_us)
		pcb->rto_ms = 3000;
	pcb->retries = 0;
	pcb->backoff = 0;
	tcp_timer_stop(pcb, TT_REXMIT);
	tcp_cc_init(pcb);
	pcb->rcv_acked = pcb->rcv_nxt;
	pcb->last_rx_ms = net_now_ms();
	tcp_keepalive_reset(pcb);
	pcb->wake |= POLLOUT;
	/* shutdown(SHUT_WR) during the handshake: the FIN goes now. */
	if (pcb->flags & TF_SHUT_WR)
		tcp_set_state(pcb, TCPS_FIN_WAIT_1);
}

/* RFC 9293 3.10.7.3. */
static void
synsent_input(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	if ((s->flags & TH_ACK) &&
	    (SEQ_LEQ(s->ack, pcb->iss) || SEQ_GT(s->ack, pcb->snd_max))) {
		if (!(s->flags & TH_RST))
			tcp_reply_rst(s);
		return;
	}
	if (s->flags & TH_RST) {
		if (s->flags & TH_ACK)
			tcp_drop(pcb, -ECONNREFUSED);
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	pcb->irs = s->seq;
	pcb->rcv_nxt = s->seq + 1;
	pcb->rcv_adv = pcb->rcv_nxt + tcp_min32(pcb->rcvbuf, 65535);
	tcp_parse_syn_options(pcb, s);
	/* The window of a SYN is never scaled (RFC 7323 2.2). */
	pcb->snd_wnd = pcb->max_sndwnd = s->wnd;
	pcb->snd_wl1 = s->seq;
	pcb->snd_wl2 = s->ack;
	if (s->flags & TH_ACK) {
		if ((pcb->flags & TF_RTT_TIMING) && SEQ_GT(s->ack, pcb->rtt_seq))
			tcp_rtt_sample(pcb, (uint32_t)(net_now_us() - pcb->rtt_start_us));
		pcb->flags &= ~TF_RTT_TIMING;
		pcb->snd_una = s->ack;
		tcp_established(pcb);
		/* Data on a SYN-ACK is left for the peer to send again. */
		pcb->flags |= TF_ACK_NOW;
		return;
	}
	/* Simultaneous open (RFC 9293 figure 8). */
	tcp_set_state(pcb, TCPS_SYN_RECEIVED);
	tcp_send_syn(pcb);
	tcp_rexmit_restart(pcb);
}

static bool
in_window(uint32_t x, uint32_t start, uint32_t wnd)
{
	return SEQ_GEQ(x, start) && SEQ_LT(x, start + wnd);
}

static uint32_t
rcv_wnd(const struct tcp_pcb *pcb)
{
	return SEQ_GT(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;
}

/*
 * RFC 9293 3.10.7.4, first check.  With a closed window a segment at
 * rcv_nxt still counts, for its ACK, RST or FIN (its data is trimmed).
 */
static bool
acceptable(const struct tcp_pcb *pcb, const struct tcp_seg *s)
{
	uint32_t wnd = rcv_wnd(pcb);
	uint32_t seglen = s->len + !!(s->flags & TH_SYN) + !!(s->flags & TH_FIN);

	if (wnd == 0)
		return s->seq == pcb->rcv_nxt;
	if (seglen == 0)
		return in_window(s->seq, pcb->rcv_nxt, wnd);
	return in_window(s->seq, pcb->rcv_nxt, wnd) ||
	       in_window(s->seq + seglen - 1, pcb->rcv_nxt, wnd);
}

/* Cuts what lies before rcv_nxt or beyond the window. */
static void
trim(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	uint32_t end = pcb->rcv_nxt + rcv_wnd(pcb);

	if (SEQ_LT(s->seq, pcb->rcv_nxt)) {
		uint32_t d = pcb->rcv_nxt - s->seq;

		if (s->flags & TH_SYN) {
			s->flags &= ~TH_SYN;
			s->seq++;
			d--;
		}
		if (d > s->len) {
			d = s->len;
			s->flags &= ~TH_FIN;
		}
		tcp_rcv_duplicate(pcb, s->seq, s->seq + d);
		netbuf_pull(s->nb, d);
		s->len -= d;
		s->seq += d;
	}
	/* A FIN right at the edge needs no room (Linux takes it too). */
	if (SEQ_GT(s->seq + s->len, end)) {
		uint32_t keep = SEQ_GT(end, s->seq) ? end - s->seq : 0;

		/* Data past the window is dropped: counted, and the ACK tells. */
		NET_STAT(tcp_drop_window);
		pcb->flags |= TF_ACK_NOW;
		netbuf_trim(s->nb, keep);
		s->len = keep;
		s->flags &= ~TH_FIN;
	}
}

static void
reset_received(struct tcp_pcb *pcb)
{
	switch (pcb->c.state) {
	case TCPS_SYN_RECEIVED:
		tcp_drop(pcb, (pcb->flags & TF_PASSIVE) ? 0 : -ECONNREFUSED);
		break;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		tcp_drop(pcb, -ECONNRESET);
		break;
	default:
		tcp_drop(pcb, 0);
	}
}

static void
fin_received(struct tcp_pcb *pcb)
{
	pcb->rcv_nxt++;
	pcb->flags |= TF_FIN_RCVD | TF_ACK_NOW;
	pcb->flags &= ~TF_OOO_FIN;
	pcb->wake |= POLLIN;
	switch (pcb->c.state) {
	case TCPS_ESTABLISHED:
		tcp_set_state(pcb, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT_1:
		/* Our FIN is not acked yet (else we would be in FIN_WAIT_2). */
		tcp_set_state(pcb, TCPS_CLOSING);
		break;
	case TCPS_FIN_WAIT_2:
		tcp_timewait(pcb);
		break;
	}
}

static bool
fin_acked(const struct tcp_pcb *pcb)
{
	return (pcb->flags & TF_SHUT_WR) && pcb->snd_una == pcb->write_seq + 1;
}

/* The handshake's last ACK in SYN_RECEIVED; false: drop the segment. */
static bool
synrcvd_ack(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	if (!SEQ_LT(pcb->snd_una, s->ack) || SEQ_GT(s->ack, pcb->snd_max)) {
		tcp_reply_rst(s);
		return false;
	}
	if (pcb->listener && tcp_accept_queue_full(pcb->listener)) {
		/* Stay half-open; the SYN-ACK goes again and the peer re-ACKs. */
		NET_STAT(tcp_syn_drop);
		return false;
	}
	if ((pcb->flags & TF_RTT_TIMING) && SEQ_GT(s->ack, pcb->rtt_seq))
		tcp_rtt_sample(pcb, (uint32_t)(net_now_us() - pcb->rtt_start_us));
	pcb->flags &= ~TF_RTT_TIMING;
	pcb->snd_una = s->ack;
	pcb->snd_wnd = (uint32_t)s->wnd << pcb->snd_wscale;
	pcb->max_sndwnd = tcp_max32(pcb->max_sndwnd, pcb->snd_wnd);
	pcb->snd_wl1 = s->seq;
	pcb->snd_wl2 = s->ack;
	tcp_established(pcb);
	if (pcb->listener)
		tcp_child_established(pcb);
	return true;
}

/* SYN-specific cases of SYN_RECEIVED; true when the segment is done. */
static bool
synrcvd_syn(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	if (!(s->flags & TH_ACK) && s->seq == pcb->irs) {
		/* The peer's SYN again: our SYN-ACK was lost. */
		tcp_send_syn(pcb);
		pcb->flags &= ~TF_RTT_TIMING;
		return true;
	}
	if ((s->flags & TH_ACK) && s->seq + 1 == pcb->rcv_nxt && s->ack == pcb->snd_nxt) {
		/* Simultaneous open: the peer's SYN-ACK acknowledges ours. */
		s->flags &= ~(TH_SYN | TH_FIN);
		s->seq++;
		netbuf_trim(s->nb, 0);
		s->len = 0;
	}
	return false;
}

/* RFC 9293 3.10.7.4 for SYN_RECEIVED and every later state. */
static void
sync_input(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	bool fin = false;

	if (pcb->c.state == TCPS_SYN_RECEIVED && (s->flags & TH_SYN) && synrcvd_syn(pcb, s))
		return;
	if (!acceptable(pcb, s)) {
		NET_STAT(tcp_drop_window);
		if (!(s->flags & TH_RST))
			pcb->flags |= TF_ACK_NOW;
		if (s->len && SEQ_LEQ(s->seq + s->len, pcb->rcv_nxt))
			tcp_rcv_duplicate(pcb, s->seq, s->seq + s->len);
		return;
	}
	if (s->flags & TH_RST) {
		if (s->seq == pcb->rcv_nxt)
			reset_received(pcb);
		else if (tcp_challenge_ack_allowed())
			pcb->flags |= TF_ACK_NOW;
		return;
	}
	trim(pcb, s);
	pcb->last_rx_ms = net_now_ms();
	pcb->kprobes = 0;
	if (s->flags & TH_SYN) {
		/* RFC 5961 4.2: a SYN in a synchronized state is challenged. */
		if (tcp_challenge_ack_allowed())
			pcb->flags |= TF_ACK_NOW;
		return;
	}
	if (!(s->flags & TH_ACK))
		return;
	if (pcb->c.state == TCPS_SYN_RECEIVED && !synrcvd_ack(pcb, s))
		return;
	/* RFC 5961 5.2: ACKs outside [snd_una - max window, snd_max]. */
	if (SEQ_GT(s->ack, pcb->snd_max)) {
		pcb->flags |= TF_ACK_NOW;
		return;
	}
	if (SEQ_LT(s->ack, pcb->snd_una - pcb->max_sndwnd)) {
		if (tcp_challenge_ack_allowed())
			pcb->flags |= TF_ACK_NOW;
		return;
	}
	tcp_ack_received(pcb, s);
	if (fin_acked(pcb)) {
		switch (pcb->c.state) {
		case TCPS_FIN_WAIT_1:
			tcp_set_state(pcb, TCPS_FIN_WAIT_2);
			tcp_timer_stop(pcb, TT_REXMIT);
			if (!pcb->owner)
				tcp_timer_arm(pcb, TT_KEEP, net_now_ms() + TCP_FIN_TIMEOUT_MS);
			break;
		case TCPS_CLOSING:
			tcp_timewait(pcb);
			return;
		case TCPS_LAST_ACK:
			tcp_drop(pcb, 0);
			return;
		}
	}
	if (s->len) {
		switch (pcb->c.state) {
		case TCPS_ESTABLISHED:
		case TCPS_FIN_WAIT_1:
		case TCPS_FIN_WAIT_2:
			if (!pcb->owner && !pcb->listener) {
				/* New data for a closed socket: nobody will read it. */
				tcp_send_rst(pcb);
				tcp_drop(pcb, 0);
				return;
			}
			tcp_rcv_data(pcb, s);
			break;
		}
	}
	if (s->flags & TH_FIN) {
		uint32_t fin_seq = s->seq + s->len;

		if (fin_seq == pcb->rcv_nxt) {
			fin = true;
		} else if (SEQ_GT(fin_seq, pcb->rcv_nxt) && !(pcb->flags & TF_FIN_RCVD)) {
			pcb->flags |= TF_OOO_FIN;
			pcb->ooo_fin_seq = fin_seq;
		}
	}
	if ((pcb->flags & TF_OOO_FIN) && pcb->ooo_fin_seq == pcb->rcv_nxt)
		fin = true;
	if (fin && !(pcb->flags & TF_FIN_RCVD))
		fin_received(pcb);
}

void
tcp_process(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	switch (pcb->c.state) {
	case TCPS_SYN_SENT:
		synsent_input(pcb, s);
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_TIME_WAIT:
		return;
	default:
		sync_input(pcb, s);
	}
	if (!(pcb->flags & TF_DEAD))
		tcp_output(pcb);
}

void
tcp_input_now(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	struct tcp_seg s;
	struct tcp_conn *c;
	struct tcp_pcb *l;

	tcp_init_once();
	NET_STAT(tcp_rx);
	if (!parse(nb, src, dst, &s)) {
		netbuf_put(nb);
		return;
	}
	c = tcp_lookup(dst, s.dport, src, s.sport);
	if (c && c->kind == TCP_KIND_TW) {
		if (!tcp_tw_input((struct tcp_tw *)c, &s))
			goto done;
		c = NULL;
	} else if (c && c->state == TCPS_TIME_WAIT) {
		struct tcp_pcb *pcb = (struct tcp_pcb *)c;
		bool reopen = tcp_tw_pcb_input(pcb, &s);

		tcp_finish(pcb);
		if (!reopen)
			goto done;
		c = NULL;
	}
	if (c) {
		struct tcp_pcb *pcb = (struct tcp_pcb *)c;

		tcp_process(pcb, &s);
		tcp_finish(pcb);
		goto done;
	}
	l = tcp_lookup_listener(dst, s.dport);
	if (l) {
		tcp_listen_input(l, &s);
		goto done;
	}
	NET_STAT(tcp_drop_noport);
	if (!(s.flags & TH_RST))
		tcp_reply_rst(&s);
done:
	if (s.nb)
		netbuf_put(s.nb);
}

/*
 * An ICMP error about a segment we sent.  It names no sequence number
 * (net.h), so it cannot be checked against the window (RFC 5927): only
 * a connection still in SYN_SENT gives up on it (a refused or
 * unreachable peer); an established one notes it as a soft error,
 * reported if the connection later times out.  Fragmentation-needed is
 * ignored: TCP sends no more than the route's MTU.
 */
void
tcp_icmp_error(uint32_t dst, uint16_t dport, uint16_t sport, int err)
{
	struct tcp_pcb *pcb;

	if (err > 0)
		err = -err;
	if (err == -EMSGSIZE || !err)
		return;
	tcp_init_once();
	pcb = tcp_lookup_remote(dst, dport, sport);
	if (!pcb)
		return;
	tcp_enter();
	if (pcb->c.state == TCPS_SYN_SENT)
		tcp_drop(pcb, err);
	else
		pcb->soft_err = err;
	tcp_finish(pcb);
	tcp_leave();
}
