/*
 * The send side's answer to ACKs and to their absence: freeing acked
 * data, RTT samples (Karn's algorithm), the peer's window, congestion
 * control (RFC 5681 slow start and congestion avoidance from an initial
 * window of ten segments, RFC 6928), limited transmit (RFC 3042), fast
 * retransmit and NewReno fast recovery (RFC 6582), the peer's SACK
 * blocks (RFC 2018) kept as a small scoreboard so recovery resends holes
 * rather than data the peer has (and RFC 6675's rule that enough SACKed
 * data above a hole makes it lost), D-SACKs (RFC 2883) that prove a
 * retransmission needless and undo its cwnd cut (reordering is common
 * on real paths), and the retransmission and persist timeouts (RFC 6298,
 * RFC 9293 3.8.6.1).  All arithmetic is integer: the kernel has no FPU.
 *
 * Not here: building and sending segments (tcp_output.c), the RTO value
 * itself (tcp_timer.c), the state changes an ACK of our FIN causes
 * (tcp_input.c).
 */
#include "lib/net/tcp_internal.h"

#define CWND_MAX	(1u << 30)

static uint32_t
initial_window(const struct tcp_pcb *pcb)
{
	return tcp_min32(TCP_IW_SEGS * pcb->mss, tcp_max32(2 * pcb->mss, 14600));
}

void
tcp_cc_init(struct tcp_pcb *pcb)
{
	pcb->cwnd = initial_window(pcb);
	pcb->ssthresh = CWND_MAX;
	pcb->recover = pcb->snd_una;
	pcb->rexmit_high = pcb->snd_una;
	pcb->bytes_acked = 0;
	pcb->dupacks = 0;
	pcb->reordering = TCP_DUPTHRESH;
}

/* Every retransmitted segment: counted, and owed a D-SACK for an undo. */
void
tcp_note_retransmit(struct tcp_pcb *pcb)
{
	NET_STAT(tcp_retransmit);
	if ((pcb->flags & TF_UNDO) && pcb->undo_retrans < 0xffff)
		pcb->undo_retrans++;
}

/* A loss episode begins (fast retransmit, first RTO): remember the window. */
static void
undo_start(struct tcp_pcb *pcb)
{
	pcb->prior_cwnd = pcb->cwnd;
	pcb->prior_ssthresh = pcb->ssthresh;
	pcb->undo_marker = pcb->snd_una;
	pcb->undo_retrans = 0;
	pcb->flags |= TF_UNDO;
}

/*
 * Every retransmission of the episode came back as a duplicate: nothing
 * was lost, the segments were only reordered or delayed.  Restore the
 * window (Linux's tcp_try_undo_dsack).  Checked once recovery is over.
 */
static void
undo_check(struct tcp_pcb *pcb)
{
	if (!(pcb->flags & TF_UNDO) || (pcb->flags & TF_RECOVERY) || pcb->undo_retrans ||
	    pcb->backoff)
		return;
	pcb->cwnd = tcp_max32(pcb->cwnd, pcb->prior_cwnd);
	pcb->ssthresh = tcp_max32(pcb->ssthresh, pcb->prior_ssthresh);
	pcb->flags &= ~TF_UNDO;
	/* The path reorders: ask for more evidence before calling a loss. */
	pcb->reordering = (uint8_t)tcp_min32(2u * pcb->reordering, TCP_MAX_REORDERING);
}

/* Whether our FIN went out at least once / has been acknowledged. */
static bool
fin_sent(const struct tcp_pcb *pcb)
{
	return (pcb->flags & TF_SHUT_WR) && SEQ_GT(pcb->snd_max, pcb->write_seq);
}

/* ---------------------------------------------------------- SACK scoreboard */

/* Forgets what snd_una has overtaken. */
static void
sack_trim(struct tcp_pcb *pcb)
{
	int n = 0;

	for (int i = 0; i < pcb->nsacked; i++) {
		if (SEQ_LEQ(pcb->sacked[i].end, pcb->snd_una))
			continue;
		pcb->sacked[n] = pcb->sacked[i];
		if (SEQ_LT(pcb->sacked[n].start, pcb->snd_una))
			pcb->sacked[n].start = pcb->snd_una;
		n++;
	}
	pcb->nsacked = (uint8_t)n;
}

