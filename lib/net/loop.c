/*
 * Loopback: packets to 127.0.0.0/8 and to our own addresses, with or
 * without a NIC.  ip_output() queues them here instead of delivering
 * them on the spot, so a protocol never re-enters itself from inside its
 * own output (TCP sending an ACK to itself while it holds a PCB half
 * updated); the queue is drained with the lock still held by whoever
 * drops it (net_unlock()), a bounded batch at a time, and what remains
 * is left to the stack's thread.  A looped packet was never on a wire:
 * its checksums are trusted (NB_CSUM_VALID) and a netbuf someone else
 * still holds (TCP's retransmission queue) is copied first.
 */
#include <errno.h>

#include "lib/net/inet.h"

#define LOOP_QUEUE_MAX		4096	/* packets waiting */
#define LOOP_BATCH		512	/* delivered per drain */

static struct netbuf *head, *tail;
static unsigned queued;

int
loop_enqueue(struct netbuf *nb)
{
	if (queued >= LOOP_QUEUE_MAX) {
		NET_STAT(loop_drop);
		netbuf_put(nb);
		return -ENOBUFS;
	}
	nb = nb_unshare(nb);
	if (nb)
		nb = nb_linear(nb);	/* a route that changed under TCP's TF_SG */
	if (!nb) {
		NET_STAT(loop_drop);
		return -ENOBUFS;
	}
	nb->flags = (nb->flags & ~(uint32_t)NB_CSUM_PARTIAL) | NB_CSUM_VALID;
	nb->dev = NULL;
	nb->next = NULL;
	if (tail)
		tail->next = nb;
	else
		head = nb;
	tail = nb;
	queued++;
	return 0;
}

bool
loop_pending(void)
{
	return head != NULL;
}

void
loop_drain(void)
{
	for (unsigned n = 0; head && n < LOOP_BATCH; n++) {
		struct netbuf *nb = head;
		head = nb->next;
		if (!head)
			tail = NULL;
		queued--;
		nb->next = NULL;
		NET_STAT(loop_rx);
		ip_input(&loopback_if, nb);
	}
	if (head)
		net_timer_kick(0);	/* the stack's thread takes the rest */
}
