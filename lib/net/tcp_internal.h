/*
 * What the pieces of TCP (tcp*.c) share and nobody else sees: the
 * connection block (PCB), the compact TIME_WAIT entry, the hash tables,
 * sequence arithmetic, the constants the RFCs leave to us, and the
 * functions one file offers the others.
 *
 *   tcp.c         PCBs, hash tables, ports, wake-ups, re-entrancy guard
 *   tcp_api.c     the socket-facing calls of tcp.h
 *   tcp_input.c   parsing and the state machine for received segments
 *   tcp_output.c  building and sending segments, ACKs, RSTs
 *   tcp_ack.c     ACK processing, congestion control, loss recovery
 *   tcp_timer.c   the per-PCB timer slots, RTT estimation, TIME_WAIT
 *   tcp_syn.c     listeners: SYN queue, accept queue, SYN cookies, ISNs
 *   tcp_rcvq.c    received data: in-order queue, reassembly, SACK blocks,
 *                 the receive window
 *
 * Everything runs under net_lock() (net.h); nothing here locks.
 */
#ifndef TORO_NET_TCP_INTERNAL_H
#define TORO_NET_TCP_INTERNAL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/net/net.h"
#include "lib/net/netbuf.h"
#include "lib/net/tcp.h"

#ifndef POLLRDHUP
#define POLLRDHUP	0x2000
#endif

/* States, numbered as Linux's TCP_INFO numbers them (TCP_OPT_STATE). */
enum tcp_state {
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_TIME_WAIT,
	TCPS_CLOSED,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING,
	TCPS_NSTATES
};

/* Header flags. */
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_PSH		0x08
#define TH_ACK		0x10
#define TH_URG		0x20

/* Options. */
#define TCPOPT_EOL	0
#define TCPOPT_NOP	1
#define TCPOPT_MSS	2
#define TCPOPT_WSCALE	3
#define TCPOPT_SACK_OK	4
#define TCPOPT_SACK	5
#define TCP_MAX_OPTLEN	40
#define TCP_SACK_BLOCKS	4	/* in one ACK: 2 NOPs + 2 + 4 * 8 = 36 bytes */

/* Sequence numbers compare modulo 2^32 (RFC 9293 3.4). */
#define SEQ_LT(a, b)	((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b)	((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)	SEQ_LT(b, a)
#define SEQ_GEQ(a, b)	SEQ_LEQ(b, a)

/*
 * The numbers RFC 9293 and friends leave to the implementation, chosen as
 * Linux chooses them unless a comment says otherwise.
 */
#define TCP_TIMEWAIT_MS		60000	/* 2*MSL with MSL = 30 s (Linux's 60 s) */
#define TCP_FIN_TIMEOUT_MS	60000	/* an orphan's FIN_WAIT_2 (tcp_fin_timeout) */
#define TCP_RTO_INIT_MS		1000	/* RFC 6298 2.1 */
#define TCP_RTO_MIN_MS		200	/* Linux; RFC 6298 says 1 s */
#define TCP_RTO_MAX_MS		60000	/* RFC 6298 2.5 */
#define TCP_DELACK_MS		40
#define TCP_SYN_RETRIES		6	/* ~127 s with backoff, as Linux */
#define TCP_SYNACK_RETRIES	5
#define TCP_DATA_RETRIES	15	/* tcp_retries2: ~15 min of backoff */
#define TCP_ORPHAN_RETRIES	8	/* an orphan gives up sooner */
#define TCP_KEEPIDLE_S		7200
#define TCP_KEEPINTVL_S		75
#define TCP_KEEPCNT		9
#define TCP_DEFAULT_MSS		536	/* RFC 9293 3.7.1, no MSS option */
#define TCP_MIN_MSS		88	/* Linux's floor for TCP_MAXSEG */
#define TCP_IW_SEGS		10	/* RFC 6928 */
#define TCP_DUPTHRESH		3	/* RFC 5681 */
#define TCP_MAX_REORDERING	16	/* how far proven reordering raises it */
#define TCP_SNDBUF		(256 * 1024)
#define TCP_RCVBUF		(256 * 1024)
#define TCP_BUF_MIN		4096
#define TCP_BUF_MAX		(16 * 1024 * 1024)
#define TCP_MAX_WSCALE		14
#define TCP_MAX_BACKLOG		4096	/* SOMAXCONN */
#define TCP_SYNQ_MIN		16
#define TCP_SYNQ_MAX		1024	/* tcp_max_syn_backlog */
#define TCP_CHALLENGE_ACKS	1000	/* per second, for all PCBs (RFC 5961 7) */
#define TCP_EPHEMERAL_LO	32768	/* ip_local_port_range */
#define TCP_EPHEMERAL_HI	60999
/* Out-of-order segments a PCB keeps at most (besides the memory bound). */
#define TCP_OOO_MAX		256
/* A payload that fits a netbuf with the headers' room in front. */
#define TCP_MSS_MAX		(NETBUF_CAPACITY - NETBUF_HEADROOM)

