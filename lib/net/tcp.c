/*
 * TCP's bookkeeping: where connections live and how long.  Three chained
 * hash tables that grow as they fill (connections by 4-tuple, listeners
 * by port, everything bound by port), so thousands of connections cost
 * memory in proportion and no fixed per-connection table; the life of a
 * PCB (allocation, the per-state counters, dropping a connection,
 * freeing it at the end of a step); local ports (bind conflicts,
 * SO_REUSEADDR, random ephemeral ports); the socket wake-ups; and the
 * re-entrancy guard every entry point goes through.
 *
 * Not here: the socket-facing calls (tcp_api.c), what segments do
 * (tcp_input.c), sending (tcp_output.c), timers (tcp_timer.c).
 */
#include "lib/net/tcp_internal.h"

#include "lib/dev/netdev.h"
#include "lib/mm/kheap.h"

struct tcp_htable tcp_ehash, tcp_lhash, tcp_bhash;
static unsigned state_count[TCPS_NSTATES];
static uint32_t hash_seed;
static bool inited;

/*
 * Entry points nest when ip_output() hands a segment for one of our own
 * addresses straight back to tcp_input(): the inner call would change
 * queues the outer one is walking.  So a nested tcp_input() only queues
 * the segment, and the outermost entry point processes it on its way out.
 */
static int depth;
static struct netbuf *deferred, *deferred_tail;

void
tcp_enter(void)
{
	depth++;
}

void
tcp_leave(void)
{
	while (depth == 1 && deferred) {
		struct netbuf *nb = deferred;

		deferred = nb->next;
		if (!deferred)
			deferred_tail = NULL;
		nb->next = NULL;
		/* tcp_input() parked the addresses in the fields it owns. */
		tcp_input_now(nb, nb->seq, (uint32_t)nb->stamp);
	}
	depth--;
}

/* Inside an entry point: input is deferred to its end. */
bool
tcp_nested(void)
{
	return depth > 0;
}

void
tcp_input(struct netbuf *nb, uint32_t src, uint32_t dst)
{
	if (depth > 0) {
		nb->seq = src;
		nb->stamp = dst;
		nb->next = NULL;
		if (deferred_tail)
			deferred_tail->next = nb;
		else
			deferred = nb;
		deferred_tail = nb;
		return;
	}
	tcp_enter();
	tcp_input_now(nb, src, dst);
	tcp_leave();
}

void
tcp_init_once(void)
{
	if (inited)
		return;
	inited = true;
	hash_seed = net_random32();
	tcp_syn_init();
}

/* Bob Jenkins' final mix: three words to one well-spread hash. */
static uint32_t
mix3(uint32_t a, uint32_t b, uint32_t c)
{
#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
	c ^= b; c -= ROT(b, 14);
	a ^= c; a -= ROT(c, 11);
	b ^= a; b -= ROT(a, 25);
	c ^= b; c -= ROT(b, 16);
	a ^= c; a -= ROT(c, 4);
	b ^= a; b -= ROT(a, 14);
	c ^= b; c -= ROT(b, 24);
#undef ROT
	return c;
}

/*
 * The connection table's hash leaves out our own address: an ICMP error
 * names only the remote end and the ports (tcp_icmp_error), and a host
 * has few addresses.  Seeded, so a peer cannot aim at one chain.
 */
uint32_t
tcp_ehash_of(uint32_t raddr, uint16_t lport, uint16_t rport)
{
	return mix3(raddr, (uint32_t)lport << 16 | rport, hash_seed);
}

static uint32_t
port_hash(uint16_t port)
{
	return mix3(port, 0x9e3779b9u, hash_seed);
}

/* Doubles the bucket array; on failure the chains just get longer. */
static void
htable_grow(struct tcp_htable *t)
{
	uint32_t n = t->mask ? (t->mask + 1) * 2 : 64;
	struct tcp_hnode **b = kzalloc(n * sizeof(*b));

	if (!b)
		return;
	for (uint32_t i = 0; t->mask && i <= t->mask; i++) {
		while (t->b[i]) {
			struct tcp_hnode *h = t->b[i];
			struct tcp_hnode **head = &b[h->hash & (n - 1)];

			t->b[i] = h->next;
			h->next = *head;
			if (h->next)
				h->next->pprev = &h->next;
			*head = h;
			h->pprev = head;
		}
	}
	kfree(t->b);
	t->b = b;
	t->mask = n - 1;
}

