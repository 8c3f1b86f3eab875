/*
 * The calls the socket layer makes (tcp.h): create, bind, listen, accept,
 * connect, send, receive, shut down, close, poll and options.  Every one
 * is non-blocking and answers at once; when something changes later,
 * TCP calls sock_wakeup() (tcp_notify) and socket.c asks again.  Each call
 * that may send brackets itself with tcp_enter()/tcp_leave() so a segment
 * looped back to us meanwhile waits until the call is done.
 *
 * Not here: what happens to the data once queued (tcp_output.c) or how
 * it arrives (tcp_input.c, tcp_rcvq.c); port and table rules (tcp.c).
 */
#include "lib/net/tcp_internal.h"

#define SHUT_RD_	0
#define SHUT_WR_	1
#define SHUT_RDWR_	2

struct tcp_pcb *
tcp_new(void *owner)
{
	return tcp_pcb_alloc(owner);
}

int
tcp_listen(struct tcp_pcb *pcb, int backlog)
{
	int err;

	if (backlog < 1)
		backlog = 1;
	if (backlog > TCP_MAX_BACKLOG)
		backlog = TCP_MAX_BACKLOG;
	if (pcb->c.state == TCPS_LISTEN) {
		pcb->backlog = (uint16_t)backlog;
		return 0;
	}
	if (pcb->c.state != TCPS_CLOSED || (pcb->flags & TF_CONNECTED))
		return -EINVAL;
	if (!(pcb->flags & TF_BOUND)) {
		err = tcp_bind(pcb, 0, 0, pcb->c.reuse);
		if (err)
			return err;
	}
	if (tcp_listen_clash(pcb))
		return -EADDRINUSE;
	pcb->backlog = (uint16_t)backlog;
	/* Half-open connections beyond this get SYN cookies instead. */
	pcb->syn_max = (uint16_t)tcp_max32(TCP_SYNQ_MIN, tcp_min32((uint32_t)backlog, TCP_SYNQ_MAX));
	tcp_set_state(pcb, TCPS_LISTEN);
	tcp_lhash_add(pcb);
	return 0;
}

