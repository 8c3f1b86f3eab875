/*
 * Readiness and waiting on many files: the wait queues that pollable
 * objects (sockets, epoll sets, eventfds) keep, poll()/select()'s core,
 * epoll sets, eventfds, and the anonymous mount those objects' vnodes
 * belong to.  The system calls are lib/sys/sys_poll.c's.
 *
 * A pollable object owns a struct pollq and wakes it (pollq_wake) when
 * its readiness may have changed; a waiter adds a struct poll_hook to the
 * queue through the vnode's poll operation (vfs.h), whose fn is then
 * called with the events that changed.  poll() and select() hook a
 * futex-waited sequence word; an epoll set hooks each watched file and
 * keeps a ready list.  Nothing is lost between "check" and "sleep": a
 * waiter adds its hooks, reads its sequence word, checks readiness and
 * only then sleeps on the word, which every hook call bumps.
 *
 * Locking.  One spinlock (pollq_lock, taken inside the objects' own
 * locks such as net_lock) guards every queue's list, so a hook can be
 * removed safely while its object is being destroyed on another core.
 * Hook functions run under it and must not sleep; they may take their
 * own spinlocks and call futex_wake().
 */
#ifndef TORO_FS_POLL_H
#define TORO_FS_POLL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/fs/vfs.h"

/* Passed to hook functions when the object is destroyed (then unhooked). */
#define POLL_GONE	0x80000000u

struct poll_hook;
typedef void (*poll_hook_fn)(struct poll_hook *h, unsigned events);

struct poll_hook {
	struct poll_hook *next, **pprev;	/* pollq_lock's */
	struct pollq *q;			/* NULL: not on a queue */
	poll_hook_fn fn;
	/* Events it cares about; a wake with none of them (and not 0) skips it. */
	unsigned mask;
	void *arg;				/* the hook owner's */
};

struct pollq {
	struct poll_hook *first;
};

/* Sets a hook up before its first pollq_add(). */
static inline void
poll_hook_init(struct poll_hook *h, poll_hook_fn fn, unsigned mask, void *arg)
{
	h->next = NULL;
	h->pprev = NULL;
	h->q = NULL;
	h->fn = fn;
	h->mask = mask;
	h->arg = arg;
}

/* For an object's poll operation: adds hook (NULL: nothing) to q. */
void pollq_add(struct pollq *q, struct poll_hook *h);
/* Takes h off its queue, if it is on one. */
void pollq_remove(struct poll_hook *h);
/*
 * Calls the hooks on q whose mask meets events (all of them for 0).
 * Lock-free when q is empty: the caller must hold the lock that orders
 * its readiness state (its poll operation adds the hook before reading
 * that state under the same lock), so an added hook is always seen.
 */
void pollq_wake(struct pollq *q, unsigned events);
/* pollq_wake() for hook functions, which already run under pollq_lock. */
void pollq_wake_locked(struct pollq *q, unsigned events);
/* The object is going away: every hook gets POLL_GONE and is unhooked. */
void pollq_destroy(struct pollq *q);

/* Readiness of a file (POLLIN|POLLOUT for one without a poll operation). */
unsigned file_poll(struct file *f, struct poll_hook *h);

/*
 * TSC deadlines for the waits below: 0 waits for ever, POLL_NOWAIT not
 * at all (a TSC value long past by the time anything runs).
 */
#define POLL_NOWAIT	1

/* The TSC deadline ns nanoseconds from now (at most ~146 years away). */
uint64_t poll_deadline_in(uint64_t ns);

/*
 * poll(): fills revents of the n entries of fds (kernel-readable and
 * writable memory) and returns how many are non-zero, waiting until one
 * is or the deadline passes (0 then).  Never fails except -ENOMEM.
 */
long poll_files(struct pollfd *fds, unsigned n, uint64_t deadline);

/* The mount anonymous vnodes (sockets, epoll sets, eventfds) name. */
extern struct mount anon_mount;

/* ------------------------------------------------------------ epoll.c */

struct epoll_event;
/* A new epoll set as an open file (one reference), or NULL. */
struct file *epoll_new(unsigned flags);
bool file_is_epoll(const struct file *f);
/* EPOLL_CTL_ADD/MOD/DEL of file tf (descriptor fd) on epoll file ef. */
int epoll_ctl_file(struct file *ef, int op, int fd, struct file *tf,
		   const struct epoll_event *ev);
/* Up to max ready events into evs (checked user memory), waiting until deadline. */
long epoll_wait_file(struct file *ef, struct epoll_event *evs, int max,
		     uint64_t deadline);

/* ------------------------------------------------------------ eventfd.c */

/* A new eventfd (EFD_SEMAPHORE, EFD_NONBLOCK) as an open file, or NULL. */
struct file *eventfd_new(unsigned initval, int flags);

#endif