/*
 * Merges [start, end) into the sorted, disjoint ranges.  With more
 * ranges than slots the highest goes: the holes nearest snd_una are the
 * ones recovery fills first.
 */
static void
sack_add(struct tcp_pcb *pcb, uint32_t start, uint32_t end)
{
	struct { uint32_t start, end; } r[TCP_SACK_BLOCKS + 1];
	int n = 0, i = 0;
	bool placed = false;

	for (; i <= pcb->nsacked; i++) {
		uint32_t s, e;

		if (!placed && (i == pcb->nsacked || SEQ_LT(start, pcb->sacked[i].start))) {
			s = start;
			e = end;
			placed = true;
			i--;
		} else if (i < pcb->nsacked) {
			s = pcb->sacked[i].start;
			e = pcb->sacked[i].end;
		} else {
			break;
		}
		if (n && SEQ_LEQ(s, r[n - 1].end)) {
			if (SEQ_GT(e, r[n - 1].end))
				r[n - 1].end = e;
		} else {
			r[n].start = s;
			r[n].end = e;
			n++;
		}
	}
	if (n > TCP_SACK_BLOCKS)
		n = TCP_SACK_BLOCKS;
	for (i = 0; i < n; i++) {
		pcb->sacked[i].start = r[i].start;
		pcb->sacked[i].end = r[i].end;
	}
	pcb->nsacked = (uint8_t)n;
}

/*
 * RFC 2883: a first block below the cumulative ACK, or inside the second
 * block, reports a duplicate.  One of ours from this episode means that
 * retransmission was not needed.
 */
static bool
dsack(struct tcp_pcb *pcb, const struct tcp_seg *s)
{
	uint32_t start = s->sack[0][0], end = s->sack[0][1];

	if (!SEQ_LT(start, end))
		return false;
	if (!SEQ_LEQ(end, s->ack) &&
	    !(s->nsack > 1 && SEQ_GEQ(start, s->sack[1][0]) && SEQ_LEQ(end, s->sack[1][1])))
		return false;
	if ((pcb->flags & TF_UNDO) && pcb->undo_retrans && SEQ_GEQ(start, pcb->undo_marker))
		pcb->undo_retrans--;
	return true;
}

static uint32_t
sacked_bytes(const struct tcp_pcb *pcb)
{
	uint32_t bytes = 0;

	for (int i = 0; i < pcb->nsacked; i++)
		bytes += pcb->sacked[i].end - pcb->sacked[i].start;
	return bytes;
}

/*
 * Takes the blocks that make sense: above snd_una, within what we sent.
 * True if they covered data not SACKed before.
 */
static bool
sack_update(struct tcp_pcb *pcb, const struct tcp_seg *s)
{
	uint32_t before = sacked_bytes(pcb);

	for (int i = dsack(pcb, s) ? 1 : 0; i < s->nsack; i++) {
		uint32_t start = s->sack[i][0], end = s->sack[i][1];

		if (!SEQ_LT(start, end) || SEQ_LEQ(end, pcb->snd_una) ||
		    SEQ_GT(end, pcb->snd_max) || end - start > pcb->snd_max - pcb->snd_una)
			continue;
		if (SEQ_LT(start, pcb->snd_una))
			start = pcb->snd_una;
		sack_add(pcb, start, end);
	}
	return sacked_bytes(pcb) > before;
}

static uint32_t
sack_high(const struct tcp_pcb *pcb)
{
	return pcb->nsacked ? pcb->sacked[pcb->nsacked - 1].end : pcb->snd_una;
}

/* ---------------------------------------------------------- retransmission */

/*
 * Resends the next hole during recovery: the first segment from
 * rexmit_high on that the peer has not SACKed and, with SACK, that lies
 * below data the peer has (so it is known lost).  The first unacked
 * segment always qualifies (NewReno's rule).  True if one went.
 */
