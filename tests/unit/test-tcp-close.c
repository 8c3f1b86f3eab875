/*
 * TCP (lib/net/tcp*.c) driven by crafted segments, closing and under
 * attack: simultaneous open and close, every way to close, TIME_WAIT
 * (full PCB and compact entry), its expiry and SO_REUSEADDR, SYN_RECEIVED
 * corner cases, RSTs in and out of the window (challenge ACKs, RFC
 * 5961), ICMP errors, listen backlog and SYN cookies under a SYN flood,
 * malformed headers and options, and random bytes.
 */
#include "test-tcp-harness.h"

static void
test_simultaneous_open(void)
{
	struct owner o = { 0 };
	struct tcp_pcb *c = tcp_new(&o);
	struct seg *syn, *sa;
	struct peer p = { .pport = 7000, .snd = 90000, .wnd = 65535 };
	uint32_t a;
	uint16_t lp;

	tcp_bind(c, 0, port(7001), false);
	clear_out();
	tcp_connect(c, PEER, port(7000));
	syn = last_out();
	tcp_local(c, &a, &lp);
	p.lport = 7001;
	p.ack = 0;
	/* The peer's SYN crosses ours. */
	peer_send_opt(&p, TH_SYN, syn_opt, sizeof(syn_opt));
	sa = last_out();
	ok(sa->flags == (TH_SYN | TH_ACK) && sa->seq == syn->seq && sa->ack == 90001,
	   "SYN-ACK with our ISN again");
	is_int(count_states(TCPS_SYN_RECEIVED), 1, "SYN_RECEIVED");
	/* Its SYN-ACK crosses ours. */
	p.snd = 90000;
	p.ack = syn->seq + 1;
	peer_send_opt(&p, TH_SYN | TH_ACK, syn_opt, sizeof(syn_opt));
	is_int(count_states(TCPS_ESTABLISHED), 1, "ESTABLISHED");
	ok(o.events & POLLOUT, "connect completes");
	is_int(tcp_error(c, true), 0, "without error");
	/* Simultaneous close. */
	clear_out();
	tcp_shutdown(c, 1);
	ok(last_out()->flags & TH_FIN, "our FIN");
	uint32_t our_fin = last_out()->seq;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	is_int(count_states(TCPS_CLOSING), 1, "FINs crossed: CLOSING");
	ok(last_out()->ack == p.snd, "its FIN acknowledged");
	p.ack = our_fin + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "TIME_WAIT");
	ok(tcp_poll(c) & POLLHUP, "POLLHUP");
	advance(TCP_TIMEWAIT_MS - 10);
	is_int(count_states(TCPS_TIME_WAIT), 1, "still TIME_WAIT before 2*MSL");
	advance(20);
	is_int(count_states(TCPS_TIME_WAIT), 0, "gone after 2*MSL");
	is_int(count_states(TCPS_CLOSED), 1, "the socket's PCB is CLOSED");
	tcp_close(c);
	o.closed = true;
	is_int(count_all_states(), 0, "freed");
}

