/*
 * Two endpoints of the TCP engine (lib/net/tcp*.c) talking through the
 * harness: over a simulated wire with loss, delay and reordering, moving
 * megabytes both ways byte-exact (with and without TCP segmentation
 * offload, which the harness's device emulates, and with the bytes lent
 * rather than copied, as sendfile() does); through an ip_output that hands each
 * segment straight back to tcp_input (re-entrancy); and thousands of
 * connections opened, used and torn down, twice, with every PCB,
 * TIME_WAIT entry and netbuf accounted for.
 */
#include "test-tcp-harness.h"

struct app {
	struct owner o;
	struct tcp_pcb *pcb;
	uint32_t sent, rcvd;		/* bytes through send/recv */
	uint32_t to_send, to_recv;
	uint32_t seed_out, seed_in;	/* the byte pattern each way */
	bool bad, eof, shut;
	struct kbuf *lend;		/* sends to_send bytes of lent without copies */
	const uint8_t *lent;
};

/* Lent bytes: released once, when nothing holds them any more. */
static int lent_released;

static void
lent_release(struct kbuf *b)
{
	(void)b;
	lent_released++;
}

static uint8_t
pattern(uint32_t seed, uint32_t i)
{
	uint32_t x = (i + seed) * 2654435761u;

	return (uint8_t)(x >> 24 ^ x >> 13);
}

/* One turn of an application: send what fits, read what came. */
static void
app_turn(struct app *a)
{
	static uint8_t buf[65536];

	while (a->sent < a->to_send) {
		uint32_t n = a->to_send - a->sent;

		if (n > sizeof(buf))
			n = sizeof(buf);
		ssize_t r;
		if (a->lend) {
			r = tcp_send_ref(a->pcb, a->lent + a->sent, n, false, a->lend);
		} else {
			for (uint32_t i = 0; i < n; i++)
				buf[i] = pattern(a->seed_out, a->sent + i);
			r = tcp_send(a->pcb, buf, n, false);
		}

		if (r <= 0)
			break;
		a->sent += (uint32_t)r;
	}
	if (a->sent == a->to_send && !a->shut) {
		tcp_shutdown(a->pcb, 1);
		a->shut = true;
	}
	for (;;) {
		ssize_t r = tcp_recv(a->pcb, buf, sizeof(buf), false);

		if (r == 0)
			a->eof = true;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pattern(a->seed_in, a->rcvd + (uint32_t)i))
				a->bad = true;
		a->rcvd += (uint32_t)r;
	}
}

/*
 * lend: the client's 3 MiB are lent (tcp_send_ref), not copied: through
 * a device that takes frames in pieces (sg) or, without one, copied at
 * transmission as loopback does.  gro: the receiving device merges
 * what arrives in a row into offloaded frames (h_gro); 2: over a wire
 * that neither loses nor reorders, batches of a whole round trip.
 */