/* A hash-table link; hash kept so a table can grow without rehashing keys. */
struct tcp_hnode {
	struct tcp_hnode *next, **pprev;
	uint32_t hash;
};

struct tcp_htable {
	struct tcp_hnode **b;
	uint32_t mask;		/* buckets - 1 (0 with no array yet) */
	uint32_t count;
};

enum { TCP_KIND_PCB, TCP_KIND_TW };

/*
 * What a PCB and a TIME_WAIT entry have in common: their place in the
 * tables and their addresses.  Connections (SYN_SENT and later) hang in
 * the connection table by their 4-tuple, listeners in the listener table
 * by port (both through hnode); anything bound is in the port table.
 */
struct tcp_conn {
	struct tcp_hnode hnode;		/* tcp_ehash or tcp_lhash */
	struct tcp_hnode bnode;		/* tcp_bhash, while bound */
	uint32_t laddr, raddr;		/* network order */
	uint16_t lport, rport;		/* network order */
	uint8_t state;			/* enum tcp_state */
	uint8_t kind;			/* TCP_KIND_* */
	uint8_t reuse;			/* SO_REUSEADDR */
};

/*
 * TIME_WAIT once the socket is gone: only what it takes to answer a
 * retransmitted FIN and to keep the 4-tuple taken for 2*MSL (~100
 * bytes instead of a PCB).  All live the same time, so a FIFO in
 * expiry order and one timer serve them all.
 */
struct tcp_tw {
	struct tcp_conn c;
	struct tcp_tw *fnext, *fprev;
	uint64_t expire_ms;
	uint32_t snd_nxt, rcv_nxt;
	uint16_t rcv_wnd;		/* window field to send (scaled) */
};

/* The timer slots of a PCB, multiplexed on one net_timer. */
enum { TT_REXMIT, TT_PERSIST, TT_DELACK, TT_KEEP, TT_N };

/* pcb->flags */
#define TF_ACK_NOW	0x00000001	/* send an ACK at the end of this step */
#define TF_ACK_DELAYED	0x00000002	/* an ACK is owed (delayed-ACK timer) */
#define TF_NODELAY	0x00000004	/* TCP_NODELAY: no Nagle */
#define TF_CORK		0x00000008	/* MSG_MORE: hold a partial segment */
#define TF_KEEPALIVE	0x00000010
#define TF_SACK_OK	0x00000020	/* both sides sent SACK-permitted */
#define TF_FIN_RCVD	0x00000040	/* the peer's FIN is in rcv_nxt */
#define TF_SHUT_WR	0x00000080	/* our FIN is queued after write_seq */
#define TF_SHUT_RD	0x00000100
#define TF_RECOVERY	0x00000200	/* in NewReno fast recovery */
#define TF_RTT_TIMING	0x00000400	/* rtt_seq is being timed */
#define TF_OOO_FIN	0x00000800	/* a FIN arrived ahead of a hole */
#define TF_CONNECTED	0x00001000	/* reached ESTABLISHED once */
#define TF_LINGER0	0x00002000	/* SO_LINGER 0: close sends RST */
#define TF_BOUND	0x00004000	/* bind() or connect() gave it a port */
#define TF_DEAD		0x00008000	/* free at the end of this step */
#define TF_PASSIVE	0x00010000	/* made by a listener */
#define TF_ACCEPTQ	0x00020000	/* on its listener's accept queue */
#define TF_WSCALE	0x00040000	/* both sides sent window scale */
#define TF_PERSIST	0x00080000	/* zero-window probing */
#define TF_UNDO		0x00100000	/* prior_cwnd may still be restored */
#define TF_TSO		0x00200000	/* the route's device segments for us */
#define TF_SG		0x00400000	/* ... and takes segments in pieces (NETDEV_F_SG) */

struct tcp_pcb {
	struct tcp_conn c;
	void *owner;			/* the socket; NULL once closed */
	uint32_t flags;			/* TF_* */
	int err, soft_err;		/* pending error (negative errno) */
	unsigned poll_last;		/* tcp_poll() at the last wake-up */
	unsigned wake;			/* events to report even if unchanged */

	/* A listener's child: its listener and its place in a queue. */
	struct tcp_pcb *listener, *qnext, *qprev;
	/* A listener: its SYN queue and accept queue. */
	struct tcp_pcb *synq, *acceptq, *acceptq_tail;
	uint16_t syn_len, accept_len, backlog, syn_max;
	uint64_t cookie_ms;		/* last SYN cookie sent (0: none) */

