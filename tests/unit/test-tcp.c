/*
 * TCP (lib/net/tcp*.c) driven by crafted segments, opening and moving
 * data: the handshake from both sides (with MSS, window scaling and
 * SACK-permitted negotiated or not), connect errors, data both ways
 * with delayed ACKs, Nagle, TCP_NODELAY and MSG_MORE, the send buffer,
 * reassembly of out-of-order segments and the SACK blocks that describe
 * them, windows (scaled, closed, reopened, silly-window rules), the
 * calls' edge cases.  Closing, RSTs, listeners under load and bad input
 * are test-tcp-close.c's; loss and timers test-tcp-loss.c's.
 */
#include "test-tcp-harness.h"

static void
test_passive_open(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l = make_listener(80, 8, &lo), *c;
	struct peer p = { .pport = 40000, .lport = 80, .snd = 1000, .wnd = 65535 };
	struct seg *sa;
	int err;
	uint32_t a;
	uint16_t pt;

	ok(l != NULL, "listener on :80");
	clear_out();
	peer_send_opt(&p, TH_SYN, syn_opt, sizeof(syn_opt));
	sa = last_out();
	ok(sa && sa->flags == (TH_SYN | TH_ACK), "SYN answered by SYN-ACK");
	is_int(sa->ack, 1001, "SYN-ACK acknowledges the SYN");
	ok(sa->csum_ok, "SYN-ACK checksum");
	ok(sa->has_mss && sa->mss == 1460, "our MSS from the route MTU (%u)", sa->mss);
	ok(sa->has_ws && sa->ws == 3, "window scale 3 covers 256 KiB (%u)", sa->ws);
	ok(sa->sack_ok, "SACK-permitted echoed");
	is_int(sa->wnd, 65535, "SYN-ACK window unscaled");
	is_int(count_states(TCPS_SYN_RECEIVED), 1, "one half-open connection");
	is_int(lo.wakes, 0, "listener not woken yet");
	ok(tcp_accept(l, &co, &err) == NULL && err == -EAGAIN, "nothing to accept yet");
	p.ack = sa->seq + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	ok(lo.events & POLLIN, "listener woken with POLLIN");
	ok(tcp_poll(l) & POLLIN, "listener polls readable");
	c = tcp_accept(l, &co, &err);
	ok(c && err == 0, "accepted");
	is_int(tcp_poll(l) & POLLIN, 0, "listener drained");
	int st = 0;
	tcp_getopt(c, TCP_OPT_STATE, &st);
	is_int(st, TCPS_ESTABLISHED, "ESTABLISHED");
	ok(tcp_peer(c, &a, &pt) == 0 && a == PEER && pt == port(40000), "peer address");
	tcp_local(c, &a, &pt);
	ok(a == LOCAL && pt == port(80), "local address");
	ok(tcp_poll(c) & POLLOUT, "writable");
	is_int(c->snd_wscale, 7, "peer's scale taken");
	ok(c->flags & TF_SACK_OK, "SACK on");
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(200000);
}

