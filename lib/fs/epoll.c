/*
 * epoll sets: an interest list of (descriptor, file) items, each hooked
 * on its file's wait queue (poll.h), and a ready list those hooks fill.
 * A wake-up on a watched socket costs one hook call that appends the item
 * to the ready list (if its events match and it is not there yet) and
 * wakes one epoll_wait() caller; epoll_wait() then re-checks only the
 * items on that list, so its cost follows the number of ready files, not
 * the number watched.  Level-triggered items go back on the ready list
 * after they are reported (and drop off at the next look once they are
 * not ready); EPOLLET items wait for their next hook call; EPOLLONESHOT
 * items are disabled until EPOLL_CTL_MOD.
 *
 * As on Linux, an item follows the open file, not the descriptor: a file
 * whose last reference goes away (close of its last descriptor) calls its
 * hooks with POLL_GONE and its items die; they are freed at the set's
 * next call.  Nested sets (an epoll file in an epoll set) are refused
 * with EINVAL; poll() and select() on an epoll file work.
 *
 * Locking: a sleeping lock (mtx) serialises the interest list (ctl, the
 * harvest of epoll_wait, freeing dead items); a spinlock (lock) guards the
 * ready list, the item flags and the sequence word, and is what hook
 * functions take (under pollq_lock, often under net_lock).  The harvest
 * never holds lock while it calls a file's poll operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/epoll.h>

#include "lib/fs/poll.h"
#include "lib/kernel/spinlock.h"
#include "lib/mm/kheap.h"
#include "lib/sched/futex.h"
#include "lib/sched/kmutex.h"

struct eplink {
	struct eplink *next, *prev;
};

struct epitem {
	struct eplink rl;		/* ready or harvest list, under lock */
	struct poll_hook hook;		/* on the watched file's queue */
	struct epitem *hnext;		/* hash chain, under mtx */
	struct epitem *dnext;		/* dead list, under lock */
	struct epoll *ep;
	struct file *file;		/* not referenced: the item dies with it */
	int fd;
	uint32_t events;		/* EPOLL* asked for, with EPOLLET/ONESHOT */
	uint64_t data;
	bool queued;			/* on a list in rl (under lock) */
	bool dead;			/* the file is gone (under lock) */
	bool disabled;			/* EPOLLONESHOT fired (under lock) */
};

struct epoll {
	struct vnode vn;
	struct kmutex mtx;
	struct spinlock lock;
	struct epitem **table;		/* nbuckets chains */
	unsigned nbuckets, count;
	struct eplink ready;
	struct epitem *dead;
	uint32_t seq;			/* bumped when an item becomes ready */
	uint32_t waiters;		/* epoll_wait() callers asleep on seq */
	struct pollq pollq;		/* poll()/select() on the epoll file */
};

/* Events a caller may ask for; the rest of the bits are ignored. */
#define EP_EVENTS	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLRDBAND | \
			 EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)
#define EP_ALWAYS	(EPOLLERR | EPOLLHUP)

static void
link_init(struct eplink *l)
{
	l->next = l->prev = l;
}

static void
link_del(struct eplink *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = l;
}