static void
test_active_close_timewait(void)
{
	struct owner lo = { 0 }, co = { 0 }, no = { 0 };
	struct tcp_pcb *l, *c, *n;
	struct peer p = { .pport = 40010, .snd = 10 };
	uint32_t fin;

	c = established(&l, &p, &lo, &co, 85, syn_opt, sizeof(syn_opt));
	clear_out();
	tcp_close(c);
	co.closed = true;
	fin = last_out()->seq;
	ok(last_out()->flags & TH_FIN, "FIN");
	is_int(count_states(TCPS_FIN_WAIT_1), 1, "FIN_WAIT_1");
	p.ack = fin + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(count_states(TCPS_FIN_WAIT_2), 1, "FIN_WAIT_2");
	clear_out();
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "TIME_WAIT");
	ok(last_out() && last_out()->ack == p.snd, "FIN acknowledged");
	ok(tcp_lookup(LOCAL, port(85), PEER, port(40010))->kind == TCP_KIND_TW,
	   "a compact TIME_WAIT entry");
	/* Retransmitted FIN: ACK again. */
	clear_out();
	peer_send_at(&p, p.snd - 1, TH_ACK | TH_FIN, NULL, 0);
	ok(h_nout == 1 && h_out[0].ack == p.snd && h_out[0].seq == fin + 1, "FIN again: ACK again");
	/* The port stays taken without SO_REUSEADDR, not with it. */
	tcp_close(l);
	lo.closed = true;
	n = tcp_new(&no);
	is_int(tcp_bind(n, 0, port(85), false), -EADDRINUSE, "TIME_WAIT blocks a plain bind");
	is_int(tcp_bind(n, 0, port(85), true), 0, "SO_REUSEADDR binds");
	is_int(tcp_listen(n, 4), 0, "and listens");
	/* A new SYN with a higher sequence number reuses the 4-tuple. */
	clear_out();
	p.snd += 100000;
	p.ack = 0;
	peer_send_opt(&p, TH_SYN, syn_opt, sizeof(syn_opt));
	ok(last_out() && last_out()->flags == (TH_SYN | TH_ACK), "SYN over TIME_WAIT accepted");
	is_int(count_states(TCPS_TIME_WAIT), 0, "TIME_WAIT entry replaced");
	tcp_close(n);
	no.closed = true;
	/* Expiry. */
	struct owner o2 = { 0 }, lo2 = { 0 }, o3 = { 0 }, lo3 = { 0 };
	c = established(&l, &p, &lo2, &o2, 86, syn_opt, sizeof(syn_opt));
	clear_out();
	tcp_close(c);
	o2.closed = true;
	p.ack = last_out()->seq + 1;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "TIME_WAIT again");
	advance(TCP_TIMEWAIT_MS + 100);
	is_int(count_states(TCPS_TIME_WAIT), 0, "expired after 60 s");
	ok(tcp_lookup(LOCAL, port(86), PEER, port(40010)) == NULL, "4-tuple free");
	tcp_close(l);
	lo2.closed = true;
	/* An orphan in FIN_WAIT_2 gives up. */
	c = established(&l, &p, &lo3, &o3, 87, syn_opt, sizeof(syn_opt));
	clear_out();
	tcp_close(c);
	o3.closed = true;
	p.ack = last_out()->seq + 1;
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(count_states(TCPS_FIN_WAIT_2), 1, "orphan in FIN_WAIT_2");
	advance(TCP_FIN_TIMEOUT_MS + 100);
	is_int(count_states(TCPS_FIN_WAIT_2), 0, "dropped after the FIN timeout");
	tcp_close(l);
	lo3.closed = true;
}

