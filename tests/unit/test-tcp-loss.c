/*
 * TCP (lib/net/tcp*.c) when time passes and segments go missing: the RTO
 * against RFC 6298's formulas, retransmission with exponential backoff
 * up to giving up, SYN retries, fast retransmit and NewReno partial ACKs
 * (RFC 6582), SACK-guided recovery that resends only the holes, limited
 * transmit, D-SACKs both ways and the undo they allow, slow start and
 * congestion avoidance, zero-window probes, keep-alive, idle restart, a
 * retransmission while the "driver" still holds the first copy.  Whole
 * transfers over a simulated wire are test-tcp-wire.c's.
 */
#include "test-tcp-harness.h"

static void
test_rto_math(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c = tcp_new(&o);

	is_int(c->rto_ms, 1000, "initial RTO 1 s (RFC 6298 2.1)");
	tcp_rtt_sample(c, 100000);
	is_int(c->srtt_us, 100000, "first sample: SRTT = R");
	is_int(c->rttvar_us, 50000, "RTTVAR = R/2");
	is_int(c->rto_ms, 300, "RTO = SRTT + 4*RTTVAR = 300 ms");
	tcp_rtt_sample(c, 200000);
	is_int(c->rttvar_us, 62500, "RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5 ms");
	is_int(c->srtt_us, 112500, "SRTT = 7/8*100 + 1/8*200 = 112.5 ms");
	is_int(c->rto_ms, 363, "RTO = 112.5 + 250 ms, rounded up");
	for (int i = 0; i < 200; i++)
		tcp_rtt_sample(c, 200000);
	ok(c->srtt_us > 199990 && c->srtt_us <= 200000, "SRTT converges on a steady RTT (%u us)",
	   c->srtt_us);
	is_int(c->rto_ms, 201, "RTO = SRTT + G once RTTVAR has gone: 201 ms");
	tcp_close(c);
	c = tcp_new(&o);
	tcp_rtt_sample(c, 1000);
	is_int(c->rto_ms, TCP_RTO_MIN_MS, "1 ms RTT: RTO floored at 200 ms");
	tcp_close(c);
	c = tcp_new(&o);
	tcp_rtt_sample(c, 100u * 1000 * 1000);
	is_int(c->rto_ms, TCP_RTO_MAX_MS, "100 s RTT: RTO capped at 60 s");
	c->rto_ms = 300;
	c->backoff = 3;
	is_int(tcp_rto_backed_off(c), 2400, "backoff 3: 8 x RTO");
	c->backoff = 15;
	is_int(tcp_rto_backed_off(c), TCP_RTO_MAX_MS, "backed off to the cap");
	tcp_close(c);
	o.closed = true;
}

