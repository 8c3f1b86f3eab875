/*
 * Received data on its way to the reader: the in-order queue tcp_recv()
 * copies from, the out-of-order queue (reassembly, with the SACK blocks
 * that describe it to the peer, RFC 2018), the receive window we
 * advertise (RFC 7323 scaling, silly-window avoidance of RFC 9293
 * 3.8.6.2.2, never shrinking the right edge), and when an ACK is owed
 * at once rather than after the delayed-ACK timer (RFC 5681 4.2: every
 * second full segment, and at once for out-of-order data or a filled
 * hole).
 *
 * Segments stay in the netbufs they arrived in (the one copy is
 * tcp_recv's), except that a small segment (under a quarter of its
 * block) is copied onto the end of the previous one when it fits: a
 * peer sending one-byte segments would otherwise pin 2 KiB per byte.
 * Memory is bounded by the block size (netbuf_truesize) of each queued
 * netbuf against three times the receive buffer, and the out-of-order
 * queue also by count; past either, segments are dropped (and counted)
 * as if they had been lost.
 *
 * Not here: the acceptability test and trimming to the window
 * (tcp_input.c).
 */
#include "lib/net/tcp_internal.h"

static uint32_t
mem_cap(const struct tcp_pcb *pcb)
{
	return 3 * pcb->rcvbuf;
}

/* Whether len bytes in nb are copied onto tail: a small segment (under a
 * quarter of its block) that fits. */
static bool
joins_tail(const struct netbuf *tail, const struct netbuf *nb, uint32_t len)
{
	return tail && len <= netbuf_tailroom(tail) && len * 4 <= netbuf_truesize(nb);
}

/* Queues in-order payload; the netbuf is the queue's now. */
static void
rcvq_append(struct tcp_pcb *pcb, struct netbuf *nb)
{
	struct netbuf *tail = pcb->rcvq_tail;

	pcb->rcv_queued += nb->len;
	if (joins_tail(tail, nb, nb->len)) {
		memcpy(netbuf_put_tail(tail, nb->len), nb->data, nb->len);
		netbuf_put(nb);
		return;
	}
	nb->next = NULL;
	if (tail)
		tail->next = nb;
	else
		pcb->rcvq = nb;
	pcb->rcvq_tail = nb;
	pcb->rcv_mem += netbuf_truesize(nb);
}

static bool
rcvq_room(const struct tcp_pcb *pcb, const struct netbuf *nb, uint32_t len)
{
	return pcb->rcv_mem + netbuf_truesize(nb) <= mem_cap(pcb) ||
	       joins_tail(pcb->rcvq_tail, nb, len);
}

static void
ooo_unlink_head(struct tcp_pcb *pcb)
{
	struct netbuf *nb = pcb->ooo;

	pcb->ooo = nb->next;
	pcb->ooo_count--;
	pcb->ooo_bytes -= nb->len;
	pcb->rcv_mem -= netbuf_truesize(nb);
	nb->next = NULL;
}

/* Moves what the new rcv_nxt reached from the out-of-order queue. */
static void
ooo_drain(struct tcp_pcb *pcb)
{
	struct netbuf *nb;

	while ((nb = pcb->ooo) && SEQ_LEQ(nb->seq, pcb->rcv_nxt)) {
		uint32_t end = nb->seq + nb->len;

		ooo_unlink_head(pcb);
		if (SEQ_LEQ(end, pcb->rcv_nxt)) {
			netbuf_put(nb);
			continue;
		}
		netbuf_pull(nb, pcb->rcv_nxt - nb->seq);
		pcb->rcv_nxt = end;
		rcvq_append(pcb, nb);
	}
}

/*
 * Files a segment that starts beyond rcv_nxt, trimmed against its
 * neighbours so the queue stays sorted and without overlap.
 */
