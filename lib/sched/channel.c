/*
 * Messages between cores (toro/channel.h), called directly by application
 * threads.  Each ordered pair of cores (src, dst) has one ring (ring.h),
 * made by src on its first send to dst.  A ring has one producer, the
 * threads of src, and one consumer, the threads of dst: every ring
 * operation runs with interrupts off, and a thread is switched only at a
 * system call or an interrupt, so two threads of one core never overlap
 * inside one, and reading the current core and using its ring cannot be
 * split by a move to another core.  This file does the waiting and
 * waking; it is not a scheduler and knows none: the futex system call is
 * its only way to sleep, and the kernel sends the IPI that wakes a halted
 * core.
 *
 * Why no wake-up is lost.  A core's inbox has a futex word, seq, and a
 * count of the threads about to sleep on it, waiters.  A receiver that
 * finds nothing does: waiters++, a seq_cst fence, s = seq, look at the
 * rings again, and only if they are still empty futex_wait(&seq, s).  A
 * sender does: push (tail published by a release store), a seq_cst
 * fence, and if waiters != 0, seq++ and futex_wake(&seq).  Take the two
 * fences in their single total order.  If the sender's comes first, the
 * receiver's second look follows it and sees the message.  If the
 * receiver's comes first, the sender's read of waiters follows it and
 * sees the waiter, so it bumps seq: either the receiver read s after the
 * bump (and, synchronising with it, sees the message on its second
 * look), or before, and then the kernel's futex_wait, which compares seq
 * with s atomically with respect to futex_wake, either finds them
 * different or is queued before the wake comes.  A sender waiting for
 * room in a full ring is the mirror image, on the ring's own space_seq
 * and space_waiters, bumped by the receiver after a pop.  In the common
 * case nobody waits and neither side writes the other's words.  Wakes go
 * to every waiter: threads of one core may wait for different senders
 * (or sizes), and waking the wrong one alone would lose the right one's.
 *
 * The slow path (waiters++ through futex_wait) also runs with interrupts
 * off: the syscall instruction keeps rflags in r11 and the kernel returns
 * with them, so a thread cannot be moved to another core between picking
 * its core's futex word and sleeping on it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <toro/channel.h>
#include <toro/thread.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/io.h"
#include "lib/sched/ring.h"

/* Room for three of the largest messages, or thousands of small ones. */
#define CHANNEL_RING_BYTES (64 * 1024)

/* From <linux/futex.h>, which musl does not ship. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
/* INT_MAX, without <limits.h>, whose PAGE_SIZE clashes with layout.h's. */
#define FUTEX_WAKE_ALL 0x7fffffff

_Static_assert(TORO_CHANNEL_MSG_MAX + RING_HEADER <= CHANNEL_RING_BYTES,
	       "a ring must hold the largest message");

/* One ordered pair's ring, in memory of its own (mmap), never freed. */
struct channel {
	struct ring ring;
	/* Senders on the source core sleeping until the ring has room. */
	uint32_t space_seq __attribute__((aligned(RING_CACHELINE)));
	uint32_t space_waiters;
	unsigned char data[CHANNEL_RING_BYTES]
		__attribute__((aligned(RING_CACHELINE)));
};

/* A destination core's receivers. */
struct inbox {
	uint32_t seq;		/* futex word: bumped after a push, if waiters */
	uint32_t waiters;	/* receivers between waiters++ and waking */
	unsigned next;		/* TORO_CPU_ANY scans from here (own core only) */
} __attribute__((aligned(RING_CACHELINE)));

/* [dst][src], so that a receiver scans one contiguous row. */
static struct channel *channels[CPU_MAX][CPU_MAX];
static struct inbox inboxes[CPU_MAX];

static long
futex(uint32_t *word, long op, uint32_t val)
{
	register long timeout __asm__("r10") = 0;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_futex), "D"(word), "S"(op),
			   "d"((long)val), "r"(timeout)
			 : "rcx", "r11", "memory");
	return ret;
}

/* After making something visible: wake whoever may be waiting for it. */
static void
wake_waiters(uint32_t *seq, uint32_t *waiters)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(waiters, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_add(seq, 1, __ATOMIC_SEQ_CST);
		futex(seq, FUTEX_WAKE_PRIVATE, FUTEX_WAKE_ALL);
	}
}

static bool
cpu_online(int cpu)
{
	return cpu >= 0 && cpu < CPU_MAX && (smp_online_mask() >> cpu & 1);
}

static int
fail(int err)
{
	errno = err;
	return -1;
}

/*
 * Maps and publishes the ring from src to dst.  Another thread of src may
 * race us here (we are not inside irq_save: mmap is a system call): the
 * first to publish wins and the other unmaps its copy.
 */
