/*
 * A reference-counted run of read-only kernel memory that one subsystem
 * lends another without a copy: a RAM file's bytes that sendfile() puts
 * on a TCP send queue (lib/fs/ramfs.c lends, lib/net keeps a reference
 * per queued segment until the peer has acknowledged it).  Whoever holds
 * a reference may read the bytes; the owner changes them only while it
 * holds the sole reference, and copies them first otherwise.  release
 * runs once, when the last reference goes, on whichever core drops it.
 * Header-only, so the host unit tests of lib/net use it unchanged.
 */
#ifndef TORO_KBUF_H
#define TORO_KBUF_H

#include <stdbool.h>

struct kbuf {
	int refs;				/* atomic */
	void (*release)(struct kbuf *b);
};

static inline void
kbuf_init(struct kbuf *b, void (*release)(struct kbuf *))
{
	b->refs = 1;
	b->release = release;
}

static inline struct kbuf *
kbuf_get(struct kbuf *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

static inline void
kbuf_put(struct kbuf *b)
{
	if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0)
		b->release(b);
}

/* True while someone besides the caller's one reference holds it. */
static inline bool
kbuf_shared(struct kbuf *b)
{
	return __atomic_load_n(&b->refs, __ATOMIC_ACQUIRE) > 1;
}

#endif