static void
test_rst(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 40020, .snd = 1000 };
	uint64_t drops;

	c = established(&l, &p, &lo, &co, 88, syn_opt, sizeof(syn_opt));
	/* Out of the window: silently dropped. */
	clear_out();
	drops = net_stats.tcp_drop_window;
	peer_send_at(&p, p.snd + 1000000, TH_RST, NULL, 0);
	is_int(h_nout, 0, "RST far outside the window: no answer");
	ok(net_stats.tcp_drop_window == drops + 1, "counted");
	is_int(count_states(TCPS_ESTABLISHED), 1, "still established");
	/* In the window but not exact: challenge ACK. */
	peer_send_at(&p, p.snd + 100, TH_RST, NULL, 0);
	ok(h_nout == 1 && h_out[0].flags == TH_ACK && h_out[0].ack == p.snd,
	   "RST in window: challenge ACK with rcv_nxt");
	is_int(count_states(TCPS_ESTABLISHED), 1, "still established");
	/* A SYN in a synchronized state: challenge ACK. */
	clear_out();
	peer_send_at(&p, p.snd + 5, TH_SYN, NULL, 0);
	ok(h_nout == 1 && h_out[0].flags == TH_ACK && h_out[0].ack == p.snd, "SYN: challenge ACK");
	is_int(count_states(TCPS_ESTABLISHED), 1, "still established");
	/* Data outside the window: dropped, ACKed. */
	clear_out();
	drops = net_stats.tcp_drop_window;
	peer_send_at(&p, p.snd - 5000, TH_ACK, "old", 3);
	ok(h_nout == 1 && h_out[0].ack == p.snd, "old data: ACK");
	ok(net_stats.tcp_drop_window == drops + 1, "counted");
	/* An ACK for data never sent: ACK, dropped. */
	clear_out();
	uint32_t save = p.ack;
	p.ack += 100000;
	peer_send(&p, TH_ACK, "zz", 2);
	p.snd -= 2;
	ok(h_nout == 1 && h_out[0].ack == p.snd, "ACK of unsent data answered");
	is_int(tcp_recv(c, (char[8]){ 0 }, 8, false), -EAGAIN, "its data was not taken");
	p.ack = save;
	/* The exact RST resets. */
	co.events = 0;
	peer_send(&p, TH_RST, NULL, 0);
	is_int(tcp_error(c, false), -ECONNRESET, "exact RST: ECONNRESET");
	ok((co.events & (POLLERR | POLLHUP | POLLIN)) == (POLLERR | POLLHUP | POLLIN),
	   "woken with POLLERR|POLLHUP|POLLIN");
	is_int(tcp_send(c, "x", 1, false), -ECONNRESET, "send: ECONNRESET");
	is_int(tcp_send(c, "x", 1, false), -EPIPE, "then EPIPE");
	tcp_close(c);
	co.closed = true;
	/* close() with unread data resets the connection. */
	struct owner o2 = { 0 };
	p.pport = 40021;
	c = accept_one(l, &p, syn_opt, sizeof(syn_opt), &o2);
	peer_send(&p, TH_ACK, "unread", 6);
	clear_out();
	tcp_close(c);
	o2.closed = true;
	ok(h_nout == 1 && h_out[0].flags == (TH_RST | TH_ACK) && h_out[0].ack == p.snd,
	   "close with unread data: RST");
	is_int(count_states(TCPS_ESTABLISHED), 0, "and gone");
	/* Data after close (orphan in FIN_WAIT) also resets. */
	struct owner o3 = { 0 };
	p.pport = 40022;
	c = accept_one(l, &p, syn_opt, sizeof(syn_opt), &o3);
	tcp_close(c);
	o3.closed = true;
	clear_out();
	peer_send(&p, TH_ACK, "late", 4);
	ok(h_nout == 1 && (h_out[0].flags & TH_RST), "data for a closed socket: RST");
	is_int(count_all_states(), 1, "only the listener left");
	tcp_close(l);
	lo.closed = true;
}