static bool
retransmit_next_hole(struct tcp_pcb *pcb)
{
	uint32_t high = sack_high(pcb);

	for (struct netbuf *q = pcb->sndq; q; q = q->next) {
		uint32_t end = tcp_snd_end(pcb, q);
		bool fin = fin_sent(pcb) && !q->next;

		if (SEQ_LEQ(end, pcb->rexmit_high))
			continue;
		if (SEQ_GEQ(q->seq, pcb->snd_nxt))
			return false;
		if (pcb->nsacked && tcp_sacked(pcb, q->seq, end))
			continue;
		if (pcb->nsacked && SEQ_GEQ(q->seq, high) && SEQ_GT(q->seq, pcb->snd_una))
			return false;
		tcp_xmit_nb(pcb, q, fin);
		pcb->rexmit_high = end + (fin ? 1 : 0);
		tcp_note_retransmit(pcb);
		return true;
	}
	/* Only our FIN is missing. */
	if (fin_sent(pcb) && SEQ_LEQ(pcb->snd_una, pcb->write_seq) &&
	    SEQ_LEQ(pcb->rexmit_high, pcb->write_seq)) {
		tcp_send_fin_only(pcb);
		pcb->rexmit_high = pcb->write_seq + 1;
		tcp_note_retransmit(pcb);
		return true;
	}
	return false;
}

/* RFC 6582 3.2 steps 2-3: three duplicate ACKs. */
static void
fast_retransmit(struct tcp_pcb *pcb)
{
	uint32_t flight = pcb->snd_max - pcb->snd_una;

	undo_start(pcb);
	pcb->ssthresh = tcp_max32(flight / 2, 2u * pcb->mss);
	pcb->recover = pcb->snd_max;
	pcb->rexmit_high = pcb->snd_una;
	pcb->flags |= TF_RECOVERY;
	pcb->flags &= ~TF_RTT_TIMING;
	NET_STAT(tcp_fast_retransmit);
	retransmit_next_hole(pcb);
	pcb->cwnd = pcb->ssthresh + 3u * pcb->mss;
	tcp_rexmit_restart(pcb);
}

/*
 * RFC 6675 IsLost(snd_una): more than DupThresh - 1 segments' worth
 * SACKed above it means the first one is gone, whatever the dup-ACK
 * count says.
 */
static bool
sack_says_lost(const struct tcp_pcb *pcb)
{
	return sacked_bytes(pcb) > (pcb->reordering - 1u) * pcb->mss;
}

static void
dupack(struct tcp_pcb *pcb)
{
	if (pcb->flags & TF_RECOVERY) {
		/* Each dupack: one more segment has left the network. */
		pcb->cwnd = tcp_min32(pcb->cwnd + pcb->mss, CWND_MAX);
		if (pcb->nsacked)
			retransmit_next_hole(pcb);
		return;
	}
	if (++pcb->dupacks < pcb->reordering && !sack_says_lost(pcb))
		return;
	if (pcb->dupacks > pcb->reordering)
		return;
	/* Not again for losses of a window already recovered (after an RTO). */
	if (SEQ_LT(pcb->snd_una, pcb->recover))
		return;
	fast_retransmit(pcb);
}

/* Frees netbufs wholly acknowledged by ack. */
static void
free_acked(struct tcp_pcb *pcb, uint32_t ack)
{
	struct netbuf *q;

	while ((q = pcb->sndq) && SEQ_LEQ(tcp_snd_end(pcb, q), ack)) {
		pcb->sndq = q->next;
		if (pcb->snd_next_nb == q)
			pcb->snd_next_nb = q->next;
		if (pcb->sndq_tail == q)
			pcb->sndq_tail = NULL;
		netbuf_put(q);
	}
}

/* Congestion window growth for acked new bytes (RFC 5681 3.1). */
static void
cwnd_grow(struct tcp_pcb *pcb, uint32_t acked, uint32_t flight)
{
	/* Grow only a window that was in use (RFC 7661 spirit). */
	if (flight + pcb->mss < pcb->cwnd / 2)
		return;
	if (pcb->cwnd < pcb->ssthresh) {
		pcb->cwnd += tcp_min32(acked, pcb->mss);
	} else {
		pcb->bytes_acked += acked;
		if (pcb->bytes_acked >= pcb->cwnd) {
			pcb->bytes_acked -= pcb->cwnd;
			pcb->cwnd += pcb->mss;
		}
	}
	if (pcb->cwnd > CWND_MAX)
		pcb->cwnd = CWND_MAX;
}