/* A connection with a 100 ms RTT measured in the handshake (RTO 300 ms). */
static struct tcp_pcb *
conn(struct tcp_pcb **l, struct peer *p, struct owner *lo, struct owner *co, unsigned lport,
     bool sack)
{
	static const uint8_t nosack[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	struct tcp_pcb *c;

	p->snd = 1000;
	p->wnd = 65535;
	c = established(l, p, lo, co, lport, sack ? syn_opt : nosack,
			sack ? (int)sizeof(syn_opt) : (int)sizeof(nosack));
	if (c)
		tcp_setopt(c, TCP_OPT_NODELAY, 1);
	return c;
}

static void
closeall(struct tcp_pcb *c, struct owner *co, struct tcp_pcb *l, struct owner *lo)
{
	if (c) {
		tcp_close(c);
		co->closed = true;
	}
	tcp_close(l);
	lo->closed = true;
	advance(30 * 60 * 1000);
}

static void
test_rto_backoff(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41000 };
	uint64_t t0, rex = net_stats.tcp_retransmit;
	static const unsigned gaps[] = { 300, 600, 1200, 2400, 4800 };

	c = conn(&l, &p, &lo, &co, 100, true);
	is_int(c->rto_ms, 300, "RTO from the handshake's 100 ms RTT");
	clear_out();
	tcp_send(c, "hello", 5, false);
	t0 = net_now_ms();
	for (int i = 0; i < 5; i++) {
		advance(gaps[i] - 1);
		unsigned before = h_nout;
		advance(1);
		ok(h_nout == before + 1 && last_out()->seq == h_out[0].seq && last_out()->len == 5 &&
		   !memcmp(last_out()->data, "hello", 5),
		   "retransmission %d after %u ms", i + 1, gaps[i]);
	}
	is_int(net_stats.tcp_retransmit, rex + 5, "counted");
	is_int(c->cwnd, c->mss, "cwnd down to one segment");
	is_int(c->ssthresh, 2 * c->mss, "ssthresh = max(flight/2, 2*MSS)");
	(void)t0;
	/* The ACK ends it; the next loss starts from the unbacked RTO. */
	p.ack = h_out[0].seq + 5;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(c->backoff, 0, "backoff reset by the ACK");
	is_int(c->rto_ms, 300, "no sample from a retransmitted segment (Karn)");
	clear_out();
	tcp_send(c, "again", 5, false);
	advance(300);
	is_int(h_nout, 2, "retransmitted after 300 ms again");
	/* Nothing ever answers: the connection gives up. */
	co.events = 0;
	advance(30 * 60 * 1000);
	is_int(tcp_error(c, false), -ETIMEDOUT, "ETIMEDOUT after 15 retransmissions");
	ok(co.events & POLLERR, "woken with POLLERR");
	ok(last_out()->flags & TH_RST, "and an RST sent");
	is_int(count_out(TH_RST, 0), 16, "1 + 15 transmissions");
	closeall(c, &co, l, &lo);
}

static void
test_syn_retries(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c = tcp_new(&o);
	static const unsigned at[] = { 1000, 3000, 7000, 15000, 31000, 63000 };
	uint64_t t0;

	clear_out();
	tcp_connect(c, PEER, port(9999));
	t0 = net_now_ms();
	for (int i = 0; i < 6; i++) {
		advance(at[i] - (net_now_ms() - t0));
		ok(h_nout == (unsigned)i + 2 && last_out()->flags == TH_SYN,
		   "SYN again at %u s", at[i] / 1000);
	}
	/* The last wait is 64 s capped at the 60 s maximum RTO. */
	advance(123000 - (net_now_ms() - t0) - 1);
	is_int(tcp_error(c, false), 0, "still trying just before 123 s");
	advance(1);
	is_int(tcp_error(c, false), -ETIMEDOUT, "ETIMEDOUT at 123 s");
	ok(o.events & POLLERR, "POLLERR");
	tcp_close(c);
	o.closed = true;
}

/* Retransmissions among segments recorded from index from (seq < limit). */
static unsigned
retransmissions(unsigned from, uint32_t limit, uint32_t *seqs, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = from; i < h_nout; i++)
		if (h_out[i].len && SEQ_LT(h_out[i].seq, limit)) {
			if (n < max)
				seqs[n] = h_out[i].seq;
			n++;
		}
	return n;
}

static void
test_fast_retransmit(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41001 };
	static uint8_t buf[20 * 1460];
	uint32_t s0, seqs[8], high;
	uint64_t fr = net_stats.tcp_fast_retransmit;
	unsigned mark;

	c = conn(&l, &p, &lo, &co, 101, false);
	clear_out();
	tcp_send(c, buf, 10 * 1460, false);
	is_int(h_nout, 10, "initial window: 10 segments");
	s0 = h_out[0].seq;
	high = s0 + 10 * 1460;
	/* Segment 1 (of 0..9) and segment 4 are lost. */
	p.ack = s0 + 1460;
	peer_send(&p, TH_ACK, NULL, 0);
	mark = h_nout;
	high = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(retransmissions(mark, high, seqs, 8), 0, "two dup ACKs: nothing yet");
	uint32_t flight = c->snd_max - c->snd_una;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(retransmissions(mark, high, seqs, 8) == 1 && seqs[0] == s0 + 1460,
	   "third dup ACK: segment 1 resent at once");
	is_int(net_stats.tcp_fast_retransmit, fr + 1, "counted");
	ok(c->flags & TF_RECOVERY, "in fast recovery");
	is_int(c->ssthresh, flight / 2, "ssthresh = flight/2");
	is_int(c->cwnd, c->ssthresh + 3 * c->mss, "cwnd = ssthresh + 3*MSS");
	uint32_t cw = c->cwnd;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(c->cwnd, cw + c->mss, "each further dup ACK inflates by one MSS");
	/* Partial ACK: up to segment 4, which is lost too. */
	mark = h_nout;
	p.ack = s0 + 4 * 1460;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(retransmissions(mark, high, seqs, 8) == 1 && seqs[0] == s0 + 4 * 1460,
	   "partial ACK: segment 4 resent at once (NewReno)");
	ok(c->flags & TF_RECOVERY, "still recovering");
	/* The full ACK ends recovery. */
	p.ack = c->recover;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(!(c->flags & TF_RECOVERY), "full ACK: recovery over");
	ok(c->cwnd <= c->ssthresh, "cwnd deflated to at most ssthresh (%u <= %u)", c->cwnd,
	   c->ssthresh);
	p.ack = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	closeall(c, &co, l, &lo);
}