static void
test_backlog_and_cookies(void)
{
	struct owner lo = { 0 };
	struct tcp_pcb *l = make_listener(90, 2, &lo);
	struct peer p[40];
	struct owner o[40];
	uint64_t drops = net_stats.tcp_syn_drop;
	int err;

	memset(o, 0, sizeof(o));
	for (int i = 0; i < 3; i++) {
		p[i] = (struct peer){ .pport = (uint16_t)(50000 + i), .lport = 90, .snd = 1000u * i, .wnd = 65535 };
		clear_out();
		peer_send_opt(&p[i], TH_SYN, syn_opt, sizeof(syn_opt));
		if (i < 2) {
			p[i].ack = last_out()->seq + 1;
			peer_send(&p[i], TH_ACK, NULL, 0);
		}
	}
	is_int(l->accept_len, 2, "backlog 2: two connections queued");
	is_int(h_nout, 0, "third SYN not answered");
	is_int(net_stats.tcp_syn_drop, drops + 1, "dropped and counted");
	for (int i = 0; i < 2; i++) {
		struct tcp_pcb *c = tcp_accept(l, &o[i], &err);

		ok(c != NULL, "accept %d", i);
		tcp_close(c);
		o[i].closed = true;
	}
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);

	/* SYN flood: the SYN queue (16) fills, then cookies. */
	struct owner lo2 = { 0 };
	l = make_listener(91, 16, &lo2);
	is_int(l->syn_max, 16, "SYN queue as long as the backlog");
	uint64_t ctx = net_stats.tcp_syncookie_tx;
	for (int i = 0; i < 20; i++) {
		p[i] = (struct peer){ .pport = (uint16_t)(51000 + i), .lport = 91, .snd = 77777u * (i + 1), .wnd = 65535 };
		clear_out();
		peer_send_opt(&p[i], TH_SYN, syn_opt, sizeof(syn_opt));
		ok(h_nout == 1 && h_out[0].flags == (TH_SYN | TH_ACK), "SYN %d answered", i);
		p[i].ack = h_out[0].seq + 1;
		if (i >= 16)
			ok(!h_out[0].has_ws && !h_out[0].sack_ok && h_out[0].has_mss,
			   "cookie SYN-ACK: MSS only");
	}
	is_int(l->syn_len, 16, "SYN queue holds 16");
	is_int(net_stats.tcp_syncookie_tx, ctx + 4, "four cookies sent");
	is_int(count_states(TCPS_SYN_RECEIVED), 16, "16 half-open PCBs, no more");
	/* A forged cookie ACK: RST, nothing made. */
	struct peer bad = p[17];
	bad.ack += 12345;
	clear_out();
	peer_send(&bad, TH_ACK, NULL, 0);
	ok(h_nout == 1 && h_out[0].flags == TH_RST, "bad cookie: RST");
	/* A valid one, carrying data, makes the connection. */
	uint64_t cok = net_stats.tcp_syncookie_ok;
	advance(1000);
	peer_send(&p[17], TH_ACK | TH_PSH, "GET /", 5);
	is_int(net_stats.tcp_syncookie_ok, cok + 1, "valid cookie accepted");
	struct tcp_pcb *c = tcp_accept(l, &o[17], &err);
	ok(c != NULL, "cookie connection accepted");
	char buf[16];
	is_int(tcp_recv(c, buf, sizeof(buf), false), 5, "its data arrived");
	ok(!memcmp(buf, "GET /", 5), "intact");
	tcp_setopt(c, TCP_OPT_NODELAY, 1);
	clear_out();
	tcp_send(c, "200", 3, false);
	ok(h_nout == 1 && h_out[0].seq == p[17].ack && h_out[0].ack == p[17].snd,
	   "and it sends with the cookie's sequence numbers");
	int mss;
	tcp_getopt(c, TCP_OPT_MAXSEG, &mss);
	is_int(mss, 1460, "MSS from the cookie");
	/* A cookie too old is refused. */
	advance(200 * 1000);
	clear_out();
	peer_send(&p[18], TH_ACK, NULL, 0);
	ok(h_nout == 1 && h_out[0].flags == TH_RST, "expired cookie: RST");
	/* Completing the queued ones still works. */
	peer_send(&p[0], TH_ACK, NULL, 0);
	struct tcp_pcb *c0 = tcp_accept(l, &o[0], &err);
	ok(c0 == NULL, "half-open child timed out meanwhile (SYN-ACK retries)");
	tcp_close(c);
	o[17].closed = true;
	tcp_close(l);
	lo2.closed = true;
	advance(10 * 60 * 1000);
	is_int(count_all_states(), 0, "all gone");
}