static void
new_ack(struct tcp_pcb *pcb, uint32_t ack)
{
	uint32_t acked = ack - pcb->snd_una;
	uint32_t flight = pcb->snd_max - pcb->snd_una;

	if ((pcb->flags & TF_RTT_TIMING) && SEQ_GT(ack, pcb->rtt_seq)) {
		tcp_rtt_sample(pcb, (uint32_t)(net_now_us() - pcb->rtt_start_us));
		pcb->flags &= ~TF_RTT_TIMING;
	}
	free_acked(pcb, ack);
	pcb->snd_una = ack;
	if (SEQ_LT(pcb->snd_nxt, ack))
		pcb->snd_nxt = ack;
	if (SEQ_LT(pcb->rexmit_high, ack))
		pcb->rexmit_high = ack;
	sack_trim(pcb);
	pcb->retries = 0;
	pcb->backoff = 0;
	if (pcb->flags & TF_RECOVERY) {
		if (SEQ_GEQ(ack, pcb->recover)) {
			/* Full ACK: deflate (RFC 6582 3.2 step 3, option 1). */
			pcb->flags &= ~TF_RECOVERY;
			pcb->cwnd = tcp_min32(pcb->ssthresh,
					      tcp_max32(pcb->snd_max - pcb->snd_una, pcb->mss) + pcb->mss);
			pcb->dupacks = 0;
		} else {
			/* Partial ACK: the next hole is lost too (step 5). */
			retransmit_next_hole(pcb);
			pcb->cwnd = pcb->cwnd > acked ? pcb->cwnd - acked : 0;
			if (acked >= pcb->mss)
				pcb->cwnd += pcb->mss;
			pcb->cwnd = tcp_max32(pcb->cwnd, pcb->mss);
		}
	} else {
		pcb->dupacks = 0;
		cwnd_grow(pcb, acked, flight);
	}
	/* RFC 6298 5.2, 5.3. */
	if (pcb->snd_una == pcb->snd_max)
		tcp_timer_stop(pcb, TT_REXMIT);
	else
		tcp_rexmit_restart(pcb);
	pcb->wake |= POLLOUT;
}

/*
 * The ACK field and window of an acceptable segment (RFC 9293 3.10.7.4,
 * fifth check), after the caller made sure ack <= snd_max.
 */
void
tcp_ack_received(struct tcp_pcb *pcb, const struct tcp_seg *s)
{
	uint32_t ack = s->ack;
	uint32_t wnd = (uint32_t)s->wnd << pcb->snd_wscale;
	bool news = false;

	if ((pcb->flags & TF_SACK_OK) && s->nsack)
		news = sack_update(pcb, s);
	/*
	 * A duplicate ACK (RFC 5681 2): no data, same window -- or, with
	 * SACK, anything that SACKs new data (RFC 6675 2), since a receiver
	 * whose buffer autotunes changes its window on every ACK.
	 */
	if (SEQ_GT(ack, pcb->snd_una))
		new_ack(pcb, ack);
	else if (ack == pcb->snd_una && s->len == 0 && !(s->flags & (TH_SYN | TH_FIN)) &&
		 (wnd == pcb->snd_wnd || news) && pcb->snd_max != pcb->snd_una)
		dupack(pcb);
	undo_check(pcb);
	if (SEQ_LT(pcb->snd_wl1, s->seq) ||
	    (pcb->snd_wl1 == s->seq && SEQ_LEQ(pcb->snd_wl2, ack))) {
		if (wnd > pcb->snd_wnd)
			pcb->wake |= POLLOUT;
		pcb->snd_wnd = wnd;
		pcb->snd_wl1 = s->seq;
		pcb->snd_wl2 = ack;
		if (wnd > pcb->max_sndwnd)
			pcb->max_sndwnd = wnd;
	}
	if (pcb->snd_wnd && (pcb->flags & TF_PERSIST)) {
		pcb->flags &= ~TF_PERSIST;
		pcb->probes = 0;
		tcp_timer_stop(pcb, TT_PERSIST);
	}
}

/* A SYN or SYN-ACK went unanswered. */
static void
syn_timeout(struct tcp_pcb *pcb)
{
	int limit = pcb->c.state == TCPS_SYN_SENT ? TCP_SYN_RETRIES : TCP_SYNACK_RETRIES;

	if (++pcb->retries > limit) {
		tcp_drop(pcb, pcb->soft_err ? pcb->soft_err : -ETIMEDOUT);
		return;
	}
	NET_STAT(tcp_retransmit);
	if (pcb->backoff < 15)
		pcb->backoff++;
	tcp_send_syn(pcb);
	tcp_rexmit_restart(pcb);
}