static void
test_active_open(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c = tcp_new(&o);
	struct seg *syn;
	struct peer p = { .lport = 0, .snd = 5000, .wnd = 8192 };
	uint32_t a;
	uint16_t lp;
	static const uint8_t opt[] = { 2, 4, 0x03, 0xe8 };	/* MSS 1000, no WS/SACK */
	int v;

	clear_out();
	is_int(tcp_connect(c, PEER, port(8080)), 0, "connect starts");
	syn = last_out();
	ok(syn && syn->flags == TH_SYN, "SYN sent");
	ok(syn->has_mss && syn->mss == 1460 && syn->has_ws && syn->ws == 3 && syn->sack_ok,
	   "SYN offers MSS, window scale and SACK");
	tcp_local(c, &a, &lp);
	ok(port_host(lp) >= TCP_EPHEMERAL_LO && port_host(lp) <= TCP_EPHEMERAL_HI,
	   "ephemeral port %u", port_host(lp));
	is_int(tcp_connect(c, PEER, port(8080)), -EALREADY, "connect again: EALREADY");
	is_int(tcp_poll(c) & POLLOUT, 0, "not writable while connecting");
	is_int(tcp_send(c, "x", 1, false), -EAGAIN, "send while connecting");
	p.pport = 8080;
	p.lport = port_host(lp);
	p.ack = syn->seq + 1;
	clear_out();
	peer_send_opt(&p, TH_SYN | TH_ACK, opt, sizeof(opt));
	ok(last_out() && last_out()->flags == TH_ACK && last_out()->ack == 5001,
	   "handshake ACK");
	ok(o.events & POLLOUT, "woken writable");
	tcp_getopt(c, TCP_OPT_MAXSEG, &v);
	is_int(v, 1000, "MSS is the peer's 1000");
	is_int(c->snd_wscale, 0, "no scaling without the peer's option");
	is_int(c->rcv_wscale, 0, "ours off too");
	ok(!(c->flags & TF_SACK_OK), "no SACK");
	ok(last_out()->wnd == 65535, "window clamped to 16 bits without scaling");
	is_int(tcp_connect(c, PEER, port(8080)), -EISCONN, "connect again: EISCONN");
	/* Segments respect the peer's MSS. */
	static uint8_t big[3000];
	clear_out();
	tcp_setopt(c, TCP_OPT_NODELAY, 1);
	is_int(tcp_send(c, big, sizeof(big), false), 3000, "3000 bytes queued");
	ok(h_nout == 3 && h_out[0].len == 1000 && h_out[1].len == 1000 && h_out[2].len == 1000,
	   "three 1000-byte segments");
	tcp_setopt(c, TCP_OPT_LINGER, 0);
	clear_out();
	tcp_close(c);
	o.closed = true;
	ok(last_out() && (last_out()->flags & TH_RST), "SO_LINGER 0: close sends RST");
	is_int(count_all_states(), 0, "nothing left");
}

static void
test_connect_errors(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c = tcp_new(&o);
	struct seg *syn;
	struct spec s;

	h_no_route = true;
	is_int(tcp_connect(c, PEER, port(81)), -EHOSTUNREACH, "no route: EHOSTUNREACH");
	h_no_route = false;
	clear_out();
	tcp_connect(c, PEER, port(81));
	syn = last_out();
	/* RST with a wrong ACK is ignored in SYN_SENT. */
	memset(&s, 0, sizeof(s));
	s.src = PEER;
	s.dst = LOCAL;
	s.sport = syn->dport;
	s.dport = syn->sport;
	s.ack = syn->seq + 7;
	s.flags = TH_RST | TH_ACK;
	inject(&s);
	is_int(count_states(TCPS_SYN_SENT), 1, "RST with a bad ACK ignored");
	s.ack = syn->seq + 1;
	inject(&s);
	is_int(tcp_error(c, false), -ECONNREFUSED, "RST+ACK: ECONNREFUSED");
	ok((o.events & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP), "woken with POLLERR|POLLHUP");
	is_int(tcp_recv(c, NULL, 0, false), -ECONNREFUSED, "recv reports it once");
	is_int(tcp_error(c, true), 0, "then it is gone");
	/* Trying again on the same socket works. */
	clear_out();
	is_int(tcp_connect(c, PEER, port(81)), 0, "connect again after a refusal");
	syn = last_out();
	ok(syn->flags == TH_SYN && syn->sport == s.dport, "a new SYN from the same port");
	struct peer q = { .pport = 81, .lport = port_host(syn->sport), .snd = 3000, .wnd = 1000 };
	q.ack = syn->seq + 1;
	peer_send_opt(&q, TH_SYN | TH_ACK, NULL, 0);
	is_int(count_states(TCPS_ESTABLISHED), 1, "established this time");
	is_int(tcp_error(c, false), 0, "no error left over");
	tcp_setopt(c, TCP_OPT_LINGER, 0);
	tcp_close(c);
	o.closed = true;
	/* A segment for nobody gets an RST in both forms. */
	clear_out();
	memset(&s, 0, sizeof(s));
	s.src = PEER;
	s.dst = LOCAL;
	s.sport = port(1234);
	s.dport = port(9);
	s.seq = 100;
	s.flags = TH_SYN;
	inject(&s);
	ok(last_out() && last_out()->flags == (TH_RST | TH_ACK) && last_out()->ack == 101 &&
	   last_out()->seq == 0, "SYN to a closed port: RST,ACK");
	s.flags = TH_ACK;
	s.ack = 777;
	inject(&s);
	ok(last_out()->flags == TH_RST && last_out()->seq == 777, "ACK to a closed port: RST seq=ack");
	unsigned n = h_nout;
	s.flags = TH_RST;
	inject(&s);
	is_int(h_nout, n, "no RST for an RST");
	ok(net_stats.tcp_drop_noport >= 3, "counted as no port");
}