/* Headers that lie; none may crash, each is counted. */
static void
test_malformed(void)
{
	struct owner lo = { 0 }, co = { 0 };
	struct tcp_pcb *l, *c;
	struct peer p = { .pport = 40030, .snd = 1 };
	uint8_t seg[80];
	struct net_stats before = net_stats;
	unsigned long base = netbuf_in_use();
	struct spec s;

	c = established(&l, &p, &lo, &co, 92, syn_opt, sizeof(syn_opt));
	base = netbuf_in_use();
	inject_raw(seg, 10, 0);
	is_int(net_stats.tcp_drop_short, before.tcp_drop_short + 1, "10-byte segment: short");
	memset(seg, 0, sizeof(seg));
	memcpy(seg, (uint16_t[]){ port(40030), port(92) }, 4);
	seg[12] = 4 << 4;
	inject_raw(seg, 40, NB_CSUM_VALID);
	is_int(net_stats.tcp_drop_bad, before.tcp_drop_bad + 1, "data offset 4: bad");
	seg[12] = 15 << 4;
	inject_raw(seg, 40, NB_CSUM_VALID);
	is_int(net_stats.tcp_drop_bad, before.tcp_drop_bad + 2, "data offset past the end: bad");
	static const uint8_t opt0[] = { 2, 0, 1, 1 }, opt1[] = { 3, 1, 0, 0 }, optx[] = { 1, 1, 2, 9 },
			     optend[] = { 1, 1, 1, 2 };
	const uint8_t *opts[] = { opt0, opt1, optx, optend };
	for (int i = 0; i < 4; i++) {
		memset(&s, 0, sizeof(s));
		s.src = PEER;
		s.dst = LOCAL;
		s.sport = port(40030);
		s.dport = port(92);
		s.seq = p.snd;
		s.ack = p.ack;
		s.flags = TH_ACK;
		s.wnd = 100;
		s.opt = opts[i];
		s.optlen = 4;
		inject(&s);
	}
	is_int(net_stats.tcp_drop_bad, before.tcp_drop_bad + 6, "options of length 0, 1, overrun: bad");
	memset(&s, 0, sizeof(s));
	s.src = PEER;
	s.dst = LOCAL;
	s.sport = port(40030);
	s.dport = port(92);
	s.seq = p.snd;
	s.ack = p.ack;
	s.flags = TH_ACK;
	s.data = "xx";
	s.len = 2;
	s.bad_csum = true;
	inject(&s);
	is_int(net_stats.tcp_drop_csum, before.tcp_drop_csum + 1, "bad checksum: dropped");
	is_int(tcp_recv(c, seg, sizeof(seg), false), -EAGAIN, "its data not taken");
	s.bad_csum = false;
	s.csum_valid = true;
	inject(&s);
	is_int(tcp_recv(c, seg, sizeof(seg), false), 2, "NB_CSUM_VALID skips the check");
	s.flags = TH_SYN | TH_FIN;
	inject(&s);
	is_int(net_stats.tcp_drop_bad, before.tcp_drop_bad + 7, "SYN+FIN: bad");
	inject_raw(seg, 0, 0);
	is_int(net_stats.tcp_drop_short, before.tcp_drop_short + 2, "empty: short");
	is_int(count_states(TCPS_ESTABLISHED), 1, "connection unharmed");
	is_int(netbuf_in_use(), base, "no netbuf kept");

	/* Random bytes, many times: at a listener and at the connection. */
	static uint8_t junk[1600];
	for (int i = 0; i < 30000; i++) {
		uint32_t len = net_random32() % sizeof(junk);

		for (uint32_t k = 0; k < len; k++)
			junk[k] = (uint8_t)net_random32();
		if (len >= 20) {
			memcpy(junk, (uint16_t[]){ port(40030 + (i & 1)), port(92) }, 4);
			if (i & 2) {	/* plausible: right sequence numbers */
				tcp_put32(junk + 4, p.snd + (net_random32() % 3000) - 1500);
				tcp_put32(junk + 8, p.ack);
			}
		}
		inject_raw(junk, len, (i & 4) ? NB_CSUM_VALID : 0);
		if (i % 1000 == 0)
			advance(50);
	}
	ok(1, "30000 random segments survived");
	tcp_close(c);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(20 * 60 * 1000);
	is_int(count_all_states(), 0, "everything freed");
	is_int(netbuf_in_use(), 0, "no netbuf leaked");
}