void
tcp_htable_add(struct tcp_htable *t, struct tcp_hnode *n, uint32_t hash)
{
	/* Up to two entries a chain on average; 2^20 buckets at most. */
	if (!t->b || (t->count > 2 * (t->mask + 1) && t->mask < (1u << 20)))
		htable_grow(t);
	n->hash = hash;
	if (!t->b) {
		/* No memory for even the first array: keep it out of sight. */
		n->next = NULL;
		n->pprev = NULL;
		return;
	}
	struct tcp_hnode **head = &t->b[hash & t->mask];

	n->next = *head;
	if (n->next)
		n->next->pprev = &n->next;
	*head = n;
	n->pprev = head;
	t->count++;
}

void
tcp_htable_del(struct tcp_htable *t, struct tcp_hnode *n)
{
	if (!n->pprev)
		return;
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
	t->count--;
}

static struct tcp_hnode *
htable_chain(const struct tcp_htable *t, uint32_t hash)
{
	return t->b ? t->b[hash & t->mask] : NULL;
}

#define conn_of(h, field) \
	((struct tcp_conn *)((char *)(h) - offsetof(struct tcp_conn, field)))

struct tcp_conn *
tcp_lookup(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint32_t hash = tcp_ehash_of(raddr, lport, rport);

	for (struct tcp_hnode *h = htable_chain(&tcp_ehash, hash); h; h = h->next) {
		struct tcp_conn *c = conn_of(h, hnode);

		if (h->hash == hash && c->lport == lport && c->rport == rport &&
		    c->raddr == raddr && c->laddr == laddr)
			return c;
	}
	return NULL;
}

/* A connection by its remote end and local port (ICMP errors). */
struct tcp_pcb *
tcp_lookup_remote(uint32_t raddr, uint16_t rport, uint16_t lport)
{
	uint32_t hash = tcp_ehash_of(raddr, lport, rport);

	for (struct tcp_hnode *h = htable_chain(&tcp_ehash, hash); h; h = h->next) {
		struct tcp_conn *c = conn_of(h, hnode);

		if (h->hash == hash && c->kind == TCP_KIND_PCB && c->lport == lport &&
		    c->rport == rport && c->raddr == raddr)
			return (struct tcp_pcb *)c;
	}
	return NULL;
}

/* A listener on lport: one bound to laddr wins over a wildcard one. */
struct tcp_pcb *
tcp_lookup_listener(uint32_t laddr, uint16_t lport)
{
	uint32_t hash = port_hash(lport);
	struct tcp_pcb *any = NULL;

	for (struct tcp_hnode *h = htable_chain(&tcp_lhash, hash); h; h = h->next) {
		struct tcp_conn *c = conn_of(h, hnode);

		if (c->lport != lport)
			continue;
		if (c->laddr == laddr)
			return (struct tcp_pcb *)c;
		if (c->laddr == 0)
			any = (struct tcp_pcb *)c;
	}
	return any;
}

void
tcp_bind_insert(struct tcp_conn *c)
{
	tcp_htable_add(&tcp_bhash, &c->bnode, port_hash(c->lport));
}

/*
 * Whether addr:port may be bound by a socket with reuse (Linux's rules,
 * simplified): a clash needs overlapping addresses; SO_REUSEADDR on both
 * lets a socket share a port with anything but a listener; TIME_WAIT
 * never stands in the way of SO_REUSEADDR.
 */
static bool
port_free(const struct tcp_conn *self, uint32_t addr, uint16_t port, bool reuse)
{
	uint32_t hash = port_hash(port);

	for (struct tcp_hnode *h = htable_chain(&tcp_bhash, hash); h; h = h->next) {
		struct tcp_conn *c = conn_of(h, bnode);

		if (c == self || c->lport != port)
			continue;
		if (c->laddr && addr && c->laddr != addr)
			continue;
		if (reuse && c->kind == TCP_KIND_TW)
			continue;
		if (reuse && c->reuse && c->state != TCPS_LISTEN)
			continue;
		return false;
	}
	return true;
}

