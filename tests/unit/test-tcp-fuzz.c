/*
 * TCP against arbitrary input: each input is a little script of steps
 * (a segment from one of four peers, with sequence numbers near what TCP
 * last sent that peer so the state machine goes deep; raw bytes; the
 * clock moving; the application connecting, sending, reading, shutting
 * down, closing).  After the script everything is closed and the clock
 * runs 30 minutes: every PCB, TIME_WAIT entry and netbuf must be gone.
 * Crashes, sanitizer reports and leaks fail.
 *
 * Built two ways: as a unit test that runs a few thousand scripts from a
 * seeded generator (make check), and with -DTCP_LIBFUZZER as a libFuzzer
 * target (`make fuzz-tcp [FUZZ_SECONDS=30]`).
 */
#include "test-tcp-harness.h"

#define NPEER 4

struct fz {
	const uint8_t *p;
	size_t n;
};

static uint8_t
take8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static uint32_t
take32(struct fz *f)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | take8(f);
	return v;
}

static struct owner lo, po[NPEER], co;
static struct tcp_pcb *listener, *acc[NPEER], *cli;

/* What TCP last sent to peer port pp: its seq and ack, for plausible replies. */
static void
last_seen(uint16_t pp, uint32_t *seq, uint32_t *ack)
{
	*seq = *ack = 0;
	for (unsigned i = h_nout; i-- > 0;)
		if (h_out[i].dport == pp) {
			*seq = h_out[i].seq + h_out[i].len + !!(h_out[i].flags & (TH_SYN | TH_FIN));
			*ack = h_out[i].ack;
			return;
		}
}

static void
step(struct fz *f)
{
	static uint8_t payload[10000], opt[40];
	uint8_t op = take8(f), k = take8(f) % NPEER;
	struct spec s;
	uint32_t seq, ack;
	int err;

	switch (op % 10) {
	case 0:
	case 1:
	case 2: {
		/* A segment from peer k to :80 (or to the client's port). */
		uint16_t pp = port(30000 + k), lp = port(80);

		if (k == NPEER - 1 && cli) {
			uint32_t a;

			tcp_local(cli, &a, &lp);
			pp = port(80);
		}
		last_seen(pp, &seq, &ack);
		memset(&s, 0, sizeof(s));
		s.src = PEER;
		s.dst = LOCAL;
		s.sport = pp;
		s.dport = lp;
		s.flags = take8(f) & 0x3f;
		int8_t ds = (int8_t)take8(f), da = (int8_t)take8(f);
		s.seq = (op & 0x80) ? take32(f) : ack + (uint32_t)(ds * 97);
		s.ack = (op & 0x40) ? take32(f) : seq + (uint32_t)(da * 97);
		s.wnd = (uint16_t)(take8(f) << 8 | take8(f));
		s.optlen = take8(f) % 41;
		for (int i = 0; i < s.optlen; i++)
			opt[i] = take8(f);
		s.opt = opt;
		s.len = (uint32_t)take8(f) * 6;
		s.data = payload;
		s.bad_csum = (op & 0x20) && (op & 0x10);
		inject(&s);
		break;
	}
	case 3: {
		/* Raw bytes. */
		uint32_t len = take8(f);
		uint8_t raw[256];

		for (uint32_t i = 0; i < len; i++)
			raw[i] = take8(f);
		if (len >= 4)
			memcpy(raw, (uint16_t[]){ port(30000 + k), port(80) }, 4);
		inject_raw(raw, len, (op & 0x10) ? NB_CSUM_VALID : 0);
		break;
	}
	case 4:
		advance((uint64_t)take8(f) * (op & 0x80 ? 1000 : 10));
		break;
	case 5:
		if (!acc[k] && listener) {
			memset(&po[k], 0, sizeof(po[k]));
			acc[k] = tcp_accept(listener, &po[k], &err);
		}
		if (!cli && k == 0) {
			memset(&co, 0, sizeof(co));
			cli = tcp_new(&co);
			tcp_bind(cli, 0, 0, false);
			tcp_connect(cli, PEER, port(80));
		}
		break;
	case 6: {
		struct tcp_pcb *c = k == NPEER - 1 ? cli : acc[k];

		if (c)
			tcp_send(c, payload, (size_t)take8(f) * 37, op & 0x80);
		break;
	}
	case 7: {
		struct tcp_pcb *c = k == NPEER - 1 ? cli : acc[k];
		static uint8_t buf[4096];

		if (c)
			tcp_recv(c, buf, take8(f) * 16u, op & 0x80);
		break;
	}
	case 8: {
		struct tcp_pcb *c = k == NPEER - 1 ? cli : acc[k];

		if (c)
			tcp_shutdown(c, take8(f) % 3);
		break;
	}
	case 9: {
		struct tcp_pcb *c = k == NPEER - 1 ? cli : acc[k];

		if (c && (op & 0x80)) {
			if (op & 0x40)
				tcp_setopt(c, TCP_OPT_LINGER, 0);
			tcp_close(c);
			if (c == cli)
				cli = NULL, co.closed = true;
			else
				acc[k] = NULL, po[k].closed = true;
		} else if (c) {
			tcp_setopt(c, (enum tcp_opt)(take8(f) % 9), take8(f) % 20);
		}
		break;
	}
	}
}

/* One script; false if something was left behind. */
static bool
run(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };

	memset(&lo, 0, sizeof(lo));
	memset(po, 0, sizeof(po));
	memset(&co, 0, sizeof(co));
	clear_out();
	listener = tcp_new(&lo);
	tcp_bind(listener, 0, port(80), true);
	tcp_listen(listener, 4);
	for (int i = 0; i < 64 && f.n; i++)
		step(&f);
	for (int k = 0; k < NPEER; k++)
		if (acc[k]) {
			tcp_close(acc[k]);
			acc[k] = NULL;
			po[k].closed = true;
		}
	if (cli) {
		tcp_close(cli);
		cli = NULL;
		co.closed = true;
	}
	tcp_close(listener);
	lo.closed = true;
	advance(30 * 60 * 1000);
	return count_all_states() == 0 && netbuf_in_use() == 0 && h_wake_after_close == 0;
}

#ifdef TCP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	harness_init();
	if (!run(data, size))
		abort();
	return 0;
}
#else
int
main(void)
{
	static uint8_t script[600];
	unsigned bad = 0;

	harness_init();
	for (int i = 0; i < 3000; i++) {
		for (size_t k = 0; k < sizeof(script); k++)
			script[k] = (uint8_t)wire_random();
		/* Mostly plausible segments: steer op bytes to segment steps. */
		for (size_t k = 0; k < sizeof(script); k += 12)
			script[k] = (uint8_t)((script[k] & 0xf0) | (wire_random() % 10));
		if (!run(script, sizeof(script)))
			bad++;
	}
	is_int(bad, 0, "3000 random scripts: no crash, nothing left behind");
	ok(net_stats.tcp_rx > 3000, "segments went in (%llu)", (unsigned long long)net_stats.tcp_rx);
	ok(net_stats.tcp_passive_open > 0 && net_stats.tcp_rst_tx > 0,
	   "some connections opened and reset");
	harness_fini();
	return done_testing();
}
#endif