/* A socket that still holds its PCB in TIME_WAIT, and the compact entry's RST. */
static void
test_timewait_cases(void)
{
	struct owner o = { 0 }, lo = { 0 }, co = { 0 };
	struct tcp_pcb *c = tcp_new(&o), *l, *d;
	struct peer p = { .pport = 7100, .lport = 7101, .snd = 500, .wnd = 65535 };
	uint32_t fin;

	tcp_bind(c, 0, port(7101), true);
	clear_out();
	tcp_connect(c, PEER, port(7100));
	p.ack = last_out()->seq + 1;
	peer_send_opt(&p, TH_SYN | TH_ACK, syn_opt, sizeof(syn_opt));
	tcp_shutdown(c, 1);
	fin = last_out()->seq;
	p.ack = fin + 1;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "TIME_WAIT, socket still open");
	ok(tcp_lookup(LOCAL, port(7101), PEER, port(7100))->kind == TCP_KIND_PCB, "as a full PCB");
	clear_out();
	peer_send_at(&p, p.snd - 1, TH_ACK | TH_FIN, NULL, 0);
	ok(h_nout == 1 && h_out[0].ack == p.snd && h_out[0].seq == fin + 1,
	   "retransmitted FIN: ACK again");
	peer_send(&p, TH_ACK, NULL, 0);
	is_int(h_nout, 1, "a bare ACK: nothing");
	advance(TCP_TIMEWAIT_MS - 1000);
	is_int(count_states(TCPS_TIME_WAIT), 1, "the FIN restarted the 2*MSL wait");
	peer_send(&p, TH_RST, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 0, "exact RST ends TIME_WAIT");
	is_int(tcp_error(c, false), 0, "without an error");
	ok(tcp_poll(c) & POLLHUP, "POLLHUP");
	tcp_close(c);
	o.closed = true;

	/* The same with a new SYN: the socket's TIME_WAIT makes way. */
	c = tcp_new(&o);
	o.closed = false;
	l = make_listener(7102, 4, &lo);
	tcp_bind(c, 0, port(7103), true);
	clear_out();
	tcp_connect(c, PEER, port(7102));
	p = (struct peer){ .pport = 7102, .lport = 7103, .snd = 900, .wnd = 65535 };
	p.ack = last_out()->seq + 1;
	peer_send_opt(&p, TH_SYN | TH_ACK, syn_opt, sizeof(syn_opt));
	tcp_shutdown(c, 1);
	p.ack = last_out()->seq + 1;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "TIME_WAIT again");
	/* Not a listener port: the SYN finds nobody after TIME_WAIT goes. */
	p.snd += 1000;
	clear_out();
	peer_send_opt(&p, TH_SYN, syn_opt, sizeof(syn_opt));
	is_int(count_states(TCPS_TIME_WAIT), 0, "higher SYN ends TIME_WAIT");
	ok(h_nout == 1 && (h_out[0].flags & TH_RST), "no listener on 7103: RST");
	tcp_close(c);
	o.closed = true;

	/* A compact entry killed by an exact RST; an old SYN gets an ACK. */
	p = (struct peer){ .pport = 7104, .lport = 7102, .snd = 1, .wnd = 65535 };
	d = accept_one(l, &p, syn_opt, sizeof(syn_opt), &co);
	clear_out();
	tcp_close(d);
	co.closed = true;
	p.ack = last_out()->seq + 1;
	peer_send(&p, TH_ACK | TH_FIN, NULL, 0);
	ok(tcp_lookup(LOCAL, port(7102), PEER, port(7104))->kind == TCP_KIND_TW, "compact entry");
	clear_out();
	peer_send_at(&p, p.snd - 10, TH_SYN, NULL, 0);
	ok(h_nout == 1 && h_out[0].flags == TH_ACK, "old SYN on TIME_WAIT: ACK");
	peer_send_at(&p, p.snd + 5, TH_RST, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 1, "inexact RST ignored");
	peer_send(&p, TH_RST, NULL, 0);
	is_int(count_states(TCPS_TIME_WAIT), 0, "exact RST removes it");
	tcp_close(l);
	lo.closed = true;
}

