/*
 * The netbuf pool (netbuf.h): 2 KiB blocks cut from whole pages, so a
 * frame never straddles a page and a device gets one contiguous buffer.
 * Freed netbufs go back on one free list under a spinlock and are reused;
 * pages are never returned (a NIC's receive ring and the sockets' queues
 * keep cycling through the same blocks).  Not the place for per-protocol
 * state: whoever holds a netbuf owns its fields until netbuf_put().
 */
#include <stdint.h>
#include <string.h>

#include "lib/net/netbuf.h"

#ifdef TORO_HOST_TEST
#include <stdlib.h>
#else
#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"
#endif

_Static_assert(sizeof(struct netbuf) <= NETBUF_HEADROOM,
	       "netbuf header eats the block");

#define PAGE		4096
#define PER_PAGE	(PAGE / NETBUF_SIZE)
/* Pages taken at a time when the pool runs dry. */
#define GROW_PAGES	8

static unsigned long made;

#ifdef TORO_HOST_TEST
/* The host tests use malloc so ASan sees every use after free. */
struct netbuf *
netbuf_alloc(uint32_t headroom)
{
	struct netbuf *nb;

	if (headroom > NETBUF_CAPACITY || !(nb = malloc(NETBUF_SIZE)))
		return NULL;
	memset(nb, 0, sizeof(*nb));
	nb->refs = 1;
	nb->data = nb->buf + headroom;
	__atomic_add_fetch(&made, 1, __ATOMIC_RELAXED);
	return nb;
}

static void
netbuf_free(struct netbuf *nb)
{
	__atomic_sub_fetch(&made, 1, __ATOMIC_RELAXED);
	free(nb);
}

unsigned long
netbuf_in_use(void)
{
	return made;
}
#else
static struct spinlock pool_lock;
static struct netbuf *pool;
static unsigned long in_pool;

/* Cuts GROW_PAGES fresh pages into netbufs on the pool; false if none. */
static bool
grow(void)
{
	uint64_t base = vm_alloc_pages(GROW_PAGES);

	if (!base)
		return false;
	for (unsigned i = 0; i < GROW_PAGES * PER_PAGE; i++) {
		struct netbuf *nb = (struct netbuf *)(base + (uint64_t)i * NETBUF_SIZE);

		nb->next = pool;
		pool = nb;
	}
	made += GROW_PAGES * PER_PAGE;
	in_pool += GROW_PAGES * PER_PAGE;
	return true;
}

struct netbuf *
netbuf_alloc(uint32_t headroom)
{
	struct netbuf *nb;

	if (headroom > NETBUF_CAPACITY)
		return NULL;
	spin_lock(&pool_lock);
	if (!pool && !grow()) {
		spin_unlock(&pool_lock);
		return NULL;
	}
	nb = pool;
	pool = nb->next;
	in_pool--;
	spin_unlock(&pool_lock);
	memset(nb, 0, sizeof(*nb));
	nb->refs = 1;
	nb->data = nb->buf + headroom;
	return nb;
}

static void
netbuf_free(struct netbuf *nb)
{
	spin_lock(&pool_lock);
	nb->next = pool;
	pool = nb;
	in_pool++;
	spin_unlock(&pool_lock);
}

unsigned long
netbuf_in_use(void)
{
	return made - in_pool;
}
#endif

void
netbuf_put(struct netbuf *nb)
{
	/* A frag chain is released with its head, iteratively. */
	while (nb && __atomic_sub_fetch(&nb->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		struct netbuf *frag = nb->frag;

		for (unsigned i = 0; i < nb->nslices; i++)
			netbuf_put(nb->slices[i].nb);	/* never a header netbuf itself */
		if (nb->ext)
			kbuf_put(nb->ext);

		netbuf_free(nb);
		nb = frag;
	}
}

void
netbuf_put_list(struct netbuf *nb)
{
	while (nb) {
		struct netbuf *next = nb->next;

		netbuf_put(nb);
		nb = next;
	}
}