static int
sack_opt(uint8_t *o, const uint32_t (*b)[2], int n)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 5;
	o[3] = (uint8_t)(2 + 8 * n);
	for (int i = 0; i < n; i++) {
		tcp_put32(o + 4 + 8 * i, b[i][0]);
		tcp_put32(o + 8 + 8 * i, b[i][1]);
	}
	return 4 + 8 * n;
}

static void
test_sack_recovery(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41002 };
	static uint8_t buf[8 * 1460];
	uint8_t o[40];
	uint32_t s0, seqs[16], high;
	unsigned mark;
#define S(k) (s0 + (k) * 1460u)

	c = conn(&l, &p, &lo, &co, 102, true);
	clear_out();
	tcp_send(c, buf, sizeof(buf), false);
	s0 = h_out[0].seq;
	high = S(8);
	mark = h_nout;
	/* Segments 1 and 3 lost; the peer SACKs what it has. */
	p.ack = S(1);
	{
		const uint32_t b[][2] = { { S(2), S(3) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	{
		const uint32_t b[][2] = { { S(4), S(5) }, { S(2), S(3) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 2));
	}
	{
		const uint32_t b[][2] = { { S(4), S(6) }, { S(2), S(3) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 2));
	}
	ok(c->nsacked == 2, "scoreboard holds two ranges");
	ok(retransmissions(mark, high, seqs, 16) == 1 && seqs[0] == S(1),
	   "three segments SACKed above it: segment 1 lost, resent after two dup ACKs");
	{
		const uint32_t b[][2] = { { S(4), S(8) }, { S(2), S(3) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 2));
	}
	unsigned n = retransmissions(mark, high, seqs, 16);
	ok(n == 2 && seqs[1] == S(3), "the SACKed-around hole 3 resent without waiting (%u)", n);
	{
		const uint32_t b[][2] = { { S(4), S(8) } };
		p.ack = S(3);
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	n = retransmissions(mark, high, seqs, 16);
	is_int(n, 2, "nothing the peer has is ever resent");
	p.ack = S(8);
	peer_send(&p, TH_ACK, NULL, 0);
	ok(!(c->flags & TF_RECOVERY) && c->nsacked == 0, "recovered, scoreboard empty");
	/* Blocks that make no sense are ignored. */
	{
		const uint32_t b[][2] = { { S(100), S(101) }, { S(9), S(8) } };
		tcp_send(c, buf, 1460, false);
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 2));
	}
	is_int(c->nsacked, 0, "SACK beyond snd_max or reversed: ignored");
	p.ack = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	closeall(c, &co, l, &lo);
#undef S
}

static void
test_congestion(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41003 };
	static uint8_t buf[200000];
	uint32_t cw;

	c = conn(&l, &p, &lo, &co, 103, true);
	is_int(c->cwnd, 10 * 1460, "IW10 (RFC 6928)");
	tcp_send(c, buf, sizeof(buf), false);
	p.ack = c->snd_una;
	for (int i = 0; i < 20; i++) {
		p.ack += 1460;
		peer_send(&p, TH_ACK, NULL, 0);
	}
	is_int(c->cwnd, 30 * 1460, "slow start: one MSS per ACKed MSS");
	c->ssthresh = c->cwnd;
	cw = c->cwnd;
	for (int i = 0; i < 29; i++) {
		p.ack += 1460;
		peer_send(&p, TH_ACK, NULL, 0);
	}
	is_int(c->cwnd, cw, "congestion avoidance: not yet a window's worth");
	p.ack += 1460;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(c->cwnd, cw + 1460, "one MSS per window acknowledged");
	ok(SEQ_LEQ(c->snd_nxt, c->snd_una + c->cwnd), "never more than cwnd in flight");
	p.ack = c->snd_max;
	tcp_setopt(c, TCP_OPT_LINGER, 0);
	closeall(c, &co, l, &lo);
}