static void
test_synrcvd_cases(void)
{
	struct owner lo = { 0 }, o1 = { 0 };
	struct tcp_pcb *l = make_listener(7200, 1, &lo), *c;
	struct peer p = { .pport = 7201, .lport = 7200, .snd = 100, .wnd = 65535 };
	uint32_t iss;
	int err;

	clear_out();
	peer_send_opt(&p, TH_SYN, syn_opt, sizeof(syn_opt));
	iss = last_out()->seq;
	peer_send_opt(&(struct peer){ .pport = 7201, .lport = 7200, .snd = 100, .wnd = 65535 },
		      TH_SYN, syn_opt, sizeof(syn_opt));
	ok(h_nout == 2 && h_out[1].flags == (TH_SYN | TH_ACK) && h_out[1].seq == iss,
	   "the same SYN again: the same SYN-ACK again");
	is_int(count_states(TCPS_SYN_RECEIVED), 1, "still one half-open");
	p.ack = iss + 1;
	peer_send(&p, TH_RST, NULL, 0);
	is_int(count_states(TCPS_SYN_RECEIVED), 0, "RST in SYN_RECEIVED: child gone");
	is_int(l->syn_len, 0, "SYN queue empty");
	/* The final ACK with the accept queue full stays half-open. */
	struct peer a = { .pport = 7202, .lport = 7200, .snd = 1, .wnd = 65535 };
	struct peer b = { .pport = 7203, .lport = 7200, .snd = 1, .wnd = 65535 };
	clear_out();
	peer_send_opt(&a, TH_SYN, syn_opt, sizeof(syn_opt));
	a.ack = last_out()->seq + 1;
	peer_send_opt(&b, TH_SYN, syn_opt, sizeof(syn_opt));
	b.ack = last_out()->seq + 1;
	peer_send(&a, TH_ACK, NULL, 0);
	uint64_t drops = net_stats.tcp_syn_drop;
	peer_send(&b, TH_ACK, NULL, 0);
	is_int(net_stats.tcp_syn_drop, drops + 1, "accept queue full: the last ACK waits");
	is_int(count_states(TCPS_SYN_RECEIVED), 1, "b still half-open");
	c = tcp_accept(l, &o1, &err);
	ok(c != NULL, "a accepted");
	clear_out();
	advance(1000);
	ok(h_nout >= 1 && h_out[0].flags == (TH_SYN | TH_ACK), "b's SYN-ACK retransmitted");
	peer_send(&b, TH_ACK, NULL, 0);
	is_int(l->accept_len, 1, "now b is queued");
	/* shutdown(SHUT_WR) before accept's peer ACK: on ESTABLISHED the FIN goes. */
	tcp_close(c);
	o1.closed = true;
	tcp_close(l);
	lo.closed = true;
	is_int(count_states(TCPS_ESTABLISHED), 0, "b reset with the listener");
	advance(10 * 60 * 1000);
}

static void
test_icmp(void)
{
	struct owner o = { 0 }, lo = { 0 }, co = { 0 };
	struct tcp_pcb *c = tcp_new(&o), *l, *d;
	struct peer p = { .pport = 7400, .snd = 1 };
	uint32_t a;
	uint16_t lp;

	tcp_connect(c, PEER, port(7401));
	tcp_local(c, &a, &lp);
	tcp_icmp_error(PEER, port(7401), lp, -EMSGSIZE);
	is_int(count_states(TCPS_SYN_SENT), 1, "fragmentation needed: ignored");
	tcp_icmp_error(PEER, port(7401), lp, ECONNREFUSED);
	is_int(tcp_error(c, false), -ECONNREFUSED, "port unreachable aborts a connect");
	ok(o.events & POLLERR, "POLLERR");
	tcp_close(c);
	o.closed = true;
	d = established(&l, &p, &lo, &co, 7402, syn_opt, sizeof(syn_opt));
	tcp_icmp_error(PEER, port(7400), port(7402), -EHOSTUNREACH);
	is_int(count_states(TCPS_ESTABLISHED), 1, "an established connection stays");
	is_int(tcp_error(d, true), -EHOSTUNREACH, "as a soft error for SO_ERROR");
	is_int(tcp_error(d, false), 0, "read once");
	tcp_icmp_error(PEER, port(9), port(9), -EHOSTUNREACH);
	ok(1, "an error for no connection is ignored");
	tcp_close(d);
	co.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
}

int
main(void)
{
	harness_init();
	test_simultaneous_open();
	test_active_close_timewait();
	test_rst();
	test_backlog_and_cookies();
	test_malformed();
	test_timewait_cases();
	test_synrcvd_cases();
	test_icmp();
	is_int(h_wake_after_close, 0, "no wake-up after tcp_close");
	harness_fini();
	return done_testing();
}
