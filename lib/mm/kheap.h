/*
 * The kernel's own allocator, for objects whose size is not known at
 * build time (file-system nodes, file data, open files).  malloc() is the
 * application's and enters through a system call, so the kernel cannot
 * use it; kmalloc() takes pages straight from the page allocator (small
 * blocks from per-size free lists, one lock for all cores: kheap.c).
 * In the host unit tests these are the C library's functions.
 */
#ifndef TORO_KHEAP_H
#define TORO_KHEAP_H

#include <stddef.h>

#ifdef TORO_HOST_TEST
#include <stdlib.h>
#define kmalloc(n)	malloc(n)
#define kzalloc(n)	calloc(1, (n))
#define krealloc(p, n)	realloc((p), (n))
#define kfree(p)	free(p)
#else
/* NULL when memory runs out; kzalloc() zeroes the block. */
void *kmalloc(size_t n);
void *kzalloc(size_t n);
/* Like realloc(); on failure NULL and p unchanged.  krealloc(p, 0) frees. */
void *krealloc(void *p, size_t n);
void kfree(void *p);
#endif

#endif
