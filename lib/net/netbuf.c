/*
 * The netbuf pools (netbuf.h): 2 KiB blocks cut from whole pages, so a
 * frame never straddles a page and a device gets one contiguous buffer,
 * 4 KiB pages (receive buffers for merged frames) and bare netbufs (the
 * struct alone) packed densely.  Freed netbufs go back on their pool's
 * free list under a spinlock and are reused; pages are never returned
 * (a NIC's receive ring and the sockets' queues keep cycling through
 * the same blocks).  Not the place for per-protocol
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
/* Pages taken at a time when a pool runs dry. */
#define GROW_PAGES	8
/*
 * A bare netbuf's slot (NETBUF_BARE_SIZE): TCP's send queue holds one
 * per segment of lent bytes (sendfile), dozens for each 64 KiB sent;
 * packed this way their headers share pages and cache lines instead of
 * taking one 2 KiB block each (serving a 64 KiB file, netbuf_alloc with
 * its memset fell from 11% of the web server's busy samples to 3.5%).
 */
_Static_assert(sizeof(struct netbuf) <= NETBUF_BARE_SIZE, "a bare netbuf fits its slot");

#ifdef TORO_HOST_TEST
static unsigned long made;

/* The host tests use malloc so ASan sees every use after free (and any
 * use of a bare netbuf's absent block). */
static const uint32_t pool_size[] = { NETBUF_SIZE, sizeof(struct netbuf), NETBUF_PAGE_SIZE };

static struct netbuf *
take(uint8_t pool, uint32_t headroom)
{
	struct netbuf *nb = malloc(pool_size[pool]);

	if (!nb)
		return NULL;
	__atomic_add_fetch(&made, 1, __ATOMIC_RELAXED);
	memset(nb, 0, sizeof(*nb));
	nb->pool = pool;
	nb->refs = 1;
	nb->data = nb->buf + headroom;
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
/* Freed netbufs of one size, reused; pages are never given back. */
struct pool {
	struct spinlock lock;
	struct netbuf *free;
	unsigned long made, idle;
	uint32_t size;
};
static struct pool pools[] = {
	[NB_POOL_BLOCK] = { .size = NETBUF_SIZE },
	[NB_POOL_BARE] = { .size = NETBUF_BARE_SIZE },
	[NB_POOL_PAGE] = { .size = NETBUF_PAGE_SIZE },
};

/* Cuts GROW_PAGES fresh pages into p's netbufs; false if none. */
static bool
grow(struct pool *p)
{
	uint64_t base = vm_alloc_pages(GROW_PAGES);
	unsigned n = GROW_PAGES * PAGE / p->size;

	if (!base)
		return false;
	for (unsigned i = 0; i < n; i++) {
		struct netbuf *nb = (struct netbuf *)(base + (uint64_t)i * p->size);

		nb->next = p->free;
		p->free = nb;
	}
	p->made += n;
	p->idle += n;
	return true;
}

static struct netbuf *
take(uint8_t pool, uint32_t headroom)
{
	struct pool *p = &pools[pool];
	struct netbuf *nb;

	spin_lock(&p->lock);
	if (!p->free && !grow(p)) {
		spin_unlock(&p->lock);
		return NULL;
	}
	nb = p->free;
	p->free = nb->next;
	p->idle--;
	spin_unlock(&p->lock);
	memset(nb, 0, sizeof(*nb));
	nb->pool = pool;
	nb->refs = 1;
	nb->data = nb->buf + headroom;
	return nb;
}

static void
netbuf_free(struct netbuf *nb)
{
	struct pool *p = &pools[nb->pool];

	spin_lock(&p->lock);
	nb->next = p->free;
	p->free = nb;
	p->idle++;
	spin_unlock(&p->lock);
}

unsigned long
netbuf_in_use(void)
{
	unsigned long n = 0;

	for (unsigned i = 0; i < sizeof(pools) / sizeof(pools[0]); i++)
		n += pools[i].made - pools[i].idle;
	return n;
}
#endif

struct netbuf *
netbuf_alloc(uint32_t headroom)
{
	return headroom <= NETBUF_CAPACITY ? take(NB_POOL_BLOCK, headroom) : NULL;
}

struct netbuf *
netbuf_alloc_page(uint32_t headroom)
{
	return headroom <= NETBUF_PAGE_CAPACITY ? take(NB_POOL_PAGE, headroom) : NULL;
}

struct netbuf *
netbuf_alloc_bare(void)
{
	return take(NB_POOL_BARE, 0);
}

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