static void
ooo_insert(struct tcp_pcb *pcb, struct netbuf *nb, uint32_t start)
{
	uint32_t end = start + nb->len;
	struct netbuf **pp = &pcb->ooo, *cur;

	if (pcb->ooo_count >= TCP_OOO_MAX ||
	    pcb->rcv_mem + netbuf_truesize(nb) > mem_cap(pcb)) {
		NET_STAT(tcp_drop_window);
		netbuf_put(nb);
		return;
	}
	while ((cur = *pp) && SEQ_LEQ(cur->seq + cur->len, start))
		pp = &cur->next;
	if (cur && SEQ_LEQ(cur->seq, start)) {
		if (SEQ_GEQ(cur->seq + cur->len, end)) {
			/* Nothing new. */
			pcb->sack_recent = cur->seq;
			tcp_rcv_duplicate(pcb, start, end);
			netbuf_put(nb);
			return;
		}
		netbuf_pull(nb, cur->seq + cur->len - start);
		start = cur->seq + cur->len;
		pp = &cur->next;
	}
	while ((cur = *pp) && SEQ_LT(cur->seq, end)) {
		if (SEQ_GT(cur->seq + cur->len, end)) {
			netbuf_trim(nb, cur->seq - start);
			break;
		}
		*pp = cur->next;
		pcb->ooo_count--;
		pcb->ooo_bytes -= cur->len;
		pcb->rcv_mem -= netbuf_truesize(cur);
		netbuf_put(cur);
	}
	nb->seq = start;
	nb->next = *pp;
	*pp = nb;
	pcb->ooo_count++;
	pcb->ooo_bytes += nb->len;
	pcb->rcv_mem += netbuf_truesize(nb);
	pcb->sack_recent = start;
}

/*
 * Takes the payload of an acceptable segment trimmed to the window
 * (s->seq >= rcv_nxt); owns s->nb from here on (s->nb = NULL), and
 * decides between an immediate and a delayed ACK.
 */
bool
tcp_rcv_data(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	struct netbuf *nb = s->nb;
	bool more = nb && (nb->flags & NB_MORE), gro = nb && (nb->flags & NB_GRO);

	if (!s->len)
		return false;
	if (s->seq != pcb->rcv_nxt) {
		s->nb = NULL;
		ooo_insert(pcb, nb, s->seq);
		pcb->flags |= TF_ACK_NOW;
		return false;
	}
	if (!rcvq_room(pcb, nb, s->len)) {
		NET_STAT(tcp_drop_window);
		pcb->flags |= TF_ACK_NOW;
		return false;
	}
	s->nb = NULL;
	pcb->rcv_nxt += s->len;
	if (s->len > pcb->rcv_mss)
		pcb->rcv_mss = (uint16_t)tcp_min32(s->len, pcb->adv_mss);
	rcvq_append(pcb, nb);
	pcb->wake |= POLLIN;
	if (pcb->ooo) {
		ooo_drain(pcb);
		pcb->flags |= TF_ACK_NOW;
	}
	/*
	 * An offloaded frame's parts are acknowledged once, after the last,
	 * and offloaded frames (each up to 64 KiB: the peer sends in bursts)
	 * once a quarter of the buffer has come, not every two MSS: each ACK
	 * costs the device a notification.
	 */
	uint32_t every = 2u * pcb->rcv_mss;
	if (gro && every < pcb->rcvbuf / 4)
		every = pcb->rcvbuf / 4;
	if (pcb->rcv_nxt - pcb->rcv_acked >= every && !more) {
		pcb->flags |= TF_ACK_NOW;
	} else if (!(pcb->flags & TF_ACK_NOW)) {
		pcb->flags |= TF_ACK_DELAYED;
		if (!pcb->tmo[TT_DELACK])
			tcp_timer_arm(pcb, TT_DELACK, net_now_ms() + TCP_DELACK_MS);
	}
	return true;
}

/*
 * The middle parts of a frame the device received offloaded (tcp_gro.c
 * tcp_split_offloaded), payload only, the first at *seq: while the
 * connection takes data (ESTABLISHED, FIN_WAIT_1/2), takes them in order, with room in the
 * window and the queue, and nothing out of order waiting, each is
 * queued as it is.  No header, lookup, ACK processing or wake-up per
 * part: the frame's first part carried its ACK and window through
 * tcp_input(), and its last goes through tcp_input() too, which decides
 * the acknowledgment and wakes the reader.  The last part is never
 * taken here.  Returns the first part not taken, *seq its number.
 * Nothing in the loop changes the state: it is checked once.
 */