struct tcp_pcb *
tcp_accept(struct tcp_pcb *l, void *owner, int *err)
{
	struct tcp_pcb *c;

	if (l->c.state != TCPS_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	c = l->acceptq;
	if (!c) {
		*err = -EAGAIN;
		return NULL;
	}
	tcp_child_unlink(c);
	c->owner = owner;
	c->poll_last = tcp_poll(c);
	l->poll_last = tcp_poll(l);
	*err = 0;
	return c;
}

int
tcp_connect(struct tcp_pcb *pcb, uint32_t addr, uint16_t port)
{
	uint32_t src;
	int err;

	tcp_init_once();
	if (pcb->c.state == TCPS_SYN_SENT || pcb->c.state == TCPS_SYN_RECEIVED)
		return -EALREADY;
	/* A socket connects once. */
	if (pcb->c.state != TCPS_CLOSED || (pcb->flags & TF_CONNECTED))
		return -EISCONN;
	src = ip_route_src(addr, NULL);
	if (!src)
		return -EHOSTUNREACH;
	if (!(pcb->flags & TF_BOUND)) {
		err = tcp_bind_ephemeral(pcb);
		if (err)
			return err;
	}
	if (!pcb->c.laddr)
		pcb->c.laddr = src;
	if (tcp_lookup(pcb->c.laddr, pcb->c.lport, addr, port))
		return -EADDRNOTAVAIL;
	pcb->c.raddr = addr;
	pcb->c.rport = port;
	/* A socket may try again after a refused or timed-out connect. */
	pcb->flags &= TF_NODELAY | TF_KEEPALIVE | TF_LINGER0 | TF_BOUND;
	pcb->err = pcb->soft_err = 0;
	pcb->backoff = pcb->dupacks = pcb->probes = pcb->kprobes = 0;
	pcb->snd_wscale = 0;
	pcb->nsacked = 0;
	tcp_set_mss(pcb, 0);
	pcb->mss = (uint16_t)tcp_min32(pcb->adv_mss, TCP_DEFAULT_MSS);
	pcb->rcv_wscale = tcp_pick_wscale(pcb->rcvbuf);
	pcb->iss = tcp_isn(pcb->c.laddr, pcb->c.lport, addr, port);
	pcb->snd_una = pcb->snd_nxt = pcb->snd_max = pcb->iss;
	pcb->write_seq = pcb->iss + 1;
	pcb->retries = 0;
	tcp_set_state(pcb, TCPS_SYN_SENT);
	tcp_htable_add(&tcp_ehash, &pcb->c.hnode,
		       tcp_ehash_of(pcb->c.raddr, pcb->c.lport, pcb->c.rport));
	NET_STAT(tcp_active_open);
	tcp_enter();
	tcp_send_syn(pcb);
	tcp_timer_arm(pcb, TT_REXMIT, net_now_ms() + pcb->rto_ms);
	tcp_leave();
	pcb->poll_last = tcp_poll(pcb);
	return 0;
}

/*
 * Queues up to len bytes: first into the last netbuf if it was never
 * sent and has room (small writes coalesce while Nagle holds them), then
 * into fresh MSS-sized netbufs -- copied, or with ref (not NULL) not
 * copied: such netbufs point into buf and hold a reference on ref each.
 * A lent run that continues the last netbuf's own lent bytes just
 * lengthens it; one that follows copied bytes tops their netbuf up by
 * copying, so that segments stay full.
 */
static size_t
snd_append(struct tcp_pcb *pcb, const uint8_t *buf, size_t len, struct kbuf *ref)
{
	size_t done = 0;

	while (done < len) {
		struct netbuf *nb = pcb->sndq_tail;
		bool unsent = nb && SEQ_GEQ(nb->seq, pcb->snd_max);
		uint32_t have = unsent ? pcb->write_seq - nb->seq : 0;
		/* The tail takes more if not full and, when it holds lent
		 * bytes, these continue them; copied bytes take anything. */
		bool room = unsent && have < pcb->mss &&
			    (!nb->ext || (nb->ext == ref && nb->ext_data + have == buf + done));
		if (!room) {
			/* Lent bytes need no block of their own. */
			nb = ref ? netbuf_alloc_bare() : netbuf_alloc(NETBUF_HEADROOM);
			if (!nb)
				break;
			nb->seq = pcb->write_seq;
			nb->next = NULL;
			if (ref) {
				nb->ext = kbuf_get(ref);
				nb->ext_data = buf + done;
			}
			if (pcb->sndq_tail)
				pcb->sndq_tail->next = nb;
			else
				pcb->sndq = nb;
			pcb->sndq_tail = nb;
			if (!pcb->snd_next_nb)
				pcb->snd_next_nb = nb;
			have = 0;
		}
		uint32_t n = pcb->mss - have;

		if (len - done < n)
			n = (uint32_t)(len - done);
		if (!nb->ext)
			memcpy(tcp_snd_payload(nb) + have, buf + done, n);
		pcb->write_seq += n;
		done += n;
	}
	return done;
}

ssize_t
tcp_send(struct tcp_pcb *pcb, const void *buf, size_t len, bool more)
{
	return tcp_send_ref(pcb, buf, len, more, NULL);
}

ssize_t
tcp_send_ref(struct tcp_pcb *pcb, const void *buf, size_t len, bool more,
	     struct kbuf *ref)
{
	uint32_t queued, room;
	size_t n;

	if (pcb->err) {
		int e = pcb->err;

		pcb->err = 0;
		return e;
	}
	if (pcb->flags & TF_SHUT_WR)
		return -EPIPE;
	switch (pcb->c.state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EAGAIN;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
		return (pcb->flags & TF_CONNECTED) ? -EPIPE : -ENOTCONN;
	default:
		return -EPIPE;
	}
	queued = pcb->write_seq - pcb->snd_una;
	room = queued < pcb->sndbuf ? pcb->sndbuf - queued : 0;
	if (!room)
		return -EAGAIN;
	if (len == 0)
		return 0;
	n = snd_append(pcb, buf, len < room ? len : room, ref);
	if (more)
		pcb->flags |= TF_CORK;
	else
		pcb->flags &= ~TF_CORK;
	tcp_enter();
	tcp_output(pcb);
	tcp_leave();
	pcb->poll_last = tcp_poll(pcb);
	return n ? (ssize_t)n : -ENOBUFS;
}

/* Copies (and unless peek, consumes) up to len queued bytes. */
static size_t
rcv_copy(struct tcp_pcb *pcb, uint8_t *buf, size_t len, bool peek)
{
	size_t done = 0;
	struct netbuf *nb = pcb->rcvq;

	while (nb && done < len) {
		uint32_t n = (uint32_t)(len - done < nb->len ? len - done : nb->len);
		struct netbuf *next = nb->next;

		memcpy(buf + done, nb->data, n);
		done += n;
		if (!peek) {
			pcb->rcv_queued -= n;
			if (n == nb->len) {
				pcb->rcvq = next;
				if (!next)
					pcb->rcvq_tail = NULL;
				pcb->rcv_mem -= netbuf_truesize(nb);
				netbuf_put(nb);
			} else {
				netbuf_pull(nb, n);
			}
		}
		nb = next;
	}
	return done;
}

ssize_t
tcp_recv(struct tcp_pcb *pcb, void *buf, size_t len, bool peek)
{
	size_t n;

	if (pcb->c.state == TCPS_LISTEN)
		return -ENOTCONN;
	n = rcv_copy(pcb, buf, len, peek);
	if (n) {
		if (!peek && tcp_rcv_window_update_due(pcb)) {
			tcp_enter();
			tcp_send_ack(pcb);
			tcp_leave();
		}
		pcb->poll_last = tcp_poll(pcb);
		return (ssize_t)n;
	}
	if (len == 0 && pcb->rcvq)
		return 0;
	if (pcb->err) {
		int e = pcb->err;

		pcb->err = 0;
		return e;
	}
	if (pcb->flags & (TF_FIN_RCVD | TF_SHUT_RD))
		return 0;
	if (pcb->c.state == TCPS_CLOSED)
		return (pcb->flags & TF_CONNECTED) ? 0 : -ENOTCONN;
	return -EAGAIN;
}

/* Our side is done sending: FIN after the queued data (RFC 9293 3.10.4). */
static void
queue_fin(struct tcp_pcb *pcb)
{
	if (pcb->flags & TF_SHUT_WR)
		return;
	switch (pcb->c.state) {
	case TCPS_SYN_SENT:
		tcp_drop(pcb, 0);
		return;
	case TCPS_SYN_RECEIVED:
		/* Sent once established (tcp_established). */
		pcb->flags |= TF_SHUT_WR;
		return;
	case TCPS_ESTABLISHED:
		tcp_set_state(pcb, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:
		tcp_set_state(pcb, TCPS_LAST_ACK);
		break;
	default:
		return;
	}
	pcb->flags |= TF_SHUT_WR;
	pcb->flags &= ~TF_CORK;
	tcp_output(pcb);
}

int
tcp_shutdown(struct tcp_pcb *pcb, int how)
{
	if (how != SHUT_RD_ && how != SHUT_WR_ && how != SHUT_RDWR_)
		return -EINVAL;
	if (pcb->c.state == TCPS_CLOSED || pcb->c.state == TCPS_LISTEN)
		return -ENOTCONN;
	tcp_enter();
	if (how != SHUT_WR_)
		pcb->flags |= TF_SHUT_RD;
	if (how != SHUT_RD_)
		queue_fin(pcb);
	tcp_notify(pcb);
	tcp_leave();
	return 0;
}

void
tcp_close(struct tcp_pcb *pcb)
{
	tcp_enter();
	pcb->owner = NULL;
	switch (pcb->c.state) {
	case TCPS_LISTEN:
		tcp_listener_close(pcb);
		tcp_htable_del(&tcp_lhash, &pcb->c.hnode);
		pcb->flags |= TF_DEAD;
		break;
	case TCPS_CLOSED:
		pcb->flags |= TF_DEAD;
		break;
	case TCPS_SYN_SENT:
		tcp_drop(pcb, 0);
		break;
	case TCPS_TIME_WAIT:
		break;		/* tcp_finish makes it a compact entry */
	default:
		/* Unread data or SO_LINGER 0: abort (RFC 9293 3.10.4, RFC 2525). */
		if (pcb->rcv_queued || (pcb->flags & TF_LINGER0)) {
			tcp_send_rst(pcb);
			tcp_drop(pcb, 0);
			break;
		}
		queue_fin(pcb);
		/* An orphan does not wait in FIN_WAIT_2 for ever. */
		if (pcb->c.state == TCPS_FIN_WAIT_2)
			tcp_timer_arm(pcb, TT_KEEP, net_now_ms() + TCP_FIN_TIMEOUT_MS);
		break;
	}
	tcp_finish(pcb);
	tcp_leave();
}

unsigned
tcp_poll(const struct tcp_pcb *pcb)
{
	unsigned mask = 0;
	uint32_t queued;

	if (pcb->c.state == TCPS_LISTEN)
		return pcb->acceptq ? POLLIN : 0;
	if (pcb->err)
		mask |= POLLERR;
	if (pcb->c.state == TCPS_SYN_SENT || pcb->c.state == TCPS_SYN_RECEIVED)
		return mask;
	if (pcb->rcvq)
		mask |= POLLIN;
	if (pcb->flags & (TF_FIN_RCVD | TF_SHUT_RD) ||
	    (pcb->c.state == TCPS_CLOSED && (pcb->flags & TF_CONNECTED)))
		mask |= POLLIN | POLLRDHUP;
	queued = pcb->write_seq - pcb->snd_una;
	/* Writable with a quarter of the buffer free, so wake-ups batch. */
	if ((pcb->flags & TF_SHUT_WR) || pcb->c.state == TCPS_CLOSED ||
	    queued + pcb->sndbuf / 4 <= pcb->sndbuf)
		mask |= POLLOUT;
	if (pcb->c.state == TCPS_CLOSED || pcb->c.state == TCPS_TIME_WAIT ||
	    ((pcb->flags & TF_FIN_RCVD) && (pcb->flags & TF_SHUT_WR)))
		mask |= POLLHUP;
	return mask;
}

unsigned
tcp_poll_last(const struct tcp_pcb *pcb)
{
	return __atomic_load_n(&pcb->poll_last, __ATOMIC_RELAXED);
}

int
tcp_error(struct tcp_pcb *pcb, bool clear)
{
	int e = pcb->err ? pcb->err : pcb->soft_err;

	if (clear) {
		if (pcb->err)
			pcb->err = 0;
		else
			pcb->soft_err = 0;
	}
	return e;
}

void
tcp_local(const struct tcp_pcb *pcb, uint32_t *addr, uint16_t *port)
{
	*addr = pcb->c.laddr;
	*port = pcb->c.lport;
}

int
tcp_peer(const struct tcp_pcb *pcb, uint32_t *addr, uint16_t *port)
{
	switch (pcb->c.state) {
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
		return -ENOTCONN;
	case TCPS_CLOSED:
		if (!(pcb->flags & TF_CONNECTED))
			return -ENOTCONN;
		break;
	}
	*addr = pcb->c.raddr;
	*port = pcb->c.rport;
	return 0;
}

static bool
synchronized(const struct tcp_pcb *pcb)
{
	return pcb->c.state == TCPS_ESTABLISHED || pcb->c.state == TCPS_CLOSE_WAIT;
}

int
tcp_setopt(struct tcp_pcb *pcb, enum tcp_opt opt, int value)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		if (!value) {
			pcb->flags &= ~TF_NODELAY;
			return 0;
		}
		pcb->flags |= TF_NODELAY;
		tcp_enter();
		tcp_output(pcb);
		tcp_leave();
		return 0;
	case TCP_OPT_KEEPALIVE:
		if (value)
			pcb->flags |= TF_KEEPALIVE;
		else
			pcb->flags &= ~TF_KEEPALIVE;
		if (synchronized(pcb))
			tcp_keepalive_reset(pcb);
		return 0;
	case TCP_OPT_KEEPIDLE:
	case TCP_OPT_KEEPINTVL:
		if (value < 1 || value > 32767)
			return -EINVAL;
		if (opt == TCP_OPT_KEEPIDLE)
			pcb->keepidle_s = (uint16_t)value;
		else
			pcb->keepintvl_s = (uint16_t)value;
		if (synchronized(pcb))
			tcp_keepalive_reset(pcb);
		return 0;
	case TCP_OPT_KEEPCNT:
		if (value < 1 || value > 127)
			return -EINVAL;
		pcb->keepcnt = (uint8_t)value;
		return 0;
	case TCP_OPT_MAXSEG:
		if (value && (value < TCP_MIN_MSS || value > 65535))
			return -EINVAL;
		pcb->user_mss = (uint16_t)value;
		return 0;
	case TCP_OPT_SNDBUF:
	case TCP_OPT_RCVBUF:
		if (value < TCP_BUF_MIN)
			value = TCP_BUF_MIN;
		if (value > TCP_BUF_MAX)
			value = TCP_BUF_MAX;
		if (opt == TCP_OPT_SNDBUF)
			pcb->sndbuf = (uint32_t)value;
		else
			pcb->rcvbuf = (uint32_t)value;
		return 0;
	case TCP_OPT_LINGER:
		if (value == 0)
			pcb->flags |= TF_LINGER0;
		else
			pcb->flags &= ~TF_LINGER0;
		return 0;
	case TCP_OPT_STATE:
		return -EINVAL;
	}
	return -ENOPROTOOPT;
}

