/*
 * Time in TCP: each PCB's four timer slots (retransmission, persist,
 * delayed ACK, and a "keep" slot that serves keep-alive, the orphan's
 * FIN_WAIT_2 limit and TIME_WAIT) multiplexed on the one net_timer it
 * embeds, so an idle connection carries a single timer and most
 * re-armings (every ACK pushes the retransmission deadline later) cost
 * no call into the stack's timer list: a slot whose deadline moved out
 * is found not due when the timer fires and the timer is set again.
 * Also the RTT estimator and RTO (RFC 6298), keep-alive probes, and
 * TIME_WAIT: the compact entries that stand for closed connections for
 * 2*MSL in one expiry-ordered FIFO under a single timer.
 *
 * Not here: what a retransmission or persist timeout does (tcp_ack.c).
 */
#include "lib/net/tcp_internal.h"

#include "lib/mm/kheap.h"

static void timer_fire(struct net_timer *t);

static void
timer_set_earliest(struct tcp_pcb *pcb)
{
	uint64_t when = 0;

	for (int i = 0; i < TT_N; i++)
		if (pcb->tmo[i] && (!when || pcb->tmo[i] < when))
			when = pcb->tmo[i];
	if (!when)
		net_timer_cancel(&pcb->timer);
	else if (!net_timer_pending(&pcb->timer) || pcb->timer.when_ms != when)
		net_timer_set(&pcb->timer, when, timer_fire);
}

void
tcp_timer_arm(struct tcp_pcb *pcb, int slot, uint64_t when_ms)
{
	if (!when_ms)
		when_ms = 1;
	pcb->tmo[slot] = when_ms;
	if (!net_timer_pending(&pcb->timer) || when_ms < pcb->timer.when_ms)
		net_timer_set(&pcb->timer, when_ms, timer_fire);
}

/* Lazy: the timer may still fire and find nothing due. */
void
tcp_timer_stop(struct tcp_pcb *pcb, int slot)
{
	pcb->tmo[slot] = 0;
}

void
tcp_timer_stop_all(struct tcp_pcb *pcb)
{
	for (int i = 0; i < TT_N; i++)
		pcb->tmo[i] = 0;
	net_timer_cancel(&pcb->timer);
}

/* RFC 6298 2.2-2.4, in microseconds; the RTO kept in milliseconds. */
void
tcp_rtt_sample(struct tcp_pcb *pcb, uint32_t r)
{
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (!pcb->srtt_us) {
		pcb->srtt_us = r;
		pcb->rttvar_us = r / 2;
	} else {
		uint32_t delta = pcb->srtt_us > r ? pcb->srtt_us - r : r - pcb->srtt_us;

		pcb->rttvar_us = (uint32_t)(((uint64_t)3 * pcb->rttvar_us + delta) / 4);
		pcb->srtt_us = (uint32_t)(((uint64_t)7 * pcb->srtt_us + r) / 8);
	}
	/* G, the clock granularity, is 1 ms. */
	rto = pcb->srtt_us + tcp_max32(1000, 4 * pcb->rttvar_us);
	rto = (rto + 999) / 1000;
	if (rto < TCP_RTO_MIN_MS)
		rto = TCP_RTO_MIN_MS;
	if (rto > TCP_RTO_MAX_MS)
		rto = TCP_RTO_MAX_MS;
	pcb->rto_ms = (uint32_t)rto;
}

uint32_t
tcp_rto_backed_off(const struct tcp_pcb *pcb)
{
	uint64_t rto = (uint64_t)pcb->rto_ms << pcb->backoff;

	return rto > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : (uint32_t)rto;
}

void
tcp_rexmit_restart(struct tcp_pcb *pcb)
{
	tcp_timer_arm(pcb, TT_REXMIT, net_now_ms() + tcp_rto_backed_off(pcb));
}

static bool
keepalive_state(const struct tcp_pcb *pcb)
{
	return pcb->c.state == TCPS_ESTABLISHED || pcb->c.state == TCPS_CLOSE_WAIT;
}

/* (Re)starts the idle clock of SO_KEEPALIVE, or stops it. */
void
tcp_keepalive_reset(struct tcp_pcb *pcb)
{
	if (!keepalive_state(pcb))
		return;
	pcb->kprobes = 0;
	if (pcb->flags & TF_KEEPALIVE)
		tcp_timer_arm(pcb, TT_KEEP, net_now_ms() + pcb->keepidle_s * 1000ull);
	else
		tcp_timer_stop(pcb, TT_KEEP);
}

/*
 * Keep-alive: after keepidle seconds with nothing heard, probe every
 * keepintvl seconds; keepcnt probes unanswered end the connection.
 * Arriving segments only note the time (last_rx_ms, kprobes = 0), so
 * a busy connection never touches the timer.
 */