/*
 * RFC 6298 5.4-5.6 and RFC 5681 3.1: resend the first unacked segment,
 * back the timer off, and start again from a loss window of one segment
 * (go-back-N from snd_una, skipping what the peer SACKed is not allowed
 * here: RFC 2018 8 lets the receiver renege, so the scoreboard goes).
 */
void
tcp_retransmit_timeout(struct tcp_pcb *pcb)
{
	int limit = pcb->owner ? TCP_DATA_RETRIES : TCP_ORPHAN_RETRIES;
	struct netbuf *q = pcb->sndq;

	if (pcb->c.state == TCPS_SYN_SENT || pcb->c.state == TCPS_SYN_RECEIVED) {
		syn_timeout(pcb);
		return;
	}
	if (pcb->snd_una == pcb->snd_max)
		return;
	if (++pcb->retries > limit) {
		tcp_send_rst(pcb);
		tcp_drop(pcb, pcb->soft_err ? pcb->soft_err : -ETIMEDOUT);
		return;
	}
	if (pcb->backoff == 0) {
		if (!(pcb->flags & TF_RECOVERY))
			undo_start(pcb);
		pcb->ssthresh = tcp_max32((pcb->snd_max - pcb->snd_una) / 2, 2u * pcb->mss);
	} else {
		/* Backed off: that was a real loss, nothing to undo. */
		pcb->flags &= ~TF_UNDO;
	}
	if (pcb->backoff < 15)
		pcb->backoff++;
	pcb->cwnd = pcb->mss;
	pcb->bytes_acked = 0;
	pcb->dupacks = 0;
	pcb->flags &= ~(TF_RECOVERY | TF_RTT_TIMING);
	pcb->recover = pcb->snd_max;
	pcb->nsacked = 0;
	pcb->snd_nxt = pcb->snd_una;
	pcb->snd_next_nb = q;
	/* The first segment goes whatever the windows say. */
	if (q) {
		bool fin = fin_sent(pcb) && !q->next;

		tcp_xmit_nb(pcb, q, fin);
		tcp_note_retransmit(pcb);
		pcb->snd_nxt = tcp_snd_end(pcb, q) + (fin ? 1 : 0);
		pcb->snd_next_nb = q->next;
	} else if (fin_sent(pcb)) {
		tcp_send_fin_only(pcb);
		tcp_note_retransmit(pcb);
		pcb->snd_nxt = pcb->write_seq + 1;
	}
	pcb->rexmit_high = pcb->snd_nxt;
	tcp_rexmit_restart(pcb);
	tcp_output(pcb);
}

/*
 * Zero-window probing: the peer's window is closed (or too small for
 * silly-window rules) and nothing in flight would bring its update.  A
 * closed window gets an already-acked byte's sequence number, which the
 * peer must answer with an ACK carrying its window; a small open one
 * gets whatever fits.  The interval backs off like the RTO; only an
 * orphan gives up (a live socket waits for the reader, RFC 9293 3.8.6.1).
 */
void
tcp_persist_timeout(struct tcp_pcb *pcb)
{
	if (!(pcb->flags & TF_PERSIST))
		return;
	if (pcb->snd_una != pcb->snd_max) {
		pcb->flags &= ~TF_PERSIST;
		return;
	}
	if (!pcb->owner && pcb->probes >= TCP_ORPHAN_RETRIES) {
		tcp_send_rst(pcb);
		tcp_drop(pcb, -ETIMEDOUT);
		return;
	}
	if (pcb->probes < 255)
		pcb->probes++;
	if (pcb->snd_wnd == 0)
		tcp_send_probe(pcb);
	else
		tcp_output_force(pcb);
	if (pcb->snd_una != pcb->snd_max) {
		pcb->flags &= ~TF_PERSIST;
		return;
	}
	uint32_t shift = pcb->probes < 15 ? pcb->probes : 15;
	uint64_t ivl = (uint64_t)pcb->rto_ms << shift;

	if (ivl > TCP_RTO_MAX_MS)
		ivl = TCP_RTO_MAX_MS;
	tcp_timer_arm(pcb, TT_PERSIST, net_now_ms() + ivl);
}