static void
test_bulk_lossy(bool tso, bool lend, bool sg, int gro)
{
	static uint8_t lent[3u << 20];
	struct kbuf kb;
	struct owner lo = { 0 };
	struct tcp_pcb *l = make_listener(5000, 8, &lo);
	struct app cl = { .to_send = 3u << 20, .to_recv = 1u << 20, .seed_out = 1, .seed_in = 2 };
	struct app sv = { .to_send = 1u << 20, .to_recv = 3u << 20, .seed_out = 2, .seed_in = 1 };
	unsigned long base = netbuf_in_use();
	uint64_t rex = net_stats.tcp_retransmit, frx = net_stats.tcp_fast_retransmit;
	uint64_t t0 = net_now_ms();
	int err;

	unsigned long gso0 = h_gso_frames, sg0 = h_sg_frames, gro0 = h_gro_frames, parts0 = h_gro_parts;
	unsigned long middle0 = h_gro_middle;
	uint64_t inorder0 = net_stats.tcp_rx_inorder, offl0 = net_stats.ip_rx_offload;

	diag("bulk over a %s wire, %s%s%s", gro == 2 ? "clean" : "lossy", tso ? "with TCP segmentation offload" :
	     sg ? "one segment a frame in pieces" : "one segment a frame",
	     lend ? ", the client's bytes lent" : "",
	     !gro ? "" : h_gro_pages ? ", received offloaded into full pages" : ", received offloaded");
	if (lend) {
		for (uint32_t i = 0; i < sizeof(lent); i++)
			lent[i] = pattern(cl.seed_out, i);
		kbuf_init(&kb, lent_release);
		cl.lend = &kb;
		cl.lent = lent;
		lent_released = 0;
	}
	h_tso = tso;
	h_sg = sg;
	h_gro = gro;
	/* Pages hold about three segments: bigger batches, so that frames
	 * have middle parts. */
	h_gro_us = gro == 2 || h_gro_pages ? 10000 : 1000;
	h_wire = true;
	h_loss_pct = gro == 2 ? 0 : 3;
	h_delay_ms = 5;
	h_jitter_ms = gro == 2 ? 0 : 4;
	cl.pcb = tcp_new(&cl.o);
	is_int(tcp_connect(cl.pcb, LOCAL, port(5000)), 0, "client connects over the wire");
	while (net_now_ms() - t0 < 30 * 60 * 1000) {
		if (!sv.pcb)
			sv.pcb = tcp_accept(l, &sv.o, &err);
		if (sv.pcb)
			app_turn(&sv);
		app_turn(&cl);
		if (cl.eof && sv.eof)
			break;
		advance(1);
	}
	ok(cl.eof && sv.eof, "both directions finished (%llu s simulated)",
	   (unsigned long long)(net_now_ms() - t0) / 1000);
	is_int(sv.rcvd, 3u << 20, "3 MiB client to server");
	is_int(cl.rcvd, 1u << 20, "1 MiB server to client");
	ok(!cl.bad && !sv.bad, "byte-exact both ways");
	diag("wire: %lu sent, %lu lost; %llu retransmissions, %llu fast",
	     h_wire_sent, h_wire_lost, (unsigned long long)(net_stats.tcp_retransmit - rex),
	     (unsigned long long)(net_stats.tcp_fast_retransmit - frx));
	if (h_loss_pct)
		ok(net_stats.tcp_fast_retransmit > frx, "losses recovered by fast retransmit");
	if (tso) {
		ok(h_gso_frames - gso0 > 100, "%lu frames went through segmentation offload (up to %lu segments)",
		   h_gso_frames - gso0, h_gso_max_segs);
		is_int((long)h_gso_bad, 0, "each of them well-formed (headers, slices, lengths, pseudo-sum)");
	} else {
		is_int((long)(h_gso_frames - gso0), 0, "no offload frame without a device that offers it");
	}
	if (lend && !tso && sg)
		ok(h_sg_frames - sg0 > 1000, "%lu lent segments went as a header and a slice",
		   h_sg_frames - sg0);
	else if (!tso)
		is_int((long)(h_sg_frames - sg0), 0, "no frame in pieces %s",
		       sg ? "without lent bytes" : "to a device that takes none (copied)");
	if (gro) {
		unsigned long frames = h_gro_frames - gro0, parts = h_gro_parts - parts0;
		uint64_t inorder = net_stats.tcp_rx_inorder - inorder0;
		ok(frames > 100 && net_stats.ip_rx_offload - offl0 == frames,
		   "%lu offloaded frames received (%lu %s), each cut up", frames, parts,
		   h_gro_pages ? "page buffers" : "segments");
		/* Each frame's first and last part go through tcp_input; after
		 * a loss, the parts beyond the hole go to the out-of-order queue. */
		unsigned long most = h_gro_middle - middle0;
		ok(inorder <= most && (gro == 2 ? inorder >= most * 9 / 10 : inorder > 0),
		   "%llu middle parts queued straight, of at most %lu%s", (unsigned long long)inorder,
		   most, gro == 2 ? " (nine in ten at least: nothing lost or reordered)" : "");
	} else {
		is_int((long)(net_stats.tcp_rx_inorder - inorder0), 0, "none queued straight without offload");
	}
	if (lend)
		is_int(lent_released, 0, "the lent bytes not released while the lender holds them");
	h_tso = h_sg = h_gro = false;
	tcp_close(cl.pcb);
	cl.o.closed = true;
	tcp_close(sv.pcb);
	sv.o.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
	h_wire = false;
	h_loss_pct = h_jitter_ms = 0;
	wire_flush();
	is_int(count_all_states(), 0, "every PCB and TIME_WAIT entry gone");
	is_int(netbuf_in_use(), base, "every netbuf returned");
	if (lend) {
		is_int(kb.refs, 1, "every segment's reference on the lent bytes dropped");
		kbuf_put(&kb);
		is_int(lent_released, 1, "released once, by the last reference");
	}
}