static void
keepalive_timeout(struct tcp_pcb *pcb)
{
	uint64_t now = net_now_ms(), idle = pcb->keepidle_s * 1000ull;

	if (!(pcb->flags & TF_KEEPALIVE) || !keepalive_state(pcb))
		return;
	if (pcb->snd_una != pcb->snd_max || pcb->snd_next_nb) {
		/* Data outstanding: the retransmission timer watches the peer. */
		tcp_timer_arm(pcb, TT_KEEP, now + idle);
		return;
	}
	if (pcb->kprobes == 0 && now - pcb->last_rx_ms < idle) {
		tcp_timer_arm(pcb, TT_KEEP, pcb->last_rx_ms + idle);
		return;
	}
	if (pcb->kprobes >= pcb->keepcnt) {
		NET_STAT(tcp_keepalive_drop);
		tcp_send_rst(pcb);
		tcp_drop(pcb, -ETIMEDOUT);
		return;
	}
	tcp_send_probe(pcb);
	pcb->kprobes++;
	tcp_timer_arm(pcb, TT_KEEP, now + pcb->keepintvl_s * 1000ull);
}

static void
keep_slot(struct tcp_pcb *pcb)
{
	switch (pcb->c.state) {
	case TCPS_TIME_WAIT:		/* 2*MSL over, socket still open */
	case TCPS_FIN_WAIT_2:		/* an orphan waited long enough */
		tcp_drop(pcb, 0);
		break;
	default:
		keepalive_timeout(pcb);
	}
}

static void
timer_fire(struct net_timer *t)
{
	struct tcp_pcb *pcb = (struct tcp_pcb *)((char *)t - offsetof(struct tcp_pcb, timer));
	uint64_t now = net_now_ms();

	tcp_enter();
	for (int i = 0; i < TT_N && !(pcb->flags & TF_DEAD); i++) {
		if (!pcb->tmo[i] || pcb->tmo[i] > now)
			continue;
		pcb->tmo[i] = 0;
		switch (i) {
		case TT_REXMIT:
			tcp_retransmit_timeout(pcb);
			break;
		case TT_PERSIST:
			tcp_persist_timeout(pcb);
			break;
		case TT_DELACK:
			if (pcb->flags & TF_ACK_DELAYED)
				tcp_send_ack(pcb);
			break;
		case TT_KEEP:
			keep_slot(pcb);
			break;
		}
	}
	if (!(pcb->flags & TF_DEAD))
		timer_set_earliest(pcb);
	tcp_finish(pcb);
	tcp_leave();
}

/* ---------------------------------------------------------------- TIME_WAIT */

static struct tcp_tw *tw_head, *tw_tail;
static struct net_timer tw_timer;

static void
tw_fire(struct net_timer *t)
{
	uint64_t now = net_now_ms();

	(void)t;
	while (tw_head && tw_head->expire_ms <= now)
		tcp_tw_free(tw_head);
	if (tw_head)
		net_timer_set(&tw_timer, tw_head->expire_ms, tw_fire);
}

static void
fifo_unlink(struct tcp_tw *tw)
{
	if (tw->fprev)
		tw->fprev->fnext = tw->fnext;
	else
		tw_head = tw->fnext;
	if (tw->fnext)
		tw->fnext->fprev = tw->fprev;
	else
		tw_tail = tw->fprev;
	tw->fnext = tw->fprev = NULL;
}

/* Inserts in expiry order; nearly always at the tail. */
static void
fifo_insert(struct tcp_tw *tw)
{
	struct tcp_tw *after = tw_tail;

	while (after && after->expire_ms > tw->expire_ms)
		after = after->fprev;
	tw->fprev = after;
	tw->fnext = after ? after->fnext : tw_head;
	if (tw->fnext)
		tw->fnext->fprev = tw;
	else
		tw_tail = tw;
	if (after)
		after->fnext = tw;
	else
		tw_head = tw;
	if (tw_head == tw)
		net_timer_set(&tw_timer, tw->expire_ms, tw_fire);
}

void
tcp_tw_free(struct tcp_tw *tw)
{
	tcp_htable_del(&tcp_ehash, &tw->c.hnode);
	tcp_htable_del(&tcp_bhash, &tw->c.bnode);
	fifo_unlink(tw);
	tcp_count_state(TCPS_TIME_WAIT, -1);
	kfree(tw);
}

/* The connection enters TIME_WAIT (RFC 9293 3.10.7.4, FIN processing). */
void
tcp_timewait(struct tcp_pcb *pcb)
{
	NET_STAT(tcp_timewait);
	tcp_set_state(pcb, TCPS_TIME_WAIT);
	for (int i = 0; i < TT_N; i++)
		pcb->tmo[i] = 0;
	pcb->flags &= ~(TF_PERSIST | TF_RECOVERY);
	tcp_purge_snd(pcb);
	tcp_purge_ooo(pcb);
	/* An orphan becomes a compact entry at the end of the step (tcp_finish). */
	tcp_timer_arm(pcb, TT_KEEP, net_now_ms() + TCP_TIMEWAIT_MS);
}