static void
link_add_tail(struct eplink *head, struct eplink *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static struct epitem *
item_of(struct eplink *l)
{
	return (struct epitem *)((char *)l - offsetof(struct epitem, rl));
}

/* A reference on f unless its last one is already gone. */
static bool
file_tryget(struct file *f)
{
	int r = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);

	while (r > 0)
		if (__atomic_compare_exchange_n(&f->refs, &r, r + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

/* ------------------------------------------------------------ wake-ups */

/* Queues it and bumps seq (under ep->lock); true if waiters should hear. */
static bool
make_ready(struct epoll *ep, struct epitem *it)
{
	if (it->queued || it->dead || it->disabled)
		return false;
	link_add_tail(&ep->ready, &it->rl);
	it->queued = true;
	__atomic_add_fetch(&ep->seq, 1, __ATOMIC_SEQ_CST);
	return true;
}

static void
wake_waiters(struct epoll *ep)
{
	if (__atomic_load_n(&ep->waiters, __ATOMIC_SEQ_CST))
		futex_wake(&ep->seq, 1, ~0u);
}

/* The hook on a watched file's queue (under pollq_lock). */
static void
item_hook(struct poll_hook *h, unsigned events)
{
	struct epitem *it = h->arg;
	struct epoll *ep = it->ep;

	spin_lock(&ep->lock);
	if (events & POLL_GONE) {
		if (it->queued)
			link_del(&it->rl);
		it->queued = false;
		it->dead = true;
		it->dnext = ep->dead;
		ep->dead = it;
		spin_unlock(&ep->lock);
		return;
	}
	bool woke = make_ready(ep, it);
	spin_unlock(&ep->lock);
	if (woke) {
		wake_waiters(ep);
		pollq_wake_locked(&ep->pollq, POLLIN);
	}
}

/* ------------------------------------------------------------ interest list */

static unsigned
hash_of(const struct epoll *ep, int fd, const struct file *f)
{
	uint64_t k = (uint64_t)(unsigned)fd * 0x9E3779B97F4A7C15ULL ^ (uint64_t)f >> 4;

	return (unsigned)(k ^ k >> 29) & (ep->nbuckets - 1);
}

static struct epitem *
find_item(struct epoll *ep, int fd, const struct file *f)
{
	for (struct epitem *it = ep->table[hash_of(ep, fd, f)]; it; it = it->hnext)
		if (it->fd == fd && it->file == f && !it->dead)
			return it;
	return NULL;
}

static void
unhash(struct epoll *ep, struct epitem *it)
{
	struct epitem **p = &ep->table[hash_of(ep, it->fd, it->file)];

	while (*p != it)
		p = &(*p)->hnext;
	*p = it->hnext;
	ep->count--;
}

/* Doubles the table when it gets crowded (under mtx); quietly keeps it on ENOMEM. */
static void
grow(struct epoll *ep)
{
	unsigned n = ep->nbuckets * 2;
	struct epitem **t, **old = ep->table;

	if (ep->count < ep->nbuckets * 2 || !(t = kzalloc(n * sizeof(*t))))
		return;
	unsigned oldn = ep->nbuckets;
	ep->table = t;
	ep->nbuckets = n;
	for (unsigned i = 0; i < oldn; i++) {
		for (struct epitem *it = old[i], *next; it; it = next) {
			next = it->hnext;
			unsigned b = hash_of(ep, it->fd, it->file);
			it->hnext = t[b];
			t[b] = it;
		}
	}
	kfree(old);
}

/* Frees the items whose files went away (under mtx). */
static void
purge_dead(struct epoll *ep)
{
	spin_lock(&ep->lock);
	struct epitem *it = ep->dead;
	ep->dead = NULL;
	spin_unlock(&ep->lock);
	while (it) {
		struct epitem *next = it->dnext;
		unhash(ep, it);
		kfree(it);
		it = next;
	}
}

/*
 * Takes in the item's new mask and re-checks readiness, hooking it on f
 * the first time (under mtx, with a reference on f).
 */
static void
arm(struct epoll *ep, struct epitem *it, struct file *f, bool first)
{
	__atomic_store_n(&it->hook.mask, (it->events & EP_EVENTS) | EP_ALWAYS,
			 __ATOMIC_RELAXED);
	unsigned ev = file_poll(f, first ? &it->hook : NULL);
	if (!(ev & ((it->events & EP_EVENTS) | EP_ALWAYS)))
		return;
	spin_lock(&ep->lock);
	bool woke = make_ready(ep, it);
	spin_unlock(&ep->lock);
	if (woke) {
		wake_waiters(ep);
		pollq_wake(&ep->pollq, POLLIN);
	}
}

static int
ctl_add(struct epoll *ep, int fd, struct file *f, const struct epoll_event *ev)
{
	if (find_item(ep, fd, f))
		return -EEXIST;
	struct epitem *it = kzalloc(sizeof(*it));
	if (!it)
		return -ENOMEM;
	link_init(&it->rl);
	it->ep = ep;
	it->file = f;
	it->fd = fd;
	it->events = ev->events;
	it->data = ev->data.u64;
	poll_hook_init(&it->hook, item_hook, 0, it);
	unsigned b = hash_of(ep, fd, f);
	it->hnext = ep->table[b];
	ep->table[b] = it;
	ep->count++;
	arm(ep, it, f, true);
	grow(ep);
	return 0;
}

static int
ctl_mod(struct epoll *ep, int fd, struct file *f, const struct epoll_event *ev)
{
	struct epitem *it = find_item(ep, fd, f);

	if (!it)
		return -ENOENT;
	if (ev->events & EPOLLEXCLUSIVE)
		return -EINVAL;
	spin_lock(&ep->lock);
	it->events = ev->events;
	it->data = ev->data.u64;
	it->disabled = false;
	spin_unlock(&ep->lock);
	arm(ep, it, f, false);
	return 0;
}

static int
ctl_del(struct epoll *ep, int fd, struct file *f)
{
	struct epitem *it = find_item(ep, fd, f);

	if (!it)
		return -ENOENT;
	pollq_remove(&it->hook);
	spin_lock(&ep->lock);
	if (it->queued)
		link_del(&it->rl);
	it->queued = false;
	spin_unlock(&ep->lock);
	unhash(ep, it);
	kfree(it);
	return 0;
}

int
epoll_ctl_file(struct file *ef, int op, int fd, struct file *tf,
	       const struct epoll_event *ev)
{
	struct epoll *ep = ef->vn->priv;
	int r;

	if (!tf->vn->ops->poll)
		return -EPERM;
	if (!file_is_epoll(ef) || tf == ef || file_is_epoll(tf))
		return -EINVAL;
	kmutex_lock(&ep->mtx);
	purge_dead(ep);
	switch (op) {
	case EPOLL_CTL_ADD:
		r = ctl_add(ep, fd, tf, ev);
		break;
	case EPOLL_CTL_MOD:
		r = ctl_mod(ep, fd, tf, ev);
		break;
	case EPOLL_CTL_DEL:
		r = ctl_del(ep, fd, tf);
		break;
	default:
		r = -EINVAL;
	}
	kmutex_unlock(&ep->mtx);
	return r;
}

/* ------------------------------------------------------------ epoll_wait */

/* Looks at one item taken off the harvest list; its events, or 0. */
static unsigned
check_item(struct epoll *ep, struct epitem *it)
{
	struct file *f = NULL;

	spin_lock(&ep->lock);
	it->queued = false;
	if (!it->dead && !it->disabled && file_tryget(it->file))
		f = it->file;
	uint32_t want = (it->events & EP_EVENTS) | EP_ALWAYS;
	spin_unlock(&ep->lock);
	if (!f)
		return 0;
	unsigned ev = file_poll(f, NULL) & want;
	file_put(f);
	return ev;
}

/*
 * Moves the ready list aside and reports what is really ready, up to max;
 * *seq is the sequence word as it was when the list was taken.
 */
static int
harvest(struct epoll *ep, struct epoll_event *evs, int max, uint32_t *seq)
{
	struct eplink todo;
	int n = 0;

	link_init(&todo);
	spin_lock(&ep->lock);
	*seq = __atomic_load_n(&ep->seq, __ATOMIC_SEQ_CST);
	if (ep->ready.next != &ep->ready) {
		todo.next = ep->ready.next;
		todo.prev = ep->ready.prev;
		todo.next->prev = &todo;
		todo.prev->next = &todo;
		link_init(&ep->ready);
	}
	spin_unlock(&ep->lock);

	while (n < max) {
		spin_lock(&ep->lock);
		struct eplink *l = todo.next;
		if (l != &todo)
			link_del(l);
		spin_unlock(&ep->lock);
		if (l == &todo)
			break;
		struct epitem *it = item_of(l);
		unsigned ev = check_item(ep, it);
		if (!ev)
			continue;
		evs[n].events = ev;
		evs[n].data.u64 = it->data;
		n++;
		spin_lock(&ep->lock);
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
		else if (!(it->events & EPOLLET) && !it->queued && !it->dead) {
			link_add_tail(&ep->ready, &it->rl);
			it->queued = true;
		}
		spin_unlock(&ep->lock);
	}
	/* What max left unexamined goes back in front, still queued. */
	spin_lock(&ep->lock);
	if (todo.next != &todo) {
		todo.prev->next = ep->ready.next;
		ep->ready.next->prev = todo.prev;
		ep->ready.next = todo.next;
		todo.next->prev = &ep->ready;
	}
	bool more = ep->ready.next != &ep->ready;
	spin_unlock(&ep->lock);
	if (n && more)
		wake_waiters(ep);	/* another waiter can take the rest */
	return n;
}

long
epoll_wait_file(struct file *ef, struct epoll_event *evs, int max,
		uint64_t deadline)
{
	struct epoll *ep = ef->vn->priv;
	bool last = deadline == POLL_NOWAIT;

	if (!file_is_epoll(ef))
		return -EINVAL;
	for (;;) {
		uint32_t seq;
		kmutex_lock(&ep->mtx);
		purge_dead(ep);
		int n = harvest(ep, evs, max, &seq);
		kmutex_unlock(&ep->mtx);
		if (n || last)
			return n;
		__atomic_add_fetch(&ep->waiters, 1, __ATOMIC_SEQ_CST);
		int r = futex_wait(&ep->seq, seq, ~0u, deadline);
		__atomic_sub_fetch(&ep->waiters, 1, __ATOMIC_SEQ_CST);
		if (r == -ETIMEDOUT)
			last = true;
	}
}

/* ------------------------------------------------------------ the file */

static unsigned
epoll_poll(struct vnode *vn, struct poll_hook *h)
{
	struct epoll *ep = vn->priv;

	pollq_add(&ep->pollq, h);
	spin_lock(&ep->lock);
	bool ready = ep->ready.next != &ep->ready;
	spin_unlock(&ep->lock);
	return ready ? POLLIN | POLLRDNORM : 0;
}

static int
epoll_getattr(struct vnode *vn, struct stat *st)
{
	st->st_mode = 0600;
	st->st_ino = (ino_t)(uintptr_t)vn->priv >> 4;
	return 0;
}

/*
 * The last descriptor is gone: unhook every item first (after which no
 * hook can touch the set), then free them all.
 */
static void
epoll_release(struct vnode *vn)
{
	struct epoll *ep = vn->priv;

	for (unsigned i = 0; i < ep->nbuckets; i++)
		for (struct epitem *it = ep->table[i]; it; it = it->hnext)
			pollq_remove(&it->hook);
	for (unsigned i = 0; i < ep->nbuckets; i++) {
		for (struct epitem *it = ep->table[i], *next; it; it = next) {
			next = it->hnext;
			kfree(it);
		}
	}
	pollq_destroy(&ep->pollq);
	kfree(ep->table);
	kfree(ep);
}

static const struct vnode_ops epoll_ops = {
	.getattr = epoll_getattr,
	.poll = epoll_poll,
	.release = epoll_release,
};

bool
file_is_epoll(const struct file *f)
{
	return f->vn->ops == &epoll_ops;
}

struct file *
epoll_new(unsigned flags)
{
	struct epoll *ep = kzalloc(sizeof(*ep));
	struct file *f = NULL;

	if (!ep || !(ep->table = kzalloc(16 * sizeof(*ep->table)))) {
		kfree(ep);
		return NULL;
	}
	ep->nbuckets = 16;
	link_init(&ep->ready);
	vn_init(&ep->vn, &epoll_ops, &anon_mount, 0, ep);
	if (!(f = file_new(&ep->vn, O_RDWR | (flags & O_NONBLOCK))))
		vn_put(&ep->vn);
	return f;
}