/* Whether anything at all is bound to port (ephemeral ports stay private). */
static bool
port_unused(uint16_t port)
{
	uint32_t hash = port_hash(port);

	for (struct tcp_hnode *h = htable_chain(&tcp_bhash, hash); h; h = h->next)
		if (conn_of(h, bnode)->lport == port)
			return false;
	return true;
}

/*
 * A random unused port from the ephemeral range (RFC 6056 algorithm 1:
 * random start, then linear search), in network order; 0 if all taken.
 */
static uint16_t
ephemeral_port(void)
{
	uint32_t n = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	uint32_t start = net_random32() % n;

	for (uint32_t i = 0; i < n; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % n);
		uint16_t port = (uint16_t)(p >> 8 | p << 8);

		if (port_unused(port))
			return port;
	}
	return 0;
}

int
tcp_bind(struct tcp_pcb *pcb, uint32_t addr, uint16_t port, bool reuse)
{
	tcp_init_once();
	if ((pcb->flags & TF_BOUND) || pcb->c.state != TCPS_CLOSED)
		return -EINVAL;
	if (addr && !ip_is_local(addr))
		return -EADDRNOTAVAIL;
	pcb->c.reuse = reuse;
	if (!port) {
		port = ephemeral_port();
		if (!port)
			return -EADDRINUSE;
	} else if (!port_free(&pcb->c, addr, port, reuse)) {
		return -EADDRINUSE;
	}
	pcb->c.laddr = addr;
	pcb->c.lport = port;
	pcb->flags |= TF_BOUND;
	tcp_bind_insert(&pcb->c);
	return 0;
}

/* Whether another listener already serves an overlapping address:port. */
bool
tcp_listen_clash(const struct tcp_pcb *pcb)
{
	uint32_t hash = port_hash(pcb->c.lport);

	for (struct tcp_hnode *h = htable_chain(&tcp_lhash, hash); h; h = h->next) {
		struct tcp_conn *c = conn_of(h, hnode);

		if (c != &pcb->c && c->lport == pcb->c.lport &&
		    (!c->laddr || !pcb->c.laddr || c->laddr == pcb->c.laddr))
			return true;
	}
	return false;
}

void
tcp_lhash_add(struct tcp_pcb *pcb)
{
	tcp_htable_add(&tcp_lhash, &pcb->c.hnode, port_hash(pcb->c.lport));
}

/* Binds an unbound PCB that connects to a fresh port. */
int
tcp_bind_ephemeral(struct tcp_pcb *pcb)
{
	uint16_t port = ephemeral_port();

	if (!port)
		return -EADDRNOTAVAIL;
	pcb->c.lport = port;
	pcb->flags |= TF_BOUND;
	tcp_bind_insert(&pcb->c);
	return 0;
}

void
tcp_set_state(struct tcp_pcb *pcb, int state)
{
	state_count[pcb->c.state]--;
	state_count[state]++;
	pcb->c.state = (uint8_t)state;
}

/* The TIME_WAIT entries count themselves through these two. */
void
tcp_count_state(int state, int delta)
{
	state_count[state] += (unsigned)delta;
}

void
tcp_count_states(unsigned counts[12])
{
	for (int i = 0; i < TCPS_NSTATES; i++)
		counts[i] = state_count[i];
}

struct tcp_pcb *
tcp_pcb_alloc(void *owner)
{
	struct tcp_pcb *pcb;

	tcp_init_once();
	pcb = kzalloc(sizeof(*pcb));
	if (!pcb)
		return NULL;
	pcb->owner = owner;
	pcb->c.kind = TCP_KIND_PCB;
	pcb->c.state = TCPS_CLOSED;
	state_count[TCPS_CLOSED]++;
	pcb->sndbuf = TCP_SNDBUF;
	pcb->rcvbuf = TCP_RCVBUF;
	pcb->rto_ms = TCP_RTO_INIT_MS;
	pcb->mss = pcb->adv_mss = pcb->rcv_mss = TCP_DEFAULT_MSS;
	pcb->keepidle_s = TCP_KEEPIDLE_S;
	pcb->keepintvl_s = TCP_KEEPINTVL_S;
	pcb->keepcnt = TCP_KEEPCNT;
	return pcb;
}