static void
test_persist(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41004 };
	static uint8_t buf[1000];
	static const unsigned gaps[] = { 300, 600, 1200, 2400 };

	c = conn(&l, &p, &lo, &co, 104, true);
	p.ack = c->snd_una;
	p.wnd = 0;
	peer_send(&p, TH_ACK, NULL, 0);
	clear_out();
	is_int(tcp_send(c, buf, sizeof(buf), false), 1000, "queued into a closed window");
	is_int(h_nout, 0, "nothing sent");
	for (int i = 0; i < 4; i++) {
		advance(gaps[i] - 1);
		unsigned before = h_nout;
		advance(1);
		ok(h_nout == before + 1 && last_out()->len == 0 && last_out()->seq == c->snd_una - 1,
		   "zero-window probe %d after %u ms", i + 1, gaps[i]);
		peer_send(&p, TH_ACK, NULL, 0);	/* still closed */
	}
	is_int(tcp_error(c, false), 0, "a live socket keeps probing");
	clear_out();
	p.wnd = 100;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(h_nout == 1 && h_out[0].len == 1000, "window opens: the data goes");
	p.ack += 1000;
	peer_send(&p, TH_ACK, NULL, 0);
	closeall(c, &co, l, &lo);
}

static void
test_keepalive(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41005 };
	uint64_t kd = net_stats.tcp_keepalive_drop;

	c = conn(&l, &p, &lo, &co, 105, true);
	tcp_setopt(c, TCP_OPT_KEEPIDLE, 10);
	tcp_setopt(c, TCP_OPT_KEEPINTVL, 2);
	tcp_setopt(c, TCP_OPT_KEEPCNT, 3);
	clear_out();
	advance(20000);
	is_int(h_nout, 0, "no probes without SO_KEEPALIVE");
	tcp_setopt(c, TCP_OPT_KEEPALIVE, 1);
	advance(9999);
	is_int(h_nout, 0, "idle < 10 s: quiet");
	advance(1);
	ok(h_nout == 1 && h_out[0].len == 0 && h_out[0].seq == c->snd_una - 1 &&
	   (h_out[0].flags & TH_ACK), "probe after 10 s idle");
	p.ack = c->snd_una;
	peer_send(&p, TH_ACK, NULL, 0);
	advance(9999);
	is_int(h_nout, 1, "answered: quiet for another 10 s");
	advance(1);
	is_int(h_nout, 2, "probe");
	advance(2000);
	is_int(h_nout, 3, "probe after 2 s");
	advance(2000);
	is_int(h_nout, 4, "probe after 2 s");
	is_int(tcp_error(c, false), 0, "not yet");
	advance(2000);
	is_int(tcp_error(c, false), -ETIMEDOUT, "three unanswered: ETIMEDOUT");
	is_int(net_stats.tcp_keepalive_drop, kd + 1, "counted");
	ok(last_out()->flags & TH_RST, "RST sent");
	closeall(c, &co, l, &lo);
}