	/* Send sequence space (RFC 9293 3.3.1). */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t write_seq;		/* end of the queued data (FIN after it) */
	uint32_t snd_wnd, max_sndwnd, snd_wl1, snd_wl2;
	uint32_t cwnd, ssthresh, recover, bytes_acked;
	uint32_t sndbuf;
	uint16_t mss;			/* what we send per segment */
	uint16_t adv_mss;		/* what we told the peer */
	uint16_t rcv_mss;		/* the largest segment the peer sent */
	uint16_t user_mss;		/* TCP_MAXSEG (0: none) */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks, retries, probes, backoff;
	uint8_t kprobes;		/* keep-alive probes unanswered */
	uint32_t rexmit_high;		/* recovery resent up to here */
	/*
	 * Undoing a cwnd cut that D-SACKs prove needless: the window before
	 * the cut, where the episode began, and its retransmissions that
	 * the peer has not yet reported as duplicates (RFC 3708 style).
	 */
	uint32_t prior_cwnd, prior_ssthresh, undo_marker;
	uint16_t undo_retrans;
	uint8_t reordering;		/* dup ACKs that mean loss (3, more on reordering paths) */
	/* Queued data: netbufs of up to mss payload at buf + NETBUF_HEADROOM. */
	struct netbuf *sndq, *sndq_tail, *snd_next_nb;
	/* What the peer's SACK blocks cover above snd_una. */
	struct { uint32_t start, end; } sacked[TCP_SACK_BLOCKS];
	uint8_t nsacked;

	/* RTT (RFC 6298), in microseconds; RTO in ms. */
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t rtt_seq;
	uint64_t rtt_start_us;

	/* Receive sequence space. */
	uint32_t irs, rcv_nxt, rcv_adv, rcv_acked;
	uint32_t rcvbuf;
	uint32_t rcv_queued;		/* payload bytes on rcvq */
	uint32_t ooo_bytes;		/* payload bytes on ooo */
	uint32_t rcv_mem;		/* netbuf_truesize() of each on both */
	uint16_t ooo_count;
	struct netbuf *rcvq, *rcvq_tail, *ooo;
	uint32_t ooo_fin_seq, sack_recent;
	uint32_t dsack_start, dsack_end;	/* a duplicate to report (RFC 2883) */

	uint64_t last_rx_ms, last_tx_ms;
	struct net_timer timer;
	uint64_t tmo[TT_N];		/* slot deadlines, 0 = off */

	uint16_t keepidle_s, keepintvl_s;
	uint8_t keepcnt;
};

/* A parsed segment. */
struct tcp_seg {
	struct netbuf *nb;		/* payload at data/len after parsing */
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint32_t len;			/* payload bytes */
	uint16_t wnd;
	uint8_t flags;
	/* Options. */
	bool has_mss, has_ws, sack_ok;
	uint16_t opt_mss;
	uint8_t opt_ws, nsack;
	uint32_t sack[TCP_SACK_BLOCKS][2];
};

/* Big-endian loads and stores of header fields. */
static inline uint16_t
tcp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
tcp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
tcp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tcp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
tcp_min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static inline uint32_t
tcp_max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/*
 * Where a queued send netbuf's payload lives, and how long it is: in its
 * own block, or (sendfile) lent memory, read-only (netbuf.h's ext).
 */
static inline uint8_t *
tcp_snd_payload(struct netbuf *nb)
{
	return nb->ext ? (uint8_t *)(uintptr_t)nb->ext_data : nb->buf + NETBUF_HEADROOM;
}

static inline uint32_t
tcp_snd_end(const struct tcp_pcb *pcb, const struct netbuf *nb)
{
	return nb->next ? nb->next->seq : pcb->write_seq;
}

/* Bytes sent and not yet acknowledged. */
static inline uint32_t
tcp_flight(const struct tcp_pcb *pcb)
{
	return pcb->snd_nxt - pcb->snd_una;
}

/* tcp.c */
extern struct tcp_htable tcp_ehash, tcp_lhash, tcp_bhash;
void tcp_enter(void);
void tcp_leave(void);
void tcp_set_state(struct tcp_pcb *pcb, int state);
uint32_t tcp_ehash_of(uint32_t raddr, uint16_t lport, uint16_t rport);
void tcp_htable_add(struct tcp_htable *t, struct tcp_hnode *n, uint32_t hash);
void tcp_htable_del(struct tcp_htable *t, struct tcp_hnode *n);
struct tcp_conn *tcp_lookup(uint32_t laddr, uint16_t lport, uint32_t raddr,
			    uint16_t rport);