static void
test_receive(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 40001, .snd = 7000 };
	uint8_t buf[8192], in[8192];
	ssize_t n;

	c = established(&l, &p, &lo, &co, 81, syn_opt, sizeof(syn_opt));
	ok(c != NULL, "established");
	fill(buf, sizeof(buf), 1);
	clear_out();
	co.events = 0;
	peer_send(&p, TH_ACK | TH_PSH, buf, 100);
	is_int(h_nout, 0, "one small segment: ACK delayed");
	ok(co.events & POLLIN, "POLLIN wake-up");
	advance(39);
	is_int(h_nout, 0, "no ACK at 39 ms");
	advance(1);
	ok(h_nout == 1 && h_out[0].flags == TH_ACK && h_out[0].ack == p.snd,
	   "delayed ACK at 40 ms");
	is_int(h_out[0].wnd, (256 * 1024 - 100) >> 3, "window scaled by 3, less what waits");
	clear_out();
	peer_send(&p, TH_ACK, buf + 100, 1460);
	is_int(h_nout, 0, "first full segment: no ACK");
	peer_send(&p, TH_ACK, buf + 1560, 1460);
	ok(h_nout == 1 && h_out[0].ack == p.snd, "second full segment: ACK at once");
	n = tcp_recv(c, in, sizeof(in), true);
	is_int(n, 3020, "peek sees all");
	n = tcp_recv(c, in, 1000, false);
	is_int(n, 1000, "partial read");
	n = tcp_recv(c, in + 1000, sizeof(in) - 1000, false);
	is_int(n, 2020, "rest read");
	ok(memcmp(in, buf, 3020) == 0, "bytes in order");
	is_int(tcp_recv(c, in, sizeof(in), false), -EAGAIN, "empty: EAGAIN");
	/* Small segments share netbufs. */
	for (int i = 0; i < 50; i++)
		peer_send(&p, TH_ACK, buf + i, 1);
	ok(c->rcv_mem <= 2 * NETBUF_SIZE, "50 one-byte segments in %u bytes", c->rcv_mem);
	is_int(tcp_recv(c, in, sizeof(in), false), 50, "and read back");
	ok(memcmp(in, buf, 50) == 0, "intact");
	/* FIN: end of stream. */
	clear_out();
	co.events = 0;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	ok(last_out() && last_out()->ack == p.snd, "FIN acknowledged at once");
	ok((co.events & (POLLIN | POLLRDHUP)) == (POLLIN | POLLRDHUP), "POLLIN|POLLRDHUP");
	is_int(tcp_recv(c, in, sizeof(in), false), 0, "recv: 0 at end of stream");
	is_int(count_states(TCPS_CLOSE_WAIT), 1, "CLOSE_WAIT");
	ok(tcp_send(c, "bye", 3, false) == 3, "can still send in CLOSE_WAIT");
	clear_out();
	tcp_close(c);
	co.closed = true;
	ok(last_out() && (last_out()->flags & TH_FIN), "close sends FIN");
	is_int(count_states(TCPS_LAST_ACK), 1, "LAST_ACK");
	p.ack = last_out()->seq + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(count_states(TCPS_LAST_ACK), 0, "ACK of FIN: closed");
	tcp_close(l);
	lo.closed = true;
}

