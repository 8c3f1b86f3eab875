/*
 * Datagrams as netbuf chains (netbuf.h's frag): their length, copying
 * bytes out of them, their checksum, and private copies of netbufs that
 * others still hold.  A datagram bigger than one netbuf only exists
 * between IPv4 reassembly or a large UDP send and UDP's receive queue or
 * IPv4 fragmentation; nothing here knows about any protocol.
 */
#include <stdint.h>
#include <string.h>

#include "lib/net/inet.h"

uint32_t
nb_total_len(const struct netbuf *nb)
{
	uint32_t n = 0;

	for (unsigned i = 0; nb && i < nb->nslices; i++)
		n += nb->slices[i].len;
	for (; nb; nb = nb->frag)
		n += nb->len;
	return n;
}

bool
nb_copy_out(const struct netbuf *nb, uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	for (; nb && off >= nb->len; nb = nb->frag)
		off -= nb->len;
	while (len) {
		if (!nb)
			return false;
		uint32_t k = nb->len - off;
		if (k > len)
			k = len;
		memcpy(d, nb->data + off, k);
		d += k;
		len -= k;
		off = 0;
		nb = nb->frag;
	}
	return true;
}

uint32_t
nb_csum_chain(uint32_t sum, const struct netbuf *nb)
{
	uint64_t acc = sum;
	bool odd = false;	/* the next piece starts at an odd offset */
	const struct netbuf *head = nb;

	/* The pieces in order: the frag chain, or the head and its slices. */
	for (unsigned i = 0; nb; i++) {
		const uint8_t *p = nb->data;
		uint32_t len = nb->len;
		if (i && head->nslices) {
			p = head->slices[i - 1].data;
			len = head->slices[i - 1].len;
		}
		uint32_t s = net_csum_add(0, p, len);
		if (odd) {
			/* Its bytes sit in the other half of each 16-bit word. */
			s = (s & 0xFFFF) + (s >> 16);
			s = (s & 0xFFFF) + (s >> 16);
			s = __builtin_bswap16((uint16_t)s);
		}
		acc += s;
		if (len & 1)
			odd = !odd;
		if (head->nslices)
			nb = i < head->nslices ? nb : NULL;
		else
			nb = nb->frag;
	}
	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
	return (uint32_t)acc;
}

/* What describes nb's bytes, not the bytes: layer offsets, checksum state. */
static void
copy_meta(struct netbuf *c, const struct netbuf *nb)
{
	c->flags = nb->flags;
	c->csum_start = nb->csum_start;
	c->csum_offset = nb->csum_offset;
	c->dev = nb->dev;
	c->l3 = nb->l3;
	c->l4 = nb->l4;
}

/* One netbuf (not its chain), same layout. */
static struct netbuf *
copy_one(const struct netbuf *nb)
{
	uint32_t head = netbuf_headroom(nb);
	/* A page's bytes need a page (a received buffer); never bare. */
	struct netbuf *c = nb->pool == NB_POOL_PAGE ? netbuf_alloc_page(head) :
						      netbuf_alloc(head);

	if (!c)
		return NULL;
	memcpy(c->buf, nb->buf, head + nb->len);
	c->len = nb->len;
	copy_meta(c, nb);
	c->seq = nb->seq;
	c->stamp = nb->stamp;
	c->gso_size = nb->gso_size;
	if (nb->nslices) {
		/* The slices are shared, not copied: they are TCP's, read-only. */
		c->slices = netbuf_slice_area(c);
		c->nslices = nb->nslices;
		for (unsigned i = 0; i < nb->nslices; i++) {
			c->slices[i] = nb->slices[i];
			netbuf_ref(c->slices[i].nb);
		}
	}
	return c;
}

struct netbuf *
nb_copy(const struct netbuf *nb)
{
	struct netbuf *head = copy_one(nb), *tail = head;

	for (nb = nb->frag; head && nb; nb = nb->frag) {
		tail->frag = copy_one(nb);
		if (!tail->frag) {
			netbuf_put(head);
			return NULL;
		}
		tail = tail->frag;
	}
	return head;
}

struct netbuf *
nb_linear(struct netbuf *nb)
{
	uint32_t head = netbuf_headroom(nb), total = nb_total_len(nb);
	struct netbuf *c;

	if (!nb->nslices)
		return nb;
	if (nb->frag || head > NETBUF_CAPACITY || total > NETBUF_CAPACITY - head ||
	    !(c = netbuf_alloc(head))) {
		netbuf_put(nb);
		return NULL;
	}
	memcpy(c->data, nb->data, nb->len);
	c->len = nb->len;
	for (unsigned i = 0; i < nb->nslices; i++) {
		memcpy(c->data + c->len, nb->slices[i].data, nb->slices[i].len);
		c->len += nb->slices[i].len;
	}
	copy_meta(c, nb);
	netbuf_put(nb);
	return c;
}

struct netbuf *
nb_unshare(struct netbuf *nb)
{
	if (__atomic_load_n(&nb->refs, __ATOMIC_ACQUIRE) == 1)
		return nb;
	struct netbuf *c = nb_copy(nb);
	netbuf_put(nb);
	return c;
}