/* The driver still holds the first transmission: the retransmission is a copy. */
static void
test_retransmit_while_held(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41006 };
	uint8_t snap[2048];
	uint32_t snaplen;
	struct netbuf *q;

	c = conn(&l, &p, &lo, &co, 106, true);
	clear_out();
	h_hold = true;
	tcp_send(c, "held bytes", 10, false);
	q = c->sndq;
	is_int(h_nheld, 1, "driver holds the segment");
	ok(h_held[0] == q, "the queued netbuf itself (no copy on first send)");
	is_int(q->refs, 2, "two references: queue and driver");
	snaplen = q->len;
	memcpy(snap, q->data, snaplen);
	advance(300);
	is_int(h_nheld, 2, "retransmitted");
	ok(h_held[1] != q, "as a copy");
	ok(q->len == snaplen && !memcmp(q->data, snap, snaplen), "the held netbuf untouched");
	ok(last_out()->len == 10 && !memcmp(last_out()->data, "held bytes", 10) &&
	   last_out()->csum_ok, "copy carries the same bytes");
	release_held();
	h_hold = false;
	advance(600);
	ok(last_out()->len == 10 && last_out()->csum_ok, "once released, resent in place");
	p.ack = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	closeall(c, &co, l, &lo);
}

/* Limited transmit, D-SACK out, D-SACK in (undo) and a raised dup threshold. */
static void
test_reordering(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 41007 };
	static uint8_t buf[40 * 1460];
	uint8_t o[40];
	uint32_t s0, high;
	unsigned mark;