static void
test_send_nagle(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 40002, .snd = 1 };
	static uint8_t buf[5000];

	c = established(&l, &p, &lo, &co, 82, syn_opt, sizeof(syn_opt));
	fill(buf, sizeof(buf), 3);
	clear_out();
	is_int(tcp_send(c, buf, 3000, false), 3000, "3000 bytes");
	ok(h_nout == 2 && h_out[0].len == 1460 && h_out[1].len == 1460, "two full segments go");
	ok(memcmp(h_out[0].data, buf, 1460) == 0 && memcmp(h_out[1].data, buf + 1460, 1460) == 0,
	   "payload intact");
	ok(h_out[0].csum_ok && h_out[1].csum_ok, "checksums");
	is_int(h_out[0].seq + 1460, h_out[1].seq, "consecutive");
	/* Nagle: the 80-byte tail waits for the ACK. */
	is_int(tcp_send(c, buf + 3000, 20, false), 20, "small write appended");
	is_int(h_nout, 2, "tail held by Nagle");
	p.ack = h_out[1].seq + 1460;
	clear_out();
	peer_send(&p, TH_ACK, NULL, 0);
	ok(h_nout == 1 && h_out[0].len == 100 && (h_out[0].flags & TH_PSH), "tail goes with PSH");
	ok(memcmp(h_out[0].data, buf + 2920, 100) == 0, "coalesced bytes");
	p.ack += 100;
	peer_send(&p, TH_ACK, NULL, 0);
	/* TCP_NODELAY: every small write at once. */
	tcp_setopt(c, TCP_OPT_NODELAY, 1);
	clear_out();
	tcp_send(c, "a", 1, false);
	tcp_send(c, "b", 1, false);
	is_int(h_nout, 2, "NODELAY: two segments");
	p.ack += 2;
	peer_send(&p, TH_ACK, NULL, 0);
	/* MSG_MORE holds even with nothing in flight. */
	clear_out();
	tcp_send(c, "hello ", 6, true);
	is_int(h_nout, 0, "MSG_MORE holds");
	tcp_send(c, "world", 5, false);
	ok(h_nout == 1 && h_out[0].len == 11 && !memcmp(h_out[0].data, "hello world", 11),
	   "then goes as one segment");
	p.ack += 11;
	peer_send(&p, TH_ACK, NULL, 0);
	/* Send buffer limit. */
	tcp_setopt(c, TCP_OPT_SNDBUF, 4096);
	p.wnd = 0;
	peer_send(&p, TH_ACK, NULL, 0);
	ssize_t n = tcp_send(c, buf, 5000, false);
	is_int(n, 4096, "send buffer caps the copy");
	is_int(tcp_send(c, buf, 10, false), -EAGAIN, "full: EAGAIN");
	is_int(tcp_poll(c) & POLLOUT, 0, "not writable");
	tcp_shutdown(c, 1);
	is_int(tcp_send(c, buf, 10, false), -EPIPE, "after SHUT_WR: EPIPE");
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
	is_int(count_all_states(), 0, "all gone");
}

static void
test_reassembly(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 40003, .snd = 100000 };
	static uint8_t buf[8000], in[8000];
	uint32_t base;

	c = established(&l, &p, &lo, &co, 83, syn_opt, sizeof(syn_opt));
	fill(buf, sizeof(buf), 9);
	base = p.snd;
	clear_out();
	/* Segments 2 and 4 first: immediate duplicate ACKs with SACK blocks. */
	peer_send_at(&p, base + 1000, TH_ACK, buf + 1000, 1000);
	ok(h_nout == 1 && h_out[0].ack == base, "out of order: dup ACK at once");
	ok(h_out[0].nsack == 1 && h_out[0].sack[0][0] == base + 1000 &&
	   h_out[0].sack[0][1] == base + 2000, "SACK block for it");
	peer_send_at(&p, base + 3000, TH_ACK, buf + 3000, 1000);
	ok(h_out[1].nsack == 2 && h_out[1].sack[0][0] == base + 3000 &&
	   h_out[1].sack[1][0] == base + 1000, "latest block first, then the other");
	/* Overlapping retransmission covering part of 2 and all of 3. */
	peer_send_at(&p, base + 1500, TH_ACK, buf + 1500, 1500);
	ok(h_out[2].nsack == 1 && h_out[2].sack[0][0] == base + 1000 &&
	   h_out[2].sack[0][1] == base + 4000, "overlap merged into one run");
	is_int(tcp_recv(c, in, sizeof(in), false), -EAGAIN, "nothing readable with a hole");
	co.events = 0;
	peer_send_at(&p, base, TH_ACK, buf, 1000);
	ok(h_out[3].ack == base + 4000 && h_out[3].nsack == 0, "hole filled: cumulative ACK");
	ok(co.events & POLLIN, "readable");
	is_int(tcp_recv(c, in, sizeof(in), false), 4000, "4000 bytes");
	ok(memcmp(in, buf, 4000) == 0, "in order and intact");
	/* A FIN beyond a hole waits for it. */
	p.snd = base + 4000;
	peer_send_at(&p, base + 4500, TH_ACK | TH_FIN, buf + 4500, 500);
	is_int(count_states(TCPS_CLOSE_WAIT), 0, "FIN after a hole not yet taken");
	peer_send_at(&p, base + 4000, TH_ACK, buf + 4000, 500);
	is_int(count_states(TCPS_CLOSE_WAIT), 1, "hole filled: FIN taken");
	is_int(tcp_recv(c, in, sizeof(in), false), 1000, "the last 1000 bytes");
	ok(memcmp(in, buf + 4000, 1000) == 0, "intact");
	is_int(tcp_recv(c, in, sizeof(in), false), 0, "then EOF");
	/* Without SACK-permitted no blocks. */
	struct peer q = { .pport = 40004, .lport = 83, .snd = 5 };
	struct owner qo = { 0 };
	struct tcp_pcb *d = accept_one(l, &q, NULL, 0, &qo);
	clear_out();
	peer_send_at(&q, q.snd + 100, TH_ACK, buf, 10);
	ok(h_nout == 1 && h_out[0].nsack == 0, "no SACK blocks unless permitted");
	tcp_close(d);
	qo.closed = true;
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
}