static int
channel_create(unsigned dst, unsigned src)
{
	struct channel *ch, *old = NULL;

	ch = mmap(NULL, sizeof(*ch), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ch == MAP_FAILED)
		return -ENOMEM;
	ring_init(&ch->ring, ch->data, sizeof(ch->data));
	if (!__atomic_compare_exchange_n(&channels[dst][src], &old, ch, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		munmap(ch, sizeof(*ch));
	return 0;
}

/* Interrupts off.  Pushes, or sleeps once until the ring may have room. */
static int
push_or_wait(struct channel *ch, const void *msg, size_t len)
{
	__atomic_fetch_add(&ch->space_waiters, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32_t seq = __atomic_load_n(&ch->space_seq, __ATOMIC_SEQ_CST);
	int err = ring_try_push(&ch->ring, msg, len);
	if (err == -EAGAIN)
		futex(&ch->space_seq, FUTEX_WAIT_PRIVATE, seq);
	__atomic_fetch_sub(&ch->space_waiters, 1, __ATOMIC_SEQ_CST);
	return err;
}

int
toro_channel_send(int dst, const void *msg, size_t len, int flags)
{
	if (!cpu_online(dst) || !len || (flags & ~TORO_CHANNEL_NONBLOCK))
		return fail(EINVAL);
	if (len > TORO_CHANNEL_MSG_MAX)
		return fail(EMSGSIZE);
	for (;;) {
		unsigned long irq = irq_save();
		unsigned src = this_cpu()->index;
		struct channel *ch = __atomic_load_n(&channels[dst][src],
						     __ATOMIC_ACQUIRE);
		int err = -ENOENT;
		if (ch) {
			err = ring_try_push(&ch->ring, msg, len);
			if (err == -EAGAIN && !(flags & TORO_CHANNEL_NONBLOCK))
				err = push_or_wait(ch, msg, len);
		}
		irq_restore(irq);
		if (!err) {
			wake_waiters(&inboxes[dst].seq, &inboxes[dst].waiters);
			return 0;
		}
		if (err == -ENOENT && channel_create(dst, src))
			return fail(ENOMEM);
		if (err == -EAGAIN && (flags & TORO_CHANNEL_NONBLOCK))
			return fail(EAGAIN);
	}
}

/*
 * Interrupts off.  Pops the next message from core src's ring into buf;
 * returns what ring_try_pop() does, with the ring in *chp.
 */
static long
take_from(unsigned me, unsigned src, void *buf, size_t cap,
	  struct channel **chp)
{
	struct channel *ch = __atomic_load_n(&channels[me][src],
					     __ATOMIC_ACQUIRE);

	if (!ch)
		return -EAGAIN;		/* src has never sent here */
	*chp = ch;
	return ring_try_pop(&ch->ring, buf, cap);
}

/*
 * Interrupts off.  Pops the next message from src or, for TORO_CPU_ANY,
 * from the first non-empty ring after the one served last, so that one
 * busy sender cannot starve the others.  Returns what ring_try_pop()
 * does, with the ring in *chp and its source core in *from.
 */
static long
take(unsigned me, int src, void *buf, size_t cap, struct channel **chp,
     int *from)
{
	struct inbox *in = &inboxes[me];
	unsigned n = smp_online_count();

	if (src != TORO_CPU_ANY) {
		*from = src;
		return take_from(me, (unsigned)src, buf, cap, chp);
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned s = (in->next + i) % n;
		long got = take_from(me, s, buf, cap, chp);
		if (got == -EAGAIN)
			continue;
		if (got >= 0)
			in->next = s + 1;
		*from = (int)s;
		return got;
	}
	return -EAGAIN;
}

/* Interrupts off.  Takes a message, or sleeps once until one may be there. */
static long
take_or_wait(unsigned me, int src, void *buf, size_t cap,
	     struct channel **chp, int *from)
{
	struct inbox *in = &inboxes[me];

	__atomic_fetch_add(&in->waiters, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32_t seq = __atomic_load_n(&in->seq, __ATOMIC_SEQ_CST);
	long got = take(me, src, buf, cap, chp, from);
	if (got == -EAGAIN)
		futex(&in->seq, FUTEX_WAIT_PRIVATE, seq);
	__atomic_fetch_sub(&in->waiters, 1, __ATOMIC_SEQ_CST);
	return got;
}

ssize_t
toro_channel_recv(int src, int *from, void *buf, size_t cap, int flags)
{
	if ((src != TORO_CPU_ANY && !cpu_online(src)) || !cap ||
	    (flags & ~TORO_CHANNEL_NONBLOCK))
		return fail(EINVAL);
	for (;;) {
		unsigned long irq = irq_save();
		unsigned me = this_cpu()->index;
		struct channel *ch = NULL;
		int sender = -1;
		long got = take(me, src, buf, cap, &ch, &sender);
		if (got == -EAGAIN && !(flags & TORO_CHANNEL_NONBLOCK))
			got = take_or_wait(me, src, buf, cap, &ch, &sender);
		irq_restore(irq);
		if (got >= 0 || got == -EMSGSIZE) {
			if (from)
				*from = sender;
		}
		if (got >= 0) {
			wake_waiters(&ch->space_seq, &ch->space_waiters);
			return got;
		}
		if (got != -EAGAIN || (flags & TORO_CHANNEL_NONBLOCK))
			return fail((int)-got);
	}
}