/* Trades a PCB in TIME_WAIT nobody owns for a compact entry; frees pcb. */
void
tcp_tw_from_pcb(struct tcp_pcb *pcb)
{
	struct tcp_tw *tw = kzalloc(sizeof(*tw));
	uint64_t expire = pcb->tmo[TT_KEEP] ? pcb->tmo[TT_KEEP] : net_now_ms() + TCP_TIMEWAIT_MS;
	uint32_t wnd = SEQ_GT(pcb->rcv_adv, pcb->rcv_nxt) ? pcb->rcv_adv - pcb->rcv_nxt : 0;

	tcp_htable_del(&tcp_ehash, &pcb->c.hnode);
	if (tw) {
		tw->c.laddr = pcb->c.laddr;
		tw->c.raddr = pcb->c.raddr;
		tw->c.lport = pcb->c.lport;
		tw->c.rport = pcb->c.rport;
		tw->c.state = TCPS_TIME_WAIT;
		tw->c.kind = TCP_KIND_TW;
		tw->c.reuse = pcb->c.reuse;
		tw->snd_nxt = pcb->snd_max;
		tw->rcv_nxt = pcb->rcv_nxt;
		tw->rcv_wnd = (uint16_t)tcp_min32(wnd >> pcb->rcv_wscale, 65535);
		tw->expire_ms = expire;
		tcp_htable_add(&tcp_ehash, &tw->c.hnode,
			       tcp_ehash_of(tw->c.raddr, tw->c.lport, tw->c.rport));
		if (pcb->c.bnode.pprev) {
			tcp_htable_del(&tcp_bhash, &pcb->c.bnode);
			tcp_bind_insert(&tw->c);
		}
		tcp_count_state(TCPS_TIME_WAIT, 1);
		fifo_insert(tw);
	}
	/* Without memory the 4-tuple is simply free again at once. */
	tcp_pcb_free(pcb);
}

/*
 * What a segment does to a connection in TIME_WAIT (RFC 9293 3.10.7.4
 * and RFC 6191's rule for a new SYN): an exact RST ends it; a SYN with a
 * higher sequence number may start a new connection; a retransmitted FIN
 * is ACKed again and restarts the 2*MSL wait; other data gets an ACK.
 */
enum tw_verdict { TW_IGNORE, TW_ACK, TW_ACK_RESTART, TW_KILL, TW_REOPEN };

static enum tw_verdict
tw_judge(uint32_t rcv_nxt, const struct tcp_seg *s)
{
	if (s->flags & TH_RST)
		return s->seq == rcv_nxt ? TW_KILL : TW_IGNORE;
	if (s->flags & TH_SYN) {
		if (!(s->flags & TH_ACK) && SEQ_GT(s->seq, rcv_nxt))
			return TW_REOPEN;
		return TW_ACK;
	}
	if (s->flags & TH_FIN)
		return TW_ACK_RESTART;
	return s->len ? TW_ACK : TW_IGNORE;
}

/* True when the segment (a new SYN) should go on to a listener. */
bool
tcp_tw_input(struct tcp_tw *tw, struct tcp_seg *s)
{
	switch (tw_judge(tw->rcv_nxt, s)) {
	case TW_IGNORE:
		break;
	case TW_ACK_RESTART:
		fifo_unlink(tw);
		tw->expire_ms = net_now_ms() + TCP_TIMEWAIT_MS;
		fifo_insert(tw);
		/* fall through */
	case TW_ACK:
		if (tcp_challenge_ack_allowed())
			tcp_send_ctl(tw->c.laddr, tw->c.raddr, tw->c.lport, tw->c.rport,
				     tw->snd_nxt, tw->rcv_nxt, TH_ACK, tw->rcv_wnd);
		break;
	case TW_KILL:
		tcp_tw_free(tw);
		break;
	case TW_REOPEN:
		tcp_tw_free(tw);
		return true;
	}
	return false;
}

/* The same for a PCB in TIME_WAIT that its socket still holds. */
bool
tcp_tw_pcb_input(struct tcp_pcb *pcb, struct tcp_seg *s)
{
	switch (tw_judge(pcb->rcv_nxt, s)) {
	case TW_IGNORE:
		break;
	case TW_ACK_RESTART:
		tcp_timer_arm(pcb, TT_KEEP, net_now_ms() + TCP_TIMEWAIT_MS);
		/* fall through */
	case TW_ACK:
		if (tcp_challenge_ack_allowed())
			tcp_send_ack(pcb);
		break;
	case TW_KILL:
		tcp_drop(pcb, 0);
		break;
	case TW_REOPEN:
		tcp_drop(pcb, 0);
		return true;
	}
	return false;
}