static void
test_window(void)
{
	struct owner lo = { 0 }, co = { 0 }, lo2 = { 0 }, co2 = { 0 };
	struct tcp_pcb *l, *c, *l2, *c2;
	struct peer p = { .pport = 40005, .snd = 1 };
	static uint8_t buf[70000];

	c = established(&l, &p, &lo, &co, 84, syn_opt, sizeof(syn_opt));
	/* The peer's window 10 << 7 = 1280 bytes. */
	p.wnd = 10;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(c->snd_wnd, 1280, "peer window scaled by its 7");
	tcp_setopt(c, TCP_OPT_NODELAY, 1);
	clear_out();
	tcp_send(c, buf, 3000, false);
	is_int(h_nout, 0, "a window far below what it was: wait (sender SWS avoidance)");
	advance(c->rto_ms);
	ok(h_nout == 1 && h_out[0].len == 1280, "persist timer sends what fits (%u)",
	   h_nout ? h_out[0].len : 0);
	p.ack = h_out[0].seq + 1280;
	p.wnd = 512;
	clear_out();
	peer_send(&p, TH_ACK, NULL, 0);
	ok(h_nout == 3 && h_out[0].len == 180 && h_out[1].len == 1460 && h_out[2].len == 80,
	   "the rest when it opens");
	p.ack += 1720;
	peer_send(&p, TH_ACK, NULL, 0);
	tcp_close(c);
	co.closed = true;

	/* A small receive buffer: the window closes as data waits. */
	l2 = tcp_new(&lo2);
	tcp_setopt(l2, TCP_OPT_RCVBUF, 8192);
	tcp_bind(l2, 0, port(93), true);
	tcp_listen(l2, 4);
	p.pport = 40006;
	p.lport = 93;
	c2 = accept_one(l2, &p, syn_opt, sizeof(syn_opt), &co2);
	is_int(c2->rcv_wscale, 0, "8 KiB needs no scaling");
	clear_out();
	for (int i = 0; i < 6; i++)
		peer_send(&p, TH_ACK, buf, 1460);
	p.snd = c2->rcv_nxt;
	advance(50);
	ok(last_out() && last_out()->wnd == 0, "window closed with 8 KiB waiting (wnd %u)",
	   last_out() ? last_out()->wnd : 0);
	is_int(c2->rcv_queued, 8192, "the segment past the window was trimmed");
	uint64_t drops = net_stats.tcp_drop_window;
	clear_out();
	peer_send(&p, TH_ACK, buf, 100);
	p.snd -= 100;
	ok(net_stats.tcp_drop_window > drops, "data into a zero window dropped and counted");
	ok(h_nout == 1 && h_out[0].wnd == 0 && h_out[0].ack == p.snd, "and ACKed");
	clear_out();
	is_int(tcp_recv(c2, buf, 1000, false), 1000, "a small read");
	is_int(h_nout, 0, "no update for less than an MSS (receiver SWS avoidance)");
	is_int(tcp_recv(c2, buf, sizeof(buf), false), 7192, "read the rest");
	ok(h_nout == 1 && h_out[0].wnd == 8192, "window update after the read (wnd %u)",
	   h_nout ? h_out[0].wnd : 0);
	tcp_close(c2);
	co2.closed = true;
	tcp_close(l2);
	lo2.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
}

