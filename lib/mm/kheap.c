/*
 * kmalloc() and friends (kheap.h).  Kernel allocations are few and small
 * (file-system nodes, open files, path buffers) beside the application's,
 * and the kernel must still boot when RAM ends at the image's end, so
 * this is not heap.c (a 64 KiB span per size class): blocks up to 2 KiB
 * come from power-of-two free lists carved out of single pages, larger
 * ones are whole pages from vm_alloc_pages().  A 16-byte header before
 * each block records its size.  One spinlock for all cores; freed small
 * blocks stay on their list.  Not the application's allocator (malloc.c).
 */
#include "lib/mm/kheap.h"

#include <stdint.h>
#include <string.h>

#include "lib/kernel/spinlock.h"
#include "lib/mm/vm.h"

#define KPAGE		4096UL
#define KHDR		16UL
#define KCLASSES	8		/* 16 .. 2048 bytes, header included */

struct kblock {
	size_t size;			/* usable bytes after the header */
	struct kblock *next;		/* while free */
};

static struct kblock *free_list[KCLASSES];
static struct spinlock kheap_lock;

static unsigned
class_of(size_t total)
{
	unsigned c = 0;

	while ((16UL << c) < total)
		c++;
	return c;
}

/* Carves a fresh page into blocks of class c; under kheap_lock. */
static int
refill(unsigned c)
{
	size_t bs = 16UL << c;
	char *p = (char *)vm_alloc_pages(1);

	if (!p)
		return -1;
	for (size_t at = 0; at + bs <= KPAGE; at += bs) {
		struct kblock *b = (struct kblock *)(p + at);
		b->size = bs - KHDR;
		b->next = free_list[c];
		free_list[c] = b;
	}
	return 0;
}

void *
kmalloc(size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	size_t total = n + KHDR;
	if (total > (16UL << (KCLASSES - 1))) {
		uint64_t pages = (total + KPAGE - 1) / KPAGE;
		struct kblock *b = (struct kblock *)vm_alloc_pages(pages);
		if (!b)
			return NULL;
		b->size = pages * KPAGE - KHDR;
		return (char *)b + KHDR;
	}
	unsigned c = class_of(total);
	spin_lock(&kheap_lock);
	struct kblock *b = free_list[c];
	if (!b && !refill(c))
		b = free_list[c];
	if (b)
		free_list[c] = b->next;
	spin_unlock(&kheap_lock);
	return b ? (char *)b + KHDR : NULL;
}

void *
kzalloc(size_t n)
{
	void *p = kmalloc(n);

	if (p)
		memset(p, 0, n);
	return p;
}

void
kfree(void *p)
{
	if (!p)
		return;
	struct kblock *b = (struct kblock *)((char *)p - KHDR);
	size_t total = b->size + KHDR;
	if (total > (16UL << (KCLASSES - 1))) {
		vm_free_pages((uint64_t)b, total / KPAGE);
		return;
	}
	unsigned c = class_of(total);
	spin_lock(&kheap_lock);
	b->next = free_list[c];
	free_list[c] = b;
	spin_unlock(&kheap_lock);
}

void *
krealloc(void *p, size_t n)
{
	if (!p)
		return kmalloc(n);
	if (n == 0) {
		kfree(p);
		return NULL;
	}
	size_t have = ((struct kblock *)((char *)p - KHDR))->size;
	if (n <= have)
		return p;
	void *q = kmalloc(n);
	if (q) {
		memcpy(q, p, have);
		kfree(p);
	}
	return q;
}