#define S(k) (s0 + (k) * 1460u)

	c = conn(&l, &p, &lo, &co, 107, true);
	/* A window of exactly four segments. */
	c->cwnd = 4 * 1460;
	clear_out();
	tcp_send(c, buf, sizeof(buf), false);
	is_int(h_nout, 4, "cwnd of four segments");
	s0 = h_out[0].seq;
	high = c->snd_max;
	p.ack = S(0);
	mark = h_nout;
	{
		const uint32_t b[][2] = { { S(1), S(2) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	ok(h_nout == mark + 1 && h_out[mark].seq == high, "first dup ACK: one new segment (RFC 3042)");
	{
		const uint32_t b[][2] = { { S(1), S(3) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	ok(h_nout == mark + 2 && h_out[mark + 1].seq == high + 1460, "second: another");
	uint32_t cw = c->cwnd;
	{
		const uint32_t b[][2] = { { S(1), S(4) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	ok(c->flags & TF_RECOVERY, "third: fast retransmit");
	ok(c->cwnd < cw + 3 * 1460, "window cut");
	/* Segment 0 was only late: the peer reports our retransmission as a duplicate. */
	p.ack = c->recover;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(!(c->flags & TF_RECOVERY), "recovery over");
	{
		const uint32_t b[][2] = { { S(0), S(1) } };
		peer_send_opt(&p, TH_ACK, o, sack_opt(o, b, 1));
	}
	ok(c->cwnd >= cw, "D-SACK of the retransmission: window restored (%u >= %u)", c->cwnd, cw);
	is_int(c->reordering, 6, "and the dup-ACK threshold raised to 6");
	is_int(c->nsacked, 0, "a D-SACK block is not a SACK");
	p.ack = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	closeall(c, &co, l, &lo);

	/* The receiving side: a duplicate segment is reported once. */
	struct owner lo2 = { 0 }, co2 = { 0 };
	struct peer q = { .pport = 41008 };
	c = conn(&l, &q, &lo2, &co2, 108, true);
	uint32_t b0 = q.snd;
	q.ack = c->snd_una;
	peer_send(&q, TH_ACK, buf, 1000);
	clear_out();
	peer_send_at(&q, b0, TH_ACK, buf, 1000);
	ok(h_nout == 1 && h_out[0].nsack == 1 && h_out[0].sack[0][0] == b0 &&
	   h_out[0].sack[0][1] == b0 + 1000 && h_out[0].ack == b0 + 1000,
	   "a duplicate segment: ACK with a D-SACK block for it");
	clear_out();
	tcp_send(c, "x", 1, false);
	ok(h_nout == 1 && h_out[0].nsack == 0, "reported once");
	peer_send_at(&q, b0 + 3000, TH_ACK, buf, 100);
	clear_out();
	peer_send_at(&q, b0 + 3000, TH_ACK, buf, 100);
	ok(h_nout == 1 && h_out[0].nsack == 2 && h_out[0].sack[0][0] == b0 + 3000 &&
	   h_out[0].sack[1][0] == b0 + 3000, "a duplicate out-of-order segment: D-SACK, then its SACK");
	q.ack = c->snd_max;
	peer_send(&q, TH_ACK, NULL, 0);
	tcp_setopt(c, TCP_OPT_LINGER, 0);
	closeall(c, &co2, l, &lo2);
#undef S
}

static void
test_timer_details(void)
{
	struct owner o = { 0 }, lo = { 0 }, co = { 0 };
	struct tcp_pcb *c = tcp_new(&o), *l;
	struct peer p = { .pport = 7700, .snd = 1, .wnd = 65535 };
	static uint8_t buf[30000];
	uint32_t a;
	uint16_t lp;

	/* RFC 6298 5.7: a SYN that had to be resent leaves RTO = 3 s. */
	clear_out();
	tcp_connect(c, PEER, port(7700));
	advance(1000);
	tcp_local(c, &a, &lp);
	p.lport = port_host(lp);
	p.ack = last_out()->seq + 1;
	peer_send_opt(&p, TH_SYN | TH_ACK, syn_opt, sizeof(syn_opt));
	is_int(count_states(TCPS_ESTABLISHED), 1, "established after a SYN retransmission");
	is_int(c->rto_ms, 3000, "RTO 3 s until a measurement");
	tcp_setopt(c, TCP_OPT_LINGER, 0);
	tcp_close(c);
	o.closed = true;

	/* Idle restart (RFC 5681 4.1) and keep-alive with data outstanding. */
	p = (struct peer){ .pport = 7701 };
	p.snd = 1;
	p.wnd = 65535;
	c = established(&l, &p, &lo, &co, 7702, syn_opt, sizeof(syn_opt));
	tcp_setopt(c, TCP_OPT_NODELAY, 1);
	tcp_send(c, buf, sizeof(buf), false);
	p.ack = c->snd_una;
	for (int i = 0; i < 20; i++) {
		p.ack += 1460;
		peer_send(&p, TH_ACK, NULL, 0);
	}
	p.ack = c->snd_max;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(c->cwnd > 10 * 1460, "cwnd grew (%u)", c->cwnd);
	advance(5000);
	clear_out();
	tcp_send(c, buf, sizeof(buf), false);
	is_int(c->cwnd, 10 * 1460, "after idle > RTO: back to the initial window");
	is_int(h_nout, 10, "so ten segments go");
	tcp_setopt(c, TCP_OPT_KEEPIDLE, 1);
	tcp_setopt(c, TCP_OPT_KEEPALIVE, 1);
	advance(1000);
	ok(c->kprobes == 0, "no keep-alive probe while data is outstanding");
	/* A lost FIN alone is resent too. */
	while (c->snd_una != c->write_seq) {
		p.ack = c->snd_max;
		peer_send(&p, TH_ACK, NULL, 0);
	}
	tcp_send(c, buf, 1460 * 4, false);
	tcp_shutdown(c, 1);
	uint32_t fin = c->write_seq;
	p.ack = fin;	/* all data, not the FIN */
	peer_send(&p, TH_ACK, NULL, 0);
	clear_out();
	advance(c->rto_ms);
	ok(h_nout == 1 && (h_out[0].flags & TH_FIN) && h_out[0].seq == fin && h_out[0].len == 0,
	   "RTO resends the bare FIN");
	p.ack = fin + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(count_states(TCPS_FIN_WAIT_2), 1, "FIN_WAIT_2");
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
	is_int(count_all_states(), 0, "all gone");
}

int
main(void)
{
	harness_init();
	test_rto_math();
	test_rto_backoff();
	test_syn_retries();
	test_fast_retransmit();
	test_sack_recovery();
	test_reordering();
	test_congestion();
	test_persist();
	test_keepalive();
	test_retransmit_while_held();
	test_timer_details();
	is_int(h_wake_after_close, 0, "no wake-up after tcp_close");
	harness_fini();
	return done_testing();
}