struct tcp_pcb *tcp_lookup_listener(uint32_t laddr, uint16_t lport);
struct tcp_pcb *tcp_lookup_remote(uint32_t raddr, uint16_t rport, uint16_t lport);
void tcp_bind_insert(struct tcp_conn *c);
int tcp_bind_ephemeral(struct tcp_pcb *pcb);
bool tcp_listen_clash(const struct tcp_pcb *pcb);
void tcp_lhash_add(struct tcp_pcb *pcb);
void tcp_count_state(int state, int delta);
struct tcp_pcb *tcp_pcb_alloc(void *owner);
void tcp_pcb_free(struct tcp_pcb *pcb);
void tcp_drop(struct tcp_pcb *pcb, int err);
void tcp_finish(struct tcp_pcb *pcb);
void tcp_notify(struct tcp_pcb *pcb);
void tcp_set_mss(struct tcp_pcb *pcb, uint16_t peer_mss);
uint8_t tcp_pick_wscale(uint32_t rcvbuf);
void tcp_purge_snd(struct tcp_pcb *pcb);
void tcp_init_once(void);

/* tcp_input.c */
void tcp_input_now(struct netbuf *nb, uint32_t src, uint32_t dst);
bool tcp_nested(void);
void tcp_process(struct tcp_pcb *pcb, struct tcp_seg *s);
bool tcp_challenge_ack_allowed(void);
void tcp_established(struct tcp_pcb *pcb);

/* tcp_output.c */
void tcp_output(struct tcp_pcb *pcb);
void tcp_output_force(struct tcp_pcb *pcb);
void tcp_xmit_nb(struct tcp_pcb *pcb, struct netbuf *q, bool fin);
void tcp_send_fin_only(struct tcp_pcb *pcb);
void tcp_send_cookie_synack(const struct tcp_seg *s, uint32_t cookie, uint16_t mss,
			    uint16_t wnd);
bool tcp_sacked(const struct tcp_pcb *pcb, uint32_t start, uint32_t end);
void tcp_send_ack(struct tcp_pcb *pcb);
void tcp_send_syn(struct tcp_pcb *pcb);
void tcp_send_probe(struct tcp_pcb *pcb);
void tcp_send_rst(struct tcp_pcb *pcb);
void tcp_reply_rst(const struct tcp_seg *s);
void tcp_send_ctl(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
		  uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd);

/* tcp_ack.c */
void tcp_ack_received(struct tcp_pcb *pcb, const struct tcp_seg *s);
void tcp_retransmit_timeout(struct tcp_pcb *pcb);
void tcp_persist_timeout(struct tcp_pcb *pcb);
void tcp_cc_init(struct tcp_pcb *pcb);
void tcp_note_retransmit(struct tcp_pcb *pcb);

/* tcp_timer.c */
void tcp_timer_arm(struct tcp_pcb *pcb, int slot, uint64_t when_ms);
void tcp_timer_stop(struct tcp_pcb *pcb, int slot);
void tcp_timer_stop_all(struct tcp_pcb *pcb);
void tcp_rexmit_restart(struct tcp_pcb *pcb);
uint32_t tcp_rto_backed_off(const struct tcp_pcb *pcb);
void tcp_rtt_sample(struct tcp_pcb *pcb, uint32_t rtt_us);
void tcp_keepalive_reset(struct tcp_pcb *pcb);
void tcp_timewait(struct tcp_pcb *pcb);
void tcp_tw_from_pcb(struct tcp_pcb *pcb);
bool tcp_tw_input(struct tcp_tw *tw, struct tcp_seg *s);
bool tcp_tw_pcb_input(struct tcp_pcb *pcb, struct tcp_seg *s);
void tcp_tw_free(struct tcp_tw *tw);

/* tcp_syn.c */
uint32_t tcp_isn(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);
void tcp_syn_init(void);
void tcp_listen_input(struct tcp_pcb *l, struct tcp_seg *s);
void tcp_child_established(struct tcp_pcb *child);
void tcp_child_unlink(struct tcp_pcb *child);
bool tcp_accept_queue_full(const struct tcp_pcb *l);
void tcp_listener_close(struct tcp_pcb *l);
void tcp_parse_syn_options(struct tcp_pcb *pcb, const struct tcp_seg *s);

/* tcp_rcvq.c */
bool tcp_rcv_data(struct tcp_pcb *pcb, struct tcp_seg *s);
uint16_t tcp_rcv_window(struct tcp_pcb *pcb);
uint32_t tcp_rcv_space(const struct tcp_pcb *pcb);
bool tcp_rcv_window_update_due(const struct tcp_pcb *pcb);
int tcp_sack_option(struct tcp_pcb *pcb, uint8_t *opt);
void tcp_purge_rcv(struct tcp_pcb *pcb);
void tcp_purge_ooo(struct tcp_pcb *pcb);
void tcp_rcv_duplicate(struct tcp_pcb *pcb, uint32_t start, uint32_t end);

#endif