static void
test_many_connections(void)
{
	enum { N = 3000 };
	struct owner lo = { 0 };
	struct tcp_pcb *l = make_listener(6000, 4096, &lo);
	static struct app cl[N], sv[N];
	unsigned long base = netbuf_in_use();
	unsigned accepted = 0, done = 0;
	int err;

	h_wire = true;
	h_delay_ms = 1;
	for (int round = 0; round < 2; round++) {
		memset(cl, 0, sizeof(cl));
		memset(sv, 0, sizeof(sv));
		accepted = done = 0;
		for (int i = 0; i < N; i++) {
			cl[i] = (struct app){ .to_send = 100, .to_recv = 100, .seed_out = 1,
					      .seed_in = 2 };
			cl[i].pcb = tcp_new(&cl[i].o);
			if (tcp_connect(cl[i].pcb, LOCAL, port(6000)))
				break;
		}
		for (int step = 0; step < 5000 && done < N; step++) {
			struct tcp_pcb *c;

			while (accepted < N && (c = tcp_accept(l, &sv[accepted].o, &err))) {
				sv[accepted].pcb = c;
				sv[accepted].to_send = 100;
				sv[accepted].seed_out = 2;
				sv[accepted].seed_in = 1;
				accepted++;
			}
			done = 0;
			for (unsigned i = 0; i < N; i++) {
				app_turn(&cl[i]);
				done += cl[i].eof;
			}
			for (unsigned i = 0; i < accepted; i++)
				app_turn(&sv[i]);
			advance(1);
		}
		is_int(accepted, N, "round %d: %d connections accepted", round, N);
		is_int(done, N, "round %d: all exchanged and closed", round);
		unsigned bad = 0, bytes = 0;
		for (unsigned i = 0; i < N; i++) {
			bad += cl[i].bad;
			bytes += cl[i].rcvd;
		}
		ok(bad == 0 && bytes == 100u * N, "round %d: every reply right", round);
		for (unsigned i = 0; i < N; i++) {
			tcp_close(cl[i].pcb);
			cl[i].o.closed = true;
			if (sv[i].pcb) {
				tcp_close(sv[i].pcb);
				sv[i].o.closed = true;
			}
		}
		advance(1000);
		diag("round %d: %u in TIME_WAIT at %zu bytes each (a PCB is %zu)", round,
		     count_states(TCPS_TIME_WAIT), sizeof(struct tcp_tw), sizeof(struct tcp_pcb));
		ok(count_states(TCPS_TIME_WAIT) >= N, "round %d: TIME_WAIT entries", round);
		is_int(count_all_states() - count_states(TCPS_TIME_WAIT), 1,
		       "round %d: only the listener otherwise", round);
		advance(TCP_TIMEWAIT_MS + 1000);
		is_int(count_all_states(), 1, "round %d: TIME_WAIT expired", round);
		is_int(netbuf_in_use(), base, "round %d: no netbuf leaked", round);
	}
	tcp_close(l);
	lo.closed = true;
	h_wire = false;
	wire_flush();
	is_int(count_all_states(), 0, "nothing left");
}

/* ip_output re-enters tcp_input at once (a naive loopback): no harm done. */
static void
test_sync_loopback(void)
{
	struct owner lo = { 0 };
	struct tcp_pcb *l = make_listener(7600, 8, &lo);
	struct app cl = { .to_send = 300000, .to_recv = 200000, .seed_out = 5, .seed_in = 6 };
	struct app sv = { .to_send = 200000, .to_recv = 300000, .seed_out = 6, .seed_in = 5 };
	unsigned long base = netbuf_in_use();
	int err;

	h_sync = true;
	cl.pcb = tcp_new(&cl.o);
	tcp_connect(cl.pcb, LOCAL, port(7600));
	sv.pcb = tcp_accept(l, &sv.o, &err);
	ok(sv.pcb != NULL, "handshake done within connect()");
	for (int i = 0; i < 20000 && !(cl.eof && sv.eof); i++) {
		app_turn(&cl);
		app_turn(&sv);
		advance(1);
	}
	ok(cl.eof && sv.eof, "both directions finished");
	ok(sv.rcvd == 300000 && cl.rcvd == 200000 && !cl.bad && !sv.bad, "byte-exact");
	tcp_close(cl.pcb);
	cl.o.closed = true;
	tcp_close(sv.pcb);
	sv.o.closed = true;
	tcp_close(l);
	lo.closed = true;
	advance(10 * 60 * 1000);
	h_sync = false;
	is_int(count_all_states(), 0, "all gone");
	is_int(netbuf_in_use(), base, "no netbuf leaked");
}

int
main(void)
{
	harness_init();
	test_sync_loopback();
	test_bulk_lossy(false, false, false, 0);
	test_bulk_lossy(true, false, false, 0);
	test_bulk_lossy(false, true, false, 0);
	test_bulk_lossy(false, true, true, 0);
	test_bulk_lossy(true, true, true, 0);
	test_bulk_lossy(true, false, false, 1);
	test_bulk_lossy(false, true, true, 1);
	test_bulk_lossy(true, false, false, 2);
	h_gro_pages = true;
	test_bulk_lossy(true, false, false, 1);
	test_bulk_lossy(true, true, true, 2);
	h_gro_pages = false;
	test_many_connections();
	is_int(h_wake_after_close, 0, "no wake-up after tcp_close");
	/* Full segments once carried SACK blocks past the MTU and IPv4 dropped
	 * them whole whenever both sides held out-of-order data. */
	is_int((long)h_oversize, 0, "no segment longer than the MTU, SACK blocks or not");
	harness_fini();
	return done_testing();
}
