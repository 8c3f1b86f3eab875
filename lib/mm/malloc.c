/*
 * The application's C allocator: malloc() and the rest, under musl's names
 * so that the link takes these and never musl's own allocator, served by
 * the per-core heaps of heap.c.  Each call holds its core with interrupts
 * off (a thread leaves its core only at a system call or a timer
 * interrupt), so the heap's fast path needs no lock.  Memory comes from
 * the mmap and munmap system calls, issued with the syscall instruction
 * like any application would; this file is not for the kernel's own use
 * (a system call from inside the kernel would reuse the stack it runs on).
 * Also here: the Toro API of <toro/heap.h>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <toro/heap.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/kernel/panic.h"
#include "lib/mm/heap.h"
#include "lib/sched/sched.h"

/*
 * Every core's heap, in .bss (512 bytes each) so that a core's heap never
 * has to be mapped and heap_init_cpu() works at boot.  Each core reaches
 * its own through this_cpu()->heap; the array is indexed only to read
 * another core's counters (toro_heap_stats).
 */

static long
syscall6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static void
page_unmap(void *p, size_t bytes)
{
	syscall6(SYS_munmap, (long)p, (long)bytes, 0, 0, 0, 0);
}

/*
 * mmap() only promises page alignment: map align - 4 KiB more and give
 * back the head and tail around the aligned run (munmap of part of a
 * mapping is fine).  mmap() returns zeroed pages, as heap_env requires.
 */
static void *
page_map(size_t bytes, size_t align)
{
	size_t extra = align - HEAP_PAGE;

	if (bytes > SIZE_MAX / 2 - extra)
		return NULL;
	size_t len = bytes + extra;
	long r = syscall6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if ((unsigned long)r >= -4095UL)
		return NULL;
	uintptr_t m = (uintptr_t)r;
	uintptr_t a = (m + align - 1) & ~(uintptr_t)(align - 1);

	if (a > m)
		page_unmap((void *)m, a - m);
	if (m + len > a + bytes)
		page_unmap((void *)(a + bytes), m + len - (a + bytes));
	return (void *)a;
}

static const struct heap_env page_source = { page_map, page_unmap };

/*
 * A core's heap state lives in a page of its own, taken when the core
 * first needs it (at boot: heap_init_cpu()), so an image pays for the
 * cores it runs on, not for CPU_MAX of them.
 */
static struct heap_cpu *heaps[CPU_MAX];	/* for toro_heap_stats() */

/*
 * The heap of the core we run on must stay ours for the whole call: no
 * other thread of this core may run in the middle, and we may not be
 * moved.  Without the time slice a thread leaves its core only at a
 * system call, which the fast path never makes (and the slow path's
 * mmap never switches), so that holds already; with timeslice= the
 * timer could preempt us, so interrupts go off.  cli/sti are not free
 * under TCG (sti ends a translated block): the cooperative default skips
 * them.  irq_restore(0) does nothing.
 */
static inline unsigned long
heap_enter(void)
{
	return sched_preemptive ? irq_save() : 0;
}

static struct heap_cpu *
heap_setup(struct percpu *c)
{
	_Static_assert(sizeof(struct heap_cpu) <= HEAP_PAGE, "one page");
	struct heap_cpu *h = page_map(HEAP_PAGE, HEAP_PAGE);

	if (!h)
		panic("out of memory for CPU %u's heap", c->index);
	heap_cpu_init(h, &page_source);
	__atomic_store_n(&heaps[c->index], h, __ATOMIC_RELEASE);
	c->heap = h;
	return h;
}

/* The caller's core's heap; interrupts must be off. */
static inline struct heap_cpu *
heap_here(void)
{
	struct percpu *c = this_cpu();

	if (__builtin_expect(c->heap != NULL, 1))
		return c->heap;
	return heap_setup(c);
}

void
heap_init_cpu(void)
{
	unsigned long flags = heap_enter();

	heap_here();
	irq_restore(flags);
}

static void *
nomem(void *p)
{
	if (__builtin_expect(p == NULL, 0))
		errno = ENOMEM;
	return p;
}

/*
 * flatten: the kernel is built with -Os, which would leave irq_save(),
 * heap_here() and the heap's fast path as calls; here they must not be.
 */
__attribute__((flatten)) void *
malloc(size_t n)
{
	unsigned long flags = heap_enter();
	void *p = heap_alloc(heap_here(), n);

	irq_restore(flags);
	return nomem(p);
}

__attribute__((flatten)) void
free(void *p)
{
	if (!p)
		return;
	unsigned long flags = heap_enter();

	heap_free(heap_here(), p);
	irq_restore(flags);
}

void *
calloc(size_t count, size_t n)
{
	unsigned long flags = heap_enter();
	void *p = heap_calloc(heap_here(), count, n);

	irq_restore(flags);
	return nomem(p);
}

/* realloc(p, 0) returns a minimal block, as musl's own does. */
void *
realloc(void *p, size_t n)
{
	unsigned long flags = heap_enter();
	void *q = heap_realloc(heap_here(), p, n);

	irq_restore(flags);
	return nomem(q);
}

/* Any power of two; 0 counts as none, as in musl. */
void *
aligned_alloc(size_t align, size_t n)
{
	if (align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	unsigned long flags = heap_enter();
	void *p = heap_memalign(heap_here(), align, n);

	irq_restore(flags);
	return nomem(p);
}

void *
memalign(size_t align, size_t n)
{
	return aligned_alloc(align, n);
}

void *
valloc(size_t n)
{
	return aligned_alloc(HEAP_PAGE, n);
}

/* Errors are returned, errno is left alone. */
int
posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	unsigned long flags = heap_enter();
	void *p = heap_memalign(heap_here(), align, n);

	irq_restore(flags);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

size_t
malloc_usable_size(void *p)
{
	return heap_usable_size(p);
}

/*
 * musl's internal names for the same calls.  Defining them here keeps
 * every object of musl's allocator (malloc.lo, lite_malloc.lo, free.lo,
 * ...) out of the link.
 */
void *__libc_malloc(size_t n) __attribute__((alias("malloc")));
void *__libc_malloc_impl(size_t n) __attribute__((alias("malloc")));
void *__libc_calloc(size_t count, size_t n) __attribute__((alias("calloc")));
void *__libc_realloc(void *p, size_t n) __attribute__((alias("realloc")));
void __libc_free(void *p) __attribute__((alias("free")));

/* musl hands the dynamic linker's spare memory over; static images have none. */
void
__malloc_donate(char *start, char *end)
{
}

/* ------------------------------------------------------------ <toro/heap.h> */

int
toro_heap_stats(int cpu, struct toro_heap_stats *out)
{
	if (!out || cpu < 0 || cpu >= CPU_MAX ||
	    !(smp_online_mask() >> cpu & 1)) {
		errno = EINVAL;
		return -1;
	}
	/* A core whose heap is not set up yet reports zeros. */
	struct heap_cpu *h = __atomic_load_n(&heaps[cpu], __ATOMIC_ACQUIRE);
	if (h) {
		heap_stats(h, out);
	} else {
		static const struct toro_heap_stats zero;
		*out = zero;
	}
	return 0;
}

int
toro_heap_trim(void)
{
	unsigned long flags = heap_enter();
	size_t bytes = heap_trim(heap_here());

	irq_restore(flags);
	return bytes != 0;
}