struct netbuf *
tcp_input_inorder(uint32_t src, uint32_t dst, const uint8_t *th, uint32_t *seq,
		  struct netbuf *c)
{
	uint16_t sport, dport;

	if (tcp_nested() || !c)
		return c;
	memcpy(&sport, th, 2);
	memcpy(&dport, th + 2, 2);
	struct tcp_conn *conn = tcp_lookup(dst, dport, src, sport);
	if (!conn || conn->kind != TCP_KIND_PCB)
		return c;
	struct tcp_pcb *pcb = (struct tcp_pcb *)conn;
	uint8_t st = pcb->c.state;
	/* The states that take data (tcp_input.c sync_input), with a reader. */
	if (st != TCPS_ESTABLISHED && st != TCPS_FIN_WAIT_1 && st != TCPS_FIN_WAIT_2)
		return c;
	while (c->frag && pcb->owner &&
	       !(pcb->flags & TF_DEAD) && !pcb->ooo && *seq == pcb->rcv_nxt &&
	       SEQ_LEQ(*seq + c->len, pcb->rcv_adv) && rcvq_room(pcb, c, c->len)) {
		struct netbuf *next = c->frag;

		c->frag = NULL;
		NET_STAT(tcp_rx);
		NET_STAT(tcp_rx_inorder);
		pcb->rcv_nxt += c->len;
		*seq += c->len;
		rcvq_append(pcb, c);
		pcb->wake |= POLLIN;
		c = next;
	}
	return c;
}

/* Room for more payload: the buffer less what waits in both queues. */
uint32_t
tcp_rcv_space(const struct tcp_pcb *pcb)
{
	uint32_t used = pcb->rcv_queued + pcb->ooo_bytes;

	if (pcb->rcv_mem + 2 * NETBUF_PAGE_SIZE > mem_cap(pcb))
		return 0;
	return used < pcb->rcvbuf ? pcb->rcvbuf - used : 0;
}

static uint32_t
adv_now(const struct tcp_pcb *pcb)
{
	return SEQ_GT(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;
}

static uint32_t
window_max(const struct tcp_pcb *pcb)
{
	return 65535u << pcb->rcv_wscale;
}

/* The window field of a segment we send now (not a SYN); moves rcv_adv. */
uint16_t
tcp_rcv_window(struct tcp_pcb *pcb)
{
	uint32_t cur = adv_now(pcb);
	uint32_t wnd = tcp_min32(tcp_rcv_space(pcb), window_max(pcb));
	uint32_t unit = 1u << pcb->rcv_wscale;
	uint32_t field;

	/* Open the window only by a useful amount. */
	if (wnd > cur && wnd - cur < tcp_min32(pcb->rcvbuf / 2, pcb->adv_mss))
		wnd = cur;
	/* Never move the right edge back (RFC 9293 3.8.6.2.2). */
	if (wnd < cur)
		wnd = cur;
	field = wnd >> pcb->rcv_wscale;
	if ((field << pcb->rcv_wscale) < cur)
		field = (cur + unit - 1) >> pcb->rcv_wscale;
	if (field > 65535)
		field = 65535;
	if (SEQ_GT(pcb->rcv_nxt + (field << pcb->rcv_wscale), pcb->rcv_adv))
		pcb->rcv_adv = pcb->rcv_nxt + (field << pcb->rcv_wscale);
	return (uint16_t)field;
}

/* After the reader made room: worth a window update of its own? */
bool
tcp_rcv_window_update_due(const struct tcp_pcb *pcb)
{
	uint32_t cur = adv_now(pcb);
	uint32_t wnd = tcp_min32(tcp_rcv_space(pcb), window_max(pcb));

	switch (pcb->c.state) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		break;
	default:
		return false;
	}
	/*
	 * As Linux's tcp_cleanup_rbuf(): only once what the peer may still
	 * send has fallen to half the most we would offer, and the update at
	 * least doubles it.  Until then the ACKs of arriving data carry the
	 * window anyway, and an update of its own after every read would
	 * cost a transmission (a VM exit) each time.
	 */
	if (2 * (uint64_t)cur > tcp_min32(pcb->rcvbuf, window_max(pcb)) || wnd < 2 * (uint64_t)cur)
		return false;
	return wnd > cur && wnd - cur >= tcp_min32(2u * pcb->adv_mss, pcb->rcvbuf / 2);
}