int
tcp_getopt(struct tcp_pcb *pcb, enum tcp_opt opt, int *value)
{
	switch (opt) {
	case TCP_OPT_NODELAY:
		*value = !!(pcb->flags & TF_NODELAY);
		return 0;
	case TCP_OPT_KEEPALIVE:
		*value = !!(pcb->flags & TF_KEEPALIVE);
		return 0;
	case TCP_OPT_KEEPIDLE:
		*value = pcb->keepidle_s;
		return 0;
	case TCP_OPT_KEEPINTVL:
		*value = pcb->keepintvl_s;
		return 0;
	case TCP_OPT_KEEPCNT:
		*value = pcb->keepcnt;
		return 0;
	case TCP_OPT_MAXSEG:
		if (pcb->flags & TF_CONNECTED)
			*value = pcb->mss;
		else
			*value = pcb->user_mss ? pcb->user_mss : TCP_DEFAULT_MSS;
		return 0;
	case TCP_OPT_SNDBUF:
		*value = (int)pcb->sndbuf;
		return 0;
	case TCP_OPT_RCVBUF:
		*value = (int)pcb->rcvbuf;
		return 0;
	case TCP_OPT_LINGER:
		*value = (pcb->flags & TF_LINGER0) ? 0 : -1;
		return 0;
	case TCP_OPT_STATE:
		*value = pcb->c.state;
		return 0;
	}
	return -ENOPROTOOPT;
}