static void
test_mss(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c;

	h_mtu = 576;
	c = tcp_new(&o);
	clear_out();
	tcp_connect(c, PEER, port(90));
	is_int(last_out()->mss, 536, "MTU 576: MSS 536");
	tcp_close(c);
	h_mtu = 1500;
	c = tcp_new(&o);
	is_int(tcp_setopt(c, TCP_OPT_MAXSEG, 10), -EINVAL, "TCP_MAXSEG 10 refused");
	tcp_setopt(c, TCP_OPT_MAXSEG, 1000);
	clear_out();
	tcp_connect(c, PEER, port(90));
	is_int(last_out()->mss, 1000, "TCP_MAXSEG 1000 advertised");
	tcp_close(c);
	h_mtu = 9000;
	c = tcp_new(&o);
	clear_out();
	tcp_connect(c, PEER, port(90));
	ok(last_out()->mss <= TCP_MSS_MAX, "jumbo MTU clamped to a netbuf (%u)", last_out()->mss);
	tcp_close(c);
	h_mtu = 1500;
	o.closed = true;
}

static void
test_ooo_overlaps(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 7300, .snd = 50000 };
	static uint8_t buf[10000], in[10000];
	uint32_t b;

	c = established(&l, &p, &lo, &co, 7301, syn_opt, sizeof(syn_opt));
	fill(buf, sizeof(buf), 77);
	b = p.snd;
	/* Three small islands, then one segment over all of them. */
	peer_send_at(&p, b + 1000, TH_ACK, buf + 1000, 100);
	peer_send_at(&p, b + 1500, TH_ACK, buf + 1500, 100);
	peer_send_at(&p, b + 2000, TH_ACK, buf + 2000, 100);
	is_int(c->ooo_count, 3, "three out-of-order pieces");
	peer_send_at(&p, b + 900, TH_ACK, buf + 900, 1300);
	is_int(c->ooo_count, 1, "one segment over them replaces them");
	peer_send_at(&p, b + 2150, TH_ACK, buf + 2150, 100);
	is_int(c->ooo_count, 2, "a piece over the end is trimmed to what is new");
	is_int(c->ooo_bytes, 1350, "1300 + 50 new bytes");
	peer_send_at(&p, b + 2100, TH_ACK, buf + 2100, 100);
	peer_send_at(&p, b + 1000, TH_ACK, buf + 1000, 50);
	is_int(c->ooo_count, 2, "duplicates inside add nothing");
	is_int(c->ooo_bytes, 1350, "not a byte");
	peer_send_at(&p, b, TH_ACK, buf, 950);
	is_int(c->rcv_nxt, b + 2250, "everything joins up");
	is_int(c->ooo_count, 0, "queue empty");
	is_int(tcp_recv(c, in, sizeof(in), false), 2250, "2250 bytes");
	ok(!memcmp(in, buf, 2250), "intact");
	/* Memory bound: a flood of tiny islands stops at the limit. */
	uint64_t drops = net_stats.tcp_drop_window;
	for (int i = 0; i < 400; i++)
		peer_send_at(&p, b + 5000 + 10 * (uint32_t)i, TH_ACK, buf, 1);
	ok(c->ooo_count <= TCP_OOO_MAX, "out-of-order queue bounded (%u)", c->ooo_count);
	ok(net_stats.tcp_drop_window > drops, "the rest dropped and counted");
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
}