/*
 * Data that arrived twice: reported once as a D-SACK (RFC 2883) so the
 * sender can tell a needless retransmission and undo its window cut.
 */
void
tcp_rcv_duplicate(struct tcp_pcb *pcb, uint32_t start, uint32_t end)
{
	if (!(pcb->flags & TF_SACK_OK) || !SEQ_LT(start, end))
		return;
	pcb->dsack_start = start;
	pcb->dsack_end = end;
	pcb->flags |= TF_ACK_NOW;
}

/*
 * The SACK option for an ACK: a pending D-SACK first, then the
 * contiguous runs of the out-of-order queue, the one holding the latest
 * arrival first (RFC 2018 4), at most four blocks in all (no timestamps
 * share the option space).  Its length, or 0.  The D-SACK goes once.
 */
int
tcp_sack_option(struct tcp_pcb *pcb, uint8_t *opt)
{
	uint32_t blk[TCP_SACK_BLOCKS][2], others[TCP_SACK_BLOCKS][2];
	uint32_t recent[2] = { 0, 0 };
	int n = 0, nothers = 0;
	bool have_recent = false;
	const struct netbuf *nb = pcb->ooo;

	if (pcb->dsack_start != pcb->dsack_end) {
		blk[0][0] = pcb->dsack_start;
		blk[0][1] = pcb->dsack_end;
		pcb->dsack_start = pcb->dsack_end = 0;
		n = 1;
	}

	while (nb) {
		uint32_t start = nb->seq, end = nb->seq + nb->len;

		for (nb = nb->next; nb && nb->seq == end; nb = nb->next)
			end = nb->seq + nb->len;
		if (!have_recent && SEQ_LEQ(start, pcb->sack_recent) &&
		    SEQ_LT(pcb->sack_recent, end)) {
			recent[0] = start;
			recent[1] = end;
			have_recent = true;
		} else if (nothers < TCP_SACK_BLOCKS) {
			others[nothers][0] = start;
			others[nothers][1] = end;
			nothers++;
		}
	}
	if (have_recent) {
		blk[n][0] = recent[0];
		blk[n][1] = recent[1];
		n++;
	}
	for (int i = 0; i < nothers && n < TCP_SACK_BLOCKS; i++, n++) {
		blk[n][0] = others[i][0];
		blk[n][1] = others[i][1];
	}
	if (!n)
		return 0;
	opt[0] = TCPOPT_NOP;
	opt[1] = TCPOPT_NOP;
	opt[2] = TCPOPT_SACK;
	opt[3] = (uint8_t)(2 + 8 * n);
	for (int i = 0; i < n; i++) {
		tcp_put32(opt + 4 + 8 * i, blk[i][0]);
		tcp_put32(opt + 8 + 8 * i, blk[i][1]);
	}
	return 4 + 8 * n;
}

void
tcp_purge_ooo(struct tcp_pcb *pcb)
{
	while (pcb->ooo) {
		struct netbuf *nb = pcb->ooo;

		ooo_unlink_head(pcb);
		netbuf_put(nb);
	}
	pcb->flags &= ~TF_OOO_FIN;
}

void
tcp_purge_rcv(struct tcp_pcb *pcb)
{
	tcp_purge_ooo(pcb);
	netbuf_put_list(pcb->rcvq);
	pcb->rcvq = pcb->rcvq_tail = NULL;
	pcb->rcv_queued = 0;
	pcb->rcv_mem = 0;
}