/* The PCB must be out of the connection and listener tables. */
void
tcp_pcb_free(struct tcp_pcb *pcb)
{
	tcp_timer_stop_all(pcb);
	tcp_htable_del(&tcp_bhash, &pcb->c.bnode);
	tcp_purge_snd(pcb);
	tcp_purge_rcv(pcb);
	state_count[pcb->c.state]--;
	kfree(pcb);
}

void
tcp_purge_snd(struct tcp_pcb *pcb)
{
	netbuf_put_list(pcb->sndq);
	pcb->sndq = pcb->sndq_tail = pcb->snd_next_nb = NULL;
	pcb->nsacked = 0;
}

/*
 * The connection is over (reset, timed out, or closed for good): out of
 * the connection table, timers and unsent data gone.  A socket keeps its
 * PCB (and what it has not read yet) until tcp_close(); a PCB nobody
 * owns is freed at the end of the step (tcp_finish), so callers up the
 * stack may still look at it.
 */
void
tcp_drop(struct tcp_pcb *pcb, int err)
{
	tcp_timer_stop_all(pcb);
	tcp_htable_del(&tcp_ehash, &pcb->c.hnode);
	tcp_purge_snd(pcb);
	tcp_purge_ooo(pcb);
	if (err)
		pcb->err = err;
	pcb->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_PERSIST);
	tcp_set_state(pcb, TCPS_CLOSED);
	if (pcb->listener)
		tcp_child_unlink(pcb);
	if (!pcb->owner)
		pcb->flags |= TF_DEAD;
}

/*
 * The end of a step on pcb: free it if it died, trade it for a compact
 * TIME_WAIT entry if nobody owns it any more, else tell its socket.
 */
void
tcp_finish(struct tcp_pcb *pcb)
{
	if (pcb->flags & TF_DEAD)
		tcp_pcb_free(pcb);
	else if (!pcb->owner && pcb->c.state == TCPS_TIME_WAIT)
		tcp_tw_from_pcb(pcb);
	else
		tcp_notify(pcb);
}

/*
 * Wakes the socket for every poll bit that came on since the last
 * wake-up, and for new data or room even when the bit was already on
 * (edge-triggered epoll wants an event per arrival).
 */
void
tcp_notify(struct tcp_pcb *pcb)
{
	unsigned now, ev;

	if (!pcb->owner) {
		pcb->wake = 0;
		return;
	}
	now = tcp_poll(pcb);
	ev = (now & ~pcb->poll_last) | (pcb->wake & now);
	pcb->poll_last = now;
	pcb->wake = 0;
	if (ev)
		sock_wakeup(pcb->owner, ev);
}

/*
 * Our MSS from the route's MTU, the user's TCP_MAXSEG and what fits one
 * netbuf; the segment size we send is the smaller of it and the peer's.
 */
void
tcp_set_mss(struct tcp_pcb *pcb, uint16_t peer_mss)
{
	uint16_t mtu = 0;
	uint32_t mss;

	ip_route_src(pcb->c.raddr, &mtu);
	unsigned f = ip_route_features(pcb->c.raddr);
	pcb->flags &= ~(TF_TSO | TF_SG);
	if ((f & (NETDEV_F_TSO | NETDEV_F_TX_CSUM)) == (NETDEV_F_TSO | NETDEV_F_TX_CSUM))
		pcb->flags |= TF_TSO;
	if (f & NETDEV_F_SG)
		pcb->flags |= TF_SG;
	mss = mtu > IP_HLEN + TCP_HLEN + TCP_MIN_MSS ? mtu - IP_HLEN - TCP_HLEN : TCP_DEFAULT_MSS;
	mss = tcp_min32(mss, TCP_MSS_MAX);
	if (pcb->user_mss)
		mss = tcp_min32(mss, pcb->user_mss);
	pcb->adv_mss = (uint16_t)mss;
	if (peer_mss) {
		/* A tiny MSS would make us send a packet per byte. */
		mss = tcp_max32(tcp_min32(mss, peer_mss), 64);
		pcb->mss = (uint16_t)mss;
	}
	pcb->rcv_mss = (uint16_t)tcp_min32(pcb->adv_mss, TCP_DEFAULT_MSS);
}

/* The smallest window scale whose window covers the receive buffer. */
uint8_t
tcp_pick_wscale(uint32_t rcvbuf)
{
	uint8_t s = 0;

	while (s < TCP_MAX_WSCALE && (65535u << s) < rcvbuf)
		s++;
	return s;
}