static void
test_api_edges(void)
{
	struct owner o = { 0 }, o2 = { 0 };
	struct tcp_pcb *c = tcp_new(&o), *d = tcp_new(&o2);
	int v, err;
	uint32_t a;
	uint16_t pt;

	ok((tcp_poll(c) & (POLLOUT | POLLHUP)) == (POLLOUT | POLLHUP), "a new socket: OUT|HUP, as Linux");
	is_int(tcp_recv(c, &v, sizeof(v), false), -ENOTCONN, "recv before connect: ENOTCONN");
	is_int(tcp_send(c, &v, sizeof(v), false), -ENOTCONN, "send before connect: ENOTCONN");
	is_int(tcp_peer(c, &a, &pt), -ENOTCONN, "no peer");
	is_int(tcp_shutdown(c, 1), -ENOTCONN, "shutdown before connect");
	is_int(tcp_shutdown(c, 7), -EINVAL, "shutdown how=7");
	ok(tcp_accept(c, &o2, &err) == NULL && err == -EINVAL, "accept on a non-listener");
	is_int(tcp_bind(c, ipaddr(192, 168, 9, 9), port(7500), false), -EADDRNOTAVAIL,
	       "bind to a foreign address");
	is_int(tcp_bind(c, 0, port(7500), false), 0, "bind");
	is_int(tcp_bind(c, 0, port(7501), false), -EINVAL, "bind twice");
	is_int(tcp_bind(d, LOCAL, port(7500), false), -EADDRINUSE, "same port, overlapping address");
	is_int(tcp_listen(c, 0), 0, "listen with backlog 0");
	is_int(c->backlog, 1, "taken as 1");
	is_int(tcp_listen(c, 100000), 0, "listen again updates the backlog");
	is_int(c->backlog, TCP_MAX_BACKLOG, "capped at SOMAXCONN");
	is_int(tcp_recv(c, &v, sizeof(v), false), -ENOTCONN, "recv on a listener");
	is_int(tcp_connect(c, PEER, port(1)), -EISCONN, "connect on a listener");
	tcp_close(d);
	o2.closed = true;
	d = tcp_new(&o2);
	o2.closed = false;
	is_int(tcp_bind(d, LOCAL, port(7500), true), -EADDRINUSE,
	       "SO_REUSEADDR does not share a listener's port");
	tcp_close(d);
	struct tcp_pcb *e1 = tcp_new(&o2), *e2 = tcp_new(&o2);
	is_int(tcp_bind(e1, 0, port(7510), true), 0, "two sockets with SO_REUSEADDR");
	is_int(tcp_bind(e2, LOCAL, port(7510), true), 0, "bind the same port");
	is_int(tcp_listen(e1, 4), 0, "one listens");
	is_int(tcp_listen(e2, 4), -EADDRINUSE, "the other cannot");
	tcp_close(e1);
	tcp_close(e2);
	o2.closed = true;
	static const struct { enum tcp_opt o; int v; } opts[] = {
		{ TCP_OPT_NODELAY, 1 }, { TCP_OPT_KEEPALIVE, 1 }, { TCP_OPT_KEEPIDLE, 30 },
		{ TCP_OPT_KEEPINTVL, 5 }, { TCP_OPT_KEEPCNT, 4 }, { TCP_OPT_MAXSEG, 1200 },
		{ TCP_OPT_SNDBUF, 100000 }, { TCP_OPT_RCVBUF, 50000 }, { TCP_OPT_LINGER, 0 },
	};
	bool all = true;
	for (unsigned i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		tcp_setopt(c, opts[i].o, opts[i].v);
		tcp_getopt(c, opts[i].o, &v);
		all = all && v == opts[i].v;
	}
	ok(all, "every option reads back what was set");
	tcp_setopt(c, TCP_OPT_SNDBUF, 1 << 30);
	tcp_getopt(c, TCP_OPT_SNDBUF, &v);
	is_int(v, TCP_BUF_MAX, "buffer sizes capped");
	is_int(tcp_setopt(c, TCP_OPT_KEEPCNT, 0), -EINVAL, "KEEPCNT 0 refused");
	is_int(tcp_setopt(c, TCP_OPT_STATE, 1), -EINVAL, "state is read-only");
	tcp_getopt(c, TCP_OPT_STATE, &v);
	is_int(v, TCPS_LISTEN, "state LISTEN (10)");
	tcp_close(c);
	o.closed = true;
	is_int(count_all_states(), 0, "nothing left");
}

int
main(void)
{
	harness_init();
	test_passive_open();
	test_active_open();
	test_connect_errors();
	test_receive();
	test_send_nagle();
	test_reassembly();
	test_window();
	test_mss();
	test_ooo_overlaps();
	test_api_edges();
	is_int(h_wake_after_close, 0, "no wake-up after tcp_close");
	harness_fini();
	return done_testing();
}
